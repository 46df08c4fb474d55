//! Certification paths (RFC 5280 section 6, as SHAKEN uses it): trust anchors, building a
//! path from a leaf through the certificates it came with to an anchor, and the
//! time-dependent checks (validity, revocation) made on a built path.
//!
//! Building checks names, signatures and CA constraints once; the result does not depend
//! on the time, so a verifier can cache it and re-run only [`CertPath::check_validity`]
//! and [`CertPath::check_revocation`] per call.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};

use super::chain::{check_issuer_signature, parse, rfc4514};
use super::{CertError, Crl, load_chain_pem};

/// Longest path accepted: leaf, up to four intermediates, anchor.
const MAX_DEPTH: usize = 6;

/// Trusted root (or other anchor) certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Anchor {
    der: Vec<u8>,
    subject_der: Vec<u8>,
    subject: String,
    point: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

impl TrustAnchors {
    /// Every `CERTIFICATE` in a PEM bundle becomes an anchor; each must parse.
    pub fn from_pem(pem: &str) -> Result<TrustAnchors, CertError> {
        let mut anchors = TrustAnchors::default();
        for der in load_chain_pem(pem)? {
            anchors.add_der(&der)?;
        }
        Ok(anchors)
    }

    /// Adds one DER certificate as an anchor.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), CertError> {
        let cert = parse(der)?;
        let validity = cert.validity();
        self.anchors.push(Anchor {
            der: der.to_vec(),
            subject_der: cert.subject().as_raw().to_vec(),
            subject: rfc4514(cert.subject()),
            point: cert.public_key().subject_public_key.data.to_vec(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        });
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// One certificate on a built path, with what the per-call checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathCert {
    /// RFC 4514 subject.
    pub subject: String,
    /// Serial number content bytes.
    pub serial: Vec<u8>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// The CRL Distribution Point URIs (fullName), in order.
    pub crl_urls: Vec<String>,
    /// DER of the certificate that signed this one (the next on the path, or the anchor).
    pub issuer_der: Vec<u8>,
    issuer_name_der: Vec<u8>,
}

/// A path from the leaf to a trust anchor whose names, signatures and CA constraints
/// have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPath {
    /// Leaf first; the anchor is not included.
    pub certs: Vec<PathCert>,
    /// RFC 4514 subject of the anchor the path ends at.
    pub anchor_subject: String,
    anchor_not_before: i64,
    anchor_not_after: i64,
}

