//! Trust data and attestation, free of I/O: the Trust Hub records, their rules, the
//! in-memory [`Index`] that answers per-call lookups, and [`Index::attest`].
//!
//! - [`model`]: the records (Twilio field names) and [`TrustData`], the file's shape.
//! - [`rules`]: the Trust Hub's rules, once: what may link to what, whose numbers a
//!   bundle holds, status transitions, policy requirements.
//! - [`Change`]: one committed mutation; the store persists it and [`Index::apply`]
//!   derives the index update from it.
//! - `graph`: validation ([`TrustData::from_json`]) and resolution of references to
//!   dense ids; `check`: the same validation a list at a time ([`Checker`]), for a file
//!   that streams past.
//! - [`index`]: the number map plus a swappable graph snapshot; [`Trust`] swaps whole
//!   indexes.
//! - [`documents`]: supporting documents, their statuses, types and files.
//! - [`trunking`]: trunks, IP access control lists and the source-address table.
//! - [`signing`]: signing identities and the trunks and accounts they sign for.
//! - [`attest`]: DESIGN.md's attestation rules, the level as [`crate::passport::Attest`], [`Reason`], [`Attestation`].

pub mod attest;
mod change;
mod check;
pub mod documents;
mod graph;
pub mod index;
pub mod model;
pub mod review_log;
pub mod rules;
mod sid;
pub mod signing;
pub mod trunking;

use std::sync::Arc;

use arc_swap::ArcSwap;
use thiserror::Error;

use crate::tn::{Tn, TnError};

pub use attest::{Attestation, Reason};
pub use change::Change;
pub use check::Checker;
pub use documents::{DocumentFile, DocumentStatus, SupportingDocument};
pub use index::{AccountInfo, BundleInfo, Index, NumberInfo, TrunkFor};
pub use model::{
    Account, AccountStatus, Bundle, BundleKind, BundleStatus, ChannelEndpointAssignment,
    CustomerProfile, EndUser, EntityAssignment, Evaluation, PhoneNumber, Policy, SuspensionCause,
    TrustData, TrustProduct,
};
pub use review_log::{Decider, ReviewEntry};
pub use rules::{AssignError, LinkError, TransitionError};
pub use sid::{Sid, SidError};
pub use signing::{SigningAssignment, SigningIdentity};
pub use trunking::{
    CallLimit, Credential, CredentialList, DIGEST_REALM, DomainTrunk, IpAccessControlList,
    IpAddress, LevelGate, OriginationTarget, OriginationUrl, RequestedLevel, SignPolicy,
    SigningFailure, TableError, Trunk, TrunkAcl, TrunkCredentialList, TrunkHit,
    TrunkIdentityPolicy, TrunkPhoneNumber, TrunkRole, TrunkTable, Trunking,
};

