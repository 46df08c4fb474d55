use std::sync::OnceLock;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer as _;

use super::*;
use crate::certs::chain::rfc4514;
use crate::certs::{
    SigningKey, TnAuthEntry, cert_info, check_signing_pair, load_chain_pem, verify_issued_by,
};

pub(crate) const NOW: i64 = 1_750_000_000;
const SPC: &str = "1234";

/// One PKI shared by the tests of this crate (generation costs three key pairs).
pub(crate) fn pki() -> &'static DevPki {
    static PKI: OnceLock<DevPki> = OnceLock::new();
    PKI.get_or_init(|| generate(SPC, NOW).expect("dev PKI generation"))
}

/// A PKI with a delegation: an STI-SCA for [`SPC`] and a delegate leaf for 12155550121
/// and the range 12155550300 (+100).
pub(crate) fn delegating_pki() -> &'static DevPki {
    static PKI: OnceLock<DevPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let numbers = [
            TnAuthEntry::Tn("12155550121".into()),
            TnAuthEntry::Range {
                start: "12155550300".into(),
                count: 100,
            },
        ];
        generate_delegating(SPC, DEFAULT_CRL_URL, &numbers, NOW).expect("dev PKI generation")
    })
}

fn policies<'a>(
    cert: &'a X509Certificate<'_>,
) -> Vec<&'a x509_parser::extensions::PolicyInformation<'a>> {
    cert.extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => Some(p),
            _ => None,
        })
        .flatten()
        .collect()
}

fn parsed(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der).expect("parse").1
}

#[test]
fn leaf_passes_check_signing_pair() {
    let pki = pki();
    let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    assert_eq!(
        chain,
        vec![pki.leaf_der.clone(), pki.intermediate_der.clone()]
    );
    let info = check_signing_pair(&key, &chain, NOW).unwrap();
    assert_eq!(
        info.subject,
        "serialNumber=1234, CN=SHAKEN 1234, O=callsign dev, C=US"
    );
    assert_eq!(info.spc.as_deref(), Some(SPC));
    assert_eq!(info.public_key_sec1, key.public_key_sec1());
    assert_eq!(info.not_before, NOW - 3600);
    assert_eq!(info.not_after, NOW + LEAF_DAYS * 86_400);
}

#[test]
fn leaf_tnauthlist_holds_exactly_the_spc() {
    let leaf = parsed(&pki().leaf_der);
    let ext = leaf
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == tnauthlist::OID_STR)
        .expect("TNAuthList present");
    assert!(!ext.critical);
    assert_eq!(ext.value, tnauthlist::encode_spc(SPC).as_slice());
    assert_eq!(
        tnauthlist::decode(ext.value),
        Ok(vec![TnAuthEntry::Spc(SPC.into())])
    );
}

#[test]
fn chain_signatures_verify() {
    let pki = pki();
    assert_eq!(
        verify_issued_by(&pki.leaf_der, &pki.intermediate_der),
        Ok(())
    );
    assert_eq!(
        verify_issued_by(&pki.intermediate_der, &pki.root_der),
        Ok(())
    );
    assert_eq!(verify_issued_by(&pki.root_der, &pki.root_der), Ok(()));
    // Wrong issuer.
    assert_eq!(
        verify_issued_by(&pki.leaf_der, &pki.root_der),
        Err(CertError::BadSignature)
    );
    // A flipped bit inside the signed TBS part: the leaf's public key still parses.
    let key = cert_info(&pki.leaf_der).unwrap().public_key_sec1;
    let at = pki
        .leaf_der
        .windows(key.len())
        .position(|w| w == key.as_slice())
        .unwrap()
        + key.len()
        - 1;
    let mut tampered = pki.leaf_der.clone();
    tampered[at] ^= 0x01;
    assert_eq!(
        verify_issued_by(&tampered, &pki.intermediate_der),
        Err(CertError::BadSignature)
    );
}

#[test]
fn different_key_is_a_mismatch() {
    let chain = vec![pki().leaf_der.clone()];
    let other = crate::certs::test_key(1);
    assert_eq!(
        check_signing_pair(&other, &chain, NOW),
        Err(CertError::KeyMismatch)
    );
}

#[test]
fn validity_window_is_enforced() {
    let pki = pki();
    let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
    let chain = vec![pki.leaf_der.clone()];
    let not_after = NOW + LEAF_DAYS * 86_400;
    assert!(check_signing_pair(&key, &chain, not_after).is_ok());
    assert_eq!(
        check_signing_pair(&key, &chain, not_after + 1),
        Err(CertError::Expired { not_after })
    );
    assert_eq!(
        check_signing_pair(&key, &chain, NOW - 3601),
        Err(CertError::NotYetValid {
            not_before: NOW - 3600
        })
    );
    assert_eq!(
        check_signing_pair(&key, &[], NOW),
        Err(CertError::NoCertificates)
    );
}

