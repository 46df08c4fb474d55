//! Certification paths (RFC 5280 section 6, as SHAKEN uses it): trust anchors, building a
//! path from a leaf through the certificates it came with to an anchor, and the
//! time-dependent checks (validity, revocation) made on a built path.
//!
//! Building checks names, signatures and CA constraints once; the result does not depend
//! on the time, so a verifier can cache it and re-run only [`CertPath::check_validity`]
//! and [`PathCert::check_revocation`] per call.

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

/// Checks that `der` may become a trust anchor taken from a list (the STI-PA's list of
/// approved STI-CA roots): a self-signed CA, that is, subject and issuer the same name,
/// its signature verifying with its own key, basicConstraints with cA TRUE, and valid
/// at `now`. Returns its RFC 4514 subject.
pub fn check_root(der: &[u8], now: i64) -> Result<String, CertError> {
    let cert = parse(der)?;
    let subject = rfc4514(cert.subject());
    if cert.subject().as_raw() != cert.issuer().as_raw() {
        let issuer = rfc4514(cert.issuer());
        return Err(CertError::RootNotSelfSigned { subject, issuer });
    }
    match check_issuer_signature(&cert, &cert.public_key().subject_public_key.data) {
        Ok(()) => {}
        Err(CertError::BadSignature) => return Err(CertError::RootBadSignature { subject }),
        Err(e) => return Err(e),
    }
    let constraints = cert
        .basic_constraints()
        .map_err(CertError::CertificateParse)?;
    if !constraints.is_some_and(|c| c.value.ca) {
        return Err(CertError::RootNotACa { subject });
    }
    let validity = cert.validity();
    let (not_before, not_after) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if !(not_before..=not_after).contains(&now) {
        return Err(CertError::RootNotValid {
            subject,
            not_before,
            not_after,
        });
    }
    Ok(subject)
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
    /// The CRL Distribution Points with a URI, in order.
    pub crl_points: Vec<CrlPoint>,
    /// DER of the certificate that signed this one (the next on the path, or the anchor).
    pub issuer_der: Vec<u8>,
    issuer_name_der: Vec<u8>,
}

/// One CRL Distribution Point of a certificate: where its CRL is published, and who
/// issues that CRL when it is not the certificate's issuer (an indirect CRL, as the
/// STI-PA's is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlPoint {
    /// The first URI of the distributionPoint's fullName.
    pub url: String,
    /// DER of the cRLIssuer's directoryName, when the point names one.
    pub crl_issuer: Option<Vec<u8>>,
}

impl CrlPoint {
    /// The name (DER) of whoever signs this point's CRL: the cRLIssuer, or else the
    /// certificate's issuer.
    pub fn signer_name<'a>(&'a self, cert: &'a PathCert) -> &'a [u8] {
        self.crl_issuer
            .as_deref()
            .unwrap_or(cert.issuer_name_der.as_slice())
    }
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
    let pool = chain
        .iter()
        .map(|der| Ok((der.as_slice(), parse(der)?)))
        .collect::<Result<Vec<_>, CertError>>()?;
    let (mut current_der, mut current) = match pool.first() {
        Some((der, cert)) => (*der, cert),
        None => return Err(CertError::NoCertificates),
    };
    let mut used = vec![false; pool.len()];
    let mut current_index = 0;
    let mut certs: Vec<PathCert> = Vec::new();

    loop {
        if let Some(flag) = used.get_mut(current_index) {
            *flag = true;
        }
        if certs.len() + 1 >= MAX_DEPTH {
            return Err(CertError::PathTooLong { max: MAX_DEPTH });
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
                certs.push(path_cert(current, &anchor.der));
                return Ok(finish(certs, anchor));
            }
        }
        let next = pool.iter().enumerate().find(|(i, (_, candidate))| {
            !used.get(*i).copied().unwrap_or(true)
                && candidate.subject().as_raw() == issuer_name
                && check_issuer_signature(current, &candidate.public_key().subject_public_key.data)
                    .is_ok()
        });
        let Some((next_index, (issuer_der, issuer))) = next else {
            return Err(no_issuer(current, name_matched));
        };
        check_ca_position(Some(issuer), certs.len())?;
        certs.push(path_cert(current, issuer_der));
        current_index = next_index;
        current_der = issuer_der;
        current = issuer;
    }
}

