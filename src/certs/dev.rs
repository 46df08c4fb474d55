//! A development STI PKI shaped after the US SHAKEN ecosystem (ATIS-1000080): a root, an
//! STI-CA intermediate, a SHAKEN leaf with a TNAuthList, and an STI-PA CRL-signing
//! certificate (`CN=STI-PA CRL`) that issues the one indirect CRL every certificate's
//! distribution point names, so that the signer and the verifier can be exercised end
//! to end; on request also a delegation ([`DelegatePki`]: an STI-SCA and a delegate
//! leaf, RFC 9060). Never use it for real traffic.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SerialNumber,
};
use ring::rand::{SecureRandom as _, SystemRandom};
use time::{Duration, OffsetDateTime};

use super::chain::pem_encode;
use super::{CertError, TnAuthEntry, tnauthlist};

const ORGANIZATION: &str = "callsign dev";
/// Validity starts this long before `now`, to absorb clock skew between hosts.
const BACKDATE: Duration = Duration::hours(1);
const ROOT_DAYS: i64 = 3650;
const INTERMEDIATE_DAYS: i64 = 1825;
const LEAF_DAYS: i64 = 730;
/// certificatePolicies (2.5.29.32).
const OID_CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
/// certificatePolicies ::= SEQUENCE { PolicyInformation ::= SEQUENCE { policyIdentifier } }
/// with the SHAKEN certificate policy 2.16.840.1.114569.1.1.3 (ATIS-1000080 v005).
const SHAKEN_POLICY_DER: [u8; 16] = [
    0x30, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x60, 0x86, 0x48, 0x01, 0x86, 0xff, 0x09, 0x01, 0x01, 0x03,
];
/// The serialNumber attribute type (2.5.4.5).
const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// cRLDistributionPoints (2.5.29.31).
const OID_CRL_DISTRIBUTION_POINTS: &[u64] = &[2, 5, 29, 31];
/// Where the CRL is published by default: beside the x5u chain of the sample config
/// (`http://127.0.0.1:8080/certs/chain.pem`).
pub const DEFAULT_CRL_URL: &str = "http://127.0.0.1:8080/certs/";
/// File name, under the CRL URL, of the STI-PA's indirect CRL, which the leaf's and the
/// intermediate's distribution points name.
pub const STI_PA_CRL_FILE: &str = "sti-pa.crl";
/// Common name of the STI-PA's CRL-signing certificate, as in production.
pub const CRL_SIGNER_CN: &str = "STI-PA CRL";

pub use delegate::{DelegatePki, IssuedCert, check_numbers, issue_delegate_leaf, issue_sca};
pub use sti_pa::{CrlContents, issue_crl};

/// The generated certificates (PEM and DER), PKCS#8 PEM private keys, and the STI-PA's
/// (empty) indirect CRL.
#[derive(Clone)]
pub struct DevPki {
    /// Where the CRL is published: what the distribution points name.
    pub crl_url: String,
    /// The STI-PA's indirect CRL (empty), signed by the CRL signer, in PEM.
    pub crl_pem: String,
    /// The STI-PA's CRL-signing certificate (`CN=STI-PA CRL`), issued by the root.
    pub crl_signer_pem: String,
    pub crl_signer_key_pem: String,
    pub crl_signer_der: Vec<u8>,
    pub root_pem: String,
    pub root_key_pem: String,
    pub intermediate_pem: String,
    pub intermediate_key_pem: String,
    pub leaf_pem: String,
    pub leaf_key_pem: String,
    pub root_der: Vec<u8>,
    pub intermediate_der: Vec<u8>,
    pub leaf_der: Vec<u8>,
    /// The STI-SCA and its delegate leaf, when [`generate_delegating`] made them.
    pub delegate: Option<DelegatePki>,
}

