//! Certificate chains: PEM loading, the facts we need from a certificate, the start-up
//! check that key and leaf belong together, and issuer signature checks.

use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer as _;
use x509_parser::x509::X509Name;

use super::tnauthlist::{self, TnAuthListError};
use super::{CertError, SigningKey, TnAuthEntry};

pub(crate) const OID_ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// What the proxy needs to know about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject DN in RFC 4514 order, e.g. `serialNumber=1234, CN=SHAKEN 1234, O=callsign dev, C=US`.
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// The first SPC in the TNAuthList, if the certificate has one.
    pub spc: Option<String>,
    /// For a TNAuthList of numbers and ranges and no SPC (an RFC 9060 delegate
    /// certificate), those entries: all a signer with it may sign for.
    pub delegated_numbers: Option<Vec<TnAuthEntry>>,
    /// The subject public key as found in the SubjectPublicKeyInfo (for P-256, the
    /// uncompressed point).
    pub public_key_sec1: Vec<u8>,
}

/// Reads every `CERTIFICATE` block of `pem` as DER, in file order (leaf first for an
/// x5u chain). Other blocks are skipped; no certificate at all is an error.
pub fn load_chain_pem(pem: &str) -> Result<Vec<Vec<u8>>, CertError> {
    let mut chain = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| CertError::Pem(e.to_string()))?;
        if block.label == "CERTIFICATE" {
            chain.push(block.contents);
        }
    }
    if chain.is_empty() {
        return Err(CertError::NoCertificates);
    }
    Ok(chain)
}

/// Extracts subject, validity, SPC and public key from a DER certificate.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, CertError> {
    info_and_tn_auth_list(&parse(der)?).map(|(info, _)| info)
}

/// The TNAuthList of a certificate as decoded: `Ok(None)` when absent.
pub type TnAuthListResult = Result<Option<Vec<TnAuthEntry>>, CertError>;

/// Like [`cert_info`], but a malformed TNAuthList does not fail the whole: its error is
/// returned beside the other facts (and `spc` is `None`).
pub fn cert_facts(der: &[u8]) -> Result<(CertInfo, TnAuthListResult), CertError> {
    Ok(facts(&parse(der)?))
}

/// The TNAuthList of a DER certificate: `Ok(None)` when it has none.
pub fn tn_auth_list_of(der: &[u8]) -> TnAuthListResult {
    tn_auth_list(&parse(der)?)
}

/// Checks, at start-up or reload, that `key` can sign for `chain`: the leaf (first
/// certificate) carries the key's public key, is valid at `now_unix`, and has a
/// TNAuthList. Returns the leaf's [`CertInfo`].
pub fn check_signing_pair(
    key: &SigningKey,
    chain: &[Vec<u8>],
    now_unix: i64,
) -> Result<CertInfo, CertError> {
    check_signing_leaf(
        |leaf_key| leaf_key == key.public_key_sec1_ref(),
        chain,
        now_unix,
    )
}

/// [`check_signing_pair`] for a key held elsewhere (an HSM): `key_matches` is given the
/// leaf's public key (SEC1) and says whether the signing key belongs to it.
pub fn check_signing_leaf(
    key_matches: impl FnOnce(&[u8]) -> bool,
    chain: &[Vec<u8>],
    now_unix: i64,
) -> Result<CertInfo, CertError> {
    let leaf = chain.first().ok_or(CertError::NoCertificates)?;
    let (info, tn_auth_list) = info_and_tn_auth_list(&parse(leaf)?)?;
    if !key_matches(&info.public_key_sec1) {
        return Err(CertError::KeyMismatch);
    }
    if now_unix > info.not_after {
        return Err(CertError::Expired {
            not_after: info.not_after,
        });
    }
    if now_unix < info.not_before {
        return Err(CertError::NotYetValid {
            not_before: info.not_before,
        });
    }
    if tn_auth_list.is_none() {
        return Err(CertError::MissingTnAuthList);
    }
    Ok(info)
}

fn info_and_tn_auth_list(
    cert: &X509Certificate<'_>,
) -> Result<(CertInfo, Option<Vec<TnAuthEntry>>), CertError> {
    let (info, entries) = facts(cert);
    Ok((info, entries?))
}

fn facts(cert: &X509Certificate<'_>) -> (CertInfo, TnAuthListResult) {
    let entries = tn_auth_list(cert);
    let spc = entries.iter().flatten().flatten().find_map(|e| match e {
        TnAuthEntry::Spc(spc) => Some(spc.clone()),
        _ => None,
    });
    let delegated_numbers = match &entries {
        Ok(Some(list)) if spc.is_none() => Some(list.clone()),
        _ => None,
    };
    let validity = cert.validity();
    let info = CertInfo {
        subject: rfc4514(cert.subject()),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        spc,
        delegated_numbers,
        public_key_sec1: cert.public_key().subject_public_key.data.to_vec(),
    };
    (info, entries)
}

/// Checks that `cert_der` was signed (ecdsa-with-SHA256) by the P-256 key of
/// `issuer_der`. Names, validity and constraints are not checked here.
pub fn verify_issued_by(cert_der: &[u8], issuer_der: &[u8]) -> Result<(), CertError> {
    let cert = parse(cert_der)?;
    let issuer = parse(issuer_der)?;
    check_issuer_signature(&cert, &issuer.public_key().subject_public_key.data)
}

