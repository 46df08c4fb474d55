//! The development PKI's delegation (RFC 9060, ATIS-1000092): an STI-SCA, a CA that the
//! STI-CA intermediate issues and whose TNAuthList holds the SPC, and the delegate leaf
//! it issues, whose TNAuthList holds telephone numbers and ranges only. Both name the
//! STI-PA's CRL as every other certificate of the PKI does. Also the pieces tests use
//! to build delegations a relying party must refuse.

use std::fmt;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256,
};
use ring::rand::SystemRandom;
use time::OffsetDateTime;

use super::{
    CrlPoint, DevPki, ca_params, end_entity_params, generate_error, key_id, non_root_extensions,
    subject_der,
};
use crate::certs::{CertError, TnAuthEntry, tnauthlist};

/// The STI-SCA's certificate lives as long as the STI-CA's would let it; two years here.
const SCA_DAYS: i64 = 730;

/// A certificate over a new P-256 key.
#[derive(Clone)]
pub struct IssuedCert {
    pub pem: String,
    /// PKCS#8 PEM.
    pub key_pem: String,
    pub der: Vec<u8>,
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("pem", &self.pem)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The STI-SCA and the delegate leaf it issued.
#[derive(Debug, Clone)]
pub struct DelegatePki {
    /// What the delegate leaf's TNAuthList holds.
    pub numbers: Vec<TnAuthEntry>,
    /// The STI-SCA: a CA (pathLen 0) with the SPC in its TNAuthList, issued by the
    /// STI-CA intermediate.
    pub sca: IssuedCert,
    /// The delegate leaf: `numbers` and no SPC, issued by the STI-SCA.
    pub leaf: IssuedCert,
}

/// Checks what a delegate leaf of the dev PKI is to hold: at least one entry; numbers
/// of 1 to 15 digits; ranges with a count of at least 2 (RFC 8226) that stays within
/// the numbers of its start's length; no SPC (that is the STI-SCA's).
pub fn check_numbers(numbers: &[TnAuthEntry]) -> Result<(), CertError> {
    let invalid = |entry: &TnAuthEntry, reason: &'static str| CertError::InvalidDelegateNumber {
        entry: entry.to_string(),
        reason,
    };
    if numbers.is_empty() {
        return Err(CertError::InvalidDelegateNumber {
            entry: String::new(),
            reason: "a delegate certificate needs at least one number or range",
        });
    }
    for entry in numbers {
        let start = match entry {
            TnAuthEntry::Spc(_) => {
                return Err(invalid(
                    entry,
                    "a delegate certificate holds numbers and ranges, not an SPC",
                ));
            }
            TnAuthEntry::Tn(tn) => tn,
            TnAuthEntry::Range { start, count } => {
                if *count < 2 {
                    return Err(invalid(entry, "a range counts at least 2 numbers"));
                }
                start
            }
        };
        if !(1..=15).contains(&start.len()) || !start.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(entry, "a telephone number is 1 to 15 digits"));
        }
        if let TnAuthEntry::Range { count, .. } = entry
            && tnauthlist::scope::covering(std::slice::from_ref(entry), &last_of(start, *count))
                .is_none()
        {
            return Err(invalid(
                entry,
                "the range runs past the last number of its length",
            ));
        }
    }
    Ok(())
}

/// `start + count - 1`, written with as many digits as `start` (wider when it runs past).
fn last_of(start: &str, count: u64) -> String {
    let first: u64 = start.parse().unwrap_or(0);
    let last = u128::from(first) + u128::from(count) - 1;
    format!("{last:0width$}", width = start.len())
}

/// The STI-SCA for `spc` and a delegate leaf for `numbers` under it, issued by the STI-CA
/// `intermediate`, which must allow one CA below it.
pub(super) fn generate(
    spc: &str,
    numbers: &[TnAuthEntry],
    intermediate: &Issuer<'_, impl rcgen::SigningKey>,
    point: CrlPoint<'_>,
    now: OffsetDateTime,
    rng: &SystemRandom,
) -> Result<DelegatePki, CertError> {
    check_numbers(numbers)?;
    let sca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let sca_params = sca_params(
        Some(tnauthlist::encode_spc(spc)),
        sca_key.public_key_raw(),
        now,
        point,
        rng,
    )?;
    let sca_cert = sca_params
        .signed_by(&sca_key, intermediate)
        .map_err(generate_error)?;
    let sca_issuer = Issuer::new(sca_params, &sca_key);

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let leaf_cert = leaf_params(
        tnauthlist::encode(numbers),
        label(numbers),
        leaf_key.public_key_raw(),
        now,
        point,
        rng,
    )?
    .signed_by(&leaf_key, &sca_issuer)
    .map_err(generate_error)?;
    Ok(DelegatePki {
        numbers: numbers.to_vec(),
        sca: IssuedCert {
            pem: sca_cert.pem(),
            key_pem: sca_key.serialize_pem(),
            der: sca_cert.der().to_vec(),
        },
        leaf: IssuedCert {
            pem: leaf_cert.pem(),
            key_pem: leaf_key.serialize_pem(),
            der: leaf_cert.der().to_vec(),
        },
    })
}

