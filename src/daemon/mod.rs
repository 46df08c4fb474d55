//! The composition root of `callsign serve`: the only module that knows every other. It
//! turns the config into each layer's settings ([`settings`]), loads and checks the
//! signing material ([`signing`]), opens the trust data ([`trust`]) and the verifier's
//! trusted roots ([`anchors`]), wires the proxy, the verifier, the HTTP routes and the
//! Trust Hub service together, and runs them until shutdown.

pub mod anchors;
pub mod notify;
pub mod settings;
pub mod signing;
pub mod trust;
pub mod vetting;

#[cfg(test)]
mod tests;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::api::{self, ApiState, HttpState};
use crate::certs::CertError;
use crate::clock;
use crate::config::{Config, ConfigError};
use crate::identities::{Identities, IdentitySigners};
use crate::metrics::Metrics;
use crate::passport::PassportError;
use crate::proxy::transport::Shell;
use crate::proxy::{Context, Endpoint, Ports, Status, driver};
use crate::store::StoreError;
use crate::trust::TrustError;
use crate::trusthub::callbacks::CallbackError;
use crate::verify::{Verifier, VerifyError};
use signing::Rotation;
use trust::TrustSource;

/// Why `callsign serve` refuses to run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("signing certificate or key: {0}")]
    Cert(#[from] CertError),
    #[error("signer: {0}")]
    Signer(#[from] PassportError),
    #[error("trust data: {0}")]
    Trust(#[from] TrustError),
    #[error("trust store: {0}")]
    Store(StoreError),
    #[error(transparent)]
    Callbacks(#[from] CallbackError),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("vetting: {0}")]
    Vetting(String),
    #[error("verification: {0}")]
    Verify(#[from] VerifyError),
    #[error(
        "[verify] trust_list {list}: {error}; with no trust_anchors file, there are no roots to start with ({cache})"
    )]
    NoTrustList {
        list: String,
        error: Box<crate::verify::TrustListError>,
        cache: String,
    },
    #[error("signing identity {sid}: {error}")]
    Identity {
        sid: crate::trust::Sid,
        error: crate::identities::IdentityError,
    },
    #[error(transparent)]
    Tls(#[from] crate::proxy::tls::TlsError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("the SIP engine stopped unexpectedly")]
    EngineStopped,
}

impl From<StoreError> for ServeError {
    /// Trust data that breaks the rules is a trust-data problem, wherever it was read.
    fn from(e: StoreError) -> ServeError {
        match e {
            StoreError::Trust(t) => ServeError::Trust(t),
            other => ServeError::Store(other),
        }
    }
}

impl ServeError {
    fn read(path: &Path, e: &io::Error) -> ServeError {
        ServeError::Read {
            path: path.to_owned(),
            source: io::Error::new(e.kind(), e.to_string()),
        }
    }
}

/// The REST API's state from `[sti_rest]`, and the TLS of its own listener.
#[allow(clippy::type_complexity)]
fn sti_rest_state(
    r: &crate::config::StiRestConfig,
    ctx: &Arc<Context>,
    verifier: Option<Verifier>,
) -> Result<
    (
        crate::sti_rest::http::RestState,
        Option<Arc<crate::proxy::tls::SipTls>>,
    ),
    ServeError,
> {
    use crate::sti_rest::service::{AssertingClient, Clients, Service};
    let clients = (r.clients.iter())
        .map(|c| {
            let password_sha256 = c.password_sha256.as_deref().map(|hex| {
                let mut out = [0u8; 32];
                for (i, byte) in out.iter_mut().enumerate() {
                    // Validation checked 64 hex digits.
                    *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
                        .unwrap_or(0);
                }
                out
            });
            let origid = c.origid.unwrap_or_else(|| {
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, c.name.as_bytes())
            });
            AssertingClient {
                name: c.name.as_str().into(),
                username: c.username.clone(),
                password_sha256,
                tls_names: c.tls_names.clone(),
                origid: origid.hyphenated().to_string().into(),
            }
        })
        .collect();
    if verifier.is_none() {
        warn!("[sti_rest] without a [verify] table: /stir/v1/verification answers 404");
    }
    let service = Service {
        ctx: Arc::clone(ctx),
        clients: Clients::new(clients),
        verifier,
        iat_window: r.iat_window_secs,
    };
    let tls = match &r.tls {
        Some(t) => {
            let files = crate::proxy::tls::TlsFiles {
                section: "[sti_rest.tls]",
                certificate: t.certificate.clone(),
                key: t.key.clone(),
                ca: None,
                client_ca: t.client_ca.clone(),
            };
            let timeout = Duration::from_millis(t.handshake_timeout_ms);
            Some(Arc::new(crate::proxy::tls::SipTls::load(files, timeout)?))
        }
        None => None,
    };
    let state = crate::sti_rest::http::RestState {
        service: Arc::new(service),
        max_body: r.max_body_bytes,
    };
    Ok((state, tls))
}

/// Creates `dir` (owner-only on Unix) when it does not exist.
fn create_private_dir(dir: &Path) -> Result<(), ServeError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| ServeError::read(dir, &e))
}

