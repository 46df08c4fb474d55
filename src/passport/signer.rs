//! The PASSporT signer: key and encoded protected header prepared once, then one payload
//! encoding and one ES256 signature per call.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use super::claims::{header_json, payload_json};
use super::{Claims, PassportError};
use crate::certs::tnauthlist::scope;
use crate::certs::{SigningKey, TnAuthEntry};
use crate::sip::Identity;

/// Room for a typical payload (one destination, a UUID origid) before base64.
const PAYLOAD_CAPACITY: usize = 192;
/// base64url of a 64-byte signature: ceil(64 * 4 / 3).
const SIGNATURE_B64_LEN: usize = 86;

/// A P-256 private key held outside the process, such as in an HSM: it signs with
/// ECDSA over SHA-256 and never hands the key out.
pub trait ExternalKey: Send + Sync {
    /// The signature of `message` as `r || s`, 32 bytes each.
    fn sign_es256(&self, message: &[u8]) -> Result<[u8; 64], String>;
}

// The local key stays inline: it signs every call, and one indirection fewer is worth
// the size of the rare HSM variant.
#[allow(clippy::large_enum_variant)]
enum Key {
    Local {
        key_pair: EcdsaKeyPair,
        rng: SystemRandom,
    },
    External(Box<dyn ExternalKey>),
}

/// Signs SHAKEN PASSporTs with one key and one x5u.
///
/// Build it at start-up (and again on reload); `sign` and `identity` take `&self` and
/// can be called from many tasks at once.
pub struct Signer {
    key: Key,
    /// base64url (no padding) of the canonical protected header.
    header_b64: String,
    x5u: String,
    /// The certificate's `notBefore` and `notAfter` (unix seconds), when the signer
    /// knows its certificate: it signs nothing dated outside them.
    valid: Option<(i64, i64)>,
    /// The numbers of a delegate certificate (RFC 9060): it signs no other `orig`.
    numbers: Option<Vec<TnAuthEntry>>,
}