/// Builds a path from `chain[0]` (the leaf) through the other certificates of `chain`, in
/// any order, to one of `anchors`.
pub fn build_path(chain: &[Vec<u8>], anchors: &TrustAnchors) -> Result<CertPath, CertError> {
    let leaf_der = chain.first().ok_or(CertError::NoCertificates)?;
    let pool = chain
        .iter()
        .map(|der| parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    let mut used = vec![false; pool.len()];
    let mut current_index = 0;
    let mut certs: Vec<PathCert> = Vec::new();
    let mut current_der: &[u8] = leaf_der;

    loop {
        let current = pool
            .get(current_index)
            .ok_or_else(|| CertError::Chain("internal: lost the current certificate".into()))?;
        if let Some(flag) = used.get_mut(current_index) {
            *flag = true;
        }
        if certs.len() + 1 >= MAX_DEPTH {
            return Err(CertError::Chain(format!(
                "no trust anchor within {MAX_DEPTH} certificates"
            )));
        }
        let issuer_name = current.issuer().as_raw();

        // The chain may carry the anchor itself (a root after the intermediates).
        if current_index > 0
            && let Some(anchor) = anchors.anchors.iter().find(|a| a.der == current_der)
        {
            return Ok(finish(certs, anchor));
        }
        let mut name_matched = false;
        for anchor in anchors.anchors.iter() {
            if anchor.subject_der != issuer_name {
                continue;
            }
            name_matched = true;
            if check_issuer_signature(current, &anchor.point).is_ok() {
                check_ca_position(None, certs.len())?;
                certs.push(path_cert(current, &anchor.der)?);
                return Ok(finish(certs, anchor));
            }
        }
        let next = pool.iter().enumerate().find(|(i, candidate)| {
            !used.get(*i).copied().unwrap_or(true)
                && candidate.subject().as_raw() == issuer_name
                && check_issuer_signature(current, &candidate.public_key().subject_public_key.data)
                    .is_ok()
        });
        let Some((next_index, issuer)) = next else {
            let subject = rfc4514(current.subject());
            if current.subject().as_raw() == issuer_name
                && check_issuer_signature(current, &current.public_key().subject_public_key.data)
                    .is_ok()
            {
                return Err(CertError::UntrustedRoot(subject));
            }
            if name_matched {
                return Err(CertError::Chain(format!(
                    "{subject}: signature does not verify with the trust anchor named as its issuer"
                )));
            }
            return Err(CertError::Chain(format!(
                "no issuer found for {subject} (issuer {})",
                rfc4514(current.issuer())
            )));
        };
        check_ca_position(Some(issuer), certs.len())?;
        let issuer_der = chain.get(next_index).map(Vec::as_slice).unwrap_or_default();
        certs.push(path_cert(current, issuer_der)?);
        current_index = next_index;
        current_der = issuer_der;
    }
}

fn finish(certs: Vec<PathCert>, anchor: &Anchor) -> CertPath {
    CertPath {
        certs,
        anchor_subject: anchor.subject.clone(),
        anchor_not_before: anchor.not_before,
        anchor_not_after: anchor.not_after,
    }
}

/// `issuer` signs a certificate that has `below` CA certificates under it on the path:
/// it must be a CA allowed to sign certificates, with a path length that permits them.
/// Anchors (`None`) are trusted as configured.
fn check_ca_position(issuer: Option<&X509Certificate<'_>>, below: usize) -> Result<(), CertError> {
    let Some(issuer) = issuer else {
        return Ok(());
    };
    let subject = || rfc4514(issuer.subject());
    let constraints = issuer
        .basic_constraints()
        .map_err(|e| CertError::Certificate(e.to_string()))?;
    let Some(constraints) = constraints.filter(|c| c.value.ca) else {
        return Err(CertError::Chain(format!("{} is not a CA", subject())));
    };
    if let Some(limit) = constraints.value.path_len_constraint
        && below > usize::try_from(limit).unwrap_or(usize::MAX)
    {
        return Err(CertError::Chain(format!(
            "{} allows {limit} intermediate(s) below it, the path has {below}",
            subject()
        )));
    }
    let usage = issuer
        .key_usage()
        .map_err(|e| CertError::Certificate(e.to_string()))?;
    if usage.is_some_and(|u| !u.value.key_cert_sign()) {
        return Err(CertError::Chain(format!(
            "{} may not sign certificates (no keyCertSign)",
            subject()
        )));
    }
    Ok(())
}

fn path_cert(cert: &X509Certificate<'_>, issuer_der: &[u8]) -> Result<PathCert, CertError> {
    let validity = cert.validity();
    Ok(PathCert {
        subject: rfc4514(cert.subject()),
        serial: cert.raw_serial().to_vec(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        crl_urls: crl_urls(cert),
        issuer_der: issuer_der.to_vec(),
        issuer_name_der: cert.issuer().as_raw().to_vec(),
    })
}

/// The URIs of a certificate's CRL Distribution Points extension.
pub(crate) fn crl_urls(cert: &X509Certificate<'_>) -> Vec<String> {
    cert.extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => Some(points),
            _ => None,
        })
        .flat_map(|points| points.points.iter())
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|n| match n {
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            _ => None,
        })
        .collect()
}

impl CertPath {
    /// Every certificate on the path, and the anchor, is valid at `at` (unix seconds).
    pub fn check_validity(&self, at: i64) -> Result<(), CertError> {
        for cert in &self.certs {
            check_window(&cert.subject, cert.not_before, cert.not_after, at)?;
        }
        check_window(
            &self.anchor_subject,
            self.anchor_not_before,
            self.anchor_not_after,
            at,
        )
    }

    /// The leaf's notAfter, or the earliest notAfter on the path when `whole_path`.
    pub fn not_after(&self, whole_path: bool) -> i64 {
        let leaf = self.certs.first().map_or(i64::MAX, |c| c.not_after);
        if !whole_path {
            return leaf;
        }
        self.certs
            .iter()
            .map(|c| c.not_after)
            .chain([self.anchor_not_after])
            .min()
            .unwrap_or(leaf)
    }

    /// Checks the certificate at `index` against `crl`, which the caller fetched from one
    /// of its [`PathCert::crl_urls`] and whose signature it checked with
    /// [`PathCert::issuer_der`]: the CRL must come from the certificate's issuer, be
    /// current at `now`, and not list its serial.
    pub fn check_revocation(&self, index: usize, crl: &Crl, now: i64) -> Result<(), CertError> {
        let cert = self
            .certs
            .get(index)
            .ok_or_else(|| CertError::Chain(format!("no certificate {index} on the path")))?;
        if crl.issuer_der() != cert.issuer_name_der.as_slice() {
            return Err(CertError::Crl(format!(
                "the CRL for {} is not from its issuer",
                cert.subject
            )));
        }
        if crl.next_update.is_some_and(|next| next < now) || crl.this_update > now {
            return Err(CertError::Crl(format!(
                "the CRL for {} is not current",
                cert.subject
            )));
        }
        if crl.is_revoked(&cert.serial) {
            return Err(CertError::Revoked(cert.subject.clone()));
        }
        Ok(())
    }
}

