//! The proxy's protocol endpoint: parses each received message, matches it to a
//! transaction or runs the pipeline, and returns what to send. It owns its transaction
//! table and timers and is driven from outside, in the manner of `quinn-proto`'s
//! `Endpoint`: bytes and the time go in, datagrams to send come out, and
//! [`Endpoint::poll_timeout`] says when it next needs to run. It reads no clock and
//! touches no socket, so tests drive it on a virtual clock.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, warn};

use super::context::Context;
use super::context::PeerClass;
use super::pipeline::{self, Action, Signing, request_host};
use super::route::via_peer;
use super::settings::Role;
use super::table::{Due, Table, Verifying};
use super::transaction::{NewTxn, ServerKey, Txn, TxnKind, relay_response};
use super::{Output, Peer};
use crate::clock::unix_seconds;
use crate::metrics::{Discarded, Rejected, Timeout};
use crate::sip::{
    HeaderName, Message, Method, Rport, bare_response, build_response, build_response_lines,
};
use crate::verify::Verdict;
use crate::verify::{self, Expected};

/// What an initial INVITE from a verifying trunk needs verified before it goes on: its
/// Identity headers and the numbers their PASSporTs must carry. The driver verifies
/// them (which may need certificate fetches) and hands the verdict to
/// [`Endpoint::verified`]; meanwhile the INVITE waits in the endpoint's table.
#[derive(Debug)]
pub struct Verify {
    pub id: u64,
    /// The request's Identity header values.
    pub identities: Vec<String>,
    /// The numbers its PASSporTs must carry.
    pub expected: Expected,
}

/// A new request on its way through [`Endpoint::dispatch`].
struct Job {
    src: Peer,
    reply_to: Peer,
    key: ServerKey,
    id: u64,
    trying_sent: bool,
}

/// What the rest of the process may read of an endpoint, and the drain it obeys: shared,
/// as the endpoint itself belongs to its driver.
#[derive(Default)]
pub struct Status {
    draining: AtomicBool,
    /// The `Retry-After` of the 503s that refuse new requests.
    retry_after: OnceLock<String>,
    /// Transactions whose previous hop waits for a final response: the endpoint's
    /// table counts them here.
    in_flight: Arc<AtomicUsize>,
    /// When the last request of an existing dialog arrived while draining.
    last_request: Mutex<Option<Instant>>,
}

impl Status {
    /// Starts draining: from now on new requests (those without a To tag) are refused
    /// with 503 and `Retry-After: retry_after_secs`, so that callers try another node,
    /// while the transactions in flight and the requests of existing dialogs go on.
    pub fn start_drain(&self, retry_after_secs: u64) {
        let _ = self.retry_after.set(retry_after_secs.to_string());
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Transactions whose previous hop still waits for their final response.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Whether a drain has nothing left to wait for at `now`: no transaction awaits its
    /// final response, and no request of an existing dialog arrived within `quiet` (the
    /// ACK and BYE that follow an answer).
    pub fn drained(&self, now: Instant, quiet: Duration) -> bool {
        let last = self.last_request.lock().map_or(None, |l| *l);
        self.in_flight() == 0 && last.is_none_or(|at| now >= at + quiet)
    }

    fn saw_request(&self, now: Instant) {
        if let Ok(mut last) = self.last_request.lock() {
            *last = Some(last.map_or(now, |at| at.max(now)));
        }
    }
}

/// The proxy's protocol state: context, transaction table and timers.
pub struct Endpoint {
    pub ctx: Arc<Context>,
    pub table: Table,
    status: Arc<Status>,
    /// Whether an initial INVITE was signed and forwarded since the driver last asked
    /// ([`Endpoint::take_signed`]).
    signed: bool,
}

impl Endpoint {
    pub fn new(ctx: Arc<Context>) -> Endpoint {
        let status = Arc::new(Status::default());
        Endpoint {
            table: Table::counting(Arc::clone(&status.in_flight), ctx.max_transactions),
            ctx,
            status,
            signed: false,
        }
    }

    /// Whether the calls since the last call of this signed and forwarded an initial
    /// INVITE: the driver, which owns the clock, times the pipeline by it.
    pub fn take_signed(&mut self) -> bool {
        std::mem::take(&mut self.signed)
    }

    /// The status shared with the rest of the process.
    pub fn status(&self) -> &Arc<Status> {
        &self.status
    }

