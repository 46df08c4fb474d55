//! The signing material of `callsign serve`: the key and certificate chain, checked at
//! start-up and again on every rotation (SIGHUP), and the CRL files served beside the
//! chain.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tracing::{error, info, warn};

use super::anchors::Anchors;
use super::{ServeError, read, settings};
use crate::api::ServedCrl;
use crate::certs::{self, Crl, SigningKey};
use crate::clock;
use crate::config::{Config, SigningConfig};
use crate::metrics::{Metrics, Reload};
use crate::passport::Signer;
use crate::proxy::Context;
use tokio_util::sync::CancellationToken;

/// Loads the key and chain and runs [`certs::check_signing`] on them: the key must match
/// the leaf, the leaf must be valid now and carry a TNAuthList, every certificate must
/// follow the STI profile (ATIS-1000080) and each must be issued by the next. Any failure
/// refuses the material with the reason; under 30 days to expiry logs a warning. Returns
/// the signer, the chain PEM and when the leaf expires.
pub fn load(cfg: &SigningConfig, now: i64) -> Result<(Signer, String, i64), ServeError> {
    let key = SigningKey::from_pem(&read(&cfg.key)?)?;
    let chain_pem = read(&cfg.certificate)?;
    let chain = certs::load_chain_pem(&chain_pem)?;
    let check = certs::check_signing(&key, &chain, None, now)?;
    let info = &check.info;
    if check.expires_soon() {
        warn!(subject = %info.subject, days_left = check.days_left, not_after = info.not_after, "signing certificate expires soon");
    }
    info!(subject = %info.subject, spc = info.spc.as_deref().unwrap_or("none"), not_after = %clock::rfc3339(info.not_after), "signing certificate loaded");
    // A delegate certificate (RFC 9060) signs only for the numbers it holds.
    let signer = Signer::new(&key, &cfg.x5u)?
        .valid_between(info.not_before, info.not_after)
        .limited_to(info.delegated_numbers.clone());
    Ok((signer, chain_pem, info.not_after))
}

/// The configured CRL files with the HTTP paths they are served at. Each must parse.
pub fn served_crls(config: &Config) -> Result<Vec<ServedCrl>, ServeError> {
    let mut out = Vec::new();
    for path in &config.signing.crls {
        let der = std::fs::read(path).map_err(|e| ServeError::read(path, &e))?;
        Crl::parse(&der)?;
        out.push(ServedCrl {
            path: settings::crl_path(config, path),
            der: Arc::new(der),
        });
    }
    Ok(out)
}

/// Reloads the signing key and certificate chain with the start-up checks; a pair that
/// fails them leaves the current one in use.
pub struct Rotation {
    pub signing: SigningConfig,
    pub ctx: Arc<Context>,
    /// The chain the HTTP listener serves at the x5u path.
    pub chain: Arc<ArcSwap<String>>,
    pub metrics: Arc<Metrics>,
    /// The verifier's trusted roots, re-read with the pair.
    pub anchors: Option<Arc<Anchors>>,
    /// SIP over TLS: its certificate, key and roots, re-read with the pair.
    pub sip_tls: Option<Arc<crate::proxy::tls::SipTls>>,
    /// The REST API's own listener's TLS, re-read likewise.
    pub rest_tls: Option<Arc<crate::proxy::tls::SipTls>>,
    /// `[vetting]`: its rules file and subscriber records, re-read with the trust data.
    pub vetting: crate::config::VettingConfig,
}

impl Rotation {
    pub fn rotate(&self) {
        match load(&self.signing, clock::now_unix()) {
            Ok((signer, chain_pem, not_after)) => {
                (self.metrics.default_not_after)
                    .store(not_after, std::sync::atomic::Ordering::Relaxed);
                self.ctx.signer.store(Arc::new(signer));
                self.chain.store(Arc::new(chain_pem));
                self.metrics.signing_reload(Reload::Ok);
                info!("signing key and certificate reloaded");
            }
            Err(e) => {
                self.metrics.signing_reload(Reload::Error);
                error!(error = %e, "signing key or certificate reload failed: keeping the current pair");
            }
        }
        if let Some(anchors) = &self.anchors {
            anchors.reload();
        }
        for (what, tls) in [("SIP", &self.sip_tls), ("REST API", &self.rest_tls)] {
            let Some(tls) = tls else { continue };
            match tls.reload() {
                Ok(()) => {
                    self.metrics.tls_reload(Reload::Ok);
                    info!("{what} TLS certificate and key reloaded");
                }
                Err(e) => {
                    self.metrics.tls_reload(Reload::Error);
                    error!(error = %e, "{what} TLS reload failed: keeping the current certificate");
                }
            }
        }
    }
}

/// How often the CRLs the verifier holds are looked at: each is fetched again when due
/// (`[verify] crl_refresh_secs`, `crl_refresh_before_secs`).
pub const CRL_CHECK_EVERY: Duration = Duration::from_secs(30);

/// Refreshes the verifier's CRLs every `every` until shutdown, and reports them in
/// `/metrics`.
pub async fn watch_crls(
    verifier: crate::verify::Verifier,
    metrics: Arc<crate::metrics::Metrics>,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        let now = crate::clock::now_unix();
        let statuses = verifier.refresh_crls(now).await;
        for s in statuses.iter().filter(|s| s.stale) {
            tracing::error!(url = %s.url, error = ?s.error, "CRL is stale: past its nextUpdate and every refresh failed");
        }
        metrics.crls_refreshed(&statuses, now);
    }
}
