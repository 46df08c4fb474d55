//! The verification error table of ATIS-1000082 (E1 to E19): for each way an Identity
//! header can fail, the SIP status and reason phrase it answers with and the `verstat`
//! it gives. This is the one place that mapping lives; reports, verdicts, the proxy's
//! `Reason` header and its refusals all read it from here. Pure.
//!
//! Sources:
//! - ATIS-1000082 (SHAKEN APIs for a centralized signing and signature validation
//!   server), the verification error cases E1 to E19, as implemented by
//!   martinisecurity/vermouth (`authVerifyServer.go`, one comment per error case).
//! - ATIS-1000074 section 5.3.2 (verification error conditions): the five responses and
//!   their use in a `Reason` header; a missing base or SHAKEN claim is 438.
//! - RFC 8224 section 6.2.2 (436 when the credential cannot be acquired, 437 when it is
//!   held but not supported, 438 when no Identity header carries a valid PASSporT, 403
//!   Stale Date for a Date or `iat` outside the freshness window) and section 13 (the
//!   reason phrases `Bad Identity Info` and `Unsupported Credential` that replace
//!   RFC 4474's `Bad Identity-Info` and `Unsupported Certificate`).
//!
//! | E   | condition                                        | SIP                         | verstat              |
//! |-----|--------------------------------------------------|-----------------------------|----------------------|
//! | E1  | no Identity header (REST: mandatory parameter missing) | none: not a failure   | No-TN-Validation     |
//! | E2  | Identity header or JWS cannot be parsed          | 438 Invalid Identity Header | No-TN-Validation     |
//! | E3  | Date header outside the freshness window         | 403 Stale Date              | No-TN-Validation     |
//! | E4  | compact form instead of the full form            | 438 Invalid Identity Header | No-TN-Validation     |
//! | E5  | Identity `ppt` parameter is not `shaken`         | 438 Invalid Identity Header | No-TN-Validation     |
//! | E6  | `info` parameter missing                         | 436 Bad Identity Info       | No-TN-Validation     |
//! | E7  | `info` URI invalid (or refused by fetch policy)  | 436 Bad Identity Info       | No-TN-Validation     |
//! | E8  | `info` URI cannot be dereferenced                | 436 Bad Identity Info       | No-TN-Validation     |
//! | E9  | `alg`, `ppt`, `typ` or `x5u` missing from the header | 436 Bad Identity Info   | No-TN-Validation     |
//! | E10 | `x5u` does not equal `info`                      | 436 Bad Identity Info       | No-TN-Validation     |
//! | E11 | `typ` is not `passport`                          | 437 Unsupported Credential  | No-TN-Validation     |
//! | E12 | `alg` is not `ES256`                             | 437 Unsupported Credential  | No-TN-Validation     |
//! | E13 | `ppt` claim is not `shaken`                      | 438 Invalid Identity Header | No-TN-Validation     |
//! | E14 | a mandatory claim is missing (or ill-typed)      | 438 Invalid Identity Header | No-TN-Validation     |
//! | E15 | `iat` outside the freshness window               | 403 Stale Date              | No-TN-Validation     |
//! | E16 | `orig` or `dest` does not match the request      | 438 Invalid Identity Header | No-TN-Validation     |
//! | E17 | the certificate cannot be authenticated (chain, CA, validity, revocation, TNAuthList) | 437 Unsupported Credential | TN-Validation-Failed |
//! | E18 | the signature does not verify                    | 438 Invalid Identity Header | TN-Validation-Failed |
//! | E19 | `attest` is not A, B or C                        | 438 Invalid Identity Header | No-TN-Validation     |
//!
//! E1 and E2 are, in ATIS-1000082's REST API, HTTP 400 service exceptions about the
//! request body rather than SIP answers. In SIP, E1 is a request with no Identity header
//! ([`super::Verdict::no_validation`]: `No-TN-Validation`, no code), and E2 is RFC 8224's
//! 438 for an Identity header that carries no valid PASSporT.

use std::fmt;

use serde::Serialize;

use super::Verstat;