impl Signer {
    /// Prepares a signer for `key`, announcing `x5u` as the certificate location.
    ///
    /// `x5u` goes into the protected header and into `info=<...>` of the Identity header,
    /// so it must not contain whitespace, control characters, `"`, `<` or `>`.
    pub fn new(key: &SigningKey, x5u: &str) -> Result<Signer, PassportError> {
        if !is_valid_x5u(x5u) {
            return Err(PassportError::InvalidX5u);
        }
        let rng = SystemRandom::new();
        let key_pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), &rng)
                .map_err(|e| PassportError::KeyRejected(e.to_string()))?;
        Signer::with_key(Key::Local { key_pair, rng }, x5u)
    }

    /// Prepares a signer whose key is held elsewhere (an HSM), announcing `x5u`.
    pub fn external(key: Box<dyn ExternalKey>, x5u: &str) -> Result<Signer, PassportError> {
        Signer::with_key(Key::External(key), x5u)
    }

    fn with_key(key: Key, x5u: &str) -> Result<Signer, PassportError> {
        if !is_valid_x5u(x5u) {
            return Err(PassportError::InvalidX5u);
        }
        Ok(Signer {
            key,
            header_b64: URL_SAFE_NO_PAD.encode(header_json(x5u)),
            x5u: x5u.to_owned(),
            valid: None,
            numbers: None,
        })
    }

    /// Binds the signer to its certificate's validity (unix seconds, both inclusive):
    /// claims whose `iat` falls outside it are refused with
    /// [`PassportError::CertificateNotValid`], so a certificate that expires while the
    /// process runs stops signing at that second, not at the next restart.
    pub fn valid_between(mut self, not_before: i64, not_after: i64) -> Signer {
        self.valid = Some((not_before, not_after));
        self
    }

    /// Binds the signer to a delegate certificate's numbers (RFC 9060: a TNAuthList of
    /// numbers and ranges and no SPC, [`crate::certs::CertInfo::delegated_numbers`]):
    /// claims whose `orig` is none of them are refused with
    /// [`PassportError::OrigNotCovered`]. `None` (an SPC certificate) binds nothing.
    pub fn limited_to(mut self, numbers: Option<Vec<TnAuthEntry>>) -> Signer {
        self.numbers = numbers;
        self
    }

    /// The certificate's `notAfter`, when the signer knows it.
    pub fn not_after(&self) -> Option<i64> {
        self.valid.map(|(_, not_after)| not_after)
    }

    /// An ES256 signature (`r || s`) of `message`, as the PASSporT gets it.
    pub fn sign_raw(&self, message: &[u8]) -> Result<[u8; 64], PassportError> {
        match &self.key {
            Key::Local { key_pair, rng } => key_pair
                .sign(rng, message)
                .ok()
                .and_then(|s| s.as_ref().try_into().ok())
                .ok_or(PassportError::Signing),
            Key::External(key) => key.sign_es256(message).map_err(|e| {
                tracing::error!(error = %e, "external signing key failed");
                PassportError::Signing
            }),
        }
    }

    /// The certificate URL this signer announces.
    pub fn x5u(&self) -> &str {
        &self.x5u
    }

    /// Signs `claims` and returns the compact JWS `header.payload.signature`.
    pub fn sign(&self, claims: &Claims<'_>) -> Result<String, PassportError> {
        let mut out = String::with_capacity(self.jws_capacity());
        self.write_jws(claims, &mut out)?;
        Ok(out)
    }

    /// Signs `claims` and returns the full Identity header value
    /// `<jws>;info=<x5u>;alg=ES256;ppt=shaken` (RFC 8224 section 4, full form).
    pub fn identity(&self, claims: &Claims<'_>) -> Result<String, PassportError> {
        let params_len = Identity::shaken_params_len(&self.x5u);
        let mut out = String::with_capacity(self.jws_capacity() + params_len);
        self.write_jws(claims, &mut out)?;
        Identity::push_shaken_params(&mut out, &self.x5u);
        Ok(out)
    }

    fn jws_capacity(&self) -> usize {
        self.header_b64.len() + 1 + PAYLOAD_CAPACITY * 4 / 3 + 1 + SIGNATURE_B64_LEN
    }

    /// Appends `header.payload.signature` to `out`, which must be empty: the signature
    /// covers everything written before it.
    fn write_jws(&self, claims: &Claims<'_>, out: &mut String) -> Result<(), PassportError> {
        if let Some((not_before, not_after)) = self.valid
            && !(not_before..=not_after).contains(&claims.iat)
        {
            return Err(PassportError::CertificateNotValid {
                iat: claims.iat,
                not_before,
                not_after,
            });
        }
        if let Some(numbers) = &self.numbers
            && scope::covering(numbers, claims.orig).is_none()
        {
            return Err(PassportError::OrigNotCovered {
                orig: claims.orig.to_owned(),
            });
        }
        let mut payload = String::with_capacity(PAYLOAD_CAPACITY);
        payload_json(claims, &mut payload);

        out.push_str(&self.header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload.as_bytes(), out);
        let signature = self.sign_raw(out.as_bytes())?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, out);
        Ok(())
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &"ES256")
            .field("x5u", &self.x5u)
            .finish_non_exhaustive()
    }
}

