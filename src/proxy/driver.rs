//! The engine: the thread that drives the [`Endpoint`]. It owns the endpoint and the
//! UDP socket, receives datagrams and whatever the [`Shell`]'s tasks hand it
//! ([`Inbound`]), gives the endpoint the time, sends what it returns and sleeps until
//! the next of its timers: there is no periodic sweep.
//!
//! It runs on a thread of its own with a single-threaded runtime, so a datagram wakes
//! the thread that handles it, and the calls' hot path never waits for a worker of the
//! main runtime. Established TCP and TLS connections run on its runtime too; accepting,
//! handshakes, name resolution and verification stay on the main runtime (see
//! [`super::transport`]).

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, warn};

use super::endpoint::Endpoint;
use super::transport::Shell;
use super::{Dest, Output, Peer, Transport};
use crate::metrics::Panic;
use crate::verify::Verdict;

/// What reaches the engine from the shell's tasks.
#[derive(Debug)]
pub enum Inbound {
    /// A message received on a stream.
    Message { peer: Peer, bytes: Vec<u8> },
    /// The verdict on an INVITE held for verification.
    Verified { id: u64, verdict: Verdict },
    /// A message whose destination name is now resolved, to send.
    Send(Output),
}

/// Messages the shell's tasks may queue for the engine before they wait.
pub const INBOUND_QUEUE: usize = 16_384;

/// How long a stopping engine keeps running the connections beside it so that they
/// can close.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Datagrams handled in a row before the engine looks at its other work.
const UDP_BATCH: usize = 64;

/// The engine's state apart from its receiving ends.
struct Engine {
    endpoint: Endpoint,
    shell: Arc<Shell>,
    out: Vec<Output>,
}

