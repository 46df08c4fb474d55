use super::*;
use crate::certs::dev::tests::{NOW, pki};
use crate::certs::load_chain_pem;

#[test]
fn the_dev_pki_is_clean() {
    let pki = pki();
    let chain = vec![
        pki.leaf_der.clone(),
        pki.intermediate_der.clone(),
        pki.root_der.clone(),
    ];
    let report = check_chain(&chain, NOW);
    assert!(report.is_clean(), "{}", report.summary());
    let roles: Vec<CertRole> = report.certificates.iter().map(|c| c.role).collect();
    assert_eq!(
        roles,
        [CertRole::Leaf, CertRole::Intermediate, CertRole::Root]
    );
    assert_eq!(
        report.certificates[0].tn_auth_list,
        Some(vec![TnAuthEntry::Spc("1234".into())])
    );
    assert_eq!(report.certificates[0].serial.len(), 32);
    assert_eq!(report.summary(), "");
}

#[test]
fn expiry_is_a_violation() {
    let pki = pki();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    let report = check_chain(&chain, NOW + 1000 * 86_400);
    let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
    assert_eq!(rules, ["validity"]);
    assert!(
        report
            .summary()
            .starts_with("certificate 0 validity: expired at")
    );
}

#[test]
fn wrong_order_is_reported() {
    let pki = pki();
    let report = check_chain(&[pki.intermediate_der.clone(), pki.leaf_der.clone()], NOW);
    let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
    for rule in ["chain-order", "chain-issuer-not-ca"] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
}

#[test]
fn a_ca_file_on_its_own_is_checked_as_a_ca() {
    let pki = pki();
    for (der, role) in [
        (&pki.root_der, CertRole::Root),
        (&pki.intermediate_der, CertRole::Intermediate),
    ] {
        let report = check_chain(std::slice::from_ref(der), NOW);
        assert!(report.is_clean(), "{}", report.summary());
        assert_eq!(report.certificates[0].role, role);
    }
}

#[test]
fn garbage_is_a_violation_not_a_panic() {
    let report = check_chain(&[b"junk".to_vec()], NOW);
    assert_eq!(report.certificates[0].violations[0].rule, "der");
    assert!(!check_chain(&[], NOW).is_clean());
}

#[test]
fn foreign_certificate_breaks_many_rules() {
    // A plain rcgen self-signed certificate: no SHAKEN extensions at all.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec!["example.org".into()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let report = check_chain(&[cert.der().to_vec()], NOW);
    let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
    for rule in [
        "basic-constraints",
        "key-usage",
        "authority-key-identifier",
        "certificate-policies",
        "crl-distribution-points",
        "tn-auth-list",
        "subject",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
}

#[test]
fn leaf_cn_must_name_the_spc() {
    let mut v = Vec::new();
    let pki = pki();
    let leaf = parse(&pki.leaf_der).unwrap();
    check_subject(
        leaf.subject(),
        CertRole::Leaf,
        Some(&[TnAuthEntry::Spc("9999".into())]),
        &mut v,
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, "subject");
    v.clear();
    check_subject(
        leaf.subject(),
        CertRole::Leaf,
        Some(&[TnAuthEntry::Spc("1234".into())]),
        &mut v,
    );
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn roles_print_capitalised_and_serialise_in_snake_case() {
    let roles = [CertRole::Leaf, CertRole::Intermediate, CertRole::Root];
    let shown: Vec<String> = roles.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["Leaf", "Intermediate", "Root"]);
    let json = serde_json::to_value(roles).unwrap();
    assert_eq!(json, serde_json::json!(["leaf", "intermediate", "root"]));
}
