//! Name resolution for request targets that are host names: a short-lived cache, so that
//! a transaction's retransmissions, CANCEL and ACK reach the same server as its INVITE,
//! and a cap on lookups in flight, so that hostile Request-URIs cannot pile them up.
//!
//! Plain A/AAAA lookups through the system resolver; RFC 3263 NAPTR/SRV is not done.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::Semaphore;

/// How long a resolved address is reused.
const TTL: Duration = Duration::from_secs(60);
/// Lookups allowed in flight at once; more are refused.
const MAX_IN_FLIGHT: usize = 64;
/// Entries kept before expired ones are swept.
const MAX_ENTRIES: usize = 10_000;

pub struct Resolver {
    cache: DashMap<(String, u16), (SocketAddr, Instant)>,
    in_flight: Semaphore,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver {
            cache: DashMap::new(),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        }
    }
}

impl Resolver {
    /// A cached address still within its lifetime.
    pub fn cached(&self, host: &str, port: u16, now: Instant) -> Option<SocketAddr> {
        let key = (host.to_ascii_lowercase(), port);
        self.cache.get(&key).filter(|e| now < e.1).map(|e| e.0)
    }

    /// Resolves `host:port`, from the cache when possible.
    pub async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        if let Some(addr) = self.cached(host, port, Instant::now()) {
            return Ok(addr);
        }
        let _permit = self
            .in_flight
            .try_acquire()
            .map_err(|_| io::Error::other("too many name lookups in flight"))?;
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| io::Error::other("name resolved to no address"))?;
        self.remember(host, port, addr, Instant::now());
        Ok(addr)
    }

    fn remember(&self, host: &str, port: u16, addr: SocketAddr, now: Instant) {
        if self.cache.len() >= MAX_ENTRIES {
            self.cache.retain(|_, e| now < e.1);
        }
        self.cache
            .insert((host.to_ascii_lowercase(), port), (addr, now + TTL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_entries_expire() {
        let r = Resolver::default();
        let now = Instant::now();
        let addr: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        r.remember("Carrier.Example", 5060, addr, now);
        assert_eq!(r.cached("carrier.example", 5060, now), Some(addr));
        assert_eq!(r.cached("carrier.example", 5061, now), None);
        assert_eq!(r.cached("carrier.example", 5060, now + TTL), None);
    }

    #[tokio::test]
    async fn localhost_resolves_and_is_cached() {
        let r = Resolver::default();
        let addr = r.resolve("localhost", 5060).await.unwrap();
        assert!(addr.ip().is_loopback());
        assert_eq!(r.cached("localhost", 5060, Instant::now()), Some(addr));
    }
}