#[test]
fn ca_certificate_has_no_tnauthlist() {
    let pki = pki();
    let key = SigningKey::from_pem(&pki.intermediate_key_pem).unwrap();
    assert_eq!(
        check_signing_pair(&key, std::slice::from_ref(&pki.intermediate_der), NOW),
        Err(CertError::MissingTnAuthList)
    );
    assert_eq!(cert_info(&pki.root_der).unwrap().spc, None);
}

#[test]
fn certificate_profile() {
    let pki = pki();
    let root = parsed(&pki.root_der);
    let intermediate = parsed(&pki.intermediate_der);
    let leaf = parsed(&pki.leaf_der);

    let bc = root.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
    let ku = root.key_usage().unwrap().unwrap();
    // A single keyCertSign: the STI-PA, not the CAs, signs the CRL.
    assert!(ku.critical && ku.value.key_cert_sign() && !ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    assert_eq!(
        root.validity().not_after.timestamp(),
        NOW + ROOT_DAYS * 86_400
    );
    assert_eq!(root.subject(), root.issuer());

    let bc = intermediate.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(0));
    assert_eq!(intermediate.issuer(), root.subject());

    let bc = leaf.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca);
    let ku = leaf.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature());
    assert!(!ku.value.key_cert_sign());
    assert_eq!(leaf.issuer(), intermediate.subject());

    for cert in [&root, &intermediate, &leaf] {
        assert_eq!(
            cert.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.10045.4.3.2"
        );
        // Positive serial with at least 64 random bits.
        assert!(cert.raw_serial().len() >= 9, "{:02x?}", cert.raw_serial());
        assert!(cert.raw_serial().first().is_some_and(|b| b & 0x80 == 0));
        assert!(matches!(
            cert.get_extension_unique(
                &x509_parser::oid_registry::OID_X509_EXT_SUBJECT_KEY_IDENTIFIER
            ),
            Ok(Some(_))
        ));
    }
    assert_ne!(root.raw_serial(), leaf.raw_serial());
    // AKI on non-roots names the issuer's SKI.
    for (cert, issuer) in [(&intermediate, &root), (&leaf, &intermediate)] {
        let aki = match cert
            .get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER)
            .unwrap()
            .unwrap()
            .parsed_extension()
        {
            ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.clone(),
            other => panic!("AKI: {other:?}"),
        };
        let ski = match issuer
            .get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_SUBJECT_KEY_IDENTIFIER)
            .unwrap()
            .unwrap()
            .parsed_extension()
        {
            ParsedExtension::SubjectKeyIdentifier(ski) => ski.clone(),
            other => panic!("SKI: {other:?}"),
        };
        assert_eq!(aki.map(|k| k.0.to_vec()), Some(ski.0.to_vec()));
    }
    // Certificate policy, and the CRL distribution point naming the STI-PA's CRL and
    // its signer as cRLIssuer, on non-roots only.
    let signer = parsed(&pki.crl_signer_der);
    for cert in [&intermediate, &leaf] {
        let ids: Vec<String> = policies(cert)
            .iter()
            .map(|p| p.policy_id.to_id_string())
            .collect();
        assert_eq!(ids, vec!["2.16.840.1.114569.1.1.3".to_string()]);
        let points = crate::certs::path::crl_points(cert);
        assert_eq!(
            points,
            vec![crate::certs::CrlPoint {
                url: "http://127.0.0.1:8080/certs/sti-pa.crl".into(),
                crl_issuer: Some(signer.subject().as_raw().to_vec()),
            }]
        );
    }
    assert!(policies(&root).is_empty());
    assert!(crate::certs::path::crl_points(&root).is_empty());

    // The CRL signer: issued by the root, signs CRLs and nothing else.
    assert_eq!(
        rfc4514(signer.subject()),
        "CN=STI-PA CRL, O=callsign dev, C=US"
    );
    assert_eq!(signer.issuer(), root.subject());
    let ku = signer.key_usage().unwrap().unwrap();
    assert!(ku.value.crl_sign() && !ku.value.key_cert_sign() && !ku.value.digital_signature());
    let bc = signer.basic_constraints().unwrap().unwrap();
    assert!(!bc.value.ca);
}