/// Checks the ecdsa-with-SHA256 signature of `cert` with the issuer's P-256 point.
pub(crate) fn check_issuer_signature(
    cert: &X509Certificate<'_>,
    issuer_point: &[u8],
) -> Result<(), CertError> {
    let algorithm = cert.signature_algorithm.algorithm.to_id_string();
    if algorithm != OID_ECDSA_WITH_SHA256 {
        return Err(CertError::UnsupportedSignatureAlgorithm(algorithm));
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, issuer_point)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| CertError::BadSignature)
}

/// `der` as a PEM block with this label, in 64-character lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Parses exactly one DER certificate.
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| CertError::CertificateParse(e.into()))?;
    if !rest.is_empty() {
        return Err(CertError::CertificateTrailingBytes);
    }
    Ok(cert)
}

/// The decoded TNAuthList, `None` if the certificate has none.
pub(crate) fn tn_auth_list(
    cert: &X509Certificate<'_>,
) -> Result<Option<Vec<TnAuthEntry>>, CertError> {
    let mut found = None;
    for ext in cert.extensions() {
        if ext.oid.to_id_string() == tnauthlist::OID_STR {
            if found.is_some() {
                return Err(TnAuthListError::Duplicate.into());
            }
            found = Some(tnauthlist::decode(ext.value)?);
        }
    }
    Ok(found)
}

/// RFC 4514 string: RDNs last-to-first, `+` between attributes of one RDN, special
/// characters escaped.
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let rdns: Vec<_> = name.iter().collect();
    let mut out = String::new();
    for rdn in rdns.into_iter().rev() {
        if !out.is_empty() {
            out.push_str(", ");
        }
        for (i, attr) in rdn.iter().enumerate() {
            if i > 0 {
                out.push('+');
            }
            let oid = attr.attr_type();
            match x509_parser::objects::oid2abbrev(oid, registry) {
                Ok(abbrev) => out.push_str(abbrev),
                Err(_) => out.push_str(&oid.to_id_string()),
            }
            out.push('=');
            match attr.as_str() {
                Ok(value) => push_escaped(&mut out, value),
                // Not a string type: '#' and the hex of the value's contents.
                Err(_) => {
                    out.push('#');
                    for b in attr.as_slice() {
                        out.push(char::from(HEX[usize::from(b >> 4)]));
                        out.push(char::from(HEX[usize::from(b & 0x0f)]));
                    }
                }
            }
        }
    }
    out
}

fn push_escaped(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::{x509_empty, x509_short_sequence};

    #[test]
    fn load_chain_keeps_order_and_skips_other_blocks() {
        let pki = crate::certs::dev::tests::pki();
        let text = format!(
            "junk before\n{}{}-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
            pki.leaf_pem, pki.intermediate_pem
        );
        let chain = load_chain_pem(&text).unwrap();
        assert_eq!(
            chain,
            vec![pki.leaf_der.clone(), pki.intermediate_der.clone()]
        );
    }

    #[test]
    fn load_chain_errors() {
        assert_eq!(load_chain_pem(""), Err(CertError::NoCertificates));
        assert_eq!(
            load_chain_pem(include_str!("../../tests/data/keys/p256-a.pub.pem")),
            Err(CertError::NoCertificates)
        );
        // The PEM reader's own words; the variant is ours.
        assert!(matches!(
            load_chain_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
            Err(CertError::Pem(_))
        ));
        assert!(matches!(
            load_chain_pem("-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(CertError::Pem(_))
        ));
    }

    #[test]
    fn cert_info_of_garbage_is_an_error() {
        assert_eq!(
            cert_info(b""),
            Err(CertError::CertificateParse(x509_empty()))
        );
        assert_eq!(
            cert_info(b"\x30\x03abc"),
            Err(CertError::CertificateParse(x509_short_sequence()))
        );
        let pki = crate::certs::dev::tests::pki();
        for end in (0..pki.leaf_der.len()).step_by(7) {
            let err = cert_info(&pki.leaf_der[..end]).unwrap_err();
            assert!(
                matches!(err, CertError::CertificateParse(_)),
                "{end}: {err:?}"
            );
        }
        let mut trailing = pki.leaf_der.clone();
        trailing.push(0);
        assert_eq!(
            cert_info(&trailing),
            Err(CertError::CertificateTrailingBytes)
        );
    }

    #[test]
    fn a_malformed_or_repeated_tn_auth_list_is_reported_beside_the_facts() {
        let with = |lists: &[Vec<u8>]| {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let mut params = rcgen::CertificateParams::default();
            for list in lists {
                let ext = rcgen::CustomExtension::from_oid_content(tnauthlist::OID, list.clone());
                params.custom_extensions.push(ext);
            }
            let der = params.self_signed(&key).unwrap().der().to_vec();
            cert_facts(&der).map(|(_, tn_auth_list)| tn_auth_list)
        };
        let spc = tnauthlist::encode_spc("1234");
        assert_eq!(
            with(std::slice::from_ref(&spc)),
            Ok(Ok(Some(vec![TnAuthEntry::Spc("1234".into())])))
        );
        assert_eq!(
            with(&[vec![0x30, 0x00]]),
            Ok(Err(CertError::TnAuthList(TnAuthListError::Empty)))
        );
        assert_eq!(
            with(&[spc.clone(), spc]),
            Ok(Err(CertError::TnAuthList(TnAuthListError::Duplicate)))
        );
    }

    #[test]
    fn rfc4514_escapes_specials() {
        let mut out = String::new();
        push_escaped(&mut out, " a,b+c\"d\\e<f>g;h ");
        assert_eq!(out, r#"\ a\,b\+c\"d\\e\<f\>g\;h\ "#);
        out.clear();
        push_escaped(&mut out, "#x#");
        assert_eq!(out, r"\#x#");
    }
}