    /// Handles one received message. `now` drives transaction timers, `wall` is the
    /// signing time. An initial INVITE from a verifying trunk is answered 100 and held;
    /// what it needs verified comes back as a [`Verify`].
    pub fn handle(
        &mut self,
        src: Peer,
        bytes: &[u8],
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) -> Option<Verify> {
        if bytes.len() > self.ctx.max_message_size {
            self.ctx.metrics.parse_error(Discarded::Oversized);
            let kind = Discarded::Oversized.as_str();
            if let Some(suppressed) = self.ctx.noisy(src.addr.ip(), kind, unix_seconds(wall)) {
                warn!(src = %src.addr, len = bytes.len(), suppressed, "oversized message");
            }
            if let Some(resp) = bare_response(bytes, 513, "Message Too Large") {
                out.push(Output::to_peer(src, resp));
            }
            return None;
        }
        let msg = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                let is_response = bytes.starts_with(b"SIP/");
                let cause = if is_response {
                    Discarded::Response
                } else {
                    Discarded::Request
                };
                self.ctx.metrics.parse_error(cause);
                if let Some(suppressed) =
                    self.ctx
                        .noisy(src.addr.ip(), cause.as_str(), unix_seconds(wall))
                {
                    warn!(src = %src.addr, error = %e, suppressed, "malformed message");
                }
                if !is_response
                    && let Some(resp) = bare_response(bytes, e.status(), e.reason_phrase())
                {
                    out.push(Output::to_peer(src, resp));
                }
                return None;
            }
        };
        if msg.is_request() {
            self.on_request(&msg, src, now, wall, out)
        } else {
            self.on_response(&msg, src, now, wall, out);
            None
        }
    }

    /// Finishes an INVITE held for verification with the verdict on its Identity
    /// headers. A verdict that comes after the INVITE went on without it (its wait ran
    /// out) or after a CANCEL ended it finds nothing and is dropped.
    pub fn verified(
        &mut self,
        id: u64,
        verdict: &Verdict,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        if let Some(v) = self.table.take_verifying(id) {
            self.go_on(id, v, verdict, now, wall, out);
        }
    }

    /// Sends a verified INVITE on its way.
    fn go_on(
        &mut self,
        id: u64,
        v: Verifying,
        verdict: &Verdict,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let Ok(msg) = Message::parse(&v.request) else {
            return;
        };
        let job = Job {
            src: v.src,
            reply_to: v.reply_to,
            key: v.key,
            id,
            trying_sent: true,
        };
        self.dispatch(&msg, job, now, wall, Some(verdict), out);
    }

    /// When the endpoint next needs [`Endpoint::handle_timeout`]: the earliest timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.table.next_timer()
    }

    /// Runs the timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant, wall: SystemTime, out: &mut Vec<Output>) {
        let timers = self.ctx.timers;
        while let Some(due) = self.table.fire_next(now, &timers, out) {
            match due {
                Due::Fired(fired) => {
                    if let Some(expiry) = fired.expired {
                        self.ctx.metrics.timeout(expiry.into());
                    }
                    if fired.failed_over {
                        self.ctx.metrics.origination_failovers.inc();
                    }
                }
                Due::VerifyTimeout(id, v) => {
                    // The call does not wait longer: it goes on as if nothing could be
                    // verified, and a verdict that comes later is dropped.
                    self.ctx.metrics.timeout(Timeout::VerifyWait);
                    self.go_on(id, v, &Verdict::no_validation(), now, wall, out);
                }
            }
        }
        self.ctx.metrics.transactions.set(self.table.len() as i64);
    }

    /// Transactions whose previous hop still waits for a final response.
    pub fn in_flight(&self) -> usize {
        self.table.in_flight()
    }

    /// See [`Status::start_drain`].
    pub fn start_drain(&self, retry_after_secs: u64) {
        self.status.start_drain(retry_after_secs);
    }

    /// See [`Status::drained`].
    pub fn drained(&self, now: Instant, quiet: Duration) -> bool {
        self.status.drained(now, quiet)
    }

    /// Answers `msg` 503 Service Unavailable with `Retry-After`, counted under `cause`.
    fn unavailable(
        &self,
        msg: &Message<'_>,
        id: u64,
        reply_to: Peer,
        cause: Rejected,
        retry_after: &str,
        out: &mut Vec<Output>,
    ) {
        self.ctx.metrics.rejected(cause);
        let tag = self.ctx.local_tag(id);
        let mut resp = Vec::with_capacity(512);
        let extra = [(HeaderName::RetryAfter, retry_after)];
        let reason = "Service Unavailable";
        build_response(msg, 503, reason, Some(&tag), &extra, &mut resp);
        out.push(Output::to_peer(reply_to, resp));
    }

    fn on_request(
        &mut self,
        msg: &Message<'_>,
        src: Peer,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) -> Option<Verify> {
        let method = msg.method()?;
        match method {
            Method::Ack => {
                self.on_ack(msg, src, now, wall, out);
                return None;
            }
            Method::Cancel => {
                self.on_cancel(msg, src, now, out);
                return None;
            }
            _ => {}
        }
        let Some(key) = ServerKey::of(msg, method) else {
            self.ctx.metrics.parse_error(Discarded::Request);
            return None;
        };
        let reply_to = response_peer(msg, src);
        if let Some(id) = self.table.lookup(&key) {
            self.ctx.metrics.retransmissions_absorbed.inc();
            let resend = self
                .table
                .with(id, now, |txn| txn.on_retransmission())
                .flatten();
            debug!(call_id = msg.call_id(), "retransmission absorbed");
            match resend {
                Some(o) => out.push(o),
                // Still being verified: the INVITE gets its 100 again.
                None if method == Method::Invite => {
                    let mut trying = Vec::with_capacity(512);
                    build_response(msg, 100, "Trying", None, &[], &mut trying);
                    out.push(Output::to_peer(reply_to, trying));
                }
                None => {}
            }
            return None;
        }
        let id = self.table.next_id();
        if self.status.draining.load(Ordering::Relaxed) {
            if msg.to_tag().is_none() {
                // A new dialog or a standalone request: another node should take it.
                debug!(call_id = msg.call_id(), src = %src.addr, "draining: 503");
                let retry_after = self.status.retry_after.get().map_or("0", String::as_str);
                self.unavailable(msg, id, reply_to, Rejected::Draining, retry_after, out);
                return None;
            }
            // A request within a dialog set up before the drain goes on as usual.
            self.status.saw_request(now);
        }
        if self.table.len() >= self.ctx.max_transactions {
            let cause = Rejected::Overloaded;
            let now_unix = unix_seconds(wall);
            if let Some(suppressed) = self.ctx.noisy(src.addr.ip(), cause.as_str(), now_unix) {
                warn!(call_id = msg.call_id(), src = %src.addr, suppressed, "transaction table full: 503");
            }
            self.unavailable(msg, id, reply_to, cause, "5", out);
            return None;
        }
        // The trunk the pipeline will find (by address, or by domain for trunks with
        // one). A trunk that a request reaches only by digest credentials is not held:
        // verifying before authenticating would let anyone make callsign fetch.
        let verifying = match self
            .ctx
            .classify_request(src.addr.ip(), || request_host(msg))
        {
            PeerClass::Trunk(t) => t.role == Role::Verify || super::policy::verifies(&t, msg),
            _ => false,
        };
        if verifying && method == Method::Invite && msg.to_tag().is_none() {
            // Verification may have to fetch certificates: answer 100 now, and hold the
            // INVITE until the verdict comes or the wait runs out.
            let mut trying = Vec::with_capacity(512);
            build_response(msg, 100, "Trying", None, &[], &mut trying);
            out.push(Output::to_peer(reply_to, trying));
            let held = Verifying {
                key,
                src,
                reply_to,
                request: msg.buf().to_vec(),
                deadline: now + self.ctx.verify_max_wait,
            };
            self.table.insert_verifying(id, held);
            return Some(Verify {
                id,
                identities: verify::identity_values(msg)
                    .into_iter()
                    .map(|v| v.into_owned())
                    .collect(),
                expected: verify::expected_from_message(msg, &self.ctx.numbering),
            });
        }
        let job = Job {
            src,
            reply_to,
            key,
            id,
            trying_sent: false,
        };
        self.dispatch(msg, job, now, wall, None, out);
        None
    }

    /// Decides on a new request and forwards it (creating its transaction) or answers it.
    fn dispatch(
        &mut self,
        msg: &Message<'_>,
        job: Job,
        now: Instant,
        wall: SystemTime,
        verdict: Option<&Verdict>,
        out: &mut Vec<Output>,
    ) {
        let Job {
            src,
            reply_to,
            key,
            id,
            trying_sent,
        } = job;
        let Some(method) = msg.method() else {
            return;
        };
        let initial_invite = method == Method::Invite && msg.to_tag().is_none();
        match pipeline::decide(&self.ctx, msg, src, id, wall, verdict) {
            Action::Respond {
                status,
                reason,
                cause,
                headers,
            } => {
                self.ctx.metrics.rejected(cause);
                let tag = self.ctx.local_tag(id);
                let extra: Vec<(HeaderName, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let mut resp = Vec::with_capacity(512);
                build_response(msg, status, &reason, Some(&tag), &extra, &mut resp);
                out.push(Output::to_peer(reply_to, resp));
            }
            Action::Forward(f) => {
                let kind = if method == Method::Invite {
                    TxnKind::Invite
                } else {
                    TxnKind::NonInvite
                };
                // The request leaves first: the call waits for it, while the 100 only
                // has to beat the caller's first retransmission (T1).
                out.push(Output {
                    to: f.dest.clone(),
                    bytes: f.bytes.clone(),
                });
                let mut trying = Vec::new();
                if kind == TxnKind::Invite {
                    build_response(msg, 100, "Trying", None, &[], &mut trying);
                    if !trying_sent {
                        out.push(Output::to_peer(reply_to, trying.clone()));
                    }
                }
                let txn = Txn::new(
                    NewTxn {
                        id,
                        key,
                        kind,
                        peer: reply_to,
                        request: msg.buf().to_vec(),
                        dest: f.dest,
                        forwarded: f.bytes,
                        trying,
                        branch_hash: f.branch_hash,
                        to_tag: self.ctx.local_tag(id),
                        alternates: f.alternates,
                        feedback: f.feedback,
                    },
                    now,
                    &self.ctx.timers,
                );
                self.table.insert(txn, now);
                if initial_invite && matches!(f.signing, Some(Signing::Signed(_))) {
                    self.signed = true;
                }
            }
            Action::Answer(a) => {
                if let Some(cause) = a.cause {
                    self.ctx.metrics.rejected(cause);
                }
                let tag = self.ctx.local_tag(id);
                let lines: Vec<(&str, &str)> =
                    (a.headers.iter()).map(|(n, v)| (*n, v.as_str())).collect();
                let mut resp = Vec::with_capacity(1024);
                build_response_lines(msg, a.status, a.reason, Some(&tag), &lines, &mut resp);
                if initial_invite && a.status >= 300 {
                    let t = self.ctx.timers;
                    let txn = Txn::answered_with(id, key, reply_to, tag, resp, now, &t, out);
                    self.table.insert(txn, now);
                } else {
                    out.push(Output::to_peer(reply_to, resp));
                }
                if initial_invite && matches!(a.signing, Some(Signing::Signed(_))) {
                    self.signed = true;
                }
            }
        }
    }

    /// The INVITE transaction an ACK or a CANCEL belongs to (the INVITE's server key),
    /// live or being verified.
    fn invite_txn(&self, msg: &Message<'_>) -> Option<u64> {
        ServerKey::of(msg, Method::Invite).and_then(|k| self.table.lookup(&k))
    }

    /// ACK: absorbed when it acknowledges our non-2xx final response (or one we
    /// generated); otherwise it acknowledges a 2xx and is forwarded on its own.
    fn on_ack(
        &mut self,
        msg: &Message<'_>,
        src: Peer,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let absorbed = match self.invite_txn(msg) {
            Some(id) => self.table.with(id, now, |txn| txn.on_ack()).unwrap_or(true),
            None => false,
        };
        let ours = msg
            .to_tag()
            .is_some_and(|t| t.starts_with(self.ctx.local_tag_prefix.as_str()));
        if absorbed || ours {
            return;
        }
        // An ACK is never answered, so a refusal just drops it.
        let id = self.table.next_id();
        if let Action::Forward(f) = pipeline::decide(&self.ctx, msg, src, id, wall, None) {
            out.push(Output {
                to: f.dest,
                bytes: f.bytes,
            });
        }
    }

    /// CANCEL: answered here (RFC 3261 16.10) and sent on by the INVITE's transaction.
    /// An INVITE still being verified has not gone anywhere: it ends here with 487.
    fn on_cancel(&mut self, msg: &Message<'_>, src: Peer, now: Instant, out: &mut Vec<Output>) {
        let reply_to = response_peer(msg, src);
        let id = self.invite_txn(msg);
        let mut resp = Vec::with_capacity(512);
        let Some(id) = id else {
            let tag = self.ctx.local_tag(0);
            let reason = "Call/Transaction Does Not Exist";
            build_response(msg, 481, reason, Some(&tag), &[], &mut resp);
            out.push(Output::to_peer(reply_to, resp));
            return;
        };
        let tag = self.ctx.local_tag(id);
        build_response(msg, 200, "OK", Some(&tag), &[], &mut resp);
        out.push(Output::to_peer(reply_to, resp));
        let t = self.ctx.timers;
        if let Some(v) = self.table.take_verifying(id) {
            let txn = Txn::answered(id, v.key, v.reply_to, v.request, tag, now, &t, out);
            self.table.insert(txn, now);
            return;
        }
        self.table.with(id, now, |txn| txn.on_cancel(now, &t, out));
    }

    fn on_response(
        &mut self,
        msg: &Message<'_>,
        src: Peer,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let Ok(via) = msg.top_via() else {
            self.ctx.metrics.parse_error(Discarded::Response);
            return;
        };
        let parts = via.branch.and_then(pipeline::branch_parts);
        let attempt = via.branch.map_or(0, pipeline::branch_attempt);
        let Some((hash, id)) = parts.filter(|_| self.ctx.is_us(via.host, via.port)) else {
            self.ctx.metrics.parse_error(Discarded::ResponseNotOurs);
            debug!(
                call_id = msg.call_id(),
                "response whose top Via is not ours dropped"
            );
            return;
        };
        let t = self.ctx.timers;
        let metrics = &self.ctx.metrics;
        let handled = self.table.with(id, now, |txn| {
            // The branch must match in full: ids alone are guessable, the keyed hash is not.
            let genuine = txn.branch_hash == hash;
            if genuine {
                let before = txn.attempt();
                txn.on_response(msg, attempt, now, &t, out);
                if txn.attempt() != before {
                    metrics.origination_failovers.inc();
                }
            }
            genuine
        });
        match handled {
            Some(true) => {}
            Some(false) => {
                let kind = Discarded::ResponseForged;
                self.ctx.metrics.parse_error(kind);
                let now_unix = unix_seconds(wall);
                if let Some(suppressed) = self.ctx.noisy(src.addr.ip(), kind.as_str(), now_unix) {
                    warn!(call_id = msg.call_id(), src = %src.addr, suppressed, "response with a forged branch dropped");
                }
            }
            None => self.forward_stateless(msg, out),
        }
    }

    /// A 2xx to an INVITE whose transaction has ended (a retransmission): forwarded by
    /// the next Via (RFC 3261 16.11), but only towards a trunk, so that nobody can use us
    /// to reflect traffic elsewhere.
    fn forward_stateless(&self, msg: &Message<'_>, out: &mut Vec<Output>) {
        let is_2xx = msg.status().is_some_and(|s| (200..300).contains(&s));
        if !is_2xx || msg.cseq().1 != Method::Invite {
            self.ctx
                .metrics
                .parse_error(Discarded::ResponseNoTransaction);
            return;
        }
        let next = msg
            .vias()
            .nth(1)
            .and_then(Result::ok)
            .and_then(|v| via_peer(&v));
        match next {
            Some(peer) if matches!(self.ctx.classify(peer.addr.ip()), PeerClass::Trunk(_)) => {
                out.push(Output::to_peer(
                    peer,
                    relay_response(msg, peer.transport, &[]),
                ));
            }
            _ => self
                .ctx
                .metrics
                .parse_error(Discarded::ResponseNoTransaction),
        }
    }
}

/// Where responses to a request go (RFC 3261 18.2.2, RFC 3581): over a stream, back on
/// the connection it came on; over UDP, to the source address and, unless the sender
/// asked for `rport`, to the port in its Via.
fn response_peer(msg: &Message<'_>, src: Peer) -> Peer {
    if src.transport.is_stream() {
        return src;
    }
    match msg.top_via() {
        Ok(via) if via.rport == Rport::Absent => Peer {
            transport: src.transport,
            addr: SocketAddr::new(src.addr.ip(), via.port.unwrap_or(5060)),
        },
        _ => src,
    }
}

#[cfg(test)]
mod tests;
