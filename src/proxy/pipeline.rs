//! The per-request decision for a request that starts a new transaction: who sent it,
//! whether to refuse it, where it goes, whether to sign it, and the bytes to forward.
//!
//! Pure: bytes, context and the time in; an [`Action`] out. No sockets, no clock.

// A refusal is the `Action` that `decide` returns as it is; boxing it would only add an
// allocation to every refused request.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use tracing::{debug, error, info, warn};

use super::context::{Context, PeerClass, Trunk};
use super::nonce::NonceCheck;
use super::policy::{Treatment, counted};
use super::route::{UriTarget, framing};
use super::settings::{Fallback, IdentityPolicy, OnFailure, Role};
use super::{Dest, Peer, Transport};
use super::{feedback, verstat};
use crate::clock::unix_seconds;
use crate::metrics::{Rejected, Unsigned};
use crate::passport::Claims;
use crate::sip::digest::{self, Algorithm, Credentials};
use crate::sip::{
    Date, Edits, HeaderName, MaxForwards, Message, Method, Route, split_list, stamp_top_via,
};
use crate::tn::{self, Tn};
use crate::trust::{Attestation, DomainTrunk, OriginationTarget, SigningFailure, TrunkHit};
use crate::verify::reason_phrase;
use crate::verify::{Verdict, calling_number};

/// Prefix of every branch we generate: RFC 3261 magic cookie plus our own marker.
pub const BRANCH_PREFIX: &str = "z9hG4bKcs";

/// The outcome of deciding on a new request.
#[derive(Debug)]
pub enum Action {
    Forward(Forward),
    /// Answer the request ourselves; `cause` names the metric label.
    Respond {
        status: u16,
        reason: Cow<'static, str>,
        cause: Rejected,
        /// Extra header lines for the response (e.g. `Unsupported` with a 420).
        headers: Vec<(HeaderName, String)>,
    },
    /// Answer the request ourselves, not as a refusal: a redirect trunk's 302, its
    /// OPTIONS.
    Answer(Answer),
}

/// A response callsign gives on its own behalf.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub reason: &'static str,
    /// Header lines by name, in order.
    pub headers: Vec<(&'static str, String)>,
    /// What happened to the call's signature (a redirect's 302).
    pub signing: Option<Signing>,
    /// The metric label when the answer refuses the request (a redirect trunk's 405).
    pub cause: Option<Rejected>,
}

#[derive(Debug)]
pub struct Forward {
    pub dest: Dest,
    pub bytes: Vec<u8>,
    /// The next hops to try, in order, if `dest` answers 503 or not at all (a trunk's
    /// other origination URLs), each with the request as it goes there.
    pub alternates: Vec<(Dest, Vec<u8>)>,
    pub signing: Option<Signing>,
    /// The loop hash in our branch, which responses must carry to match.
    pub branch_hash: u64,
    /// `Reason` values for the first response back upstream other than 100: a verifying
    /// trunk's report on failed Identity headers (RFC 9410, [`feedback`]).
    pub feedback: Vec<String>,
}

/// How far a signing trunk's Date may be from now, either way, for its INVITE to be
/// signed (RFC 8224 section 4.1 leaves the window to policy; verifiers allow 60 s).
pub const DATE_FRESHNESS_SECS: u64 = 60;

/// What happened to an initial INVITE from a trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    Signed(Attestation),
    /// Its Identity, from the trunk, verified and passed on (the trunk's sign policy).
    PassedThrough,
    /// Forwarded without a signature; the cause is logged and counted.
    Unsigned(Unsigned),
}

/// Builds our branch: the loop-detection hash of the request (RFC 3261 16.6 item 8) and a
/// transaction id the core uses to match responses.
pub fn branch(loop_hash: u64, id: u64) -> String {
    format!("{BRANCH_PREFIX}{loop_hash:016x}.{id:x}")
}

/// The branch of attempt `attempt` (from 1) of a transaction that fails over to the
/// next origination URL: a new client transaction, so a new branch (RFC 3261 16.6
/// item 8), under the same transaction id.
pub fn branch_for_attempt(loop_hash: u64, id: u64, attempt: u32) -> String {
    match attempt {
        0 => branch(loop_hash, id),
        n => format!("{BRANCH_PREFIX}{loop_hash:016x}.{id:x}.{n:x}"),
    }
}

