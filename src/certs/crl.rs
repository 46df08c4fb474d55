//! Certificate revocation lists (RFC 5280 section 5): parsing a CRL once into the facts
//! a revocation check needs, checking its issuer's signature, and asking whether a serial
//! number is on it.

use std::collections::HashSet;

use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer as _;
use x509_parser::revocation_list::CertificateRevocationList;

use super::CertError;
use super::chain::{OID_ECDSA_WITH_SHA256, parse};

/// A parsed CRL: who issued it, when it was issued and when the next one is due, and the
/// serial numbers it revokes. Its signature has not been checked until
/// [`Crl::check_signed_by`] says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    /// DER of the issuer Name, compared byte for byte with certificates' issuer fields.
    issuer_der: Vec<u8>,
    /// Unix seconds.
    pub this_update: i64,
    /// Unix seconds; `None` when the CRL gives no nextUpdate.
    pub next_update: Option<i64>,
    /// Revoked serial numbers, without leading zero bytes.
    revoked: HashSet<Vec<u8>>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    algorithm: String,
}

impl Crl {
    /// Parses a CRL given as DER, or as PEM (`-----BEGIN X509 CRL-----`).
    pub fn parse(bytes: &[u8]) -> Result<Crl, CertError> {
        if bytes.starts_with(b"-----") || bytes.first().is_some_and(u8::is_ascii_whitespace) {
            for block in Pem::iter_from_buffer(bytes) {
                let block = block.map_err(|e| CertError::Pem(e.to_string()))?;
                if block.label == "X509 CRL" {
                    return Crl::from_der(&block.contents);
                }
            }
            return Err(CertError::NoCrlInPem);
        }
        Crl::from_der(bytes)
    }

    fn from_der(der: &[u8]) -> Result<Crl, CertError> {
        let (rest, crl) =
            CertificateRevocationList::from_der(der).map_err(|e| CertError::CrlParse(e.into()))?;
        if !rest.is_empty() {
            return Err(CertError::CrlTrailingBytes);
        }
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| strip_leading_zeros(r.raw_serial()).to_vec())
            .collect();
        Ok(Crl {
            issuer_der: crl.issuer().as_raw().to_vec(),
            this_update: crl.last_update().timestamp(),
            next_update: crl.next_update().map(|t| t.timestamp()),
            revoked,
            tbs: crl.tbs_cert_list.as_ref().to_vec(),
            signature: crl.signature_value.data.to_vec(),
            algorithm: crl.signature_algorithm.algorithm.to_id_string(),
        })
    }

    /// Checks that `issuer_der` (a CA certificate) issued this CRL: same name, and an
    /// ecdsa-with-SHA256 signature that verifies with its P-256 key.
    pub fn check_signed_by(&self, issuer_der: &[u8]) -> Result<(), CertError> {
        let issuer = parse(issuer_der)?;
        if issuer.subject().as_raw() != self.issuer_der.as_slice() {
            return Err(CertError::CrlIssuerMismatch);
        }
        self.check_signature(&issuer.public_key().subject_public_key.data)
    }

    /// Checks the signature with an issuer's P-256 public key (uncompressed SEC1 point).
    pub fn check_signature(&self, issuer_point: &[u8]) -> Result<(), CertError> {
        if self.algorithm != OID_ECDSA_WITH_SHA256 {
            return Err(CertError::CrlUnsupportedSignatureAlgorithm(
                self.algorithm.clone(),
            ));
        }
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, issuer_point)
            .verify(&self.tbs, &self.signature)
            .map_err(|_| CertError::CrlBadSignature)
    }

    /// DER of the issuer Name.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// Whether `serial` (a certificate's serial number content bytes, as in
    /// `raw_serial()`) is revoked. Leading zero bytes are ignored.
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        self.revoked.contains(strip_leading_zeros(serial))
    }

    /// How many certificates the CRL revokes.
    pub fn len_revoked(&self) -> usize {
        self.revoked.len()
    }
}

