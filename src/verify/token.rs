//! The PASSporT as received: parsing the Identity header and the JWS (step 1), the
//! protected header (step 2), freshness (7), the claims (8, 9), the numbers (10) and the
//! ES256 signature over the bytes as received (11). Pure: time comes in as an argument.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Expected, Failure};
use crate::sip::{Identity, IdentityError};

/// Why a PASSporT fails one of the token steps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Identity(#[from] IdentityError),
    #[error("PASSporT must be a compact JWS with three dot-separated parts")]
    NotThreeParts,
    #[error("PASSporT {0} is not valid unpadded base64url")]
    Base64(JwsPart),
    #[error("PASSporT {0} is not a JSON object")]
    NotJsonObject(JwsPart),
    #[error("header {0} is missing")]
    MissingHeaderField(&'static str),
    #[error("header {field} is {got}, expected {expected:?}")]
    HeaderField {
        field: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("header x5u is missing or not a string")]
    MissingX5u,
    #[error("Identity info <{info}> does not equal the PASSporT x5u <{x5u}>")]
    InfoMismatch { info: String, x5u: String },
    #[error("Identity parameter {param}={value:?} contradicts the PASSporT")]
    ParamMismatch { param: &'static str, value: String },
    #[error("iat must be a JSON integer (NumericDate), got {0}")]
    IatNotInteger(&'static str),
    #[error("claim {claim} {problem}")]
    Claim {
        claim: &'static str,
        problem: &'static str,
    },
    #[error("attest {0:?} is not A, B or C")]
    Attest(String),
    #[error("Date header is {0} s from now, more than the {1} s allowed")]
    DateNotFresh(i64, i64),
    #[error("iat is {0} s old, more than the {1} s allowed")]
    Stale(i64, i64),
    #[error("iat is {0} s in the future, more than the {1} s allowed")]
    Future(i64, i64),
    #[error("orig {claim} does not match the calling number {expected}")]
    OrigMismatch { claim: String, expected: String },
    #[error("dest {claim:?} does not include the called number ({expected:?})")]
    DestMismatch {
        claim: Vec<String>,
        expected: Vec<String>,
    },
    #[error("signature is not valid unpadded base64url")]
    SignatureBase64,
    #[error(
        "signature is {0} bytes of DER (ASN.1); ES256 in JWS is the 64-byte r||s form (RFC 7518 section 3.4)"
    )]
    DerSignature(usize),
    #[error("ES256 signature must be 64 bytes (r||s), got {0}")]
    SignatureLength(usize),
    #[error("signature does not verify with the certificate's public key")]
    BadSignature,
}

impl TokenError {
    /// The row of the ATIS-1000082 table this error falls under.
    pub fn failure(&self) -> Failure {
        match self {
            TokenError::Identity(IdentityError::CompactForm) => Failure::CompactForm,
            TokenError::Identity(IdentityError::MissingInfo) => Failure::MissingInfo,
            TokenError::Identity(IdentityError::InfoNotBracketed) => Failure::InvalidInfo,
            TokenError::Identity(_)
            | TokenError::NotThreeParts
            | TokenError::Base64(JwsPart::Header | JwsPart::Signature)
            | TokenError::NotJsonObject(JwsPart::Header | JwsPart::Signature) => Failure::Malformed,
            TokenError::Base64(JwsPart::Payload)
            | TokenError::NotJsonObject(JwsPart::Payload)
            | TokenError::IatNotInteger(_)
            | TokenError::Claim { .. } => Failure::MissingClaim,
            TokenError::MissingHeaderField(_) | TokenError::MissingX5u => {
                Failure::MissingHeaderClaim
            }
            TokenError::HeaderField { field: "typ", .. } => Failure::Typ,
            TokenError::HeaderField { field: "alg", .. }
            | TokenError::ParamMismatch { param: "alg", .. } => Failure::Alg,
            TokenError::HeaderField { .. } => Failure::Ppt,
            TokenError::ParamMismatch { .. } => Failure::PptParam,
            TokenError::InfoMismatch { .. } => Failure::InfoMismatch,
            TokenError::Attest(_) => Failure::Attest,
            TokenError::DateNotFresh(..) => Failure::StaleDate,
            TokenError::Stale(..) | TokenError::Future(..) => Failure::StaleIat,
            TokenError::OrigMismatch { .. } | TokenError::DestMismatch { .. } => {
                Failure::NumberMismatch
            }
            TokenError::SignatureBase64
            | TokenError::DerSignature(_)
            | TokenError::SignatureLength(_)
            | TokenError::BadSignature => Failure::Signature,
        }
    }
}

/// One of the three dot-separated parts of a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsPart {
    Header,
    Payload,
    Signature,
}

