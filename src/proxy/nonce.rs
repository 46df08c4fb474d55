//! Digest nonces: minted without state (a timestamp and its keyed MAC), valid for a
//! bounded lifetime, and each nonce count accepted once, so that a captured request
//! cannot be replayed. The record of counts is bounded: when it is full of live nonces,
//! new ones are answered as stale until old ones expire.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::hmac;

/// What a nonce in credentials is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Ours, alive, and this count not seen before.
    Fresh,
    /// Ours but expired (or the record is full): challenge again with `stale=true`.
    Stale,
    /// Not one of ours.
    Invalid,
    /// Ours and alive, but this count (or a later one) was already used.
    Replayed,
}

pub struct Nonces {
    key: hmac::Key,
    lifetime_secs: i64,
    max_tracked: usize,
    /// Nonce -> highest count accepted (0 for a request without qop).
    seen: Mutex<HashMap<String, u32>>,
}

impl Nonces {
    /// Nonces that live `lifetime_secs`, with at most `max_tracked` of them recorded.
    pub fn new(lifetime_secs: i64, max_tracked: usize) -> Nonces {
        let rng = ring::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("system randomness");
        Nonces {
            key,
            lifetime_secs,
            max_tracked,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// A new nonce, issued at `now` (Unix seconds): the time, 96 random bits (so that
    /// two challenges in one second differ), and a MAC over both.
    pub fn mint(&self, now: i64) -> String {
        use ring::rand::SecureRandom as _;
        let mut salt = [0u8; 12];
        ring::rand::SystemRandom::new()
            .fill(&mut salt)
            .expect("system randomness");
        let body = format!("{now:x}.{}", B64.encode(salt));
        let tag = hmac::sign(&self.key, body.as_bytes());
        format!("{body}.{}", B64.encode(tag.as_ref()))
    }

    /// Checks `nonce` with count `nc` (`None` without qop) at `now`, and records the
    /// count when it is fresh.
    pub fn check(&self, nonce: &str, nc: Option<u32>, now: i64) -> NonceCheck {
        let Some(issued) = self.issued(nonce) else {
            return NonceCheck::Invalid;
        };
        if !self.alive(issued, now) {
            return NonceCheck::Stale;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let count = nc.unwrap_or(0);
        match seen.get_mut(nonce) {
            Some(last) if count <= *last => NonceCheck::Replayed,
            Some(last) => {
                *last = count;
                NonceCheck::Fresh
            }
            None => {
                if seen.len() >= self.max_tracked {
                    seen.retain(|n, _| self.issued(n).is_some_and(|t| self.alive(t, now)));
                }
                if seen.len() >= self.max_tracked {
                    return NonceCheck::Stale;
                }
                seen.insert(nonce.to_owned(), count);
                NonceCheck::Fresh
            }
        }
    }

    /// When `nonce` was issued, if it is ours.
    fn issued(&self, nonce: &str) -> Option<i64> {
        let (body, tag) = nonce.rsplit_once('.')?;
        let (stamp, _salt) = body.split_once('.')?;
        let tag = B64.decode(tag).ok()?;
        hmac::verify(&self.key, body.as_bytes(), &tag).ok()?;
        i64::from_str_radix(stamp, 16).ok()
    }

    fn alive(&self, issued: i64, now: i64) -> bool {
        // A little slack for a clock that steps back.
        issued <= now + 5 && now - issued <= self.lifetime_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_lives_its_lifetime_and_each_count_is_taken_once() {
        let nonces = Nonces::new(300, 100);
        let t = 1_800_000_000;
        let n = nonces.mint(t);
        assert_eq!(nonces.check(&n, Some(1), t + 10), NonceCheck::Fresh);
        assert_eq!(nonces.check(&n, Some(1), t + 11), NonceCheck::Replayed);
        assert_eq!(nonces.check(&n, Some(2), t + 12), NonceCheck::Fresh);
        assert_eq!(nonces.check(&n, Some(1), t + 13), NonceCheck::Replayed);
        assert_eq!(nonces.check(&n, Some(3), t + 301), NonceCheck::Stale);
        // Two nonces of one second differ; without qop, a nonce is good once.
        let m = nonces.mint(t);
        assert_ne!(m, n);
        assert_eq!(nonces.check(&m, None, t), NonceCheck::Fresh);
        assert_eq!(nonces.check(&m, None, t), NonceCheck::Replayed);
    }

    #[test]
    fn nonces_not_minted_here_are_invalid() {
        let (ours, theirs) = (Nonces::new(300, 100), Nonces::new(300, 100));
        let t = 1_800_000_000;
        let n = theirs.mint(t);
        assert_eq!(ours.check(&n, Some(1), t), NonceCheck::Invalid);
        let mine = ours.mint(t);
        let (stamp, rest) = mine.split_once('.').unwrap();
        let later = format!(
            "{:x}.{rest}",
            i64::from_str_radix(stamp, 16).unwrap() + 1000
        );
        assert_eq!(ours.check(&later, Some(1), t), NonceCheck::Invalid);
        for junk in ["", ".", "..", "zz.zz.zz", "1..", &"a".repeat(5000)] {
            assert_eq!(
                ours.check(junk, Some(1), t),
                NonceCheck::Invalid,
                "{junk:.20}"
            );
        }
    }

    #[test]
    fn the_record_is_bounded_and_frees_itself_as_nonces_expire() {
        let nonces = Nonces::new(300, 3);
        let t = 1_800_000_000;
        let live: Vec<String> = (0..3).map(|i| nonces.mint(t + i)).collect();
        for n in &live {
            assert_eq!(nonces.check(n, Some(1), t + 5), NonceCheck::Fresh);
        }
        let extra = nonces.mint(t + 6);
        assert_eq!(nonces.check(&extra, Some(1), t + 6), NonceCheck::Stale);
        // Once the first ones expire, there is room again.
        let later = nonces.mint(t + 400);
        assert_eq!(nonces.check(&later, Some(1), t + 400), NonceCheck::Fresh);
    }
}
