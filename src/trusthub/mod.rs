//! The Trust Hub service, with no HTTP in it: who the caller is, what it may see, and
//! every read and write of accounts, numbers, bundles, assignments, end users and
//! evaluations, checked against [`crate::trust::rules`]. The HTTP handlers in
//! [`crate::api`] only parse Twilio's parameters, call this service and render its
//! answers.
//!
//! A write holds one lock while it reads, checks, commits its [`Change`]s to the store
//! and then applies the same changes to the live index ([`crate::trust::Index::apply`]), so that the
//! response goes out only after both, and the next INVITE already sees the change.
//!
//! - [`accounts`], [`numbers`], [`bundles`], [`assignments`], [`end_users`],
//!   [`evaluations`]: the operations, one file per resource.
//! - [`trunks`]: trunks, their IP access control lists and the lists' addresses;
//!   [`credentials`]: credential lists and their credentials; [`identities`]: signing
//!   identities and the trunks and accounts they sign for.
//! - [`attestation`]: the preview of what a call would get now.
//! - [`callbacks`]: status-callback delivery with retries.
//! - [`mod@error`]: [`HubError`] and [`Missing`].

pub mod accounts;
pub mod assignments;
pub mod attestation;
pub mod bundles;
pub mod callbacks;
pub mod credentials;
pub mod documents;
pub mod end_users;
pub mod error;
pub mod evaluations;
mod feed;
pub mod identities;
pub mod numbers;
pub mod origination;
pub mod trunk_numbers;
pub mod trunks;
pub mod vetting;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use crate::clock::{self, Clock, SystemClock};
use crate::identities::Identities;
use crate::store::{self, Store, StoreError};
use crate::tn::Numbering;
use crate::trust::{AccountStatus, Change, Sid, Trust};
use crate::verify::FetchPolicy;
use callbacks::{CallbackError, Callbacks, Retry, StatusChange};

pub use attestation::{Preview, preview};
pub use error::{HubError, Missing};

/// Who is calling, after basic auth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The operator credential from config: sees everything, reviews bundles, owns numbers.
    Operator,
    /// An account, with its parent when it is a sub-account.
    Account { sid: Sid, parent: Option<Sid> },
}

impl Caller {
    /// The caller's account; the operator has no Trust Hub resources of its own.
    pub fn account(&self) -> Result<Sid, HubError> {
        match self {
            Caller::Account { sid, .. } => Ok(*sid),
            Caller::Operator => Err(HubError::OperatorHasNoResources),
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Caller::Operator)
    }

    /// Refused unless the caller is the operator; `action` completes "Only the operator
    /// may …".
    pub fn require_operator(&self, action: &'static str) -> Result<(), HubError> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(HubError::OperatorOnly(action))
        }
    }
}

/// How the Trust Hub service is set up.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// The operator's SID and auth token, when the operator may use the API.
    pub operator: Option<(Sid, String)>,
    pub callbacks: Retry,
    /// The outbound rules status-callback URLs must meet, at write time and on delivery.
    pub callback_policy: FetchPolicy,
    /// How phone numbers in requests are canonicalized.
    pub numbering: Numbering,
    /// The server verifies calls (`[verify]`), so trunks may take `Role=verify`.
    pub verifies: bool,
    /// The addresses trunks' origination URLs may name (loopback and private ranges).
    pub origination_policy: FetchPolicy,
    /// The realm new credentials' digests are made in (`[sip] digest_realm`).
    pub digest_realm: String,
}

/// One write: the changes to commit, the documents' files to store with them, and the
/// status callbacks to send once committed.
#[derive(Debug, Default)]
pub(crate) struct Write {
    pub changes: Vec<Change>,
    pub files: Vec<crate::trust::DocumentFile>,
    pub callbacks: Vec<StatusChange>,
}

impl Write {
    pub fn of(change: Change) -> Write {
        Write {
            changes: vec![change],
            ..Write::default()
        }
    }
}

/// [`Hub::lock`]'s guard: this process's write lock and, on a shared store, every
/// node's.
pub(crate) struct WriteGuard<'h> {
    // Released before the local lock.
    _shared: Option<Box<dyn Send>>,
    _local: MutexGuard<'h, ()>,
}

