//! The STIR/SHAKEN verification service (RFC 8224 section 6.2, ATIS-1000074): the eleven
//! checks of an Identity header, each reported on its own and mapped to a SIP status code
//! and a `verstat` value.
//!
//! Map of the files:
//!
//! - `token` (pure): parsing the Identity header and JWS (steps 1, 2), claims, freshness
//!   and numbers (7 to 10) and the signature (11).
//! - `credential` (pure): what one x5u document yields (the path to the trust anchors,
//!   the leaf key, the TNAuthList), checked per call for steps 4 to 6.
//! - `failure` (pure): [`Failure`], the ATIS-1000082 error table (E1 to E19): each
//!   failure's SIP status, reason phrase and `verstat`, in one place.
//! - `report` (pure): [`Report`], [`Verstat`], [`Step`].
//! - `expected` (pure): the numbers a SIP request says the PASSporT must carry.
//! - `policy` (pure): the x5u/CRL fetch policy: URL rules, special-purpose addresses,
//!   `Cache-Control`.
//! - `crls` (shell): the CRLs, fetched on first need, refreshed in the background before
//!   their nextUpdate, and cached on disk.
//! - `fetch` (shell): the HTTP client with that policy, and a cache that fetches each
//!   URL at most once at a time.
//! - `steps` (pure): the steps that need no fetching, recorded into a report.
//! - `trust_list` (shell around pure checks): the STI-PA's list of approved STI-CA
//!   roots, `[verify] trust_list`: its forms, the checks of every entry, when it is due,
//!   and its copy on disk.
//! - `verdict` (pure): [`Verdict`], what all the Identity headers of a request conclude.
//! - `verifier` (shell): [`Verifier`], which runs the steps with fetching in between.

mod credential;
mod crls;
mod expected;
mod failure;
mod fetch;
mod policy;
mod report;
mod steps;
mod token;
mod trust_list;
mod verdict;
mod verifier;

pub use credential::{Authority, Credential};
pub use crls::{CrlRefresh, CrlStatus};
pub use expected::{
    ConflictingCaller, Expected, calling_number, expected_from_message, identity_values,
};
pub use failure::{Failure, Row, reason_phrase};
pub use fetch::outbound_client;
pub use policy::{
    FetchError, FetchPolicy, MAX_CALLBACK_URL, cache_ttl, check_address, check_callback_url,
    check_url, is_special_purpose,
};
pub use report::{Outcome, Report, Step, StepReport, Verstat};
pub use token::{
    ReceivedClaims, Token, TokenError, check_attest, check_date, check_freshness, check_numbers,
};
pub use trust_list::{
    EntryProblem, JwtProblem, ListSigners, MAX_BYTES as TRUST_LIST_MAX_BYTES,
    RETRY_SECS as TRUST_LIST_RETRY_SECS, RootList, TrustList, TrustListError, TrustListSettings,
    TrustListSource, check_list,
};
pub use verdict::Verdict;
pub use verifier::{CrlMode, UnknownCrlMode, Verifier, VerifySettings};

/// Errors from building a [`Verifier`]. Verification itself never fails: it returns a
/// [`Report`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    #[error("trust anchors: {0}")]
    Anchors(#[from] crate::certs::CertError),
    #[error("CRL signers: {0}")]
    CrlSigners(crate::certs::CertError),
    #[error("no trust anchors given: verification needs at least one trusted root")]
    NoAnchors,
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("freshness must be between 1 and 86400 seconds, got {0}")]
    Freshness(i64),
}
