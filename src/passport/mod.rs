//! PASSporT (RFC 8225 with the SHAKEN extension of RFC 8588): claims, canonical JSON,
//! ES256 signing with a key prepared at start-up, and a basic signature check.

mod claims;
mod signer;
mod verify;

use std::fmt;

pub use claims::{Claims, header_json, payload_json};
pub use signer::Signer;
pub use verify::{OwnedClaims, PassportHeader, Verified, verify_jws};

/// SHAKEN attestation level (RFC 8588 section 4): full (A), partial (B) or gateway (C).
///
/// The trust layer decides the level; this module only encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
pub enum Attest {
    A,
    B,
    C,
}

impl Attest {
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

/// Errors from building a signer, signing, or checking a PASSporT.
///
/// Signing errors (`KeyRejected`, `InvalidX5u`, `Signing`) are configuration or internal
/// failures: the proxy answers 500 and does not forward unsigned. Verification errors map
/// to 438 Invalid Identity Header (RFC 8224 section 6.2.2).
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
    #[error("PASSporT must be a compact JWS with three dot-separated parts")]
    NotThreeParts,
    #[error("PASSporT {0} is not valid unpadded base64url")]
    Base64(JwsPart),
    #[error("PASSporT {part} is not a valid PASSporT JSON object: {reason}")]
    Json { part: JwsPart, reason: String },
    #[error("PASSporT alg {0:?} is not supported (only ES256)")]
    UnsupportedAlg(String),
    #[error("ES256 signature must be 64 bytes (r||s), got {0}")]
    SignatureLength(usize),
    #[error("PASSporT signature does not verify with the given public key")]
    BadSignature,
}

/// Signs arbitrary header and payload text with test key 1 directly through ring, so
/// that malformed content can carry a valid signature. Returns the compact JWS and the
/// public key (uncompressed point).
#[cfg(test)]
pub(crate) fn sign_raw(header: &str, payload: &str) -> (String, Vec<u8>) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

    let key = crate::certs::test_key(1);
    let rng = SystemRandom::new();
    let pair =
        match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), &rng) {
            Ok(pair) => pair,
            Err(e) => panic!("test key: {e}"),
        };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = match pair.sign(&rng, input.as_bytes()) {
        Ok(sig) => sig,
        Err(e) => panic!("signing: {e}"),
    };
    (
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())),
        pair.public_key().as_ref().to_vec(),
    )
}
