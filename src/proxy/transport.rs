//! The tasks around the engine: TCP and TLS listeners and connections (accepted and
//! outgoing, keyed by transport and remote address), name resolution and verifications.
//! Accepting, connecting, handshakes, resolutions and verifications run on the main
//! runtime. An established connection's reader and writer run on the engine thread's
//! runtime, so that a message read or written wakes no other thread: that took TCP
//! from 180 to about 130 µs of CPU per call at 2,000 calls/s. They reach the engine
//! through its [`Inbound`] channel; the engine hands them what it sends over TCP and
//! TLS, to unresolved names and what needs verifying.
//!
//! Every task the shell starts (connection readers and writers, outbound connects,
//! resolutions, verifications) is tracked, watches the shutdown token and is waited for
//! by [`Shell::stopped`]. Each TCP or TLS connection, accepted or outgoing, holds one
//! permit of the connection limit from before its handshake for as long as its reader
//! runs, so slow handshakes are bounded by the same limit.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, warn};

use super::context::{Context, PeerClass};
use super::driver::Inbound;
use super::endpoint::Verify;
use super::resolve::Resolver;
use super::tls::{self, SipTls};
use super::{Output, Peer, Transport};
use crate::clock::now_unix;
use crate::metrics::{Discarded, Panic, Rejected, TlsFailure};
use crate::sip::{Frame, FramingError, bare_response, frame};
use crate::verify::Verdict;
use crate::verify::Verifier;

/// Messages queued per connection before new ones are dropped.
const TCP_QUEUE: usize = 4096;
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of queued messages a connection's writer sends in one write.
const WRITE_BATCH: usize = 16 * 1024;
/// Server names remembered for TLS destinations resolved from names.
const MAX_TLS_NAMES: usize = 10_000;

/// Connections, resolutions and verifications, shared by every task.
pub struct Shell {
    pub ctx: Arc<Context>,
    conns: DashMap<Peer, mpsc::Sender<Vec<u8>>>,
    /// One permit per open TCP or TLS connection, accepted or outgoing.
    tcp_permits: Arc<Semaphore>,
    /// SIP over TLS, when configured.
    tls: Option<Arc<SipTls>>,
    /// The name a TLS server's certificate must carry, by address: the upstreams'
    /// `tls_name`, and the names TLS destinations were resolved from. An address not
    /// here must be named by its certificate.
    tls_names: DashMap<SocketAddr, String>,
    resolver: Resolver,
    /// Verifies Identity headers for verifying trunks.
    verifier: Option<Verifier>,
    /// Where received messages and finished work go.
    engine: mpsc::Sender<Inbound>,
    /// The main runtime: the shell's tasks run there whoever starts them.
    runtime: Handle,
    /// The engine thread's runtime, once it runs: an established connection's reader
    /// and writer run there, beside the engine, so that handing it a message or taking
    /// one from it wakes no other thread.
    engine_runtime: OnceLock<Handle>,
    /// Every task started here.
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Shell {
    /// A shell on the current runtime, feeding `engine`. `tls_names` are the names the
    /// certificates of TLS servers at those addresses must carry.
    pub fn new(
        ctx: Arc<Context>,
        verifier: Option<Verifier>,
        tls: Option<Arc<SipTls>>,
        tls_names: Vec<(SocketAddr, String)>,
        engine: mpsc::Sender<Inbound>,
        shutdown: CancellationToken,
    ) -> Arc<Shell> {
        let tcp_permits = Arc::new(Semaphore::new(ctx.max_tcp_connections));
        Arc::new(Shell {
            ctx,
            verifier,
            conns: DashMap::new(),
            tcp_permits,
            tls,
            tls_names: tls_names.into_iter().collect(),
            resolver: Resolver::default(),
            engine,
            runtime: Handle::current(),
            engine_runtime: OnceLock::new(),
            tasks: TaskTracker::new(),
            shutdown,
        })
    }

    fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn_on(task, &self.runtime);
    }

    /// Runs the tasks of established connections on `engine` (the engine thread's
    /// runtime) from now on.
    pub fn set_engine_runtime(&self, engine: Handle) {
        let _ = self.engine_runtime.set(engine);
    }

