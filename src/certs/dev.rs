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
    let mut leaf = base_params(&format!("SHAKEN {spc}"), now, LEAF_DAYS, &rng)?;
    // ExplicitNoCa writes basicConstraints (cA false) and the subject key identifier.
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    non_root_extensions(&mut leaf, &intermediate_crl_uri);
    leaf.custom_extensions
        .push(CustomExtension::from_oid_content(
            tnauthlist::OID,
            tnauthlist::encode_spc(spc),
        ));
    let leaf_cert = leaf
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

/// Issues a CRL signed by the CA `ca_pem` (whose key is `ca_key_pem`) that revokes the
/// given serial numbers (content bytes, as `raw_serial()` gives them). It is valid from an
/// hour before `now_unix` for [`LEAF_DAYS`] days. Returns DER.
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
        return Err(CertError::Generate(format!(
            "CRL URL {crl_url:?} must be an http or https URL prefix without query or fragment"
        )));
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
pub(crate) mod tests {
    use std::sync::OnceLock;

    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::ParsedExtension;
    use x509_parser::prelude::FromDer as _;

    use super::*;
    use crate::certs::{
        SigningKey, TnAuthEntry, cert_info, check_signing_pair, load_chain_pem, verify_issued_by,
    };

    pub(crate) const NOW: i64 = 1_750_000_000;
    const SPC: &str = "1234";

