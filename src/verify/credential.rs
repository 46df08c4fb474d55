//! What one x5u document yields, computed once per fetch and cached: the path from the
//! leaf to a trust anchor, the leaf's key, validity and TNAuthList, and what authorises
//! the leaf to sign: an SPC, or numbers delegated through an STI-SCA (RFC 9060,
//! ATIS-1000092). The per-call checks of steps 4 to 6 read it. Pure.
//!
//! A delegate leaf holds telephone numbers and ranges and no SPC. It is authorised when
//! its issuer on the built path is a CA with a TNAuthList, and so on up to an STI-SCA, a
//! CA whose TNAuthList holds an SPC, that is not itself the trust anchor; each list must
//! be within its issuer's where that can be told (numbers under numbers; numbers under
//! an SPC cannot be, RFC 9060 section 4.1). Per call, the PASSporT's `orig` must then be
//! one of the leaf's numbers. Every failure is step 5's: ATIS-1000082 E17, 437.

use crate::certs::tnauthlist::scope::{self, Encompassed};
use crate::certs::{
    CertError, CertPath, TnAuthEntry, TnAuthListResult, TrustAnchors, build_path, cert_facts,
    cert_info, load_chain_pem, tn_auth_list_of,
};

/// The leaf facts steps 5, 6 and 11 need.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub subject: String,
    /// Uncompressed P-256 point.
    pub public_key: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    /// The decoded TNAuthList: `Ok(None)` when absent, an error when malformed.
    pub tn_auth_list: TnAuthListResult,
}

/// What authorises the leaf to sign PASSporTs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// Its TNAuthList holds this SPC (the first, when it holds several): SHAKEN's
    /// service provider certificate, for whatever numbers the provider serves.
    Spc(String),
    /// An RFC 9060 delegate certificate: its TNAuthList holds these numbers and ranges
    /// only, delegated by the STI-SCA `sca` (RFC 4514 subject) whose SPC is `spc`.
    Delegate {
        numbers: Vec<TnAuthEntry>,
        sca: String,
        spc: String,
    },
}

/// A certificate chain as fetched from x5u, with its path to the trust anchors built.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    /// The leaf, or why the document holds no usable leaf.
    pub leaf: Result<Leaf, CertError>,
    /// The path to a trust anchor, or why none builds.
    pub path: Result<CertPath, CertError>,
    /// What authorises the leaf, or why nothing does.
    pub authority: Result<Authority, CertError>,
}

impl Credential {
    /// Reads an x5u document (a PEM chain, leaf first, or one DER certificate) and builds
    /// its path to `anchors`.
    pub fn from_x5u_body(body: &[u8], anchors: &TrustAnchors) -> Credential {
        let chain = match std::str::from_utf8(body) {
            Ok(text) if text.contains("-----BEGIN") => load_chain_pem(text),
            _ if body.first() == Some(&0x30) => Ok(vec![body.to_vec()]),
            _ => Err(CertError::NoCertificates),
        };
        let chain = match chain {
            Ok(chain) => chain,
            Err(e) => {
                return Credential {
                    leaf: Err(e.clone()),
                    path: Err(e.clone()),
                    authority: Err(e),
                };
            }
        };
        let leaf = leaf(&chain);
        let path = build_path(&chain, anchors);
        let authority = authority(&leaf, &path);
        Credential {
            leaf,
            path,
            authority,
        }
    }

    /// Until when (unix seconds) this may be cached: `ttl_secs` from `now`, never past
    /// the leaf's notAfter. A leaf already expired is kept `failure_secs`, so that a
    /// stale certificate is not fetched on every call.
    pub fn cache_until(&self, now: i64, ttl_secs: i64, failure_secs: i64) -> i64 {
        let until = now.saturating_add(ttl_secs);
        match &self.leaf {
            Ok(leaf) if leaf.not_after > now => until.min(leaf.not_after),
            _ => now.saturating_add(failure_secs),
        }
    }

