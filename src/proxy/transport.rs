//! The tasks around the engine: TCP listeners and connections (accepted and outgoing,
//! keyed by remote address), name resolution and verifications. They run on the main
//! runtime and reach the engine through its [`Inbound`] channel; the engine hands them
//! what it sends over TCP, to unresolved names and what needs verifying.
//!
//! Every task the shell starts (connection readers and writers, outbound connects,
//! resolutions, verifications) is tracked, watches the shutdown token and is waited for
//! by [`Shell::stopped`]. Each TCP connection, accepted or outgoing, holds one permit of
//! the connection limit for as long as its reader runs.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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
use super::{Output, Peer, Transport};
use crate::clock::now_unix;
use crate::metrics::{Discarded, Panic, Rejected};
use crate::sip::{Frame, FramingError, bare_response, frame};
use crate::verify::Verdict;
use crate::verify::Verifier;

/// Messages queued per TCP connection before new ones are dropped.
const TCP_QUEUE: usize = 4096;
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections, resolutions and verifications, shared by every task.
pub struct Shell {
    pub ctx: Arc<Context>,
    conns: DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    /// One permit per open TCP connection, accepted or outgoing.
    tcp_permits: Arc<Semaphore>,
    resolver: Resolver,
    /// Verifies Identity headers for verifying trunks.
    verifier: Option<Verifier>,
    /// Where received messages and finished work go.
    engine: mpsc::Sender<Inbound>,
    /// The main runtime: the shell's tasks run there whoever starts them.
    runtime: Handle,
    /// Every task started here.
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Shell {
    /// A shell on the current runtime, feeding `engine`.
    pub fn new(
        ctx: Arc<Context>,
        verifier: Option<Verifier>,
        engine: mpsc::Sender<Inbound>,
        shutdown: CancellationToken,
    ) -> Arc<Shell> {
        let tcp_permits = Arc::new(Semaphore::new(ctx.max_tcp_connections));
        Arc::new(Shell {
            ctx,
            verifier,
            conns: DashMap::new(),
            tcp_permits,
            resolver: Resolver::default(),
            engine,
            runtime: Handle::current(),
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

    /// Waits, after shutdown, until every task the shell started has ended.
    pub async fn stopped(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Open TCP connections, accepted and outgoing.
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

    /// Sends `bytes` on the TCP connection to `addr`, opening one if there is none.
    pub fn send_tcp(self: &Arc<Self>, addr: SocketAddr, bytes: Vec<u8>) {
        let (mine, rx, permit) = match self.conns.entry(addr) {
            Entry::Occupied(e) => {
                if e.get().try_send(bytes).is_err() {
                    warn!(to = %addr, "TCP queue full or closed: message dropped");
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
                    shell.forget(addr, &mine);
                    return;
                }
            };
            match connected {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    let (r, w) = stream.into_split();
                    shell.spawn_connection(addr, r, w, mine, rx, permit);
                }
                Ok(Err(e)) => {
                    warn!(to = %addr, error = %e, "TCP connect failed");
                    shell.forget(addr, &mine);
                }
                Err(_) => {
                    warn!(to = %addr, "TCP connect timed out");
                    shell.forget(addr, &mine);
                }
            }
        });
    }

    /// Removes `addr`'s entry if it is still this connection's (a newer one may have
    /// replaced it).
    fn forget(&self, addr: SocketAddr, mine: &mpsc::Sender<Vec<u8>>) {
        self.conns.remove_if(&addr, |_, tx| tx.same_channel(mine));
    }

    /// Runs a connection: a writer draining its queue and a reader feeding the engine. The
    /// reader holds the connection's `permit` until the connection ends.
    fn spawn_connection(
        self: &Arc<Self>,
        addr: SocketAddr,
        r: OwnedReadHalf,
        mut w: OwnedWriteHalf,
        mine: mpsc::Sender<Vec<u8>>,
        mut rx: mpsc::Receiver<Vec<u8>>,
        permit: OwnedSemaphorePermit,
    ) {
        let shutdown = self.shutdown.clone();
        self.spawn(async move {
            loop {
                let bytes = tokio::select! {
                    next = rx.recv() => match next {
                        Some(bytes) => bytes,
                        None => break,
                    },
                    _ = shutdown.cancelled() => break,
                };
                if let Err(e) = w.write_all(&bytes).await {
                    debug!(to = %addr, error = %e, "TCP write failed");
                    break;
                }
            }
        });
        let shell = Arc::clone(self);
        self.spawn(async move {
            if let Err(e) = shell.read_stream(addr, r).await {
                debug!(from = %addr, error = %e, "TCP connection ended");
            }
            // Dropping the last sender ends the writer once its queue is flushed.
            shell.forget(addr, &mine);
            drop(permit);
        });
    }

    /// Accepts TCP connections until shutdown: only from trunks and the upstream, and at
    /// most `max_tcp_connections` at a time.
    pub async fn run_tcp(self: Arc<Self>, listener: TcpListener) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, addr)) => self.accept(stream, addr),
                    Err(e) => warn!(error = %e, "TCP accept failed"),
                },
                _ = self.shutdown.cancelled() => break,
            }
        }
    }

    fn accept(self: &Arc<Self>, stream: TcpStream, addr: SocketAddr) {
        let ctx = &self.ctx;
        // A trunk with credential lists takes calls from anywhere that authenticates, so
        // then any address may connect (within the connection limit); its requests are
        // still refused or challenged one by one.
        let unknown = matches!(ctx.classify(addr.ip()), PeerClass::Unknown);
        if unknown && !ctx.trust.load().takes_credentials() {
            let cause = Rejected::ForbiddenSourceTcp;
            ctx.metrics.rejected(cause);
            if let Some(suppressed) = ctx.noisy(addr.ip(), cause.as_str(), now_unix()) {
                warn!(from = %addr, suppressed, "TCP connection from an unknown source refused");
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
        let (r, w) = stream.into_split();
        let (tx, rx) = mpsc::channel(TCP_QUEUE);
        self.conns.insert(addr, tx.clone());
        self.spawn_connection(addr, r, w, tx, rx, permit);
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
    async fn read_stream(
        self: &Arc<Self>,
        addr: SocketAddr,
        mut r: OwnedReadHalf,
    ) -> io::Result<()> {
        let max = self.ctx.max_message_size;
        let peer = Peer {
            transport: Transport::Tcp,
            addr,
        };
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
                            self.send_tcp(addr, b"\r\n".to_vec());
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
                            self.send_tcp(addr, resp);
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}