/// The loop hash and transaction id inside one of our branches.
pub fn branch_parts(branch: &str) -> Option<(u64, u64)> {
    let rest = branch.strip_prefix(BRANCH_PREFIX)?;
    let (hash, rest) = rest.split_once('.')?;
    let id = rest.split('.').next()?;
    Some((
        u64::from_str_radix(hash, 16).ok()?,
        u64::from_str_radix(id, 16).ok()?,
    ))
}

/// The attempt a branch of ours belongs to (0 for the first next hop).
pub fn branch_attempt(branch: &str) -> u32 {
    (branch.strip_prefix(BRANCH_PREFIX))
        .and_then(|rest| rest.splitn(3, '.').nth(2))
        .and_then(|n| u32::from_str_radix(n, 16).ok())
        .unwrap_or(0)
}

/// The order in which a call tries `targets` (sorted by priority): lowest priority
/// first, and within one priority a weighted random order drawn from `seed`.
pub fn origination_order(targets: &[OriginationTarget], seed: u64) -> Vec<OriginationTarget> {
    let mut state = seed;
    // splitmix64: a well-spread draw per call from the request's keyed hash.
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(targets.len());
    for group in targets.chunk_by(|a, b| a.priority == b.priority) {
        let mut left: Vec<OriginationTarget> = group.to_vec();
        while !left.is_empty() {
            let total: u64 = left.iter().map(|t| u64::from(t.weight.max(1))).sum();
            let mut pick = next() % total;
            let i = left
                .iter()
                .position(|t| {
                    let w = u64::from(t.weight.max(1));
                    if pick < w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap_or(0);
            out.push(left.remove(i));
        }
    }
    out
}

/// Hash of the fields RFC 3261 16.6 item 8 lists: a request that comes back to us with
/// the same values has looped; with different values it is a spiral. Keyed with the
/// per-process `secret`, so a branch of ours cannot be guessed from outside.
pub fn loop_hash(msg: &Message<'_>, secret: u64) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    secret.hash(&mut h);
    msg.request_uri().hash(&mut h);
    msg.from().ok().and_then(|f| f.tag()).hash(&mut h);
    msg.to_tag().hash(&mut h);
    msg.call_id().hash(&mut h);
    msg.cseq().0.hash(&mut h);
    for v in msg.header_values(HeaderName::Route) {
        v.hash(&mut h);
    }
    for v in msg.header_values(HeaderName::ProxyRequire) {
        v.hash(&mut h);
    }
    h.finish()
}

/// Whether `msg` carries a Via of ours with the same loop hash (RFC 3261 16.3 item 4).
/// Only a request that has passed through us can: most carry none of our branches,
/// and their Vias need no parsing here.
fn looped(ctx: &Context, msg: &Message<'_>, hash: u64) -> bool {
    let been_here = msg
        .header_values(HeaderName::Via)
        .any(|v| v.contains(BRANCH_PREFIX));
    been_here
        && msg.vias().flatten().any(|via| {
            let ours = via.branch.and_then(branch_parts).map(|(h, _)| h);
            ours == Some(hash) && ctx.is_us(via.host, via.port)
        })
}

pub(super) fn respond(
    status: u16,
    reason: impl Into<Cow<'static, str>>,
    cause: Rejected,
) -> Action {
    Action::Respond {
        status,
        reason: reason.into(),
        cause,
        headers: Vec::new(),
    }
}

/// Decides on a request that matched no transaction. `id` is the transaction id the core
/// allocated; `src` is where the request came from; `verdict` is the verification of an
/// initial INVITE from a verifying trunk (absent: `No-TN-Validation`), whose failures
/// the action then carries upstream as configured ([`feedback::attach`]).
pub fn decide(
    ctx: &Context,
    msg: &Message<'_>,
    src: Peer,
    id: u64,
    now: SystemTime,
    verdict: Option<&Verdict>,
) -> Action {
    let mut action = decide_request(ctx, msg, src, id, now, verdict);
    if let Some(verdict) = verdict {
        feedback::attach(ctx.feedback, msg, verdict, &mut action);
    }
    action
}

fn decide_request(
    ctx: &Context,
    msg: &Message<'_>,
    src: Peer,
    id: u64,
    now: SystemTime,
    verdict: Option<&Verdict>,
) -> Action {
    let Some(method) = msg.method() else {
        return respond(400, "Not A Request", Rejected::Malformed);
    };
    let initial = msg.to_tag().is_none();
    let source = ctx.classify_request(src.addr.ip(), || request_host(msg));
    let authenticated: Trunk;
    let mut used_credentials = Vec::new();
    let trunk = match &source {
        PeerClass::Trunk(t) => Some(&**t),
        PeerClass::Authenticate(domain) => {
            used_credentials = match authenticate(ctx, msg, method, src, domain, now) {
                Ok(lines) => lines,
                Err(refusal) => return refusal,
            };
            authenticated = ctx.provisioned(&domain.hit);
            Some(&authenticated)
        }
        PeerClass::Upstream if !initial || method == Method::Ack => None,
        PeerClass::Upstream => {
            let cause = Rejected::UpstreamInitialRequest;
            if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
                warn!(call_id = msg.call_id(), src = %src.addr, suppressed, "initial request from the upstream refused");
            }
            return respond(403, "Forbidden", cause);
        }
        PeerClass::Unknown => {
            let cause = Rejected::ForbiddenSource;
            if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
                warn!(call_id = msg.call_id(), src = %src.addr, method = msg.method_str().unwrap_or("?"), suppressed, "request from an unknown source refused");
            }
            return respond(403, "Forbidden", cause);
        }
    };

    if let Some(t) = trunk
        && t.require_tls
        && src.transport != Transport::Tls
    {
        let cause = Rejected::TlsRequired;
        if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
            warn!(call_id = msg.call_id(), trunk = %t.name, transport = src.transport.as_str(), suppressed, "request from a trunk that requires TLS refused");
        }
        return respond(403, "TLS Required", cause);
    }

    // A redirect trunk's only calls through callsign are the INVITEs it answers.
    if let Some(t) = trunk
        && t.role == Role::Redirect
        && !(initial && method == Method::Invite)
    {
        return super::redirect::answer(ctx, msg, src, t, None, (initial, method), now, None);
    }

    let max_forwards = match msg.max_forwards() {
        Ok(m) => m,
        Err(e) => return respond(400, e.reason_phrase(), Rejected::Malformed),
    };
    if max_forwards.is_some_and(MaxForwards::is_exhausted) {
        return respond(483, "Too Many Hops", Rejected::TooManyHops);
    }
    // RFC 3261 8.2.2.1: a scheme callsign cannot route is 416, whoever sent it and
    // wherever the request would go.
    let routable = msg
        .request_uri()
        .and_then(|uri| uri.split_once(':'))
        .is_some_and(|(scheme, _)| {
            ["sip", "sips", "tel"]
                .iter()
                .any(|s| scheme.eq_ignore_ascii_case(s))
        });
    if !routable {
        return respond(416, "Unsupported URI Scheme", Rejected::Unroutable);
    }

    // RFC 3261 16.3 item 4: we support no proxy extensions.
    let required: Vec<&str> = msg
        .header_values(HeaderName::ProxyRequire)
        .flat_map(split_list)
        .collect();
    if !required.is_empty() {
        return Action::Respond {
            status: 420,
            reason: "Bad Extension".into(),
            cause: Rejected::BadExtension,
            headers: vec![(HeaderName::Unsupported, required.join(", "))],
        };
    }

    let hash = loop_hash(msg, ctx.secret);
    if looped(ctx, msg, hash) {
        let cause = Rejected::LoopDetected;
        if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
            warn!(call_id = msg.call_id(), src = %src.addr, suppressed, "loop detected");
        }
        return respond(482, "Loop Detected", cause);
    }

    let mut edits = Edits::new();
    // Credentials for our realm stop here (RFC 3261 22.3).
    for line in used_credentials {
        edits.remove(line);
    }
    let (routed_via_us, next_hop) = strip_own_routes(ctx, msg, &mut edits);
    if trunk.is_some() && !initial && ctx.record_route && !routed_via_us {
        // In-dialog requests from a trunk must follow our Record-Route; anything else
        // would let a trunk send unsigned requests anywhere by inventing a To tag.
        let cause = Rejected::NoRouteToUs;
        if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
            warn!(call_id = msg.call_id(), src = %src.addr, suppressed, "in-dialog request without our Route refused");
        }
        return respond(403, "Not In A Dialog Through This Proxy", cause);
    }
    // A call to a number on a trunk, taken by a verifying trunk, goes to the number's
    // trunk's origination URLs (the customer's) rather than the arriving trunk's.
    let routed = match trunk {
        Some(t) if initial && method == Method::Invite && t.role == Role::Verify => {
            number_trunk(ctx, msg)
        }
        _ => None,
    };
    if let (Some(t), Some(to)) = (trunk, &routed) {
        ctx.metrics.number_routes.inc();
        debug!(call_id = msg.call_id(), trunk = %t.name, to_trunk = %to.name, "routed by called number");
    }
    let mut others = Vec::new();
    let dest = match (trunk, initial) {
        (Some(t), true) if !t.origination.is_empty() || routed.is_some() => {
            let targets = routed
                .as_deref()
                .map_or(&*t.origination, |h| &*h.origination);
            let peer = |o: &OriginationTarget| {
                let transport = if o.tcp {
                    Transport::Tcp
                } else {
                    Transport::Udp
                };
                Dest::Peer(Peer {
                    transport,
                    addr: o.addr,
                })
            };
            let order = origination_order(targets, hash);
            // Only an INVITE fails over; other requests go to the first.
            if method == Method::Invite {
                others = order[1..].iter().map(peer).collect();
            }
            peer(&order[0])
        }
        (Some(t), true) => Dest::Peer(t.upstream),
        _ => {
            let target = next_hop.or_else(|| msg.request_uri().and_then(UriTarget::parse));
            match target {
                Some(t) => t.dest(),
                None => return respond(416, "Unsupported URI Scheme", Rejected::Unroutable),
            }
        }
    };
    let out_transport = dest.transport();
    if ctx.port(out_transport).is_none() {
        if out_transport == Transport::Tls {
            return respond(503, "TLS Not Supported", Rejected::TlsUnsupported);
        }
        return respond(503, "No Listener For Transport", Rejected::NoTransport);
    }

    let mut via = String::with_capacity(64);
    via.push_str(ctx.via_prefix(out_transport));
    via.push_str(&branch(hash, id));
    edits.prepend(HeaderName::Via, via);
    if let Err(e) = stamp_top_via(msg, src.addr, &mut edits) {
        return respond(400, e.reason_phrase(), Rejected::Malformed);
    }
    if ctx.record_route
        && initial
        && matches!(method, Method::Invite | Method::Subscribe | Method::Refer)
    {
        // Double Record-Route (RFC 5658) when the two sides use different transports:
        // the top entry faces the next hop, the second faces the previous one.
        edits.prepend(HeaderName::RecordRoute, ctx.record_route_for(out_transport));
        if src.transport != out_transport {
            edits.prepend(HeaderName::RecordRoute, ctx.record_route_for(src.transport));
        }
    }
    match msg.find_lines(HeaderName::MaxForwards).next() {
        Some(line) => {
            let next = max_forwards.unwrap_or(MaxForwards::DEFAULT).decremented();
            edits.replace_value(line, next.to_string());
        }
        None => edits.prepend(HeaderName::MaxForwards, MaxForwards::DEFAULT.to_string()),
    }

    // The caller of an initial INVITE from a trunk, read once: refused when it is
    // ambiguous, signed for otherwise.
    let mut caller = None;
    if let Some(trunk) = trunk
        && initial
        && method == Method::Invite
    {
        match calling_number(msg, &ctx.numbering) {
            Ok(number) => caller = number,
            Err(conflict) => {
                let cause = Rejected::ConflictingIdentity;
                if let Some(suppressed) =
                    ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now))
                {
                    warn!(call_id = msg.call_id(), trunk = %trunk.name, %conflict, suppressed, "refused");
                }
                return respond(400, "Conflicting P-Asserted-Identity", cause);
            }
        }
    }

    // A trunk's call rate counts the calls it places: initial INVITEs.
    if let Some(trunk) = trunk
        && initial
        && method == Method::Invite
        && let Some(limit) = trunk.call_limit
        && !ctx.limiter.admit(&trunk.origid, limit, now)
    {
        let cause = Rejected::RateLimited;
        if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
            warn!(call_id = msg.call_id(), trunk = %trunk.name, suppressed, "call rate exceeded: 503");
        }
        return Action::Respond {
            status: 503,
            reason: "Call Rate Exceeded".into(),
            cause,
            headers: vec![(HeaderName::RetryAfter, "1".into())],
        };
    }

    if let Some(trunk) = trunk
        && trunk.role == Role::Redirect
    {
        return super::redirect::answer(
            ctx,
            msg,
            src,
            trunk,
            caller,
            (initial, method),
            now,
            verdict,
        );
    }

    let mut signing = None;
    match trunk.map(|t| (t, t.role)) {
        Some((trunk, Role::Sign)) => {
            let treatment = match initial && method == Method::Invite {
                true => match super::policy::treat(ctx, msg, trunk, verdict) {
                    Ok(t) => t,
                    Err(refusal) => return refusal,
                },
                false => Treatment::Sign,
            };
            if treatment == Treatment::Sign
                && let Err(refusal) = apply_identity_policy(ctx, msg, src, trunk, now, &mut edits)
            {
                return refusal;
            }
            if initial && method == Method::Invite && treatment == Treatment::PassThrough {
                signing = Some(Signing::PassedThrough);
            } else if initial && method == Method::Invite && treatment == Treatment::Unsigned {
                signing = Some(Signing::Unsigned(Unsigned::SignPolicy));
            } else if initial && method == Method::Invite {
                match sign_invite(ctx, msg, src, trunk, caller, now, &mut edits) {
                    Ok((s, identity)) => {
                        if let Some(identity) = identity {
                            edits.append(HeaderName::Identity, identity);
                        }
                        for (name, value) in attestation_headers(trunk, &s) {
                            edits.append_named(name, value);
                        }
                        signing = Some(s);
                    }
                    Err(action) => return action,
                }
            }
        }
        Some((trunk, Role::Verify)) if initial && method == Method::Invite => {
            let none = Verdict::no_validation();
            let verdict = verdict.unwrap_or(&none);
            counted(ctx, msg, trunk, verdict);
            if let (Some(code), OnFailure::Reject) = (verdict.code, ctx.on_failure) {
                return respond(code, reason_phrase(code), Rejected::VerificationFailed);
            }
            verstat::apply(msg, verdict, &mut edits);
            feedback::on_request(ctx.feedback, verdict, &mut edits);
        }
        _ => {}
    }

    edits.frame_for(msg, framing(out_transport));
    let mut bytes = Vec::with_capacity(msg.buf().len() + 800);
    edits.apply(msg, &mut bytes);
    // The same request for each other next hop: only our Via's branch differs (a
    // trunk's origination URLs share one transport).
    let first_via = if others.is_empty() {
        String::new()
    } else {
        format!("{}{}", ctx.via_prefix(out_transport), branch(hash, id))
    };
    let alternates = (others.into_iter().enumerate())
        .map(|(i, d)| {
            let via = format!(
                "{}{}",
                ctx.via_prefix(d.transport()),
                branch_for_attempt(hash, id, i as u32 + 1)
            );
            (
                d,
                replace_first(&bytes, first_via.as_bytes(), via.as_bytes()),
            )
        })
        .collect();
    Action::Forward(Forward {
        dest,
        bytes,
        alternates,
        signing,
        branch_hash: hash,
        feedback: Vec::new(),
    })
}

