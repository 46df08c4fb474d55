//! The Trust Hub service behind the HTTP routes: who the caller is, what it may see, and
//! the write path. A write holds one lock while it reads, checks, commits its changes to
//! the store and then applies them to the live index, so that the response goes out only
//! after both, and the next INVITE already sees the change.

use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use tracing::{error, warn};

use super::callbacks::{CallbackError, Callbacks, Retry, StatusChange};
use super::error::ApiError;
use super::request::BodyLimit;
use crate::store::{self, Change, Store, StoreError};
use crate::tn::{Numbering, Tn};
use crate::trust::{AccountStatus, BundleStatus, Policy, Sid, Trust};

/// Who is calling, after basic auth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The operator credential from config: sees everything, reviews bundles, owns numbers.
    Operator,
    /// An account, with its parent when it is a sub-account.
    Account { sid: Sid, parent: Option<Sid> },
}

impl Caller {
    /// The caller's account, or a 403 for the operator (who has no Trust Hub resources).
    pub fn account(&self) -> Result<Sid, ApiError> {
        match self {
            Caller::Account { sid, .. } => Ok(*sid),
            Caller::Operator => Err(ApiError::Forbidden(
                "The operator has no Trust Hub resources of its own; create them as the account"
                    .into(),
            )),
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Caller::Operator)
    }

    /// A 403 unless the caller is the operator.
    pub fn require_operator(&self, action: &str) -> Result<(), ApiError> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "Only the operator may {action}"
            )))
        }
    }
}

/// A change to the live index, applied after the store has committed.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexOp {
    Account {
        sid: Sid,
        parent: Option<Sid>,
    },
    Bundle {
        sid: Sid,
        account: Sid,
        policy: Policy,
        status: BundleStatus,
        valid_until: Option<i64>,
    },
    RemoveBundle(Sid),
    Link {
        assignment: Sid,
        bundle: Sid,
        object: Sid,
    },
    Unlink {
        bundle: Sid,
        object: Sid,
    },
    Number(crate::trust::PhoneNumber),
    RemoveNumber(Tn),
    Assign(Tn, Sid),
    Unassign(Tn, Sid),
}

/// One write: store changes, index operations and status callbacks to send.
#[derive(Debug, Default)]
pub struct Write {
    pub changes: Vec<Change>,
    pub ops: Vec<IndexOp>,
    pub callbacks: Vec<StatusChange>,
}

impl Write {
    /// A write of data the index does not hold (end users, evaluations, account names).
    pub fn store_only(change: Change) -> Write {
        Write {
            changes: vec![change],
            ..Write::default()
        }
    }
}

/// How the Trust Hub service is set up.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// The operator's SID and auth token, when the operator may use the API.
    pub operator: Option<(Sid, String)>,
    pub callbacks: Retry,
    /// Larger request bodies get 413.
    pub body_limit: usize,
    /// How phone numbers in requests are canonicalized.
    pub numbering: Numbering,
}

/// The Trust Hub service.
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub trust: Arc<Trust>,
    pub numbering: Numbering,
    operator: Option<(Sid, String)>,
    callbacks: Option<Callbacks>,
    body_limit: usize,
    write_lock: Mutex<()>,
}

impl BodyLimit for Arc<Hub> {
    fn body_limit(&self) -> usize {
        self.body_limit
    }
}

