//! A conforming STI PKI for the profile tests, built with rcgen: a root, an STI-CA
//! intermediate and a SHAKEN leaf, shaped after ATIS-1000080 v005 and the US SHAKEN CP
//! 1.3. Every extension is written here byte for byte (rcgen only signs), so that a test
//! can break exactly one rule; [`Spec::raw_serial`], [`Spec::raw_subject`] and
//! [`Spec::raw_version`] patch what rcgen will not write, and the certificate is signed
//! again.

use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256, PublicKeyData as _, SerialNumber, SignatureAlgorithm, SigningKey as _,
};
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use time::OffsetDateTime;

use crate::certs::tnauthlist;

/// The time the tests check at.
pub(crate) const NOW: i64 = 1_760_000_000;
const DAY: i64 = 86_400;

pub(crate) const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
pub(crate) const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
pub(crate) const SUBJECT_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 14];
pub(crate) const AUTHORITY_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 35];
pub(crate) const CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
pub(crate) const CRL_DISTRIBUTION_POINTS: &[u64] = &[2, 5, 29, 31];
pub(crate) const TN_AUTH_LIST: &[u64] = tnauthlist::OID;

pub(crate) const CP_1_3: &[u64] = &[2, 16, 840, 1, 114_569, 1, 1, 3];
pub(crate) const CP_1_4: &[u64] = &[2, 16, 840, 1, 114_569, 1, 1, 4];
pub(crate) const SERIAL_NUMBER_ATTRIBUTE: &[u64] = &[2, 5, 4, 5];
pub(crate) const COUNTRY: &[u64] = &[2, 5, 4, 6];
pub(crate) const ORGANIZATION: &[u64] = &[2, 5, 4, 10];
pub(crate) const COMMON_NAME: &[u64] = &[2, 5, 4, 3];

/// The STI-PA's CRL, as US STI certificates name it.
pub(crate) const STI_PA_CRL: &str = "https://authenticate-api.iconectiv.com/download/v1/crl";
pub(crate) const SPC: &str = "709J";

/// KeyUsage bit numbers (RFC 5280 4.2.1.3).
pub(crate) const DIGITAL_SIGNATURE: u8 = 0;
pub(crate) const NON_REPUDIATION: u8 = 1;
pub(crate) const KEY_CERT_SIGN: u8 = 5;
pub(crate) const CRL_SIGN: u8 = 6;

/// One certificate to issue.
pub(crate) struct Spec {
    pub(crate) key: KeyPair,
    pub(crate) subject: Vec<(DnType, DnValue)>,
    pub(crate) serial: Vec<u8>,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    /// (OID, critical, DER value), in order; duplicates allowed.
    pub(crate) extensions: Vec<(Vec<u64>, bool, Vec<u8>)>,
    /// The serial number INTEGER's contents, as written (negative, zero, padded).
    pub(crate) raw_serial: Option<Vec<u8>>,
    /// The subject Name's DER, as written (repeated attributes).
    pub(crate) raw_subject: Option<Vec<u8>>,
    /// The version INTEGER (0 is v1, 2 is v3).
    pub(crate) raw_version: Option<u8>,
}

impl Spec {
    fn new(key: KeyPair, c: &str, o: &str, cn: &str, serial_seed: u8, days: i64) -> Spec {
        let mut serial = [serial_seed; 16];
        serial[0] = 0x40 | (serial_seed & 0x3f);
        Spec {
            key,
            subject: vec![
                (
                    DnType::CountryName,
                    DnValue::PrintableString(c.try_into().unwrap()),
                ),
                (DnType::OrganizationName, DnValue::Utf8String(o.into())),
                (DnType::CommonName, DnValue::Utf8String(cn.into())),
            ],
            serial: serial.to_vec(),
            not_before: NOW - 3600,
            not_after: NOW + days * DAY,
            extensions: Vec::new(),
            raw_serial: None,
            raw_subject: None,
            raw_version: None,
        }
    }

