//! The development STI-PA's part of the PKI: the CRL Distribution Point that names the
//! STI-PA as the CRL issuer, and the CRLs: the indirect one its CRL-signing certificate
//! issues (RFC 5280 5.2.5 and 5.3.3, as ATIS-1000080 has the STI-PA publish one CRL for
//! every STI-CA), and direct ones for tests. rcgen writes neither a cRLIssuer nor an
//! indirect CRL, so both are encoded here with yasna, the DER writer rcgen itself uses,
//! and signed with ring.

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use time::OffsetDateTime;
use x509_parser::extensions::ParsedExtension;
use yasna::models::{ObjectIdentifier, UTCTime};
use yasna::{DERWriter, Tag};

use super::generate_error;
use crate::certs::CertError;
use crate::certs::chain::parse;

const ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const CRL_NUMBER: &[u64] = &[2, 5, 29, 20];
const AUTHORITY_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 35];
const ISSUING_DISTRIBUTION_POINT: &[u64] = &[2, 5, 29, 28];
const CERTIFICATE_ISSUER: &[u64] = &[2, 5, 29, 29];

/// The value of a cRLDistributionPoints extension with one point: `url` as its fullName
/// and `crl_issuer_der` (a Name) as its cRLIssuer.
pub fn distribution_point(url: &str, crl_issuer_der: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                write_point_name(w.next(), url);
                // cRLIssuer [2] IMPLICIT GeneralNames { directoryName [4] Name }
                w.next().write_tagged_implicit(Tag::context(2), |w| {
                    w.write_sequence(|w| directory_name(w.next(), crl_issuer_der));
                });
            });
        });
    })
}

/// What a CRL revokes and when it is valid.
#[derive(Debug, Clone, Copy)]
pub struct CrlContents<'a> {
    /// The URL it is published at, written into the issuingDistributionPoint of an
    /// indirect CRL.
    pub url: &'a str,
    /// Indirect (issuingDistributionPoint with indirectCRL, certificateIssuer entries),
    /// as the STI-PA's; or direct, every entry the signer's own certificate.
    pub indirect: bool,
    /// The revoked certificates (DER), of any issuer.
    pub revoked: &'a [&'a [u8]],
    /// Unix seconds.
    pub this_update: i64,
    /// Unix seconds.
    pub next_update: i64,
}

/// Issues a CRL signed by `signer_pem` (key `signer_key_pem`). An indirect one has an
/// issuingDistributionPoint with indirectCRL, and a certificateIssuer on the first entry
/// of each issuer's run of entries. The signer's keyUsage is not looked at, so tests can
/// make CRLs a relying party must refuse. Returns DER.
pub fn issue_crl(
    signer_pem: &str,
    signer_key_pem: &str,
    crl: &CrlContents<'_>,
) -> Result<Vec<u8>, CertError> {
    let signer_der = super::pem_contents(signer_pem)?;
    let signer = parse(&signer_der)?;
    let signer_name = signer.subject().as_raw();
    let key_id = signer
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        });
    let mut entries = crl
        .revoked
        .iter()
        .map(|der| {
            let cert = parse(der)?;
            Ok((cert.issuer().as_raw().to_vec(), cert.raw_serial().to_vec()))
        })
        .collect::<Result<Vec<_>, CertError>>()?;
    entries.sort();
    let this_update = utc_time(crl.this_update)?;
    let next_update = utc_time(crl.next_update)?;
    let number = u64::try_from(crl.this_update).unwrap_or(1).max(1);

    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(1); // v2
            algorithm(w.next());
            w.next().write_der(signer_name);
            w.next().write_utctime(&this_update);
            w.next().write_utctime(&next_update);
            if !entries.is_empty() {
                w.next().write_sequence(|w| {
                    let mut previous: Option<&[u8]> = None;
                    for (issuer, serial) in &entries {
                        let name_changes = crl.indirect && previous != Some(issuer.as_slice());
                        previous = Some(issuer);
                        w.next().write_sequence(|w| {
                            w.next().write_bigint_bytes(serial, true);
                            w.next().write_utctime(&this_update);
                            if name_changes {
                                w.next().write_sequence(|w| {
                                    extension(w.next(), CERTIFICATE_ISSUER, true, |w| {
                                        w.write_sequence(|w| directory_name(w.next(), issuer));
                                    });
                                });
                            }
                        });
                    }
                });
            }
            w.next().write_tagged(Tag::context(0), |w| {
                w.write_sequence(|w| {
                    if let Some(id) = &key_id {
                        extension(w.next(), AUTHORITY_KEY_IDENTIFIER, false, |w| {
                            w.write_sequence(|w| {
                                w.next()
                                    .write_tagged_implicit(Tag::context(0), |w| w.write_bytes(id));
                            });
                        });
                    }
                    extension(w.next(), CRL_NUMBER, false, |w| w.write_u64(number));
                    if crl.indirect {
                        extension(w.next(), ISSUING_DISTRIBUTION_POINT, true, |w| {
                            w.write_sequence(|w| {
                                write_point_name(w.next(), crl.url);
                                // indirectCRL [4] IMPLICIT BOOLEAN
                                w.next()
                                    .write_tagged_implicit(Tag::context(4), |w| w.write_bool(true));
                            });
                        });
                    }
                });
            });
        });
    });

    let key = rcgen::KeyPair::from_pem(signer_key_pem).map_err(generate_error)?;
    let rng = SystemRandom::new();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key.serialize_der(), &rng)
            .map_err(generate_error)?;
    let signature = pair.sign(&rng, &tbs).map_err(generate_error)?;
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(&tbs);
            algorithm(w.next());
            w.next()
                .write_bitvec_bytes(signature.as_ref(), signature.as_ref().len() * 8);
        });
    }))
}

/// distributionPoint [0] { fullName [0] IMPLICIT GeneralNames { URI [6] } }
fn write_point_name(w: DERWriter<'_>, url: &str) {
    w.write_tagged(Tag::context(0), |w| {
        w.write_tagged_implicit(Tag::context(0), |w| {
            w.write_sequence(|w| {
                w.next()
                    .write_tagged_implicit(Tag::context(6), |w| w.write_ia5_string(url));
            });
        });
    });
}

/// directoryName [4] Name (explicit: Name is a CHOICE).
fn directory_name(w: DERWriter<'_>, name_der: &[u8]) {
    w.write_tagged(Tag::context(4), |w| w.write_der(name_der));
}

fn algorithm(w: DERWriter<'_>) {
    w.write_sequence(|w| {
        w.next()
            .write_oid(&ObjectIdentifier::from_slice(ECDSA_WITH_SHA256));
    });
}

fn extension(w: DERWriter<'_>, oid: &[u64], critical: bool, value: impl FnOnce(DERWriter<'_>)) {
    w.write_sequence(|w| {
        w.next().write_oid(&ObjectIdentifier::from_slice(oid));
        if critical {
            w.next().write_bool(true);
        }
        w.next().write_bytes(&yasna::construct_der(value));
    });
}

fn utc_time(unix: i64) -> Result<UTCTime, CertError> {
    let at = OffsetDateTime::from_unix_timestamp(unix).map_err(generate_error)?;
    UTCTime::from_datetime_opt(at).ok_or_else(|| generate_error("time out of UTCTime range"))
}
