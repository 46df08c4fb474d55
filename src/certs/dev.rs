//! A development STI PKI (root, intermediate, SHAKEN leaf with a TNAuthList), shaped
//! after ATIS-1000080 so that the signer and verifier can be exercised end to end.
//! Never use it for real traffic.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, RevokedCertParams, SerialNumber,
};
use ring::rand::{SecureRandom as _, SystemRandom};
use time::{Duration, OffsetDateTime};

use super::{CertError, tnauthlist};

const ORGANIZATION: &str = "callsign dev";
/// Validity starts this long before `now`, to absorb clock skew between hosts.
const BACKDATE: Duration = Duration::hours(1);
const ROOT_DAYS: i64 = 3650;
const INTERMEDIATE_DAYS: i64 = 1825;
const LEAF_DAYS: i64 = 730;
/// certificatePolicies (2.5.29.32).
const OID_CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
/// certificatePolicies ::= SEQUENCE { PolicyInformation ::= SEQUENCE { policyIdentifier } }
/// with the SHAKEN certificate policy 2.16.840.1.114569.1.1.1 (ATIS-1000080).
const SHAKEN_POLICY_DER: [u8; 16] = [
    0x30, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x60, 0x86, 0x48, 0x01, 0x86, 0xff, 0x09, 0x01, 0x01, 0x01,
];
/// Where the CRLs are published by default: beside the x5u chain of the sample config
/// (`http://127.0.0.1:8080/certs/chain.pem`). The leaf points at `intermediate.crl`, the
/// intermediate at `root.crl`.
pub const DEFAULT_CRL_URL: &str = "http://127.0.0.1:8080/certs/";
/// File name, under the CRL URL, of the CRL the intermediate signs (it covers the leaf).
pub const INTERMEDIATE_CRL_FILE: &str = "intermediate.crl";
/// File name, under the CRL URL, of the CRL the root signs (it covers the intermediate).
pub const ROOT_CRL_FILE: &str = "root.crl";

/// The generated certificates (PEM and DER), PKCS#8 PEM private keys, and the two CRLs
/// (both empty) in PEM.
#[derive(Clone)]
pub struct DevPki {
    /// CRL signed by the intermediate, published at `<crl url>intermediate.crl`.
    pub intermediate_crl_pem: String,
    /// CRL signed by the root, published at `<crl url>root.crl`.
    pub root_crl_pem: String,
    pub root_pem: String,
    pub root_key_pem: String,
    pub intermediate_pem: String,
    pub intermediate_key_pem: String,
    pub leaf_pem: String,
    pub leaf_key_pem: String,
    pub root_der: Vec<u8>,
    pub intermediate_der: Vec<u8>,
    pub leaf_der: Vec<u8>,
}

impl DevPki {
    /// Leaf then intermediate: what the x5u URL serves.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.leaf_pem, self.intermediate_pem)
    }
}

impl fmt::Debug for DevPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevPki")
            .field("root_pem", &self.root_pem)
            .field("intermediate_pem", &self.intermediate_pem)
            .field("leaf_pem", &self.leaf_pem)
            .field("keys", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// [`generate_with`] with the CRLs published under [`DEFAULT_CRL_URL`].
pub fn generate(spc: &str, now_unix: i64) -> Result<DevPki, CertError> {
    generate_with(spc, DEFAULT_CRL_URL, now_unix)
}

/// Generates a root CA, an intermediate CA and a SHAKEN leaf for `spc`, all P-256 with
/// ecdsa-with-SHA256, valid from an hour before `now_unix`, and an empty CRL from each CA.
///
/// `crl_url` is the URL prefix the CRLs are published under: the leaf's CRL
/// Distribution Point is `<crl_url>intermediate.crl` and the intermediate's is
/// `<crl_url>root.crl` (a `/` is added when `crl_url` does not end with one).
pub fn generate_with(spc: &str, crl_url: &str, now_unix: i64) -> Result<DevPki, CertError> {
    if spc.is_empty() || spc.len() > 64 || !spc.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CertError::InvalidSpc(spc.to_owned()));
    }
    let (root_crl_uri, intermediate_crl_uri) = crl_uris(crl_url)?;
    let now = OffsetDateTime::from_unix_timestamp(now_unix).map_err(generate_error)?;
    let rng = SystemRandom::new();

    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let mut root = ca_params("callsign dev STI root", now, ROOT_DAYS, &rng)?;
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_cert = root.self_signed(&root_key).map_err(generate_error)?;
    let root_issuer = Issuer::new(root, &root_key);

    let intermediate_key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let mut intermediate = ca_params(
        "callsign dev STI intermediate",
        now,
        INTERMEDIATE_DAYS,
        &rng,
    )?;
    intermediate.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    non_root_extensions(&mut intermediate, &root_crl_uri);
    let intermediate_cert = intermediate
        .signed_by(&intermediate_key, &root_issuer)
        .map_err(generate_error)?;
    let intermediate_issuer = Issuer::new(intermediate, &intermediate_key);

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let leaf_cert = leaf_params(spc, now, &intermediate_crl_uri, &rng)?
        .signed_by(&leaf_key, &intermediate_issuer)
        .map_err(generate_error)?;
    let root_crl = crl_params(now, &[])?
        .signed_by(&root_issuer)
        .map_err(generate_error)?;
    let intermediate_crl = crl_params(now, &[])?
        .signed_by(&intermediate_issuer)
        .map_err(generate_error)?;

    Ok(DevPki {
        intermediate_crl_pem: intermediate_crl.pem().map_err(generate_error)?,
        root_crl_pem: root_crl.pem().map_err(generate_error)?,
        root_pem: root_cert.pem(),
        root_key_pem: root_key.serialize_pem(),
        intermediate_pem: intermediate_cert.pem(),
        intermediate_key_pem: intermediate_key.serialize_pem(),
        leaf_pem: leaf_cert.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
        root_der: root_cert.der().to_vec(),
        intermediate_der: intermediate_cert.der().to_vec(),
        leaf_der: leaf_cert.der().to_vec(),
    })
}

