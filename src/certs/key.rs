//! The STI signing key: a P-256 private key loaded once from PEM (SEC1 or PKCS#8) and
//! kept in the PKCS#8 form that ring signs with.

use std::fmt;

use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::pkcs8::der::SecretDocument;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, ObjectIdentifier};
use x509_parser::asn1_rs::{Any, Class, FromDer as _, Oid, Sequence};

use super::CertError;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";

/// A P-256 private key. Debug output never shows key material, and the PKCS#8 bytes
/// are zeroized on drop.
#[derive(Clone)]
pub struct SigningKey {
    pkcs8: SecretDocument,
    /// Uncompressed SEC1 point `04 || x || y`.
    public_sec1: Vec<u8>,
}

impl SigningKey {
    /// Loads the first private key in `pem`: `-----BEGIN EC PRIVATE KEY-----` (SEC1) or
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8). Other blocks, such as the
    /// `EC PARAMETERS` that `openssl ecparam -genkey` writes first, are skipped.
    pub fn from_pem(pem: &str) -> Result<SigningKey, CertError> {
        let mut rest = pem;
        while let Some((label, block, after)) = next_pem_block(rest)? {
            rest = after;
            let secret = match label {
                "EC PRIVATE KEY" => {
                    let der = decode_block(block)?;
                    check_sec1_curve(der.as_bytes())?;
                    p256::SecretKey::from_sec1_der(der.as_bytes())
                        .map_err(|e| CertError::InvalidKey(e.to_string()))?
                }
                "PRIVATE KEY" => {
                    let der = decode_block(block)?;
                    check_pkcs8_algorithm(der.as_bytes())?;
                    p256::SecretKey::from_pkcs8_der(der.as_bytes())
                        .map_err(|e| CertError::InvalidKey(e.to_string()))?
                }
                "ENCRYPTED PRIVATE KEY" => return Err(CertError::EncryptedKey),
                "RSA PRIVATE KEY" => return Err(CertError::NotP256("RSA".into())),
                "DSA PRIVATE KEY" => return Err(CertError::NotP256("DSA".into())),
                "OPENSSH PRIVATE KEY" => return Err(CertError::OpenSshKey),
                _ => continue,
            };
            return SigningKey::from_secret(&secret);
        }
        Err(CertError::NoPrivateKey)
    }

    fn from_secret(secret: &p256::SecretKey) -> Result<SigningKey, CertError> {
        // The PKCS#8 document embeds the public key, which ring requires.
        let pkcs8 = secret
            .to_pkcs8_der()
            .map_err(|e| CertError::InvalidKey(e.to_string()))?;
        let public_sec1 = secret
            .public_key()
            .as_affine()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        Ok(SigningKey { pkcs8, public_sec1 })
    }

    /// PKCS#8 v1 DER with the public key embedded: what `ring::signature::EcdsaKeyPair::from_pkcs8` takes.
    pub fn pkcs8_der(&self) -> &[u8] {
        self.pkcs8.as_bytes()
    }

    /// The public key as an uncompressed SEC1 point (65 bytes, `04 || x || y`), the form
    /// found in a certificate's SubjectPublicKeyInfo.
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.public_sec1.clone()
    }

    /// Borrowing form of [`SigningKey::public_key_sec1`].
    pub(crate) fn public_key_sec1_ref(&self) -> &[u8] {
        &self.public_sec1
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("curve", &"P-256")
            .field("private", &"<redacted>")
            .finish()
    }
}

/// A PEM block: label, text including both boundary lines, and the input after it.
type PemBlock<'a> = (&'a str, &'a str, &'a str);

/// Finds the next `-----BEGIN <label>-----` ... `-----END <label>-----` block.
fn next_pem_block(s: &str) -> Result<Option<PemBlock<'_>>, CertError> {
    const BEGIN: &str = "-----BEGIN ";
    let Some(start) = s.find(BEGIN) else {
        return Ok(None);
    };
    let from_start = &s[start..];
    let after_begin = &from_start[BEGIN.len()..];
    let label = after_begin
        .find("-----")
        .map(|end| &after_begin[..end])
        .filter(|label| !label.contains('\n'))
        .ok_or_else(|| CertError::Pem("malformed BEGIN line".into()))?;
    let end_marker = format!("-----END {label}-----");
    let end = from_start
        .find(&end_marker)
        .ok_or_else(|| CertError::Pem(format!("{label} block has no END line")))?;
    let end = end + end_marker.len();
    Ok(Some((label, &from_start[..end], &from_start[end..])))
}

fn decode_block(block: &str) -> Result<SecretDocument, CertError> {
    SecretDocument::from_pem(block)
        .map(|(_, doc)| doc)
        .map_err(|e| CertError::InvalidKey(e.to_string()))
}

/// PrivateKeyInfo must name id-ecPublicKey with the prime256v1 curve.
fn check_pkcs8_algorithm(der: &[u8]) -> Result<(), CertError> {
    let info = p256::pkcs8::PrivateKeyInfoRef::try_from(der)
        .map_err(|e| CertError::InvalidKey(e.to_string()))?;
    let algorithm = info.algorithm.oid.to_string();
    if algorithm != OID_EC_PUBLIC_KEY {
        return Err(CertError::NotP256(algorithm_name(&algorithm)));
    }
    let curve = info
        .algorithm
        .parameters_oid()
        .map(|oid: ObjectIdentifier| oid.to_string())
        .map_err(|_| CertError::NoNamedCurve)?;
    if curve != OID_P256 {
        return Err(CertError::NotP256(algorithm_name(&curve)));
    }
    Ok(())
}