fn strip_leading_zeros(serial: &[u8]) -> &[u8] {
    let skip = serial.iter().take_while(|b| **b == 0).count();
    serial.get(skip..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use x509_parser::certificate::X509Certificate;

    use super::*;
    use crate::certs::dev::tests::{NOW, pki};
    use crate::certs::{dev, x509_empty, x509_short_sequence};

    fn serial_of(der: &[u8]) -> Vec<u8> {
        X509Certificate::from_der(der)
            .unwrap()
            .1
            .raw_serial()
            .to_vec()
    }

    #[test]
    fn dev_crls_are_empty_and_signed_by_their_issuers() {
        let pki = pki();
        let crl = Crl::parse(pki.intermediate_crl_pem.as_bytes()).unwrap();
        assert_eq!(crl.len_revoked(), 0);
        assert_eq!(crl.check_signed_by(&pki.intermediate_der), Ok(()));
        assert_eq!(
            crl.check_signed_by(&pki.root_der),
            Err(CertError::CrlIssuerMismatch)
        );
        assert!(!crl.is_revoked(&serial_of(&pki.leaf_der)));
        assert!(crl.this_update <= NOW);
        assert!(crl.next_update.is_some_and(|n| n > NOW));

        let root_crl = Crl::parse(pki.root_crl_pem.as_bytes()).unwrap();
        assert_eq!(root_crl.check_signed_by(&pki.root_der), Ok(()));
    }

    #[test]
    fn revoked_serial_is_found_with_or_without_leading_zeros() {
        let pki = pki();
        let serial = serial_of(&pki.leaf_der);
        let der = dev::issue_crl(
            &pki.intermediate_pem,
            &pki.intermediate_key_pem,
            &[serial.as_slice()],
            NOW,
        )
        .unwrap();
        let crl = Crl::parse(&der).unwrap();
        assert_eq!(crl.check_signed_by(&pki.intermediate_der), Ok(()));
        assert!(crl.is_revoked(&serial));
        let mut padded = vec![0u8];
        padded.extend_from_slice(&serial);
        assert!(crl.is_revoked(&padded));
        assert!(!crl.is_revoked(&serial_of(&pki.intermediate_der)));
    }

    #[test]
    fn tampered_crl_fails_its_signature() {
        let pki = pki();
        let der =
            dev::issue_crl(&pki.intermediate_pem, &pki.intermediate_key_pem, &[], NOW).unwrap();
        let mut crl = Crl::parse(&der).unwrap();
        crl.this_update += 1;
        if let Some(b) = crl.tbs.last_mut() {
            *b ^= 1;
        }
        assert_eq!(
            crl.check_signed_by(&pki.intermediate_der),
            Err(CertError::CrlBadSignature)
        );
        crl.algorithm = "1.2.840.10045.4.3.3".into();
        assert_eq!(
            crl.check_signed_by(&pki.intermediate_der),
            Err(CertError::CrlUnsupportedSignatureAlgorithm(
                "1.2.840.10045.4.3.3".into()
            ))
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert_eq!(Crl::parse(b""), Err(CertError::CrlParse(x509_empty())));
        assert_eq!(
            Crl::parse(b"\x30\x03abc"),
            Err(CertError::CrlParse(x509_short_sequence()))
        );
        assert_eq!(
            Crl::parse(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            Err(CertError::NoCrlInPem)
        );
        let pki = pki();
        let der =
            dev::issue_crl(&pki.intermediate_pem, &pki.intermediate_key_pem, &[], NOW).unwrap();
        for end in 0..der.len() {
            let err = Crl::parse(&der[..end]).unwrap_err();
            assert!(matches!(err, CertError::CrlParse(_)), "{end}: {err:?}");
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(Crl::parse(&trailing), Err(CertError::CrlTrailingBytes));
    }
}
