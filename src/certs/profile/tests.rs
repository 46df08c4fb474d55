use std::collections::BTreeSet;

use super::*;
use crate::certs::{load_chain_pem, tnauthlist};

mod build;
mod extension_rules;
mod field_rules;

use build::{NOW, Pki, SPC, STI_PA_CRL};

/// The violations of `report` as `"<index>:<rule>"` (`"chain:<rule>"` for the chain's),
/// each once. Every rule must be one of [`RULES`].
fn broken(report: &ChainReport) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in &report.certificates {
        for v in &c.violations {
            assert!(RULES.contains(&v.rule), "{} is not in RULES", v.rule);
            out.insert(format!("{}:{}", c.index, v.rule));
        }
    }
    for v in &report.chain_violations {
        assert!(RULES.contains(&v.rule), "{} is not in RULES", v.rule);
        out.insert(format!("chain:{}", v.rule));
    }
    out
}

/// Checks `chain` at [`NOW`] and asserts it breaks exactly the rules `expected`
/// (`"<index>:<rule>"` or `"chain:<rule>"`).
#[track_caller]
fn assert_breaks(chain: &[Vec<u8>], expected: &[&str]) -> ChainReport {
    let report = check_chain(chain, NOW);
    let want: BTreeSet<String> = expected.iter().map(ToString::to_string).collect();
    assert_eq!(broken(&report), want, "{}", report.summary());
    report
}

#[test]
fn a_conforming_chain_is_clean() {
    let pki = Pki::new();
    let chain = pki.chain();
    let report = assert_breaks(&chain, &[]);
    assert_eq!(report.summary(), "");
    let roles: Vec<CertRole> = report.certificates.iter().map(|c| c.role).collect();
    assert_eq!(
        roles,
        [CertRole::Leaf, CertRole::Intermediate, CertRole::Root]
    );
    let leaf = &report.certificates[0];
    assert_eq!(leaf.tn_auth_list, Some(vec![TnAuthEntry::Spc(SPC.into())]));
    assert_eq!(leaf.crl_urls, [STI_PA_CRL]);
    assert_eq!(report.certificates[2].crl_urls, Vec::<String>::new());
    assert_eq!(leaf.serial.len(), 32);

    // The x5u chain without its root, and each CA file on its own.
    assert_breaks(&chain[..2], &[]);
    for (der, role) in [
        (&chain[1], CertRole::Intermediate),
        (&chain[2], CertRole::Root),
    ] {
        let report = assert_breaks(std::slice::from_ref(der), &[]);
        assert_eq!(report.certificates[0].role, role);
    }
}

#[test]
fn every_rule_name_is_distinct() {
    let unique: BTreeSet<&str> = RULES.iter().copied().collect();
    assert_eq!(unique.len(), RULES.len());
}

#[test]
fn expiry_is_a_violation() {
    let chain = Pki::new().chain();
    // The leaf is valid for a year, the CAs for longer.
    let report = check_chain(&chain, NOW + 400 * 86_400);
    let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
    assert_eq!(rules, ["validity"]);
    assert!(
        report
            .summary()
            .starts_with("certificate 0 validity: expired at")
    );
    let early = check_chain(&chain, NOW - 2 * 3600);
    assert_eq!(
        broken(&early),
        ["0:validity", "1:validity", "2:validity"]
            .map(String::from)
            .into()
    );
}

#[test]
fn wrong_order_is_reported() {
    let chain = Pki::new().chain();
    let report = check_chain(&[chain[1].clone(), chain[0].clone()], NOW);
    let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
    for rule in ["chain-order", "chain-issuer-not-ca"] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
}

#[test]
fn a_leaf_under_another_ca_of_the_same_name_fails_signature_and_key_identifier() {
    // Same names, other keys: the issuer is found by name, and both the signature and
    // the authority key identifier tell it is the wrong one.
    let leaf = Pki::new().chain().swap_remove(0);
    let other = Pki::new().chain();
    assert_breaks(
        &[leaf, other[1].clone(), other[2].clone()],
        &["0:authority-key-identifier", "chain:chain-signature"],
    );
}

#[test]
fn garbage_is_a_violation_not_a_panic() {
    let report = check_chain(&[b"junk".to_vec()], NOW);
    assert_eq!(report.certificates[0].violations[0].rule, "der");
    assert!(!check_chain(&[], NOW).is_clean());
    let chain = Pki::new().chain();
    assert_breaks(&[chain[0].clone(), b"junk".to_vec()], &["1:der"]);
}

#[test]
fn foreign_certificate_breaks_many_rules() {
    // A plain rcgen self-signed certificate: no SHAKEN extensions at all.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec!["example.org".into()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let report = check_chain(&[cert.der().to_vec()], NOW);
    let rules: BTreeSet<&str> = report.violations().map(|v| v.rule).collect();
    let expected: BTreeSet<&str> = [
        "basic-constraints",
        "key-usage",
        "subject-key-identifier",
        "authority-key-identifier",
        "certificate-policies",
        "crl-distribution-points",
        "tn-auth-list",
        "extension-not-allowed",
        "subject",
    ]
    .into();
    assert_eq!(rules, expected);
}

#[test]
fn a_delegate_leaf_under_an_sti_sca_is_not_held_to_the_spc_rules() {
    // RFC 9060: the STI-SCA (a CA) carries the SPC, the delegate leaf numbers only.
    let mut pki = Pki::new();
    pki.intermediate
        .set(build::TN_AUTH_LIST, false, tnauthlist::encode_spc(SPC));
    let numbers = build::seq(&[build::tn_entry("12155550100")]);
    pki.leaf.set(build::TN_AUTH_LIST, false, numbers);
    pki.leaf.set_subject(
        rcgen::DnType::CommonName,
        rcgen::DnValue::Utf8String("Callsign Test delegate SHAKEN".into()),
    );
    let chain = pki.chain();
    let report = assert_breaks(&chain, &[]);
    assert_eq!(
        report.certificates[0].tn_auth_list,
        Some(vec![TnAuthEntry::Tn("12155550100".into())])
    );
    // Without the STI-SCA beside it, each is checked as a SHAKEN certificate.
    assert_breaks(&chain[..1], &["0:tn-auth-list"]);
    assert_breaks(&chain[1..], &["0:tn-auth-list"]);
    // A CA with a TNAuthList over an SPC leaf is no STI-SCA.
    let mut pki = Pki::new();
    pki.intermediate
        .set(build::TN_AUTH_LIST, false, tnauthlist::encode_spc(SPC));
    assert_breaks(&pki.chain(), &["1:tn-auth-list"]);
}

#[test]
fn roles_print_capitalised_and_serialise_in_snake_case() {
    let roles = [CertRole::Leaf, CertRole::Intermediate, CertRole::Root];
    let shown: Vec<String> = roles.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["Leaf", "Intermediate", "Root"]);
    let json = serde_json::to_value(roles).unwrap();
    assert_eq!(json, serde_json::json!(["leaf", "intermediate", "root"]));
}

// The development PKI (crate::certs::dev) is expected to follow the same profile.

#[test]
fn the_dev_pki_is_clean() {
    use crate::certs::dev::tests::{NOW, pki};
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
    assert!(check_chain(&load_chain_pem(&pki.chain_pem()).unwrap(), NOW).is_clean());
}

#[test]
fn a_dev_ca_file_on_its_own_is_checked_as_a_ca() {
    use crate::certs::dev::tests::{NOW, pki};
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
