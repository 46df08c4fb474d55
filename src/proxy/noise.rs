//! Warnings that an outside peer can cause at will (malformed or oversized messages,
//! requests from unknown sources, broken TCP framing) are rate-limited per source, so that
//! a barrage cannot fill the disk: at most one line per source and kind per interval,
//! which reports how many similar events it stands for. Every event is still counted in
//! `/metrics`. Time comes in as an argument (Unix seconds), so the windows are tested on
//! a virtual clock.

use std::net::{IpAddr, Ipv6Addr};

use dashmap::DashMap;

/// One window of one source and kind.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// When the window's logged line was written.
    opened: i64,
    /// Events since then that were not logged.
    suppressed: u64,
}

/// The per-source log limiter.
#[derive(Debug)]
pub struct Noise {
    interval: i64,
    max_sources: usize,
    windows: DashMap<(IpAddr, &'static str), Window>,
}

/// What to do with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Write the line; it stands for this many earlier events that were not written.
    Log { suppressed: u64 },
    /// Count it only.
    Quiet,
}

/// Sources beyond the table's size share this key: a barrage from many addresses is
/// limited as one source.
const OTHERS: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

impl Noise {
    /// At most one line per source and kind every `interval_secs`, for up to
    /// `max_sources` sources at a time.
    pub fn new(interval_secs: i64, max_sources: usize) -> Noise {
        Noise {
            interval: interval_secs.max(1),
            max_sources: max_sources.max(1),
            windows: DashMap::new(),
        }
    }

    /// Decides on one event of `kind` from `source` at `now` (Unix seconds).
    pub fn admit(&self, source: IpAddr, kind: &'static str, now: i64) -> Admit {
        let mut key = (source, kind);
        if !self.windows.contains_key(&key) && self.windows.len() >= self.max_sources {
            self.prune(now);
            if self.windows.len() >= self.max_sources {
                key = (OTHERS, kind);
            }
        }
        let mut entry = self.windows.entry(key).or_insert(Window {
            opened: i64::MIN,
            suppressed: 0,
        });
        let w = entry.value_mut();
        if now.saturating_sub(w.opened) >= self.interval {
            let suppressed = w.suppressed;
            *w = Window {
                opened: now,
                suppressed: 0,
            };
            Admit::Log { suppressed }
        } else {
            w.suppressed += 1;
            Admit::Quiet
        }
    }

    /// Drops windows that ended with nothing suppressed (the rest still owe a count).
    fn prune(&self, now: i64) {
        let interval = self.interval;
        self.windows
            .retain(|_, w| w.suppressed > 0 || now.saturating_sub(w.opened) < interval);
    }
}

impl Default for Noise {
    /// One line per source and kind every 10 s, for 64 sources at a time: with spoofed
    /// UDP sources an attacker has as many sources as it likes, so the table's size is
    /// what bounds the lines per interval (about 64 plus one shared line per kind).
    fn default() -> Noise {
        Noise::new(10, 64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(n.to_be_bytes())
    }

    #[test]
    fn one_line_per_source_and_kind_per_interval_with_the_count_it_stands_for() {
        let noise = Noise::new(10, 16);
        let a = ip(1);
        assert_eq!(
            noise.admit(a, "malformed", 100),
            Admit::Log { suppressed: 0 }
        );
        for t in 100..110 {
            assert_eq!(noise.admit(a, "malformed", t), Admit::Quiet);
        }
        // Another kind, another source: their own windows.
        assert_eq!(
            noise.admit(a, "oversized", 105),
            Admit::Log { suppressed: 0 }
        );
        assert_eq!(
            noise.admit(ip(2), "malformed", 105),
            Admit::Log { suppressed: 0 }
        );
        assert_eq!(
            noise.admit(a, "malformed", 110),
            Admit::Log { suppressed: 10 }
        );
        assert_eq!(noise.admit(a, "malformed", 111), Admit::Quiet);
    }

    #[test]
    fn many_sources_share_one_window_beyond_the_table() {
        let noise = Noise::new(10, 4);
        let mut logged = 0;
        for n in 0..10_000 {
            if let Admit::Log { .. } = noise.admit(ip(n), "malformed", 50) {
                logged += 1;
            }
        }
        // Four sources of their own, then one shared window.
        assert_eq!(logged, 5);
        // Windows that ended with nothing owed make room again.
        let fresh = Noise::new(10, 2);
        fresh.admit(ip(1), "x", 0);
        fresh.admit(ip(2), "x", 0);
        assert_eq!(fresh.admit(ip(3), "x", 20), Admit::Log { suppressed: 0 });
        assert_eq!(fresh.admit(ip(3), "x", 21), Admit::Quiet);
        assert_eq!(fresh.admit(ip(4), "x", 21), Admit::Log { suppressed: 0 });
    }
}
