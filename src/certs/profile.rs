//! The STI certificate profile (ATIS-1000080, RFC 8226): every rule a certificate or a
//! chain breaks, named, for `callsign certs check` and the start-up check of the
//! signing certificate.

use std::fmt;

use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::{
    OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME, OID_X509_ORGANIZATION_NAME,
};
use x509_parser::x509::{X509Name, X509Version};

use super::chain::{OID_ECDSA_WITH_SHA256, check_issuer_signature, parse, rfc4514, tn_auth_list};
use super::path::crl_urls;
use super::{CertError, TnAuthEntry};

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
/// Extensions a relying party must understand when critical, beyond those x509-parser
/// decodes itself.
const TN_AUTH_LIST: &str = super::tnauthlist::OID_STR;

/// A certificate's position on its chain (not to be confused with a trunk's role in
/// `proxy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertRole {
    /// The first certificate: the STI end-entity certificate.
    Leaf,
    /// A CA certificate that is not self-signed.
    Intermediate,
    /// A self-signed CA certificate.
    Root,
}

impl fmt::Display for CertRole {
    /// `Leaf`, `Intermediate` or `Root`, as `callsign certs check` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertRole::Leaf => "Leaf",
            CertRole::Intermediate => "Intermediate",
            CertRole::Root => "Root",
        })
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// A stable rule name, e.g. `key-usage` or `tn-auth-list`.
    pub rule: &'static str,
    /// What is wrong, for a person.
    pub detail: String,
}

/// The profile check of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertReport {
    /// Position in the chain, leaf first.
    pub index: usize,
    pub role: CertRole,
    pub subject: String,
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// The decoded TNAuthList entries, if the certificate has a well-formed one.
    pub tn_auth_list: Option<Vec<TnAuthEntry>>,
    pub crl_urls: Vec<String>,
    pub violations: Vec<Violation>,
}

/// The profile check of a chain (leaf first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub certificates: Vec<CertReport>,
    /// Problems of the chain as a whole (order, issuer names, signatures).
    pub chain_violations: Vec<Violation>,
}

impl ChainReport {
    /// Every violation, of the chain and of each certificate.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.chain_violations
            .iter()
            .chain(self.certificates.iter().flat_map(|c| c.violations.iter()))
    }

    pub fn is_clean(&self) -> bool {
        self.violations().next().is_none()
    }

    /// One line listing every violation, for an error message.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for c in &self.certificates {
            for v in &c.violations {
                push_item(
                    &mut out,
                    &format!("certificate {} {}: {}", c.index, v.rule, v.detail),
                );
            }
        }
        for v in &self.chain_violations {
            push_item(&mut out, &format!("chain {}: {}", v.rule, v.detail));
        }
        out
    }
}

fn push_item(out: &mut String, item: &str) {
    if !out.is_empty() {
        out.push_str("; ");
    }
    out.push_str(item);
}

/// Checks each certificate of `chain` (DER, leaf first) against the STI profile at
/// `now` (unix seconds), and that each certificate is issued by the next one. A
/// certificate that does not parse is reported as a violation, not an error.
pub fn check_chain(chain: &[Vec<u8>], now: i64) -> ChainReport {
    let parsed: Vec<Result<X509Certificate<'_>, CertError>> =
        chain.iter().map(|der| parse(der)).collect();
    let mut certificates = Vec::with_capacity(chain.len());
    let mut chain_violations = Vec::new();
    if chain.is_empty() {
        chain_violations.push(violation("chain", "no certificate"));
    }
    for (index, cert) in parsed.iter().enumerate() {
        match cert {
            Ok(cert) => certificates.push(check_cert(index, cert, now)),
            Err(e) => certificates.push(unparsable(index, e)),
        }
    }
    for (index, pair) in parsed.windows(2).enumerate() {
        let [Ok(cert), Ok(issuer)] = pair else {
            continue;
        };
        if cert.issuer().as_raw() != issuer.subject().as_raw() {
            chain_violations.push(violation(
                "chain-order",
                format!(
                    "certificate {index} is issued by {}, but certificate {} is {}",
                    rfc4514(cert.issuer()),
                    index + 1,
                    rfc4514(issuer.subject())
                ),
            ));
        } else if let Err(e) =
            check_issuer_signature(cert, &issuer.public_key().subject_public_key.data)
        {
            chain_violations.push(violation(
                "chain-signature",
                format!(
                    "certificate {index} is not signed by certificate {}: {e}",
                    index + 1
                ),
            ));
        }
        if issuer
            .basic_constraints()
            .ok()
            .flatten()
            .is_none_or(|bc| !bc.value.ca)
        {
            chain_violations.push(violation(
                "chain-issuer-not-ca",
                format!(
                    "certificate {} issues certificate {index} but is not a CA",
                    index + 1
                ),
            ));
        }
    }
    ChainReport {
        certificates,
        chain_violations,
    }
}

