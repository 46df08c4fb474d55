//! The STI certificate profile: every rule a certificate or a chain breaks, named, for
//! `callsign certs check` and the start-up check of the signing certificate.
//!
//! The rules are those of ATIS-1000080 v005 section 6.4.1 (STI certificates), RFC 8226
//! (TNAuthList) and the United States SHAKEN Certificate Policy (versions 1.3 and 1.4,
//! policy OIDs 2.16.840.1.114569.1.1.3 and .4). [`fields`] checks the certificate's own
//! fields, [`naming`] its subject, and [`extensions`] its extensions; the rules that
//! compare a certificate with its issuer (the authority key identifier) are given the
//! issuer when the chain holds it.
//!
//! Delegate certificates (RFC 9060) are recognised in the one shape that is simple to
//! tell: a leaf whose TNAuthList holds only telephone numbers or ranges, issued by the
//! next certificate of the chain, a CA that itself carries a TNAuthList (an STI-SCA).
//! For that pair the SHAKEN end-entity TNAuthList rules (a single SPC, `CN=SHAKEN <SPC>`)
//! and the rule that CAs carry no TNAuthList are not applied; the delegate profile
//! (ATIS-1000092) is not checked.

use std::fmt;

use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

use super::chain::{check_issuer_signature, parse, rfc4514};
use super::path::crl_urls;
use super::{CertError, TnAuthEntry};

mod extensions;
mod fields;
mod naming;

use extensions::Extensions;

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
    /// A stable rule name, e.g. `key-usage` or `tn-auth-list`. [`RULES`] lists them all.
    pub rule: &'static str,
    /// What is wrong, for a person.
    pub detail: String,
}

/// Every rule name a [`Violation`] can carry, certificate rules first, then chain rules.
pub const RULES: &[&str] = &[
    "der",
    "version",
    "signature-algorithm",
    "public-key",
    "serial-number",
    "validity",
    "duplicate-extension",
    "extension-not-allowed",
    "critical-extension",
    "basic-constraints",
    "key-usage",
    "subject-key-identifier",
    "authority-key-identifier",
    "certificate-policies",
    "crl-distribution-points",
    "tn-auth-list",
    "tn-auth-list-tagging",
    "tn-auth-list-spc",
    "subject",
    "subject-serial-number",
    "chain",
    "chain-order",
    "chain-signature",
    "chain-issuer-not-ca",
];

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
    let mut chain_violations = Vec::new();
    if chain.is_empty() {
        chain_violations.push(violation("chain", "no certificate"));
    }
    let delegation = delegation(&parsed);
    let mut certificates = Vec::with_capacity(chain.len());
    for (index, cert) in parsed.iter().enumerate() {
        let cert = match cert {
            Ok(cert) => cert,
            Err(e) => {
                certificates.push(unparsable(index, e));
                continue;
            }
        };
        let role = role(index, cert);
        let issuer = match role {
            CertRole::Root => Some(cert),
            _ => match parsed.get(index + 1) {
                Some(Ok(next)) if next.subject().as_raw() == cert.issuer().as_raw() => Some(next),
                _ => None,
            },
        };
        let place = Place {
            role,
            issuer,
            delegated: delegation && index < 2,
        };
        certificates.push(check_cert(index, cert, &place, now));
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
        if !is_ca(issuer) {
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

/// Where a certificate stands: what the rules need beyond the certificate itself.
struct Place<'c, 'a> {
    role: CertRole,
    /// The certificate that issued this one, when the chain holds it (a root's is
    /// itself).
    issuer: Option<&'c X509Certificate<'a>>,
    /// A delegate leaf or the STI-SCA that issued it (see the module documentation).
    delegated: bool,
}

/// The first certificate is the leaf unless it is a CA: then a CA file is being checked
/// on its own. A self-signed CA is a root.
fn role(index: usize, cert: &X509Certificate<'_>) -> CertRole {
    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw()
        && check_issuer_signature(cert, &cert.public_key().subject_public_key.data).is_ok();
    match (index, is_ca(cert), self_signed) {
        (0, false, _) => CertRole::Leaf,
        (_, _, true) => CertRole::Root,
        _ => CertRole::Intermediate,
    }
}

/// Whether the (first) BasicConstraints says cA TRUE; a repeated extension is reported
/// by its own rule.
fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => Some(bc.ca),
            _ => None,
        })
        .unwrap_or(false)
}

/// Whether the chain starts with an RFC 9060 delegate leaf (a TNAuthList of numbers and
/// ranges only) issued by the next certificate, a CA carrying a TNAuthList.
fn delegation(parsed: &[Result<X509Certificate<'_>, CertError>]) -> bool {
    let [Ok(leaf), Ok(issuer), ..] = parsed else {
        return false;
    };
    let numbers_only = matches!(
        super::chain::tn_auth_list(leaf),
        Ok(Some(list)) if list.iter().all(|e| !matches!(e, TnAuthEntry::Spc(_)))
    );
    numbers_only
        && !is_ca(leaf)
        && is_ca(issuer)
        && leaf.issuer().as_raw() == issuer.subject().as_raw()
        && matches!(super::chain::tn_auth_list(issuer), Ok(Some(_)))
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

fn check_cert(
    index: usize,
    cert: &X509Certificate<'_>,
    place: &Place<'_, '_>,
    now: i64,
) -> CertReport {
    let role = place.role;
    let mut v = Vec::new();
    fields::check_version(cert, &mut v);
    fields::check_signature_algorithm(cert, &mut v);
    fields::check_public_key(cert, &mut v);
    fields::check_serial(cert, &mut v);
    fields::check_validity(cert, now, &mut v);

    let exts = Extensions::of(cert, &mut v);
    exts.check_allowed(&mut v);
    exts.check_criticality(&mut v);
    exts.check_basic_constraints(role, &mut v);
    exts.check_key_usage(role, &mut v);
    exts.check_subject_key_identifier(cert, &mut v);
    let issuer_exts = place.issuer.map(Extensions::quiet);
    let issuer_ski = issuer_exts
        .as_ref()
        .and_then(Extensions::subject_key_identifier);
    exts.check_authority_key_identifier(role, issuer_ski, &mut v);
    let policy = exts.check_certificate_policies(role, &mut v);
    exts.check_crl_distribution_points(role, &mut v);
    let tn_auth_list = exts.check_tn_auth_list(role, place.delegated, &mut v);

    let spc = match (role, place.delegated) {
        (CertRole::Leaf, false) => tn_auth_list.as_deref().and_then(single_spc),
        _ => None,
    };
    let subject = naming::Subject {
        role,
        spc,
        delegated: place.delegated,
        policy: policy.as_deref(),
    };
    naming::check_subject(cert.subject(), &subject, &mut v);

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

/// The SPC of a TNAuthList that holds exactly one entry, an SPC.
fn single_spc(list: &[TnAuthEntry]) -> Option<&str> {
    match list {
        [TnAuthEntry::Spc(spc)] => Some(spc),
        _ => None,
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