fn check_window(subject: &str, not_before: i64, not_after: i64, at: i64) -> Result<(), CertError> {
    if at > not_after {
        return Err(CertError::Chain(format!(
            "{subject} expired at {not_after} (unix time)"
        )));
    }
    if at < not_before {
        return Err(CertError::Chain(format!(
            "{subject} is not valid before {not_before} (unix time)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::dev::tests::{NOW, pki};
    use crate::certs::{dev, load_chain_pem};

    fn anchors_of(pem: &str) -> TrustAnchors {
        TrustAnchors::from_pem(pem).unwrap()
    }

    #[test]
    fn dev_chain_builds_to_the_dev_root() {
        let pki = pki();
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
        assert_eq!(path.certs.len(), 2);
        assert_eq!(
            path.certs[0].subject,
            "CN=SHAKEN 1234, O=callsign dev, C=US"
        );
        assert_eq!(path.certs[0].issuer_der, pki.intermediate_der);
        assert_eq!(path.certs[1].issuer_der, pki.root_der);
        assert_eq!(
            path.certs[0].crl_urls,
            vec!["http://127.0.0.1:8080/certs/intermediate.crl".to_string()]
        );
        assert_eq!(
            path.anchor_subject,
            "CN=callsign dev STI root, O=callsign dev, C=US"
        );
        assert_eq!(path.check_validity(NOW), Ok(()));
        assert!(path.check_validity(NOW + 800 * 86_400).is_err());
        assert!(path.check_validity(NOW - 7200).is_err());
        assert_eq!(path.not_after(false), path.certs[0].not_after);
    }

    #[test]
    fn intermediates_in_any_order_and_an_included_root() {
        let pki = pki();
        let chain = vec![
            pki.leaf_der.clone(),
            pki.root_der.clone(),
            pki.intermediate_der.clone(),
        ];
        let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
        assert_eq!(path.certs.len(), 2);
        // The intermediate itself may be the anchor.
        let path = build_path(&chain, &anchors_of(&pki.intermediate_pem)).unwrap();
        assert_eq!(path.certs.len(), 1);
    }

    #[test]
    fn another_root_is_untrusted() {
        let pki = pki();
        let other = dev::generate("5678", NOW).unwrap();
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        // Both dev roots have the same name, so the name matches but the key does not.
        let err = build_path(&chain, &anchors_of(&other.root_pem)).unwrap_err();
        assert!(
            matches!(err, CertError::Chain(ref m) if m.contains("does not verify with the trust anchor")),
            "{err}"
        );
        // An anchor with another name: no issuer at all.
        let err = build_path(&chain, &anchors_of(&other.leaf_pem)).unwrap_err();
        assert!(
            matches!(err, CertError::Chain(ref m) if m.contains("no issuer found")),
            "{err}"
        );
        let mut with_root = chain.clone();
        with_root.push(pki.root_der.clone());
        assert_eq!(
            build_path(&with_root, &anchors_of(&other.root_pem)),
            Err(CertError::UntrustedRoot(
                "CN=callsign dev STI root, O=callsign dev, C=US".into()
            ))
        );
        assert!(build_path(&chain, &TrustAnchors::default()).is_err());
        assert_eq!(
            build_path(&[], &anchors_of(&pki.root_pem)),
            Err(CertError::NoCertificates)
        );
    }

    #[test]
    fn an_intermediate_from_another_pki_does_not_sign_the_leaf() {
        let pki = pki();
        let other = dev::generate("1234", NOW).unwrap();
        // Same names, different keys.
        let chain = vec![pki.leaf_der.clone(), other.intermediate_der.clone()];
        let err = build_path(&chain, &anchors_of(&other.root_pem)).unwrap_err();
        assert!(matches!(err, CertError::Chain(_)), "{err}");
    }

    #[test]
    fn a_leaf_cannot_act_as_a_ca() {
        let pki = pki();
        // The leaf "issues" itself: not self-signed, so no issuer and no anchor.
        let chain = vec![pki.leaf_der.clone(), pki.leaf_der.clone()];
        assert!(build_path(&chain, &anchors_of(&pki.root_pem)).is_err());
    }

    #[test]
    fn revocation_by_crl() {
        let pki = pki();
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
        let empty = Crl::parse(pki.intermediate_crl_pem.as_bytes()).unwrap();
        assert_eq!(path.check_revocation(0, &empty, NOW), Ok(()));
        // A CRL from the wrong issuer (the root's covers the intermediate, not the leaf).
        let root_crl = Crl::parse(pki.root_crl_pem.as_bytes()).unwrap();
        assert!(matches!(
            path.check_revocation(0, &root_crl, NOW),
            Err(CertError::Crl(_))
        ));
        assert_eq!(path.check_revocation(1, &root_crl, NOW), Ok(()));
        // Out of date.
        assert!(matches!(
            path.check_revocation(0, &empty, NOW + 1000 * 86_400),
            Err(CertError::Crl(_))
        ));
        let der = dev::issue_crl(
            &pki.intermediate_pem,
            &pki.intermediate_key_pem,
            &[path.certs[0].serial.as_slice()],
            NOW,
        )
        .unwrap();
        let revoking = Crl::parse(&der).unwrap();
        assert_eq!(
            path.check_revocation(0, &revoking, NOW),
            Err(CertError::Revoked(
                "CN=SHAKEN 1234, O=callsign dev, C=US".into()
            ))
        );
        assert!(path.check_revocation(5, &revoking, NOW).is_err());
    }
}