/// The Trust Hub service.
pub struct Hub {
    store: Arc<dyn Store>,
    trust: Arc<Trust>,
    clock: Arc<dyn Clock>,
    numbering: Numbering,
    operator: Option<(Sid, String)>,
    callbacks: Option<Callbacks>,
    /// The live signing identities, when this server signs with them.
    identities: Option<Arc<Identities>>,
    /// Whether trunks may verify (the server has a verifier).
    verifies: bool,
    /// Which addresses origination URLs may name.
    origination_policy: FetchPolicy,
    /// The realm credentials' digests are made in.
    digest_realm: String,
    write_lock: Mutex<()>,
    /// On a shared store: the `seq` of the last change-log entry in the index.
    applied: AtomicI64,
    /// The accounts that authenticated, as the store last said: who may still read
    /// while the database is unreachable. A write to an account drops it.
    seen: dashmap::DashMap<Sid, Seen>,
    /// Counts [`Hub::forget_seen`]s, so that a read racing a write is not kept.
    seen_generation: std::sync::atomic::AtomicU64,
    /// Automated vetting, the review queue's deadlines and the review log's metrics.
    vetting: Option<Arc<vetting::Vetting>>,
}

/// What authenticating an account needs, kept from its last read.
#[derive(Debug, Clone)]
struct Seen {
    token: String,
    /// The second token, while it has one.
    secondary: Option<String>,
    /// It, and its parent if it has one, are active.
    active: bool,
    parent: Option<Sid>,
}

