//! Start-up and the task set of `callsign serve`: load and check the signing material,
//! load the trust data (from the store, the system of record, or from a read-only file),
//! then run the transports, timers, HTTP (with the Trust Hub API in store mode) and the
//! trust reloader until shutdown.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Notify, watch};
use tracing::{error, info, warn};

use super::context::Context;
use super::core::Core;
use super::transport::Shell;
use crate::api::{self, HttpState, Hub, ServedCrl};
use crate::certs::{self, CertError, SigningKey};
use crate::config::{Config, ConfigError, CrlCheck, SigningConfig, VerifyConfig};
use crate::metrics::Metrics;
use crate::passport::{PassportError, Signer};
use crate::store::{self, StoreError};
use crate::trust::{self, Index, Trust, TrustError};
use crate::verify::{CrlMode, Verifier, VerifyError, VerifySettings};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("signing certificate or key: {0}")]
    Cert(#[from] CertError),
    #[error("signer: {0}")]
    Signer(#[from] PassportError),
    #[error("trust data: {0}")]
    Trust(#[from] TrustError),
    #[error("trust store: {0}")]
    Store(#[from] StoreError),
    #[error("status callbacks: {0}")]
    Callbacks(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("verification: {0}")]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Sockets bound before the server runs (tests bind port 0 and read the addresses).
pub struct Listeners {
    pub udp: Option<UdpSocket>,
    pub tcp: Option<TcpListener>,
    pub http: Option<TcpListener>,
}

impl Listeners {
    pub async fn bind(config: &Config) -> io::Result<Listeners> {
        let udp = match config.sip.udp {
            Some(a) => Some(reuse_port_udp(a)?),
            None => None,
        };
        let tcp = match config.sip.tcp {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        let http = match config.http.listen {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        Ok(Listeners { udp, tcp, http })
    }
}

/// A UDP socket with SO_REUSEPORT, so that more sockets can share its port: the kernel
/// then steers each source address to one socket, which keeps one peer's messages in
/// order while several workers receive.
pub fn reuse_port_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    // Bursts of load arrive faster than one scheduling slice drains them.
    let _ = socket.set_recv_buffer_size(4 << 20);
    let _ = socket.set_send_buffer_size(4 << 20);
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn read(path: &Path) -> Result<String, ServerError> {
    std::fs::read_to_string(path).map_err(|source| ServerError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Loads the key and chain and runs [`certs::check_signing`] on them: the key must match
/// the leaf, the leaf must be valid now and carry a TNAuthList, every certificate must
/// follow the STI profile (ATIS-1000080) and each must be issued by the next. Any failure
/// refuses the material with the reason; under 30 days to expiry logs a warning. Returns
/// the signer and the chain PEM. Call it again to rotate (SIGHUP): on error keep the old
/// pair.
pub fn load_signing(cfg: &SigningConfig, now: i64) -> Result<(Signer, String), ServerError> {
    let key = SigningKey::from_pem(&read(&cfg.key)?)?;
    let chain_pem = read(&cfg.certificate)?;
    let chain = certs::load_chain_pem(&chain_pem)?;
    let check = certs::check_signing(&key, &chain, None, now)?;
    let info = &check.info;
    if check.expires_soon() {
        warn!(subject = %info.subject, days_left = check.days_left, not_after = info.not_after, "signing certificate expires soon");
    }
    info!(subject = %info.subject, spc = ?info.spc, not_after = info.not_after, "signing certificate loaded");
    let signer = Signer::new(&key, &cfg.x5u)?;
    Ok((signer, chain_pem))
}

/// The configured CRL files with the HTTP paths they are served at (beside the chain).
fn served_crls(config: &Config) -> Result<Vec<ServedCrl>, ServerError> {
    let x5u_path = config.x5u_path();
    let dir = x5u_path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    for path in &config.signing.crls {
        let der = std::fs::read(path).map_err(|source| ServerError::Read {
            path: path.clone(),
            source,
        })?;
        crate::certs::Crl::parse(&der)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("crl");
        out.push(ServedCrl {
            path: format!("{dir}/{name}"),
            der: Arc::new(der),
        });
    }
    Ok(out)
}

/// The verification service for verifying trunks.
pub fn build_verifier(cfg: &VerifyConfig) -> Result<Verifier, ServerError> {
    let mut settings = VerifySettings::new(read(&cfg.trust_anchors)?);
    settings.freshness_secs = cfg.freshness_secs;
    settings.crl = match cfg.crl {
        CrlCheck::BestEffort => CrlMode::BestEffort,
        CrlCheck::Require => CrlMode::Require,
        CrlCheck::Off => CrlMode::Off,
    };
    settings.fetch.allow_http = cfg.allow_http;
    settings.fetch.allow_loopback = cfg.allow_loopback;
    settings.fetch.allow_private = cfg.allow_private;
    settings.fetch.timeout = Duration::from_millis(cfg.fetch_timeout_ms);
    Ok(Verifier::new(settings)?)
}

/// Reads and indexes a trust-data file.
pub fn load_index(path: &Path) -> Result<Index, TrustError> {
    let data = trust::load_file(path)?;
    Index::build(&data)
}

/// Where the running server's trust data comes from.
enum Source {
    /// The store, written through the Trust Hub API; SIGHUP rebuilds the index from it.
    Store(Arc<Hub>),
    /// A read-only JSON file, reloaded when it changes and on SIGHUP.
    File {
        path: PathBuf,
        stamp: Option<(SystemTime, u64)>,
    },
}

/// Loads the trust index and, in store mode, the Trust Hub service around it.
async fn load_trust(config: &Config) -> Result<(Arc<Trust>, Source), ServerError> {
    let cfg = config.clone();
    let opened = tokio::task::spawn_blocking(move || -> Result<_, ServerError> {
        match store::open_configured(&cfg.trust, &crate::api::render::iso(now_unix()))? {
            Some(st) => {
                let index = store::rebuild_index(&st)?;
                Ok((index, Some(st)))
            }
            None => Ok((Index::default(), None)),
        }
    })
    .await
    .map_err(|e| ServerError::Io(io::Error::other(e)))??;
    match opened {
        (index, Some(st)) => {
            let trust = Arc::new(Trust::new(index));
            let hub = Hub::from_config(config, Arc::new(st), Arc::clone(&trust))
                .map_err(ServerError::Callbacks)?;
            Ok((trust, Source::Store(Arc::new(hub))))
        }
        (_, None) => {
            let path = config.trust.file.clone().unwrap_or_default();
            // The stamp is taken before reading, so a change made during the load is seen.
            let stamp = file_stamp(&path);
            let trust = Arc::new(Trust::new(load_index(&path)?));
            Ok((trust, Source::File { path, stamp }))
        }
    }
}

/// How the outside drives a running server.
#[derive(Clone)]
pub struct Control {
    /// Changes (or its sender drops) to stop the server.
    pub shutdown: watch::Receiver<bool>,
    /// Notified to re-read the trust data (SIGHUP).
    pub reload: Arc<Notify>,
    /// Counts finished reload attempts, successful or not, so callers can wait for one.
    pub reloaded: Arc<watch::Sender<u64>>,
}

impl Control {
    /// A control with its shutdown sender.
    pub fn new() -> (Control, watch::Sender<bool>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (reloaded, _) = watch::channel(0);
        let control = Control {
            shutdown: stop_rx,
            reload: Arc::new(Notify::new()),
            reloaded: Arc::new(reloaded),
        };
        (control, stop_tx)
    }
}

/// Runs the proxy until shutdown.
pub async fn run(
    config: Config,
    listeners: Listeners,
    control: Control,
) -> Result<(), ServerError> {
    let shutdown = control.shutdown.clone();
    let (signer, chain_pem) = load_signing(&config.signing, now_unix())?;
    let served_chain = Arc::new(ArcSwap::from_pointee(chain_pem));
    let (trust, source) = load_trust(&config).await?;
    let metrics = Arc::new(Metrics::new());

    let udp_addr = listeners.udp.as_ref().map(|s| s.local_addr()).transpose()?;
    let tcp_addr = listeners.tcp.as_ref().map(|s| s.local_addr()).transpose()?;
    let ctx = Context::new(
        &config,
        udp_addr.map(|a| a.port()),
        tcp_addr.map(|a| a.port()),
        signer,
        Arc::clone(&trust),
        Arc::clone(&metrics),
    )?;
    let core = Arc::new(Core::new(ctx));
    // One receiving socket per core on the same port (the first is the bound listener).
    let mut udp = Vec::new();
    if let (Some(first), Some(addr)) = (listeners.udp, udp_addr) {
        udp.push(Arc::new(first));
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        for _ in 1..workers {
            udp.push(Arc::new(reuse_port_udp(addr)?));
        }
    }
    let verifier = config.verify.as_ref().map(build_verifier).transpose()?;
    let shell = Shell::new(Arc::clone(&core), udp.clone(), verifier, shutdown.clone());
    info!(udp = ?udp_addr, tcp = ?tcp_addr, trunks = config.trunks.len(), "callsign serving");

    let mut tasks = tokio::task::JoinSet::new();
    for sock in udp {
        tasks.spawn(Arc::clone(&shell).run_udp(sock));
    }
    if let Some(l) = listeners.tcp {
        tasks.spawn(Arc::clone(&shell).run_tcp(l));
    }
    tasks.spawn(Arc::clone(&shell).run_timers());
    if let Some(l) = listeners.http {
        let state = HttpState {
            chain_pem: Arc::clone(&served_chain),
            x5u_max_age: config.signing.x5u_max_age_secs,
            metrics: Arc::clone(&metrics),
        };
        let crls = served_crls(&config)?;
        let hub = match &source {
            Source::Store(hub) => Some(Arc::clone(hub)),
            Source::File { .. } => None,
        };
        let app = api::router(&config.x5u_path(), &crls, state, hub);
        let mut stop = shutdown.clone();
        info!(http = ?l.local_addr().ok(), "HTTP serving x5u, /metrics and the Trust Hub API");
        tasks.spawn(async move {
            let served = axum::serve(l, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
            if let Err(e) = served {
                error!(error = %e, "HTTP server failed");
            }
        });
    }
    let rotation = Rotation {
        signing: config.signing.clone(),
        core: Arc::clone(&core),
        chain: served_chain,
    };
    match source {
        Source::Store(hub) => {
            tasks.spawn(reload_store(rotation, hub, metrics, control.clone()));
        }
        Source::File { path, stamp } => {
            tasks.spawn(watch_trust(
                rotation,
                path,
                stamp,
                Duration::from_millis(config.trust.watch_interval_ms),
                trust,
                metrics,
                control.clone(),
            ));
        }
    }
    while tasks.join_next().await.is_some() {}
    info!("callsign stopped");
    Ok(())
}

/// Reloads the signing key and certificate chain (SIGHUP) with the start-up checks; a
/// pair that fails them leaves the current one in use.
struct Rotation {
    signing: SigningConfig,
    core: Arc<Core>,
    chain: Arc<ArcSwap<String>>,
}

impl Rotation {
    fn rotate(&self) {
        let metrics = &self.core.ctx.metrics;
        match load_signing(&self.signing, now_unix()) {
            Ok((signer, chain_pem)) => {
                self.core.ctx.signer.store(Arc::new(signer));
                self.chain.store(Arc::new(chain_pem));
                metrics.signing_reload("ok");
                info!("signing key and certificate reloaded");
            }
            Err(e) => {
                metrics.signing_reload("error");
                error!(error = %e, "signing key or certificate reload failed: keeping the current pair");
            }
        }
    }
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// In store mode, `reload` (SIGHUP) rebuilds the index from the store, e.g. after
/// `callsign trust import`. API writes never need it: they update the index directly.
async fn reload_store(rotation: Rotation, hub: Arc<Hub>, metrics: Arc<Metrics>, control: Control) {
    let Control {
        mut shutdown,
        reload,
        reloaded,
    } = control;
    loop {
        tokio::select! {
            _ = reload.notified() => {}
            _ = shutdown.changed() => return,
        }
        rotation.rotate();
        let h = Arc::clone(&hub);
        match tokio::task::spawn_blocking(move || h.reload()).await {
            Ok(Ok(numbers)) => {
                metrics.reload("ok");
                info!(numbers, "trust index rebuilt from the store");
            }
            Ok(Err(e)) => {
                metrics.reload("error");
                error!(error = %e, "trust index rebuild failed: keeping the current index");
            }
            Err(e) => {
                metrics.reload("error");
                error!(error = %e, "trust index rebuild task failed");
            }
        }
        reloaded.send_modify(|n| *n += 1);
    }
}

/// Reloads the trust data on `reload` or when the file changes. A file that fails to
/// load leaves the current index in place.
async fn watch_trust(
    rotation: Rotation,
    path: PathBuf,
    mut stamp: Option<(SystemTime, u64)>,
    interval: Duration,
    trust: Arc<Trust>,
    metrics: Arc<Metrics>,
    control: Control,
) {
    let Control {
        mut shutdown,
        reload,
        reloaded,
    } = control;
    let poll = if interval.is_zero() {
        Duration::from_secs(3600)
    } else {
        interval
    };
    loop {
        let forced = tokio::select! {
            _ = reload.notified() => true,
            _ = tokio::time::sleep(poll) => false,
            _ = shutdown.changed() => return,
        };
        if forced {
            rotation.rotate();
        }
        let now = file_stamp(&path);
        if !forced && (interval.is_zero() || now == stamp) {
            continue;
        }
        stamp = now;
        let p = path.clone();
        match tokio::task::spawn_blocking(move || load_index(&p)).await {
            Ok(Ok(index)) => {
                let numbers = index.len_numbers();
                trust.replace(index);
                metrics.reload("ok");
                info!(path = %path.display(), numbers, "trust data reloaded");
            }
            Ok(Err(e)) => {
                metrics.reload("error");
                error!(path = %path.display(), error = %e, "trust data reload failed: keeping the current data");
            }
            Err(e) => {
                metrics.reload("error");
                error!(error = %e, "trust data reload task failed");
            }
        }
        reloaded.send_modify(|n| *n += 1);
    }
}