/// `bytes` with the first `from` replaced by `to`.
fn replace_first(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    match bytes.windows(from.len()).position(|w| w == from) {
        Some(at) => [&bytes[..at], to, &bytes[at + from.len()..]].concat(),
        None => bytes.to_vec(),
    }
}

/// Checks the credentials of a request addressed to a credential-list trunk from an
/// address its lists do not admit (RFC 3261 22.3, RFC 8760): `Ok` with the lines of the
/// Proxy-Authorization headers for our realm, or the answer: 407 with fresh challenges
/// (SHA-256, then MD5) when there are no usable credentials or the nonce is stale or
/// not ours, 403 when they are wrong or their nonce count was used before. ACK cannot be
/// challenged (RFC 3261 22.1): it belongs to an INVITE that authenticated.
fn authenticate(
    ctx: &Context,
    msg: &Message<'_>,
    method: Method,
    src: Peer,
    trunk: &DomainTrunk,
    now: SystemTime,
) -> Result<Vec<usize>, Action> {
    if method == Method::Ack {
        return Ok(Vec::new());
    }
    let now_unix = unix_seconds(now);
    let challenge = |stale: bool| {
        let nonce = ctx.nonces.mint(now_unix);
        let headers = [Algorithm::Sha256, Algorithm::Md5]
            .map(|a| {
                (
                    HeaderName::ProxyAuthenticate,
                    digest::challenge(a, &ctx.digest_realm, &nonce, stale),
                )
            })
            .to_vec();
        Action::Respond {
            status: 407,
            reason: "Proxy Authentication Required".into(),
            cause: Rejected::AuthenticationRequired,
            headers,
        }
    };
    let refuse = |why: &str| {
        let cause = Rejected::AuthenticationFailed;
        if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), now_unix) {
            warn!(call_id = msg.call_id(), src = %src.addr, trunk = %trunk.hit.name, why, suppressed, "credentials refused");
        }
        respond(403, "Forbidden", cause)
    };
    let mut lines = Vec::new();
    let mut ours = None;
    for line in msg.find_lines(HeaderName::ProxyAuthorization) {
        let Some(h) = msg.headers().get(line) else {
            continue;
        };
        if let Ok(c) = Credentials::parse(msg.value_of(h))
            && c.realm == ctx.digest_realm
        {
            lines.push(line);
            ours.get_or_insert(c);
        }
    }
    let Some(creds) = ours else {
        return Err(challenge(false));
    };
    let Some(credential) = trunk.credential(creds.username) else {
        return Err(refuse("unknown username"));
    };
    if Some(creds.uri) != msg.request_uri() {
        return Err(refuse("credentials for another Request-URI"));
    }
    let ha1 = match creds.algorithm {
        Algorithm::Md5 => &credential.ha1_md5,
        Algorithm::Sha256 => &credential.ha1_sha256,
    };
    if credential.realm != ctx.digest_realm || !creds.verify(msg.method_str().unwrap_or(""), ha1) {
        return Err(refuse("wrong response"));
    }
    match ctx.nonces.check(creds.nonce, creds.count(), now_unix) {
        NonceCheck::Fresh => Ok(lines),
        NonceCheck::Stale => Err(challenge(true)),
        NonceCheck::Invalid => Err(challenge(false)),
        NonceCheck::Replayed => Err(refuse("nonce count used before")),
    }
}

