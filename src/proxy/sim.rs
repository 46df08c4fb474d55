//! An in-memory network for driving an [`Endpoint`] on a virtual clock: a caller (the
//! trunk at [`TRUNK`]), callsign, and a callee (the carrier at [`CARRIER`]) exchanging
//! datagrams over links that can delay, reorder and lose them. Time moves only when the
//! simulation moves it, to the next delivery or the endpoint's next timer, so a test of
//! Timer B runs in microseconds. The caller is scripted by the test; the callee answers
//! by a policy the test chooses.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::testing::{CARRIER, TRUNK, context_with, udp, wall};
use super::{Dest, Endpoint, Output, Peer, Settings};
use crate::sip::{Message, Method, build_response};

/// Who sent or got a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Party {
    Caller,
    Proxy,
    Callee,
}

/// What the callee does with each request it gets: the responses to send back, each
/// after a delay.
pub type Policy = Box<dyn FnMut(&Message<'_>) -> Vec<(Duration, Vec<u8>)>>;

/// Decides each datagram's fate on the wire: `None` loses it, `Some(d)` delivers it
/// after `d`.
pub type Link = Box<dyn FnMut(Party, Party, &[u8]) -> Option<Duration>>;

/// A datagram on its way.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    seq: u64,
    from: Party,
    to: Party,
    bytes: Vec<u8>,
}

/// One datagram as a party got it.
#[derive(Debug, Clone)]
pub struct Got {
    pub at: Instant,
    pub bytes: Vec<u8>,
}

impl Got {
    pub fn first_line(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        text.lines().next().unwrap_or_default().to_owned()
    }
}

pub struct Sim {
    pub start: Instant,
    pub now: Instant,
    pub proxy: Endpoint,
    wire: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    link: Link,
    callee: Policy,
    pub caller_got: Vec<Got>,
    pub callee_got: Vec<Got>,
}

/// One millisecond each way, nothing lost.
pub fn perfect_link() -> Link {
    Box::new(|_, _, _| Some(Duration::from_millis(1)))
}

/// A callee that never answers.
pub fn silent() -> Policy {
    Box::new(|_| Vec::new())
}

/// `status` to `req`, with To-tag `callee` on final responses.
pub fn answer(req: &Message<'_>, status: u16, reason: &str) -> Vec<u8> {
    let tag = (status > 100).then_some("callee");
    let mut out = Vec::new();
    build_response(req, status, reason, tag, &[], &mut out);
    out
}

/// A callee that answers each INVITE with 180 and then 200 after `ring`, and every
/// other request except ACK with 200 at once.
pub fn answering(ring: Duration) -> Policy {
    Box::new(move |req| match req.method() {
        Some(Method::Invite) => vec![
            (Duration::ZERO, answer(req, 180, "Ringing")),
            (ring, answer(req, 200, "OK")),
        ],
        Some(Method::Ack) | None => Vec::new(),
        Some(_) => vec![(Duration::ZERO, answer(req, 200, "OK"))],
    })
}

fn addr(party: Party) -> SocketAddr {
    match party {
        Party::Caller => TRUNK,
        Party::Callee => CARRIER,
        Party::Proxy => "127.0.0.1:5060",
    }
    .parse()
    .expect("address")
}

impl Sim {
    /// The sample deployment (see [`super::testing::settings`]), its settings changed
    /// by `edit`, over `link`, with a callee acting by `callee`.
    pub fn new(edit: impl FnOnce(&mut Settings), link: Link, callee: Policy) -> Sim {
        let (ctx, _) = context_with(edit);
        let start = Instant::now();
        Sim {
            start,
            now: start,
            proxy: Endpoint::new(Arc::new(ctx)),
            wire: BinaryHeap::new(),
            seq: 0,
            link,
            callee,
            caller_got: Vec::new(),
            callee_got: Vec::new(),
        }
    }

    /// From now on the callee acts by `callee`.
    pub fn set_callee(&mut self, callee: Policy) {
        self.callee = callee;
    }

