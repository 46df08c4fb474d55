//! PASSporT (RFC 8225 with the SHAKEN extension of RFC 8588): claims, canonical JSON,
//! ES256 signing with a key prepared at start-up.

mod claims;
mod signer;

use std::fmt;

pub use claims::{Claims, header_json, payload_json};
pub use signer::{ExternalKey, Signer};

/// SHAKEN attestation level (RFC 8588 section 4): full (A), partial (B) or gateway (C).
///
/// The one type for the level: the trust layer decides it (`trust::Attestation`), this
/// module encodes it, metrics label calls with it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Attest {
    A,
    B,
    C,
}

impl Attest {
    pub const ALL: [Attest; 3] = [Attest::A, Attest::B, Attest::C];

    /// The claim value: `"A"`, `"B"` or `"C"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Attest::A => "A",
            Attest::B => "B",
            Attest::C => "C",
        }
    }
}

impl fmt::Display for Attest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level other than `A`, `B` or `C`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attestation level must be A, B or C, got {0:?}")]
pub struct UnknownAttest(pub String);

impl std::str::FromStr for Attest {
    type Err = UnknownAttest;

    fn from_str(s: &str) -> Result<Attest, UnknownAttest> {
        match s {
            "A" => Ok(Attest::A),
            "B" => Ok(Attest::B),
            "C" => Ok(Attest::C),
            other => Err(UnknownAttest(other.to_owned())),
        }
    }
}

/// Errors from building a signer or signing: configuration or internal failures, so the
/// proxy answers 500 and does not forward unsigned. Checking a received PASSporT is
/// `verify`'s work ([`crate::verify::Token`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    #[error("signing key rejected for ES256: {0}")]
    KeyRejected(String),
    #[error(
        "x5u must be a non-empty URI without spaces, control characters, quotes or angle brackets"
    )]
    InvalidX5u,
    #[error("ES256 signing failed")]
    Signing,
    /// The signing time is outside the certificate's validity: no PASSporT may name it.
    #[error(
        "the signing certificate is not valid at {iat} (valid from {not_before} to {not_after}, unix time)"
    )]
    CertificateNotValid {
        iat: i64,
        not_before: i64,
        not_after: i64,
    },
    /// The signing certificate is a delegate certificate (RFC 9060) and `orig` is none
    /// of its numbers: a verifier would refuse the PASSporT (437).
    #[error("orig {orig} is not among the numbers of the signing (delegate) certificate")]
    OrigNotCovered { orig: String },
}