    /// Replaces the extension `oid` where it stands, or appends it.
    pub(crate) fn set(&mut self, oid: &[u64], critical: bool, value: Vec<u8>) {
        match self.extensions.iter_mut().find(|(o, _, _)| o == oid) {
            Some(ext) => *ext = (oid.to_vec(), critical, value),
            None => self.extensions.push((oid.to_vec(), critical, value)),
        }
    }

    /// Appends the extension `oid`, even if the certificate has it already.
    pub(crate) fn push(&mut self, oid: &[u64], critical: bool, value: Vec<u8>) {
        self.extensions.push((oid.to_vec(), critical, value));
    }

    pub(crate) fn remove(&mut self, oid: &[u64]) {
        self.extensions.retain(|(o, _, _)| o != oid);
    }

    /// The value of the extension `oid`.
    pub(crate) fn value(&self, oid: &[u64]) -> Vec<u8> {
        let found = self.extensions.iter().find(|(o, _, _)| o == oid);
        found.map(|(_, _, v)| v.clone()).unwrap_or_default()
    }

    /// Replaces the subject attribute `ty` where it stands, or appends it.
    pub(crate) fn set_subject(&mut self, ty: DnType, value: DnValue) {
        match self.subject.iter_mut().find(|(t, _)| *t == ty) {
            Some(entry) => entry.1 = value,
            None => self.subject.push((ty, value)),
        }
    }

    pub(crate) fn remove_subject(&mut self, ty: &DnType) {
        self.subject.retain(|(t, _)| t != ty);
    }

    /// The SHA-1 key identifier of this certificate's key (RFC 5280 4.2.1.2 method 1).
    pub(crate) fn key_id(&self) -> Vec<u8> {
        key_id(&self.key)
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (ty, value) in &self.subject {
            dn.push(ty.clone(), value.clone());
        }
        params.distinguished_name = dn;
        params.serial_number = Some(SerialNumber::from_slice(&self.serial));
        params.not_before = OffsetDateTime::from_unix_timestamp(self.not_before).unwrap();
        params.not_after = OffsetDateTime::from_unix_timestamp(self.not_after).unwrap();
        params.is_ca = IsCa::NoCa;
        params.custom_extensions = self
            .extensions
            .iter()
            .map(|(oid, critical, value)| {
                let mut ext = CustomExtension::from_oid_content(oid, value.clone());
                ext.set_criticality(*critical);
                ext
            })
            .collect();
        params
    }

    /// Issues this certificate, signed by `issuer` (itself when `None`). Returns DER.
    pub(crate) fn issue(&self, issuer: Option<&Spec>) -> Vec<u8> {
        let params = self.params();
        let (der, signer) = match issuer {
            None => (params.self_signed(&self.key).unwrap(), &self.key),
            Some(issuer) => {
                let ca = Issuer::new(issuer.params(), &issuer.key);
                (params.signed_by(&self.key, &ca).unwrap(), &issuer.key)
            }
        };
        self.patch(der.der().to_vec(), signer)
    }

    /// Applies the raw edits to the TBSCertificate and signs it again.
    fn patch(&self, der: Vec<u8>, signer: &KeyPair) -> Vec<u8> {
        if self.raw_serial.is_none() && self.raw_subject.is_none() && self.raw_version.is_none() {
            return der;
        }
        let outer = split(contents(&der));
        let mut tbs: Vec<Vec<u8>> = split(contents(outer[0]))
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        if let Some(version) = self.raw_version {
            tbs[0] = tlv(0xa0, &tlv(0x02, &[version]));
        }
        if let Some(serial) = &self.raw_serial {
            tbs[1] = tlv(0x02, serial);
        }
        if let Some(subject) = &self.raw_subject {
            tbs[5] = subject.clone();
        }
        let tbs = tlv(0x30, &tbs.concat());
        let mut signature = vec![0];
        signature.extend(signer.sign(&tbs).unwrap());
        tlv(
            0x30,
            &[tbs, outer[1].to_vec(), tlv(0x03, &signature)].concat(),
        )
    }
}

/// Root, STI-CA intermediate and SHAKEN leaf for [`SPC`], each P-256 unless asked
/// otherwise, conforming to ATIS-1000080 v005 and the US SHAKEN CP 1.3.
pub(crate) struct Pki {
    pub(crate) root: Spec,
    pub(crate) intermediate: Spec,
    pub(crate) leaf: Spec,
}