fn read(path: &Path) -> Result<String, ServeError> {
    std::fs::read_to_string(path).map_err(|e| ServeError::read(path, &e))
}

/// Sockets bound before the server runs (tests bind port 0 and read the addresses).
pub struct Listeners {
    pub udp: Option<UdpSocket>,
    pub tcp: Option<TcpListener>,
    /// `[sip.tls] listen`.
    pub tls: Option<TcpListener>,
    pub http: Option<TcpListener>,
    /// `[sti_rest] listen`.
    pub sti_rest: Option<TcpListener>,
}

impl Listeners {
    /// Binds every listener the config names; a failure names the address and the key
    /// that set it (`[sip] udp = 127.0.0.1:5060: Address already in use`).
    pub async fn bind(config: &Config) -> io::Result<Listeners> {
        fn named(key: &'static str, a: SocketAddr) -> impl FnOnce(io::Error) -> io::Error {
            move |e| io::Error::new(e.kind(), format!("{key} = {a}: {e}"))
        }
        let udp = match config.sip.udp {
            Some(a) => Some(reuse_port_udp(a).map_err(named("[sip] udp", a))?),
            None => None,
        };
        let tcp = match config.sip.tcp {
            Some(a) => Some(TcpListener::bind(a).await.map_err(named("[sip] tcp", a))?),
            None => None,
        };
        let tls = match config.sip.tls.as_ref().map(|t| t.listen) {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(named("[sip.tls] listen", a))?,
            ),
            None => None,
        };
        let http = match config.http.listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(named("[http] listen", a))?,
            ),
            None => None,
        };
        let sti_rest = match config.sti_rest.as_ref().and_then(|r| r.listen) {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(named("[sti_rest] listen", a))?,
            ),
            None => None,
        };
        Ok(Listeners {
            udp,
            tcp,
            tls,
            http,
            sti_rest,
        })
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

/// What the outside asks of a running server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Go on serving.
    Run,
    /// Drain, then stop (SIGTERM): refuse new requests with 503, let the transactions in
    /// flight finish within `[sip] drain_secs`.
    Drain,
    /// Stop at once (a second SIGTERM; or the sender dropped).
    Now,
}

/// How the outside drives a running server.
#[derive(Clone)]
pub struct Control {
    /// Set to [`Stop::Drain`] or [`Stop::Now`] (or its sender dropped) to stop the server.
    pub shutdown: watch::Receiver<Stop>,
    /// Notified to re-read the signing pair and the trust data (SIGHUP).
    pub reload: Arc<Notify>,
    /// Counts finished reload attempts, successful or not, so callers can wait for one.
    pub reloaded: Arc<watch::Sender<u64>>,
}

impl Control {
    /// A control with its shutdown sender.
    pub fn new() -> (Control, watch::Sender<Stop>) {
        let (stop_tx, stop_rx) = watch::channel(Stop::Run);
        let (reloaded, _) = watch::channel(0);
        let control = Control {
            shutdown: stop_rx,
            reload: Arc::new(Notify::new()),
            reloaded: Arc::new(reloaded),
        };
        (control, stop_tx)
    }
}

/// An address as an operator reads it in a log line: `127.0.0.1:5060`, or `off`.
fn shown(addr: Option<std::net::SocketAddr>) -> String {
    addr.map_or_else(|| "off".to_owned(), |a| a.to_string())
}