    /// Starts a task of an established connection: on the engine's runtime when it
    /// runs, else on the main one.
    fn spawn_beside_engine<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let runtime = self.engine_runtime.get().unwrap_or(&self.runtime);
        self.tasks.spawn_on(task, runtime);
    }

    /// Waits, after shutdown, until every task the shell started has ended.
    pub async fn stopped(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Open TCP and TLS connections, accepted and outgoing.
    pub fn tcp_connections(&self) -> usize {
        self.ctx.max_tcp_connections - self.tcp_permits.available_permits()
    }

    /// The address of `host` if it was resolved lately.
    pub fn resolved(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.resolver.cached(host, port, Instant::now())
    }

    /// Resolves `host` off the engine (resolution may be slow) and hands the message
    /// back to the engine to send once it has an address.
    pub fn resolve_and_send(
        self: &Arc<Self>,
        host: String,
        port: u16,
        transport: Transport,
        bytes: Vec<u8>,
    ) {
        let shell = Arc::clone(self);
        self.spawn(async move {
            let resolved = tokio::select! {
                r = shell.resolver.resolve(&host, port) => r,
                _ = shell.shutdown.cancelled() => return,
            };
            match resolved {
                Ok(addr) => {
                    if transport == Transport::Tls {
                        shell.remember_tls_name(addr, &host);
                    }
                    let out = Output::to_peer(Peer { transport, addr }, bytes);
                    let _ = shell.engine.send(Inbound::Send(out)).await;
                }
                Err(e) => {
                    // Request-URIs and Routes name the host: one line per interval
                    // for all failures, whoever caused them.
                    let anyone = std::net::IpAddr::from([0, 0, 0, 0]);
                    if let Some(suppressed) = shell.ctx.noisy(anyone, "resolution", now_unix()) {
                        warn!(%host, error = %e, suppressed, "name resolution failed: message dropped");
                    }
                }
            }
        });
    }

    /// Remembers that the TLS server at `addr` was reached by the name `host` (its
    /// certificate must carry it). The first name an upstream was configured with stays.
    fn remember_tls_name(&self, addr: SocketAddr, host: &str) {
        if self.tls_names.len() >= MAX_TLS_NAMES {
            return;
        }
        self.tls_names
            .entry(addr)
            .or_insert_with(|| host.to_ascii_lowercase());
    }

    /// Sends `bytes` on the connection to `peer` (TCP or TLS), opening one if there is
    /// none.
    pub fn send_stream(self: &Arc<Self>, peer: Peer, bytes: Vec<u8>) {
        let addr = peer.addr;
        let (mine, rx, permit) = match self.conns.entry(peer) {
            Entry::Occupied(e) => {
                if e.get().try_send(bytes).is_err() {
                    warn!(to = %addr, transport = peer.transport.as_str(), "connection queue full or closed: message dropped");
                }
                return;
            }
            Entry::Vacant(v) => {
                let Ok(permit) = Arc::clone(&self.tcp_permits).try_acquire_owned() else {
                    self.ctx.metrics.rejected(Rejected::TcpConnectionLimit);
                    warn!(to = %addr, "TCP connection limit reached: message dropped");
                    return;
                };
                let (tx, rx) = mpsc::channel(TCP_QUEUE);
                let _ = tx.try_send(bytes);
                v.insert(tx.clone());
                (tx, rx, permit)
            }
        };
        let shell = Arc::clone(self);
        self.spawn(async move {
            let connect = tokio::time::timeout(TCP_CONNECT_TIMEOUT, TcpStream::connect(addr));
            let connected = tokio::select! {
                c = connect => c,
                _ = shell.shutdown.cancelled() => {
                    shell.forget(peer, &mine);
                    return;
                }
            };
            let stream = match connected {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    warn!(to = %addr, error = %e, "TCP connect failed");
                    shell.forget(peer, &mine);
                    return;
                }
                Err(_) => {
                    warn!(to = %addr, "TCP connect timed out");
                    shell.forget(peer, &mine);
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            if peer.transport != Transport::Tls {
                let (r, w) = stream.into_split();
                shell.spawn_connection(peer, r, w, mine, rx, permit);
                return;
            }
            match shell.connect_tls(addr, stream).await {
                Some(tls) => {
                    let (r, w) = tokio::io::split(tls);
                    shell.spawn_connection(peer, r, w, mine, rx, permit);
                }
                None => shell.forget(peer, &mine),
            }
        });
    }

    /// The TLS handshake of a connection callsign opened: the server's certificate must
    /// lead to `[sip.tls] ca` and carry the name `addr` was reached by (or its address).
    async fn connect_tls(
        &self,
        addr: SocketAddr,
        stream: TcpStream,
    ) -> Option<tokio_rustls::client::TlsStream<TcpStream>> {
        let Some(tls) = &self.tls else {
            warn!(to = %addr, "TLS destination without [sip.tls]: message dropped");
            return None;
        };
        let name = match self.tls_names.get(&addr) {
            Some(host) => ServerName::try_from(host.clone()).ok(),
            None => Some(ServerName::IpAddress(addr.ip().into())),
        };
        let Some(name) = name else {
            warn!(to = %addr, "not a name a TLS certificate can carry: message dropped");
            return None;
        };
        let handshake = tls.connector().connect(name, stream);
        let done = tokio::select! {
            done = tokio::time::timeout(tls.handshake_timeout, handshake) => done,
            _ = self.shutdown.cancelled() => return None,
        };
        match done {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(e)) => {
                let cause = tls::failure(&e);
                self.ctx.metrics.tls_handshake_failed(cause);
                warn!(to = %addr, error = %e, cause = cause.as_str(), "TLS handshake with the next hop failed");
                None
            }
            Err(_) => {
                self.ctx.metrics.tls_handshake_failed(TlsFailure::Timeout);
                warn!(to = %addr, "TLS handshake with the next hop timed out");
                None
            }
        }
    }

    /// Removes `peer`'s entry if it is still this connection's (a newer one may have
    /// replaced it).
    fn forget(&self, peer: Peer, mine: &mpsc::Sender<Vec<u8>>) {
        self.conns.remove_if(&peer, |_, tx| tx.same_channel(mine));
    }

    /// Runs a connection: a writer draining its queue and a reader feeding the engine. The
    /// reader holds the connection's `permit` until the connection ends.
    fn spawn_connection<R, W>(
        self: &Arc<Self>,
        peer: Peer,
        r: R,
        mut w: W,
        mine: mpsc::Sender<Vec<u8>>,
        mut rx: mpsc::Receiver<Vec<u8>>,
        permit: OwnedSemaphorePermit,
    ) where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let shutdown = self.shutdown.clone();
        let addr = peer.addr;
        self.spawn_beside_engine(async move {
            let mut batch = Vec::with_capacity(WRITE_BATCH);
            loop {
                let bytes = tokio::select! {
                    next = rx.recv() => match next {
                        Some(bytes) => bytes,
                        None => break,
                    },
                    _ = shutdown.cancelled() => break,
                };
                // What else is queued goes in the same write: one syscall, and over TLS
                // one record, for several messages under load.
                batch.clear();
                batch.extend_from_slice(&bytes);
                while batch.len() < WRITE_BATCH {
                    match rx.try_recv() {
                        Ok(more) => batch.extend_from_slice(&more),
                        Err(_) => break,
                    }
                }
                let written = async {
                    w.write_all(&batch).await?;
                    // TLS may hold what it encrypted: push it out.
                    w.flush().await
                };
                if let Err(e) = written.await {
                    debug!(to = %addr, error = %e, "stream write failed");
                    break;
                }
            }
            // A TLS peer is told the connection ends (close_notify).
            let _ = w.shutdown().await;
        });
        let shell = Arc::clone(self);
        self.spawn_beside_engine(async move {
            if let Err(e) = shell.read_stream(peer, r).await {
                debug!(from = %addr, error = %e, "connection ended");
            }
            // Dropping the last sender ends the writer once its queue is flushed.
            shell.forget(peer, &mine);
            drop(permit);
        });
    }

    /// Accepts TCP connections until shutdown: only from trunks and the upstream, and at
    /// most `max_tcp_connections` at a time.
    pub async fn run_tcp(self: Arc<Self>, listener: TcpListener) {
        self.run_listener(listener, Transport::Tcp).await;
    }

    /// Accepts TLS connections until shutdown, as [`Shell::run_tcp`] does TCP ones, each
    /// with its handshake bounded by `[sip.tls] handshake_timeout_ms`.
    pub async fn run_tls(self: Arc<Self>, listener: TcpListener) {
        self.run_listener(listener, Transport::Tls).await;
    }

    async fn run_listener(self: Arc<Self>, listener: TcpListener, transport: Transport) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, addr)) => self.accept(stream, Peer { transport, addr }),
                    Err(e) => warn!(error = %e, transport = transport.as_str(), "accept failed"),
                },
                _ = self.shutdown.cancelled() => break,
            }
        }
    }

    fn accept(self: &Arc<Self>, stream: TcpStream, peer: Peer) {
        let ctx = &self.ctx;
        let addr = peer.addr;
        // A trunk with credential lists takes calls from anywhere that authenticates, so
        // then any address may connect (within the connection limit); its requests are
        // still refused or challenged one by one.
        let unknown = matches!(ctx.classify(addr.ip()), PeerClass::Unknown);
        if unknown && !ctx.trust.load().takes_credentials() {
            let cause = Rejected::ForbiddenSourceTcp;
            ctx.metrics.rejected(cause);
            if let Some(suppressed) = ctx.noisy(addr.ip(), cause.as_str(), now_unix()) {
                warn!(from = %addr, suppressed, transport = peer.transport.as_str(), "connection from an unknown source refused");
            }
            return;
        }
        let Ok(permit) = Arc::clone(&self.tcp_permits).try_acquire_owned() else {
            let cause = Rejected::TcpConnectionLimit;
            ctx.metrics.rejected(cause);
            if let Some(suppressed) = ctx.noisy(addr.ip(), cause.as_str(), now_unix()) {
                warn!(from = %addr, suppressed, "TCP connection limit reached: connection refused");
            }
            return;
        };
        let _ = stream.set_nodelay(true);
        if peer.transport != Transport::Tls {
            let (r, w) = stream.into_split();
            self.open(peer, r, w, permit);
            return;
        }
        let shell = Arc::clone(self);
        self.spawn(async move {
            if let Some(tls) = shell.accept_tls(addr, stream).await {
                let (r, w) = tokio::io::split(tls);
                shell.open(peer, r, w, permit);
            }
        });
    }

    /// Registers an accepted connection and runs it.
    fn open<R, W>(self: &Arc<Self>, peer: Peer, r: R, w: W, permit: OwnedSemaphorePermit)
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(TCP_QUEUE);
        self.conns.insert(peer, tx.clone());
        self.spawn_connection(peer, r, w, tx, rx, permit);
    }

    /// The handshake of an accepted TLS connection, within the timeout; then, for a trunk
    /// with `tls_client_names`, the check that its client certificate names it. Failures
    /// are counted and logged once per source and interval.
    async fn accept_tls<IO>(
        &self,
        addr: SocketAddr,
        stream: IO,
    ) -> Option<tokio_rustls::server::TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let tls = self.tls.as_ref()?;
        let ctx = &self.ctx;
        let handshake = tls.acceptor().accept(stream);
        let done = tokio::select! {
            done = tokio::time::timeout(tls.handshake_timeout, handshake) => done,
            _ = self.shutdown.cancelled() => return None,
        };
        let failed = |cause: TlsFailure, error: &dyn std::fmt::Display| {
            ctx.metrics.tls_handshake_failed(cause);
            if let Some(suppressed) = ctx.noisy(addr.ip(), cause.as_str(), now_unix()) {
                warn!(from = %addr, cause = cause.as_str(), %error, suppressed, "TLS connection closed at its handshake");
            }
        };
        let stream = match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                failed(tls::failure(&e), &e);
                return None;
            }
            Err(_) => {
                failed(TlsFailure::Timeout, &"handshake not finished in time");
                return None;
            }
        };
        if let PeerClass::Trunk(trunk) = ctx.classify(addr.ip())
            && !trunk.tls_client_names.is_empty()
        {
            let (_, conn) = stream.get_ref();
            let names = conn
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(tls::certificate_names)
                .unwrap_or_default();
            if !names
                .iter()
                .any(|n| tls::name_allowed(&trunk.tls_client_names, n))
            {
                let why = format!(
                    "trunk {} wants a client certificate naming one of {:?}; got {names:?}",
                    trunk.name, trunk.tls_client_names
                );
                failed(TlsFailure::ClientName, &why);
                return None;
            }
        }
        Some(stream)
    }

    /// Verifies an INVITE's Identity headers off the engine and hands it the verdict.
    /// The endpoint holds the INVITE meanwhile, and lets it go on by itself when the
    /// wait runs out; a verdict that comes later is dropped there.
    pub fn spawn_verification(self: &Arc<Self>, v: Verify) {
        let shell = Arc::clone(self);
        self.spawn(async move {
            let id = v.id;
            let verdict = match shell.verify(v).await {
                Some(verdict) => verdict,
                None => return,
            };
            let _ = shell.engine.send(Inbound::Verified { id, verdict }).await;
        });
    }

    /// The verdict on `v`, or none when shutting down or past the endpoint's wait.
    async fn verify(&self, v: Verify) -> Option<Verdict> {
        let Some(verifier) = self.verifier.clone() else {
            return Some(Verdict::no_validation());
        };
        if v.identities.is_empty() {
            return Some(Verdict::no_validation());
        }
        let now = crate::clock::now_unix();
        let Verify {
            identities,
            expected,
            ..
        } = v;
        // Its own task, so that a call that stops waiting does not cancel the fetch:
        // the certificate still lands in the cache for the next call.
        let shutdown = self.shutdown.clone();
        let all = self.tasks.spawn_on(
            async move {
                let mut reports = Vec::with_capacity(identities.len());
                for identity in &identities {
                    let report = tokio::select! {
                        r = verifier.verify(identity, &expected, now) => r,
                        _ = shutdown.cancelled() => return None,
                    };
                    let passed = report.passed();
                    reports.push(report);
                    if passed {
                        break;
                    }
                }
                Some(Verdict::from_reports(&reports))
            },
            &self.runtime,
        );
        match tokio::time::timeout(self.ctx.verify_max_wait, all).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(e)) if e.is_panic() => {
                // A bug in verification: the call goes on unverified.
                self.ctx.metrics.panicked(Panic::Verification);
                error!(error = %e, "verification task panicked; the call goes on unverified");
                Some(Verdict::no_validation())
            }
            // Cancelled: the runtime is shutting down.
            Ok(Err(_)) => None,
            // The endpoint's own timer has let the call go on.
            Err(_) => None,
        }
    }

    /// Frames a stream by Content-Length and hands each message to the engine.
    async fn read_stream<R>(self: &Arc<Self>, peer: Peer, mut r: R) -> io::Result<()>
    where
        R: AsyncRead + Unpin,
    {
        let max = self.ctx.max_message_size;
        let addr = peer.addr;
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 16384];
        loop {
            let idle = self.ctx.tcp_idle_timeout;
            let n = tokio::select! {
                n = tokio::time::timeout(idle, r.read(&mut chunk)) => match n {
                    Ok(n) => n?,
                    Err(_) => {
                        debug!(from = %addr, "idle TCP connection closed");
                        return Ok(());
                    }
                },
                _ = self.shutdown.cancelled() => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
            loop {
                match frame(&buf, max) {
                    Ok(Frame::Incomplete) => break,
                    Ok(Frame::KeepAlive(skip)) => {
                        // RFC 5626 4.4.1: answer a double-CRLF ping with a CRLF pong.
                        if buf.starts_with(b"\r\n\r\n") {
                            self.send_stream(peer, b"\r\n".to_vec());
                        }
                        buf.drain(..skip.min(buf.len()));
                    }
                    Ok(Frame::Message(len)) => {
                        let len = len.min(buf.len());
                        let bytes = buf.drain(..len).collect();
                        if self
                            .engine
                            .send(Inbound::Message { peer, bytes })
                            .await
                            .is_err()
                        {
                            return Ok(()); // the engine has stopped
                        }
                    }
                    Err(e) => {
                        // The stream cannot be resynchronised: answer if possible, then close.
                        let ctx = &self.ctx;
                        ctx.metrics.parse_error(Discarded::Framing);
                        let kind = Discarded::Framing.as_str();
                        if let Some(suppressed) = ctx.noisy(addr.ip(), kind, now_unix()) {
                            warn!(from = %addr, error = %e, suppressed, "TCP framing error: closing");
                        }
                        let (status, reason) = match e {
                            FramingError::TooLarge => (513, "Message Too Large"),
                            _ => (400, "Bad Content-Length"),
                        };
                        if let Some(resp) = bare_response(&buf, status, reason) {
                            self.send_stream(peer, resp);
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
