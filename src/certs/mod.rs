//! STI certificates and keys: the signing key, certificate chains and their checks,
//! the STI profile (ATIS-1000080), certification paths to trust anchors, CRLs, the
//! TNAuthList extension (RFC 8226), and a development PKI.

mod chain;
mod crl;
pub mod dev;
pub mod dev_tls;
mod key;
mod path;
mod profile;
mod roots;
mod signing;
pub mod tnauthlist;

pub(crate) use chain::pem_encode;
pub use chain::{
    CertInfo, TnAuthListResult, cert_facts, cert_info, check_signing_leaf, check_signing_pair,
    load_chain_pem, tn_auth_list_of, verify_issued_by,
};
pub use crl::{Crl, CrlSigner, name_text};
pub use dev::DevPki;
pub use key::SigningKey;
pub use path::{CertPath, CrlPoint, PathCert, TrustAnchors, build_path, check_root};
pub use profile::{
    CertReport, CertRole, ChainReport, RULES as PROFILE_RULES, Violation, check_chain,
};
pub use roots::pem_roots;
pub use signing::{EXPIRY_WARNING_DAYS, SigningCheck, check_signing, check_signing_with};
pub use tnauthlist::{TnAuthEntry, TnAuthListError};
pub use x509_parser::error::X509Error;

