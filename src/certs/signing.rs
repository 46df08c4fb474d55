//! The check of the signing key and chain that `callsign serve` runs at start-up and on
//! rotation: key and leaf belong together, the leaf is valid now and carries a
//! TNAuthList, every certificate follows the STI profile, and the chain builds.

use super::{CertError, CertInfo, ChainReport, SigningKey, TrustAnchors, build_path};

/// Below this many days to the leaf's notAfter, [`SigningCheck::expires_soon`] is true.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// A signing pair that passed [`check_signing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCheck {
    /// The leaf.
    pub info: CertInfo,
    /// Whole days until the leaf expires.
    pub days_left: i64,
    /// The (clean) profile report of the chain.
    pub report: ChainReport,
}

impl SigningCheck {
    /// The leaf expires in under [`EXPIRY_WARNING_DAYS`] days: the caller should warn.
    pub fn expires_soon(&self) -> bool {
        self.days_left < EXPIRY_WARNING_DAYS
    }
}

/// Checks that `key` may sign with `chain` (DER, leaf first, as served at x5u) at
/// `now_unix`: [`super::check_signing_pair`], then every STI profile rule of
/// [`super::check_chain`] (which includes that each certificate is issued by the next),
/// and, when `anchors` is given, that the chain builds to one of them.
pub fn check_signing(
    key: &SigningKey,
    chain: &[Vec<u8>],
    anchors: Option<&TrustAnchors>,
    now_unix: i64,
) -> Result<SigningCheck, CertError> {
    let matches = |leaf_key: &[u8]| leaf_key == key.public_key_sec1_ref();
    check_signing_with(matches, chain, anchors, now_unix)
}

/// [`check_signing`] for a key held elsewhere: `key_matches` is given the leaf's public
/// key (SEC1) and says whether the signing key belongs to it (for an HSM key, by
/// verifying a test signature with it).
pub fn check_signing_with(
    key_matches: impl FnOnce(&[u8]) -> bool,
    chain: &[Vec<u8>],
    anchors: Option<&TrustAnchors>,
    now_unix: i64,
) -> Result<SigningCheck, CertError> {
    let info = super::check_signing_leaf(key_matches, chain, now_unix)?;
    let report = super::check_chain(chain, now_unix);
    if !report.is_clean() {
        return Err(CertError::Profile(report));
    }
    if let Some(anchors) = anchors {
        build_path(chain, anchors)?.check_validity(now_unix)?;
    }
    Ok(SigningCheck {
        days_left: (info.not_after - now_unix).div_euclid(86_400),
        info,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::dev::tests::{NOW, pki};
    use crate::certs::{dev, load_chain_pem};

    #[test]
    fn dev_pair_passes_with_and_without_anchors() {
        let pki = pki();
        let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        let anchors = TrustAnchors::from_pem(&pki.root_pem).unwrap();
        let check = check_signing(&key, &chain, Some(&anchors), NOW).unwrap();
        assert_eq!(check.info.spc.as_deref(), Some("1234"));
        assert_eq!(check.days_left, 730);
        assert!(!check.expires_soon());
        assert!(check_signing(&key, &chain, None, NOW).is_ok());
    }

    #[test]
    fn warns_in_the_last_30_days() {
        let pki = pki();
        let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        let not_after = check_signing(&key, &chain, None, NOW)
            .unwrap()
            .info
            .not_after;
        let late = check_signing(&key, &chain, None, not_after - 29 * 86_400).unwrap();
        assert_eq!(late.days_left, 29);
        assert!(late.expires_soon());
    }

    #[test]
    fn a_broken_chain_is_refused_with_the_reason() {
        let pki = pki();
        let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
        let other = dev::generate("1234", NOW).unwrap();
        let chain = vec![pki.leaf_der.clone(), other.intermediate_der.clone()];
        match check_signing(&key, &chain, None, NOW) {
            Err(CertError::Profile(report)) => {
                // Another intermediate of the same name: its signature and its key
                // identifier both tell it is not the leaf's issuer.
                let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
                assert_eq!(rules, ["chain-signature", "authority-key-identifier"]);
                assert_eq!(report, crate::certs::check_chain(&chain, NOW));
            }
            other => panic!("{other:?}"),
        }
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        let anchors = TrustAnchors::from_pem(&other.root_pem).unwrap();
        assert_eq!(
            check_signing(&key, &chain, Some(&anchors), NOW).map(|_| ()),
            Err(CertError::AnchorSignatureMismatch {
                subject: "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US".into()
            })
        );
    }
}
