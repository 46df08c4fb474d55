//! What one x5u document yields, computed once per fetch and cached: the path from the
//! leaf to a trust anchor, the leaf's key, validity and TNAuthList. The per-call checks
//! of steps 4 to 6 read it. Pure.

use crate::certs::{
    CertError, CertPath, TnAuthEntry, TnAuthListResult, TrustAnchors, build_path, cert_facts,
    load_chain_pem,
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

/// A certificate chain as fetched from x5u, with its path to the trust anchors built.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    /// The leaf, or why the document holds no usable leaf.
    pub leaf: Result<Leaf, CertError>,
    /// The path to a trust anchor, or why none builds.
    pub path: Result<CertPath, CertError>,
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
                    path: Err(e),
                };
            }
        };
        Credential {
            leaf: leaf(&chain),
            path: build_path(&chain, anchors),
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

    /// Step 5: the leaf has a well-formed TNAuthList holding an SPC; returns the SPC.
    pub fn check_tn_auth_list(&self) -> Result<&str, CertError> {
        let leaf = self.leaf.as_ref().map_err(Clone::clone)?;
        let list = leaf.tn_auth_list.as_ref().map_err(Clone::clone)?;
        let list = list.as_ref().ok_or(CertError::MissingTnAuthList)?;
        list.iter()
            .find_map(|e| match e {
                TnAuthEntry::Spc(spc) => Some(spc.as_str()),
                _ => None,
            })
            .ok_or(CertError::NoSpc)
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
    use crate::certs::dev::tests::{NOW, pki};
    use crate::certs::x509_short_sequence;

    fn anchors() -> TrustAnchors {
        TrustAnchors::from_pem(&pki().root_pem).unwrap()
    }

    #[test]
    fn a_pem_chain_yields_leaf_path_and_spc() {
        let pki = pki();
        let c = Credential::from_x5u_body(pki.chain_pem().as_bytes(), &anchors());
        assert!(c.path.is_ok(), "{:?}", c.path);
        assert_eq!(c.check_tn_auth_list(), Ok("1234"));
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
            assert_eq!(c.check_tn_auth_list(), Err(expected.clone()));
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
        assert_eq!(c.check_tn_auth_list(), Err(CertError::MissingTnAuthList));
        // A TNAuthList that holds only a telephone number, no SPC.
        let mut c = Credential::from_x5u_body(pki().chain_pem().as_bytes(), &anchors());
        if let Ok(leaf) = c.leaf.as_mut() {
            leaf.tn_auth_list = Ok(Some(vec![TnAuthEntry::Tn("12155550121".into())]));
        }
        assert_eq!(c.check_tn_auth_list(), Err(CertError::NoSpc));
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
