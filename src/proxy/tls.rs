//! SIP over TLS (RFC 3261 section 26, RFC 5630): the server and client configurations
//! of callsign's TLS connections, built from `[sip.tls]` and rebuilt on SIGHUP, the
//! names a client certificate carries, and what a failed handshake is counted as.
//!
//! The same certificate serves both sides: it is presented to peers that connect, and
//! to servers that ask callsign for a client certificate. Servers are checked against
//! `ca` (or the system's roots) and the name they are reached by; clients, when
//! `client_ca` is set, against `client_ca` (a certificate is asked for, not required:
//! a trunk with `tls_client_names` requires one).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::metrics::TlsFailure;

/// Where `[sip.tls]` (or `[sti_rest.tls]`) keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The config table, for errors: `[sip.tls]`. A table other than `[sip.tls]` only
    /// serves: without `ca` its client side trusts no server.
    pub section: &'static str,
    /// PEM chain, leaf first.
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// Roots for the servers callsign connects to; none: the system's.
    pub ca: Option<PathBuf>,
    /// Roots for client certificates; none: none is asked for.
    pub client_ca: Option<PathBuf>,
}

/// Why the TLS configuration could not be built. Each names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{section} {key} {path}: {reason}")]
    File {
        section: &'static str,
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("[sip.tls] the system's root certificates could not be read: {0}")]
    SystemRoots(String),
    #[error("{0} certificate and key do not go together: {1}")]
    Pair(&'static str, String),
}

/// The configurations in use, swapped whole on reload.
struct Configs {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

/// callsign's TLS: the files, and the configurations read from them.
pub struct SipTls {
    files: TlsFiles,
    /// A handshake not finished after this long is abandoned.
    pub handshake_timeout: Duration,
    configs: ArcSwap<Configs>,
}

impl SipTls {
    /// Reads the files and builds both configurations.
    pub fn load(files: TlsFiles, handshake_timeout: Duration) -> Result<SipTls, TlsError> {
        let configs = build(&files)?;
        Ok(SipTls {
            files,
            handshake_timeout,
            configs: ArcSwap::from_pointee(configs),
        })
    }

    /// Reads the files again (SIGHUP). On an error the current configuration stays;
    /// connections already open keep theirs either way.
    pub fn reload(&self) -> Result<(), TlsError> {
        let configs = build(&self.files)?;
        self.configs.store(Arc::new(configs));
        Ok(())
    }

    /// Accepts connections with the current configuration.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.configs.load().server))
    }

    /// Opens connections with the current configuration.
    pub fn connector(&self) -> TlsConnector {
        TlsConnector::from(Arc::clone(&self.configs.load().client))
    }
}

fn build(files: &TlsFiles) -> Result<Configs, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let section = files.section;
    let chain = read_chain(section, &files.certificate)?;
    let key = read_key(section, &files.key)?;
    let server_roots = match &files.client_ca {
        Some(path) => Some(roots(section, "client_ca", path)?),
        None => None,
    };
    let server = server_config(
        section,
        &provider,
        server_roots,
        chain.clone(),
        key.clone_key(),
    )?;
    let roots = match &files.ca {
        Some(path) => roots(section, "ca", path)?,
        None if section != "[sip.tls]" => RootCertStore::empty(),
        None => system_roots()?,
    };
    let client = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(section, e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| TlsError::Pair(section, e.to_string()))?;
    Ok(Configs {
        server: Arc::new(server),
        client: Arc::new(client),
    })
}

fn server_config(
    section: &'static str,
    provider: &Arc<CryptoProvider>,
    client_roots: Option<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(section, e.to_string()))?;
    let builder = match client_roots {
        Some(roots) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| TlsError::Pair(section, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    // rustls checks that the key is the certificate's.
    builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Pair(section, e.to_string()))
}

fn file_error(
    section: &'static str,
    key: &'static str,
    path: &Path,
    reason: impl Into<String>,
) -> TlsError {
    TlsError::File {
        section,
        key,
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn read_chain(
    section: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem =
        std::fs::read(path).map_err(|e| file_error(section, "certificate", path, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(section, "certificate", path, format!("not PEM ({e})")))?;
    let Some(leaf) = chain.first() else {
        return Err(file_error(
            section,
            "certificate",
            path,
            "holds no certificate",
        ));
    };
    X509Certificate::from_der(leaf).map_err(|e| {
        file_error(
            section,
            "certificate",
            path,
            format!("not a certificate ({e})"),
        )
    })?;
    Ok(chain)
}

fn read_key(section: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = std::fs::read(path).map_err(|e| file_error(section, "key", path, e.to_string()))?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| file_error(section, "key", path, format!("no PEM private key ({e})")))
}

fn roots(section: &'static str, key: &'static str, path: &Path) -> Result<RootCertStore, TlsError> {
    crate::certs::pem_roots(path).map_err(|why| file_error(section, key, path, why))
}

fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = match found.errors.first() {
            Some(e) => e.to_string(),
            None => "none found".into(),
        };
        return Err(TlsError::SystemRoots(why));
    }
    Ok(roots)
}

/// The DNS names of a client's leaf certificate (its subjectAltName), lowercased.
pub fn certificate_names(leaf: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = X509Certificate::from_der(leaf) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Whether a certificate's `name` is one of `allowed`: equal ignoring case, or under a
/// `*.` pattern by exactly one leftmost label (`*.example.com` takes `a.example.com`,
/// not `example.com` nor `a.b.example.com`). A wildcard in the certificate itself
/// matches only the same wildcard.
pub fn name_allowed(allowed: &[String], name: &str) -> bool {
    allowed.iter().any(|pattern| {
        if pattern.eq_ignore_ascii_case(name) {
            return true;
        }
        match (pattern.strip_prefix("*."), name.split_once('.')) {
            (Some(suffix), Some((label, rest))) => {
                !label.is_empty() && label != "*" && rest.eq_ignore_ascii_case(suffix)
            }
            _ => false,
        }
    })
}

/// What a failed handshake counts as: a certificate refused (either side's), or
/// anything else that is not TLS as it should be (garbage, an oversized record, a
/// protocol version or cipher not shared, the peer closing).
pub fn failure(e: &io::Error) -> TlsFailure {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(
            rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::AlertReceived(
                rustls::AlertDescription::BadCertificate
                | rustls::AlertDescription::UnknownCA
                | rustls::AlertDescription::CertificateExpired
                | rustls::AlertDescription::CertificateRequired
                | rustls::AlertDescription::CertificateUnknown,
            ),
        ) => TlsFailure::Certificate,
        _ => TlsFailure::Protocol,
    }
}

#[cfg(test)]
mod tests;