/// Errors from loading keys and certificates, checking them, building certification
/// paths, reading CRLs, and generating a dev PKI. Each variant names one problem, so
/// that tests can assert the exact reason.
///
/// At start-up or reload these stop the (new) configuration from taking effect. In the
/// verifier a certificate problem in steps 4 to 6 is [`crate::verify::Failure::Credential`]
/// (ATIS-1000082 E17): 437 Unsupported Credential.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CertError {
    // The private key.
    #[error("no private key found in PEM (expected EC PRIVATE KEY or PRIVATE KEY)")]
    NoPrivateKey,
    #[error("private key PEM is encrypted; decrypt it first (openssl pkey -in key.pem)")]
    EncryptedKey,
    #[error("private key is in the OpenSSH format, which is not supported; convert it to PKCS#8")]
    OpenSshKey,
    #[error("private key is not an ECDSA P-256 key ({0}); STI keys must be P-256")]
    NotP256(String),
    #[error("private key is an EC key without a named curve; STI keys must be P-256")]
    NoNamedCurve,
    /// The key's encoding is broken; the text is the decoder's.
    #[error("private key could not be decoded: {0}")]
    InvalidKey(String),

    // Certificates and their encoding.
    #[error("no CERTIFICATE found in PEM")]
    NoCertificates,
    /// The PEM framing is broken; the text is the PEM reader's.
    #[error("PEM is malformed: {0}")]
    Pem(String),
    #[error("certificate could not be parsed: {0}")]
    CertificateParse(X509Error),
    #[error("certificate could not be parsed: trailing bytes after the certificate")]
    CertificateTrailingBytes,
    #[error("signing key does not match the leaf certificate's public key")]
    KeyMismatch,
    #[error("leaf certificate expired at {not_after} (unix time)")]
    Expired { not_after: i64 },
    #[error("leaf certificate is not valid before {not_before} (unix time)")]
    NotYetValid { not_before: i64 },
    #[error("leaf certificate has no TNAuthList extension (1.3.6.1.5.5.7.1.26)")]
    MissingTnAuthList,
    #[error("TNAuthList is malformed: {0}")]
    TnAuthList(#[from] TnAuthListError),
    /// A delegate leaf (RFC 9060: numbers, no SPC) whose issuer on the path carries no
    /// TNAuthList, or is the trust anchor itself: no STI-SCA delegated the numbers.
    #[error(
        "{subject} holds telephone numbers but no SPC, and its issuer {issuer} is no STI-SCA (a CA below the trust anchor with a TNAuthList); RFC 9060 delegation needs one"
    )]
    NoStiSca { subject: String, issuer: String },
    /// A certificate's TNAuthList goes beyond its issuer's (RFC 9060 section 4).
    #[error("{subject}'s TNAuthList entry {entry} is not within its issuer {issuer}'s TNAuthList")]
    NotEncompassed {
        subject: String,
        issuer: String,
        entry: String,
    },
    /// The PASSporT's `orig` is not among a delegate certificate's numbers.
    #[error("orig {orig} is not among the numbers of the delegate certificate's TNAuthList")]
    OrigNotCovered { orig: String },
    #[error("certificate signature algorithm {0} is not supported (expected ecdsa-with-SHA256)")]
    UnsupportedSignatureAlgorithm(String),
    #[error("certificate signature does not verify with the issuer's public key")]
    BadSignature,
    /// The chain breaks the STI profile; the report names every broken rule.
    #[error("certificate breaks the STI profile (ATIS-1000080): {}", .0.summary())]
    Profile(ChainReport),

    // Certification paths (RFC 5280 section 6).
    #[error("certificate chain does not build: no trust anchor within {max} certificates")]
    PathTooLong { max: usize },
    #[error("certificate chain does not build: no issuer found for {subject} (issuer {issuer})")]
    NoIssuer { subject: String, issuer: String },
    #[error(
        "certificate chain does not build: {subject}: signature does not verify with the trust anchor named as its issuer"
    )]
    AnchorSignatureMismatch { subject: String },
    #[error("certificate chain does not build: {subject} is not a CA")]
    NotACa { subject: String },
    #[error(
        "certificate chain does not build: {subject} allows {limit} intermediate(s) below it, the path has {below}"
    )]
    PathLenExceeded {
        subject: String,
        limit: u32,
        below: usize,
    },
    #[error(
        "certificate chain does not build: {subject} may not sign certificates (no keyCertSign)"
    )]
    NoKeyCertSign { subject: String },
    #[error("certificate chain ends at {0}, which is not a trusted root")]
    UntrustedRoot(String),
    #[error("certificate {subject} on the path expired at {not_after} (unix time)")]
    PathCertExpired { subject: String, not_after: i64 },
    #[error("certificate {subject} on the path is not valid before {not_before} (unix time)")]
    PathCertNotYetValid { subject: String, not_before: i64 },
    #[error("certificate {0} is revoked")]
    Revoked(String),

    // Roots a trust list adds ([`check_root`]).
    #[error("{subject} is not a root: its issuer is {issuer}")]
    RootNotSelfSigned { subject: String, issuer: String },
    #[error("{subject}: its own signature does not verify with its key")]
    RootBadSignature { subject: String },
    #[error("{subject} is not a CA (no basicConstraints with cA TRUE)")]
    RootNotACa { subject: String },
    #[error(
        "{subject} is not valid now: valid from {} to {}",
        crate::clock::rfc3339(*not_before),
        crate::clock::rfc3339(*not_after)
    )]
    RootNotValid {
        subject: String,
        not_before: i64,
        not_after: i64,
    },

    // CRLs (RFC 5280 section 5).
    #[error("CRL: no X509 CRL block in PEM")]
    NoCrlInPem,
    #[error("CRL: could not be parsed: {0}")]
    CrlParse(X509Error),
    #[error("CRL: trailing bytes after the CRL")]
    CrlTrailingBytes,
    #[error("CRL: CRL issuer does not match the certificate's issuer")]
    CrlIssuerMismatch,
    #[error("CRL: signature algorithm {0} is not supported (expected ecdsa-with-SHA256)")]
    CrlUnsupportedSignatureAlgorithm(String),
    #[error("CRL: CRL signature does not verify")]
    CrlBadSignature,
    #[error("CRL: {subject} has no CRL distribution point")]
    NoCrlDistributionPoint { subject: String },
    #[error("CRL: the CRL for {subject} is not from its issuer")]
    CrlNotFromIssuer { subject: String },
    #[error("CRL: the CRL for {subject} is not current")]
    CrlNotCurrent { subject: String },
    #[error("CRL: the CRL for {subject} names a cRLIssuer but is not an indirect CRL")]
    CrlNotIndirect { subject: String },
    #[error("CRL: {0} may not sign CRLs (its keyUsage has no cRLSign)")]
    NoCrlSign(String),
    #[error("CRL: {0} is not a CRL signer callsign trusts ([verify] crl_signers)")]
    UnknownCrlSigner(String),
    #[error("CRL: the CRL signer {subject} is not valid now")]
    CrlSignerNotValid { subject: String },
    #[error("CRL: unsupported critical extension {0}")]
    CrlCriticalExtension(String),
    #[error("CRL: an entry names a certificateIssuer but the CRL is not indirect")]
    CrlEntryIssuerNotIndirect,
    #[error("CRL: a certificateIssuer entry extension is malformed")]
    CrlBadCertificateIssuer,

    // The dev PKI.
    #[error(
        "service provider code {0:?} is invalid: expected 1 to 64 digits or upper-case ASCII letters (ATIS-1000080)"
    )]
    InvalidSpc(String),
    #[error("delegate number {entry:?} is invalid: {reason}")]
    InvalidDelegateNumber { entry: String, reason: &'static str },
    #[error("CRL URL {0:?} must be an http or https URL prefix without query or fragment")]
    InvalidCrlUrl(String),
    /// rcgen (or the clock) failed; the text is its.
    #[error("certificate generation failed: {0}")]
    Generate(String),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
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

/// What x509-parser says about an empty input: it needs one more byte.
#[cfg(test)]
pub(crate) fn x509_empty() -> X509Error {
    let needed = x509_parser::nom::Needed::new(1);
    X509Error::Der(x509_parser::der_parser::error::BerError::Incomplete(needed))
}

/// What x509-parser says about `30 03 61 62 63`: a SEQUENCE whose contents end early.
#[cfg(test)]
pub(crate) fn x509_short_sequence() -> X509Error {
    X509Error::NomError(x509_parser::nom::error::ErrorKind::Eof)
}

/// The SubjectPublicKeyInfo PEM of [`test_key`].
#[cfg(test)]
pub(crate) fn test_public_key_pem(n: u8) -> &'static str {
    match n {
        1 => include_str!("../../tests/data/keys/p256-a.pub.pem"),
        _ => include_str!("../../tests/data/keys/p256-b.pub.pem"),
    }
}