impl Pki {
    pub(crate) fn new() -> Pki {
        let p256 = &PKCS_ECDSA_P256_SHA256;
        Pki::with_keys(p256, p256, p256)
    }

    /// A conforming PKI whose keys use the given algorithms.
    pub(crate) fn with_keys(
        root: &'static SignatureAlgorithm,
        intermediate: &'static SignatureAlgorithm,
        leaf: &'static SignatureAlgorithm,
    ) -> Pki {
        let key = |alg| KeyPair::generate_for(alg).unwrap();
        let org = "Callsign Test STI-CA";
        let mut r = Spec::new(key(root), "US", org, "Callsign Test SHAKEN ROOT", 1, 3650);
        let mut i = Spec::new(
            key(intermediate),
            "US",
            org,
            "Callsign Test SHAKEN Intermediate",
            2,
            1825,
        );
        let mut l = Spec::new(
            key(leaf),
            "US",
            "Callsign Test Carrier",
            &format!("SHAKEN {SPC}"),
            3,
            365,
        );
        l.subject.push((
            DnType::CustomDnType(SERIAL_NUMBER_ATTRIBUTE.to_vec()),
            DnValue::PrintableString("0001".try_into().unwrap()),
        ));

        r.set(BASIC_CONSTRAINTS, true, basic_constraints(true));
        r.set(KEY_USAGE, true, key_usage(&[KEY_CERT_SIGN]));
        r.set(SUBJECT_KEY_IDENTIFIER, false, ski(&r.key_id()));

        i.set(BASIC_CONSTRAINTS, true, basic_constraints(true));
        i.set(KEY_USAGE, true, key_usage(&[KEY_CERT_SIGN]));
        i.set(SUBJECT_KEY_IDENTIFIER, false, ski(&i.key_id()));
        i.set(AUTHORITY_KEY_IDENTIFIER, false, aki(&r.key_id()));
        i.set(CERTIFICATE_POLICIES, false, policies(&[CP_1_3]));
        i.set(CRL_DISTRIBUTION_POINTS, false, sti_pa_crl());

        l.set(BASIC_CONSTRAINTS, true, basic_constraints(false));
        l.set(KEY_USAGE, true, key_usage(&[DIGITAL_SIGNATURE]));
        l.set(SUBJECT_KEY_IDENTIFIER, false, ski(&l.key_id()));
        l.set(AUTHORITY_KEY_IDENTIFIER, false, aki(&i.key_id()));
        l.set(CERTIFICATE_POLICIES, false, policies(&[CP_1_3]));
        l.set(CRL_DISTRIBUTION_POINTS, false, sti_pa_crl());
        l.set(TN_AUTH_LIST, false, tnauthlist::encode_spc(SPC));
        Pki {
            root: r,
            intermediate: i,
            leaf: l,
        }
    }

    /// Leaf, intermediate, root (DER).
    pub(crate) fn chain(&self) -> Vec<Vec<u8>> {
        vec![
            self.leaf.issue(Some(&self.intermediate)),
            self.intermediate.issue(Some(&self.root)),
            self.root.issue(None),
        ]
    }
}

/// SHA-1 of the key's subjectPublicKey bits.
pub(crate) fn key_id(key: &KeyPair) -> Vec<u8> {
    digest(&SHA1_FOR_LEGACY_USE_ONLY, key.public_key_raw())
        .as_ref()
        .to_vec()
}

/// What rcgen writes by default: SHA-256 of the whole SubjectPublicKeyInfo, cut to 160
/// bits (RFC 7093 method 1), not the SHA-1 ATIS-1000080 v005 asks for.
pub(crate) fn truncated_sha256_key_id(key: &KeyPair) -> Vec<u8> {
    digest(&SHA256, &key.subject_public_key_info()).as_ref()[..20].to_vec()
}

// DER.

pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub(crate) fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for arc in &arcs[2..] {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        body.extend(groups.iter().rev());
    }
    tlv(0x06, &body)
}

