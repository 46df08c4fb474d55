//! Certificate revocation lists (RFC 5280 section 5): parsing a CRL once into the facts
//! a revocation check needs, checking its signer, and asking whether a certificate is
//! on it.
//!
//! SHAKEN CRLs are indirect (ATIS-1000080): the STI-PA publishes one CRL, signed with its
//! CRL-signing certificate (`CN=STI-PA CRL`), that revokes certificates of every STI-CA.
//! Such a CRL says so in its issuingDistributionPoint (`indirectCRL`), and each entry
//! names the certificate's issuer in a `certificateIssuer` entry extension, which later
//! entries inherit until the next one (section 5.3.3). A direct CRL's entries are all
//! the CRL issuer's.

use std::collections::HashSet;

use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use x509_parser::asn1_rs::{Any, FromDer as _};
use x509_parser::extensions::{GeneralName, ParsedExtension, X509Extension};
use x509_parser::pem::Pem;
use x509_parser::revocation_list::CertificateRevocationList;

use super::CertError;
use super::chain::{OID_ECDSA_WITH_SHA256, parse, rfc4514};

/// certificateIssuer, the CRL entry extension of indirect CRLs (RFC 5280 5.3.3).
const OID_CERTIFICATE_ISSUER: &str = "2.5.29.29";
/// CRL entry extensions a relying party may meet marked critical and still use the CRL.
const KNOWN_ENTRY_EXTENSIONS: [&str; 3] = [
    OID_CERTIFICATE_ISSUER,
    "2.5.29.21", // reasonCode
    "2.5.29.24", // invalidityDate
];
/// CRL extensions callsign understands: authorityKeyIdentifier, cRLNumber,
/// issuingDistributionPoint. Any other critical one makes the CRL unusable (5.2).
const KNOWN_CRL_EXTENSIONS: [&str; 3] = ["2.5.29.35", "2.5.29.20", "2.5.29.28"];

/// A parsed CRL: who issued it, when it was issued and when the next one is due,
/// whether it is indirect, and the certificates (issuer and serial) it revokes. Its
/// signature has not been checked until [`Crl::check_signed_by`] says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    /// DER of the issuer Name, compared byte for byte with certificates' fields.
    issuer_der: Vec<u8>,
    /// Unix seconds.
    pub this_update: i64,
    /// Unix seconds; `None` when the CRL gives no nextUpdate.
    pub next_update: Option<i64>,
    /// The issuingDistributionPoint says `indirectCRL`.
    pub indirect: bool,
    /// The certificate issuers the entries name; index 0 is the CRL issuer.
    issuers: Vec<Vec<u8>>,
    /// Revoked certificates: index into `issuers`, serial without leading zero bytes.
    revoked: HashSet<(usize, Vec<u8>)>,
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
        let mut indirect = false;
        for ext in crl.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::IssuingDistributionPoint(idp) => indirect = idp.indirect_crl,
                _ if ext.critical && !KNOWN_CRL_EXTENSIONS.contains(&oid(ext).as_str()) => {
                    return Err(CertError::CrlCriticalExtension(oid(ext)));
                }
                _ => {}
            }
        }
        let issuer_der = crl.issuer().as_raw().to_vec();
        let mut issuers = vec![issuer_der.clone()];
        let mut current = 0;
        let mut revoked = HashSet::new();
        for entry in crl.iter_revoked_certificates() {
            for ext in entry.extensions() {
                let id = oid(ext);
                if id == OID_CERTIFICATE_ISSUER {
                    if !indirect {
                        return Err(CertError::CrlEntryIssuerNotIndirect);
                    }
                    let name = certificate_issuer(ext.value)?;
                    current = match issuers.iter().position(|i| *i == name) {
                        Some(known) => known,
                        None => {
                            issuers.push(name);
                            issuers.len() - 1
                        }
                    };
                } else if ext.critical && !KNOWN_ENTRY_EXTENSIONS.contains(&id.as_str()) {
                    return Err(CertError::CrlCriticalExtension(id));
                }
            }
            revoked.insert((current, strip_leading_zeros(entry.raw_serial()).to_vec()));
        }
        Ok(Crl {
            issuer_der,
            this_update: crl.last_update().timestamp(),
            next_update: crl.next_update().map(|t| t.timestamp()),
            indirect,
            issuers,
            revoked,
            tbs: crl.tbs_cert_list.as_ref().to_vec(),
            signature: crl.signature_value.data.to_vec(),
            algorithm: crl.signature_algorithm.algorithm.to_id_string(),
        })
    }

    /// Checks that `signer_der` issued this CRL: same name, allowed to sign CRLs (a
    /// keyUsage, when present, includes cRLSign: RFC 5280 6.3.3 (f)), and an
    /// ecdsa-with-SHA256 signature that verifies with its P-256 key.
    pub fn check_signed_by(&self, signer_der: &[u8]) -> Result<(), CertError> {
        let signer = parse(signer_der)?;
        if signer.subject().as_raw() != self.issuer_der.as_slice() {
            return Err(CertError::CrlIssuerMismatch);
        }
        let usage = signer.key_usage().map_err(CertError::CertificateParse)?;
        if usage.is_some_and(|u| !u.value.crl_sign()) {
            return Err(CertError::NoCrlSign(rfc4514(signer.subject())));
        }
        self.check_signature(&signer.public_key().subject_public_key.data)
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

    /// Whether the certificate `serial` of the issuer named `issuer_name_der` is
    /// revoked. `serial` is the serial number's content bytes (`raw_serial()`); leading
    /// zero bytes are ignored.
    pub fn is_revoked(&self, issuer_name_der: &[u8], serial: &[u8]) -> bool {
        self.issuers
            .iter()
            .position(|i| i.as_slice() == issuer_name_der)
            .is_some_and(|index| {
                self.revoked
                    .contains(&(index, strip_leading_zeros(serial).to_vec()))
            })
    }

    /// How many certificates the CRL revokes.
    pub fn len_revoked(&self) -> usize {
        self.revoked.len()
    }
}