impl fmt::Display for JwsPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwsPart::Header => "protected header",
            JwsPart::Payload => "payload",
            JwsPart::Signature => "signature",
        })
    }
}

/// The SHAKEN claims of a PASSporT, as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedClaims {
    pub attest: String,
    pub dest: Vec<String>,
    pub iat: i64,
    pub orig: String,
    pub origid: String,
}

/// A parsed PASSporT, borrowing the received text.
#[derive(Debug, Clone)]
pub struct Token<'a> {
    /// The compact JWS.
    pub jws: &'a str,
    /// The Identity header's `info` URI (`None` for a bare JWS).
    pub info: Option<&'a str>,
    id_alg: Option<&'a str>,
    id_ppt: Option<&'a str>,
    header: Map<String, Value>,
    payload: Map<String, Value>,
    /// Length of `header.payload`, the signing input, at the start of `jws`.
    signed_len: usize,
    signature_b64: &'a str,
}

impl<'a> Token<'a> {
    /// Step 1: parses an Identity header value (full form only) and its JWS.
    pub fn parse(identity_value: &'a str) -> Result<Token<'a>, TokenError> {
        let header = Identity::parse(identity_value)?;
        let mut token = Token::from_jws(header.jws)?;
        token.info = Some(header.info);
        token.id_alg = header.alg;
        token.id_ppt = header.ppt;
        Ok(token)
    }

    /// Parses a bare compact JWS: three parts, header and payload base64url JSON objects.
    pub fn from_jws(jws: &'a str) -> Result<Token<'a>, TokenError> {
        let mut parts = jws.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::NotThreeParts);
        };
        if payload_b64.is_empty() {
            return Err(IdentityError::CompactForm.into());
        }
        Ok(Token {
            jws,
            info: None,
            id_alg: None,
            id_ppt: None,
            header: decode_object(header_b64, JwsPart::Header)?,
            payload: decode_object(payload_b64, JwsPart::Payload)?,
            signed_len: header_b64.len() + 1 + payload_b64.len(),
            signature_b64,
        })
    }

    /// Step 2: `alg` ES256, `ppt` shaken, `typ` passport, an `x5u`, and the Identity
    /// header's `info` (and `alg`/`ppt` parameters, when present) agreeing with them.
    /// Returns the x5u. Checked in the order of ATIS-1000082's error cases: the `ppt`
    /// parameter (E5), missing fields (E9), `x5u` against `info` (E10), `typ` (E11),
    /// `alg` (E12), `ppt` (E13).
    pub fn check_header(&self) -> Result<&str, TokenError> {
        if let Some(ppt) = self.id_ppt.filter(|p| *p != "shaken") {
            return Err(TokenError::ParamMismatch {
                param: "ppt",
                value: ppt.to_owned(),
            });
        }
        for field in ["alg", "ppt", "typ"] {
            if !self.header.contains_key(field) {
                return Err(TokenError::MissingHeaderField(field));
            }
        }
        let Some(Value::String(x5u)) = self.header.get("x5u") else {
            return Err(TokenError::MissingX5u);
        };
        if let Some(info) = self.info
            && info != x5u
        {
            return Err(TokenError::InfoMismatch {
                info: info.to_owned(),
                x5u: x5u.clone(),
            });
        }
        for (field, expected) in [("typ", "passport"), ("alg", "ES256")] {
            self.check_field(field, expected)?;
        }
        if let Some(alg) = self.id_alg.filter(|a| *a != "ES256") {
            return Err(TokenError::ParamMismatch {
                param: "alg",
                value: alg.to_owned(),
            });
        }
        self.check_field("ppt", "shaken")?;
        Ok(x5u)
    }

    fn check_field(&self, field: &'static str, expected: &'static str) -> Result<(), TokenError> {
        match self.header.get(field) {
            Some(Value::String(s)) if s == expected => Ok(()),
            other => Err(TokenError::HeaderField {
                field,
                expected,
                got: describe(other),
            }),
        }
    }

    /// The PASSporT type: the Identity header's `ppt` parameter, else the protected
    /// header's `ppt` when it is a string.
    pub fn ppt(&self) -> Option<&str> {
        self.id_ppt
            .or_else(|| self.header.get("ppt").and_then(Value::as_str))
    }