/// Compares secrets in time that depends only on their lengths.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Hub {
    pub fn new(
        store: Arc<dyn Store>,
        trust: Arc<Trust>,
        numbering: Numbering,
        operator: Option<(Sid, String)>,
        callbacks: Option<Callbacks>,
        body_limit: usize,
    ) -> Hub {
        Hub {
            store,
            trust,
            numbering,
            operator,
            callbacks,
            body_limit,
            write_lock: Mutex::new(()),
        }
    }

    /// The service around `store` and `trust`, with its status callbacks started on the
    /// current Tokio runtime.
    pub fn start(
        settings: HubSettings,
        store: Arc<dyn Store>,
        trust: Arc<Trust>,
    ) -> Result<Hub, CallbackError> {
        let callbacks = Callbacks::start(settings.callbacks)?;
        Ok(Hub::new(
            store,
            trust,
            settings.numbering,
            settings.operator,
            Some(callbacks),
            settings.body_limit,
        ))
    }

    /// Seconds since the epoch.
    pub fn now_unix(&self) -> i64 {
        crate::clock::now_unix()
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.now_unix()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Basic auth: the operator's credential, or an active account's SID and token.
    pub fn authenticate(&self, credentials: Option<&(String, String)>) -> Result<Caller, ApiError> {
        let (user, password) = credentials.ok_or(ApiError::Unauthenticated)?;
        if let Some((sid, token)) = &self.operator
            && same_secret(&sid.to_string(), user)
        {
            return if same_secret(token, password) {
                Ok(Caller::Operator)
            } else {
                Err(ApiError::Unauthenticated)
            };
        }
        let sid = Sid::parse(user, "AC").map_err(|_| ApiError::Unauthenticated)?;
        let account = self.store.account(sid)?.ok_or(ApiError::Unauthenticated)?;
        let token = account.auth_token.as_deref().unwrap_or("");
        if token.is_empty() || !same_secret(token, password) {
            return Err(ApiError::Unauthenticated);
        }
        if account.status != AccountStatus::Active {
            return Err(ApiError::AccountInactive(sid.to_string()));
        }
        Ok(Caller::Account {
            sid,
            parent: account.parent(),
        })
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
    /// [`Hub::commit`] returns.
    pub fn lock(&self) -> MutexGuard<'_, ()> {
        self.write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Commits `write` to the store, then applies it to the index and queues its status
    /// callbacks. Call with the guard from [`Hub::lock`] held.
    pub fn commit(&self, _guard: &MutexGuard<'_, ()>, write: Write) -> Result<(), ApiError> {
        self.store.apply(&write.changes)?;
        let index = self.trust.load();
        for op in &write.ops {
            if let Err(e) = apply(&index, op) {
                // The store is the system of record: rebuild rather than run on a
                // diverged index.
                error!(error = %e, ?op, "index update failed after commit; rebuilding from the store");
                drop(index);
                self.rebuild_locked()?;
                break;
            }
        }
        if let Some(callbacks) = &self.callbacks {
            for change in write.callbacks {
                callbacks.notify(change);
            }
        }
        Ok(())
    }

    fn rebuild_locked(&self) -> Result<usize, StoreError> {
        let index = store::rebuild_index(self.store.as_ref())?;
        let numbers = index.len_numbers();
        self.trust.replace(index);
        Ok(numbers)
    }

    /// Rebuilds the index from the store (SIGHUP), between writes.
    pub fn reload(&self) -> Result<usize, StoreError> {
        let _guard = self.lock();
        self.rebuild_locked()
    }
}

fn apply(index: &crate::trust::Index, op: &IndexOp) -> Result<(), crate::trust::TrustError> {
    match op {
        IndexOp::Account { sid, parent } => index.upsert_account(*sid, *parent),
        IndexOp::Bundle {
            sid,
            account,
            policy,
            status,
            valid_until,
        } => index.upsert_bundle(*sid, *account, *policy, *status, *valid_until),
        IndexOp::RemoveBundle(sid) => index.remove_bundle(*sid),
        IndexOp::Link {
            assignment,
            bundle,
            object,
        } => index.link(*assignment, *bundle, *object),
        IndexOp::Unlink { bundle, object } => index.unlink(*bundle, *object),
        IndexOp::Number(number) => index.upsert_number(number),
        IndexOp::RemoveNumber(tn) => index.remove_number(*tn),
        IndexOp::Assign(tn, bundle) => index.assign_number(*tn, *bundle),
        IndexOp::Unassign(tn, bundle) => index.unassign_number(*tn, *bundle).or_else(|e| {
            warn!(error = %e, "unassign of a number that was not assigned");
            Ok(())
        }),
    }
}

/// A fresh random SID of the given kind.
pub fn new_sid(prefix: &str) -> Result<Sid, ApiError> {
    Sid::from_u128(prefix, uuid::Uuid::new_v4().as_u128())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A fresh auth token: 32 lowercase hex digits.
pub fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;
    use crate::trust::{Index, TrustData};

    const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";
    const SUPPORT: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f802";
    const QUICKDIAL: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f804";
    const OPERATOR: &str = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";

    fn sid(s: &str) -> Sid {
        Sid::parse_any(s).unwrap()
    }

    /// The sample data in an in-memory store, every account's token `t-<last digit>`.
    fn hub() -> Hub {
        let mut data = TrustData::from_json(include_str!("../../config/trust.json")).unwrap();
        for a in &mut data.accounts {
            let last = a.sid.to_string().chars().last().unwrap();
            a.auth_token = Some(format!("t-{last}"));
        }
        data.accounts[3].status = AccountStatus::Suspended;
        let store = SqliteStore::in_memory().unwrap();
        store.seed(&data).unwrap();
        let trust = Arc::new(Trust::new(Index::build(&data).unwrap()));
        let operator = Some((sid(OPERATOR), "operator-secret".to_owned()));
        Hub::new(
            Arc::new(store),
            trust,
            Numbering::default(),
            operator,
            None,
            1024,
        )
    }

    fn creds(user: &str, password: &str) -> Option<(String, String)> {
        Some((user.to_owned(), password.to_owned()))
    }

    #[test]
    fn authenticates_the_operator_and_active_accounts_only() {
        let hub = hub();
        let auth = |u: &str, p: &str| hub.authenticate(creds(u, p).as_ref());
        assert_eq!(auth(OPERATOR, "operator-secret"), Ok(Caller::Operator));
        assert_eq!(auth(OPERATOR, "t-1"), Err(ApiError::Unauthenticated));
        assert_eq!(
            auth(SUPPORT, "t-2"),
            Ok(Caller::Account {
                sid: sid(SUPPORT),
                parent: Some(sid(BLUEBIRD))
            })
        );
        assert_eq!(auth(SUPPORT, "t-1"), Err(ApiError::Unauthenticated));
        assert_eq!(auth("not-a-sid", "t-1"), Err(ApiError::Unauthenticated));
        assert_eq!(
            auth("AC00000000000000000000000000000077", "t-7"),
            Err(ApiError::Unauthenticated)
        );
        assert_eq!(
            auth(QUICKDIAL, "t-4"),
            Err(ApiError::AccountInactive(QUICKDIAL.into()))
        );
        assert_eq!(hub.authenticate(None), Err(ApiError::Unauthenticated));
    }

    #[test]
    fn accounts_see_themselves_and_their_sub_accounts() {
        let hub = hub();
        let parent = Caller::Account {
            sid: sid(BLUEBIRD),
            parent: None,
        };
        let sub = Caller::Account {
            sid: sid(SUPPORT),
            parent: Some(sid(BLUEBIRD)),
        };
        assert!(hub.sees(&parent, sid(BLUEBIRD)) && hub.sees(&parent, sid(SUPPORT)));
        assert!(!hub.sees(&parent, sid(QUICKDIAL)));
        assert!(hub.sees(&sub, sid(SUPPORT)) && !hub.sees(&sub, sid(BLUEBIRD)));
        assert!(hub.sees(&Caller::Operator, sid(QUICKDIAL)));
        assert_eq!(hub.list_scope(&Caller::Operator), None);
        assert_eq!(hub.list_scope(&sub), Some(vec![sid(SUPPORT)]));
    }

    #[test]
    fn a_failed_index_update_rebuilds_the_index_from_the_store() {
        let hub = hub();
        let before = hub.trust.load_full();
        let tn = crate::tn::canonicalize("+19995550100", &Numbering::default()).unwrap();
        let guard = hub.lock();
        // The store change commits; the index refuses the (inconsistent) op.
        let write = Write {
            changes: vec![Change::DeleteNumber(sid(
                "PN3c4d5e6f708192a3b4c5d6e7f80a1b51",
            ))],
            ops: vec![IndexOp::Assign(
                tn,
                sid("BU2b3c4d5e6f708192a3b4c5d6e7f80401"),
            )],
            callbacks: Vec::new(),
        };
        hub.commit(&guard, write).unwrap();
        drop(guard);
        let after = hub.trust.load_full();
        assert!(!Arc::ptr_eq(&before, &after), "the index was replaced");
        assert_eq!(after.len_numbers(), before.len_numbers() - 1);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn new_sids_are_of_their_kind_and_distinct() {
        let a = new_sid("AC").unwrap();
        assert!(a.is("AC"));
        assert_ne!(a, new_sid("AC").unwrap());
        assert_eq!(new_token().len(), 32);
    }

    #[test]
    fn only_the_operator_passes_operator_checks() {
        let account = Caller::Account {
            sid: Sid::from_u128("AC", 1).unwrap(),
            parent: None,
        };
        assert!(account.require_operator("approve").is_err());
        assert!(Caller::Operator.require_operator("approve").is_ok());
        assert!(Caller::Operator.account().is_err());
        assert!(account.account().is_ok());
    }
}
