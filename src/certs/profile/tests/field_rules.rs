//! One certificate per rule on the certificate's fields and subject, each breaking that
//! rule alone.

use rcgen::{DnType, DnValue, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384};

use super::assert_breaks;
use super::build::{
    CERTIFICATE_POLICIES, COMMON_NAME, COUNTRY, CP_1_4, ORGANIZATION, Pki, SERIAL_NUMBER_ATTRIBUTE,
    TN_AUTH_LIST, name, policies,
};
use crate::certs::tnauthlist;

fn utf8(s: &str) -> DnValue {
    DnValue::Utf8String(s.into())
}

fn printable(s: &str) -> DnValue {
    DnValue::PrintableString(s.try_into().unwrap())
}

#[test]
fn version_must_be_3() {
    let mut pki = Pki::new();
    pki.leaf.raw_version = Some(1);
    assert_breaks(&pki.chain(), &["0:version"]);
}

#[test]
fn signature_algorithm_must_be_ecdsa_with_sha256() {
    // An intermediate with a P-384 key signs its leaf with ecdsa-with-SHA384. The leaf is
    // checked on its own, so that only its own rules speak.
    let p256 = &PKCS_ECDSA_P256_SHA256;
    let pki = Pki::with_keys(p256, &PKCS_ECDSA_P384_SHA384, p256);
    assert_breaks(&pki.chain()[..1], &["0:signature-algorithm"]);
}

#[test]
fn public_key_must_be_p256() {
    let p256 = &PKCS_ECDSA_P256_SHA256;
    let pki = Pki::with_keys(p256, p256, &PKCS_ECDSA_P384_SHA384);
    assert_breaks(&pki.chain(), &["0:public-key"]);
}

#[test]
fn serial_number_needs_64_bits_counted_in_bits() {
    let mut pki = Pki::new();
    // 63 bits in 8 octets.
    pki.leaf.serial = [&[0x7f][..], &[0xff; 7]].concat();
    let report = assert_breaks(&pki.chain(), &["0:serial-number"]);
    assert!(report.summary().contains("63 bits"), "{}", report.summary());
    // 64 bits: nine octets, the first a zero for the sign.
    pki.leaf.serial = [&[0x80][..], &[0x00; 7]].concat();
    assert_breaks(&pki.chain(), &[]);
    // 16 octets whose first nine are zero hold 56 bits.
    pki.leaf.raw_serial = Some([&[0x00; 9][..], &[0xff; 7]].concat());
    assert_breaks(&pki.chain(), &["0:serial-number"]);
}

#[test]
fn serial_number_must_be_positive() {
    for serial in [
        [&[0x80][..], &[0x11; 15]].concat(),
        [&[0xff][..], &[0x80; 15]].concat(),
        vec![0x00],
    ] {
        let mut pki = Pki::new();
        pki.leaf.raw_serial = Some(serial.clone());
        assert_breaks(&pki.chain(), &["0:serial-number"]);
    }
}

#[test]
fn serial_number_must_be_at_most_20_octets_and_der() {
    let mut pki = Pki::new();
    pki.leaf.serial = vec![0x41; 21];
    assert_breaks(&pki.chain(), &["0:serial-number"]);
    // A needless leading zero: 71 bits, but not DER.
    pki.leaf.raw_serial = Some([&[0x00, 0x7f][..], &[0xff; 8]].concat());
    assert_breaks(&pki.chain(), &["0:serial-number"]);
}

#[test]
fn subject_needs_one_c_one_o_and_one_cn() {
    let mut pki = Pki::new();
    pki.leaf.remove_subject(&DnType::OrganizationName);
    assert_breaks(&pki.chain(), &["0:subject"]);

    let mut pki = Pki::new();
    pki.intermediate.remove_subject(&DnType::CountryName);
    assert_breaks(&pki.chain(), &["1:subject"]);

    // Two C attributes, which rcgen will not write.
    let mut pki = Pki::new();
    pki.leaf.raw_subject = Some(name(&[
        (COUNTRY, "US"),
        (COUNTRY, "CA"),
        (ORGANIZATION, "Callsign Test Carrier"),
        (COMMON_NAME, "SHAKEN 709J"),
        (SERIAL_NUMBER_ATTRIBUTE, "0001"),
    ]));
    assert_breaks(&pki.chain(), &["0:subject"]);
}

