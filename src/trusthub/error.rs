//! [`HubError`]: why the Trust Hub service refused a request, one variant per problem.
//! The HTTP layer maps each to Twilio's status and error code in one place
//! (`api::error`).

use thiserror::Error;

use crate::store::StoreError;
use crate::tn::TnError;
use crate::trust::rules::ValueError;
use crate::trust::{AssignError, BundleKind, BundleStatus, LinkError, Sid, TrustError};
use crate::verify::FetchError;

/// What the caller asked for that does not exist, or that it may not see (the two look
/// the same from outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Account(Sid),
    Number(Sid),
    Bundle(Sid),
    EndUser(Sid),
    EndUserType(Sid),
    SupportingDocument(Sid),
    SupportingDocumentType(Sid),
    /// An entity assignment, channel endpoint assignment or evaluation of a bundle.
    BundleChild {
        bundle: Sid,
        sid: Sid,
    },
    Policy(Sid),
    Trunk(Sid),
    SigningIdentity(Sid),
    IpAccessControlList(Sid),
    CredentialList(Sid),
    /// An address of a list, or a list of a trunk.
    Child {
        parent: Sid,
        sid: Sid,
    },
    /// The secondary auth token of an account.
    SecondaryToken(Sid),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Account(sid)
            | Missing::Number(sid)
            | Missing::Bundle(sid)
            | Missing::EndUser(sid)
            | Missing::EndUserType(sid)
            | Missing::SupportingDocument(sid)
            | Missing::SupportingDocumentType(sid)
            | Missing::Policy(sid)
            | Missing::Trunk(sid)
            | Missing::SigningIdentity(sid)
            | Missing::IpAccessControlList(sid)
            | Missing::CredentialList(sid) => write!(f, "{sid}"),
            Missing::BundleChild { bundle, sid } => write!(f, "{sid} of {bundle}"),
            Missing::Child { parent, sid } => write!(f, "{sid} of {parent}"),
            Missing::SecondaryToken(sid) => write!(f, "the secondary auth token of {sid}"),
        }
    }
}

