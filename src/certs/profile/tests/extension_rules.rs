//! One certificate per rule on the extensions, each breaking that rule alone, and the
//! adversarial shapes: repeated extensions, two policies, two distribution points,
//! unknown critical extensions, IMPLICIT TNAuthList tags.

use super::assert_breaks;
use super::build::{
    AUTHORITY_KEY_IDENTIFIER, BASIC_CONSTRAINTS, CERTIFICATE_POLICIES, CP_1_3, CP_1_4,
    CRL_DISTRIBUTION_POINTS, CRL_SIGN, DIGITAL_SIGNATURE, KEY_CERT_SIGN, KEY_USAGE,
    NON_REPUDIATION, Pki, STI_PA_CRL, SUBJECT_KEY_IDENTIFIER, TN_AUTH_LIST, aki, basic_constraints,
    directory_name, distribution_point, key_usage, oid, policies, seq, ski, spc_entry, sti_pa,
    sti_pa_crl, tlv, tn_entry, truncated_sha256_key_id, uri,
};
use crate::certs::tnauthlist;

/// id-ce-extKeyUsage, which ATIS-1000080 does not specify.
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
/// An extension no one knows.
const UNKNOWN: &[u64] = &[1, 3, 6, 1, 4, 1, 99_999, 1];
/// anyPolicy (RFC 5280 4.2.1.4).
const ANY_POLICY: &[u64] = &[2, 5, 29, 32, 0];
/// The SHAKEN CP OID before CP 1.3.
const CP_1_1: &[u64] = &[2, 16, 840, 1, 114_569, 1, 1, 1];

#[test]
fn a_repeated_extension_is_reported_once_and_judged_by_its_first_copy() {
    let mut pki = Pki::new();
    let id = pki.leaf.value(SUBJECT_KEY_IDENTIFIER);
    pki.leaf.push(SUBJECT_KEY_IDENTIFIER, false, id);
    assert_breaks(&pki.chain(), &["0:duplicate-extension"]);

    let mut pki = Pki::new();
    pki.leaf
        .push(TN_AUTH_LIST, false, tnauthlist::encode_spc("1234"));
    let report = assert_breaks(&pki.chain(), &["0:duplicate-extension"]);
    assert_eq!(
        report.certificates[0].tn_auth_list,
        Some(vec![crate::certs::TnAuthEntry::Spc("709J".into())])
    );

    let mut pki = Pki::new();
    let bc = pki.root.value(BASIC_CONSTRAINTS);
    pki.root.push(BASIC_CONSTRAINTS, true, bc);
    assert_breaks(&pki.chain(), &["2:duplicate-extension"]);
}

#[test]
fn only_the_specified_extensions_are_allowed() {
    let mut pki = Pki::new();
    let server_auth = seq(&[oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1])]);
    pki.leaf.push(EXT_KEY_USAGE, false, server_auth);
    assert_breaks(&pki.chain(), &["0:extension-not-allowed"]);

    let mut pki = Pki::new();
    pki.intermediate.push(UNKNOWN, false, vec![0x05, 0x00]);
    assert_breaks(&pki.chain(), &["1:extension-not-allowed"]);
}

#[test]
fn only_basic_constraints_and_key_usage_may_be_critical() {
    let mut pki = Pki::new();
    pki.leaf
        .set(CERTIFICATE_POLICIES, true, policies(&[CP_1_3]));
    assert_breaks(&pki.chain(), &["0:critical-extension"]);

    let mut pki = Pki::new();
    pki.leaf
        .set(TN_AUTH_LIST, true, tnauthlist::encode_spc("709J"));
    assert_breaks(&pki.chain(), &["0:critical-extension"]);

    // An unknown critical extension is both unknown and wrongly critical.
    let mut pki = Pki::new();
    pki.leaf.push(UNKNOWN, true, vec![0x05, 0x00]);
    assert_breaks(
        &pki.chain(),
        &["0:extension-not-allowed", "0:critical-extension"],
    );
}

#[test]
fn basic_constraints_is_critical_with_the_right_ca_flag() {
    let mut pki = Pki::new();
    pki.leaf
        .set(BASIC_CONSTRAINTS, false, basic_constraints(false));
    assert_breaks(&pki.chain(), &["0:basic-constraints"]);

    let mut pki = Pki::new();
    pki.leaf.remove(BASIC_CONSTRAINTS);
    assert_breaks(&pki.chain(), &["0:basic-constraints"]);

    // An intermediate that is no CA: its own rule, and the chain's.
    let mut pki = Pki::new();
    pki.intermediate
        .set(BASIC_CONSTRAINTS, true, basic_constraints(false));
    assert_breaks(
        &pki.chain(),
        &["1:basic-constraints", "chain:chain-issuer-not-ca"],
    );
}