/// The host of a sip or sips Request-URI (`[...]` for an IPv6 reference), without port
/// or parameters.
pub(super) fn request_host<'m>(msg: &Message<'m>) -> Option<&'m str> {
    let (scheme, rest) = msg.request_uri()?.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
        return None;
    }
    let hostport = rest.split_once('@').map_or(rest, |(_, host)| host);
    let hostport = &hostport[..hostport.find([';', '?']).unwrap_or(hostport.len())];
    if hostport.starts_with('[') {
        return hostport.find(']').map(|end| &hostport[..=end]);
    }
    hostport.split(':').next()
}

/// Removes the Route entries at the top that name us; returns whether there were any,
/// and the next hop they leave.
fn strip_own_routes(
    ctx: &Context,
    msg: &Message<'_>,
    edits: &mut Edits,
) -> (bool, Option<UriTarget>) {
    let mut removed = false;
    for line in msg.find_lines(HeaderName::Route) {
        let Some(h) = msg.headers().get(line) else {
            break;
        };
        let mut ours = 0;
        let mut next = None;
        for entry in Route::entries(msg.value_of(h)) {
            let target = entry.ok().and_then(|e| UriTarget::parse(e.uri));
            match target {
                Some(t) if ctx.is_us(&t.host, t.port) => ours += 1,
                other => {
                    next = Some(other);
                    break;
                }
            }
        }
        removed |= ours > 0;
        let Some(next) = next else {
            edits.remove(line);
            continue;
        };
        for _ in 0..ours {
            edits.remove_first_value(line);
        }
        return (removed, next);
    }
    (removed, None)
}