    /// Step 8: the SHAKEN claims, present and well-typed. `iat` is checked first, and
    /// must be a JSON integer: a string or a fraction fails.
    pub fn claims(&self) -> Result<ReceivedClaims, TokenError> {
        let iat = match self.payload.get("iat") {
            Some(Value::Number(n)) => {
                n.as_i64().ok_or(TokenError::IatNotInteger(if n.is_f64() {
                    "a fraction"
                } else {
                    "a number out of range"
                }))?
            }
            Some(other) => return Err(TokenError::IatNotInteger(json_type(other))),
            None => return Err(missing("iat")),
        };
        let attest = string_claim(&self.payload, "attest")?;
        let orig = match self.payload.get("orig") {
            Some(Value::Object(o)) => string_claim(o, "tn").map_err(|_| TokenError::Claim {
                claim: "orig",
                problem: "must be an object with a string \"tn\"",
            })?,
            _ => return Err(missing("orig")),
        };
        let dest = match self.payload.get("dest") {
            Some(Value::Object(d)) => match d.get("tn") {
                Some(Value::Array(list)) if !list.is_empty() => list
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(TokenError::Claim {
                        claim: "dest",
                        problem: "tn must hold only strings",
                    })?,
                _ => {
                    return Err(TokenError::Claim {
                        claim: "dest",
                        problem: "must have a non-empty \"tn\" array",
                    });
                }
            },
            _ => return Err(missing("dest")),
        };
        let origid = string_claim(&self.payload, "origid")?;
        Ok(ReceivedClaims {
            attest,
            dest,
            iat,
            orig,
            origid,
        })
    }

    /// Step 11: the ES256 signature over `header.payload` exactly as received, with the
    /// signer's uncompressed P-256 point.
    pub fn check_signature(&self, public_key_sec1: &[u8]) -> Result<(), TokenError> {
        let signature = URL_SAFE_NO_PAD
            .decode(self.signature_b64)
            .map_err(|_| TokenError::SignatureBase64)?;
        if signature.len() != 64 {
            // DER: SEQUENCE { INTEGER r, INTEGER s }, 8 to 72 bytes.
            if signature.first() == Some(&0x30) && (8..=72).contains(&signature.len()) {
                return Err(TokenError::DerSignature(signature.len()));
            }
            return Err(TokenError::SignatureLength(signature.len()));
        }
        let signed = self
            .jws
            .as_bytes()
            .get(..self.signed_len)
            .unwrap_or_default();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key_sec1)
            .verify(signed, &signature)
            .map_err(|_| TokenError::BadSignature)
    }
}

/// Step 9: `attest` is A, B or C.
pub fn check_attest(attest: &str) -> Result<(), TokenError> {
    match attest {
        "A" | "B" | "C" => Ok(()),
        other => Err(TokenError::Attest(other.to_owned())),
    }
}

/// Step 7, first half: the request's Date header (Unix seconds) within `window` seconds
/// of `now`, in either direction (RFC 8224 section 6.2, step 4).
pub fn check_date(date: i64, now: i64, window: i64) -> Result<(), TokenError> {
    let offset = now.saturating_sub(date);
    if offset.saturating_abs() > window {
        return Err(TokenError::DateNotFresh(offset.saturating_abs(), window));
    }
    Ok(())
}

/// Step 7: `iat` within `window` seconds of `now`, in either direction.
pub fn check_freshness(iat: i64, now: i64, window: i64) -> Result<(), TokenError> {
    let age = now.saturating_sub(iat);
    if age > window {
        return Err(TokenError::Stale(age, window));
    }
    if -age > window {
        return Err(TokenError::Future(-age, window));
    }
    Ok(())
}

/// Step 10: the claim's `orig` equals the expected calling number, and `dest` includes
/// one of the expected called numbers. Claim numbers are compared as digits (a `+` or
/// visual separators in the claim are ignored). Returns `false` when there was nothing
/// to compare.
pub fn check_numbers(claims: &ReceivedClaims, expected: &Expected) -> Result<bool, TokenError> {
    if let Some(orig) = &expected.orig
        && digits(&claims.orig) != *orig
    {
        return Err(TokenError::OrigMismatch {
            claim: claims.orig.clone(),
            expected: orig.clone(),
        });
    }
    if !expected.dest.is_empty()
        && !claims
            .dest
            .iter()
            .any(|d| expected.dest.contains(&digits(d)))
    {
        return Err(TokenError::DestMismatch {
            claim: claims.dest.clone(),
            expected: expected.dest.clone(),
        });
    }
    Ok(expected.orig.is_some() || !expected.dest.is_empty())
}

fn digits(tn: &str) -> String {
    tn.chars()
        .filter(|c| !matches!(c, '+' | '-' | '.' | '(' | ')' | ' '))
        .collect()
}

fn missing(claim: &'static str) -> TokenError {
    TokenError::Claim {
        claim,
        problem: "is missing",
    }
}

fn string_claim(map: &Map<String, Value>, claim: &'static str) -> Result<String, TokenError> {
    match map.get(claim) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(TokenError::Claim {
            claim,
            problem: "must be a string",
        }),
        None => Err(missing(claim)),
    }
}

fn decode_object(b64: &str, part: JwsPart) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| TokenError::Base64(part))?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::NotJsonObject(part))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None => "missing".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => json_type(other).into(),
    }
}

#[cfg(test)]
mod tests;