/// Why the Trust Hub service refused a request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HubError {
    /// No credentials, an unknown account or a wrong token.
    #[error("Authentication Error - invalid username or password")]
    Unauthenticated,
    #[error("Account {0} is not active")]
    AccountInactive(Sid),
    #[error("Only the operator may {0}")]
    OperatorOnly(&'static str),
    #[error("The operator has no Trust Hub resources of its own; create them as the account")]
    OperatorHasNoResources,
    #[error("A sub-account cannot create sub-accounts")]
    SubAccountCannotCreate,
    #[error("An account cannot change its own status; its parent or the operator can")]
    OwnStatus,
    #[error("SuspensionCause goes with Status=suspended")]
    CauseWithoutSuspension,
    #[error("The account {0}")]
    SecondaryToken(&'static str),
    #[error("Account {0} is closed; a closed account cannot be reopened or given anything new")]
    AccountClosed(Sid),
    /// Absent, or not visible to the caller (existence is not revealed).
    #[error("The requested resource {0} was not found")]
    NotFound(Missing),
    #[error("Phone number {0} is not a valid E.164 number")]
    InvalidPhoneNumber(String),
    #[error("Phone number {0} already exists")]
    PhoneNumberExists(String),
    #[error("PhoneNumber {number:?}: {error}")]
    CallingNumber { number: String, error: TnError },
    #[error("Bundle {sid} is {status} and cannot be edited")]
    NotEditable { sid: Sid, status: BundleStatus },
    #[error("Only the operator may set status {0}")]
    StatusForOperator(BundleStatus),
    #[error("Status: bundle {sid} cannot go from {from} to {to}")]
    IllegalTransition {
        sid: Sid,
        from: BundleStatus,
        to: BundleStatus,
    },
    #[error("Bundle {sid} is noncompliant and cannot be submitted: {}", missing.join("; "))]
    Noncompliant { sid: Sid, missing: Vec<String> },
    #[error("PolicySid {policy} is not a {} policy; see /v1/Policies", kind.name())]
    PolicyKind { policy: Sid, kind: BundleKind },
    #[error("PolicySid {policy} is not the policy of {bundle}")]
    PolicyMismatch { policy: Sid, bundle: Sid },
    #[error("ObjectSid: {0}")]
    Link(LinkError),
    #[error("ObjectSid: unknown object {0}")]
    UnknownObject(Sid),
    #[error("ObjectSid: {object} is already assigned to {bundle}")]
    AlreadyLinked { object: Sid, bundle: Sid },
    #[error("{}", assign_message(.0))]
    Assign(AssignError),
    /// The number is already on a bundle of `kind` that the caller may not see (its
    /// parent's), which is not named.
    #[error("ChannelEndpointSid: {pn} is already assigned to another {}", kind.name())]
    AssignedElsewhere { pn: Sid, kind: BundleKind },
    #[error("ChannelEndpointSid: unknown phone number {0}")]
    UnknownNumber(Sid),
    #[error("End user {user} is assigned to {bundle}; remove the entity assignment first")]
    EndUserAssigned { user: Sid, bundle: Sid },
    #[error(
        "Supporting document {document} is assigned to {bundle}; remove the entity assignment first"
    )]
    DocumentAssigned { document: Sid, bundle: Sid },
    /// An uploaded file callsign does not keep: empty, or not a PDF, PNG or JPEG.
    #[error("File: {0}")]
    File(String),
    #[error("{0}")]
    Value(#[from] ValueError),
    /// A trunking write that would leave the records inconsistent: an address that is
    /// not a range, or lists of two trunks that would share an address.
    #[error("{0}")]
    Trunking(Box<TrustError>),
    #[error("{field}: longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: required")]
    Required { field: &'static str },
    #[error("{field}: must be between 1 and {max}")]
    OutOfRange { field: &'static str, max: u32 },
    #[error("MinimumAttestation: must be A, B or C (empty to remove), got {0:?}")]
    MinimumAttestation(String),
    #[error("BelowMinimumStatus: must be 403 or 603, got {0}")]
    BelowMinimumStatus(u16),
    #[error("IdentityPolicy: must be strip, keep or reject (empty for the default), got {0:?}")]
    IdentityPolicy(String),
    #[error("RequestedLevel: must be ceiling or ignore (empty for ceiling), got {0:?}")]
    RequestedLevel(String),
    #[error("{field}: must be true or false, got {value:?}")]
    Flag { field: &'static str, value: String },
    #[error(
        "SigningFailure: must be unsigned or a status from 400 to 699 (empty for the default), got {0:?}"
    )]
    SigningFailure(String),
    #[error("SignPolicy: must be all, unsigned, never or required (empty for all), got {0:?}")]
    SignPolicy(String),
    #[error("UnsignedStatus: must be from 400 to 699, got {0}")]
    UnsignedStatus(u16),
    #[error(
        "SipUrl: {0} is a loopback, private or other special-purpose address, which origination URLs may not name here"
    )]
    OriginationAddress(std::net::IpAddr),
    #[error("Role: {0}")]
    Role(String),
    #[error("Origid: `{0}` is not a UUID")]
    Origid(String),
    #[error("DomainName: `{0}` is not a host name")]
    DomainName(String),
    #[error("DomainName: {0} is already the domain of another trunk")]
    DomainTaken(String),
    #[error("IpAccessControlListSid: unknown IP access control list {0}")]
    UnknownList(Sid),
    #[error("IpAccessControlListSid: {list} is already on trunk {trunk}")]
    ListOnTrunk { list: Sid, trunk: Sid },
    #[error("IpAddress: {address}/{length} is already in {list}")]
    AddressInList {
        list: Sid,
        address: String,
        length: u8,
    },
    /// An overlap with a range of a trunk of an account the caller may not see, which is
    /// not named.
    #[error(
        "IpAddress: {net} overlaps a range another trunk admits: one source address must belong to one trunk"
    )]
    RangeTaken { net: ipnet::IpNet },
    #[error("IpAddress: {list} already holds {max} addresses")]
    ListFull { list: Sid, max: usize },
    #[error("Password: at least 12 characters, with a digit, a lowercase and an uppercase letter")]
    WeakPassword,
    #[error("Username: `{0}` must be 1 to 32 visible characters, without `\"`, `\\` or `:`")]
    Username(String),
    #[error("Username: {list} already holds {max} credentials")]
    CredentialListFull { list: Sid, max: usize },
    #[error("Username: {username} is already in {list}")]
    UsernameTaken { list: Sid, username: String },
    /// A signing identity whose key or chain does not pass (the message names the
    /// parameter and the rule).
    #[error("{0}")]
    Identity(String),
    #[error(
        "Signing identity {sid} is assigned to {assigned} trunks or accounts; remove the assignments first"
    )]
    IdentityAssigned { sid: Sid, assigned: usize },
    #[error("Sid: `{0}` is not a trunk (TK…) or account (AC…) callsign knows")]
    AssignTarget(String),
    #[error("Sid: {target} is already signed for by {identity}; remove that assignment first")]
    AlreadySigned { target: Sid, identity: Sid },
    #[error("At most {max} {what} may exist")]
    TooMany { what: &'static str, max: usize },
    #[error("CredentialListSid: unknown credential list {0}")]
    UnknownCredentialList(Sid),
    #[error("PhoneNumberSid: {0} is not a phone number of the trunk's account")]
    UnknownTrunkNumber(Sid),
    #[error("TrunkSid: {0} is not a trunk of the number's account")]
    UnknownTrunk(Sid),
    #[error(
        "PhoneNumberSid: {number} is already on trunk {trunk}; a number is on one trunk at most"
    )]
    NumberOnTrunk { number: Sid, trunk: Sid },
    #[error("CredentialListSid: {list} is already on trunk {trunk}")]
    CredentialListOnTrunk { list: Sid, trunk: Sid },
    /// A status-callback URL the outbound policy refuses.
    #[error("StatusCallback: {0}")]
    StatusCallback(FetchError),
    #[error("trust store: {0}")]
    Store(#[from] StoreError),
}

/// An assignment refusal, named after the parameter at fault.
fn assign_message(e: &AssignError) -> String {
    match e {
        AssignError::ChannelType(_) => e.to_string(),
        _ => format!("ChannelEndpointSid: {e}"),
    }
}

impl From<LinkError> for HubError {
    fn from(e: LinkError) -> HubError {
        HubError::Link(e)
    }
}

impl From<AssignError> for HubError {
    fn from(e: AssignError) -> HubError {
        HubError::Assign(e)
    }
}