/// A certificate trusted to sign CRLs for certificates it did not issue: the issuer of
/// an indirect CRL, such as the STI-PA's CRL signing certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSigner {
    pub der: Vec<u8>,
    /// DER of the subject Name, matched against a distribution point's cRLIssuer.
    pub subject_der: Vec<u8>,
    /// RFC 4514 subject.
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

impl CrlSigner {
    /// Every `CERTIFICATE` of a PEM bundle; an empty bundle gives none.
    pub fn from_pem(pem: &str) -> Result<Vec<CrlSigner>, CertError> {
        if pem.trim().is_empty() {
            return Ok(Vec::new());
        }
        super::load_chain_pem(pem)?
            .into_iter()
            .map(|der| {
                let cert = parse(&der)?;
                let validity = cert.validity();
                Ok(CrlSigner {
                    subject_der: cert.subject().as_raw().to_vec(),
                    subject: rfc4514(cert.subject()),
                    not_before: validity.not_before.timestamp(),
                    not_after: validity.not_after.timestamp(),
                    der: der.clone(),
                })
            })
            .collect()
    }
}

/// A Name given as DER, in RFC 4514 form for messages (its hex when it does not parse).
pub fn name_text(der: &[u8]) -> String {
    match x509_parser::x509::X509Name::from_der(der) {
        Ok((_, name)) => rfc4514(&name),
        Err(_) => der.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn oid(ext: &X509Extension<'_>) -> String {
    ext.oid.to_id_string()
}

/// The directoryName of a certificateIssuer extension's GeneralNames, as Name DER.
fn certificate_issuer(value: &[u8]) -> Result<Vec<u8>, CertError> {
    let bad = || CertError::CrlBadCertificateIssuer;
    let (rest, names) = Any::from_der(value).map_err(|_| bad())?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let mut data = names.data;
    while !data.is_empty() {
        let (next, name) = GeneralName::from_der(data).map_err(|_| bad())?;
        if let GeneralName::DirectoryName(name) = name {
            return Ok(name.as_raw().to_vec());
        }
        data = next;
    }
    Err(bad())
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

    fn issuer_of(der: &[u8]) -> Vec<u8> {
        X509Certificate::from_der(der)
            .unwrap()
            .1
            .issuer()
            .as_raw()
            .to_vec()
    }

    #[test]
    fn a_direct_crl_revokes_its_issuers_certificates_only() {
        let pki = pki();
        let serial = serial_of(&pki.leaf_der);
        let issuer = issuer_of(&pki.leaf_der);
        let der = dev::issue_direct_crl(
            &pki.intermediate_pem,
            &pki.intermediate_key_pem,
            &[&pki.leaf_der],
            NOW,
        )
        .unwrap();
        let crl = Crl::parse(&der).unwrap();
        assert!(!crl.indirect);
        // The signature is good; only the intermediate's keyUsage (no cRLSign) stops
        // it from being the CRL's signer.
        let point = X509Certificate::from_der(&pki.intermediate_der)
            .unwrap()
            .1
            .public_key()
            .subject_public_key
            .data
            .to_vec();
        assert_eq!(crl.check_signature(&point), Ok(()));
        assert!(crl.is_revoked(&issuer, &serial));
        let mut padded = vec![0u8];
        padded.extend_from_slice(&serial);
        assert!(crl.is_revoked(&issuer, &padded));
        assert!(!crl.is_revoked(&issuer, &serial_of(&pki.intermediate_der)));
        // The same serial from another issuer is another certificate.
        assert!(!crl.is_revoked(&issuer_of(&pki.intermediate_der), &serial));
    }

    #[test]
    fn a_ca_without_crl_sign_may_not_sign_a_crl() {
        // The v005 intermediate has keyCertSign only: a CRL under its name and key is
        // refused (RFC 5280 6.3.3 (f)) even though the signature verifies.
        let pki = pki();
        let der = dev::issue_direct_crl(&pki.intermediate_pem, &pki.intermediate_key_pem, &[], NOW)
            .unwrap();
        let crl = Crl::parse(&der).unwrap();
        assert_eq!(
            crl.check_signed_by(&pki.intermediate_der),
            Err(CertError::NoCrlSign(
                "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US".into()
            ))
        );
    }

    #[test]
    fn an_indirect_crl_entry_issuer_carries_over_to_the_next_entries() {
        let pki = pki();
        let second = dev::generate("5678", NOW).unwrap();
        // Two leaves of one intermediate, and one of another: sorted by issuer, the
        // first two share one certificateIssuer extension.
        let other_leaf = dev::issue_leaf(pki, "4321", &second_point(&second), NOW).unwrap();
        let other_leaf = crate::certs::load_chain_pem(&other_leaf).unwrap().remove(0);
        let der = pki
            .issue_crl(&[&pki.leaf_der, &other_leaf, &second.leaf_der], NOW)
            .unwrap();
        let crl = Crl::parse(&der).unwrap();
        assert!(crl.indirect);
        assert_eq!(crl.len_revoked(), 3);
        for leaf in [&pki.leaf_der, &other_leaf, &second.leaf_der] {
            assert!(crl.is_revoked(&issuer_of(leaf), &serial_of(leaf)));
        }
        let root_name = X509Certificate::from_der(&pki.root_der)
            .unwrap()
            .1
            .subject()
            .as_raw()
            .to_vec();
        assert!(!crl.is_revoked(&root_name, &serial_of(&pki.leaf_der)));
    }

    /// The uncompressed public key point of `pki`'s leaf.
    fn second_point(pki: &dev::DevPki) -> Vec<u8> {
        X509Certificate::from_der(&pki.leaf_der)
            .unwrap()
            .1
            .public_key()
            .subject_public_key
            .data
            .to_vec()
    }

    #[test]
    fn tampered_crl_fails_its_signature() {
        let pki = pki();
        let der = pki.issue_crl(&[], NOW).unwrap();
        let mut crl = Crl::parse(&der).unwrap();
        assert_eq!(crl.check_signed_by(&pki.crl_signer_der), Ok(()));
        crl.this_update += 1;
        if let Some(b) = crl.tbs.last_mut() {
            *b ^= 1;
        }
        assert_eq!(
            crl.check_signed_by(&pki.crl_signer_der),
            Err(CertError::CrlBadSignature)
        );
        crl.algorithm = "1.2.840.10045.4.3.3".into();
        assert_eq!(
            crl.check_signed_by(&pki.crl_signer_der),
            Err(CertError::CrlUnsupportedSignatureAlgorithm(
                "1.2.840.10045.4.3.3".into()
            ))
        );
    }

    /// A CRL (unsigned: parsing does not look at the signature) with these CRL
    /// extensions and one entry with these entry extensions; each extension is
    /// (OID, critical, value DER).
    fn crafted_crl(
        crl_exts: &[(&[u64], bool, Vec<u8>)],
        entry_exts: &[(&[u64], bool, Vec<u8>)],
    ) -> Vec<u8> {
        use yasna::models::{ObjectIdentifier, UTCTime};
        let ext = |w: yasna::DERWriter<'_>, exts: &[(&[u64], bool, Vec<u8>)]| {
            w.write_sequence(|w| {
                for (oid, critical, value) in exts {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&ObjectIdentifier::from_slice(oid));
                        if *critical {
                            w.next().write_bool(true);
                        }
                        w.next().write_bytes(value);
                    });
                }
            });
        };
        let at = UTCTime::from_datetime(time::OffsetDateTime::from_unix_timestamp(NOW).unwrap());
        let name = X509Certificate::from_der(&pki().crl_signer_der)
            .unwrap()
            .1
            .subject()
            .as_raw()
            .to_vec();
        let alg = |w: yasna::DERWriter<'_>| {
            w.write_sequence(|w| {
                w.next()
                    .write_oid(&ObjectIdentifier::from_slice(&[1, 2, 840, 10045, 4, 3, 2]))
            })
        };
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_u8(1);
                    alg(w.next());
                    w.next().write_der(&name);
                    w.next().write_utctime(&at);
                    w.next().write_utctime(&at);
                    w.next().write_sequence(|w| {
                        w.next().write_sequence(|w| {
                            w.next().write_u8(7);
                            w.next().write_utctime(&at);
                            if !entry_exts.is_empty() {
                                ext(w.next(), entry_exts);
                            }
                        });
                    });
                    if !crl_exts.is_empty() {
                        w.next()
                            .write_tagged(yasna::Tag::context(0), |w| ext(w, crl_exts));
                    }
                });
                alg(w.next());
                w.next().write_bitvec_bytes(&[0x30, 0x00], 16);
            });
        })
    }

    #[test]
    fn extensions_a_crl_may_not_carry_make_it_unusable() {
        let issuer_names = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_tagged(yasna::Tag::context(4), |w| {
                    w.write_der(&issuer_of(&pki().leaf_der))
                })
            })
        });
        // A certificateIssuer entry on a CRL that does not say it is indirect.
        assert_eq!(
            Crl::parse(&crafted_crl(
                &[],
                &[(&[2, 5, 29, 29], true, issuer_names.clone())]
            )),
            Err(CertError::CrlEntryIssuerNotIndirect)
        );
        // A critical CRL extension callsign does not know (deltaCRLIndicator).
        assert_eq!(
            Crl::parse(&crafted_crl(&[(&[2, 5, 29, 27], true, vec![2, 1, 1])], &[])),
            Err(CertError::CrlCriticalExtension("2.5.29.27".into()))
        );
        // A critical entry extension callsign does not know; a non-critical one is fine.
        assert_eq!(
            Crl::parse(&crafted_crl(&[], &[(&[1, 2, 3], true, vec![5, 0])])),
            Err(CertError::CrlCriticalExtension("1.2.3".into()))
        );
        assert!(Crl::parse(&crafted_crl(&[], &[(&[1, 2, 3], false, vec![5, 0])])).is_ok());
        // An indirect CRL whose certificateIssuer is not GeneralNames.
        let idp = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next()
                    .write_tagged_implicit(yasna::Tag::context(4), |w| w.write_bool(true))
            })
        });
        let indirect = [(&[2u64, 5, 29, 28][..], true, idp)];
        assert_eq!(
            Crl::parse(&crafted_crl(
                &indirect,
                &[(&[2, 5, 29, 29], true, vec![4, 1, 0])]
            )),
            Err(CertError::CrlBadCertificateIssuer)
        );
        let crl = Crl::parse(&crafted_crl(
            &indirect,
            &[(&[2, 5, 29, 29], true, issuer_names)],
        ));
        let crl = crl.unwrap();
        assert!(crl.indirect);
        assert!(crl.is_revoked(&issuer_of(&pki().leaf_der), &[7]));
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
        let der = dev::issue_direct_crl(&pki.intermediate_pem, &pki.intermediate_key_pem, &[], NOW)
            .unwrap();
        for end in 0..der.len() {
            let err = Crl::parse(&der[..end]).unwrap_err();
            assert!(matches!(err, CertError::CrlParse(_)), "{end}: {err:?}");
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(Crl::parse(&trailing), Err(CertError::CrlTrailingBytes));
    }
}