fn is_valid_x5u(x5u: &str) -> bool {
    !x5u.is_empty()
        && x5u
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '<' | '>'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passport::{Attest, PassportError};
    use jsonwebtoken::{Algorithm, DecodingKey, TokenData, Validation};
    use p256::ecdsa::signature::Verifier as _;
    use serde_json::Value;

    const X5U: &str = "https://cert.example.org/passport.cer";
    const ORIGID: &str = "123e4567-e89b-12d3-a456-426655440000";

    fn key() -> SigningKey {
        crate::certs::test_key(1)
    }

    fn claims() -> Claims<'static> {
        Claims {
            attest: Attest::A,
            dest: &["12155550131"],
            iat: 1_443_208_345,
            orig: "12155550121",
            origid: ORIGID,
        }
    }

    /// Decodes with jsonwebtoken, the independent decoder: ES256 only, no registered
    /// claims required (a PASSporT has no `exp`).
    fn decode(jws: &str, key: &DecodingKey) -> jsonwebtoken::errors::Result<TokenData<Value>> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(jws, key, &validation)
    }

    /// The SEC1 point as jsonwebtoken takes an EC public key.
    fn decoding(key: &SigningKey) -> DecodingKey {
        DecodingKey::from_ec_der(&key.public_key_sec1())
    }

    fn parts(jws: &str) -> (&str, &str, &str) {
        let mut it = jws.split('.');
        let parts = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
        assert_eq!(it.next(), None, "more than three parts in {jws}");
        parts
    }

    #[test]
    fn jws_has_canonical_header_payload_and_64_byte_signature() {
        let signer = Signer::new(&key(), X5U).unwrap();
        let jws = signer.sign(&claims()).unwrap();
        let (h, p, s) = parts(&jws);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(h).unwrap(),
            header_json(X5U).as_bytes()
        );
        let mut expected = String::new();
        payload_json(&claims(), &mut expected);
        assert_eq!(URL_SAFE_NO_PAD.decode(p).unwrap(), expected.as_bytes());
        assert_eq!(URL_SAFE_NO_PAD.decode(s).unwrap().len(), 64);
        assert!(!jws.contains('='), "base64url must be unpadded: {jws}");
    }

    #[test]
    fn verifies_with_jsonwebtoken() {
        let key = key();
        let jws = Signer::new(&key, X5U).unwrap().sign(&claims()).unwrap();
        let data = decode(&jws, &decoding(&key)).unwrap();
        assert_eq!(data.header.alg, Algorithm::ES256);
        assert_eq!(data.header.typ.as_deref(), Some("passport"));
        assert_eq!(data.header.x5u.as_deref(), Some(X5U));
        assert_eq!(data.claims["attest"], "A");
        assert_eq!(data.claims["iat"], 1_443_208_345);
        assert_eq!(data.claims["dest"]["tn"][0], "12155550131");
    }

    #[test]
    fn verifies_with_jsonwebtoken_from_pem() {
        let key = key();
        let jws = Signer::new(&key, X5U).unwrap().sign(&claims()).unwrap();
        let pem =
            DecodingKey::from_ec_pem(crate::certs::test_public_key_pem(1).as_bytes()).unwrap();
        assert!(decode(&jws, &pem).is_ok());
    }

    #[test]
    fn verifies_with_p256_and_tampering_fails() {
        let key = key();
        let jws = Signer::new(&key, X5U).unwrap().sign(&claims()).unwrap();
        let (h, p, s) = parts(&jws);
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_key_sec1()).unwrap();
        let raw = URL_SAFE_NO_PAD.decode(s).unwrap();
        assert_eq!(raw.len(), 64);
        let sig = p256::ecdsa::Signature::from_slice(&raw).unwrap();
        let signed = format!("{h}.{p}");
        assert!(vk.verify(signed.as_bytes(), &sig).is_ok());

        let mut other = String::new();
        payload_json(
            &Claims {
                attest: Attest::C,
                ..claims()
            },
            &mut other,
        );
        let tampered = format!("{h}.{}", URL_SAFE_NO_PAD.encode(other));
        assert!(vk.verify(tampered.as_bytes(), &sig).is_err());
    }

    #[test]
    fn tampered_payload_fails_every_verifier() {
        let key = key();
        let jws = Signer::new(&key, X5U).unwrap().sign(&claims()).unwrap();
        let (h, _, s) = parts(&jws);
        let mut other = String::new();
        payload_json(
            &Claims {
                orig: "12155550199",
                ..claims()
            },
            &mut other,
        );
        let tampered = format!("{h}.{}.{s}", URL_SAFE_NO_PAD.encode(other));

        let token = crate::verify::Token::from_jws(&tampered).unwrap();
        assert_eq!(
            token.check_signature(&key.public_key_sec1()),
            Err(crate::verify::TokenError::BadSignature)
        );
        let err = decode(&tampered, &decoding(&key)).unwrap_err();
        assert_eq!(
            err.kind(),
            &jsonwebtoken::errors::ErrorKind::InvalidSignature
        );
    }

    #[test]
    fn another_key_does_not_verify() {
        let jws = Signer::new(&key(), X5U).unwrap().sign(&claims()).unwrap();
        let other = crate::certs::test_key(2);
        let err = decode(&jws, &decoding(&other)).unwrap_err();
        assert_eq!(
            err.kind(),
            &jsonwebtoken::errors::ErrorKind::InvalidSignature
        );
    }

    #[test]
    fn identity_is_jws_plus_rfc8224_params() {
        let signer = Signer::new(&key(), X5U).unwrap();
        let value = signer.identity(&claims()).unwrap();
        let (jws, params) = value.split_once(';').unwrap();
        assert_eq!(params, format!("info=<{X5U}>;alg=ES256;ppt=shaken"));
        let verified = decode(jws, &decoding(&key())).unwrap();
        assert_eq!(verified.claims["origid"], ORIGID);
        let parsed = Identity::parse(&value).unwrap();
        assert_eq!(parsed.jws, jws);
        assert_eq!(parsed.info, X5U);
        assert_eq!(signer.x5u(), X5U);
    }

    #[test]
    fn each_signature_is_fresh_but_payload_is_stable() {
        let signer = Signer::new(&key(), X5U).unwrap();
        let a = signer.sign(&claims()).unwrap();
        let b = signer.sign(&claims()).unwrap();
        let (ha, pa, sa) = parts(&a);
        let (hb, pb, sb) = parts(&b);
        assert_eq!((ha, pa), (hb, pb));
        // ECDSA with a random nonce: two signatures of the same input differ.
        assert_ne!(sa, sb);
    }

    #[test]
    fn rejects_x5u_that_would_break_the_header() {
        for bad in [
            "",
            "https://a b",
            "https://a>b",
            "https://a<b",
            "https://a\"b",
            "x\n",
        ] {
            assert_eq!(
                Signer::new(&key(), bad).map(|_| ()),
                Err(PassportError::InvalidX5u),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_delegate_signer_signs_only_its_numbers() {
        let numbers = vec![
            TnAuthEntry::Tn("12155550121".into()),
            TnAuthEntry::Range {
                start: "12155550300".into(),
                count: 10,
            },
        ];
        let signer = Signer::new(&key(), X5U).unwrap().limited_to(Some(numbers));
        for orig in ["12155550121", "12155550300", "12155550309"] {
            let jws = signer.sign(&Claims { orig, ..claims() }).unwrap();
            assert!(decode(&jws, &decoding(&key())).is_ok(), "{orig}");
        }
        for orig in ["12155550122", "12155550310", "2155550121", "+12155550121"] {
            assert_eq!(
                signer.sign(&Claims { orig, ..claims() }),
                Err(PassportError::OrigNotCovered { orig: orig.into() }),
                "{orig}"
            );
        }
        // An SPC certificate binds no numbers.
        let any = Signer::new(&key(), X5U).unwrap().limited_to(None);
        assert!(
            any.sign(&Claims {
                orig: "12155550122",
                ..claims()
            })
            .is_ok()
        );
    }

    #[test]
    fn signer_can_be_shared_across_tasks() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Signer>();
    }

    #[test]
    fn debug_shows_no_key_material() {
        let signer = Signer::new(&key(), X5U).unwrap();
        let shown = format!("{signer:?}");
        assert!(shown.contains(X5U));
        assert!(!shown.contains("key_pair"));
    }
}