#[test]
fn country_is_iso_3166_alpha_2_and_us_under_cp_1_4() {
    let mut pki = Pki::new();
    pki.leaf.set_subject(DnType::CountryName, printable("us"));
    assert_breaks(&pki.chain(), &["0:subject"]);

    // CP 1.3 says nothing of the country; CP 1.4 asks for US.
    let mut pki = Pki::new();
    pki.leaf.set_subject(DnType::CountryName, printable("CA"));
    assert_breaks(&pki.chain(), &[]);
    pki.leaf
        .set(CERTIFICATE_POLICIES, false, policies(&[CP_1_4]));
    assert_breaks(&pki.chain(), &["0:subject"]);
}

#[test]
fn leaf_cn_must_contain_shaken_and_the_spc() {
    for cn in [
        "SHAKEN 9999",
        "SHAKEN 709JX",
        "SHAKEN709J",
        "shaken 709J",
        "709J",
    ] {
        let mut pki = Pki::new();
        pki.leaf.set_subject(DnType::CommonName, utf8(cn));
        assert_breaks(&pki.chain(), &["0:subject"]);
    }
    // "contain": other words around the phrase are allowed.
    for cn in ["Callsign Test SHAKEN 709J", "SHAKEN 709J (2026)"] {
        let mut pki = Pki::new();
        pki.leaf.set_subject(DnType::CommonName, utf8(cn));
        assert_breaks(&pki.chain(), &[]);
    }
}

#[test]
fn ca_cn_must_include_shaken_and_a_roots_root() {
    let mut pki = Pki::new();
    pki.intermediate
        .set_subject(DnType::CommonName, utf8("Callsign Test Intermediate"));
    // The leaf names its issuer by the changed subject: it is issued again.
    assert_breaks(&pki.chain(), &["1:subject"]);

    for cn in [
        "Callsign Test SHAKEN",
        "Callsign Test shaken ROOT",
        "SHAKEN ROOTS",
    ] {
        let mut pki = Pki::new();
        pki.root.set_subject(DnType::CommonName, utf8(cn));
        assert_breaks(&pki.chain(), &["2:subject"]);
    }
    let mut pki = Pki::new();
    pki.root
        .set_subject(DnType::CommonName, utf8("Callsign SHAKEN Root CA"));
    assert_breaks(&pki.chain(), &[]);
}

#[test]
fn serial_number_attribute_is_required_under_cp_1_3_only() {
    let serial_number = DnType::CustomDnType(SERIAL_NUMBER_ATTRIBUTE.to_vec());
    let mut pki = Pki::new();
    pki.leaf.remove_subject(&serial_number);
    assert_breaks(&pki.chain(), &["0:subject-serial-number"]);
    pki.leaf
        .set(CERTIFICATE_POLICIES, false, policies(&[CP_1_4]));
    assert_breaks(&pki.chain(), &[]);
    // CAs are not asked for one.
    let mut pki = Pki::new();
    pki.intermediate.remove_subject(&serial_number);
    assert_breaks(&pki.chain(), &[]);

    let mut pki = Pki::new();
    pki.leaf.set_subject(serial_number, printable(""));
    assert_breaks(&pki.chain(), &["0:subject-serial-number"]);

    let mut pki = Pki::new();
    pki.leaf.raw_subject = Some(name(&[
        (COUNTRY, "US"),
        (ORGANIZATION, "Callsign Test Carrier"),
        (COMMON_NAME, "SHAKEN 709J"),
        (SERIAL_NUMBER_ATTRIBUTE, "0001"),
        (SERIAL_NUMBER_ATTRIBUTE, "0002"),
    ]));
    assert_breaks(&pki.chain(), &["0:subject-serial-number"]);
}

#[test]
fn a_lower_case_spc_breaks_only_the_spc_rule() {
    let mut pki = Pki::new();
    pki.leaf
        .set(TN_AUTH_LIST, false, tnauthlist::encode_spc("709j"));
    pki.leaf
        .set_subject(DnType::CommonName, utf8("SHAKEN 709j"));
    assert_breaks(&pki.chain(), &["0:tn-auth-list-spc"]);
    pki.leaf
        .set(TN_AUTH_LIST, false, tnauthlist::encode_spc("709-J"));
    pki.leaf
        .set_subject(DnType::CommonName, utf8("SHAKEN 709-J"));
    assert_breaks(&pki.chain(), &["0:tn-auth-list-spc"]);
}