    /// Step 5: the leaf has a well-formed TNAuthList and is authorised to sign for
    /// `orig` (the PASSporT's, as received): it holds an SPC, or it is a delegate
    /// certificate (see the module documentation) one of whose numbers `orig` is.
    /// Returns what authorised it, for the report.
    pub fn check_tn_auth_list(&self, orig: &str) -> Result<String, CertError> {
        match self.authority.as_ref().map_err(Clone::clone)? {
            Authority::Spc(spc) => Ok(format!("SPC {spc}")),
            Authority::Delegate { numbers, sca, spc } => {
                let entry =
                    scope::covering(numbers, orig).ok_or_else(|| CertError::OrigNotCovered {
                        orig: orig.to_owned(),
                    })?;
                Ok(format!(
                    "delegate certificate: orig {orig} within its {entry}, delegated by STI-SCA {sca} (SPC {spc})"
                ))
            }
        }
    }

    /// Step 6: the leaf is valid at `iat`.
    pub fn check_valid_at(&self, iat: i64) -> Result<(), CertError> {
        let leaf = self.leaf.as_ref().map_err(Clone::clone)?;
        if iat > leaf.not_after {
            return Err(CertError::Expired {
                not_after: leaf.not_after,
            });
        }
        if iat < leaf.not_before {
            return Err(CertError::NotYetValid {
                not_before: leaf.not_before,
            });
        }
        Ok(())
    }
}

/// What authorises `leaf` (see the module documentation). An SPC leaf is authorised by
/// its SPC as before; when its issuer is a CA with a TNAuthList, its list must also be
/// within the issuer's.
fn authority(
    leaf: &Result<Leaf, CertError>,
    path: &Result<CertPath, CertError>,
) -> Result<Authority, CertError> {
    let leaf = leaf.as_ref().map_err(Clone::clone)?;
    let list = leaf.tn_auth_list.as_ref().map_err(Clone::clone)?;
    let list = list.as_ref().ok_or(CertError::MissingTnAuthList)?;
    if let Some(spc) = first_spc(list) {
        if let Ok(path) = path
            && let Some(first) = path.certs.first()
            && let Some(issuer_list) = tn_auth_list_of(&first.issuer_der)?
        {
            within(&issuer_list, list, &first.subject, &first.issuer_der)?;
        }
        return Ok(Authority::Spc(spc));
    }
    // Numbers only: the authority comes down the path, which must have built.
    let path = path.as_ref().map_err(Clone::clone)?;
    let mut child = list.clone();
    for (index, cert) in path.certs.iter().enumerate() {
        let issuer_subject = || cert_info(&cert.issuer_der).map(|i| i.subject);
        let is_anchor = index + 1 == path.certs.len();
        let issuer_list = match tn_auth_list_of(&cert.issuer_der)? {
            Some(list) if !is_anchor => list,
            _ => {
                return Err(CertError::NoStiSca {
                    subject: cert.subject.clone(),
                    issuer: issuer_subject()?,
                });
            }
        };
        within(&issuer_list, &child, &cert.subject, &cert.issuer_der)?;
        if let Some(spc) = first_spc(&issuer_list) {
            return Ok(Authority::Delegate {
                numbers: list.clone(),
                sca: issuer_subject()?,
                spc,
            });
        }
        child = issuer_list;
    }
    // An empty path: the leaf is an anchor itself, which delegates nothing.
    Err(CertError::NoStiSca {
        subject: leaf.subject.clone(),
        issuer: leaf.subject.clone(),
    })
}

fn first_spc(list: &[TnAuthEntry]) -> Option<String> {
    list.iter().find_map(|e| match e {
        TnAuthEntry::Spc(spc) => Some(spc.clone()),
        _ => None,
    })
}

/// `child` (of the certificate `subject`) is within `issuer_list`, the TNAuthList of the
/// certificate `issuer_der`, or cannot be told not to be.
fn within(
    issuer_list: &[TnAuthEntry],
    child: &[TnAuthEntry],
    subject: &str,
    issuer_der: &[u8],
) -> Result<(), CertError> {
    match scope::encompassed(issuer_list, child) {
        Encompassed::Yes | Encompassed::Undecidable => Ok(()),
        Encompassed::No(entry) => Err(CertError::NotEncompassed {
            subject: subject.to_owned(),
            issuer: cert_info(issuer_der)?.subject,
            entry: entry.to_string(),
        }),
    }
}

