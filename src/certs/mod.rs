//! STI certificates and keys: the signing key, certificate chains and their checks,
//! the STI profile (ATIS-1000080), certification paths to trust anchors, CRLs, the
//! TNAuthList extension (RFC 8226), and a development PKI.

mod chain;
mod crl;
pub mod dev;
mod key;
mod path;
mod profile;
mod signing;
pub mod tnauthlist;

pub use chain::{
    CertInfo, TnAuthListResult, cert_facts, cert_info, check_signing_pair, load_chain_pem,
    verify_issued_by,
};
pub use crl::Crl;
pub use dev::DevPki;
pub use key::SigningKey;
pub use path::{CertPath, PathCert, TrustAnchors, build_path};
pub use profile::{CertReport, ChainReport, Role, Violation, check_chain};
pub use signing::{EXPIRY_WARNING_DAYS, SigningCheck, check_signing};
pub use tnauthlist::TnAuthEntry;

/// Errors from loading keys and certificates, checking them, and generating a dev PKI.
///
/// At start-up or reload these stop the (new) configuration from taking effect; in the
/// verifier a certificate problem maps to SIP 437 Unsupported Credential or 438.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("no private key found in PEM (expected EC PRIVATE KEY or PRIVATE KEY)")]
    NoPrivateKey,
    #[error("private key PEM is encrypted; decrypt it first (openssl pkey -in key.pem)")]
    EncryptedKey,
    #[error("private key is not an ECDSA P-256 key ({0}); STI keys must be P-256")]
    NotP256(String),
    #[error("private key could not be decoded: {0}")]
    InvalidKey(String),
    #[error("no CERTIFICATE found in PEM")]
    NoCertificates,
    #[error("PEM is malformed: {0}")]
    Pem(String),
    #[error("certificate could not be parsed: {0}")]
    Certificate(String),
    #[error("signing key does not match the leaf certificate's public key")]
    KeyMismatch,
    #[error("leaf certificate expired at {not_after} (unix time)")]
    Expired { not_after: i64 },
    #[error("leaf certificate is not valid before {not_before} (unix time)")]
    NotYetValid { not_before: i64 },
    #[error("leaf certificate has no TNAuthList extension (1.3.6.1.5.5.7.1.26)")]
    MissingTnAuthList,
    #[error("TNAuthList is malformed: {0}")]
    TnAuthList(&'static str),
    #[error("certificate signature algorithm {0} is not supported (expected ecdsa-with-SHA256)")]
    UnsupportedSignatureAlgorithm(String),
    #[error("certificate signature does not verify with the issuer's public key")]
    BadSignature,
    #[error("service provider code {0:?} is invalid: expected 1 to 64 ASCII letters or digits")]
    InvalidSpc(String),
    #[error("certificate generation failed: {0}")]
    Generate(String),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("CRL: {0}")]
    Crl(String),
    #[error("certificate chain does not build: {0}")]
    Chain(String),
    #[error("certificate chain ends at {0}, which is not a trusted root")]
    UntrustedRoot(String),
    #[error("certificate {0} is revoked")]
    Revoked(String),
    #[error("certificate breaks the STI profile (ATIS-1000080): {0}")]
    Profile(String),
}

/// Test keys from tests/data/keys: 1 is `p256-a`, 2 is `p256-b`.
#[cfg(test)]
pub(crate) fn test_key(n: u8) -> SigningKey {
    let pem = match n {
        1 => include_str!("../../tests/data/keys/p256-a.pkcs8.pem"),
        _ => include_str!("../../tests/data/keys/p256-b.sec1.pem"),
    };
    match SigningKey::from_pem(pem) {
        Ok(key) => key,
        Err(e) => panic!("test key {n}: {e}"),
    }
}

/// The SubjectPublicKeyInfo PEM of [`test_key`].
#[cfg(test)]
pub(crate) fn test_public_key_pem(n: u8) -> &'static str {
    match n {
        1 => include_str!("../../tests/data/keys/p256-a.pub.pem"),
        _ => include_str!("../../tests/data/keys/p256-b.pub.pem"),
    }
}
