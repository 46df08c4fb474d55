//! The verifier's CRLs: fetched on the first call that needs one, then kept fresh in
//! the background ([`CrlStore::refresh`]) before their nextUpdate, and mirrored to a
//! directory so that a restarted verifier starts warm.
//!
//! A call only fetches a CRL itself when none is held or the one held is no longer
//! current; otherwise it reads the CRL held, and the refresh replaces it. A refresh that
//! fails keeps the CRL held (usable until its nextUpdate) and is tried again after the
//! failure lifetime; past nextUpdate plus a grace period the CRL is reported stale.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dashmap::DashMap;

use super::FetchError;
use super::fetch::Fetcher;
use crate::certs::{CertError, Crl};

/// When the CRLs held are fetched again, and when one counts as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlRefresh {
    /// Fetch again once a CRL has been held this long, even if its nextUpdate is far
    /// (the STI-PA may publish revocations before it).
    pub every_secs: i64,
    /// Fetch again this long before the CRL's nextUpdate.
    pub before_next_update_secs: i64,
    /// A CRL still held this long past its nextUpdate is reported stale.
    pub stale_grace_secs: i64,
}

impl Default for CrlRefresh {
    fn default() -> Self {
        CrlRefresh {
            every_secs: 3600,
            before_next_update_secs: 3600,
            stale_grace_secs: 3600,
        }
    }
}

/// Why a CRL could not be had: the fetch failed, or what came back is not a CRL of the
/// expected signer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CrlFailure {
    Unavailable(FetchError),
    Unusable(CertError),
}

/// One CRL URL's state after a refresh, for `/metrics` and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlStatus {
    pub url: String,
    /// The held CRL's nextUpdate (unix seconds), if a CRL is held and gives one.
    pub next_update: Option<i64>,
    /// No CRL is held, or the one held is past nextUpdate plus the grace period.
    pub stale: bool,
    /// This refresh tried to fetch the CRL.
    pub attempted: bool,
    /// This refresh fetched a new CRL.
    pub refreshed: bool,
    /// Why the last fetch failed, if it did.
    pub error: Option<String>,
}

struct Held {
    crl: Arc<Crl>,
    /// DER of the certificate whose signature check this CRL last passed; `None` for a
    /// CRL read back from the disk cache, checked on first use.
    verified_with: Option<Vec<u8>>,
    fetched_at: i64,
}

#[derive(Default)]
struct State {
    held: Option<Held>,
    /// The last failure, and when to try again.
    failure: Option<(CrlFailure, i64)>,
    /// The certificates that may sign this URL's CRL (several during a signer's key
    /// rollover), as the last caller named them.
    signers: Vec<Vec<u8>>,
}

#[derive(Default)]
struct Slot {
    state: Mutex<State>,
    /// Held while the URL is being fetched: later callers wait, then read the result.
    fetching: tokio::sync::Mutex<()>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The CRLs by URL.
pub(crate) struct CrlStore {
    slots: DashMap<String, Arc<Slot>>,
    max_entries: usize,
    cache_dir: Option<PathBuf>,
    refresh: CrlRefresh,
}

impl CrlStore {
    pub(crate) fn new(
        max_entries: usize,
        cache_dir: Option<PathBuf>,
        refresh: CrlRefresh,
    ) -> CrlStore {
        CrlStore {
            slots: DashMap::new(),
            max_entries: max_entries.max(1),
            cache_dir,
            refresh,
        }
    }