/// Why no issuer of `cert` was found: it is a root nobody trusts, an anchor has its
/// issuer's name but not its key, or nothing has its issuer's name.
fn no_issuer(cert: &X509Certificate<'_>, anchor_name_matched: bool) -> CertError {
    let subject = rfc4514(cert.subject());
    if cert.subject().as_raw() == cert.issuer().as_raw()
        && check_issuer_signature(cert, &cert.public_key().subject_public_key.data).is_ok()
    {
        return CertError::UntrustedRoot(subject);
    }
    if anchor_name_matched {
        return CertError::AnchorSignatureMismatch { subject };
    }
    CertError::NoIssuer {
        subject,
        issuer: rfc4514(cert.issuer()),
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
        .map_err(CertError::CertificateParse)?;
    let Some(constraints) = constraints.filter(|c| c.value.ca) else {
        return Err(CertError::NotACa { subject: subject() });
    };
    if let Some(limit) = constraints.value.path_len_constraint
        && below > usize::try_from(limit).unwrap_or(usize::MAX)
    {
        return Err(CertError::PathLenExceeded {
            subject: subject(),
            limit,
            below,
        });
    }
    let usage = issuer.key_usage().map_err(CertError::CertificateParse)?;
    if usage.is_some_and(|u| !u.value.key_cert_sign()) {
        return Err(CertError::NoKeyCertSign { subject: subject() });
    }
    Ok(())
}

fn path_cert(cert: &X509Certificate<'_>, issuer_der: &[u8]) -> PathCert {
    let validity = cert.validity();
    PathCert {
        subject: rfc4514(cert.subject()),
        serial: cert.raw_serial().to_vec(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        crl_points: crl_points(cert),
        issuer_der: issuer_der.to_vec(),
        issuer_name_der: cert.issuer().as_raw().to_vec(),
    }
}

/// The CRL Distribution Points of a certificate that give a URI (fullName), in order,
/// with their cRLIssuer.
pub(crate) fn crl_points(cert: &X509Certificate<'_>) -> Vec<CrlPoint> {
    cert.extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => Some(points),
            _ => None,
        })
        .flat_map(|points| points.points.iter())
        .filter_map(|p| {
            let Some(DistributionPointName::FullName(names)) = &p.distribution_point else {
                return None;
            };
            let url = names.iter().find_map(|n| match n {
                GeneralName::URI(uri) => Some((*uri).to_owned()),
                _ => None,
            })?;
            let crl_issuer = p.crl_issuer.as_ref().and_then(|names| {
                names.iter().find_map(|n| match n {
                    GeneralName::DirectoryName(name) => Some(name.as_raw().to_vec()),
                    _ => None,
                })
            });
            Some(CrlPoint { url, crl_issuer })
        })
        .collect()
}

/// The URIs of a certificate's CRL Distribution Points, in order.
pub(crate) fn crl_urls(cert: &X509Certificate<'_>) -> Vec<String> {
    crl_points(cert).into_iter().map(|p| p.url).collect()
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
}

impl PathCert {
    /// The CRL Distribution Points to check this certificate's revocation at, at least
    /// one.
    pub fn crl_points(&self) -> Result<&[CrlPoint], CertError> {
        if self.crl_points.is_empty() {
            return Err(CertError::NoCrlDistributionPoint {
                subject: self.subject.clone(),
            });
        }
        Ok(&self.crl_points)
    }

    /// DER of this certificate's issuer Name.
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.issuer_name_der
    }

    /// Checks this certificate against `crl`, which the caller fetched from `point` (one
    /// of its [`PathCert::crl_points`]) and whose signature it checked with the
    /// certificate of [`CrlPoint::signer_name`]: the CRL must come from that signer, be
    /// indirect when the point names a cRLIssuer (RFC 5280 6.3.3 (b)), be current at
    /// `now`, and not list this certificate (its issuer and serial).
    pub fn check_revocation(&self, point: &CrlPoint, crl: &Crl, now: i64) -> Result<(), CertError> {
        let subject = || self.subject.clone();
        if crl.issuer_der() != point.signer_name(self) {
            return Err(CertError::CrlNotFromIssuer { subject: subject() });
        }
        if point.crl_issuer.is_some() && !crl.indirect {
            return Err(CertError::CrlNotIndirect { subject: subject() });
        }
        if crl.next_update.is_some_and(|next| next < now) || crl.this_update > now {
            return Err(CertError::CrlNotCurrent { subject: subject() });
        }
        if crl.is_revoked(&self.issuer_name_der, &self.serial) {
            return Err(CertError::Revoked(subject()));
        }
        Ok(())
    }
}

fn check_window(subject: &str, not_before: i64, not_after: i64, at: i64) -> Result<(), CertError> {
    if at > not_after {
        return Err(CertError::PathCertExpired {
            subject: subject.to_owned(),
            not_after,
        });
    }
    if at < not_before {
        return Err(CertError::PathCertNotYetValid {
            subject: subject.to_owned(),
            not_before,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