#[test]
fn key_usage_is_critical_and_single() {
    // ATIS-1000080 v004 allowed cRLSign beside keyCertSign; v005 does not.
    let mut pki = Pki::new();
    pki.intermediate
        .set(KEY_USAGE, true, key_usage(&[KEY_CERT_SIGN, CRL_SIGN]));
    assert_breaks(&pki.chain(), &["1:key-usage"]);

    let mut pki = Pki::new();
    pki.root.set(
        KEY_USAGE,
        true,
        key_usage(&[DIGITAL_SIGNATURE, KEY_CERT_SIGN]),
    );
    assert_breaks(&pki.chain(), &["2:key-usage"]);

    let mut pki = Pki::new();
    pki.leaf.set(
        KEY_USAGE,
        true,
        key_usage(&[DIGITAL_SIGNATURE, NON_REPUDIATION]),
    );
    assert_breaks(&pki.chain(), &["0:key-usage"]);

    let mut pki = Pki::new();
    pki.leaf
        .set(KEY_USAGE, false, key_usage(&[DIGITAL_SIGNATURE]));
    assert_breaks(&pki.chain(), &["0:key-usage"]);

    let mut pki = Pki::new();
    pki.root.remove(KEY_USAGE);
    assert_breaks(&pki.chain(), &["2:key-usage"]);
}

#[test]
fn subject_key_identifier_is_the_sha1_of_the_key() {
    let mut pki = Pki::new();
    pki.leaf.remove(SUBJECT_KEY_IDENTIFIER);
    assert_breaks(&pki.chain(), &["0:subject-key-identifier"]);

    // rcgen's default: a truncated SHA-256. The leaf's AKI follows, so only the
    // intermediate's own rule breaks.
    let mut pki = Pki::new();
    let id = truncated_sha256_key_id(&pki.intermediate.key);
    pki.intermediate
        .set(SUBJECT_KEY_IDENTIFIER, false, ski(&id));
    pki.leaf.set(AUTHORITY_KEY_IDENTIFIER, false, aki(&id));
    assert_breaks(&pki.chain(), &["1:subject-key-identifier"]);
}

#[test]
fn authority_key_identifier_matches_the_issuers_subject_key_identifier() {
    let mut pki = Pki::new();
    pki.leaf
        .set(AUTHORITY_KEY_IDENTIFIER, false, aki(&[0x42; 20]));
    let chain = pki.chain();
    assert_breaks(&chain, &["0:authority-key-identifier"]);
    // Without its issuer the leaf cannot be compared.
    assert_breaks(&chain[..1], &[]);

    let mut pki = Pki::new();
    pki.intermediate.remove(AUTHORITY_KEY_IDENTIFIER);
    assert_breaks(&pki.chain(), &["1:authority-key-identifier"]);

    // authorityCertSerialNumber [2] only, no keyIdentifier.
    let mut pki = Pki::new();
    pki.leaf
        .set(AUTHORITY_KEY_IDENTIFIER, false, seq(&[tlv(0x82, &[0x01])]));
    assert_breaks(&pki.chain(), &["0:authority-key-identifier"]);

    // A root's is optional, but must then name the root's own key.
    let mut pki = Pki::new();
    let own = pki.root.key_id();
    pki.root.set(AUTHORITY_KEY_IDENTIFIER, false, aki(&own));
    assert_breaks(&pki.chain(), &[]);
    pki.root
        .set(AUTHORITY_KEY_IDENTIFIER, false, aki(&pki.leaf.key_id()));
    assert_breaks(&pki.chain(), &["2:authority-key-identifier"]);
}

#[test]
fn exactly_one_shaken_policy_and_none_on_roots() {
    let mut pki = Pki::new();
    pki.leaf
        .set(CERTIFICATE_POLICIES, false, policies(&[CP_1_3, CP_1_4]));
    assert_breaks(&pki.chain(), &["0:certificate-policies"]);

    let mut pki = Pki::new();
    pki.leaf
        .set(CERTIFICATE_POLICIES, false, policies(&[CP_1_1]));
    assert_breaks(&pki.chain(), &["0:certificate-policies"]);

    let mut pki = Pki::new();
    pki.intermediate
        .set(CERTIFICATE_POLICIES, false, policies(&[ANY_POLICY]));
    assert_breaks(&pki.chain(), &["1:certificate-policies"]);

    let mut pki = Pki::new();
    pki.intermediate.remove(CERTIFICATE_POLICIES);
    assert_breaks(&pki.chain(), &["1:certificate-policies"]);

    let mut pki = Pki::new();
    pki.root
        .set(CERTIFICATE_POLICIES, false, policies(&[CP_1_3]));
    assert_breaks(&pki.chain(), &["2:certificate-policies"]);

    // Both CP OIDs are accepted.
    let mut pki = Pki::new();
    pki.intermediate
        .set(CERTIFICATE_POLICIES, false, policies(&[CP_1_4]));
    assert_breaks(&pki.chain(), &[]);
}

