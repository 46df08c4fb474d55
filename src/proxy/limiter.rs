//! Per-trunk call rate limits: a token bucket per trunk (keyed by its origid), filled at
//! the trunk's rate up to its burst, and read at the request's time, so a test drives it
//! with a virtual clock.

use std::sync::Arc;
use std::time::SystemTime;

use dashmap::DashMap;

use crate::trust::CallLimit;

#[derive(Default)]
pub struct Limiter {
    buckets: DashMap<Arc<str>, Bucket>,
}

struct Bucket {
    tokens: f64,
    at: SystemTime,
}

impl Limiter {
    /// Whether trunk `key` may place one more call at `now` under `limit`; takes the
    /// token when it may.
    pub fn admit(&self, key: &Arc<str>, limit: CallLimit, now: SystemTime) -> bool {
        let burst = f64::from(limit.burst.max(1));
        let mut b = self.buckets.entry(Arc::clone(key)).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        if let Ok(elapsed) = now.duration_since(b.at) {
            b.tokens = (b.tokens + elapsed.as_secs_f64() * f64::from(limit.per_second)).min(burst);
            b.at = now;
        }
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_the_rate_on_a_virtual_clock() {
        let limiter = Limiter::default();
        let key: Arc<str> = "trunk".into();
        let limit = CallLimit {
            per_second: 2,
            burst: 3,
        };
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let admitted = |ms| limiter.admit(&key, limit, at(ms));
        assert!(admitted(0) && admitted(0) && admitted(0), "the burst");
        assert!(!admitted(0), "past the burst");
        assert!(!admitted(400), "0.8 of a call refilled");
        assert!(admitted(500), "one call refilled at 2 a second");
        assert!(!admitted(500));
        // A quiet spell refills to the burst, not beyond.
        let admitted_after_rest = (0..4).filter(|_| admitted(60_000)).count();
        assert_eq!(admitted_after_rest, 3);
        // A clock that steps back refills nothing and takes nothing away.
        assert!(!admitted(59_000));
        // Another trunk has its own bucket.
        assert!(limiter.admit(&"other".into(), limit, at(60_000)));
    }
}
