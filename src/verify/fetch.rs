//! Fetching x5u certificate chains and CRLs over HTTP(S) under the [`FetchPolicy`], and
//! a cache that holds each result until it expires, with at most one fetch per URL at a
//! time and failures remembered briefly. I/O shell.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::VerifyError;
use super::policy::{FetchError, FetchPolicy, cache_ttl, check_address, check_url};

/// An HTTP client that follows the fetch policy: no redirects, no proxy, names resolved
/// only to allowed addresses, bounded time and size.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
}

/// A fetched body and how long it may be cached.
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    pub ttl: Duration,
}

impl Fetcher {
    pub(crate) fn new(policy: FetchPolicy) -> Result<Fetcher, VerifyError> {
        let client = outbound_client(&policy).map_err(VerifyError::Client)?;
        Ok(Fetcher { client, policy })
    }

    pub(crate) fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// GETs `url` if the policy allows it. Only a 2xx response within the size cap is a
    /// success.
    pub(crate) async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = check_url(url, &self.policy)?;
        let timeout = self.policy.timeout;
        let max = self.policy.max_bytes;
        let request = async {
            let mut response = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| classify(&e, timeout))?;
            if !response.status().is_success() {
                return Err(FetchError::Status(response.status().as_u16()));
            }
            if response
                .content_length()
                .is_some_and(|len| len > max as u64)
            {
                return Err(FetchError::TooLarge(max));
            }
            let ttl = cache_ttl(
                response
                    .headers()
                    .get(reqwest::header::CACHE_CONTROL)
                    .and_then(|v| v.to_str().ok()),
                self.policy.default_ttl,
            );
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, timeout))? {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched { body, ttl })
        };
        tokio::time::timeout(timeout, request)
            .await
            .unwrap_or(Err(FetchError::Timeout(timeout.as_millis())))
    }
}

/// An HTTP client for every request callsign makes to a URL it was given (x5u, CRLs,
/// status callbacks): no redirects, no proxy, host names resolved once and only to
/// addresses the policy allows (the connection goes to those addresses), and the
/// policy's timeout on connecting and on the whole request.
pub fn outbound_client(policy: &FetchPolicy) -> Result<reqwest::Client, String> {
    // Installing fails only when a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(PolicyResolver {
            policy: policy.clone(),
        }))
        .connect_timeout(policy.timeout)
        .timeout(policy.timeout)
        .user_agent(concat!("callsign/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// A reqwest error as a [`FetchError`], with its causes (the resolver's refusal among
/// them) in the message.
fn classify(e: &reqwest::Error, timeout: Duration) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(timeout.as_millis());
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    FetchError::Http(message)
}

/// Resolves names with the system resolver and drops every address the policy refuses.
struct PolicyResolver {
    policy: FetchPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| check_address(a.ip(), &policy).is_ok())
                .collect();
            if allowed.is_empty() {
                let refused = match found.first() {
                    Some(a) => FetchError::SpecialAddress(a.ip()),
                    None => FetchError::Resolve(format!("{host} has no address")),
                };
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A cached result and until when (unix seconds) it holds.
struct Entry<T> {
    value: Result<Arc<T>, FetchError>,
    until: i64,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Entry {
            value: self.value.clone(),
            until: self.until,
        }
    }
}

struct Slot<T> {
    current: Mutex<Option<Entry<T>>>,
    /// Held while this URL is being fetched: later callers wait, then read the result.
    fetching: tokio::sync::Mutex<()>,
}

impl<T> Slot<T> {
    fn fresh(&self, now: i64) -> Option<Result<Arc<T>, FetchError>> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|e| e.until > now)
            .map(|e| e.value.clone())
    }

    fn store(&self, entry: Entry<T>) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(entry);
    }
}

/// Results per URL, each fetched at most once at a time.
pub(crate) struct Cache<T> {
    slots: DashMap<String, Arc<Slot<T>>>,
    max_entries: usize,
}