/// One verification failure: a row of the ATIS-1000082 table, E2 to E19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// E2: the Identity header or its JWS cannot be parsed.
    Malformed,
    /// E3: the request's Date header is outside the freshness window.
    StaleDate,
    /// E4: the Identity header carries the compact form.
    CompactForm,
    /// E5: the Identity header's `ppt` parameter is not `shaken`.
    PptParam,
    /// E6: the Identity header has no `info` parameter.
    MissingInfo,
    /// E7: the `info` URI is not a valid URI, or the fetch policy refuses it.
    InvalidInfo,
    /// E8: the certificate at the `info` URI cannot be fetched.
    Dereference,
    /// E9: the protected header lacks `alg`, `ppt`, `typ` or `x5u`.
    MissingHeaderClaim,
    /// E10: the protected header's `x5u` is not the `info` URI.
    InfoMismatch,
    /// E11: `typ` is not `passport`.
    Typ,
    /// E12: `alg` (in the protected header, or the Identity parameter) is not `ES256`.
    Alg,
    /// E13: the protected header's `ppt` is not `shaken`.
    Ppt,
    /// E14: a mandatory claim is missing or not of its type.
    MissingClaim,
    /// E15: `iat` is outside the freshness window.
    StaleIat,
    /// E16: `orig` or `dest` does not match the request.
    NumberMismatch,
    /// E17: the certificate cannot be authenticated: no path to a trusted root, not
    /// valid, revoked, or no TNAuthList; or, a delegate certificate (RFC 9060), no
    /// STI-SCA above it or `orig` not among its numbers.
    Credential,
    /// E18: the signature does not verify with the certificate's key.
    Signature,
    /// E19: `attest` is not A, B or C.
    Attest,
}

/// A row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The E number, 2 to 19.
    pub e: u8,
    /// The SIP status code.
    pub code: u16,
    /// The verstat the calling party gets.
    pub verstat: Verstat,
    /// What went wrong, in ATIS-1000082's words.
    pub condition: &'static str,
}

impl Failure {
    pub const ALL: [Failure; 18] = [
        Failure::Malformed,
        Failure::StaleDate,
        Failure::CompactForm,
        Failure::PptParam,
        Failure::MissingInfo,
        Failure::InvalidInfo,
        Failure::Dereference,
        Failure::MissingHeaderClaim,
        Failure::InfoMismatch,
        Failure::Typ,
        Failure::Alg,
        Failure::Ppt,
        Failure::MissingClaim,
        Failure::StaleIat,
        Failure::NumberMismatch,
        Failure::Credential,
        Failure::Signature,
        Failure::Attest,
    ];

    /// The table (see the module documentation for its sources).
    pub const fn row(self) -> Row {
        use Verstat::{Failed, NoValidation as No};
        let (e, code, verstat, condition) = match self {
            Failure::Malformed => (2, 438, No, "Identity header cannot be parsed"),
            Failure::StaleDate => (3, 403, No, "Date header is not fresh"),
            Failure::CompactForm => (4, 438, No, "Identity header in compact form"),
            Failure::PptParam => (5, 438, No, "Identity ppt parameter is not shaken"),
            Failure::MissingInfo => (6, 436, No, "missing info parameter"),
            Failure::InvalidInfo => (7, 436, No, "invalid info URI"),
            Failure::Dereference => (8, 436, No, "failed to dereference info URI"),
            Failure::MissingHeaderClaim => (9, 436, No, "missing PASSporT header claim"),
            Failure::InfoMismatch => (10, 436, No, "x5u does not match info"),
            Failure::Typ => (11, 437, No, "typ is not passport"),
            Failure::Alg => (12, 437, No, "alg is not ES256"),
            Failure::Ppt => (13, 438, No, "ppt is not shaken"),
            Failure::MissingClaim => (14, 438, No, "missing mandatory claim"),
            Failure::StaleIat => (15, 403, No, "iat is not fresh"),
            Failure::NumberMismatch => (16, 438, No, "orig or dest does not match"),
            Failure::Credential => (17, 437, Failed, "failed to authenticate CA"),
            Failure::Signature => (18, 438, Failed, "signature validation failed"),
            Failure::Attest => (19, 438, No, "attest is not valid"),
        };
        Row {
            e,
            code,
            verstat,
            condition,
        }
    }

    /// The SIP status code.
    pub const fn code(self) -> u16 {
        self.row().code
    }

    pub const fn verstat(self) -> Verstat {
        self.row().verstat
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E{}", self.row().e)
    }
}

impl Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The reason phrase of a verification status code (RFC 8224 section 13).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        403 => "Stale Date",
        436 => "Bad Identity Info",
        437 => "Unsupported Credential",
        438 => "Invalid Identity Header",
        _ => "Verification Failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_its_own_e_number_in_order() {
        let numbers: Vec<u8> = Failure::ALL.iter().map(|f| f.row().e).collect();
        assert_eq!(numbers, (2..=19).collect::<Vec<u8>>());
        assert_eq!(Failure::Credential.to_string(), "E17");
        assert_eq!(
            serde_json::to_value(Failure::Malformed).unwrap(),
            serde_json::json!("E2")
        );
    }

    #[test]
    fn reason_phrases_are_rfc_8224s() {
        assert_eq!(reason_phrase(436), "Bad Identity Info");
        assert_eq!(reason_phrase(437), "Unsupported Credential");
        assert_eq!(reason_phrase(438), "Invalid Identity Header");
        assert_eq!(reason_phrase(403), "Stale Date");
    }
}
