//! The rules on a certificate's own fields (ATIS-1000080 v005 section 6.4.1.1): version,
//! signature algorithm, subject public key, serial number and validity.

use x509_parser::certificate::X509Certificate;
use x509_parser::x509::X509Version;

use super::{Violation, violation};
use crate::certs::chain::OID_ECDSA_WITH_SHA256;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
/// RFC 5280 section 4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than
/// 20 octets."
const MAX_SERIAL_OCTETS: usize = 20;
/// ATIS-1000080 v005 6.4.1.1: "at least 64 bits of output from a CSPRNG".
const MIN_SERIAL_BITS: usize = 64;

/// `version`: "STI certificates shall contain Version field specifying version 3".
pub(super) fn check_version(cert: &X509Certificate<'_>, v: &mut Vec<Violation>) {
    if cert.version() != X509Version::V3 {
        v.push(violation("version", "must be X.509 v3"));
    }
}

/// `signature-algorithm`: "a Signature Algorithm field with the value
/// ecdsa-with-SHA256", the same inside the signed part as outside (RFC 5280 4.1.1.2).
pub(super) fn check_signature_algorithm(cert: &X509Certificate<'_>, v: &mut Vec<Violation>) {
    let sig = cert.signature_algorithm.algorithm.to_id_string();
    if sig != OID_ECDSA_WITH_SHA256
        || cert.tbs_certificate.signature.algorithm != cert.signature_algorithm.algorithm
    {
        v.push(violation(
            "signature-algorithm",
            format!("signed with {sig}; ecdsa-with-SHA256 (1.2.840.10045.4.3.2) is required"),
        ));
    }
}

/// `public-key`: "an algorithm field containing the value id-ecPublicKey and a
/// namedCurve field containing the value NIST P-256".
pub(super) fn check_public_key(cert: &X509Certificate<'_>, v: &mut Vec<Violation>) {
    let spki = cert.public_key();
    let key_alg = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid.to_id_string());
    if key_alg != OID_EC_PUBLIC_KEY || curve.as_deref() != Some(OID_P256) {
        v.push(violation(
            "public-key",
            format!(
                "key is {key_alg} on {}; an EC P-256 key is required",
                curve.as_deref().unwrap_or("no named curve")
            ),
        ));
    }
}

/// `serial-number`: "an integer greater than zero" with "at least 64 bits of output from
/// a CSPRNG" (ATIS-1000080 v005 6.4.1.1), at most 20 octets and DER-encoded (RFC 5280
/// 4.1.2.2). The bits are counted in the value, so leading zero bits do not count.
pub(super) fn check_serial(cert: &X509Certificate<'_>, v: &mut Vec<Violation>) {
    let raw = cert.raw_serial();
    let rule = "serial-number";
    if raw.len() > MAX_SERIAL_OCTETS {
        v.push(violation(
            rule,
            format!(
                "serial number is {} octets; at most {MAX_SERIAL_OCTETS} are allowed",
                raw.len()
            ),
        ));
    }
    let minimal = match raw {
        [] => false,
        [0x00, next, ..] => next & 0x80 != 0,
        [0xff, next, ..] => next & 0x80 == 0,
        _ => true,
    };
    if !minimal {
        v.push(violation(
            rule,
            "serial number is not a minimally encoded (DER) INTEGER",
        ));
    }
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(violation(
            rule,
            "serial number is negative; it must be greater than zero",
        ));
        return;
    }
    let bits = serial_bits(raw);
    if bits == 0 {
        v.push(violation(
            rule,
            "serial number is zero; it must be greater than zero",
        ));
    } else if bits < MIN_SERIAL_BITS {
        v.push(violation(
            rule,
            format!(
                "serial number has {bits} bits; at least {MIN_SERIAL_BITS} random bits are required"
            ),
        ));
    }
}

/// The bit length of a non-negative big-endian integer.
pub(super) fn serial_bits(raw: &[u8]) -> usize {
    let zeros = raw.iter().take_while(|b| **b == 0).count();
    match raw.get(zeros..) {
        Some([first, rest @ ..]) => rest.len() * 8 + (8 - first.leading_zeros() as usize),
        _ => 0,
    }
}

/// `validity`: the certificate is valid at `now`.
pub(super) fn check_validity(cert: &X509Certificate<'_>, now: i64, v: &mut Vec<Violation>) {
    let validity = cert.validity();
    let (from, to) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now > to {
        v.push(violation(
            "validity",
            format!("expired at {to} (unix time)"),
        ));
    } else if now < from {
        v.push(violation(
            "validity",
            format!("not valid before {from} (unix time)"),
        ));
    }
}