    /// Reads back the CRLs a previous run left in the cache directory (each checked
    /// against its signer when first used). Unreadable or unparsable files are skipped
    /// and named in the result. Returns how many were loaded.
    pub(crate) fn load_cache(&self, now: i64) -> (usize, Vec<String>) {
        let Some(dir) = &self.cache_dir else {
            return (0, Vec::new());
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return (0, Vec::new());
        };
        let mut loaded = 0;
        let mut skipped = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "url") {
                continue;
            }
            let read = std::fs::read_to_string(&path).ok().and_then(|url| {
                let body = std::fs::read(path.with_extension("crl")).ok()?;
                let crl = Crl::parse(&body).ok()?;
                let url = url.trim().to_owned();
                (cache_name(&url) == file_stem(&path)).then_some((url, crl))
            });
            let Some((url, crl)) = read else {
                skipped.push(path.display().to_string());
                continue;
            };
            if self.slots.len() >= self.max_entries {
                break;
            }
            let slot = self.slot(&url, now);
            slot.lock().held = Some(Held {
                crl: Arc::new(crl),
                verified_with: None,
                fetched_at: now,
            });
            loaded += 1;
        }
        (loaded, skipped)
    }

    /// Holds `body` as the CRL of `url` fetched at `now`, after checking that one of
    /// `signers` signed it.
    pub(crate) fn insert(
        &self,
        url: &str,
        body: &[u8],
        signers: &[&[u8]],
        now: i64,
    ) -> Result<(), CertError> {
        let (crl, signer) = checked(body, signers)?;
        let slot = self.slot(url, now);
        let mut state = slot.lock();
        state.signers = signers.iter().map(|s| s.to_vec()).collect();
        state.failure = None;
        state.held = Some(Held {
            crl: Arc::new(crl),
            verified_with: Some(signer),
            fetched_at: now,
        });
        Ok(())
    }

    /// The CRL at `url`, signed by one of `signers`: the one held if it is current at
    /// `now`, otherwise fetched now (one caller per URL at a time). A failure is
    /// remembered for `failure_ttl` seconds.
    pub(crate) async fn get(
        &self,
        fetcher: &Fetcher,
        url: &str,
        signers: &[&[u8]],
        now: i64,
        failure_ttl: i64,
    ) -> Result<Arc<Crl>, CrlFailure> {
        let slot = self.slot(url, now);
        if let Some(found) = current(&slot, signers, now) {
            return found;
        }
        let _fetching = slot.fetching.lock().await;
        if let Some(found) = current(&slot, signers, now) {
            return found;
        }
        slot.lock().signers = signers.iter().map(|s| s.to_vec()).collect();
        self.fetch_into(&slot, fetcher, url, now, failure_ttl).await
    }

    /// Fetches again every CRL that is due (held for `every_secs`, or within
    /// `before_next_update_secs` of its nextUpdate, or never fetched successfully),
    /// unless its last failure is younger than `failure_ttl`. Returns the state of
    /// every URL held.
    pub(crate) async fn refresh(
        &self,
        fetcher: &Fetcher,
        now: i64,
        failure_ttl: i64,
    ) -> Vec<CrlStatus> {
        let slots: Vec<(String, Arc<Slot>)> = self
            .slots
            .iter()
            .map(|e| (e.key().clone(), Arc::clone(e.value())))
            .collect();
        let mut statuses = Vec::with_capacity(slots.len());
        for (url, slot) in slots {
            let due = {
                let state = slot.lock();
                let retry_ok = state.failure.as_ref().is_none_or(|(_, at)| *at <= now);
                let signer_known = !state.signers.is_empty();
                let held_due = state.held.as_ref().is_none_or(|h| self.due(h, now));
                retry_ok && signer_known && held_due
            };
            let mut refreshed = false;
            let attempted = due;
            if due {
                let _fetching = slot.fetching.lock().await;
                refreshed = self
                    .fetch_into(&slot, fetcher, &url, now, failure_ttl)
                    .await
                    .is_ok();
            }
            let mut status = self.status(&url, &slot, now, refreshed);
            status.attempted = attempted;
            statuses.push(status);
        }
        statuses.sort_by(|a, b| a.url.cmp(&b.url));
        statuses
    }

    fn due(&self, held: &Held, now: i64) -> bool {
        let aged = now >= held.fetched_at.saturating_add(self.refresh.every_secs);
        let ending = held
            .crl
            .next_update
            .is_some_and(|next| now >= next.saturating_sub(self.refresh.before_next_update_secs));
        aged || ending
    }

    fn status(&self, url: &str, slot: &Slot, now: i64, refreshed: bool) -> CrlStatus {
        let state = slot.lock();
        let next_update = state.held.as_ref().and_then(|h| h.crl.next_update);
        let stale = match &state.held {
            None => true,
            Some(h) => h
                .crl
                .next_update
                .is_some_and(|next| now > next.saturating_add(self.refresh.stale_grace_secs)),
        };
        CrlStatus {
            url: url.to_owned(),
            next_update,
            stale,
            attempted: false,
            refreshed,
            error: state.failure.as_ref().map(|(f, _)| f.to_string()),
        }
    }

    /// Fetches `url` and, if it yields a CRL the slot's signer signed, holds it (and
    /// writes it to the cache directory). The caller holds the slot's fetch lock.
    async fn fetch_into(
        &self,
        slot: &Slot,
        fetcher: &Fetcher,
        url: &str,
        now: i64,
        failure_ttl: i64,
    ) -> Result<Arc<Crl>, CrlFailure> {
        let signers = slot.lock().signers.clone();
        let signers: Vec<&[u8]> = signers.iter().map(Vec::as_slice).collect();
        let result = match fetcher.get(url).await {
            Ok(fetched) => match checked(&fetched.body, &signers) {
                Ok((crl, signer)) => Ok((crl, signer, fetched.body)),
                Err(e) => Err(CrlFailure::Unusable(e)),
            },
            Err(e) => Err(CrlFailure::Unavailable(e)),
        };
        match result {
            Ok((crl, signer, body)) => {
                let crl = Arc::new(crl);
                {
                    let mut state = slot.lock();
                    state.held = Some(Held {
                        crl: Arc::clone(&crl),
                        verified_with: Some(signer),
                        fetched_at: now,
                    });
                    state.failure = None;
                }
                if let Some(dir) = &self.cache_dir
                    && let Err(e) = write_cache(dir, url, &body).await
                {
                    tracing::warn!(url, error = %e, "could not write the CRL to the cache directory");
                }
                Ok(crl)
            }
            Err(failure) => {
                tracing::warn!(url, error = %failure, "CRL fetch failed");
                slot.lock().failure = Some((failure.clone(), now.saturating_add(failure_ttl)));
                Err(failure)
            }
        }
    }

    fn slot(&self, url: &str, now: i64) -> Arc<Slot> {
        if let Some(slot) = self.slots.get(url) {
            return Arc::clone(slot.value());
        }
        if self.slots.len() >= self.max_entries {
            // Keep the CRLs still current; drop the rest.
            self.slots.retain(|_, slot| {
                slot.lock()
                    .held
                    .as_ref()
                    .is_some_and(|h| is_current(&h.crl, now))
            });
            if self.slots.len() >= self.max_entries {
                self.slots.clear();
            }
        }
        Arc::clone(self.slots.entry(url.to_owned()).or_default().value())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

/// The held CRL if it is current at `now` (checked against `signers` if the one it
/// passed with is not among them), or the remembered failure if it is recent; `None`
/// when a fetch is due.
fn current(slot: &Slot, signers: &[&[u8]], now: i64) -> Option<Result<Arc<Crl>, CrlFailure>> {
    let mut state = slot.lock();
    if let Some(held) = state.held.as_mut()
        && is_current(&held.crl, now)
    {
        let known = held
            .verified_with
            .as_deref()
            .is_some_and(|v| signers.contains(&v));
        if !known {
            match check_with(&held.crl, signers) {
                Ok(signer) => held.verified_with = Some(signer),
                Err(e) => return Some(Err(CrlFailure::Unusable(e))),
            }
        }
        return Some(Ok(Arc::clone(&held.crl)));
    }
    match &state.failure {
        Some((failure, retry_at)) if *retry_at > now => Some(Err(failure.clone())),
        _ => None,
    }
}

fn is_current(crl: &Crl, now: i64) -> bool {
    crl.this_update <= now && crl.next_update.is_none_or(|next| now <= next)
}

/// Parses `body` and finds which of `signers` signed it.
fn checked(body: &[u8], signers: &[&[u8]]) -> Result<(Crl, Vec<u8>), CertError> {
    let crl = Crl::parse(body)?;
    let signer = check_with(&crl, signers)?;
    Ok((crl, signer))
}

/// The first of `signers` that signed `crl`, or the first one's error.
fn check_with(crl: &Crl, signers: &[&[u8]]) -> Result<Vec<u8>, CertError> {
    let mut first = None;
    for signer in signers {
        match crl.check_signed_by(signer) {
            Ok(()) => return Ok(signer.to_vec()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(first.unwrap_or(CertError::CrlIssuerMismatch))
}

impl std::fmt::Display for CrlFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrlFailure::Unavailable(e) => write!(f, "{e}"),
            CrlFailure::Unusable(e) => write!(f, "not a CRL of the expected signer: {e}"),
        }
    }
}

/// The cache file name of `url`: the hex SHA-256 of the URL, so that any URL gives a
/// safe file name.
fn cache_name(url: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, url.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned()
}

/// Writes `<hash>.crl` (the body as fetched) then `<hash>.url`, each through a
/// temporary file and a rename, so that a crash never leaves half a CRL behind.
async fn write_cache(dir: &Path, url: &str, body: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let name = cache_name(url);
    for (ext, bytes) in [("crl", body), ("url", url.as_bytes())] {
        let path = dir.join(format!("{name}.{ext}"));
        let tmp = dir.join(format!(".{name}.{ext}.tmp"));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::dev::tests::{NOW, pki};

    #[test]
    fn the_store_is_bounded() {
        let store = CrlStore::new(3, None, CrlRefresh::default());
        let pki = pki();
        let crl = pki.issue_crl(&[], NOW).unwrap();
        for i in 0..10 {
            let url = format!("http://crl.example/{i}.crl");
            let signers = [pki.crl_signer_der.as_slice()];
            store.insert(&url, &crl, &signers, NOW).unwrap();
            assert!(store.len() <= 3, "{}", store.len());
        }
    }

    #[test]
    fn cache_file_names_are_hashes_of_the_url() {
        let name = cache_name("http://crl.example/../../etc/passwd");
        assert_eq!(name.len(), 64);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(name, cache_name("http://crl.example/other"));
    }
}