/// Runs the proxy until shutdown, then waits for every task it started (as mini-redis's
/// server does): the listeners' loops, each TCP connection's reader and writer, outbound
/// connects, name-resolution sends, verifications and status-callback deliveries.
pub async fn run(config: Config, listeners: Listeners, control: Control) -> Result<(), ServeError> {
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let serving = Arc::new(OnceLock::new());
    let engine_failed = Arc::new(AtomicBool::new(false));
    let drain = Draining {
        grace: Duration::from_secs(config.sip.drain_secs),
        // The ACK and BYE that follow an answer come within a round trip or two.
        quiet: 2 * Duration::from_millis(config.sip.t1_ms),
    };
    tasks.spawn(stop_when_asked(
        control.shutdown.clone(),
        shutdown.clone(),
        Arc::clone(&serving),
        drain,
    ));
    let background = TaskTracker::new();
    let served = serve(
        config,
        listeners,
        control,
        &shutdown,
        &background,
        &mut tasks,
        &engine_failed,
    )
    .await;
    let served = match served {
        // Listeners bound, index built, every task started.
        Ok(c) => {
            let _ = serving.set(c);
            notify::send("READY=1\nSTATUS=serving calls");
            Ok(())
        }
        Err(e) => {
            shutdown.cancel();
            Err(e)
        }
    };
    while tasks.join_next().await.is_some() {}
    background.close();
    background.wait().await;
    info!("callsign stopped");
    match served {
        // The service manager sees a failure and restarts the process.
        Ok(()) if engine_failed.load(Ordering::Relaxed) => Err(ServeError::EngineStopped),
        served => served,
    }
}

/// Waits for the engine to stop (`engine` resolves, or its sender is dropped by a
/// thread that died). An engine that stops before `shutdown` serves no more calls: it
/// is recorded in `failed` and stops the rest with it.
async fn watch_engine(
    engine: tokio::sync::oneshot::Receiver<()>,
    shutdown: CancellationToken,
    failed: Arc<AtomicBool>,
) {
    let _ = engine.await;
    if !shutdown.is_cancelled() {
        error!("the SIP engine stopped unexpectedly: shutting down");
        failed.store(true, Ordering::Relaxed);
        shutdown.cancel();
    }
}

/// How a drain ends: after `grace` at the latest; sooner once nothing is in flight and
/// no request of an existing dialog came for `quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Draining {
    pub grace: Duration,
    pub quiet: Duration,
}

/// How often a drain looks at what is left in flight.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// What the running proxy shows the rest of the daemon: the engine's status and the
/// metrics.
pub struct Serving {
    pub status: Arc<Status>,
    pub metrics: Arc<Metrics>,
}

/// Waits until the outside asks the server to stop, drains the engine when asked to (and
/// when the server got as far as having one), then cancels `shutdown`, which stops every
/// task. A `shutdown` cancelled first (a failed start) ends it too.
async fn stop_when_asked(
    mut stop: watch::Receiver<Stop>,
    shutdown: CancellationToken,
    serving: Arc<OnceLock<Serving>>,
    drain: Draining,
) {
    let asked = tokio::select! {
        asked = stop.wait_for(|s| *s != Stop::Run) => asked.map_or(Stop::Now, |s| *s),
        _ = shutdown.cancelled() => Stop::Now,
    };
    notify::send("STOPPING=1");
    if asked == Stop::Drain
        && let Some(s) = serving.get()
    {
        drain_engine(&s.status, &s.metrics, drain, &mut stop).await;
    }
    shutdown.cancel();
}

/// Drains the engine whose `status` this is: new requests get 503 while the
/// transactions in flight finish. Returns once nothing is left, when `drain.grace` is
/// over, or when asked to stop at once. Time is tokio's, so tests run it on a paused
/// clock.
pub async fn drain_engine(
    status: &Status,
    metrics: &Metrics,
    drain: Draining,
    stop: &mut watch::Receiver<Stop>,
) {
    let started = tokio::time::Instant::now();
    let deadline = started + drain.grace;
    status.start_drain(drain.grace.as_secs());
    metrics.draining.set(1);
    info!(
        grace_secs = drain.grace.as_secs(),
        in_flight = status.in_flight(),
        "draining: new requests get 503 while the transactions in flight finish"
    );
    loop {
        let now = tokio::time::Instant::now();
        if status.drained(now.into_std(), drain.quiet) {
            let ms = now.duration_since(started).as_millis() as u64;
            info!(elapsed_ms = ms, "drained: nothing left in flight");
            return;
        }
        if now >= deadline {
            warn!(
                in_flight = status.in_flight(),
                grace_secs = drain.grace.as_secs(),
                "drain grace period over: stopping with transactions in flight"
            );
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(DRAIN_POLL.min(deadline - now)) => {}
            _ = stop.wait_for(|s| *s == Stop::Now) => {
                warn!(in_flight = status.in_flight(), "asked to stop at once: drain cut short");
                return;
            }
        }
    }
}