/// Why trust data could not be loaded, or an index update was refused. Each message names
/// the SID and field at fault. A load error should stop start-up (or keep the old index on
/// a reload); an update error is the client's fault (HTTP 4xx in the Trust Hub API).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustError {
    #[error("trust data does not match the model: {0}")]
    Json(String),
    #[error("{field} of {sid} must be a {expected}… SID, found {found}")]
    WrongSidKind {
        sid: Sid,
        field: &'static str,
        expected: &'static str,
        found: Sid,
    },
    #[error("SID {0} appears more than once")]
    DuplicateSid(Sid),
    #[error("{field} of {sid} names unknown account {account}")]
    UnknownAccount {
        sid: Sid,
        field: &'static str,
        account: Sid,
    },
    #[error(
        "account {account} has parent {parent}, which is itself a sub-account; only one level of sub-accounts is allowed"
    )]
    NestedSubAccount { account: Sid, parent: Sid },
    #[error("phone_number of {sid} is `{number}`, not E.164 with a leading '+'")]
    NotE164 { sid: Sid, number: String },
    #[error("phone_number of {sid} is `{number}`: {error}")]
    InvalidNumber {
        sid: Sid,
        number: String,
        error: TnError,
    },
    #[error("number {number} is owned twice, by {first} and {second}")]
    NumberOwnedTwice { number: Tn, first: Sid, second: Sid },
    #[error("policy_sid of {sid} is {policy}, which is not a policy callsign knows")]
    UnknownPolicy { sid: Sid, policy: Sid },
    #[error("{sid} is listed as a {listed} but has the {policy} policy")]
    WrongPolicy {
        sid: Sid,
        listed: &'static str,
        policy: Policy,
    },
    #[error("assignment {assignment} names unknown bundle {bundle}")]
    UnknownBundle { assignment: Sid, bundle: Sid },
    #[error("assignment {assignment} names unknown object {object}")]
    UnknownObject { assignment: Sid, object: Sid },
    #[error("the file of supporting document {sid} {why}")]
    DocumentFile { sid: Sid, why: String },
    #[error("entity assignment {assignment} cannot link {bundle} to {object}: {why}")]
    InvalidLink {
        assignment: Sid,
        bundle: Sid,
        object: Sid,
        why: LinkError,
    },
    #[error(
        "channel endpoint assignment {assignment} has type `{found}`; only `phone-number` is supported"
    )]
    UnsupportedChannelEndpoint { assignment: Sid, found: String },
    #[error("{0}")]
    Assignment(#[from] AssignError),
    #[error("unknown {kind} {sid}")]
    NotFound { kind: &'static str, sid: Sid },
    #[error("number {0} is not in the index")]
    NumberNotFound(Tn),
    #[error("too many {0} for the index")]
    TooMany(&'static str),
    #[error("{0}")]
    Trunking(#[from] TableError),
    #[error("{0}")]
    Range(#[from] trunking::RangeError),
    #[error(
        "trunk {0} verifies (Role verify): it takes calls from its IP access lists, not on credentials"
    )]
    VerifyingTrunkCredentials(Sid),
    #[error("{0}")]
    SipUrl(#[from] trunking::SipUrlError),
    #[error("trunk {0}: its origination URLs must all use one transport (UDP or TCP)")]
    MixedTransports(Sid),
    #[error(
        "trunk {trunk} signs (Role sign), so it takes no phone numbers ({number}): calls to a number are delivered through a trunk with Role verify"
    )]
    NumberOnSigningTrunk { trunk: Sid, number: Sid },
    #[error("phone number {0} is on two trunks; a number is on one trunk at most")]
    NumberOnTwoTrunks(Sid),
    #[error("{0} already has a signing identity")]
    AssignedTwice(Sid),
    #[error("credential list {list} holds username {username} twice")]
    DuplicateUsername { list: Sid, username: String },
    #[error("{what} {sid} names {field} {target}, which is not a {expected} of account {account}")]
    TrunkingReference {
        what: &'static str,
        sid: Sid,
        field: &'static str,
        target: Sid,
        expected: &'static str,
        account: Sid,
    },
}

/// The live trust index behind a lock-free pointer: readers take a snapshot with
/// [`Trust::load`] and never block; a reload builds a new [`Index`] and [`Trust::replace`]s it.
pub struct Trust {
    current: ArcSwap<Index>,
}

impl Trust {
    pub fn new(index: Index) -> Trust {
        Trust {
            current: ArcSwap::from_pointee(index),
        }
    }

    /// The current index, for one call (cheap; do not hold it across awaits for long).
    pub fn load(&self) -> arc_swap::Guard<Arc<Index>> {
        self.current.load()
    }

    /// The current index as an owned `Arc`.
    pub fn load_full(&self) -> Arc<Index> {
        self.current.load_full()
    }

    /// Makes `index` current; calls already holding the old one finish with it.
    pub fn replace(&self, index: Index) {
        self.current.store(Arc::new(index));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Trust>();
        send_sync::<Index>();
    }

    #[test]
    fn replace_is_seen_by_the_next_load_but_not_by_held_snapshots() {
        let trust = Trust::new(Index::default());
        let before = trust.load_full();
        let json = r#"{"accounts":[{"sid":"AC00000000000000000000000000000001"}],
            "phone_numbers":[{"sid":"PN00000000000000000000000000000001",
            "account_sid":"AC00000000000000000000000000000001","phone_number":"+12155550121"}]}"#;
        let data = TrustData::from_json(json).unwrap();
        trust.replace(Index::build(&data).unwrap());
        assert_eq!(before.len_numbers(), 0);
        assert_eq!(trust.load().len_numbers(), 1);
    }
}