fn unparsable(index: usize, e: &CertError) -> CertReport {
    CertReport {
        index,
        role: if index == 0 {
            CertRole::Leaf
        } else {
            CertRole::Intermediate
        },
        subject: String::new(),
        issuer: String::new(),
        serial: String::new(),
        not_before: 0,
        not_after: 0,
        tn_auth_list: None,
        crl_urls: Vec::new(),
        violations: vec![violation("der", e.to_string())],
    }
}

fn violation(rule: &'static str, detail: impl Into<String>) -> Violation {
    Violation {
        rule,
        detail: detail.into(),
    }
}

fn check_cert(index: usize, cert: &X509Certificate<'_>, now: i64) -> CertReport {
    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw()
        && check_issuer_signature(cert, &cert.public_key().subject_public_key.data).is_ok();
    // The first certificate is the leaf unless it is a CA: then a CA file is being
    // checked on its own.
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    let role = match (index, is_ca, self_signed) {
        (0, false, _) => CertRole::Leaf,
        (_, _, true) => CertRole::Root,
        _ => CertRole::Intermediate,
    };
    let mut v = Vec::new();
    check_algorithms(cert, &mut v);
    check_serial(cert, &mut v);
    check_validity(cert, now, &mut v);
    check_extensions(cert, role, &mut v);
    let tn_auth_list = check_tn_auth_list(cert, role, &mut v);
    check_subject(cert.subject(), role, tn_auth_list.as_deref(), &mut v);
    let validity = cert.validity();
    CertReport {
        index,
        role,
        subject: rfc4514(cert.subject()),
        issuer: rfc4514(cert.issuer()),
        serial: hex(cert.raw_serial()),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        tn_auth_list,
        crl_urls: crl_urls(cert),
        violations: v,
    }
}

fn check_algorithms(cert: &X509Certificate<'_>, v: &mut Vec<Violation>) {
    if cert.version() != X509Version::V3 {
        v.push(violation("version", "must be X.509 v3"));
    }
    let sig = cert.signature_algorithm.algorithm.to_id_string();
    if sig != OID_ECDSA_WITH_SHA256
        || cert.tbs_certificate.signature.algorithm != cert.signature_algorithm.algorithm
    {
        v.push(violation(
            "signature-algorithm",
            format!("signed with {sig}; ecdsa-with-SHA256 (1.2.840.10045.4.3.2) is required"),
        ));
    }
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

fn check_serial(cert: &X509Certificate<'_>, v: &mut Vec<Violation>) {
    let raw = cert.raw_serial();
    let significant = raw.iter().skip_while(|b| **b == 0).count();
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(violation("serial-number", "serial number is negative"));
    }
    if significant < 8 {
        v.push(violation(
            "serial-number",
            format!(
                "serial number has {significant} byte(s); at least 64 random bits are required"
            ),
        ));
    }
    if raw.len() > 20 {
        v.push(violation(
            "serial-number",
            "serial number is longer than 20 octets",
        ));
    }
}