/// Starts the engine on a thread of its own: `endpoint` takes datagrams from `udp` (a
/// bound socket) and messages from `inbound` until `shutdown`. The receiver resolves
/// once the engine has stopped.
pub fn spawn(
    endpoint: Endpoint,
    udp: Option<std::net::UdpSocket>,
    inbound: mpsc::Receiver<Inbound>,
    shell: Arc<Shell>,
    shutdown: CancellationToken,
) -> io::Result<oneshot::Receiver<()>> {
    if let Some(sock) = &udp {
        sock.set_nonblocking(true)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    shell.set_engine_runtime(runtime.handle().clone());
    let (done, stopped) = oneshot::channel();
    std::thread::Builder::new()
        .name("callsign-engine".into())
        .spawn(move || {
            runtime.block_on(async move {
                let udp = match udp.map(UdpSocket::from_std).transpose() {
                    Ok(udp) => udp,
                    // The daemon sees the engine stop and shuts down with an error.
                    Err(e) => {
                        error!(error = %e, "UDP socket unusable: the engine stops");
                        return;
                    }
                };
                let engine = Engine {
                    endpoint,
                    shell: Arc::clone(&shell),
                    out: Vec::new(),
                };
                engine.run(udp, inbound, shutdown).await;
                // Established connections run on this runtime: let them close (a TLS
                // peer gets its close_notify) before it goes, for a bounded time.
                let _ = tokio::time::timeout(CLOSE_WAIT, shell.stopped()).await;
            });
            let _ = done.send(());
        })?;
    Ok(stopped)
}

/// Waits for a datagram on `udp`, or forever without one.
async fn recv(udp: Option<&UdpSocket>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match udp {
        Some(sock) => sock.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

impl Engine {
    async fn run(
        mut self,
        udp: Option<UdpSocket>,
        mut inbound: mpsc::Receiver<Inbound>,
        shutdown: CancellationToken,
    ) {
        let udp = udp.as_ref();
        let mut buf = vec![0u8; 65_536];
        // The sleep is moved only when the endpoint's next timer changes.
        let never = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        let sleep = tokio::time::sleep_until(never);
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            let next = self.endpoint.poll_timeout();
            if next != armed {
                armed = next;
                let at = next.map_or(never, tokio::time::Instant::from_std);
                sleep.as_mut().reset(at);
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                received = recv(udp, &mut buf) => {
                    match received {
                        Ok((n, src)) => self.datagram(&buf[..n], src, udp).await,
                        // ICMP errors surface here on some systems; keep serving.
                        Err(e) => debug!(error = %e, "UDP receive error"),
                    }
                    // What else has arrived, without waiting.
                    for _ in 1..UDP_BATCH {
                        let Some(Ok((n, src))) = udp.map(|s| s.try_recv_from(&mut buf)) else {
                            break;
                        };
                        self.datagram(&buf[..n], src, udp).await;
                    }
                }
                Some(work) = inbound.recv() => self.inbound(work, udp).await,
                () = &mut sleep, if armed.is_some() => {
                    let ep = &mut self.endpoint;
                    let out = &mut self.out;
                    let run = AssertUnwindSafe(|| ep.handle_timeout(Instant::now(), SystemTime::now(), out));
                    let panicked = catch_unwind(run).is_err();
                    self.contain(panicked, Panic::Message, "running timers");
                    // INVITEs whose verification ran out of time waited for it: not
                    // the pipeline's time.
                    self.endpoint.take_signed();
                    self.flush(udp).await;
                    // The same instant stays armed: force a fresh look at the next timer.
                    armed = None;
                    sleep.as_mut().reset(never);
                }
            }
        }
    }

    async fn datagram(&mut self, bytes: &[u8], src: SocketAddr, udp: Option<&UdpSocket>) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return; // keep-alive
        }
        let peer = Peer {
            transport: Transport::Udp,
            addr: src,
        };
        self.message(peer, bytes, udp).await;
    }

    /// Runs the endpoint on one message; a panic is contained, logged and counted, and
    /// the engine goes on serving.
    async fn message(&mut self, peer: Peer, bytes: &[u8], udp: Option<&UdpSocket>) {
        let ep = &mut self.endpoint;
        let out = &mut self.out;
        let now = Instant::now();
        let run = AssertUnwindSafe(|| ep.handle(peer, bytes, now, SystemTime::now(), out));
        match catch_unwind(run) {
            Ok(Some(verify)) => self.shell.spawn_verification(verify),
            Ok(None) => {}
            Err(_) => self.contain(true, Panic::Message, "handling a message"),
        }
        self.timed(now);
        self.flush(udp).await;
    }

    async fn inbound(&mut self, work: Inbound, udp: Option<&UdpSocket>) {
        match work {
            Inbound::Message { peer, bytes } => self.message(peer, &bytes, udp).await,
            Inbound::Verified { id, verdict } => {
                let ep = &mut self.endpoint;
                let out = &mut self.out;
                let now = Instant::now();
                let run =
                    AssertUnwindSafe(|| ep.verified(id, &verdict, now, SystemTime::now(), out));
                let panicked = catch_unwind(run).is_err();
                self.contain(
                    panicked,
                    Panic::VerifiedRequest,
                    "completing a verified request",
                );
                self.timed(now);
                self.flush(udp).await;
            }
            Inbound::Send(o) => {
                self.out.push(o);
                self.flush(udp).await;
            }
        }
    }

    /// Counts the time since `started` in the pipeline histogram when the endpoint
    /// has just signed and forwarded an initial INVITE: from its arrival (or its
    /// verdict's) to the forwarded bytes.
    fn timed(&mut self, started: Instant) {
        if self.endpoint.take_signed() {
            let took = started.elapsed().as_secs_f64();
            self.endpoint.ctx.metrics.pipeline_seconds.observe(took);
        }
    }

    /// After a panic: drops what the endpoint was about to send, counts and logs it.
    fn contain(&mut self, panicked: bool, stage: Panic, doing: &str) {
        if panicked {
            self.out.clear();
            self.endpoint.ctx.metrics.panicked(stage);
            error!(stage = stage.as_str(), "{doing} panicked; dropped");
        }
    }

    /// Sends what the endpoint returned: UDP from here, the rest through the shell.
    async fn flush(&mut self, udp: Option<&UdpSocket>) {
        let mut out = std::mem::take(&mut self.out);
        for o in out.drain(..) {
            let peer = match o.to {
                Dest::Peer(peer) => peer,
                Dest::Name {
                    host,
                    port,
                    transport,
                } => match self.shell.resolved(&host, port) {
                    Some(addr) => Peer { transport, addr },
                    None => {
                        self.shell.resolve_and_send(host, port, transport, o.bytes);
                        continue;
                    }
                },
            };
            match (peer.transport, udp) {
                (Transport::Udp, Some(sock)) => {
                    if let Err(e) = sock.send_to(&o.bytes, peer.addr).await {
                        warn!(to = %peer.addr, error = %e, "UDP send failed");
                    }
                }
                (Transport::Udp, None) => {
                    warn!(to = %peer.addr, "no UDP listener: message dropped")
                }
                (Transport::Tcp | Transport::Tls, _) => self.shell.send_stream(peer, o.bytes),
            }
        }
        self.out = out;
    }
}
