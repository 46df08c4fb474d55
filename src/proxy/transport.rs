//! UDP and TCP transports: receive loops that feed the core, a TCP connection table
//! (accepted and outgoing, keyed by remote address), and the sender for [`Output`]s.
//!
//! Every task the shell starts (connection readers and writers, outbound connects,
//! name-resolution sends, verifications) is tracked, watches the shutdown token and is
//! waited for by [`Shell::stopped`]. Each TCP connection, accepted or outgoing, holds one
//! permit of the connection limit for as long as its reader runs.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, warn};

use super::context::PeerClass;
use super::core::{Core, Deferred};
use super::resolve::Resolver;
use super::{Dest, Output, Peer, Transport};
use crate::clock::now_unix;
use crate::metrics::{Discarded, Panic, Rejected, Timeout};
use crate::sip::{Frame, FramingError, bare_response, frame};
use crate::verify::Verdict;
use crate::verify::Verifier;

/// Messages queued per TCP connection before new ones are dropped.
const TCP_QUEUE: usize = 4096;
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sockets and connections, shared by every task.
pub struct Shell {
    pub core: Arc<Core>,
    /// Sockets sharing our UDP port; sends go out through the first.
    udp: Vec<Arc<UdpSocket>>,
    conns: DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    /// One permit per open TCP connection, accepted or outgoing.
    tcp_permits: Arc<Semaphore>,
    resolver: Resolver,
    /// Verifies Identity headers for verifying trunks.
    verifier: Option<Verifier>,
    /// Every task started here.
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Shell {
    pub fn new(
        core: Arc<Core>,
        udp: Vec<Arc<UdpSocket>>,
        verifier: Option<Verifier>,
        shutdown: CancellationToken,
    ) -> Arc<Shell> {
        let tcp_permits = Arc::new(Semaphore::new(core.ctx.max_tcp_connections));
        Arc::new(Shell {
            core,
            udp,
            verifier,
            conns: DashMap::new(),
            tcp_permits,
            resolver: Resolver::default(),
            tasks: TaskTracker::new(),
            shutdown,
        })
    }

    /// Waits, after shutdown, until every task the shell started has ended.
    pub async fn stopped(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Open TCP connections, accepted and outgoing.
    pub fn tcp_connections(&self) -> usize {
        self.core.ctx.max_tcp_connections - self.tcp_permits.available_permits()
    }

    /// Sends everything in `outs`.
    pub async fn send_all(self: &Arc<Self>, outs: &mut Vec<Output>) {
        for out in outs.drain(..) {
            self.send(out).await;
        }
    }

    async fn send(self: &Arc<Self>, out: Output) {
        match out.to {
            Dest::Peer(peer) => self.send_to(peer, out.bytes).await,
            Dest::Name {
                host,
                port,
                transport,
            } => {
                if let Some(addr) = self.resolver.cached(&host, port, Instant::now()) {
                    return self.send_to(Peer { transport, addr }, out.bytes).await;
                }
                // Resolution may be slow: never hold up the receive loop for it.
                let shell = Arc::clone(self);
                self.tasks.spawn(async move {
                    let resolved = tokio::select! {
                        r = shell.resolver.resolve(&host, port) => r,
                        _ = shell.shutdown.cancelled() => return,
                    };
                    match resolved {
                        Ok(addr) => shell.send_to(Peer { transport, addr }, out.bytes).await,
                        Err(e) => {
                            // Request-URIs and Routes name the host: one line per interval
                            // for all failures, whoever caused them.
                            let anyone = std::net::IpAddr::from([0, 0, 0, 0]);
                            let ctx = &shell.core.ctx;
                            if let Some(suppressed) = ctx.noisy(anyone, "resolution", now_unix()) {
                                warn!(%host, error = %e, suppressed, "name resolution failed: message dropped");
                            }
                        }
                    }
                });
            }
        }
    }

    async fn send_to(self: &Arc<Self>, peer: Peer, bytes: Vec<u8>) {
        match peer.transport {
            Transport::Udp => match self.udp.first() {
                Some(sock) => {
                    if let Err(e) = sock.send_to(&bytes, peer.addr).await {
                        warn!(to = %peer.addr, error = %e, "UDP send failed");
                    }
                }
                None => warn!(to = %peer.addr, "no UDP listener: message dropped"),
            },
            Transport::Tcp => self.send_tcp(peer.addr, bytes),
        }
    }

    fn send_tcp(self: &Arc<Self>, addr: SocketAddr, bytes: Vec<u8>) {
        let (mine, rx, permit) = match self.conns.entry(addr) {
            Entry::Occupied(e) => {
                if e.get().try_send(bytes).is_err() {
                    warn!(to = %addr, "TCP queue full or closed: message dropped");
                }
                return;
            }
            Entry::Vacant(v) => {
                let Ok(permit) = Arc::clone(&self.tcp_permits).try_acquire_owned() else {
                    self.core.ctx.metrics.rejected(Rejected::TcpConnectionLimit);
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
        self.tasks.spawn(async move {
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

    /// Runs a connection: a writer draining its queue and a reader feeding the core. The
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
        self.tasks.spawn(async move {
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
        self.tasks.spawn(async move {
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
        let ctx = &self.core.ctx;
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

    /// Runs the core on one message; a panic is contained, logged and counted, and the
    /// transport goes on serving.
    fn handle(self: &Arc<Self>, peer: Peer, bytes: &[u8], outs: &mut Vec<Output>) {
        let core = &self.core;
        let run = std::panic::AssertUnwindSafe(|| {
            core.handle(peer, bytes, Instant::now(), SystemTime::now(), outs)
        });
        match std::panic::catch_unwind(run) {
            Ok(None) => {}
            Ok(Some(deferred)) => self.spawn_verification(deferred),
            Err(_) => {
                outs.clear();
                core.ctx.metrics.panicked(Panic::Message);
                error!(from = %peer.addr, "message handling panicked; message dropped");
            }
        }
    }

    /// Verifies a deferred INVITE's Identity headers off the receive loop, bounded by
    /// the configured wait, then lets the core finish it.
    fn spawn_verification(self: &Arc<Self>, deferred: Deferred) {
        let shell = Arc::clone(self);
        self.tasks.spawn(async move {
            let verdict = shell.verify(&deferred).await;
            let mut outs = Vec::new();
            let core = &shell.core;
            let run = std::panic::AssertUnwindSafe(|| {
                core.complete(
                    deferred,
                    &verdict,
                    Instant::now(),
                    SystemTime::now(),
                    &mut outs,
                )
            });
            if std::panic::catch_unwind(run).is_err() {
                outs.clear();
                core.ctx.metrics.panicked(Panic::VerifiedRequest);
                error!("completing a verified request panicked; request dropped");
            }
            shell.send_all(&mut outs).await;
        });
    }

    async fn verify(&self, d: &Deferred) -> Verdict {
        let Some(verifier) = self.verifier.clone() else {
            return Verdict::no_validation();
        };
        if d.identities.is_empty() {
            return Verdict::no_validation();
        }
        let now = crate::clock::now_unix();
        let identities = d.identities.clone();
        let expected = d.expected.clone();
        // Its own task, so that a call that stops waiting does not cancel the fetch:
        // the certificate still lands in the cache for the next call.
        let shutdown = self.shutdown.clone();
        let all = self.tasks.spawn(async move {
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
        });
        match tokio::time::timeout(self.core.ctx.verify_max_wait, all).await {
            Ok(Ok(Some(verdict))) => verdict,
            Ok(Ok(None)) => Verdict::no_validation(),
            Ok(Err(e)) => {
                error!(error = %e, "verification task failed");
                Verdict::no_validation()
            }
            Err(_) => {
                self.core.ctx.metrics.timeout(Timeout::VerifyWait);
                Verdict::no_validation()
            }
        }
    }

    /// Frames a stream by Content-Length and feeds each message to the core.
    async fn read_stream(
        self: &Arc<Self>,
        addr: SocketAddr,
        mut r: OwnedReadHalf,
    ) -> io::Result<()> {
        let max = self.core.ctx.max_message_size;
        let peer = Peer {
            transport: Transport::Tcp,
            addr,
        };
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 16384];
        let mut outs = Vec::new();
        loop {
            let idle = self.core.ctx.tcp_idle_timeout;
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
                        self.handle(peer, &buf[..len], &mut outs);
                        buf.drain(..len);
                        self.send_all(&mut outs).await;
                    }
                    Err(e) => {
                        // The stream cannot be resynchronised: answer if possible, then close.
                        let ctx = &self.core.ctx;
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

    /// Receives datagrams on one socket until shutdown.
    pub async fn run_udp(self: Arc<Self>, sock: Arc<UdpSocket>) {
        let mut buf = vec![0u8; 65_536];
        let mut outs = Vec::new();
        loop {
            let (n, src) = tokio::select! {
                r = sock.recv_from(&mut buf) => match r {
                    Ok(r) => r,
                    Err(e) => {
                        // ICMP errors surface here on some systems; keep serving.
                        debug!(error = %e, "UDP receive error");
                        continue;
                    }
                },
                _ = self.shutdown.cancelled() => break,
            };
            let peer = Peer {
                transport: Transport::Udp,
                addr: src,
            };
            if buf[..n].iter().all(|b| b.is_ascii_whitespace()) {
                continue; // keep-alive
            }
            self.handle(peer, &buf[..n], &mut outs);
            self.send_all(&mut outs).await;
        }
    }

    /// Fires transaction timers every few milliseconds until shutdown.
    pub async fn run_timers(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut outs = Vec::new();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.shutdown.cancelled() => break,
            }
            self.core.on_timers(Instant::now(), &mut outs);
            self.send_all(&mut outs).await;
        }
    }
}