/// An `Identity` header from a trunk is untrusted: strip, keep or refuse it by policy.
pub(super) fn apply_identity_policy(
    ctx: &Context,
    msg: &Message<'_>,
    src: Peer,
    trunk: &Trunk,
    now: SystemTime,
    edits: &mut Edits,
) -> Result<(), Action> {
    let lines: Vec<usize> = msg.find_lines(HeaderName::Identity).collect();
    if lines.is_empty() {
        return Ok(());
    }
    let call_id = msg.call_id();
    match trunk.identity_policy.unwrap_or(ctx.identity_policy) {
        IdentityPolicy::Strip => {
            for line in &lines {
                edits.remove(*line);
            }
            ctx.metrics.identity_stripped.inc();
            info!(call_id, trunk = %trunk.name, count = lines.len(), "untrusted Identity header removed");
            Ok(())
        }
        IdentityPolicy::Keep => {
            debug!(call_id, trunk = %trunk.name, "untrusted Identity header kept by policy");
            Ok(())
        }
        IdentityPolicy::Reject => {
            let cause = Rejected::UntrustedIdentity;
            if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
                warn!(call_id, trunk = %trunk.name, suppressed, "request with an Identity header refused by policy");
            }
            Err(respond(403, "Identity Not Accepted From Trunk", cause))
        }
    }
}