impl DevPki {
    /// Leaf then intermediate: what the x5u URL serves.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.leaf_pem, self.intermediate_pem)
    }

    /// Delegate leaf, STI-SCA, then intermediate: what the delegate's x5u URL serves.
    pub fn delegate_chain_pem(&self) -> Option<String> {
        let d = self.delegate.as_ref()?;
        Some(format!(
            "{}{}{}",
            d.leaf.pem, d.sca.pem, self.intermediate_pem
        ))
    }

    /// A new STI-PA CRL revoking `revoked` (certificate DERs), valid from an hour
    /// before `now_unix` for as long as the leaf. Returns DER.
    pub fn issue_crl(&self, revoked: &[&[u8]], now_unix: i64) -> Result<Vec<u8>, CertError> {
        let this_update = now_unix - BACKDATE.whole_seconds();
        self.issue_crl_between(revoked, this_update, now_unix + LEAF_DAYS * 86_400)
    }

    /// A new STI-PA CRL revoking `revoked`, with this thisUpdate and nextUpdate.
    pub fn issue_crl_between(
        &self,
        revoked: &[&[u8]],
        this_update: i64,
        next_update: i64,
    ) -> Result<Vec<u8>, CertError> {
        issue_crl(
            &self.crl_signer_pem,
            &self.crl_signer_key_pem,
            &CrlContents {
                url: &self.crl_url,
                indirect: true,
                revoked,
                this_update,
                next_update,
            },
        )
    }
}

impl fmt::Debug for DevPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevPki")
            .field("root_pem", &self.root_pem)
            .field("intermediate_pem", &self.intermediate_pem)
            .field("leaf_pem", &self.leaf_pem)
            .field("delegate", &self.delegate)
            .field("keys", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// [`generate_with`] with the CRLs published under [`DEFAULT_CRL_URL`].
pub fn generate(spc: &str, now_unix: i64) -> Result<DevPki, CertError> {
    generate_with(spc, DEFAULT_CRL_URL, now_unix)
}

/// Generates a root CA, an STI-CA intermediate, a SHAKEN leaf for `spc` and the
/// STI-PA's CRL signer, all P-256 with ecdsa-with-SHA256, valid from an hour before
/// `now_unix`, and the STI-PA's empty indirect CRL.
///
/// `crl_url` is the URL prefix the CRL is published under: the leaf's and the
/// intermediate's CRL Distribution Point is `<crl_url>sti-pa.crl` with the CRL signer as
/// cRLIssuer (a `/` is added when `crl_url` does not end with one).
pub fn generate_with(spc: &str, crl_url: &str, now_unix: i64) -> Result<DevPki, CertError> {
    build(spc, crl_url, now_unix, None)
}

/// [`generate_with`], and a delegation under the intermediate: an STI-SCA for `spc` and
/// a delegate leaf whose TNAuthList holds `numbers` (see [`check_numbers`]). The
/// intermediate then allows one CA below it (pathLen 1) instead of none.
pub fn generate_delegating(
    spc: &str,
    crl_url: &str,
    numbers: &[TnAuthEntry],
    now_unix: i64,
) -> Result<DevPki, CertError> {
    check_numbers(numbers)?;
    build(spc, crl_url, now_unix, Some(numbers))
}

fn build(
    spc: &str,
    crl_url: &str,
    now_unix: i64,
    delegate_numbers: Option<&[TnAuthEntry]>,
) -> Result<DevPki, CertError> {
    if spc.is_empty()
        || spc.len() > 64
        || !spc
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(CertError::InvalidSpc(spc.to_owned()));
    }
    let crl_uri = crl_uri(crl_url)?;
    let now = OffsetDateTime::from_unix_timestamp(now_unix).map_err(generate_error)?;
    let rng = SystemRandom::new();

    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let mut root = ca_params("callsign dev SHAKEN root", now, ROOT_DAYS, &rng)?;
    root.key_identifier_method = key_id(root_key.public_key_raw());
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_cert = root.self_signed(&root_key).map_err(generate_error)?;
    let root_issuer = Issuer::new(root, &root_key);

    let signer_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let mut signer = base_params(CRL_SIGNER_CN, now, ROOT_DAYS, &rng)?;
    signer.is_ca = IsCa::ExplicitNoCa;
    signer.key_usages = vec![KeyUsagePurpose::CrlSign];
    signer.key_identifier_method = key_id(signer_key.public_key_raw());
    signer.use_authority_key_identifier_extension = true;
    let signer_cert = signer
        .signed_by(&signer_key, &root_issuer)
        .map_err(generate_error)?;
    let signer_name = subject_der(signer_cert.der())?;
    let point = CrlPoint {
        url: &crl_uri,
        issuer: &signer_name,
    };

    let intermediate_key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let mut intermediate = ca_params(
        "callsign dev SHAKEN intermediate",
        now,
        INTERMEDIATE_DAYS,
        &rng,
    )?;
    // An STI-SCA below it is a CA too.
    let below = u8::from(delegate_numbers.is_some());
    intermediate.is_ca = IsCa::Ca(BasicConstraints::Constrained(below));
    intermediate.key_identifier_method = key_id(intermediate_key.public_key_raw());
    non_root_extensions(&mut intermediate, point);
    let intermediate_cert = intermediate
        .signed_by(&intermediate_key, &root_issuer)
        .map_err(generate_error)?;
    let intermediate_issuer = Issuer::new(intermediate, &intermediate_key);

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    let leaf_cert = leaf_params(spc, leaf_key.public_key_raw(), now, point, &rng)?
        .signed_by(&leaf_key, &intermediate_issuer)
        .map_err(generate_error)?;
    let delegate = match delegate_numbers {
        Some(numbers) => Some(delegate::generate(
            spc,
            numbers,
            &intermediate_issuer,
            point,
            now,
            &rng,
        )?),
        None => None,
    };

    let mut pki = DevPki {
        crl_url: crl_uri.clone(),
        crl_pem: String::new(),
        crl_signer_pem: signer_cert.pem(),
        crl_signer_key_pem: signer_key.serialize_pem(),
        crl_signer_der: signer_cert.der().to_vec(),
        root_pem: root_cert.pem(),
        root_key_pem: root_key.serialize_pem(),
        intermediate_pem: intermediate_cert.pem(),
        intermediate_key_pem: intermediate_key.serialize_pem(),
        leaf_pem: leaf_cert.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
        root_der: root_cert.der().to_vec(),
        intermediate_der: intermediate_cert.der().to_vec(),
        leaf_der: leaf_cert.der().to_vec(),
        delegate,
    };
    let crl = pki.issue_crl(&[], now_unix)?;
    pki.crl_pem = pem_encode("X509 CRL", &crl);
    Ok(pki)
}