/// A SHAKEN leaf for `spc` over a public key held elsewhere (an HSM's), issued by the
/// intermediate of `pki` and valid from an hour before `now_unix`. `public_key_sec1` is
/// the uncompressed P-256 point. Returns the leaf in PEM.
pub fn issue_leaf(
    pki: &DevPki,
    spc: &str,
    public_key_sec1: &[u8],
    now_unix: i64,
) -> Result<String, CertError> {
    /// The DER of SubjectPublicKeyInfo for id-ecPublicKey on prime256v1, up to the point.
    const P256_SPKI_PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    if public_key_sec1.len() != 65 || public_key_sec1[0] != 0x04 {
        return Err(generate_error("not an uncompressed P-256 point"));
    }
    let spki = [&P256_SPKI_PREFIX[..], public_key_sec1].concat();
    let public_key = rcgen::SubjectPublicKeyInfo::from_der(&spki).map_err(generate_error)?;
    let now = OffsetDateTime::from_unix_timestamp(now_unix).map_err(generate_error)?;
    let key = KeyPair::from_pem(&pki.intermediate_key_pem).map_err(generate_error)?;
    let issuer = Issuer::from_ca_cert_pem(&pki.intermediate_pem, key).map_err(generate_error)?;
    let (_, intermediate_crl_uri) = crl_uris(DEFAULT_CRL_URL)?;
    let leaf = leaf_params(spc, now, &intermediate_crl_uri, &SystemRandom::new())?
        .signed_by(&public_key, &issuer)
        .map_err(generate_error)?;
    Ok(leaf.pem())
}

/// A SHAKEN leaf for `spc`: digitalSignature only, not a CA, with the TNAuthList.
fn leaf_params(
    spc: &str,
    now: OffsetDateTime,
    crl_uri: &str,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    if spc.is_empty() || spc.len() > 64 || !spc.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CertError::InvalidSpc(spc.to_owned()));
    }
    let mut leaf = base_params(&format!("SHAKEN {spc}"), now, LEAF_DAYS, rng)?;
    // ExplicitNoCa writes basicConstraints (cA false) and the subject key identifier.
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    non_root_extensions(&mut leaf, crl_uri);
    leaf.custom_extensions
        .push(CustomExtension::from_oid_content(
            tnauthlist::OID,
            tnauthlist::encode_spc(spc),
        ));
    Ok(leaf)
}

/// Issues a CRL signed by the CA `ca_pem` (whose key is `ca_key_pem`) that revokes the
/// given serial numbers (content bytes, as `raw_serial()` gives them). It is valid from an
/// hour before `now_unix` for `LEAF_DAYS` days. Returns DER.
pub fn issue_crl(
    ca_pem: &str,
    ca_key_pem: &str,
    revoked_serials: &[&[u8]],
    now_unix: i64,
) -> Result<Vec<u8>, CertError> {
    let now = OffsetDateTime::from_unix_timestamp(now_unix).map_err(generate_error)?;
    let key = KeyPair::from_pem(ca_key_pem).map_err(generate_error)?;
    let issuer = Issuer::from_ca_cert_pem(ca_pem, key).map_err(generate_error)?;
    let crl = crl_params(now, revoked_serials)?
        .signed_by(&issuer)
        .map_err(generate_error)?;
    Ok(crl.der().to_vec())
}

/// A CRL from an hour before `now` until the leaf's end of validity, numbered by the
/// time of issue.
fn crl_params(
    now: OffsetDateTime,
    revoked_serials: &[&[u8]],
) -> Result<CertificateRevocationListParams, CertError> {
    let this_update = now
        .checked_sub(BACKDATE)
        .ok_or_else(|| generate_error("thisUpdate out of range"))?;
    let next_update = now
        .checked_add(Duration::days(LEAF_DAYS))
        .ok_or_else(|| generate_error("nextUpdate out of range"))?;
    let number = u64::try_from(now.unix_timestamp()).unwrap_or(1).max(1);
    Ok(CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: revoked_serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: this_update,
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    })
}