/// The trunk a call is delivered to by its called number (the Request-URI's, else the
/// To's), when that number is on a trunk with origination URLs.
fn number_trunk(ctx: &Context, msg: &Message<'_>) -> Option<std::sync::Arc<TrunkHit>> {
    ctx.trust.load().number_trunk(|| {
        let uri = msg.request_uri()?;
        (tn::from_uri(uri, &ctx.numbering).ok()).or_else(|| called_number(ctx, msg).ok())
    })
}

/// A signing identity's SID in the log, or `default` for `[signing]`'s pair, written
/// without a per-call allocation.
struct SignedWith(Option<crate::trust::Sid>);

impl std::fmt::Display for SignedWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(sid) => sid.fmt(f),
            None => f.write_str("default"),
        }
    }
}

fn called_number(ctx: &Context, msg: &Message<'_>) -> Result<Tn, Unsigned> {
    let to = msg.to().map_err(|_| Unsigned::DestNotANumber)?;
    tn::from_uri(to.uri, &ctx.numbering).map_err(|_| Unsigned::DestNotANumber)
}

/// Attests and signs an initial INVITE from a trunk for `caller` (its calling number, when
/// it has one), adding a Date when it has none: what happened, and the Identity header's
/// value when it was signed. An error is a response that refuses the request.
pub(super) fn sign_invite(
    ctx: &Context,
    msg: &Message<'_>,
    src: Peer,
    trunk: &Trunk,
    caller: Option<Tn>,
    now: SystemTime,
    edits: &mut Edits,
) -> Result<(Signing, Option<String>), Action> {
    let call_id = msg.call_id();
    let orig = caller.ok_or(Unsigned::OrigNotANumber);
    let (orig, dest) = match (orig, called_number(ctx, msg)) {
        (Ok(o), Ok(d)) => (o, d),
        (Err(cause), _) | (_, Err(cause)) => {
            ctx.metrics.unsigned(cause);
            if let Some(suppressed) = ctx.noisy(src.addr.ip(), cause.as_str(), unix_seconds(now)) {
                warn!(call_id, trunk = %trunk.name, cause = cause.as_str(), suppressed, "forwarded unsigned: number cannot be canonicalized");
            }
            return Ok((Signing::Unsigned(cause), None));
        }
    };

    let iat = unix_seconds(now);
    match msg.header(HeaderName::Date).map(Date::parse) {
        // RFC 8224 section 4.1: a Date is added only when there is none.
        None => edits.append(HeaderName::Date, Date(now).to_string()),
        Some(Ok(Date(date))) if unix_seconds(date).abs_diff(iat) <= DATE_FRESHNESS_SECS => {}
        Some(_) => {
            // RFC 8224 section 4.1: no PASSporT for a request whose Date is not fresh (or
            // cannot be read): the verifier would take it for a replay.
            if let Some(suppressed) = ctx.noisy(src.addr.ip(), "stale_date", iat) {
                let date = msg.header(HeaderName::Date).unwrap_or("");
                warn!(call_id, trunk = %trunk.name, date, suppressed, "Date outside the freshness window: not signed");
            }
            return match ctx.stale_date {
                Fallback::Refuse => Err(respond(403, "Stale Date", Rejected::StaleDate)),
                Fallback::Unsigned => {
                    ctx.metrics.unsigned(Unsigned::StaleDate);
                    Ok((Signing::Unsigned(Unsigned::StaleDate), None))
                }
            };
        }
    }

    let Some(account) = trunk.account else {
        // Config validation gives every signing trunk an account; never sign without one.
        ctx.metrics.unsigned(Unsigned::NoAccount);
        return Ok((Signing::Unsigned(Unsigned::NoAccount), None));
    };
    let index = ctx.trust.load();
    let attestation = index.attest(account, orig, iat);
    let signing_identity = index.signing_identity(trunk.sid, Some(account));
    drop(index);
    if let Some(status) = ctx.suspended_refusal(&attestation) {
        info!(call_id, trunk = %trunk.name, account = %account, status, "refused: the account is suspended");
        return Err(respond(
            status,
            "Account Suspended",
            Rejected::AccountSuspended,
        ));
    }
    if let Some(gate) = trunk.level_gate
        && attestation.level > gate.minimum
    {
        let cause = Rejected::BelowMinimumLevel;
        info!(call_id, trunk = %trunk.name, attest = %attestation.level, minimum = %gate.minimum, "refused below the trunk's minimum level");
        let reason = if gate.status == 603 {
            "Decline"
        } else {
            "Attestation Below Minimum"
        };
        return Err(respond(gate.status, reason, cause));
    }
    let dest_list = [dest.as_str()];
    let claims = Claims {
        attest: attestation.level,
        dest: &dest_list,
        iat,
        orig: orig.as_str(),
        origid: &trunk.origid,
    };
    let identity = match ctx.sign_identity(signing_identity, &claims) {
        Ok(v) => v,
        Err(
            e @ (crate::passport::PassportError::CertificateNotValid { .. }
            | crate::passport::PassportError::OrigNotCovered { .. }),
        ) => {
            // Never a PASSporT under a certificate that is not valid, or (a delegate
            // certificate, RFC 9060) not valid for this caller: loud, but at most one
            // line per source every few seconds. Both are counted as
            // `certificate_not_valid`.
            if let Some(suppressed) = ctx.noisy(src.addr.ip(), "certificate_not_valid", iat) {
                if matches!(e, crate::passport::PassportError::OrigNotCovered { .. }) {
                    warn!(call_id, trunk = %trunk.name, signing_identity = %SignedWith(signing_identity), error = %e, suppressed, "not signed: the caller is not among the delegate certificate's numbers");
                } else {
                    error!(call_id, trunk = %trunk.name, signing_identity = %SignedWith(signing_identity), error = %e, suppressed, "not signed: the signing certificate is not valid; rotate it (docs/certificates.md)");
                }
            }
            // The trunk's own choice, else a redirect's 302 without Identity, else
            // `[signing] invalid_certificate`.
            let refuse = match trunk.sbc.signing_failure {
                Some(SigningFailure::Status(code)) => Some(code),
                Some(SigningFailure::Unsigned) => None,
                None if trunk.role == Role::Redirect => None,
                None => match ctx.invalid_certificate {
                    Fallback::Refuse => Some(503),
                    Fallback::Unsigned => None,
                },
            };
            return signing_failed(ctx, refuse, Unsigned::CertificateNotValid);
        }
        Err(e) => {
            warn!(call_id, trunk = %trunk.name, error = %e, "signing failed");
            let refuse = match trunk.sbc.signing_failure {
                Some(SigningFailure::Status(code)) => Some(code),
                Some(SigningFailure::Unsigned) => None,
                None if trunk.role == Role::Redirect => None,
                None => Some(500),
            };
            return signing_failed(ctx, refuse, Unsigned::SigningFailed);
        }
    };
    tracing::trace!(call_id, identity = %identity, "PASSporT");
    ctx.metrics.signed(attestation.level, attestation.reason);
    (ctx.metrics.calls).record(account, attestation.level, attestation.reason.as_str(), iat);
    info!(
        call_id,
        account = %account,
        trunk = %trunk.name,
        orig = %orig,
        dest = %dest,
        attest = %attestation.level,
        reason = attestation.reason.as_str(),
        origid = %trunk.origid,
        // Which certificate signed (FCC 24-120): a signing identity, or `[signing]`'s.
        signing_identity = %SignedWith(signing_identity),
        "signed"
    );
    Ok((Signing::Signed(attestation), Some(identity)))
}

