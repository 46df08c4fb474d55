//! The transaction table: live transactions by id and by server key, and the timer
//! queue that drives them. Lookups and updates hold a map shard only for the update.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use dashmap::mapref::entry::Entry;
use dashmap::{DashMap, DashSet};

use super::Output;
use super::settings::Timers;
use super::transaction::{Fired, ServerKey, Txn};

/// Whether a new transaction was reserved or the key already had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    New(u64),
    Existing(u64),
}

/// All live transactions and their timer queue.
pub struct Table {
    txns: DashMap<u64, Txn>,
    index: DashMap<ServerKey, u64>,
    next_id: AtomicU64,
    /// Keys held (reserved or live): kept apart from `index.len()`, which locks every shard.
    count: AtomicUsize,
    /// CANCELs that arrived while their INVITE was still being signed.
    pending_cancels: DashSet<u64>,
    timers: Mutex<BinaryHeap<Reverse<(Instant, u64)>>>,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub fn new() -> Table {
        Table {
            txns: DashMap::new(),
            index: DashMap::new(),
            next_id: AtomicU64::new(1),
            count: AtomicUsize::new(0),
            pending_cancels: DashSet::new(),
            timers: Mutex::new(BinaryHeap::new()),
        }
    }

    /// A fresh id for a message that needs a branch but no transaction (a 2xx ACK).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Transactions whose previous hop still waits for a final response: those held
    /// (reserved keys not inserted yet, such as INVITEs being verified) and those
    /// proceeding. Walks every shard: for draining, not for the hot path.
    pub fn in_flight(&self) -> usize {
        let held = self.len().saturating_sub(self.txns.len());
        held + self.txns.iter().filter(|t| t.awaits_final()).count()
    }

    pub fn lookup(&self, key: &ServerKey) -> Option<u64> {
        self.index.get(key).map(|e| *e)
    }

    /// Claims `key` for a new transaction, or reports the one that holds it. A claimed
    /// key whose transaction is not inserted yet makes retransmissions wait silently.
    pub fn reserve(&self, key: ServerKey) -> Reservation {
        match self.index.entry(key) {
            Entry::Occupied(e) => Reservation::Existing(*e.get()),
            Entry::Vacant(v) => {
                let id = self.next_id();
                v.insert(id);
                self.count.fetch_add(1, Ordering::Relaxed);
                Reservation::New(id)
            }
        }
    }

    /// Gives back a reserved key that did not become a transaction.
    pub fn release(&self, key: &ServerKey) {
        if self.index.remove(key).is_some() {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Notes a CANCEL for a reserved transaction that is not inserted yet.
    pub fn defer_cancel(&self, id: u64) {
        self.pending_cancels.insert(id);
    }

    /// Takes back a deferred CANCEL (once the transaction is there to receive it).
    pub fn take_cancel(&self, id: u64) -> bool {
        self.pending_cancels.remove(&id).is_some()
    }

    pub fn insert(&self, mut txn: Txn, now: Instant) {
        let id = txn.id;
        let at = txn.needs_schedule(now);
        self.txns.insert(id, txn);
        if let Some(at) = at {
            self.schedule(id, at);
        }
    }

    fn schedule(&self, id: u64, at: Instant) {
        if let Ok(mut heap) = self.timers.lock() {
            heap.push(Reverse((at, id)));
        }
    }

    /// Runs `f` on transaction `id`, then requeues its timers.
    pub fn with<R>(&self, id: u64, now: Instant, f: impl FnOnce(&mut Txn) -> R) -> Option<R> {
        let (r, at) = {
            let mut txn = self.txns.get_mut(&id)?;
            let r = f(&mut txn);
            (r, txn.needs_schedule(now))
        };
        if let Some(at) = at {
            self.schedule(id, at);
        }
        Some(r)
    }

    /// Ids whose timers are due at `now`, removed from the queue.
    pub fn due(&self, now: Instant) -> Vec<u64> {
        let mut ids = Vec::new();
        if let Ok(mut heap) = self.timers.lock() {
            while let Some(Reverse((at, id))) = heap.peek().copied() {
                if at > now {
                    break;
                }
                heap.pop();
                ids.push(id);
            }
        }
        ids
    }

    /// The earliest queued timer.
    pub fn next_timer(&self) -> Option<Instant> {
        self.timers
            .lock()
            .ok()
            .and_then(|h| h.peek().map(|Reverse((at, _))| *at))
    }

    /// Fires the timers of `id`; removes the transaction when it has ended.
    pub fn fire(&self, id: u64, now: Instant, t: &Timers, out: &mut Vec<Output>) -> Option<Fired> {
        let fired = {
            let mut txn = self.txns.get_mut(&id)?;
            let attempt = txn.attempt();
            let mut fired = txn.on_timer(now, t, out);
            fired.failed_over = txn.attempt() != attempt;
            fired
        };
        if fired.remove {
            if let Some((_, txn)) = self.txns.remove(&id) {
                self.release(&txn.key);
                self.pending_cancels.remove(&id);
            }
        } else {
            self.with(id, now, |_| ());
        }
        Some(fired)
    }
}
