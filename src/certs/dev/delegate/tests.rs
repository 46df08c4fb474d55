use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer as _;

use super::super::tests::{NOW, delegating_pki, pki};
use super::*;
use crate::certs::{
    SigningKey, TrustAnchors, build_path, check_chain, check_signing, load_chain_pem,
    verify_issued_by,
};

fn parsed(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der).expect("parse").1
}

fn tn_auth_list(der: &[u8]) -> Option<Vec<TnAuthEntry>> {
    crate::certs::tn_auth_list_of(der).unwrap()
}

fn path_len(der: &[u8]) -> Option<u32> {
    let cert = parsed(der);
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    bc.value.path_len_constraint
}

#[test]
fn the_sti_sca_holds_the_spc_and_the_delegate_leaf_numbers_only() {
    let pki = delegating_pki();
    let d = pki.delegate.as_ref().unwrap();
    assert_eq!(
        tn_auth_list(&d.sca.der),
        Some(vec![TnAuthEntry::Spc("1234".into())])
    );
    assert_eq!(tn_auth_list(&d.leaf.der), Some(d.numbers.clone()));
    assert!(
        !d.numbers.iter().any(|e| matches!(e, TnAuthEntry::Spc(_))),
        "{:?}",
        d.numbers
    );
    // Leaf <- STI-SCA <- STI-CA intermediate <- root.
    assert_eq!(verify_issued_by(&d.leaf.der, &d.sca.der), Ok(()));
    assert_eq!(verify_issued_by(&d.sca.der, &pki.intermediate_der), Ok(()));
    // The STI-SCA issues end entities only; the intermediate now allows it below.
    assert_eq!(path_len(&d.sca.der), Some(0));
    assert_eq!(path_len(&pki.intermediate_der), Some(1));
    assert_eq!(
        path_len(&super::super::tests::pki().intermediate_der),
        Some(0)
    );
    let sca = parsed(&d.sca.der);
    let ku = sca.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && !ku.value.digital_signature());
    // Both name the STI-PA's CRL and its signer, as the rest of the PKI does.
    let point = crate::certs::path::crl_points(&parsed(&pki.leaf_der));
    assert_eq!(crate::certs::path::crl_points(&sca), point);
    assert_eq!(crate::certs::path::crl_points(&parsed(&d.leaf.der)), point);
}

#[test]
fn the_delegate_chain_passes_the_profile_builds_and_may_sign() {
    let pki = delegating_pki();
    let d = pki.delegate.as_ref().unwrap();
    let mut chain = load_chain_pem(&pki.delegate_chain_pem().unwrap()).unwrap();
    assert_eq!(
        chain,
        [
            d.leaf.der.clone(),
            d.sca.der.clone(),
            pki.intermediate_der.clone()
        ]
    );
    let anchors = TrustAnchors::from_pem(&pki.root_pem).unwrap();
    let path = build_path(&chain, &anchors).unwrap();
    assert_eq!(path.certs.len(), 3);
    let key = SigningKey::from_pem(&d.leaf.key_pem).unwrap();
    let check = check_signing(&key, &chain, Some(&anchors), NOW).unwrap();
    assert_eq!(check.info.spc, None);
    assert_eq!(
        check.info.delegated_numbers.as_deref(),
        Some(&d.numbers[..])
    );
    chain.push(pki.root_der.clone());
    let report = check_chain(&chain, NOW);
    assert!(report.is_clean(), "{}", report.summary());
    // An SPC leaf's certificate binds no numbers.
    let spc = crate::certs::cert_info(&pki.leaf_der).unwrap();
    assert_eq!(spc.delegated_numbers, None);
}

#[test]
fn the_sti_ca_of_a_plain_pki_allows_no_sti_sca() {
    let pki = pki();
    let sca = issue_sca(pki, Some(&tnauthlist::encode_spc("1234")), NOW).unwrap();
    let numbers = tnauthlist::encode(&[TnAuthEntry::Tn("12155550121".into())]);
    let leaf = issue_delegate_leaf(pki, &sca.pem, &sca.key_pem, &numbers, NOW).unwrap();
    let chain =
        load_chain_pem(&format!("{}{}{}", leaf.pem, sca.pem, pki.intermediate_pem)).unwrap();
    let anchors = TrustAnchors::from_pem(&pki.root_pem).unwrap();
    assert_eq!(
        build_path(&chain, &anchors).map(|_| ()),
        Err(CertError::PathLenExceeded {
            subject: "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US".into(),
            limit: 0,
            below: 1,
        })
    );
}

#[test]
fn delegate_numbers_are_checked_before_anything_is_issued() {
    let tn = |t: &str| TnAuthEntry::Tn(t.into());
    let range = |s: &str, count| TnAuthEntry::Range {
        start: s.into(),
        count,
    };
    for good in [
        vec![tn("12155550121")],
        vec![range("12155550100", 100)],
        vec![range("98", 2)],
        vec![range("1", 9), tn("9")],
    ] {
        assert_eq!(check_numbers(&good), Ok(()), "{good:?}");
    }
    for (bad, reason) in [
        (
            vec![],
            "a delegate certificate needs at least one number or range",
        ),
        (
            vec![TnAuthEntry::Spc("1234".into())],
            "a delegate certificate holds numbers and ranges, not an SPC",
        ),
        (
            vec![range("12155550100", 1)],
            "a range counts at least 2 numbers",
        ),
        (
            vec![range("12155550100", 0)],
            "a range counts at least 2 numbers",
        ),
        (
            vec![tn("+12155550121")],
            "a telephone number is 1 to 15 digits",
        ),
        (
            vec![tn("1215555012#")],
            "a telephone number is 1 to 15 digits",
        ),
        (vec![tn("")], "a telephone number is 1 to 15 digits"),
        (
            vec![tn(&"1".repeat(16))],
            "a telephone number is 1 to 15 digits",
        ),
        (
            vec![range("99", 2)],
            "the range runs past the last number of its length",
        ),
        (
            vec![range("12155550100", u64::MAX)],
            "the range runs past the last number of its length",
        ),
    ] {
        match check_numbers(&bad) {
            Err(CertError::InvalidDelegateNumber { reason: got, .. }) => {
                assert_eq!(got, reason, "{bad:?}")
            }
            other => panic!("{bad:?}: {other:?}"),
        }
        assert!(
            crate::certs::dev::generate_delegating(
                "1234",
                crate::certs::dev::DEFAULT_CRL_URL,
                &bad,
                NOW
            )
            .is_err()
        );
    }
}

#[test]
fn write_adds_the_delegation_files() {
    let pki = delegating_pki();
    let d = pki.delegate.as_ref().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    crate::certs::dev::write(&dir, pki).unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("sti-sca.pem"), d.sca.pem);
    assert_eq!(read("delegate.pem"), d.leaf.pem);
    assert_eq!(read("delegate.key"), d.leaf.key_pem);
    assert_eq!(
        read("delegate-chain.pem"),
        format!("{}{}{}", d.leaf.pem, d.sca.pem, pki.intermediate_pem)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for key in ["sti-sca.key", "delegate.key"] {
            let mode = std::fs::metadata(dir.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }
    // A PKI without a delegation writes none of them.
    let plain = tmp.path().join("plain");
    crate::certs::dev::write(&plain, super::super::tests::pki()).unwrap();
    assert!(!plain.join("delegate-chain.pem").exists());
    assert!(!plain.join("sti-sca.pem").exists());
}

#[test]
fn debug_redacts_the_delegation_keys() {
    let shown = format!("{:?}", delegating_pki());
    assert!(shown.contains("SHAKEN") || shown.contains("BEGIN CERTIFICATE"));
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}
