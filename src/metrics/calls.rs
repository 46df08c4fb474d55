//! Signed calls by account, level and reason, a minute at a time over the last hours:
//! what the operator console charts. In memory, per node; `/metrics` has the totals.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use crate::passport::Attest;
use crate::trust::Sid;

/// How many minutes are kept.
pub const KEEP_MINUTES: i64 = 6 * 60;

/// One minute's counts.
#[derive(Debug, Default)]
struct Minute {
    /// Unix seconds of the minute's start.
    at: i64,
    counts: HashMap<(Sid, Attest, &'static str), u64>,
}

/// The calls of the last [`KEEP_MINUTES`].
#[derive(Debug, Default)]
pub struct CallStats {
    minutes: Mutex<VecDeque<Minute>>,
}

/// A bucket of a series: its start and the calls signed A, B and C in it.
pub type Bucket = (i64, [u64; 3]);

/// One account's calls over the period kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCalls {
    pub account: Sid,
    /// A, B and C.
    pub by_level: [u64; 3],
    pub by_reason: BTreeMap<&'static str, u64>,
}

fn level_index(level: Attest) -> usize {
    match level {
        Attest::A => 0,
        Attest::B => 1,
        Attest::C => 2,
    }
}

impl CallStats {
    /// Counts a call of `account` signed `level` for `reason` at `now`.
    pub fn record(&self, account: Sid, level: Attest, reason: &'static str, now: i64) {
        let minute = now - now.rem_euclid(60);
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        if minutes.back().is_none_or(|m| m.at < minute) {
            minutes.push_back(Minute {
                at: minute,
                counts: HashMap::new(),
            });
            while minutes
                .front()
                .is_some_and(|m| m.at <= minute - KEEP_MINUTES * 60)
            {
                minutes.pop_front();
            }
        }
        // A call dated before the newest minute (a clock step back) counts in it.
        if let Some(m) = minutes.back_mut() {
            *m.counts.entry((account, level, reason)).or_default() += 1;
        }
    }

    /// Calls by level in buckets of `bucket_secs`, from `now - span_secs` to `now`
    /// (oldest first), for one account or all.
    pub fn series(
        &self,
        now: i64,
        span_secs: i64,
        bucket_secs: i64,
        account: Option<Sid>,
    ) -> Vec<Bucket> {
        let bucket_secs = bucket_secs.max(60);
        let end = now - now.rem_euclid(bucket_secs) + bucket_secs;
        let start = end - span_secs.max(bucket_secs);
        let n = ((end - start) / bucket_secs) as usize;
        let mut out: Vec<Bucket> = (0..n)
            .map(|i| (start + i as i64 * bucket_secs, [0; 3]))
            .collect();
        let minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        for m in minutes.iter().filter(|m| m.at >= start && m.at < end) {
            let i = ((m.at - start) / bucket_secs) as usize;
            for ((a, level, _), count) in &m.counts {
                if account.is_none_or(|want| want == *a)
                    && let Some(b) = out.get_mut(i)
                {
                    b.1[level_index(*level)] += count;
                }
            }
        }
        out
    }

    /// The minute (its start) of each account's last call in the minutes from `since`
    /// on, and the latest such minute.
    pub fn last_calls_since(&self, since: i64) -> (Vec<(Sid, i64)>, Option<i64>) {
        let minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        let mut last: HashMap<Sid, i64> = HashMap::new();
        for m in minutes.iter().filter(|m| m.at >= since) {
            for (account, _, _) in m.counts.keys() {
                last.insert(*account, m.at);
            }
        }
        let latest = minutes.back().map(|m| m.at).filter(|&at| at >= since);
        (last.into_iter().collect(), latest)
    }

    /// The minute (its start) of `account`'s last call in the period kept.
    pub fn last_call(&self, account: Sid) -> Option<i64> {
        let minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        (minutes.iter().rev())
            .find(|m| m.counts.keys().any(|(a, _, _)| *a == account))
            .map(|m| m.at)
    }

    /// Every account's calls over the period kept, most calls first.
    pub fn accounts(&self) -> Vec<AccountCalls> {
        let mut by: BTreeMap<Sid, AccountCalls> = BTreeMap::new();
        let minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        for m in minutes.iter() {
            for ((account, level, reason), count) in &m.counts {
                let entry = by.entry(*account).or_insert_with(|| AccountCalls {
                    account: *account,
                    by_level: [0; 3],
                    by_reason: BTreeMap::new(),
                });
                entry.by_level[level_index(*level)] += count;
                *entry.by_reason.entry(reason).or_default() += count;
            }
        }
        let mut out: Vec<AccountCalls> = by.into_values().collect();
        out.sort_by_key(|a| std::cmp::Reverse(a.by_level.iter().sum::<u64>()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ac(n: u128) -> Sid {
        Sid::from_parts(*b"AC", n)
    }

    #[test]
    fn calls_are_bucketed_by_level_and_account_and_old_ones_forgotten() {
        let s = CallStats::default();
        // On the hour.
        let t0 = 1_800_000_000;
        s.record(ac(1), Attest::A, "a_full", t0 + 5);
        s.record(ac(1), Attest::A, "a_full", t0 + 59);
        s.record(ac(2), Attest::C, "c_no_primary_profile", t0 + 61);
        s.record(ac(1), Attest::B, "b_number_not_owned", t0 + 600);
        let all = s.series(t0 + 700, 3600, 600, None);
        assert_eq!(all.len(), 6);
        assert_eq!(all.last().unwrap(), &(t0 + 600, [0, 1, 0]));
        assert_eq!(all[all.len() - 2], (t0, [2, 0, 1]));
        let one = s.series(t0 + 700, 3600, 600, Some(ac(2)));
        assert_eq!(one[one.len() - 2], (t0, [0, 0, 1]));
        let accounts = s.accounts();
        assert_eq!(accounts[0].account, ac(1));
        assert_eq!(accounts[0].by_level, [2, 1, 0]);
        assert_eq!(accounts[0].by_reason["a_full"], 2);
        // Last calls, by the minute: for dormancy.
        assert_eq!(s.last_call(ac(1)), Some(t0 + 600));
        assert_eq!(s.last_call(ac(9)), None);
        let (mut last, latest) = s.last_calls_since(t0 + 60);
        last.sort();
        assert_eq!(last, vec![(ac(1), t0 + 600), (ac(2), t0 + 60)]);
        assert_eq!(latest, Some(t0 + 600));
        assert_eq!(s.last_calls_since(t0 + 660), (Vec::new(), None));
        // Six hours later the first minutes are gone.
        s.record(ac(3), Attest::A, "a_full", t0 + KEEP_MINUTES * 60 + 90);
        let accounts = s.accounts();
        assert_eq!(accounts.len(), 2, "{accounts:?}");
        assert!(accounts.iter().all(|a| a.account != ac(2)));
    }
}