/// Where a certificate's CRL is and who issues it.
#[derive(Debug, Clone, Copy)]
struct CrlPoint<'a> {
    url: &'a str,
    /// DER of the CRL signer's Name (the cRLIssuer).
    issuer: &'a [u8],
}

/// The subject key identifier ATIS-1000080 v005 asks for: the 160-bit SHA-1 of the
/// public key (RFC 5280 4.2.1.2 method 1). rcgen's own is a truncated SHA-256.
fn key_id(public_key: &[u8]) -> KeyIdMethod {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, public_key);
    KeyIdMethod::PreSpecified(digest.as_ref().to_vec())
}

fn subject_der(der: &[u8]) -> Result<Vec<u8>, CertError> {
    Ok(super::chain::parse(der)?.subject().as_raw().to_vec())
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
    let signer_name = subject_der(&pki.crl_signer_der)?;
    let point = CrlPoint {
        url: &pki.crl_url,
        issuer: &signer_name,
    };
    let leaf = leaf_params(spc, public_key_sec1, now, point, &SystemRandom::new())?
        .signed_by(&public_key, &issuer)
        .map_err(generate_error)?;
    Ok(leaf.pem())
}

/// A SHAKEN leaf for `spc` over the key whose point is `public_key`: `CN=SHAKEN <spc>`
/// with the serialNumber the US SHAKEN CP 1.3 asks for beside it, digitalSignature
/// only, not a CA, with the TNAuthList.
fn leaf_params(
    spc: &str,
    public_key: &[u8],
    now: OffsetDateTime,
    point: CrlPoint<'_>,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    if spc.is_empty()
        || spc.len() > 64
        || !spc
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(CertError::InvalidSpc(spc.to_owned()));
    }
    let names = (&*format!("SHAKEN {spc}"), spc);
    end_entity_params(
        names,
        tnauthlist::encode_spc(spc),
        public_key,
        now,
        point,
        rng,
    )
}