/// ECPrivateKey ::= SEQUENCE { version, privateKey, [0] parameters OPTIONAL, [1] publicKey OPTIONAL }:
/// if the curve is named, it must be prime256v1.
fn check_sec1_curve(der: &[u8]) -> Result<(), CertError> {
    fn malformed<E>(_: E) -> CertError {
        CertError::InvalidKey("malformed SEC1 ECPrivateKey".into())
    }
    let (_, seq) = Sequence::from_der(der).map_err(malformed)?;
    for item in seq.der_iter::<Any, x509_parser::asn1_rs::Error>() {
        let item = item.map_err(malformed)?;
        if item.class() == Class::ContextSpecific && item.tag().0 == 0 {
            let (_, oid) = Oid::from_der(item.data).map_err(malformed)?;
            let curve = oid.to_id_string();
            if curve != OID_P256 {
                return Err(CertError::NotP256(algorithm_name(&curve)));
            }
        }
    }
    Ok(())
}

fn algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.113549.1.1.1" => "RSA",
        _ => return format!("OID {oid}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        let path = format!("{}/tests/data/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn spki_point(pub_pem: &str) -> Vec<u8> {
        use p256::pkcs8::DecodePublicKey as _;
        let pk = p256::PublicKey::from_public_key_pem(pub_pem).unwrap();
        pk.as_affine().to_sec1_point(false).as_bytes().to_vec()
    }

    #[test]
    fn sec1_and_pkcs8_forms_of_one_key_agree() {
        let sec1 = SigningKey::from_pem(&data("p256-b.sec1.pem")).unwrap();
        let pkcs8 = SigningKey::from_pem(&data("p256-b.pkcs8.pem")).unwrap();
        let with_params = SigningKey::from_pem(&data("p256-b.sec1-with-params.pem")).unwrap();
        let no_public = SigningKey::from_pem(&data("p256-b.sec1-no-public.pem")).unwrap();
        let expected = spki_point(&data("p256-b.pub.pem"));
        for key in [&sec1, &pkcs8, &with_params, &no_public] {
            assert_eq!(key.public_key_sec1(), expected);
            assert_eq!(key.pkcs8_der(), sec1.pkcs8_der());
        }
        assert_eq!(expected.len(), 65);
        assert_eq!(expected.first(), Some(&4));
    }

    #[test]
    fn pkcs8_is_accepted_by_ring() {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
        // SEC1 without the embedded public key still yields a PKCS#8 ring accepts.
        for name in ["p256-a.pkcs8.pem", "p256-b.sec1-no-public.pem"] {
            let key = SigningKey::from_pem(&data(name)).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                key.pkcs8_der(),
                &ring::rand::SystemRandom::new(),
            )
            .unwrap();
            assert_eq!(pair.public_key().as_ref(), key.public_key_sec1().as_slice());
        }
    }

    #[test]
    fn other_algorithms_are_named_in_the_error() {
        let cases = [
            ("p384.pkcs8.pem", "P-384"),
            ("p384.sec1.pem", "P-384"),
            ("ed25519.pem", "Ed25519"),
            ("rsa.pkcs8.pem", "RSA"),
        ];
        for (file, name) in cases {
            assert_eq!(
                SigningKey::from_pem(&data(file)).map(|_| ()),
                Err(CertError::NotP256(name.into())),
                "{file}"
            );
        }
    }

    #[test]
    fn encrypted_and_missing_keys_are_reported() {
        assert_eq!(
            SigningKey::from_pem(&data("p256-a.encrypted.pem")).map(|_| ()),
            Err(CertError::EncryptedKey)
        );
        assert_eq!(
            SigningKey::from_pem(&data("p256-a.pub.pem")).map(|_| ()),
            Err(CertError::NoPrivateKey)
        );
        assert_eq!(
            SigningKey::from_pem("").map(|_| ()),
            Err(CertError::NoPrivateKey)
        );
        assert_eq!(
            SigningKey::from_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nAA==\n-----END RSA PRIVATE KEY-----\n"
            )
            .map(|_| ()),
            Err(CertError::NotP256("RSA".into()))
        );
        assert_eq!(
            SigningKey::from_pem(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAA==\n-----END OPENSSH PRIVATE KEY-----\n"
            )
            .map(|_| ()),
            Err(CertError::OpenSshKey)
        );
        // PKCS#8 naming id-ecPublicKey without the curve parameter.
        assert_eq!(
            SigningKey::from_pem(
                "-----BEGIN PRIVATE KEY-----\nMBICAQAwCQYHKoZIzj0CAQQCMAA=\n-----END PRIVATE KEY-----\n"
            )
            .map(|_| ()),
            Err(CertError::NoNamedCurve)
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let good = data("p256-a.pkcs8.pem");
        for end in 0..good.len() {
            let _ = SigningKey::from_pem(&good[..end]);
        }
        // Not base64 any more: the boundary lines are kept.
        let garbled = good.replace("\nMI", "\n*I");
        // The texts of these two are the pkcs8 crate's; the variant is ours.
        assert!(matches!(
            SigningKey::from_pem(&garbled),
            Err(CertError::InvalidKey(_))
        ));
        assert!(matches!(
            SigningKey::from_pem(
                "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
            ),
            Err(CertError::InvalidKey(_))
        ));
        assert_eq!(
            SigningKey::from_pem(
                "-----BEGIN EC PRIVATE KEY-----\nMAKgBQ==\n-----END EC PRIVATE KEY-----\n"
            )
            .map(|_| ()),
            Err(CertError::InvalidKey("malformed SEC1 ECPrivateKey".into()))
        );
    }

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::from_pem(&data("p256-a.pkcs8.pem")).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(
            shown,
            r#"SigningKey { curve: "P-256", private: "<redacted>" }"#
        );
    }
}