/// Starts everything on `tasks` and `background`, or says why it cannot.
async fn serve(
    config: Config,
    listeners: Listeners,
    control: Control,
    shutdown: &CancellationToken,
    background: &TaskTracker,
    tasks: &mut JoinSet<()>,
    engine_failed: &Arc<AtomicBool>,
) -> Result<Serving, ServeError> {
    let (signer, chain_pem, not_after) = signing::load(&config.signing, clock::now_unix())?;
    let served_chain = Arc::new(ArcSwap::from_pointee(chain_pem));
    if let Some(dir) = &config.signing.identity_key_dir {
        create_private_dir(dir)?;
    }
    let identity_signers = Arc::new(IdentitySigners::default());
    let identities = Arc::new(Identities::new(
        settings::identities(&config),
        Arc::clone(&identity_signers),
    ));
    let metrics = Arc::new(Metrics::new());
    let (trust, source) =
        trust::load(&config, &identities, &metrics, background, shutdown.clone()).await?;
    // A signing identity that cannot sign stops the start, as the default pair does.
    let (ids, t) = (Arc::clone(&identities), Arc::clone(&trust));
    let failed = tokio::task::spawn_blocking(move || trust::sync_identities(&ids, &t))
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))?;
    if let Some((sid, e)) = failed.into_iter().next() {
        return Err(ServeError::Identity { sid, error: e });
    }
    // A trunk of an account the trust data lacks signs its calls C ("unknown account"):
    // likely a typo in the SID, said once here rather than on every call.
    for t in &config.trunks {
        if let Some(account) = t.account_sid
            && trust.load().account(account).is_none()
        {
            warn!(trunk = %t.name, account = %account, "[[trunk]] names an account the trust data does not have: its calls are signed C");
        }
    }
    (metrics.default_not_after).store(not_after, std::sync::atomic::Ordering::Relaxed);
    if let trust::TrustSource::Store(hub) = &source {
        let poll = std::time::Duration::from_millis(config.trust.feed_poll_ms);
        hub.follow(Arc::clone(&metrics), poll, background, shutdown.clone());
    }

    let udp_addr = listeners.udp.as_ref().map(|s| s.local_addr()).transpose()?;
    let tcp_addr = listeners.tcp.as_ref().map(|s| s.local_addr()).transpose()?;
    let tls_addr = listeners.tls.as_ref().map(|s| s.local_addr()).transpose()?;
    let sip_tls = settings::sip_tls(&config)?.map(Arc::new);
    let ports = Ports {
        udp: udp_addr.map(|a| a.port()),
        tcp: tcp_addr.map(|a| a.port()),
        tls: tls_addr.map(|a| a.port()),
    };
    let mut ctx = Context::new(
        settings::proxy(&config),
        ports,
        signer,
        Arc::clone(&trust),
        Arc::clone(&metrics),
    );
    ctx.identity_signers = identity_signers;
    let ctx = Arc::new(ctx);
    let endpoint = Endpoint::new(Arc::clone(&ctx));
    let status = Arc::clone(endpoint.status());
    let (verifier, anchors) = match &config.verify {
        Some(v) => {
            let mut verify_settings = settings::verifier(v)?;
            verify_settings.unchecked = metrics.crl_unchecked.clone();
            // The roots of the file and of the STI-PA's list, fetched now.
            let list = settings::trust_list(&config)?
                .map(crate::verify::TrustList::new)
                .transpose()?;
            let file = v.trust_anchors.clone();
            let now = clock::now_unix();
            let held = anchors::initial(file.as_deref(), list.as_ref(), &metrics, now).await?;
            verify_settings.trust_anchors_pem = held.pem();
            let verifier = Verifier::new(verify_settings)?;
            let (loaded, skipped) = verifier.load_crl_cache(crate::clock::now_unix());
            if loaded > 0 || !skipped.is_empty() {
                info!(loaded, ?skipped, "CRLs read back from the cache directory");
            }
            // CRLs are refreshed before their nextUpdate, apart from calls.
            tasks.spawn(signing::watch_crls(
                verifier.clone(),
                Arc::clone(&metrics),
                signing::CRL_CHECK_EVERY,
                shutdown.clone(),
            ));
            // The trusted roots follow their file (on SIGHUP, and when it changes) and
            // the trust list (when due, and on SIGHUP).
            let has_list = list.is_some();
            let trusted = Arc::new(anchors::Anchors::new(
                verifier.clone(),
                file,
                list,
                held,
                Arc::clone(&metrics),
            ));
            if v.trust_anchors.is_some() && v.trust_anchors_poll_secs > 0 {
                tasks.spawn(anchors::watch_anchors(
                    Arc::clone(&trusted),
                    Duration::from_secs(v.trust_anchors_poll_secs),
                    shutdown.clone(),
                ));
            }
            if has_list {
                tasks.spawn(anchors::watch_trust_list(
                    Arc::clone(&trusted),
                    anchors::TRUST_LIST_CHECK_EVERY,
                    shutdown.clone(),
                ));
            }
            (Some(verifier), Some(trusted))
        }
        None => (None, None),
    };
    let sti_rest = match &config.sti_rest {
        Some(r) => Some(sti_rest_state(r, &ctx, verifier.clone())?),
        None => None,
    };
    let (inbound, received) = tokio::sync::mpsc::channel(driver::INBOUND_QUEUE);
    let shell = Shell::new(
        Arc::clone(&ctx),
        verifier,
        sip_tls.clone(),
        settings::tls_names(&config),
        inbound,
        shutdown.clone(),
    );
    info!(udp = %shown(udp_addr), tcp = %shown(tcp_addr), tls = %shown(tls_addr), trunks = config.trunks.len(), "callsign serving");

    let waiting = Arc::clone(&shell);
    let stopping = shutdown.clone();
    tasks.spawn(async move {
        stopping.cancelled().await;
        waiting.stopped().await;
    });
    let udp = listeners.udp.map(|s| s.into_std()).transpose()?;
    let engine = driver::spawn(
        endpoint,
        udp,
        received,
        Arc::clone(&shell),
        shutdown.clone(),
    )?;
    tasks.spawn(watch_engine(
        engine,
        shutdown.clone(),
        Arc::clone(engine_failed),
    ));
    if let Some(l) = listeners.tcp {
        tasks.spawn(Arc::clone(&shell).run_tcp(l));
    }
    if let Some(l) = listeners.tls {
        tasks.spawn(Arc::clone(&shell).run_tls(l));
    }
    if let Some(l) = listeners.http {
        let state = HttpState {
            chain_pem: Arc::clone(&served_chain),
            x5u_max_age: config.signing.x5u_max_age_secs,
            metrics: Arc::clone(&metrics),
            identities: Some((config.identity_x5u_path(), Arc::clone(&identities))),
            shared_store: matches!(&source, TrustSource::Store(hub) if hub.store().feed().is_some()),
        };
        let crls = signing::served_crls(&config)?;
        let hub = match &source {
            TrustSource::Store(hub) => Some(ApiState::new(
                Arc::clone(hub),
                config.api.max_body_bytes,
                config.api.max_document_bytes,
            )),
            TrustSource::File { .. } => None,
        };
        let mut app = api::router(&config.x5u_path(), &crls, state, hub);
        if let Some((rest, _)) = sti_rest.as_ref().filter(|_| listeners.sti_rest.is_none()) {
            app = app.merge(crate::sti_rest::http::router(rest.clone()));
            info!(http = %shown(l.local_addr().ok()), "HTTP serving the ATIS-1000082 REST API under /stir/v1/");
        }
        let stop = shutdown.clone().cancelled_owned();
        info!(http = %shown(l.local_addr().ok()), "HTTP serving x5u, /metrics and the Trust Hub API");
        tasks.spawn(async move {
            let served = axum::serve(api::listener::Listener(l), app)
                .with_graceful_shutdown(stop)
                .await;
            if let Err(e) = served {
                error!(error = %e, "HTTP server failed");
            }
        });
    }
    let mut rest_tls = None;
    if let (Some(l), Some((rest, tls))) = (listeners.sti_rest, sti_rest) {
        let addr = l.local_addr().ok();
        let max = config.sti_rest.as_ref().map_or(1, |r| r.max_connections);
        let listener = crate::sti_rest::http::RestListener::spawn(
            l,
            tls.clone(),
            max,
            Arc::clone(&metrics),
            shutdown.clone(),
        )?;
        let app = crate::sti_rest::http::router(rest)
            .into_make_service_with_connect_info::<crate::sti_rest::http::RestPeer>();
        let stop = shutdown.clone().cancelled_owned();
        info!(sti_rest = %shown(addr), tls = tls.is_some(), "serving the ATIS-1000082 REST API");
        tasks.spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                error!(error = %e, "REST server failed");
            }
        });
        rest_tls = tls;
    }
    let rotation = Rotation {
        signing: config.signing.clone(),
        ctx: Arc::clone(&ctx),
        chain: served_chain,
        metrics: Arc::clone(&metrics),
        anchors,
        sip_tls,
        rest_tls,
        vetting: config.vetting.clone(),
    };
    tasks.spawn(trust::reloader(
        source,
        rotation,
        identities,
        trust,
        metrics,
        control,
        shutdown.clone(),
    ));
    Ok(Serving {
        status,
        metrics: ctx.metrics.clone(),
    })
}
