//! The transaction table of one [`super::Endpoint`]: live transactions by id and by
//! server key, INVITEs waiting for their verification, and the timer queue that drives
//! both. Owned by its endpoint alone, so nothing here locks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::Output;
use super::Peer;
use super::settings::Timers;
use super::transaction::{Fired, ServerKey, Txn};

/// An initial INVITE from a verifying trunk, answered `100 Trying` and waiting for the
/// verdict on its Identity headers: a transaction state of its own, with its own timer
/// (the longest the call waits for the verdict).
#[derive(Debug)]
pub struct Verifying {
    pub key: ServerKey,
    pub src: Peer,
    pub reply_to: Peer,
    /// The request as received.
    pub request: Vec<u8>,
    /// When the call goes on without a verdict.
    pub deadline: Instant,
}

/// What a due timer belongs to.
#[derive(Debug)]
pub enum Due {
    /// A transaction's timers ran.
    Fired(Fired),
    /// A verification ran out of time: the INVITE is handed back to go on without it.
    VerifyTimeout(u64, Verifying),
}

/// All live transactions of an endpoint and their timer queue.
#[derive(Default)]
pub struct Table {
    /// Boxed, and both maps sized for the most transactions the endpoint takes at the
    /// start: growing a map moves and rehashes every entry at once, and at 57,000
    /// transactions of 4,000 calls/s that held the engine for 61 ms.
    txns: HashMap<u64, Box<Txn>>,
    index: HashMap<ServerKey, u64>,
    verifying: HashMap<u64, Verifying>,
    last_id: u64,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Transactions whose previous hop still waits for a final response, kept up to date
    /// at every change so that reading it costs nothing, from any thread.
    awaiting: Arc<AtomicUsize>,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// A table for up to `capacity` transactions (more only after a pause to grow),
    /// counting those in flight into `awaiting`. Sizing reserves address space; memory
    /// is touched as transactions arrive.
    pub fn counting(awaiting: Arc<AtomicUsize>, capacity: usize) -> Table {
        Table {
            awaiting,
            txns: HashMap::with_capacity(capacity),
            index: HashMap::with_capacity(capacity),
            ..Table::default()
        }
    }

    fn awaited(&self, more: bool) {
        if more {
            self.awaiting.fetch_add(1, Ordering::Relaxed);
        } else {
            self.awaiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A fresh id, for a transaction or for a message that needs a branch but no
    /// transaction (a 2xx ACK).
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// Keys held: live transactions and INVITEs being verified.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Transactions whose previous hop still waits for a final response: INVITEs being
    /// verified and transactions proceeding.
    pub fn in_flight(&self) -> usize {
        self.awaiting.load(Ordering::Relaxed)
    }

    pub fn lookup(&self, key: &ServerKey) -> Option<u64> {
        self.index.get(key).copied()
    }

    /// Holds an INVITE while its Identity headers are verified.
    pub fn insert_verifying(&mut self, id: u64, v: Verifying) {
        self.index.insert(v.key.clone(), id);
        self.timers.push(Reverse((v.deadline, id)));
        self.verifying.insert(id, v);
        self.awaited(true);
    }

    /// Takes back an INVITE being verified (its verdict came, or a CANCEL ended it).
    pub fn take_verifying(&mut self, id: u64) -> Option<Verifying> {
        let v = self.verifying.remove(&id)?;
        self.index.remove(&v.key);
        self.awaited(false);
        Some(v)
    }

    pub fn is_verifying(&self, id: u64) -> bool {
        self.verifying.contains_key(&id)
    }

    pub fn insert(&mut self, mut txn: Txn, now: Instant) {
        let id = txn.id;
        if let Some(at) = txn.needs_schedule(now) {
            self.timers.push(Reverse((at, id)));
        }
        if txn.awaits_final() {
            self.awaited(true);
        }
        self.index.insert(txn.key.clone(), id);
        self.txns.insert(id, Box::new(txn));
    }

    /// Runs `f` on transaction `id`, then requeues its timers.
    pub fn with<R>(&mut self, id: u64, now: Instant, f: impl FnOnce(&mut Txn) -> R) -> Option<R> {
        let txn = self.txns.get_mut(&id)?;
        let awaited = txn.awaits_final();
        let r = f(txn);
        let ended = awaited && !txn.awaits_final();
        if let Some(at) = txn.needs_schedule(now) {
            self.timers.push(Reverse((at, id)));
        }
        if ended {
            self.awaited(false);
        }
        Some(r)
    }

    /// The earliest queued timer: when the endpoint next needs to run.
    pub fn next_timer(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Runs the next timer due at `now`, if any: the transaction's timers, or the end of
    /// a verification's wait. Ended transactions are removed.
    pub fn fire_next(&mut self, now: Instant, t: &Timers, out: &mut Vec<Output>) -> Option<Due> {
        loop {
            let Reverse((at, id)) = *self.timers.peek()?;
            if at > now {
                return None;
            }
            self.timers.pop();
            if let Some(v) = self.verifying.get(&id) {
                if v.deadline <= now {
                    let v = self.take_verifying(id)?;
                    return Some(Due::VerifyTimeout(id, v));
                }
                continue;
            }
            // Entries of removed transactions, and earlier entries superseded by a
            // later schedule, find nothing to do.
            if let Some(fired) = self.fire(id, now, t, out) {
                return Some(Due::Fired(fired));
            }
        }
    }

    /// Fires the timers of `id`; removes the transaction when it has ended.
    fn fire(&mut self, id: u64, now: Instant, t: &Timers, out: &mut Vec<Output>) -> Option<Fired> {
        let fired = self.with(id, now, |txn| {
            let attempt = txn.attempt();
            let mut fired = txn.on_timer(now, t, out);
            fired.failed_over = txn.attempt() != attempt;
            fired
        })?;
        if fired.remove
            && let Some(txn) = self.txns.remove(&id)
        {
            self.index.remove(&txn.key);
            if txn.awaits_final() {
                self.awaited(false);
            }
        }
        Some(fired)
    }
}