fn leaf(chain: &[Vec<u8>]) -> Result<Leaf, CertError> {
    let der = chain.first().ok_or(CertError::NoCertificates)?;
    let (info, tn_auth_list) = cert_facts(der)?;
    Ok(Leaf {
        subject: info.subject,
        public_key: info.public_key_sec1,
        not_before: info.not_before,
        not_after: info.not_after,
        tn_auth_list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::dev::tests::{NOW, delegating_pki, pki};
    use crate::certs::{dev, tnauthlist, x509_short_sequence};

    fn anchors() -> TrustAnchors {
        TrustAnchors::from_pem(&pki().root_pem).unwrap()
    }

    #[test]
    fn a_pem_chain_yields_leaf_path_and_spc() {
        let pki = pki();
        let c = Credential::from_x5u_body(pki.chain_pem().as_bytes(), &anchors());
        assert!(c.path.is_ok(), "{:?}", c.path);
        assert_eq!(c.authority, Ok(Authority::Spc("1234".into())));
        // An SPC leaf signs for any caller: SHAKEN does not tie numbers to SPCs.
        for orig in ["12155550121", "4420", ""] {
            assert_eq!(c.check_tn_auth_list(orig).as_deref(), Ok("SPC 1234"));
        }
        assert_eq!(c.check_valid_at(NOW), Ok(()));
        let leaf = c.leaf.as_ref().unwrap();
        assert_eq!(
            c.check_valid_at(leaf.not_after + 1),
            Err(CertError::Expired {
                not_after: leaf.not_after
            })
        );
        assert_eq!(
            c.check_valid_at(leaf.not_before - 1),
            Err(CertError::NotYetValid {
                not_before: leaf.not_before
            })
        );
    }

    #[test]
    fn a_single_der_leaf_has_a_key_but_no_path() {
        let pki = pki();
        let c = Credential::from_x5u_body(&pki.leaf_der, &anchors());
        assert!(c.leaf.is_ok());
        // Without the intermediate the path cannot reach the root.
        assert_eq!(
            c.path,
            Err(CertError::NoIssuer {
                subject: "serialNumber=1234, CN=SHAKEN 1234, O=callsign dev, C=US".into(),
                issuer: "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US".into(),
            })
        );
    }

    #[test]
    fn garbage_is_reported_not_panicked() {
        let unparsable = CertError::CertificateParse(x509_short_sequence());
        for (body, expected) in [
            (&b""[..], CertError::NoCertificates),
            (b"hello", CertError::NoCertificates),
            (b"\x30\x03abc", unparsable),
        ] {
            let c = Credential::from_x5u_body(body, &anchors());
            assert_eq!(c.leaf, Err(expected.clone()));
            assert_eq!(c.path, Err(expected.clone()));
            assert_eq!(c.check_tn_auth_list("12155550121"), Err(expected.clone()));
            assert_eq!(c.check_valid_at(NOW), Err(expected));
        }
        let c = Credential::from_x5u_body(b"-----BEGIN CERTIFICATE-----\n!!\n", &anchors());
        // The PEM reader's own words; the variant is what matters.
        let Err(pem @ CertError::Pem(_)) = &c.path else {
            panic!("{:?}", c.path);
        };
        assert_eq!(c.leaf, Err(pem.clone()));
        assert_eq!(c.check_valid_at(NOW), Err(pem.clone()));
        // A CA certificate as the "leaf": no TNAuthList.
        let c = Credential::from_x5u_body(pki().intermediate_pem.as_bytes(), &anchors());
        assert_eq!(
            c.check_tn_auth_list("12155550121"),
            Err(CertError::MissingTnAuthList)
        );
    }

    fn delegate_numbers(c: &Credential) -> &[TnAuthEntry] {
        match &c.authority {
            Ok(Authority::Delegate { numbers, .. }) => numbers,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_delegate_chain_is_authorised_by_its_sti_sca_for_its_numbers_only() {
        let pki = delegating_pki();
        let anchors = TrustAnchors::from_pem(&pki.root_pem).unwrap();
        let chain = pki.delegate_chain_pem().unwrap();
        let c = Credential::from_x5u_body(chain.as_bytes(), &anchors);
        assert!(c.path.is_ok(), "{:?}", c.path);
        assert_eq!(
            c.authority,
            Ok(Authority::Delegate {
                numbers: pki.delegate.as_ref().unwrap().numbers.clone(),
                sca: "CN=callsign dev SHAKEN STI-SCA, O=callsign dev, C=US".into(),
                spc: "1234".into(),
            })
        );
        assert_eq!(
            c.check_tn_auth_list("12155550121").as_deref(),
            Ok(
                "delegate certificate: orig 12155550121 within its TN 12155550121, delegated by \
                 STI-SCA CN=callsign dev SHAKEN STI-SCA, O=callsign dev, C=US (SPC 1234)"
            )
        );
        // The range 12155550300 (+100): its first and last number, not one either side.
        for inside in ["12155550300", "12155550399"] {
            let note = c.check_tn_auth_list(inside).unwrap();
            assert!(note.contains("range 12155550300 (+100)"), "{note}");
        }
        for outside in [
            "12155550299",
            "12155550400",
            "2155550121",
            "121555501210",
            "",
        ] {
            assert_eq!(
                c.check_tn_auth_list(outside),
                Err(CertError::OrigNotCovered {
                    orig: outside.into()
                }),
                "{outside}"
            );
        }
        assert_eq!(delegate_numbers(&c).len(), 2);
    }

    #[test]
    fn an_sti_sca_trusted_as_the_anchor_delegates_nothing() {
        // The delegation must come through a CA below the trusted root: an STI-SCA
        // configured as a trust anchor itself is a root carrying a TNAuthList, which
        // ATIS-1000080 does not allow.
        let pki = delegating_pki();
        let d = pki.delegate.as_ref().unwrap();
        let anchors = TrustAnchors::from_pem(&d.sca.pem).unwrap();
        let c = Credential::from_x5u_body(d.leaf.pem.as_bytes(), &anchors);
        assert_eq!(c.path.as_ref().map(|p| p.certs.len()), Ok(1));
        assert!(
            matches!(c.authority, Err(CertError::NoStiSca { .. })),
            "{:?}",
            c.authority
        );
        // Through it, to the root, the same leaf is delegated.
        let anchors = TrustAnchors::from_pem(&pki.root_pem).unwrap();
        let c = Credential::from_x5u_body(pki.delegate_chain_pem().unwrap().as_bytes(), &anchors);
        assert!(c.check_tn_auth_list("12155550121").is_ok());
    }

    #[test]
    fn numbers_without_an_sti_sca_authorise_nothing() {
        // A numbers-only leaf issued by the STI-CA itself.
        let pki = pki();
        let numbers = tnauthlist::encode(&[TnAuthEntry::Tn("12155550121".into())]);
        let leaf = dev::issue_delegate_leaf(
            pki,
            &pki.intermediate_pem,
            &pki.intermediate_key_pem,
            &numbers,
            NOW,
        )
        .unwrap();
        let chain = format!("{}{}", leaf.pem, pki.intermediate_pem);
        let c = Credential::from_x5u_body(chain.as_bytes(), &anchors());
        assert!(c.path.is_ok(), "{:?}", c.path);
        assert_eq!(
            c.check_tn_auth_list("12155550121"),
            Err(CertError::NoStiSca {
                subject:
                    "serialNumber=12155550121, CN=SHAKEN delegate 12155550121, O=callsign dev, C=US"
                        .into(),
                issuer: "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US".into(),
            })
        );
        // Without a path, the delegation cannot be followed: the path's reason stands.
        let other = TrustAnchors::from_pem(&delegating_pki().root_pem).unwrap();
        let c = Credential::from_x5u_body(chain.as_bytes(), &other);
        assert!(c.path.is_err());
        assert_eq!(c.authority.as_ref().err(), c.path.as_ref().err());
    }

    #[test]
    fn cached_no_longer_than_the_ttl_or_the_leaf() {
        let pki = pki();
        let c = Credential::from_x5u_body(pki.chain_pem().as_bytes(), &anchors());
        let not_after = c.leaf.as_ref().unwrap().not_after;
        assert_eq!(c.cache_until(NOW, 86_400, 30), NOW + 86_400);
        assert_eq!(c.cache_until(not_after - 10, 86_400, 30), not_after);
        assert_eq!(c.cache_until(not_after + 1, 86_400, 30), not_after + 31);
        let bad = Credential::from_x5u_body(b"junk", &anchors());
        assert_eq!(bad.cache_until(NOW, 86_400, 30), NOW + 30);
    }
}