    /// The time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn put(&mut self, from: Party, to: Party, bytes: Vec<u8>, after: Duration) {
        let Some(delay) = (self.link)(from, to, &bytes) else {
            return;
        };
        self.seq += 1;
        self.wire.push(Reverse(InFlight {
            at: self.now + after + delay,
            seq: self.seq,
            from,
            to,
            bytes,
        }));
    }

    /// The caller sends `text` to callsign now.
    pub fn caller_sends(&mut self, text: &str) {
        self.put(
            Party::Caller,
            Party::Proxy,
            text.as_bytes().to_vec(),
            Duration::ZERO,
        );
    }

    fn proxy_sent(&mut self, out: Vec<Output>) {
        for o in out {
            let to = match o.to {
                Dest::Peer(Peer { addr: a, .. }) if a == addr(Party::Caller) => Party::Caller,
                Dest::Peer(Peer { addr: a, .. }) if a == addr(Party::Callee) => Party::Callee,
                other => panic!("sent somewhere the simulation has nobody: {other:?}"),
            };
            self.put(Party::Proxy, to, o.bytes, Duration::ZERO);
        }
    }

    /// Runs every delivery and timer up to `until`, then sets the clock there.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            let wire = self.wire.peek().map(|Reverse(d)| d.at);
            let timer = self.proxy.poll_timeout();
            let next = match (wire, timer) {
                (Some(w), Some(t)) => w.min(t),
                (w, t) => match w.or(t) {
                    Some(n) => n,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            let mut out = Vec::new();
            if wire == Some(next) {
                let Some(Reverse(d)) = self.wire.pop() else {
                    break;
                };
                self.deliver(d, &mut out);
            } else {
                self.proxy.handle_timeout(self.now, wall(), &mut out);
            }
            self.proxy_sent(out);
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    fn deliver(&mut self, d: InFlight, out: &mut Vec<Output>) {
        let got = Got {
            at: self.now,
            bytes: d.bytes,
        };
        match d.to {
            Party::Proxy => {
                let src = udp(&addr(d.from).to_string());
                let verify = self.proxy.handle(src, &got.bytes, self.now, wall(), out);
                assert!(verify.is_none(), "no verifying trunk in the simulation");
            }
            Party::Caller => self.caller_got.push(got),
            Party::Callee => {
                let replies = match Message::parse(&got.bytes) {
                    Ok(m) if m.is_request() => (self.callee)(&m),
                    _ => Vec::new(),
                };
                self.callee_got.push(got);
                for (after, bytes) in replies {
                    self.put(Party::Callee, Party::Proxy, bytes, after);
                }
            }
        }
    }

    /// The first lines the callee got, in order.
    pub fn callee_lines(&self) -> Vec<String> {
        self.callee_got.iter().map(Got::first_line).collect()
    }

    /// The first lines the caller got, in order.
    pub fn caller_lines(&self) -> Vec<String> {
        self.caller_got.iter().map(Got::first_line).collect()
    }

    /// When (since the start) the callee got each datagram whose first line starts
    /// with `prefix`.
    pub fn callee_times(&self, prefix: &str) -> Vec<Duration> {
        self.callee_got
            .iter()
            .filter(|g| g.first_line().starts_with(prefix))
            .map(|g| g.at - self.start)
            .collect()
    }

    /// The callee's ACK or BYE for the last response the caller got from the INVITE's
    /// dialog: the caller's request `method` in the dialog, routed by its Record-Route.
    pub fn caller_in_dialog(&self, method: &str, cseq: u32) -> String {
        let last = self
            .caller_got
            .iter()
            .rev()
            .find(|g| g.first_line().starts_with("SIP/2.0 2"))
            .expect("a 2xx for the caller");
        let resp = Message::parse(&last.bytes).expect("the 2xx parses");
        let to = resp.to_tag().unwrap_or_default();
        format!(
            "{method} sip:2155550131@{CARRIER} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-{method}-{cseq};rport\r\n\
             Route: <sip:127.0.0.1:5060;transport=udp;lr>\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:2155550121@127.0.0.1>;tag=a1\r\n\
             To: <sip:2155550131@carrier.example>;tag={to}\r\n\
             Call-ID: {}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            resp.call_id()
        )
    }
}
