//! Proxy transactions (RFC 3261 section 17, RFC 6026): one entry pairs the server
//! transaction facing the sender with the client transaction facing the next hop.
//!
//! Pure state machines: events and `now` in, [`Output`]s out. [`super::table::Table`]
//! holds the entries and their timer queue.

use std::time::{Duration, Instant};

use super::route::framing;
use super::settings::Timers;
use super::{Dest, Output, Peer, Transport};
use crate::metrics::Timeout;
use crate::sip::{self, HeaderName, Message, Method, build_ack, build_cancel, build_response};

/// Identifies a server transaction (RFC 3261 17.2.3): branch, sent-by and method, with
/// ACK and CANCEL matched against their INVITE by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    branch: Box<str>,
    sent_by: Box<str>,
    method: Method,
}

impl ServerKey {
    /// The key of `msg`'s transaction; `method` overrides the request's own (ACK and
    /// CANCEL look up their INVITE).
    pub fn of(msg: &Message<'_>, method: Method) -> Option<ServerKey> {
        let via = msg.top_via().ok()?;
        let branch: Box<str> = match via.branch {
            Some(b) if b.starts_with("z9hG4bK") => b.into(),
            // RFC 2543 peers: fall back to the dialog and sequence fields.
            _ => format!(
                "{}|{}|{}",
                msg.call_id(),
                msg.cseq().0,
                msg.from().ok().and_then(|f| f.tag()).unwrap_or("")
            )
            .into(),
        };
        let sent_by = match via.port {
            Some(p) => format!("{}:{p}", via.host),
            None => via.host.to_string(),
        };
        Some(ServerKey {
            branch,
            sent_by: sent_by.to_ascii_lowercase().into(),
            method,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    Invite,
    NonInvite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Trying,
    Proceeding,
    Completed,
    Accepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cancel {
    None,
    Pending,
    Sent(Vec<u8>),
}

/// A timer that fired and needs a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    TimerB,
    TimerC,
    TimerF,
}

impl From<Expiry> for Timeout {
    fn from(e: Expiry) -> Timeout {
        match e {
            Expiry::TimerB => Timeout::TimerB,
            Expiry::TimerC => Timeout::TimerC,
            Expiry::TimerF => Timeout::TimerF,
        }
    }
}

/// What a timer run produced.
#[derive(Debug, Default)]
pub struct Fired {
    pub remove: bool,
    pub expired: Option<Expiry>,
    /// The request moved on to the next origination URL.
    pub failed_over: bool,
}

/// What a new transaction starts from.
#[derive(Debug)]
pub struct NewTxn {
    pub id: u64,
    pub key: ServerKey,
    pub kind: TxnKind,
    /// Where the request came from, and responses go.
    pub peer: Peer,
    /// The request as received.
    pub request: Vec<u8>,
    pub dest: Dest,
    /// The request as forwarded.
    pub forwarded: Vec<u8>,
    /// For an INVITE, the `100 Trying` already sent, repeated on retransmissions.
    pub trying: Vec<u8>,
    /// The loop hash in our branch: a response must carry it to match.
    pub branch_hash: u64,
    /// To-tag for responses we generate in this transaction.
    pub to_tag: String,
    /// Next hops to fail over to, in order, each with the request as it goes there.
    pub alternates: Vec<(Dest, Vec<u8>)>,
    /// `Reason` values for the first response back to the peer other than 100: the
    /// verifying role's feedback on failed Identity headers (RFC 9410).
    pub feedback: Vec<String>,
}

/// A next hop given up for the next one: where it was, the request it got, and the ACK
/// of its final response once there is one.
#[derive(Debug)]
struct Abandoned {
    attempt: u32,
    dest: Dest,
    forwarded: Vec<u8>,
    ack: Vec<u8>,
}

/// One proxied transaction.
#[derive(Debug)]
pub struct Txn {
    pub id: u64,
    pub key: ServerKey,
    pub kind: TxnKind,
    /// Where responses go.
    pub peer: Peer,
    /// Where the request went.
    pub dest: Dest,
    pub branch_hash: u64,
    to_tag: String,
    /// Timer C fired: the trunk gets 408 whatever final response the CANCEL brings.
    timer_c_fired: bool,
    /// The request as received; dropped once a final response went to the peer.
    request: Vec<u8>,
    /// The request as forwarded; dropped once a final response came from the next hop.
    forwarded: Vec<u8>,
    client: Client,
    server: Server,
    last_response: Vec<u8>,
    ack: Vec<u8>,
    cancel: Cancel,
    retransmit_at: Option<Instant>,
    retransmit_every: Duration,
    response_at: Option<Instant>,
    response_every: Duration,
    cancel_at: Option<Instant>,
    cancel_every: Duration,
    cancel_until: Option<Instant>,
    timeout_at: Option<Instant>,
    timer_c_at: Option<Instant>,
    expire_at: Option<Instant>,
    scheduled: Option<Instant>,
    /// Which next hop the client side talks to: 0 for the first, then one per failover.
    attempt: u32,
    alternates: std::collections::VecDeque<(Dest, Vec<u8>)>,
    abandoned: Vec<Abandoned>,
    /// `Reason` values the next response to the peer (other than 100) takes, once.
    feedback: Vec<String>,
    /// Answered here without going anywhere ([`Txn::answered`]): no next hop's
    /// response belongs to it.
    local: bool,
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn due(t: Option<Instant>, now: Instant) -> bool {
    t.is_some_and(|t| t <= now)
}

/// The response for the previous hop on `to`, our (top) Via removed and a `Reason` line
/// added for each of `reasons`. A 503 becomes a 500 (RFC 3261 16.7 item 6): the next
/// hop's overload is not ours to report.
pub fn relay_response(resp: &Message<'_>, to: Transport, reasons: &[String]) -> Vec<u8> {
    let status = (resp.status() == Some(503)).then_some((500, "Server Internal Error"));
    sip::pop_via(resp, framing(to), status, &reason_lines(reasons))
}

/// Builds a response of our own to `request` bytes, with To-tag `tag` and a `Reason`
/// line for each of `reasons`.
pub fn local_response(
    request: &[u8],
    status: u16,
    reason: &str,
    tag: &str,
    reasons: &[String],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(request.len().min(1024));
    if let Ok(req) = Message::parse(request) {
        build_response(
            &req,
            status,
            reason,
            Some(tag),
            &reason_lines(reasons),
            &mut out,
        );
    }
    out
}

fn reason_lines(reasons: &[String]) -> Vec<(HeaderName, &str)> {
    reasons
        .iter()
        .map(|r| (HeaderName::Reason, r.as_str()))
        .collect()
}

impl Txn {
    /// A transaction for a request just forwarded.
    pub fn new(n: NewTxn, now: Instant, t: &Timers) -> Txn {
        let NewTxn {
            id,
            key,
            kind,
            peer,
            request,
            dest,
            forwarded,
            trying,
            branch_hash,
            to_tag,
            alternates,
            feedback,
        } = n;
        let udp_out = dest.transport() == Transport::Udp;
        Txn {
            id,
            key,
            kind,
            peer,
            dest,
            branch_hash,
            to_tag,
            timer_c_fired: false,
            request,
            forwarded,
            client: Client::Trying,
            server: Server::Proceeding,
            last_response: trying,
            ack: Vec::new(),
            cancel: Cancel::None,
            retransmit_at: udp_out.then(|| now + t.t1),
            retransmit_every: t.t1,
            response_at: None,
            response_every: t.t1,
            cancel_at: None,
            cancel_every: t.t1,
            cancel_until: None,
            timeout_at: Some(now + t.t64()),
            timer_c_at: (kind == TxnKind::Invite).then(|| now + t.timer_c),
            expire_at: None,
            scheduled: None,
            attempt: 0,
            alternates: alternates.into(),
            abandoned: Vec::new(),
            feedback,
            local: false,
        }
    }

    /// An INVITE transaction that never went anywhere and ends here with `487 Request
    /// Terminated`: a CANCEL came while its Identity headers were being verified. The
    /// server side then runs as for any final response (Timer G, H and the ACK).
    #[allow(clippy::too_many_arguments)]
    pub fn answered(
        id: u64,
        key: ServerKey,
        peer: Peer,
        request: Vec<u8>,
        to_tag: String,
        now: Instant,
        t: &Timers,
        out: &mut Vec<Output>,
    ) -> Txn {
        let mut txn = Txn::local(id, key, peer, request, to_tag, now, t);
        txn.respond_final(487, "Request Terminated", now, t, out);
        txn
    }

    /// An INVITE transaction answered here with the final `response` (a redirect
    /// trunk's 302), which retransmissions of the INVITE get again, Timer G repeats over
    /// UDP until the ACK, and whose ACK is absorbed.
    #[allow(clippy::too_many_arguments)]
    pub fn answered_with(
        id: u64,
        key: ServerKey,
        peer: Peer,
        to_tag: String,
        response: Vec<u8>,
        now: Instant,
        t: &Timers,
        out: &mut Vec<Output>,
    ) -> Txn {
        let mut txn = Txn::local(id, key, peer, Vec::new(), to_tag, now, t);
        txn.finish_server(response, now, t, out);
        txn
    }

    /// An INVITE transaction with no client side: nothing is ever sent onwards.
    fn local(
        id: u64,
        key: ServerKey,
        peer: Peer,
        request: Vec<u8>,
        to_tag: String,
        now: Instant,
        t: &Timers,
    ) -> Txn {
        let mut txn = Txn::new(
            NewTxn {
                id,
                key,
                kind: TxnKind::Invite,
                peer,
                request,
                // No client side: nothing is ever sent there.
                dest: Dest::Peer(peer),
                forwarded: Vec::new(),
                trying: Vec::new(),
                branch_hash: 0,
                to_tag,
                alternates: Vec::new(),
                feedback: Vec::new(),
            },
            now,
            t,
        );
        txn.client_done(true);
        txn.client = Client::Completed;
        txn.local = true;
        txn
    }

    /// `resp` as relayed to the peer, with the feedback the transaction still holds
    /// (given to one response only).
    fn relay(&mut self, resp: &Message<'_>) -> Vec<u8> {
        let reasons = std::mem::take(&mut self.feedback);
        relay_response(resp, self.peer.transport, &reasons)
    }

    /// Which next hop the client side talks to: 0 for the first, one more per failover.
    /// Whether the previous hop still waits for this transaction's final response.
    pub fn awaits_final(&self) -> bool {
        self.server == Server::Proceeding
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether a 503 or a silent next hop may send the request to the next one: there
    /// is one, and the call is still wanted (not answered, cancelled or timed out).
    fn can_fail_over(&self) -> bool {
        self.kind == TxnKind::Invite
            && !self.alternates.is_empty()
            && self.server == Server::Proceeding
            && self.cancel == Cancel::None
            && !self.timer_c_fired
    }

    /// Gives up the current next hop (keeping what is needed to ACK its late final
    /// response) and sends the request to the next one, as a new client transaction.
    fn fail_over(&mut self, now: Instant, t: &Timers, out: &mut Vec<Output>) {
        let Some((dest, forwarded)) = self.alternates.pop_front() else {
            return;
        };
        self.abandoned.push(Abandoned {
            attempt: self.attempt,
            dest: std::mem::replace(&mut self.dest, dest),
            forwarded: std::mem::replace(&mut self.forwarded, forwarded),
            ack: std::mem::take(&mut self.ack),
        });
        self.attempt += 1;
        self.client = Client::Trying;
        out.push(Output {
            to: self.dest.clone(),
            bytes: self.forwarded.clone(),
        });
        let udp_out = self.dest.transport() == Transport::Udp;
        self.retransmit_at = udp_out.then(|| now + t.t1);
        self.retransmit_every = t.t1;
        self.timeout_at = Some(now + t.t64());
        self.timer_c_at = Some(now + t.timer_c);
    }

    /// A response from a next hop given up for another: its final non-2xx is ACKed
    /// (again), its 2xx forwarded as any 2xx is (RFC 3261 16.7), the rest dropped.
    fn on_abandoned_response(&mut self, resp: &Message<'_>, attempt: u32, out: &mut Vec<Output>) {
        let Some(status) = resp.status() else {
            return;
        };
        if (200..300).contains(&status) && resp.cseq().1 == Method::Invite {
            let fwd = self.relay(resp);
            out.push(Output::to_peer(self.peer, fwd));
            return;
        }
        if status < 300 || resp.cseq().1 != Method::Invite {
            return;
        }
        let Some(old) = self.abandoned.iter_mut().find(|a| a.attempt == attempt) else {
            return;
        };
        if old.ack.is_empty()
            && let Ok(invite) = Message::parse(&old.forwarded)
        {
            build_ack(&invite, resp, &mut old.ack);
            old.forwarded = Vec::new();
        }
        if !old.ack.is_empty() {
            out.push(Output {
                to: old.dest.clone(),
                bytes: old.ack.clone(),
            });
        }
    }

    /// The next instant a timer of this transaction is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.retransmit_at,
            self.response_at,
            self.cancel_at,
            self.timeout_at,
            self.timer_c_at,
            self.expire_at,
        ]
        .into_iter()
        .fold(None, earliest)
    }

    /// Records that a timer entry for `at` is queued; returns whether the caller must
    /// queue one (nothing earlier is queued yet).
    pub fn needs_schedule(&mut self, now: Instant) -> Option<Instant> {
        let next = self.next_deadline()?;
        match self.scheduled {
            Some(s) if s <= next && s > now => None,
            _ => {
                self.scheduled = Some(next);
                Some(next)
            }
        }
    }

    /// A retransmission of the request from the previous hop: answer it from state.
    pub fn on_retransmission(&self) -> Option<Output> {
        if self.last_response.is_empty() || self.server == Server::Accepted {
            return None;
        }
        Some(Output::to_peer(self.peer, self.last_response.clone()))
    }

    /// An ACK matching this transaction's branch. For our non-2xx final response it stops
    /// the retransmissions (RFC 3261 17.2.1) and is absorbed: returns true. In the
    /// Accepted state it belongs to the 2xx and must be forwarded (RFC 6026): false.
    pub fn on_ack(&mut self) -> bool {
        match self.server {
            Server::Completed => {
                self.server = Server::Confirmed;
                self.response_at = None;
                true
            }
            Server::Confirmed => true,
            Server::Accepted => false,
            // An ACK before any final response is meaningless: absorb it.
            Server::Proceeding => true,
        }
    }

    /// CANCEL from the previous hop (already answered 200 by the caller).
    pub fn on_cancel(&mut self, now: Instant, t: &Timers, out: &mut Vec<Output>) {
        if self.kind != TxnKind::Invite || self.server != Server::Proceeding {
            return;
        }
        match (self.cancel == Cancel::None, self.client) {
            (false, _) => {}
            (true, Client::Proceeding) => self.send_cancel(now, t, out),
            (true, Client::Trying) => self.cancel = Cancel::Pending,
            (true, _) => {}
        }
    }

    fn send_cancel(&mut self, now: Instant, t: &Timers, out: &mut Vec<Output>) {
        let Ok(invite) = Message::parse(&self.forwarded) else {
            return;
        };
        let mut bytes = Vec::with_capacity(512);
        build_cancel(&invite, &mut bytes);
        out.push(Output {
            to: self.dest.clone(),
            bytes: bytes.clone(),
        });
        if self.dest.transport() == Transport::Udp {
            self.cancel_at = Some(now + t.t1);
            self.cancel_every = t.t1;
        }
        self.cancel_until = Some(now + t.t64());
        // If the next hop never answers the INVITE, answer 487 after 64*T1.
        self.timeout_at = Some(now + t.t64());
        self.cancel = Cancel::Sent(bytes);
    }

    fn respond_final(
        &mut self,
        status: u16,
        reason: &str,
        now: Instant,
        t: &Timers,
        out: &mut Vec<Output>,
    ) {
        if self.server != Server::Proceeding {
            return;
        }
        let reasons = std::mem::take(&mut self.feedback);
        let resp = local_response(&self.request, status, reason, &self.to_tag, &reasons);
        self.finish_server(resp, now, t, out);
    }

    /// Sends a final response to the peer and moves the server side to Completed.
    fn finish_server(&mut self, resp: Vec<u8>, now: Instant, t: &Timers, out: &mut Vec<Output>) {
        out.push(Output::to_peer(self.peer, resp.clone()));
        self.last_response = resp;
        self.server = Server::Completed;
        self.request = Vec::new();
        let udp = self.peer.transport == Transport::Udp;
        if self.kind == TxnKind::Invite && udp {
            self.response_at = Some(now + t.t1);
            self.response_every = t.t1;
        }
        // Timer H (INVITE) or J (non-INVITE, UDP): keep answering retransmissions.
        let linger = if self.kind == TxnKind::Invite || udp {
            t.t64()
        } else {
            t.t4
        };
        self.expire_at = Some(now + linger);
    }

    /// Stops the client side's timers. The forwarded request is kept when no final
    /// response arrived, so a late one can still be ACKed.
    fn client_done(&mut self, final_received: bool) {
        self.retransmit_at = None;
        self.timeout_at = None;
        self.timer_c_at = None;
        self.cancel_at = None;
        if final_received {
            self.forwarded = Vec::new();
        }
    }

    /// A response from the next hop (already matched by branch), to the client
    /// transaction of `attempt`.
    pub fn on_response(
        &mut self,
        resp: &Message<'_>,
        attempt: u32,
        now: Instant,
        t: &Timers,
        out: &mut Vec<Output>,
    ) {
        if self.local {
            return;
        }
        if attempt != self.attempt {
            self.on_abandoned_response(resp, attempt, out);
            return;
        }
        let Some(status) = resp.status() else {
            return;
        };
        if resp.cseq().1 == Method::Cancel {
            // The next hop answered our CANCEL: stop retransmitting it.
            self.cancel_at = None;
            return;
        }
        if status < 200 {
            if !matches!(self.client, Client::Trying | Client::Proceeding) {
                return;
            }
            self.client = Client::Proceeding;
            match self.kind {
                TxnKind::Invite => {
                    // Timer B stops; Timer C restarts (RFC 3261 16.7 item 2).
                    self.timeout_at = None;
                    self.retransmit_at = None;
                    if status > 100 {
                        self.timer_c_at = Some(now + t.timer_c);
                    }
                    if self.cancel == Cancel::Pending {
                        self.send_cancel(now, t, out);
                    }
                }
                TxnKind::NonInvite => {
                    // Timer E continues at T2; Timer F keeps running (RFC 3261 17.1.2.2).
                    self.retransmit_every = t.t2;
                }
            }
            // RFC 3261 16.7 step 5: 100 Trying is never forwarded.
            if status > 100 && self.server == Server::Proceeding {
                let fwd = self.relay(resp);
                self.last_response = fwd.clone();
                out.push(Output::to_peer(self.peer, fwd));
            }
            return;
        }
        if self.kind == TxnKind::Invite && status < 300 {
            // 2xx: forwarded every time, retransmissions included (RFC 6026).
            let fwd = self.relay(resp);
            out.push(Output::to_peer(self.peer, fwd));
            if self.client != Client::Accepted {
                self.client_done(true);
                self.client = Client::Accepted;
                self.server = Server::Accepted;
                self.response_at = None;
                self.request = Vec::new();
                self.last_response = Vec::new();
                self.expire_at = Some(now + t.t64());
            }
            return;
        }
        match self.client {
            Client::Trying | Client::Proceeding => {
                if self.kind == TxnKind::Invite
                    && let Ok(invite) = Message::parse(&self.forwarded)
                {
                    let mut ack = Vec::with_capacity(512);
                    build_ack(&invite, resp, &mut ack);
                    out.push(Output {
                        to: self.dest.clone(),
                        bytes: ack.clone(),
                    });
                    self.ack = ack;
                }
                if status == 503 && self.can_fail_over() {
                    self.fail_over(now, t, out);
                    return;
                }
                self.client_done(true);
                self.client = Client::Completed;
                if self.server == Server::Proceeding && self.timer_c_fired {
                    // We gave up on this call at Timer C; the CANCEL's result is ours.
                    self.respond_final(408, "Request Timeout", now, t, out);
                } else if self.server == Server::Proceeding {
                    let fwd = self.relay(resp);
                    self.finish_server(fwd, now, t, out);
                } else if self.expire_at.is_none() {
                    self.expire_at = Some(now + t.t64());
                }
            }
            Client::Completed if self.kind == TxnKind::Invite => {
                // A retransmitted final response, or one arriving after we gave up: ACK it
                // (again), do not forward it.
                if self.ack.is_empty()
                    && let Ok(invite) = Message::parse(&self.forwarded)
                {
                    build_ack(&invite, resp, &mut self.ack);
                    self.forwarded = Vec::new();
                }
                if !self.ack.is_empty() {
                    out.push(Output {
                        to: self.dest.clone(),
                        bytes: self.ack.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    /// Runs every timer that is due.
    pub fn on_timer(&mut self, now: Instant, t: &Timers, out: &mut Vec<Output>) -> Fired {
        let mut fired = Fired::default();
        self.scheduled = None;
        if due(self.retransmit_at, now) {
            out.push(Output {
                to: self.dest.clone(),
                bytes: self.forwarded.clone(),
            });
            self.retransmit_every = match self.kind {
                TxnKind::Invite => self.retransmit_every * 2,
                TxnKind::NonInvite => (self.retransmit_every * 2).min(t.t2),
            };
            self.retransmit_at = Some(now + self.retransmit_every);
        }
        if due(self.timer_c_at, now) {
            // RFC 3261 16.8: with a provisional, CANCEL and wait for the final response
            // (the trunk then gets 408); without one, behave as if a 408 arrived.
            self.timer_c_at = None;
            if self.server == Server::Proceeding {
                fired.expired = Some(Expiry::TimerC);
                self.timer_c_fired = true;
            }
            match (&self.cancel, self.client) {
                (Cancel::None, Client::Proceeding) => self.send_cancel(now, t, out),
                (Cancel::None, _) => {
                    self.client_done(false);
                    self.client = Client::Completed;
                    self.respond_final(408, "Request Timeout", now, t, out);
                }
                _ => {}
            }
        }
        if due(self.timeout_at, now) && self.client == Client::Trying && self.can_fail_over() {
            // Timer B with no answer at all: the next origination URL.
            fired.expired = Some(Expiry::TimerB);
            self.fail_over(now, t, out);
        } else if due(self.timeout_at, now) {
            let cancelled = self.cancel != Cancel::None;
            self.client_done(false);
            self.client = Client::Completed;
            if self.server == Server::Proceeding {
                match self.kind {
                    TxnKind::Invite => {
                        let (status, reason) = if cancelled && !self.timer_c_fired {
                            (487, "Request Terminated")
                        } else {
                            (408, "Request Timeout")
                        };
                        if !cancelled {
                            fired.expired = Some(Expiry::TimerB);
                        }
                        self.respond_final(status, reason, now, t, out);
                    }
                    TxnKind::NonInvite => {
                        // RFC 4320 section 4.2: never a 408 to a non-INVITE request; the
                        // sender's own Timer F ends it. Retransmissions are absorbed.
                        fired.expired = Some(Expiry::TimerF);
                        self.server = Server::Completed;
                        self.request = Vec::new();
                    }
                }
            }
            if self.expire_at.is_none() {
                self.expire_at = Some(now + t.t64());
            }
        }
        if due(self.response_at, now) {
            out.push(Output::to_peer(self.peer, self.last_response.clone()));
            self.response_every = (self.response_every * 2).min(t.t2);
            self.response_at = Some(now + self.response_every);
        }
        if due(self.cancel_at, now) {
            match (&self.cancel, self.cancel_until) {
                (Cancel::Sent(bytes), Some(until)) if until > now => {
                    out.push(Output {
                        to: self.dest.clone(),
                        bytes: bytes.clone(),
                    });
                    self.cancel_every = (self.cancel_every * 2).min(t.t2);
                    self.cancel_at = Some(now + self.cancel_every);
                }
                _ => self.cancel_at = None,
            }
        }
        if due(self.expire_at, now) {
            fired.remove = true;
        }
        fired
    }
}

#[cfg(test)]
#[path = "transaction_tests.rs"]
mod tests;
