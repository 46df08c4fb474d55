//! The proxy core: parses each received message, matches it to a transaction or runs the
//! pipeline, and returns what to send. Shared by every transport task; no sockets.

use std::time::{Instant, SystemTime};

use tracing::{debug, warn};

use super::context::Context;
use super::pipeline::{self, Action, Signing};
use super::route::via_peer;
use super::table::{Reservation, Table};
use super::transaction::{Kind, LOCAL_TAG_PREFIX, NewTxn, ServerKey, Txn, pop_via};
use super::{Output, Peer};
use crate::sip::{HeaderName, Message, Method, build_response};

/// The proxy's state: context plus transaction table.
pub struct Core {
    pub ctx: Context,
    pub table: Table,
}

impl Core {
    pub fn new(ctx: Context) -> Core {
        Core {
            ctx,
            table: Table::new(),
        }
    }

    /// Handles one received message. `now` drives transaction timers, `wall` is the
    /// signing time.
    pub fn handle(
        &self,
        src: Peer,
        bytes: &[u8],
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let started = Instant::now();
        if bytes.len() > self.ctx.max_message_size {
            self.ctx.metrics.parse_error("oversized");
            warn!(src = %src.addr, len = bytes.len(), "oversized message");
            if let Some(resp) = bare_response(bytes, 513, "Message Too Large") {
                out.push(Output::to_peer(src, resp));
            }
            return;
        }
        let msg = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                let is_response = bytes.starts_with(b"SIP/");
                self.ctx
                    .metrics
                    .parse_error(if is_response { "response" } else { "request" });
                warn!(src = %src.addr, error = %e, "malformed message");
                if !is_response && let Some(resp) = bare_response(bytes, 400, e.reason_phrase()) {
                    out.push(Output::to_peer(src, resp));
                }
                return;
            }
        };
        if msg.is_request() {
            let signed = self.on_request(&msg, src, now, wall, out);
            if signed {
                self.ctx
                    .metrics
                    .pipeline_seconds
                    .observe(started.elapsed().as_secs_f64());
            }
        } else {
            self.on_response(&msg, now, out);
        }
    }

    /// Runs the transaction timers that are due.
    pub fn on_timers(&self, now: Instant, out: &mut Vec<Output>) {
        for id in self.table.due(now) {
            if let Some(fired) = self.table.fire(id, now, &self.ctx.timers, out)
                && let Some(expiry) = fired.expired
            {
                self.ctx.metrics.timeout(expiry.as_str());
            }
        }
        self.ctx.metrics.transactions.set(self.table.len() as i64);
    }

    /// Returns whether the request was an initial INVITE that went through signing.
    fn on_request(
        &self,
        msg: &Message<'_>,
        src: Peer,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(method) = msg.method() else {
            return false;
        };
        let t = &self.ctx.timers;
        match method {
            Method::Ack => {
                let matched = ServerKey::of(msg, Method::Invite)
                    .and_then(|k| self.table.lookup(&k))
                    .and_then(|id| self.table.with(id, now, |txn| txn.on_ack()));
                let ours = msg
                    .to_tag()
                    .is_some_and(|t| t.starts_with(LOCAL_TAG_PREFIX));
                if matched.is_some() || ours {
                    return false;
                }
                // ACK for a 2xx: an in-dialog request of its own, forwarded statelessly.
                if let Action::Forward(f) =
                    pipeline::decide(&self.ctx, msg, src, self.table.next_id(), wall)
                {
                    out.push(Output {
                        to: f.dest,
                        bytes: f.bytes,
                    });
                }
                return false;
            }
            Method::Cancel => {
                let id = ServerKey::of(msg, Method::Invite).and_then(|k| self.table.lookup(&k));
                let mut resp = Vec::with_capacity(512);
                match id {
                    Some(id) => {
                        build_response(msg, 200, "OK", None, &[], &mut resp);
                        out.push(Output::to_peer(src, resp));
                        self.table.with(id, now, |txn| txn.on_cancel(now, t, out));
                    }
                    None => {
                        build_response(
                            msg,
                            481,
                            "Call/Transaction Does Not Exist",
                            None,
                            &[],
                            &mut resp,
                        );
                        out.push(Output::to_peer(src, resp));
                    }
                }
                return false;
            }
            _ => {}
        }
        let Some(key) = ServerKey::of(msg, method) else {
            self.ctx.metrics.parse_error("request");
            return false;
        };
        if self.table.len() >= self.ctx.max_transactions {
            self.ctx.metrics.rejected("overloaded");
            warn!(call_id = msg.call_id(), "transaction table full: 503");
            let mut resp = Vec::with_capacity(512);
            build_response(
                msg,
                503,
                "Service Unavailable",
                None,
                &[("Retry-After", "5")],
                &mut resp,
            );
            out.push(Output::to_peer(src, resp));
            return false;
        }
        let id = match self.table.reserve(key.clone()) {
            Reservation::Existing(id) => {
                self.ctx.metrics.retransmissions_absorbed.inc();
                let resend = self
                    .table
                    .with(id, now, |txn| txn.on_retransmission())
                    .flatten();
                debug!(call_id = msg.call_id(), "retransmission absorbed");
                out.extend(resend);
                return false;
            }
            Reservation::New(id) => id,
        };
        let initial_invite = method == Method::Invite && msg.to_tag().is_none();
        match pipeline::decide(&self.ctx, msg, src, id, wall) {
            Action::Respond {
                status,
                reason,
                cause,
            } => {
                self.table.release(&key);
                self.ctx.metrics.rejected(cause);
                let mut resp = Vec::with_capacity(512);
                let tag = format!("{LOCAL_TAG_PREFIX}{id:x}");
                build_response(msg, status, &reason, Some(&tag), &[], &mut resp);
                out.push(Output::to_peer(src, resp));
                false
            }
            Action::Forward(f) => {
                let kind = if method == Method::Invite {
                    Kind::Invite
                } else {
                    Kind::NonInvite
                };
                let mut trying = Vec::new();
                if kind == Kind::Invite {
                    build_response(msg, 100, "Trying", None, &[], &mut trying);
                    out.push(Output::to_peer(src, trying.clone()));
                }
                out.push(Output {
                    to: f.dest.clone(),
                    bytes: f.bytes.clone(),
                });
                let txn = Txn::new(
                    NewTxn {
                        id,
                        key,
                        kind,
                        peer: src,
                        request: msg.buf().to_vec(),
                        dest: f.dest,
                        forwarded: f.bytes,
                        trying,
                    },
                    now,
                    t,
                );
                self.table.insert(txn, now);
                initial_invite && matches!(f.signing, Some(Signing::Signed(_)))
            }
        }
    }

    fn on_response(&self, msg: &Message<'_>, now: Instant, out: &mut Vec<Output>) {
        let Ok(via) = msg.top_via() else {
            self.ctx.metrics.parse_error("response");
            return;
        };
        let id = via.branch.and_then(pipeline::branch_id);
        let ours = id.is_some() && self.ctx.is_us(via.host, via.port);
        if !ours {
            self.ctx.metrics.parse_error("response_not_ours");
            debug!(
                call_id = msg.call_id(),
                "response whose top Via is not ours dropped"
            );
            return;
        }
        let t = &self.ctx.timers;
        let handled = id.and_then(|id| {
            self.table
                .with(id, now, |txn| txn.on_response(msg, now, t, out))
        });
        if handled.is_none() {
            // No transaction (a 2xx retransmission after it ended): forward statelessly
            // by the next Via (RFC 3261 16.11).
            if let Some(next) = msg
                .vias()
                .nth(1)
                .and_then(Result::ok)
                .and_then(|v| via_peer(&v))
            {
                out.push(Output::to_peer(next, pop_via(msg)));
            }
        }
    }
}

/// A response to a request that could not be parsed (or is too large to process),
/// built from its raw Via, From, To, Call-ID and CSeq lines. None when those cannot be
/// found, since then the response could not be routed.
pub fn bare_response(bytes: &[u8], status: u16, reason: &str) -> Option<Vec<u8>> {
    if bytes.starts_with(b"SIP/") {
        return None;
    }
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len().min(8192));
    let head = std::str::from_utf8(bytes.get(..end)?).ok()?;
    let mut out = format!("SIP/2.0 {status} {reason}\r\n").into_bytes();
    let mut have_via = false;
    for line in head.split("\r\n").skip(1) {
        let Some((name, _)) = line.split_once(':') else {
            continue;
        };
        let keep = matches!(
            HeaderName::parse(name.trim()),
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
        );
        if keep {
            have_via |= HeaderName::parse(name.trim()) == HeaderName::Via;
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    if !have_via {
        return None;
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Some(out)
}