/// A call callsign could not sign: refused with `refuse`, or on its way unsigned (for a
/// redirect trunk, a 302 without Identity), counted either way.
fn signing_failed(
    ctx: &Context,
    refuse: Option<u16>,
    cause: Unsigned,
) -> Result<(Signing, Option<String>), Action> {
    let rejected = match cause {
        Unsigned::CertificateNotValid => Rejected::CertificateNotValid,
        _ => Rejected::SigningFailed,
    };
    match refuse {
        Some(status) => {
            let reason = match (status, rejected) {
                (503, Rejected::CertificateNotValid) => "Signing Certificate Not Valid",
                (500, _) => "Signing Failed",
                (503, _) => "Service Unavailable",
                (603, _) => "Decline",
                (403, _) => "Forbidden",
                (480, _) => "Temporarily Unavailable",
                _ => "Not Signed",
            };
            Err(respond(status, reason, rejected))
        }
        None => {
            ctx.metrics.unsigned(cause);
            Ok((Signing::Unsigned(cause), None))
        }
    }
}

/// `P-Attestation-Indicator` and `P-Origination-ID` of a signed call, when its trunk
/// asks for them: the level and `origid` its PASSporT carries.
pub(super) fn attestation_headers(trunk: &Trunk, signing: &Signing) -> Vec<(&'static str, String)> {
    match signing {
        Signing::Signed(a) if trunk.sbc.attestation_headers => vec![
            ("P-Attestation-Indicator", a.level.as_str().to_owned()),
            ("P-Origination-ID", trunk.origid.to_string()),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
