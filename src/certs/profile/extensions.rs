//! The rules on a certificate's extensions (ATIS-1000080 v005 section 6.4.1, RFC 5280
//! section 4.2, RFC 8226 section 9).
//!
//! The extensions each role may carry:
//!
//! | extension                | root     | intermediate | end entity |
//! |--------------------------|----------|--------------|------------|
//! | BasicConstraints         | critical | critical     | critical   |
//! | KeyUsage                 | critical | critical     | critical   |
//! | SubjectKeyIdentifier     | yes      | yes          | yes        |
//! | AuthorityKeyIdentifier   | optional | yes          | yes        |
//! | CertificatePolicies      | no       | yes          | yes        |
//! | CRLDistributionPoints    | no       | yes          | yes        |
//! | TNAuthList               | no       | no           | yes        |
//!
//! An extension outside the table is `extension-not-allowed`; one in the table but on
//! the wrong role breaks that extension's own rule.

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension, X509Extension};

use super::{CertRole, Violation, violation};
use crate::certs::TnAuthEntry;
use crate::certs::tnauthlist;

const BASIC_CONSTRAINTS: &str = "2.5.29.19";
const KEY_USAGE: &str = "2.5.29.15";
const SUBJECT_KEY_IDENTIFIER: &str = "2.5.29.14";
const AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";
const CERTIFICATE_POLICIES: &str = "2.5.29.32";
const CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
const TN_AUTH_LIST: &str = tnauthlist::OID_STR;

/// ATIS-1000080 v005 6.4.1.1: "STI certificates shall not include extensions that are
/// not specified."
const ALLOWED: [&str; 7] = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    SUBJECT_KEY_IDENTIFIER,
    AUTHORITY_KEY_IDENTIFIER,
    CERTIFICATE_POLICIES,
    CRL_DISTRIBUTION_POINTS,
    TN_AUTH_LIST,
];
/// The only extensions that may be critical (the ATIS-1000080 v005 change summary:
/// "only the BasicConstraints and Key Usage extensions be marked as critical").
const MAY_BE_CRITICAL: [&str; 2] = [BASIC_CONSTRAINTS, KEY_USAGE];

/// US SHAKEN Certificate Policy 1.3 (section 1.3).
pub(super) const CP_1_3: &str = "2.16.840.1.114569.1.1.3";
/// US SHAKEN Certificate Policy 1.4 (section 1.2).
pub(super) const CP_1_4: &str = "2.16.840.1.114569.1.1.4";
const POLICIES: [&str; 2] = [CP_1_3, CP_1_4];

/// KeyUsage bits as x509-parser numbers them (bit 0 is digitalSignature).
const DIGITAL_SIGNATURE: u16 = 1;
const KEY_CERT_SIGN: u16 = 1 << 5;

/// A certificate's extensions, the first of each OID; later copies are reported once as
/// `duplicate-extension` and otherwise ignored, so that no other rule counts them twice.
pub(super) struct Extensions<'c, 'a> {
    first: Vec<(String, &'c X509Extension<'a>)>,
}

impl<'c, 'a> Extensions<'c, 'a> {
    /// `duplicate-extension`: "A certificate MUST NOT include more than one instance of a
    /// particular extension" (RFC 5280 4.2).
    pub(super) fn of(cert: &'c X509Certificate<'a>, v: &mut Vec<Violation>) -> Self {
        let mut first: Vec<(String, &'c X509Extension<'a>)> = Vec::new();
        let mut reported: Vec<String> = Vec::new();
        for ext in cert.extensions() {
            let oid = ext.oid.to_id_string();
            if !first.iter().any(|(o, _)| *o == oid) {
                first.push((oid, ext));
            } else if !reported.contains(&oid) {
                v.push(violation(
                    "duplicate-extension",
                    format!("extension {oid} appears more than once"),
                ));
                reported.push(oid);
            }
        }
        Extensions { first }
    }

    /// The extensions of an issuer, whose own violations are reported for it.
    pub(super) fn quiet(cert: &'c X509Certificate<'a>) -> Self {
        Self::of(cert, &mut Vec::new())
    }