#[test]
fn one_distribution_point_with_an_http_url_and_a_crl_issuer_and_none_on_roots() {
    let point = |full_name: &[u8], issuer: &[u8]| seq(&[distribution_point(full_name, issuer)]);
    let sti_pa = directory_name(&sti_pa());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "two points",
            seq(&[
                distribution_point(&uri(STI_PA_CRL), &sti_pa),
                distribution_point(&uri("http://crl.example/sti.crl"), &sti_pa),
            ]),
        ),
        ("no cRLIssuer", point(&uri(STI_PA_CRL), &[])),
        (
            "cRLIssuer a URI",
            point(&uri(STI_PA_CRL), &uri("http://sti-pa.example/")),
        ),
        (
            "two cRLIssuer names",
            point(&uri(STI_PA_CRL), &[sti_pa.clone(), sti_pa.clone()].concat()),
        ),
        ("no distributionPoint", point(&[], &sti_pa)),
        (
            "ldap URL",
            point(&uri("ldap://sti-pa.example/crl"), &sti_pa),
        ),
        (
            "two URLs",
            point(
                &[uri(STI_PA_CRL), uri("http://crl.example/")].concat(),
                &sti_pa,
            ),
        ),
    ];
    for (what, value) in cases {
        let mut pki = Pki::new();
        pki.leaf.set(CRL_DISTRIBUTION_POINTS, false, value);
        let report = super::check_chain(&pki.chain(), super::NOW);
        let rules: Vec<String> = super::broken(&report).into_iter().collect();
        assert_eq!(rules, ["0:crl-distribution-points"], "{what}");
    }

    // http is as good as https.
    let mut pki = Pki::new();
    let http = point(&uri("http://crl.example/sti.crl"), &sti_pa);
    pki.leaf.set(CRL_DISTRIBUTION_POINTS, false, http);
    assert_breaks(&pki.chain(), &[]);

    let mut pki = Pki::new();
    pki.intermediate.remove(CRL_DISTRIBUTION_POINTS);
    assert_breaks(&pki.chain(), &["1:crl-distribution-points"]);

    let mut pki = Pki::new();
    pki.root.set(CRL_DISTRIBUTION_POINTS, false, sti_pa_crl());
    assert_breaks(&pki.chain(), &["2:crl-distribution-points"]);
}

#[test]
fn the_leaf_carries_a_tn_auth_list_of_one_spc_and_cas_none() {
    let mut pki = Pki::new();
    pki.leaf.remove(TN_AUTH_LIST);
    assert_breaks(&pki.chain(), &["0:tn-auth-list"]);

    for (what, list) in [
        ("two SPCs", seq(&[spc_entry("709J"), spc_entry("1234")])),
        (
            "an SPC and a TN",
            seq(&[spc_entry("709J"), tn_entry("12155550100")]),
        ),
        ("empty", seq(&[])),
    ] {
        let mut pki = Pki::new();
        pki.leaf.set(TN_AUTH_LIST, false, list);
        let report = super::check_chain(&pki.chain(), super::NOW);
        let rules: Vec<String> = super::broken(&report).into_iter().collect();
        assert_eq!(rules, ["0:tn-auth-list"], "{what}");
    }

    let mut pki = Pki::new();
    pki.root
        .set(TN_AUTH_LIST, false, tnauthlist::encode_spc("709J"));
    assert_breaks(&pki.chain(), &["2:tn-auth-list"]);
}

#[test]
fn tn_auth_list_tags_are_explicit() {
    // SEQUENCE { [0] IMPLICIT IA5String "709J" }
    let mut pki = Pki::new();
    pki.leaf
        .set(TN_AUTH_LIST, false, seq(&[tlv(0x80, b"709J")]));
    let report = assert_breaks(&pki.chain(), &["0:tn-auth-list-tagging"]);
    assert_eq!(
        report.certificates[0].tn_auth_list,
        Some(vec![crate::certs::TnAuthEntry::Spc("709J".into())])
    );
}