/// A CA over a new key, issued by `pki`'s STI-CA intermediate and valid from an hour
/// before `now_unix`, shaped as an STI-SCA but carrying the TNAuthList `tn_auth_list`
/// (the extension's DER value) or none, as a test asks.
pub fn issue_sca(
    pki: &DevPki,
    tn_auth_list: Option<&[u8]>,
    now_unix: i64,
) -> Result<IssuedCert, CertError> {
    issue(
        pki,
        &pki.intermediate_pem,
        &pki.intermediate_key_pem,
        now_unix,
        |key, now, point| {
            let list = tn_auth_list.map(<[u8]>::to_vec);
            sca_params(list, key, now, point, &SystemRandom::new())
        },
    )
}

/// A delegate leaf over a new key, issued by the CA `issuer_pem` (key `issuer_key_pem`),
/// valid from an hour before `now_unix` and naming `pki`'s STI-PA CRL, with the
/// TNAuthList `tn_auth_list` (the extension's DER value, written as given).
pub fn issue_delegate_leaf(
    pki: &DevPki,
    issuer_pem: &str,
    issuer_key_pem: &str,
    tn_auth_list: &[u8],
    now_unix: i64,
) -> Result<IssuedCert, CertError> {
    let decoded = tnauthlist::decode(tn_auth_list).unwrap_or_default();
    issue(
        pki,
        issuer_pem,
        issuer_key_pem,
        now_unix,
        |key, now, point| {
            let list = tn_auth_list.to_vec();
            leaf_params(list, label(&decoded), key, now, point, &SystemRandom::new())
        },
    )
}

/// A certificate over a new key, issued by the CA `issuer_pem` (key `issuer_key_pem`)
/// from the parameters `params` gives for the new key's point, the time and `pki`'s
/// STI-PA CRL point.
fn issue(
    pki: &DevPki,
    issuer_pem: &str,
    issuer_key_pem: &str,
    now_unix: i64,
    params: impl FnOnce(&[u8], OffsetDateTime, CrlPoint<'_>) -> Result<CertificateParams, CertError>,
) -> Result<IssuedCert, CertError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let now = OffsetDateTime::from_unix_timestamp(now_unix).map_err(generate_error)?;
    let signer_name = subject_der(&pki.crl_signer_der)?;
    let point = CrlPoint {
        url: &pki.crl_url,
        issuer: &signer_name,
    };
    let ca_key = KeyPair::from_pem(issuer_key_pem).map_err(generate_error)?;
    let ca = Issuer::from_ca_cert_pem(issuer_pem, ca_key).map_err(generate_error)?;
    let cert = params(key.public_key_raw(), now, point)?
        .signed_by(&key, &ca)
        .map_err(generate_error)?;
    Ok(IssuedCert {
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
    })
}

/// `CN=callsign dev SHAKEN STI-SCA`, keyCertSign only, cA TRUE with pathLen 0 (it issues
/// end entities only), and the non-root extensions.
fn sca_params(
    tn_auth_list: Option<Vec<u8>>,
    public_key: &[u8],
    now: OffsetDateTime,
    point: CrlPoint<'_>,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    let mut params = ca_params("callsign dev SHAKEN STI-SCA", now, SCA_DAYS, rng)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_identifier_method = key_id(public_key);
    non_root_extensions(&mut params, point);
    if let Some(list) = tn_auth_list {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(tnauthlist::OID, list));
    }
    Ok(params)
}

/// `CN=SHAKEN delegate <label>` with `label` as the serialNumber the US SHAKEN CP 1.3
/// asks for beside it, digitalSignature only, not a CA, with the TNAuthList.
fn leaf_params(
    tn_auth_list: Vec<u8>,
    label: &str,
    public_key: &[u8],
    now: OffsetDateTime,
    point: CrlPoint<'_>,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    let cn = format!("SHAKEN delegate {label}");
    end_entity_params((&cn, label), tn_auth_list, public_key, now, point, rng)
}

/// The first all-digit number or range start of `numbers`, to name the leaf by.
fn label(numbers: &[TnAuthEntry]) -> &str {
    numbers
        .iter()
        .find_map(|e| match e {
            TnAuthEntry::Tn(n) | TnAuthEntry::Range { start: n, .. }
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(n.as_str())
            }
            _ => None,
        })
        .unwrap_or("numbers")
}

#[cfg(test)]
mod tests;