/// The root's and the intermediate's CRL URLs under the prefix `crl_url`.
fn crl_uris(crl_url: &str) -> Result<(String, String), CertError> {
    let ok = (crl_url.starts_with("http://") || crl_url.starts_with("https://"))
        && crl_url.len() > "https://".len()
        && !crl_url.contains(['?', '#'])
        && crl_url
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>'));
    if !ok {
        return Err(CertError::InvalidCrlUrl(crl_url.to_owned()));
    }
    let sep = if crl_url.ends_with('/') { "" } else { "/" };
    Ok((
        format!("{crl_url}{sep}{ROOT_CRL_FILE}"),
        format!("{crl_url}{sep}{INTERMEDIATE_CRL_FILE}"),
    ))
}

/// Writes `root.pem`, `root.key`, `intermediate.pem`, `intermediate.key`, `leaf.pem`,
/// `leaf.key`, `chain.pem`, the CRLs `intermediate.crl` and `root.crl` (DER, as served
/// over HTTP) and `crl.pem` (both CRLs in PEM) into `dir` (created if missing). Keys are
/// mode 0600 on Unix. Existing files are never overwritten: if any exists, nothing is
/// written.
pub fn write(dir: &Path, pki: &DevPki) -> Result<(), CertError> {
    let chain = pki.chain_pem();
    let crls_pem = format!("{}{}", pki.intermediate_crl_pem, pki.root_crl_pem);
    let intermediate_crl = pem_contents(&pki.intermediate_crl_pem)?;
    let root_crl = pem_contents(&pki.root_crl_pem)?;
    let files: [(&str, &[u8], bool); 10] = [
        ("root.pem", pki.root_pem.as_bytes(), false),
        ("root.key", pki.root_key_pem.as_bytes(), true),
        ("intermediate.pem", pki.intermediate_pem.as_bytes(), false),
        (
            "intermediate.key",
            pki.intermediate_key_pem.as_bytes(),
            true,
        ),
        ("leaf.pem", pki.leaf_pem.as_bytes(), false),
        ("leaf.key", pki.leaf_key_pem.as_bytes(), true),
        ("chain.pem", chain.as_bytes(), false),
        (INTERMEDIATE_CRL_FILE, &intermediate_crl, false),
        (ROOT_CRL_FILE, &root_crl, false),
        ("crl.pem", crls_pem.as_bytes(), false),
    ];
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    for (name, _, _) in &files {
        let path = dir.join(name);
        if path.exists() {
            return Err(CertError::Io {
                path: path.display().to_string(),
                reason: "already exists; refusing to overwrite".into(),
            });
        }
    }
    for (name, contents, secret) in files {
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = secret;
        let mut file = options.open(&path).map_err(|e| io_error(&path, &e))?;
        file.write_all(contents).map_err(|e| io_error(&path, &e))?;
    }
    Ok(())
}

/// The DER inside the first PEM block of `pem`.
fn pem_contents(pem: &str) -> Result<Vec<u8>, CertError> {
    match x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()).next() {
        Some(Ok(block)) => Ok(block.contents),
        Some(Err(e)) => Err(CertError::Pem(e.to_string())),
        None => Err(CertError::Pem("no PEM block".into())),
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> CertError {
    CertError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn generate_error(e: impl fmt::Display) -> CertError {
    CertError::Generate(e.to_string())
}

/// Subject `CN=<cn>, O=callsign dev, C=US`, validity, and a random positive serial.
fn base_params(
    cn: &str,
    now: OffsetDateTime,
    days: i64,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let country = "US".try_into().map_err(generate_error)?;
    dn.push(DnType::CountryName, DnValue::PrintableString(country));
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.not_before = now
        .checked_sub(BACKDATE)
        .ok_or_else(|| generate_error("not_before out of range"))?;
    params.not_after = now
        .checked_add(Duration::days(days))
        .ok_or_else(|| generate_error("not_after out of range"))?;

    // 16 random bytes, top bit cleared (positive) and next bit set (no leading zero):
    // 126 random bits, above the 64 the CA/B Forum and ATIS-1000080 ask for.
    let mut serial = [0u8; 16];
    rng.fill(&mut serial)
        .map_err(|_| generate_error("no randomness for the serial number"))?;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(params)
}

fn ca_params(
    cn: &str,
    now: OffsetDateTime,
    days: i64,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    let mut params = base_params(cn, now, days, rng)?;
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// Authority key identifier, SHAKEN certificate policy and CRL distribution point.
fn non_root_extensions(params: &mut CertificateParams, crl_uri: &str) {
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![crl_uri.to_owned()],
    }];
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            OID_CERTIFICATE_POLICIES,
            SHAKEN_POLICY_DER.to_vec(),
        ));
}

#[cfg(test)]
pub(crate) mod tests;