impl<T> Cache<T> {
    pub(crate) fn new(max_entries: usize) -> Cache<T> {
        Cache {
            slots: DashMap::new(),
            max_entries: max_entries.max(1),
        }
    }

    /// The cached result for `url` if it holds at `now`; otherwise runs `fetch` (one
    /// caller per URL at a time; the others wait for its result) and caches what it
    /// returns until the time it gives.
    pub(crate) async fn get<F, Fut>(
        &self,
        url: &str,
        now: i64,
        fetch: F,
    ) -> Result<Arc<T>, FetchError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (Result<Arc<T>, FetchError>, i64)>,
    {
        let slot = match self.slots.get(url) {
            Some(slot) => Arc::clone(slot.value()),
            None => self.new_slot(url, now),
        };
        if let Some(value) = slot.fresh(now) {
            return value;
        }
        let _fetching = slot.fetching.lock().await;
        if let Some(value) = slot.fresh(now) {
            return value;
        }
        let (value, until) = fetch().await;
        slot.store(Entry {
            value: value.clone(),
            until,
        });
        value
    }

    /// Forgets every result, so that each URL is fetched (and judged) afresh.
    pub(crate) fn clear(&self) {
        self.slots.clear();
    }

    /// Stores a result without fetching.
    pub(crate) fn insert(
        &self,
        url: &str,
        now: i64,
        value: Result<Arc<T>, FetchError>,
        until: i64,
    ) {
        self.new_slot(url, now).store(Entry { value, until });
    }

    fn new_slot(&self, url: &str, now: i64) -> Arc<Slot<T>> {
        if self.slots.len() >= self.max_entries {
            self.slots.retain(|_, slot| slot.fresh(now).is_some());
            if self.slots.len() >= self.max_entries {
                self.slots.clear();
            }
        }
        let slot = self.slots.entry(url.to_owned()).or_insert_with(|| {
            Arc::new(Slot {
                current: Mutex::new(None),
                fetching: tokio::sync::Mutex::new(()),
            })
        });
        Arc::clone(slot.value())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_fetch_per_url_at_a_time_and_cached_until_expiry() {
        let cache: Arc<Cache<u32>> = Arc::new(Cache::new(10));
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, calls, gate) = (cache.clone(), calls.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get("https://x/a", 100, || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        gate.notified().await;
                        (Ok(Arc::new(7)), 200)
                    })
                    .await
            }));
        }
        // Wake the one fetcher once it is waiting; the rest are queued on the slot.
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        for t in tasks {
            assert_eq!(t.await.unwrap().map(|v| *v), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Still fresh at 199, expired at 200.
        let again = cache.get("https://x/a", 199, || async { (Ok(Arc::new(8)), 300) });
        assert_eq!(again.await.map(|v| *v), Ok(7));
        let later = cache.get("https://x/a", 200, || async { (Ok(Arc::new(8)), 300) });
        assert_eq!(later.await.map(|v| *v), Ok(8));
    }

    #[tokio::test]
    async fn failures_are_cached_briefly() {
        let cache: Cache<u32> = Cache::new(10);
        let failed = cache.get("u", 0, || async { (Err(FetchError::Status(404)), 30) });
        assert_eq!(failed.await, Err(FetchError::Status(404)));
        let cached = cache.get("u", 29, || async { (Ok(Arc::new(1)), 100) });
        assert_eq!(cached.await, Err(FetchError::Status(404)));
        let retried = cache.get("u", 30, || async { (Ok(Arc::new(1)), 100) });
        assert_eq!(retried.await.map(|v| *v), Ok(1));
    }

    #[tokio::test]
    async fn size_is_bounded() {
        let cache: Cache<u32> = Cache::new(3);
        for i in 0..10 {
            let url = format!("u{i}");
            let _ = cache.get(&url, 0, || async { (Ok(Arc::new(1)), 1) }).await;
            assert!(cache.len() <= 3);
        }
    }
}
