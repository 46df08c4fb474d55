//! Published vectors: the draft-08 RFC 8225 example token verifies with its published key
//! but fails the claims step because its `iat` is a string, and the RFC 8588 example
//! serializes byte for byte. Sources: tests/data/passport/README.md.

use callsign::passport::{Attest, Claims, header_json, payload_json};
use callsign::verify::{Token, TokenError};
use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::pkcs8::DecodePublicKey as _;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/passport");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{name}")).unwrap()
}

#[test]
fn rfc8225_example_verifies_but_its_string_iat_fails() {
    let token = read("rfc8225-draft08-token.txt");
    let key = p256::PublicKey::from_public_key_pem(&read("rfc8225-draft08-public.pem")).unwrap();
    let point = key.as_affine().to_sec1_point(false);

    let parsed = Token::from_jws(token.trim()).unwrap();
    // The signature over the bytes as received is good.
    assert_eq!(parsed.check_signature(point.as_bytes()), Ok(()));
    // The claims are not: iat is "1443208345", a string, not a NumericDate.
    assert_eq!(parsed.claims(), Err(TokenError::IatNotInteger("a string")));
    // And it predates ppt: its header has none, so it is no SHAKEN PASSporT either
    // (ATIS-1000082 E9, checked before the values of the fields present).
    assert_eq!(
        parsed.check_header(),
        Err(TokenError::MissingHeaderField("ppt"))
    );

    // One changed character at the start of the payload breaks the signature.
    let flipped = token.trim().replacen(".eyJkZXN0", ".eyJkZXN1", 1);
    assert_ne!(flipped, token.trim());
    let flipped = Token::from_jws(&flipped).unwrap();
    assert_eq!(
        flipped.check_signature(point.as_bytes()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn rfc8588_example_serializes_byte_for_byte() {
    assert_eq!(
        header_json("https://cert.example.org/passport.cer"),
        read("rfc8588-header.json")
    );
    let mut payload = String::new();
    payload_json(
        &Claims {
            attest: Attest::A,
            dest: &["12155550131"],
            iat: 1_443_208_345,
            orig: "12155550121",
            origid: "123e4567-e89b-12d3-a456-426655440000",
        },
        &mut payload,
    );
    assert_eq!(payload, read("rfc8588-payload.json"));
}
