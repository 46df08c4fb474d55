//! A development PKI for SIP over TLS: a CA, and certificates it issues for DNS names and
//! IP addresses, good for servers and clients alike. For tests and trials of `[sip.tls]`
//! only; a carrier's TLS certificates come from its own CA or a public one.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use super::CertError;

fn generate_error(e: impl std::fmt::Display) -> CertError {
    CertError::Generate(e.to_string())
}

/// A CA that issues TLS certificates.
pub struct DevTlsCa {
    /// The CA certificate, PEM: what `ca` and `client_ca` trust.
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate the CA issued, with its key.
pub struct DevTlsCert {
    /// Leaf then CA, PEM: what `[sip.tls] certificate` names.
    pub chain_pem: String,
    /// PKCS#8 PEM.
    pub key_pem: String,
}

impl DevTlsCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Result<DevTlsCa, CertError> {
        let key = KeyPair::generate().map_err(generate_error)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate_error)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).map_err(generate_error)?;
        Ok(DevTlsCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A certificate for `names` (DNS names, or IP addresses as text), usable as server
    /// and as client.
    pub fn issue(&self, names: &[&str]) -> Result<DevTlsCert, CertError> {
        let key = KeyPair::generate().map_err(generate_error)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate_error)?;
        for name in names {
            let san = match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into().map_err(generate_error)?),
            };
            params.subject_alt_names.push(san);
        }
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(generate_error)?;
        Ok(DevTlsCert {
            chain_pem: format!("{}{}", cert.pem(), self.pem),
            key_pem: key.serialize_pem(),
        })
    }
}