fn check_validity(cert: &X509Certificate<'_>, now: i64, v: &mut Vec<Violation>) {
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

fn check_extensions(cert: &X509Certificate<'_>, role: CertRole, v: &mut Vec<Violation>) {
    match cert.basic_constraints() {
        Ok(Some(bc)) => {
            if !bc.critical {
                v.push(violation(
                    "basic-constraints",
                    "BasicConstraints must be critical",
                ));
            }
            if role == CertRole::Leaf && bc.value.ca {
                v.push(violation(
                    "basic-constraints",
                    "the leaf must have cA FALSE",
                ));
            }
            if role != CertRole::Leaf && !bc.value.ca {
                v.push(violation(
                    "basic-constraints",
                    "a CA certificate must have cA TRUE",
                ));
            }
        }
        Ok(None) => v.push(violation(
            "basic-constraints",
            "BasicConstraints is missing",
        )),
        Err(e) => v.push(violation("basic-constraints", e.to_string())),
    }
    match cert.key_usage() {
        Ok(Some(ku)) => {
            if !ku.critical {
                v.push(violation("key-usage", "KeyUsage must be critical"));
            }
            let usage = ku.value;
            if role == CertRole::Leaf && (!usage.digital_signature() || usage.flags != 1) {
                v.push(violation(
                    "key-usage",
                    "the leaf must have digitalSignature only",
                ));
            }
            if role != CertRole::Leaf && !usage.key_cert_sign() {
                v.push(violation(
                    "key-usage",
                    "a CA certificate must have keyCertSign",
                ));
            }
        }
        Ok(None) => v.push(violation("key-usage", "KeyUsage is missing")),
        Err(e) => v.push(violation("key-usage", e.to_string())),
    }
    let mut ski = false;
    let mut aki = false;
    let mut policies = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(_) => ski = true,
            ParsedExtension::AuthorityKeyIdentifier(a) => aki = a.key_identifier.is_some(),
            ParsedExtension::CertificatePolicies(p) => policies = Some(p.len()),
            ParsedExtension::UnsupportedExtension { .. } | ParsedExtension::ParseError { .. }
                if ext.critical && ext.oid.to_id_string() != TN_AUTH_LIST =>
            {
                v.push(violation(
                    "critical-extension",
                    format!("unknown critical extension {}", ext.oid.to_id_string()),
                ));
            }
            _ => {}
        }
    }
    if !ski {
        v.push(violation(
            "subject-key-identifier",
            "SubjectKeyIdentifier is missing",
        ));
    }
    if role == CertRole::Root {
        return;
    }
    if !aki {
        v.push(violation(
            "authority-key-identifier",
            "AuthorityKeyIdentifier with a keyIdentifier is missing",
        ));
    }
    match policies {
        Some(1) => {}
        Some(n) => v.push(violation(
            "certificate-policies",
            format!("{n} policies; exactly one certificate policy OID is required"),
        )),
        None => v.push(violation(
            "certificate-policies",
            "CertificatePolicies is missing",
        )),
    }
    let urls = crl_urls(cert);
    if urls.is_empty() {
        v.push(violation(
            "crl-distribution-points",
            "CRLDistributionPoints with an http(s) URI is missing",
        ));
    } else if !urls
        .iter()
        .any(|u| u.starts_with("http://") || u.starts_with("https://"))
    {
        v.push(violation("crl-distribution-points", "no http(s) CRL URI"));
    }
}

fn check_tn_auth_list(
    cert: &X509Certificate<'_>,
    role: CertRole,
    v: &mut Vec<Violation>,
) -> Option<Vec<TnAuthEntry>> {
    let entries = match tn_auth_list(cert) {
        Ok(entries) => entries,
        Err(e) => {
            v.push(violation("tn-auth-list", e.to_string()));
            return None;
        }
    };
    if role == CertRole::Leaf {
        match &entries {
            None => v.push(violation(
                "tn-auth-list",
                "the leaf has no TNAuthList extension (1.3.6.1.5.5.7.1.26)",
            )),
            Some(list) => {
                let spcs = list
                    .iter()
                    .filter(|e| matches!(e, TnAuthEntry::Spc(_)))
                    .count();
                if spcs != 1 || list.len() != 1 {
                    v.push(violation(
                        "tn-auth-list",
                        format!(
                            "TNAuthList has {} entries ({spcs} SPC); exactly one SPC is required",
                            list.len()
                        ),
                    ));
                }
            }
        }
    }
    entries
}

fn check_subject(
    name: &X509Name<'_>,
    role: CertRole,
    tn_auth_list: Option<&[TnAuthEntry]>,
    v: &mut Vec<Violation>,
) {
    let first = |oid: &x509_parser::der_parser::Oid<'_>| {
        name.iter_attributes()
            .find(|a| a.attr_type() == oid)
            .map(|a| a.as_str().unwrap_or_default().to_owned())
    };
    let (country, organization, common_name) = (
        OID_X509_COUNTRY_NAME,
        OID_X509_ORGANIZATION_NAME,
        OID_X509_COMMON_NAME,
    );
    let cn = first(&common_name);
    for (oid, label) in [(&country, "C"), (&organization, "O"), (&common_name, "CN")] {
        if first(oid).is_none_or(|s| s.is_empty()) {
            v.push(violation("subject", format!("subject has no {label}")));
        }
    }
    if role != CertRole::Leaf {
        return;
    }
    let spc = tn_auth_list.and_then(|list| {
        list.iter().find_map(|e| match e {
            TnAuthEntry::Spc(s) => Some(s.as_str()),
            _ => None,
        })
    });
    if let (Some(cn), Some(spc)) = (cn, spc) {
        let expected = format!("SHAKEN {spc}");
        let ok = cn == expected
            || cn
                .strip_prefix(&expected)
                .is_some_and(|rest| rest.starts_with(' '));
        if !ok {
            v.push(violation(
                "subject",
                format!("CN is {cn:?}; it must be \"SHAKEN {spc}\" for the TNAuthList SPC"),
            ));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests;
