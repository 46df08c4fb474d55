use super::*;
use crate::passport::{Attest, Signer};

const X5U: &str = "https://cert.example.org/passport.cer";
const HEADER: &str = r#"{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/passport.cer"}"#;
const PAYLOAD: &str = r#"{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,"orig":{"tn":"12155550121"},"origid":"123e4567-e89b-12d3-a456-426655440000"}"#;

/// An Identity value over arbitrary header and payload text, signed with test key 1
/// directly through ring so that malformed content carries a valid signature, and the
/// public key (uncompressed point).
fn signed(header: &str, payload: &str) -> (String, Vec<u8>) {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

    let key = crate::certs::test_key(1);
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), &rng)
        .expect("test key");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = pair.sign(&rng, input.as_bytes()).expect("signing");
    let jws = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
    (
        format!("{jws};info=<{X5U}>;alg=ES256;ppt=shaken"),
        pair.public_key().as_ref().to_vec(),
    )
}

fn claims_of(value: &str) -> Result<ReceivedClaims, TokenError> {
    Token::parse(value)?.claims()
}

#[test]
fn signer_output_passes_every_token_step() {
    let key = crate::certs::test_key(1);
    let value = Signer::new(&key, X5U)
        .unwrap()
        .identity(&crate::passport::Claims {
            attest: Attest::B,
            dest: &["12155550131", "12155550132"],
            iat: 1_750_000_000,
            orig: "12155550121",
            origid: "o-1",
        })
        .unwrap();
    let token = Token::parse(&value).unwrap();
    assert_eq!(token.check_header(), Ok(X5U));
    let claims = token.claims().unwrap();
    assert_eq!(
        claims,
        ReceivedClaims {
            attest: "B".into(),
            dest: vec!["12155550131".into(), "12155550132".into()],
            iat: 1_750_000_000,
            orig: "12155550121".into(),
            origid: "o-1".into(),
        }
    );
    assert_eq!(check_attest(&claims.attest), Ok(()));
    assert_eq!(token.check_signature(&key.public_key_sec1()), Ok(()));
    let other = crate::certs::test_key(2);
    assert_eq!(
        token.check_signature(&other.public_key_sec1()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn compact_form_and_broken_jws_fail_step_1() {
    assert_eq!(
        Token::parse(&format!("eyJh..c2ln;info=<{X5U}>")).map(|_| ()),
        Err(TokenError::Identity(IdentityError::CompactForm))
    );
    assert_eq!(
        Token::from_jws("a.b").map(|_| ()),
        Err(TokenError::NotThreeParts)
    );
    let not_json = format!(
        "{}.{}.c2ln;info=<{X5U}>",
        URL_SAFE_NO_PAD.encode("[1]"),
        URL_SAFE_NO_PAD.encode(PAYLOAD)
    );
    assert_eq!(
        Token::parse(&not_json).map(|_| ()),
        Err(TokenError::NotJsonObject(JwsPart::Header))
    );
}

#[test]
fn header_fields_and_info_are_checked() {
    let (wrong_ppt, _) = signed(&HEADER.replace("shaken", "div"), PAYLOAD);
    assert_eq!(
        Token::parse(&wrong_ppt).unwrap().check_header(),
        Err(TokenError::HeaderField {
            field: "ppt",
            expected: "shaken",
            got: "\"div\"".into()
        })
    );
    let (no_typ, _) = signed(&HEADER.replace(r#""typ":"passport","#, ""), PAYLOAD);
    assert_eq!(
        Token::parse(&no_typ).unwrap().check_header(),
        Err(TokenError::MissingHeaderField("typ"))
    );
    let (good, _) = signed(HEADER, PAYLOAD);
    let moved = good.replace(
        "info=<https://cert.example.org/",
        "info=<https://evil.example/",
    );
    assert!(matches!(
        Token::parse(&moved).unwrap().check_header(),
        Err(TokenError::InfoMismatch { .. })
    ));
    let param = good.replace(";ppt=shaken", ";ppt=div");
    assert!(matches!(
        Token::parse(&param).unwrap().check_header(),
        Err(TokenError::ParamMismatch { param: "ppt", .. })
    ));
}

#[test]
fn iat_must_be_an_integer() {
    for (iat, kind) in [
        (r#""1443208345""#, "a string"),
        ("1443208345.5", "a fraction"),
        ("null", "null"),
    ] {
        let (value, _) = signed(HEADER, &PAYLOAD.replace("1443208345", iat));
        assert_eq!(
            claims_of(&value),
            Err(TokenError::IatNotInteger(kind)),
            "{iat}"
        );
    }
}

#[test]
fn missing_and_mistyped_claims_are_named() {
    let cases = [
        (PAYLOAD.replace(r#""attest":"A","#, ""), "attest"),
        (
            PAYLOAD.replace(
                r#""origid":"123e4567-e89b-12d3-a456-426655440000""#,
                r#""origid":5"#,
            ),
            "origid",
        ),
        (
            PAYLOAD.replace(r#"{"tn":"12155550121"}"#, r#"{"uri":"sip:a@b"}"#),
            "orig",
        ),
        (PAYLOAD.replace(r#"["12155550131"]"#, "[]"), "dest"),
        (PAYLOAD.replace(r#"["12155550131"]"#, "[1]"), "dest"),
    ];
    for (payload, claim) in cases {
        let (value, _) = signed(HEADER, &payload);
        assert!(
            matches!(claims_of(&value), Err(TokenError::Claim { claim: c, .. }) if c == claim),
            "{payload}: {:?}",
            claims_of(&value)
        );
    }
    let (value, _) = signed(HEADER, &PAYLOAD.replace(r#""A""#, r#""D""#));
    let claims = claims_of(&value).unwrap();
    assert_eq!(
        check_attest(&claims.attest),
        Err(TokenError::Attest("D".into()))
    );
}

#[test]
fn freshness_holds_in_both_directions() {
    assert_eq!(check_freshness(1000, 1060, 60), Ok(()));
    assert_eq!(check_freshness(1000, 940, 60), Ok(()));
    assert_eq!(
        check_freshness(1000, 1061, 60),
        Err(TokenError::Stale(61, 60))
    );
    assert_eq!(
        check_freshness(1000, 939, 60),
        Err(TokenError::Future(61, 60))
    );
    assert!(check_freshness(i64::MIN, i64::MAX, 60).is_err());
    assert_eq!(check_date(1000, 1060, 60), Ok(()));
    assert_eq!(check_date(1000, 940, 60), Ok(()));
    assert_eq!(
        check_date(1000, 1061, 60),
        Err(TokenError::DateNotFresh(61, 60))
    );
    assert_eq!(
        check_date(1000, 939, 60),
        Err(TokenError::DateNotFresh(61, 60))
    );
    assert!(check_date(i64::MIN, i64::MAX, 60).is_err());
}

#[test]
fn numbers_compare_digits() {
    let claims = ReceivedClaims {
        attest: "A".into(),
        dest: vec!["+1-215-555-0131".into(), "12155550132".into()],
        iat: 0,
        orig: "+12155550121".into(),
        origid: String::new(),
    };
    let expected = |orig: Option<&str>, dest: &[&str]| Expected {
        orig: orig.map(str::to_owned),
        dest: dest.iter().map(|d| (*d).to_owned()).collect(),
        date: None,
    };
    assert_eq!(
        check_numbers(&claims, &expected(Some("12155550121"), &["12155550131"])),
        Ok(true)
    );
    assert_eq!(
        check_numbers(&claims, &expected(None, &["19995550000", "12155550132"])),
        Ok(true)
    );
    assert_eq!(check_numbers(&claims, &Expected::default()), Ok(false));
    assert!(matches!(
        check_numbers(&claims, &expected(Some("12155550199"), &[])),
        Err(TokenError::OrigMismatch { .. })
    ));
    assert!(matches!(
        check_numbers(&claims, &expected(None, &["12155550199"])),
        Err(TokenError::DestMismatch { .. })
    ));
}

#[test]
fn a_der_signature_is_refused_as_such() {
    let (value, public) = signed(HEADER, PAYLOAD);
    let (jws, params) = value.split_once(';').unwrap();
    let (input, sig_b64) = jws.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let value = format!(
        "{input}.{};{params}",
        URL_SAFE_NO_PAD.encode(der.as_bytes())
    );
    let token = Token::parse(&value).unwrap();
    assert_eq!(
        token.check_signature(&public),
        Err(TokenError::DerSignature(der.as_bytes().len()))
    );
}

#[test]
fn tampering_breaks_the_signature() {
    let (value, public) = signed(HEADER, PAYLOAD);
    let tampered_payload = value.replacen(
        &URL_SAFE_NO_PAD.encode(PAYLOAD),
        &URL_SAFE_NO_PAD.encode(PAYLOAD.replace("0121", "0199")),
        1,
    );
    let tampered_header = value.replacen(
        &URL_SAFE_NO_PAD.encode(HEADER),
        &URL_SAFE_NO_PAD.encode(HEADER.replace("\"alg\"", " \"alg\"")),
        1,
    );
    for v in [tampered_payload, tampered_header] {
        assert_ne!(v, value);
        let token = Token::parse(&v).unwrap();
        assert_eq!(
            token.check_signature(&public),
            Err(TokenError::BadSignature)
        );
    }
    assert_eq!(
        Token::parse(&value).unwrap().check_signature(&public),
        Ok(())
    );
}

#[test]
fn never_panics_on_truncations() {
    let (value, public) = signed(HEADER, PAYLOAD);
    for end in 0..value.len() {
        if let Ok(token) = Token::parse(&value[..end]) {
            let _ = token.check_header();
            let _ = token.claims();
            let _ = token.check_signature(&public);
        }
    }
}