/// The contents of one TLV.
fn contents(der: &[u8]) -> &[u8] {
    let (header, len) = header(der);
    &der[header..header + len]
}

/// Header length and content length of the TLV at the start of `der`.
fn header(der: &[u8]) -> (usize, usize) {
    match der[1] {
        short @ 0..0x80 => (2, usize::from(short)),
        long => {
            let n = usize::from(long & 0x7f);
            let len = der[2..2 + n]
                .iter()
                .fold(0, |acc, b| (acc << 8) | usize::from(*b));
            (2 + n, len)
        }
    }
}

/// The TLVs one after another in `der`.
fn split(mut der: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let (header, len) = header(der);
        out.push(&der[..header + len]);
        der = &der[header + len..];
    }
    out
}

// Extension values.

pub(crate) fn basic_constraints(ca: bool) -> Vec<u8> {
    if ca {
        seq(&[vec![0x01, 0x01, 0xff]])
    } else {
        seq(&[])
    }
}

pub(crate) fn key_usage(bits: &[u8]) -> Vec<u8> {
    let byte = bits.iter().fold(0u8, |acc, bit| acc | (0x80 >> bit));
    tlv(0x03, &[byte.trailing_zeros() as u8, byte])
}

pub(crate) fn ski(id: &[u8]) -> Vec<u8> {
    tlv(0x04, id)
}

pub(crate) fn aki(id: &[u8]) -> Vec<u8> {
    seq(&[tlv(0x80, id)])
}

pub(crate) fn policies(oids: &[&[u64]]) -> Vec<u8> {
    seq(&oids.iter().map(|o| seq(&[oid(o)])).collect::<Vec<_>>())
}

/// A Name of single-attribute RDNs; C and serialNumber as PrintableString, the rest
/// UTF8String.
pub(crate) fn name(attributes: &[(&[u64], &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attributes
        .iter()
        .map(|(ty, value)| {
            let printable = *ty == COUNTRY || *ty == SERIAL_NUMBER_ATTRIBUTE;
            let tag = if printable { 0x13 } else { 0x0c };
            tlv(0x31, &seq(&[oid(ty), tlv(tag, value.as_bytes())]))
        })
        .collect();
    seq(&rdns)
}

/// GeneralName uniformResourceIdentifier.
pub(crate) fn uri(url: &str) -> Vec<u8> {
    tlv(0x86, url.as_bytes())
}

/// GeneralName directoryName.
pub(crate) fn directory_name(name: &[u8]) -> Vec<u8> {
    tlv(0xa4, name)
}

/// The STI-PA's DN, the cRLIssuer of US STI certificates.
pub(crate) fn sti_pa() -> Vec<u8> {
    name(&[
        (COUNTRY, "US"),
        (ORGANIZATION, "Callsign Test STI-PA"),
        (COMMON_NAME, "Callsign Test STI-PA CRL"),
    ])
}

/// A DistributionPoint: `full_name` (GeneralNames, concatenated) as its fullName and
/// `crl_issuer` (GeneralNames, concatenated) as its cRLIssuer, each left out when empty.
pub(crate) fn distribution_point(full_name: &[u8], crl_issuer: &[u8]) -> Vec<u8> {
    let mut fields = Vec::new();
    if !full_name.is_empty() {
        fields.push(tlv(0xa0, &tlv(0xa0, full_name)));
    }
    if !crl_issuer.is_empty() {
        fields.push(tlv(0xa2, crl_issuer));
    }
    seq(&fields)
}

/// CRLDistributionPoints of one point: the STI-PA's CRL URL and DN.
pub(crate) fn sti_pa_crl() -> Vec<u8> {
    seq(&[distribution_point(
        &uri(STI_PA_CRL),
        &directory_name(&sti_pa()),
    )])
}

/// TNEntry spc, EXPLICIT.
pub(crate) fn spc_entry(spc: &str) -> Vec<u8> {
    tlv(0xa0, &tlv(0x16, spc.as_bytes()))
}

/// TNEntry one, EXPLICIT.
pub(crate) fn tn_entry(tn: &str) -> Vec<u8> {
    tlv(0xa2, &tlv(0x16, tn.as_bytes()))
}