#[test]
fn the_sti_pa_crl_is_indirect_and_names_each_issuer() {
    let pki = pki();
    let crl = crate::certs::Crl::parse(pki.crl_pem.as_bytes()).unwrap();
    assert!(crl.indirect);
    assert_eq!(crl.len_revoked(), 0);
    assert_eq!(crl.check_signed_by(&pki.crl_signer_der), Ok(()));
    assert_eq!(crl.this_update, NOW - 3600);
    assert_eq!(crl.next_update, Some(NOW + LEAF_DAYS * 86_400));

    // A leaf (issued by the intermediate) and the intermediate (issued by the root),
    // revoked on one CRL: each entry is found under its own issuer only.
    let der = pki
        .issue_crl(&[&pki.leaf_der, &pki.intermediate_der], NOW)
        .unwrap();
    let crl = crate::certs::Crl::parse(&der).unwrap();
    assert_eq!(crl.check_signed_by(&pki.crl_signer_der), Ok(()));
    let leaf = parsed(&pki.leaf_der);
    let intermediate = parsed(&pki.intermediate_der);
    let root_name = parsed(&pki.root_der).subject().as_raw().to_vec();
    assert!(crl.is_revoked(leaf.issuer().as_raw(), leaf.raw_serial()));
    assert!(crl.is_revoked(&root_name, intermediate.raw_serial()));
    assert!(!crl.is_revoked(&root_name, leaf.raw_serial()));
    assert!(!crl.is_revoked(leaf.issuer().as_raw(), intermediate.raw_serial()));
    // The CRL's issuer is the signer, not a CA of the path.
    assert_eq!(
        crl.check_signed_by(&pki.intermediate_der),
        Err(CertError::CrlIssuerMismatch)
    );
}

#[test]
fn crl_url_prefix_sets_both_distribution_points() {
    let pki = generate_with("1234", "http://127.0.0.1:9/crl", NOW).unwrap();
    let urls = |der: &[u8]| crate::certs::path::crl_urls(&parsed(der));
    assert_eq!(urls(&pki.leaf_der), ["http://127.0.0.1:9/crl/sti-pa.crl"]);
    assert_eq!(
        urls(&pki.intermediate_der),
        ["http://127.0.0.1:9/crl/sti-pa.crl"]
    );
    assert_eq!(pki.crl_url, "http://127.0.0.1:9/crl/sti-pa.crl");
    for bad in ["ftp://x/", "http://", "http://x/?a=b", "https://a b/", ""] {
        assert_eq!(
            generate_with("1234", bad, NOW).map(|_| ()),
            Err(CertError::InvalidCrlUrl(bad.into())),
            "{bad:?}"
        );
    }
}

#[test]
fn spc_is_validated() {
    for bad in ["", "12 4", "12,4", "é", "12ab", &"1".repeat(65)] {
        assert_eq!(
            generate(bad, NOW).map(|_| ()),
            Err(CertError::InvalidSpc(bad.to_string()))
        );
    }
}

#[test]
fn debug_redacts_keys() {
    let shown = format!("{:?}", pki());
    assert!(shown.contains("BEGIN CERTIFICATE"));
    assert!(!shown.contains("PRIVATE KEY"));
}

#[test]
fn write_creates_files_and_refuses_to_overwrite() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    write(&dir, pki).unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("root.pem"), pki.root_pem);
    assert_eq!(read("intermediate.key"), pki.intermediate_key_pem);
    assert_eq!(read("chain.pem"), pki.chain_pem());
    assert!(read("leaf.key").starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(read("crl.pem"), pki.crl_pem);
    assert_eq!(read("sti-pa-crl.pem"), pki.crl_signer_pem);
    assert!(read("sti-pa-crl.key").starts_with("-----BEGIN PRIVATE KEY-----"));
    let crl_der = std::fs::read(dir.join("sti-pa.crl")).unwrap();
    let crl = crate::certs::Crl::parse(&crl_der).unwrap();
    assert!(crl.indirect);
    assert_eq!(crl.check_signed_by(&pki.crl_signer_der), Ok(()));
    let key = SigningKey::from_pem(&read("leaf.key")).unwrap();
    let chain = load_chain_pem(&read("chain.pem")).unwrap();
    assert!(check_signing_pair(&key, &chain, NOW).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |name: &str| {
            std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("leaf.key"), 0o600);
        assert_eq!(mode("root.key"), 0o600);
        assert_eq!(mode("sti-pa-crl.key"), 0o600);
    }

    // Second write: refused, and the existing key is untouched.
    std::fs::remove_file(dir.join("root.pem")).unwrap();
    let other = generate("5678", NOW).unwrap();
    assert_eq!(
        write(&dir, &other),
        Err(CertError::Io {
            path: dir.join("root.key").display().to_string(),
            reason: "already exists; refusing to overwrite".into()
        })
    );
    assert_eq!(read("leaf.key"), pki.leaf_key_pem);
    assert!(!dir.join("root.pem").exists());
}

#[test]
fn a_leaf_for_a_key_held_elsewhere_passes_the_signing_check() {
    let pki = pki();
    let other = SigningKey::from_pem(&generate("9", NOW).unwrap().leaf_key_pem).unwrap();
    let point = other.public_key_sec1();
    let leaf = issue_leaf(pki, "5678", &point, NOW).unwrap();
    let chain = load_chain_pem(&format!("{leaf}{}", pki.intermediate_pem)).unwrap();
    let check = crate::certs::check_signing(&other, &chain, None, NOW).unwrap();
    assert_eq!(check.info.spc.as_deref(), Some("5678"));
    assert_eq!(check.info.public_key_sec1, point);
    assert!(issue_leaf(pki, "5678", &point[1..], NOW).is_err());
    assert!(issue_leaf(pki, "bad spc", &point, NOW).is_err());
}