    /// One PKI shared by the tests of this crate (generation costs three key pairs).
    pub(crate) fn pki() -> &'static DevPki {
        static PKI: OnceLock<DevPki> = OnceLock::new();
        PKI.get_or_init(|| generate(SPC, NOW).expect("dev PKI generation"))
    }

    fn policies<'a>(
        cert: &'a X509Certificate<'_>,
    ) -> Vec<&'a x509_parser::extensions::PolicyInformation<'a>> {
        cert.extensions()
            .iter()
            .filter_map(|e| match e.parsed_extension() {
                ParsedExtension::CertificatePolicies(p) => Some(p),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn parsed(der: &[u8]) -> X509Certificate<'_> {
        X509Certificate::from_der(der).expect("parse").1
    }

    #[test]
    fn leaf_passes_check_signing_pair() {
        let pki = pki();
        let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
        let chain = load_chain_pem(&pki.chain_pem()).unwrap();
        assert_eq!(
            chain,
            vec![pki.leaf_der.clone(), pki.intermediate_der.clone()]
        );
        let info = check_signing_pair(&key, &chain, NOW).unwrap();
        assert_eq!(info.subject, "CN=SHAKEN 1234, O=callsign dev, C=US");
        assert_eq!(info.spc.as_deref(), Some(SPC));
        assert_eq!(info.public_key_sec1, key.public_key_sec1());
        assert_eq!(info.not_before, NOW - 3600);
        assert_eq!(info.not_after, NOW + LEAF_DAYS * 86_400);
    }

    #[test]
    fn leaf_tnauthlist_holds_exactly_the_spc() {
        let leaf = parsed(&pki().leaf_der);
        let ext = leaf
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == tnauthlist::OID_STR)
            .expect("TNAuthList present");
        assert!(!ext.critical);
        assert_eq!(ext.value, tnauthlist::encode_spc(SPC).as_slice());
        assert_eq!(
            tnauthlist::decode(ext.value),
            Ok(vec![TnAuthEntry::Spc(SPC.into())])
        );
    }

    #[test]
    fn chain_signatures_verify() {
        let pki = pki();
        assert_eq!(
            verify_issued_by(&pki.leaf_der, &pki.intermediate_der),
            Ok(())
        );
        assert_eq!(
            verify_issued_by(&pki.intermediate_der, &pki.root_der),
            Ok(())
        );
        assert_eq!(verify_issued_by(&pki.root_der, &pki.root_der), Ok(()));
        // Wrong issuer.
        assert_eq!(
            verify_issued_by(&pki.leaf_der, &pki.root_der),
            Err(CertError::BadSignature)
        );
        // A flipped byte inside the signed TBS part.
        let mut tampered = pki.leaf_der.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 0x01;
        assert!(verify_issued_by(&tampered, &pki.intermediate_der).is_err());
    }

    #[test]
    fn different_key_is_a_mismatch() {
        let chain = vec![pki().leaf_der.clone()];
        let other = crate::certs::test_key(1);
        assert_eq!(
            check_signing_pair(&other, &chain, NOW),
            Err(CertError::KeyMismatch)
        );
    }

    #[test]
    fn validity_window_is_enforced() {
        let pki = pki();
        let key = SigningKey::from_pem(&pki.leaf_key_pem).unwrap();
        let chain = vec![pki.leaf_der.clone()];
        let not_after = NOW + LEAF_DAYS * 86_400;
        assert!(check_signing_pair(&key, &chain, not_after).is_ok());
        assert_eq!(
            check_signing_pair(&key, &chain, not_after + 1),
            Err(CertError::Expired { not_after })
        );
        assert_eq!(
            check_signing_pair(&key, &chain, NOW - 3601),
            Err(CertError::NotYetValid {
                not_before: NOW - 3600
            })
        );
        assert_eq!(
            check_signing_pair(&key, &[], NOW),
            Err(CertError::NoCertificates)
        );
    }

    #[test]
    fn ca_certificate_has_no_tnauthlist() {
        let pki = pki();
        let key = SigningKey::from_pem(&pki.intermediate_key_pem).unwrap();
        assert_eq!(
            check_signing_pair(&key, std::slice::from_ref(&pki.intermediate_der), NOW),
            Err(CertError::MissingTnAuthList)
        );
        assert_eq!(cert_info(&pki.root_der).unwrap().spc, None);
    }

    #[test]
    fn certificate_profile() {
        let pki = pki();
        let root = parsed(&pki.root_der);
        let intermediate = parsed(&pki.intermediate_der);
        let leaf = parsed(&pki.leaf_der);

        let bc = root.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
        let ku = root.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
        assert!(!ku.value.digital_signature());
        assert_eq!(
            root.validity().not_after.timestamp(),
            NOW + ROOT_DAYS * 86_400
        );
        assert_eq!(root.subject(), root.issuer());

        let bc = intermediate.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        assert_eq!(intermediate.issuer(), root.subject());

        let bc = leaf.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && !bc.value.ca);
        let ku = leaf.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.digital_signature());
        assert!(!ku.value.key_cert_sign());
        assert_eq!(leaf.issuer(), intermediate.subject());

        for cert in [&root, &intermediate, &leaf] {
            assert_eq!(
                cert.signature_algorithm.algorithm.to_id_string(),
                "1.2.840.10045.4.3.2"
            );
            // Positive serial with at least 64 random bits.
            assert!(cert.raw_serial().len() >= 9, "{:02x?}", cert.raw_serial());
            assert!(cert.raw_serial().first().is_some_and(|b| b & 0x80 == 0));
            assert!(matches!(
                cert.get_extension_unique(
                    &x509_parser::oid_registry::OID_X509_EXT_SUBJECT_KEY_IDENTIFIER
                ),
                Ok(Some(_))
            ));
        }
        assert_ne!(root.raw_serial(), leaf.raw_serial());
        // AKI on non-roots names the issuer's SKI.
        for (cert, issuer) in [(&intermediate, &root), (&leaf, &intermediate)] {
            let aki = match cert
                .get_extension_unique(
                    &x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
                )
                .unwrap()
                .unwrap()
                .parsed_extension()
            {
                ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.clone(),
                other => panic!("AKI: {other:?}"),
            };
            let ski = match issuer
                .get_extension_unique(
                    &x509_parser::oid_registry::OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
                )
                .unwrap()
                .unwrap()
                .parsed_extension()
            {
                ParsedExtension::SubjectKeyIdentifier(ski) => ski.clone(),
                other => panic!("SKI: {other:?}"),
            };
            assert_eq!(aki.map(|k| k.0.to_vec()), Some(ski.0.to_vec()));
        }
        // Certificate policy and CRL distribution point on non-roots only.
        for (cert, crl) in [
            (&intermediate, "http://127.0.0.1:8080/certs/root.crl"),
            (&leaf, "http://127.0.0.1:8080/certs/intermediate.crl"),
        ] {
            let ids: Vec<String> = policies(cert)
                .iter()
                .map(|p| p.policy_id.to_id_string())
                .collect();
            assert_eq!(ids, vec!["2.16.840.1.114569.1.1.1".to_string()]);
            let uris = crate::certs::path::crl_urls(cert);
            assert_eq!(uris, vec![crl.to_string()]);
        }
        assert!(policies(&root).is_empty());
    }

    #[test]
    fn crl_url_prefix_sets_both_distribution_points() {
        let pki = generate_with("1234", "http://127.0.0.1:9/crl", NOW).unwrap();
        let urls = |der: &[u8]| crate::certs::path::crl_urls(&parsed(der));
        assert_eq!(
            urls(&pki.leaf_der),
            ["http://127.0.0.1:9/crl/intermediate.crl"]
        );
        assert_eq!(
            urls(&pki.intermediate_der),
            ["http://127.0.0.1:9/crl/root.crl"]
        );
        for bad in ["ftp://x/", "http://", "http://x/?a=b", "https://a b/", ""] {
            assert!(
                matches!(generate_with("1234", bad, NOW), Err(CertError::Generate(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn spc_is_validated() {
        for bad in ["", "12 4", "12,4", "é", &"1".repeat(65)] {
            assert_eq!(
                generate(bad, NOW).map(|_| ()),
                Err(CertError::InvalidSpc(bad.to_string()))
            );
        }
    }

    #[test]
    fn debug_redacts_keys() {
        let shown = format!("{:?}", pki());
        assert!(shown.contains("BEGIN CERTIFICATE"));
        assert!(!shown.contains("PRIVATE KEY"));
    }

    #[test]
    fn write_creates_files_and_refuses_to_overwrite() {
        let pki = pki();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        write(&dir, pki).unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(read("root.pem"), pki.root_pem);
        assert_eq!(read("intermediate.key"), pki.intermediate_key_pem);
        assert_eq!(read("chain.pem"), pki.chain_pem());
        assert!(read("leaf.key").starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(
            read("crl.pem"),
            format!("{}{}", pki.intermediate_crl_pem, pki.root_crl_pem)
        );
        let crl_der = std::fs::read(dir.join("intermediate.crl")).unwrap();
        let crl = crate::certs::Crl::parse(&crl_der).unwrap();
        assert_eq!(crl.check_signed_by(&pki.intermediate_der), Ok(()));
        let crl_der = std::fs::read(dir.join("root.crl")).unwrap();
        assert_eq!(
            crate::certs::Crl::parse(&crl_der)
                .unwrap()
                .check_signed_by(&pki.root_der),
            Ok(())
        );
        let key = SigningKey::from_pem(&read("leaf.key")).unwrap();
        let chain = load_chain_pem(&read("chain.pem")).unwrap();
        assert!(check_signing_pair(&key, &chain, NOW).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |name: &str| {
                std::fs::metadata(dir.join(name))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("leaf.key"), 0o600);
            assert_eq!(mode("root.key"), 0o600);
        }

        // Second write: refused, and the existing key is untouched.
        std::fs::remove_file(dir.join("root.pem")).unwrap();
        let other = generate("5678", NOW).unwrap();
        assert!(matches!(write(&dir, &other), Err(CertError::Io { .. })));
        assert_eq!(read("leaf.key"), pki.leaf_key_pem);
        assert!(!dir.join("root.pem").exists());
    }
}