    fn get(&self, oid: &str) -> Option<&'c X509Extension<'a>> {
        self.first
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, ext)| *ext)
    }

    /// `extension-not-allowed`: only the extensions ATIS-1000080 specifies.
    pub(super) fn check_allowed(&self, v: &mut Vec<Violation>) {
        for (oid, _) in &self.first {
            if !ALLOWED.contains(&oid.as_str()) {
                v.push(violation(
                    "extension-not-allowed",
                    format!("extension {oid} is not one ATIS-1000080 specifies"),
                ));
            }
        }
    }

    /// `critical-extension`: none but BasicConstraints and KeyUsage is critical.
    pub(super) fn check_criticality(&self, v: &mut Vec<Violation>) {
        for (oid, ext) in &self.first {
            if ext.critical && !MAY_BE_CRITICAL.contains(&oid.as_str()) {
                v.push(violation(
                    "critical-extension",
                    format!(
                        "extension {oid} is critical; only BasicConstraints and KeyUsage may be"
                    ),
                ));
            }
        }
    }

    /// `basic-constraints`: "a BasicConstraints extension marked critical. For root and
    /// intermediate certificates, the BasicConstraints CA boolean shall be set to TRUE.
    /// For end-entity certificates, the CA boolean shall be set to FALSE."
    pub(super) fn check_basic_constraints(&self, role: CertRole, v: &mut Vec<Violation>) {
        let rule = "basic-constraints";
        let Some(ext) = self.get(BASIC_CONSTRAINTS) else {
            v.push(violation(rule, "BasicConstraints is missing"));
            return;
        };
        let ParsedExtension::BasicConstraints(bc) = ext.parsed_extension() else {
            v.push(violation(rule, "BasicConstraints is malformed"));
            return;
        };
        if !ext.critical {
            v.push(violation(rule, "BasicConstraints must be critical"));
        }
        match role {
            CertRole::Leaf if bc.ca => v.push(violation(rule, "the leaf must have cA FALSE")),
            CertRole::Intermediate | CertRole::Root if !bc.ca => {
                v.push(violation(rule, "a CA certificate must have cA TRUE"));
            }
            _ => {}
        }
    }

    /// `key-usage`: "a Key Usage extension marked as critical. For root and intermediate
    /// certificates, the Key Usage extension shall contain a single key usage value of
    /// keyCertSign (5). For end-entity certificates, the Key Usage extension shall
    /// contain a single key usage value of digitalSignature (0)."
    pub(super) fn check_key_usage(&self, role: CertRole, v: &mut Vec<Violation>) {
        let rule = "key-usage";
        let Some(ext) = self.get(KEY_USAGE) else {
            v.push(violation(rule, "KeyUsage is missing"));
            return;
        };
        let ParsedExtension::KeyUsage(usage) = ext.parsed_extension() else {
            v.push(violation(rule, "KeyUsage is malformed"));
            return;
        };
        if !ext.critical {
            v.push(violation(rule, "KeyUsage must be critical"));
        }
        match role {
            CertRole::Leaf if usage.flags != DIGITAL_SIGNATURE => v.push(violation(
                rule,
                format!("the leaf has {usage}; digitalSignature only is required"),
            )),
            CertRole::Intermediate | CertRole::Root if usage.flags != KEY_CERT_SIGN => {
                v.push(violation(
                    rule,
                    format!("a CA certificate has {usage}; keyCertSign only is required"),
                ));
            }
            _ => {}
        }
    }

    /// The SubjectKeyIdentifier value, if the extension is there and well formed.
    pub(super) fn subject_key_identifier(&self) -> Option<&'a [u8]> {
        match self.get(SUBJECT_KEY_IDENTIFIER)?.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
            _ => None,
        }
    }

    /// `subject-key-identifier`: "a Subject Key Identifier extension ... The value for the
    /// Subject Key Identifier shall contain the 160-bit SHA-1 hash of the public key, as
    /// described in RFC 5280" (method 1 of RFC 5280 4.2.1.2: the hash of the
    /// subjectPublicKey BIT STRING's value).
    pub(super) fn check_subject_key_identifier(
        &self,
        cert: &X509Certificate<'_>,
        v: &mut Vec<Violation>,
    ) {
        let rule = "subject-key-identifier";
        if self.get(SUBJECT_KEY_IDENTIFIER).is_none() {
            v.push(violation(rule, "SubjectKeyIdentifier is missing"));
            return;
        }
        let Some(id) = self.subject_key_identifier() else {
            v.push(violation(rule, "SubjectKeyIdentifier is malformed"));
            return;
        };
        let expected = digest(
            &SHA1_FOR_LEGACY_USE_ONLY,
            &cert.public_key().subject_public_key.data,
        );
        if id != expected.as_ref() {
            v.push(violation(
                rule,
                "SubjectKeyIdentifier is not the SHA-1 hash of the public key (RFC 5280 4.2.1.2 method 1)",
            ));
        }
    }

    /// `authority-key-identifier`: "STI intermediate and end-entity certificates shall
    /// contain an Authority Key Identifier extension (this extension is optional for root
    /// certificates). For root certificates that contain an Authority Key Identifier
    /// extension, the Authority Key Identifier shall contain a keyIdentifier field with a
    /// value that matches the Subject Key Identifier value of the same root certificate.
    /// For intermediate and end-entity certificates, ... matches the Subject Key
    /// Identifier value of the issuing certificate."
    ///
    /// `issuer_ski` is the SubjectKeyIdentifier of the issuer (a root's own) when the
    /// chain holds the issuer and it has one; otherwise only presence is checked.
    pub(super) fn check_authority_key_identifier(
        &self,
        role: CertRole,
        issuer_ski: Option<&[u8]>,
        v: &mut Vec<Violation>,
    ) {
        let rule = "authority-key-identifier";
        let Some(ext) = self.get(AUTHORITY_KEY_IDENTIFIER) else {
            if role != CertRole::Root {
                v.push(violation(
                    rule,
                    "AuthorityKeyIdentifier with a keyIdentifier is missing",
                ));
            }
            return;
        };
        let key_id = match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref(),
            _ => {
                v.push(violation(rule, "AuthorityKeyIdentifier is malformed"));
                return;
            }
        };
        let Some(key_id) = key_id else {
            v.push(violation(
                rule,
                "AuthorityKeyIdentifier has no keyIdentifier",
            ));
            return;
        };
        if let Some(issuer_ski) = issuer_ski
            && key_id.0 != issuer_ski
        {
            let whose = if role == CertRole::Root {
                "the root's own SubjectKeyIdentifier"
            } else {
                "the issuer's SubjectKeyIdentifier"
            };
            v.push(violation(
                rule,
                format!("AuthorityKeyIdentifier keyIdentifier does not match {whose}"),
            ));
        }
    }

    /// `certificate-policies`: "STI intermediate and end-entity certificates shall include
    /// a Certificate Policies extension containing a single OID value that identifies the
    /// SHAKEN Certificate Policy established by the STI-PA ... STI root certificates shall
    /// not contain a Certificate Policies extension." The US SHAKEN CP OIDs are
    /// 2.16.840.1.114569.1.1.3 (CP 1.3) and 2.16.840.1.114569.1.1.4 (CP 1.4).
    ///
    /// Returns the single policy OID, if there is one.
    pub(super) fn check_certificate_policies(
        &self,
        role: CertRole,
        v: &mut Vec<Violation>,
    ) -> Option<String> {
        let rule = "certificate-policies";
        let ext = self.get(CERTIFICATE_POLICIES);
        if role == CertRole::Root {
            if ext.is_some() {
                v.push(violation(rule, "a root must not carry CertificatePolicies"));
            }
            return None;
        }
        let Some(ext) = ext else {
            v.push(violation(rule, "CertificatePolicies is missing"));
            return None;
        };
        let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() else {
            v.push(violation(rule, "CertificatePolicies is malformed"));
            return None;
        };
        let [policy] = policies.as_slice() else {
            v.push(violation(
                rule,
                format!(
                    "{} policies; exactly one SHAKEN certificate policy OID is required",
                    policies.len()
                ),
            ));
            return None;
        };
        let oid = policy.policy_id.to_id_string();
        if !POLICIES.contains(&oid.as_str()) {
            v.push(violation(
                rule,
                format!(
                    "policy {oid} is not a SHAKEN certificate policy ({})",
                    POLICIES.join(" or ")
                ),
            ));
        }
        Some(oid)
    }

    /// `crl-distribution-points`: "STI intermediate and end-entity certificates shall
    /// contain a CRL Distribution Points extension containing a single DistributionPoint
    /// entry. The DistributionPoint entry shall contain a distributionPoint field
    /// identifying the HTTP URL reference to the file containing the SHAKEN CRL hosted by
    /// the STI-PA, and a CRLIssuer field that matches the DN of the issuer of the CRL.
    /// STI root certificates shall not contain a CRL Distribution Points extension."
    ///
    /// The URL may be http or https. The CRL issuer's DN is not known here (it is the
    /// STI-PA's), so the cRLIssuer is checked to be one non-empty directoryName.
    pub(super) fn check_crl_distribution_points(&self, role: CertRole, v: &mut Vec<Violation>) {
        let rule = "crl-distribution-points";
        let ext = self.get(CRL_DISTRIBUTION_POINTS);
        if role == CertRole::Root {
            if ext.is_some() {
                v.push(violation(
                    rule,
                    "a root must not carry CRLDistributionPoints",
                ));
            }
            return;
        }
        let Some(ext) = ext else {
            v.push(violation(rule, "CRLDistributionPoints is missing"));
            return;
        };
        let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() else {
            v.push(violation(rule, "CRLDistributionPoints is malformed"));
            return;
        };
        let [point] = points.points.as_slice() else {
            v.push(violation(
                rule,
                format!(
                    "{} DistributionPoints; exactly one is required",
                    points.points.len()
                ),
            ));
            return;
        };
        match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => match names.as_slice() {
                [GeneralName::URI(uri)] if is_http_url(uri) => {}
                [GeneralName::URI(uri)] => v.push(violation(
                    rule,
                    format!("distributionPoint {uri:?} is not an http(s) URL"),
                )),
                _ => v.push(violation(
                    rule,
                    "distributionPoint must name exactly one URI, the CRL's http(s) URL",
                )),
            },
            _ => v.push(violation(
                rule,
                "the DistributionPoint has no distributionPoint fullName (the CRL's URL)",
            )),
        }
        match point.crl_issuer.as_deref() {
            Some([GeneralName::DirectoryName(dn)]) if dn.iter().next().is_some() => {}
            Some(_) => v.push(violation(
                rule,
                "cRLIssuer must be exactly one directoryName (the CRL issuer's DN)",
            )),
            None => v.push(violation(
                rule,
                "the DistributionPoint has no cRLIssuer (the CRL issuer's DN)",
            )),
        }
    }

    /// `tn-auth-list`, `tn-auth-list-tagging` and `tn-auth-list-spc`: "STI end-entity
    /// certificates shall contain a TNAuthList extension as specified in RFC 8226. The
    /// TNAuthList shall contain a single SPC value. The SPC value shall contain only
    /// numbers and uppercase letters. The TNAuthList shall not contain any TNs or TN
    /// ranges. STI root and intermediate certificates shall not contain a TNAuthList
    /// extension." RFC 8226's ASN.1 module uses EXPLICIT tags.
    ///
    /// `delegated` marks an RFC 9060 delegate leaf (numbers allowed, no SPC) or the
    /// STI-SCA that issued it (a TNAuthList allowed on a CA).
    ///
    /// Returns the decoded entries, if the certificate has a well-formed TNAuthList.
    pub(super) fn check_tn_auth_list(
        &self,
        role: CertRole,
        delegated: bool,
        v: &mut Vec<Violation>,
    ) -> Option<Vec<TnAuthEntry>> {
        let rule = "tn-auth-list";
        let Some(ext) = self.get(TN_AUTH_LIST) else {
            if role == CertRole::Leaf {
                v.push(violation(
                    rule,
                    "the leaf has no TNAuthList extension (1.3.6.1.5.5.7.1.26)",
                ));
            }
            return None;
        };
        let entries = match tnauthlist::decode(ext.value) {
            Ok(entries) => entries,
            Err(e) => {
                v.push(violation(rule, format!("TNAuthList is malformed: {e}")));
                return None;
            }
        };
        if role != CertRole::Leaf && !delegated {
            v.push(violation(
                rule,
                "a CA certificate must not carry a TNAuthList",
            ));
            return Some(entries);
        }
        if role == CertRole::Leaf
            && !delegated
            && !matches!(entries.as_slice(), [TnAuthEntry::Spc(_)])
        {
            let spcs = entries
                .iter()
                .filter(|e| matches!(e, TnAuthEntry::Spc(_)))
                .count();
            v.push(violation(
                rule,
                format!(
                    "TNAuthList has {} entries ({spcs} SPC); exactly one SPC and no numbers are required",
                    entries.len()
                ),
            ));
        }
        if tnauthlist::has_implicit_tags(ext.value) {
            v.push(violation(
                "tn-auth-list-tagging",
                "TNAuthList entries use IMPLICIT tags; RFC 8226 requires EXPLICIT",
            ));
        }
        for entry in &entries {
            if let TnAuthEntry::Spc(spc) = entry
                && !spc
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            {
                v.push(violation(
                    "tn-auth-list-spc",
                    format!("SPC {spc:?} must hold only digits and upper-case letters"),
                ));
            }
        }
        Some(entries)
    }
}

/// An absolute http or https URL with something after the scheme.
fn is_http_url(uri: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        uri.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            && uri.len() > scheme.len()
    })
}