/// Compares secrets in time that depends only on their lengths.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Hub {
    /// The service around `store` and `trust`, reading `clock`; status changes are
    /// reported through `callbacks` when given.
    pub fn new(
        store: Arc<dyn Store>,
        trust: Arc<Trust>,
        clock: Arc<dyn Clock>,
        numbering: Numbering,
        operator: Option<(Sid, String)>,
        callbacks: Option<Callbacks>,
    ) -> Hub {
        Hub {
            store,
            trust,
            clock,
            numbering,
            operator,
            callbacks,
            identities: None,
            verifies: false,
            origination_policy: FetchPolicy::default(),
            digest_realm: crate::trust::DIGEST_REALM.to_owned(),
            write_lock: Mutex::new(()),
            applied: AtomicI64::new(0),
            seen: dashmap::DashMap::new(),
            seen_generation: Default::default(),
            vetting: None,
        }
    }

    /// The service managing `identities` (the signing identities the proxy signs with).
    pub fn with_identities(mut self, identities: Arc<Identities>) -> Hub {
        self.identities = Some(identities);
        self
    }

    /// The service on the wall clock, with its status callbacks started on the current
    /// Tokio runtime, tracked by `tasks` until `shutdown`.
    pub fn start(
        settings: HubSettings,
        store: Arc<dyn Store>,
        trust: Arc<Trust>,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Hub, CallbackError> {
        let callbacks = Callbacks::start(
            settings.callbacks,
            settings.callback_policy,
            tasks,
            shutdown,
        )?;
        let mut hub = Hub::new(
            store,
            trust,
            Arc::new(SystemClock),
            settings.numbering,
            settings.operator,
            Some(callbacks),
        );
        hub.verifies = settings.verifies;
        hub.origination_policy = settings.origination_policy;
        hub.digest_realm = settings.digest_realm;
        Ok(hub)
    }

    /// The live index the proxy reads.
    pub fn trust(&self) -> &Arc<Trust> {
        &self.trust
    }

    /// How numbers in requests are canonicalized.
    pub fn numbering(&self) -> &Numbering {
        &self.numbering
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Seconds since the epoch, on the service's clock.
    pub fn now_unix(&self) -> i64 {
        self.clock.now_unix()
    }

    /// The record date of a write made now.
    pub(crate) fn now_text(&self) -> String {
        clock::rfc3339(self.now_unix())
    }

    /// Basic auth: the operator's credential, or an active account's SID and token.
    pub fn authenticate(&self, credentials: Option<&(String, String)>) -> Result<Caller, HubError> {
        let (user, password) = credentials.ok_or(HubError::Unauthenticated)?;
        if let Some((sid, token)) = &self.operator
            && same_secret(&sid.to_string(), user)
        {
            return if same_secret(token, password) {
                Ok(Caller::Operator)
            } else {
                Err(HubError::Unauthenticated)
            };
        }
        let sid = Sid::parse(user, "AC").map_err(|_| HubError::Unauthenticated)?;
        let generation = self.seen_generation.load(Ordering::Acquire);
        let seen = match self.store.account(sid) {
            Ok(account) => {
                let account = account.ok_or(HubError::Unauthenticated)?;
                // A sub-account of a suspended account is suspended with it.
                let parent_active = match account.parent() {
                    Some(p) => self
                        .store
                        .account(p)?
                        .is_some_and(|p| p.status == AccountStatus::Active),
                    None => true,
                };
                let seen = Seen {
                    token: account.auth_token.clone().unwrap_or_default(),
                    secondary: account.secondary_auth_token.clone(),
                    active: account.status == AccountStatus::Active && parent_active,
                    parent: account.parent(),
                };
                self.seen.insert(sid, seen.clone());
                if self.seen_generation.load(Ordering::Acquire) != generation {
                    // A write to some account came in meanwhile: this read may be older.
                    self.seen.remove(&sid);
                }
                seen
            }
            // The database is down: an account this node has seen since its last
            // change may go on reading what the index holds.
            Err(e @ StoreError::Unavailable(_)) => match self.seen.get(&sid) {
                Some(seen) => seen.clone(),
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        let primary = !seen.token.is_empty() && same_secret(&seen.token, password);
        let secondary =
            (seen.secondary.as_deref()).is_some_and(|s| !s.is_empty() && same_secret(s, password));
        if !primary && !secondary {
            return Err(HubError::Unauthenticated);
        }
        if !seen.active {
            return Err(HubError::AccountInactive(sid));
        }
        Ok(Caller::Account {
            sid,
            parent: seen.parent,
        })
    }

    /// Forgets what authenticating the accounts `changes` write needs (their next
    /// request reads it from the store again); everything, after a whole reload.
    fn forget_seen(&self, changes: Option<&[Change]>) {
        self.seen_generation.fetch_add(1, Ordering::AcqRel);
        match changes {
            Some(changes) => {
                for change in changes {
                    if let Change::PutAccount(a) = change {
                        self.seen.remove(&a.sid);
                        // Its sub-accounts follow its status.
                        self.seen.retain(|_, s| s.parent != Some(a.sid));
                    }
                }
            }
            None => self.seen.clear(),
        }
    }

    /// `read` from the store or, when the database is unreachable, `from_index` from the
    /// trunking records the index holds (the last state this node saw).
    pub(crate) fn or_index<T>(
        &self,
        read: Result<T, StoreError>,
        from_index: impl FnOnce(&crate::trust::Trunking) -> T,
    ) -> Result<T, HubError> {
        match read {
            Err(StoreError::Unavailable(_)) => Ok(self
                .trust
                .load()
                .with_trunking(|records| from_index(records))),
            other => Ok(other?),
        }
    }

    /// Whether `caller` may see resources of `account`: its own, its sub-accounts'.
    pub fn sees(&self, caller: &Caller, account: Sid) -> bool {
        match caller {
            Caller::Operator => true,
            Caller::Account { sid, .. } => *sid == account || self.parent_of(account) == Some(*sid),
        }
    }

    /// The parent of `account`, from the index.
    pub fn parent_of(&self, account: Sid) -> Option<Sid> {
        self.trust.load().account(account).and_then(|a| a.parent)
    }

    /// The accounts whose resources a list shows: the caller's own (everything for the
    /// operator).
    pub fn list_scope(&self, caller: &Caller) -> Option<Vec<Sid>> {
        match caller {
            Caller::Operator => None,
            Caller::Account { sid, .. } => Some(vec![*sid]),
        }
    }

    /// Serializes writes; hold the guard from the first read a write depends on until
    /// [`Hub::commit`] returns. On a store several nodes share, the guard also holds the
    /// store's write lock, and the index has caught up with every write committed
    /// before it was taken, so the write's rules are checked on the current data.
    pub(crate) fn lock(&self) -> Result<WriteGuard<'_>, HubError> {
        let local = self
            .write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let shared = match self.store.feed() {
            Some(feed) => {
                let shared = feed.lock_writes()?;
                self.catch_up_locked(feed)?;
                Some(shared)
            }
            None => None,
        };
        Ok(WriteGuard {
            _shared: shared,
            _local: local,
        })
    }

    /// Applies the writes other nodes committed after the last one the index has, in
    /// order; a whole replaced data set, or a change that does not fit the index,
    /// rebuilds it. Call with both locks held ([`Hub::lock`]).
    fn catch_up_locked(&self, feed: &dyn crate::store::Feed) -> Result<(), StoreError> {
        let from = self.applied.load(Ordering::Acquire);
        let mut identities = false;
        for (seq, changes) in feed.changes_after(from)? {
            let Some(changes) = changes else {
                return self.rebuild_from_feed(feed);
            };
            self.forget_seen(Some(&changes));
            self.follow_approvals(Some(&changes));
            let index = self.trust.load();
            for change in &changes {
                identities |= matches!(
                    change,
                    Change::PutSigningIdentity(_) | Change::DeleteSigningIdentity(_)
                );
                if let Err(e) = index.apply(change) {
                    warn!(error = %e, seq, "a change from the feed does not fit the index; rebuilding from the store");
                    drop(index);
                    return self.rebuild_from_feed(feed);
                }
            }
            self.applied.store(seq, Ordering::Release);
        }
        if identities {
            self.sync_identities();
        }
        Ok(())
    }

    fn rebuild_from_feed(&self, feed: &dyn crate::store::Feed) -> Result<(), StoreError> {
        feed.reset();
        let head = feed.head()?;
        self.rebuild_locked()?;
        self.applied.store(head, Ordering::Release);
        Ok(())
    }

    /// The `seq` of the last write of the shared store's change log in the index.
    pub fn applied_seq(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Sets where the index stands in the store's change log: the head read before the
    /// index was built (writes after it may be in the index already; applying them
    /// again is harmless, or rebuilds).
    pub fn with_feed_position(self, seq: i64) -> Hub {
        self.applied.store(seq, Ordering::Release);
        self
    }

    /// Catches the index up with the other nodes' writes now (what the follower does on
    /// each notification and poll).
    pub fn catch_up(&self) -> Result<(), HubError> {
        self.lock().map(drop)
    }

    /// Commits `write` to the store, then derives the index update from each change and
    /// queues the status callbacks. Call with the guard from [`Hub::lock`] held.
    pub(crate) fn commit(&self, _guard: &WriteGuard<'_>, write: Write) -> Result<(), HubError> {
        // Trunking changes build the trunking table once for the whole write, not once
        // each (a closing account deletes many records at once).
        let index = self.trust.load_full();
        let prepared = match write.changes.iter().any(Change::is_trunking) {
            true => Some(
                index
                    .prepare_trunking(&write.changes)
                    .map_err(|e| HubError::Trunking(Box::new(e)))?,
            ),
            false => None,
        };
        self.store.apply_with(&write.changes, &write.files)?;
        self.forget_seen(Some(&write.changes));
        let installed = prepared.is_some_and(|p| index.install_trunking(p));
        for change in &write.changes {
            if installed && change.is_trunking() {
                continue;
            }
            if let Err(e) = index.apply(change) {
                // The store is the system of record: rebuild rather than run on a
                // diverged index.
                error!(error = %e, sid = %change.sid(), "index update failed after commit; rebuilding from the store");
                drop(index);
                self.rebuild_locked()?;
                break;
            }
        }
        self.follow_approvals(Some(&write.changes));
        if let Some(callbacks) = &self.callbacks {
            for change in write.callbacks {
                callbacks.notify(change);
            }
        }
        Ok(())
    }

    fn rebuild_locked(&self) -> Result<usize, StoreError> {
        let index = store::rebuild_index(self.store.as_ref())?;
        self.forget_seen(None);
        self.follow_approvals(None);
        let numbers = index.len_numbers();
        self.trust.replace(index);
        self.sync_identities();
        Ok(numbers)
    }

    /// Rebuilds the index from the store (SIGHUP), between writes.
    pub fn reload(&self) -> Result<usize, StoreError> {
        let _guard = self.lock().map_err(|e| match e {
            HubError::Store(e) => e,
            other => StoreError::Backend(other.to_string()),
        })?;
        if let Some(feed) = self.store.feed() {
            feed.reset();
        }
        let head = self.store.feed().map(|feed| feed.head()).transpose()?;
        let numbers = self.rebuild_locked()?;
        if let Some(head) = head {
            self.applied.store(head, Ordering::Release);
        }
        Ok(numbers)
    }

    /// The index as the store would rebuild it now, for tests that compare it with the
    /// live one.
    #[cfg(test)]
    pub(crate) fn rebuilt(&self) -> Result<crate::trust::Index, StoreError> {
        store::rebuild_index(self.store.as_ref())
    }
}

/// A fresh random SID of the given kind, e.g. `new_sid(*b"AC")`.
pub(crate) fn new_sid(prefix: [u8; 2]) -> Sid {
    Sid::from_parts(prefix, uuid::Uuid::new_v4().as_u128())
}

/// A fresh auth token: 32 lowercase hex digits.
pub(crate) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests;
