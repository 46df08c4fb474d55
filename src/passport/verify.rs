//! Basic PASSporT check: ES256 signature over the received bytes and typed decoding of
//! header and claims. Certificate fetching, chain, freshness and TN checks live elsewhere.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde::Deserialize;

use super::{Attest, JwsPart, PassportError};

/// The protected header of a PASSporT.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PassportHeader {
    pub alg: String,
    pub ppt: String,
    pub typ: String,
    pub x5u: String,
}

/// The SHAKEN claims of a received PASSporT, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedClaims {
    pub attest: Attest,
    pub dest: Vec<String>,
    pub iat: i64,
    pub orig: String,
    pub origid: String,
}

/// A PASSporT whose signature verified with the given key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub header: PassportHeader,
    pub claims: OwnedClaims,
}

/// The payload as it appears on the wire. Unknown claims are ignored.
#[derive(Deserialize)]
struct WirePayload {
    attest: Attest,
    dest: WireDest,
    /// serde refuses strings and fractions here: `iat` must be a JSON integer.
    iat: i64,
    orig: WireOrig,
    origid: String,
}

#[derive(Deserialize)]
struct WireDest {
    tn: Vec<String>,
}

#[derive(Deserialize)]
struct WireOrig {
    tn: String,
}

/// Checks the ES256 signature of a compact JWS and decodes its header and claims.
///
/// `public_key_sec1` is the signer's uncompressed P-256 point (65 bytes, `04 || x || y`).
/// The signature is checked over `header.payload` exactly as received, before the
/// payload is decoded.
pub fn verify_jws(jws: &str, public_key_sec1: &[u8]) -> Result<Verified, PassportError> {
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PassportError::NotThreeParts);
    };

    let header: PassportHeader = decode_json(header_b64, JwsPart::Header)?;
    if header.alg != "ES256" {
        return Err(PassportError::UnsupportedAlg(header.alg));
    }

    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| PassportError::Base64(JwsPart::Signature))?;
    if signature.len() != 64 {
        return Err(PassportError::SignatureLength(signature.len()));
    }
    // header_b64 '.' payload_b64 is a prefix of the input: sign input as received.
    let signed_len = header_b64.len() + 1 + payload_b64.len();
    let signed = jws.as_bytes().get(..signed_len).unwrap_or_default();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key_sec1)
        .verify(signed, &signature)
        .map_err(|_| PassportError::BadSignature)?;

    let payload: WirePayload = decode_json(payload_b64, JwsPart::Payload)?;
    Ok(Verified {
        header,
        claims: OwnedClaims {
            attest: payload.attest,
            dest: payload.dest.tn,
            iat: payload.iat,
            orig: payload.orig.tn,
            origid: payload.origid,
        },
    })
}

fn decode_json<T: for<'de> Deserialize<'de>>(b64: &str, part: JwsPart) -> Result<T, PassportError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| PassportError::Base64(part))?;
    serde_json::from_slice(&bytes).map_err(|e| PassportError::Json {
        part,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/passport.cer"}"#;
    const PAYLOAD: &str = r#"{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,"orig":{"tn":"12155550121"},"origid":"123e4567-e89b-12d3-a456-426655440000"}"#;

    use crate::passport::sign_raw;

    #[test]
    fn decodes_rfc8588_example() {
        let (jws, public) = sign_raw(HEADER, PAYLOAD);
        let v = verify_jws(&jws, &public).unwrap();
        assert_eq!(
            v.header,
            PassportHeader {
                alg: "ES256".into(),
                ppt: "shaken".into(),
                typ: "passport".into(),
                x5u: "https://cert.example.org/passport.cer".into(),
            }
        );
        assert_eq!(
            v.claims,
            OwnedClaims {
                attest: Attest::A,
                dest: vec!["12155550131".into()],
                iat: 1_443_208_345,
                orig: "12155550121".into(),
                origid: "123e4567-e89b-12d3-a456-426655440000".into(),
            }
        );
    }

    #[test]
    fn signature_covers_bytes_as_received_not_reserialized() {
        // Non-canonical but valid JSON (whitespace, other key order) must verify as sent.
        let payload = r#"{ "origid":"x", "orig":{"tn":"1"}, "iat":5, "dest":{"tn":["2"]}, "attest":"B", "extra":true }"#;
        let (jws, public) = sign_raw(HEADER, payload);
        let v = verify_jws(&jws, &public).unwrap();
        assert_eq!(v.claims.attest, Attest::B);
        assert_eq!(v.claims.iat, 5);
    }

    #[test]
    fn iat_must_be_an_integer() {
        for iat in [r#""1443208345""#, "1443208345.5", "null"] {
            let payload = PAYLOAD.replace("1443208345", iat);
            let (jws, public) = sign_raw(HEADER, &payload);
            assert!(
                matches!(
                    verify_jws(&jws, &public),
                    Err(PassportError::Json {
                        part: JwsPart::Payload,
                        ..
                    })
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn unknown_attestation_is_rejected() {
        let (jws, public) = sign_raw(HEADER, &PAYLOAD.replace(r#""A""#, r#""D""#));
        assert!(matches!(
            verify_jws(&jws, &public),
            Err(PassportError::Json { .. })
        ));
    }

    #[test]
    fn only_es256_is_accepted() {
        let (jws, public) = sign_raw(&HEADER.replace("ES256", "none"), PAYLOAD);
        assert_eq!(
            verify_jws(&jws, &public),
            Err(PassportError::UnsupportedAlg("none".into()))
        );
    }

    #[test]
    fn structural_errors_are_reported() {
        let (jws, public) = sign_raw(HEADER, PAYLOAD);
        let (h, rest) = jws.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();

        assert_eq!(verify_jws(h, &public), Err(PassportError::NotThreeParts));
        assert_eq!(
            verify_jws(&format!("{jws}.x"), &public),
            Err(PassportError::NotThreeParts)
        );
        assert_eq!(
            verify_jws(&format!("{h}.{p}.{s}="), &public),
            Err(PassportError::Base64(JwsPart::Signature))
        );
        assert_eq!(
            verify_jws(&format!("!{h}.{p}.{s}"), &public),
            Err(PassportError::Base64(JwsPart::Header))
        );
        let short = URL_SAFE_NO_PAD.encode([0u8; 63]);
        assert_eq!(
            verify_jws(&format!("{h}.{p}.{short}"), &public),
            Err(PassportError::SignatureLength(63))
        );
        // A DER (ASN.1) signature is not the JOSE form.
        let der_len = URL_SAFE_NO_PAD.encode([0u8; 71]);
        assert_eq!(
            verify_jws(&format!("{h}.{p}.{der_len}"), &public),
            Err(PassportError::SignatureLength(71))
        );
        assert_eq!(
            verify_jws(&format!("{h}..{s}"), &public),
            Err(PassportError::BadSignature)
        );
    }

    #[test]
    fn garbage_public_key_is_a_bad_signature_not_a_panic() {
        let (jws, _) = sign_raw(HEADER, PAYLOAD);
        assert_eq!(verify_jws(&jws, &[]), Err(PassportError::BadSignature));
        assert_eq!(
            verify_jws(&jws, &[4u8; 65]),
            Err(PassportError::BadSignature)
        );
    }

    #[test]
    fn missing_header_field_is_a_json_error() {
        let header = r#"{"alg":"ES256","typ":"passport","x5u":"https://x"}"#;
        let (jws, public) = sign_raw(header, PAYLOAD);
        assert!(matches!(
            verify_jws(&jws, &public),
            Err(PassportError::Json {
                part: JwsPart::Header,
                ..
            })
        ));
    }
}