/// An end entity `CN=<cn>` with `serial` as the serialNumber the US SHAKEN CP 1.3 asks
/// for beside it, over the key whose point is `public_key`: digitalSignature only, not
/// a CA, with the TNAuthList `tn_auth_list` (DER) and the STI-PA's CRL point.
fn end_entity_params(
    (cn, serial): (&str, &str),
    tn_auth_list: Vec<u8>,
    public_key: &[u8],
    now: OffsetDateTime,
    point: CrlPoint<'_>,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    let mut leaf = base_params(cn, now, LEAF_DAYS, rng)?;
    let serial = serial.try_into().map_err(generate_error)?;
    leaf.distinguished_name.push(
        DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()),
        DnValue::PrintableString(serial),
    );
    leaf.key_identifier_method = key_id(public_key);
    // ExplicitNoCa writes basicConstraints (cA false) and the subject key identifier.
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    non_root_extensions(&mut leaf, point);
    leaf.custom_extensions
        .push(CustomExtension::from_oid_content(
            tnauthlist::OID,
            tn_auth_list,
        ));
    Ok(leaf)
}

/// A direct CRL signed by the CA `ca_pem` (key `ca_key_pem`) revoking `revoked`
/// (certificate DERs), valid from an hour before `now_unix` for as long as the leaf.
/// Returns DER.
pub fn issue_direct_crl(
    ca_pem: &str,
    ca_key_pem: &str,
    revoked: &[&[u8]],
    now_unix: i64,
) -> Result<Vec<u8>, CertError> {
    issue_crl(
        ca_pem,
        ca_key_pem,
        &CrlContents {
            url: "",
            indirect: false,
            revoked,
            this_update: now_unix - BACKDATE.whole_seconds(),
            next_update: now_unix + LEAF_DAYS * 86_400,
        },
    )
}

/// The STI-PA CRL's URL under the prefix `crl_url`.
fn crl_uri(crl_url: &str) -> Result<String, CertError> {
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
    Ok(format!("{crl_url}{sep}{STI_PA_CRL_FILE}"))
}

/// Writes `root.pem`, `root.key`, `intermediate.pem`, `intermediate.key`, `leaf.pem`,
/// `leaf.key`, `chain.pem`, the CRL signer `sti-pa-crl.pem` and `sti-pa-crl.key`, its
/// CRL `sti-pa.crl` (DER, as served over HTTP) and `crl.pem` (the same CRL in PEM) into
/// `dir` (created if missing); with a delegation also `sti-sca.pem`, `sti-sca.key`,
/// `delegate.pem`, `delegate.key` and `delegate-chain.pem` (delegate leaf, STI-SCA,
/// intermediate). Keys are mode 0600 on Unix. Existing files are never overwritten: if
/// any exists, nothing is written.
pub fn write(dir: &Path, pki: &DevPki) -> Result<(), CertError> {
    let chain = pki.chain_pem();
    let delegate_chain = pki.delegate_chain_pem().unwrap_or_default();
    let crl = pem_contents(&pki.crl_pem)?;
    let mut files: Vec<(&str, &[u8], bool)> = vec![
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
        ("sti-pa-crl.pem", pki.crl_signer_pem.as_bytes(), false),
        ("sti-pa-crl.key", pki.crl_signer_key_pem.as_bytes(), true),
        (STI_PA_CRL_FILE, &crl, false),
        ("crl.pem", pki.crl_pem.as_bytes(), false),
    ];
    if let Some(d) = &pki.delegate {
        files.extend([
            ("sti-sca.pem", d.sca.pem.as_bytes(), false),
            ("sti-sca.key", d.sca.key_pem.as_bytes(), true),
            ("delegate.pem", d.leaf.pem.as_bytes(), false),
            ("delegate.key", d.leaf.key_pem.as_bytes(), true),
            ("delegate-chain.pem", delegate_chain.as_bytes(), false),
        ]);
    }
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
    // CAs sign certificates only: the STI-PA signs the CRL (ATIS-1000080 v005).
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    Ok(params)
}

/// Authority key identifier, SHAKEN certificate policy, and the CRL distribution point
/// naming the STI-PA as cRLIssuer.
fn non_root_extensions(params: &mut CertificateParams, point: CrlPoint<'_>) {
    params.use_authority_key_identifier_extension = true;
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            OID_CRL_DISTRIBUTION_POINTS,
            sti_pa::distribution_point(point.url, point.issuer),
        ));
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            OID_CERTIFICATE_POLICIES,
            SHAKEN_POLICY_DER.to_vec(),
        ));
}

mod delegate;
mod sti_pa;
#[cfg(test)]
pub(crate) mod tests;
