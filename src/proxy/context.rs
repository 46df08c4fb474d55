//! Everything a message decision reads: our addresses, trunks and their ACL, the upstream,
//! timer settings, the signer, the trust index and the metrics.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use std::borrow::Cow;

use arc_swap::ArcSwap;
use ipnet::IpNet;

use super::limiter::Limiter;
use super::noise::{Admit, Noise};
use super::nonce::Nonces;
use super::settings::{
    Fallback, Feedback, IdentityPolicy, OnFailure, Role, SbcOptions, Settings, Timers,
};
use super::{Peer, Transport};
use crate::metrics::Metrics;
use crate::passport::Signer;
use crate::tn::Numbering;
use crate::trust::{
    CallLimit, DomainTrunk, LevelGate, OriginationTarget, Sid, TrunkFor, TrunkHit,
    TrunkIdentityPolicy, TrunkRole, Trust,
};

/// A customer trunk: requests from its sources belong to its account. Either a
/// `[[trunk]]` of the config, or one provisioned through the API (a [`TrunkHit`] of the
/// trust index), which signs and sends its calls to the default upstream.
#[derive(Debug, Clone)]
pub struct Trunk {
    pub name: Arc<str>,
    /// The SID of a provisioned trunk.
    pub sid: Option<Sid>,
    pub role: Role,
    /// The customer account; always present on signing trunks (config validation).
    pub account: Option<Sid>,
    /// Hyphenated UUID placed in `origid`.
    pub origid: Arc<str>,
    pub upstream: Peer,
    /// The calls a second it may place (provisioned trunks).
    pub call_limit: Option<CallLimit>,
    /// The lowest level its calls may be signed with (provisioned trunks).
    pub level_gate: Option<LevelGate>,
    /// Its own Identity policy, over `[sip] identity_policy` (provisioned trunks).
    pub identity_policy: Option<IdentityPolicy>,
    /// Where its calls go, by priority, instead of `upstream` (provisioned trunks with
    /// origination URLs).
    pub origination: Arc<[OriginationTarget]>,
    /// Its requests must arrive over TLS (config trunks).
    pub require_tls: bool,
    /// Mutual TLS: its connections' client certificates must carry one of these names
    /// (config trunks; checked when the connection is accepted).
    pub tls_client_names: Arc<[String]>,
    pub sbc: SbcOptions,
}

/// The ports callsign listens on, by transport: those actually bound (tests bind port 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    pub udp: Option<u16>,
    pub tcp: Option<u16>,
    pub tls: Option<u16>,
}

impl Ports {
    pub fn of(&self, t: Transport) -> Option<u16> {
        match t {
            Transport::Udp => self.udp,
            Transport::Tcp => self.tcp,
            Transport::Tls => self.tls,
        }
    }
}

/// The signers of the signing identities, by SID: what a call assigned to one signs
/// with (filled by [`crate::identities`]).
pub type IdentitySigners = ArcSwap<std::collections::HashMap<Sid, Arc<Signer>>>;

/// How long a digest challenge's nonce may be answered (RFC 8760 leaves it to us).
pub const NONCE_LIFETIME_SECS: i64 = 300;
/// Nonces whose counts are recorded at once.
pub const MAX_NONCES: usize = 100_000;

/// Who sent a request.
#[derive(Debug, Clone)]
pub enum PeerClass<'c> {
    /// A trunk of the config (borrowed) or a provisioned one (built for this request).
    Trunk(Cow<'c, Trunk>),
    /// Addressed to a provisioned trunk's domain from an address its lists do not
    /// admit: the trunk's if the request carries its credentials.
    Authenticate(Arc<DomainTrunk>),
    Upstream,
    Unknown,
}

/// Read-mostly state shared by every message handler.
pub struct Context {
    pub host: String,
    /// Per-process secret keyed into our branches, so that responses cannot be forged
    /// by guessing them.
    pub secret: u64,
    /// Prefix of the To-tags of responses we generate (per process, random).
    pub local_tag_prefix: String,
    /// `SIP/2.0/<T> host:port;branch=` by transport.
    via_prefix: [String; 3],
    /// Our Record-Route value by transport.
    record_route_value: [String; 3],
    pub max_tcp_connections: usize,
    pub tcp_idle_timeout: Duration,
    /// Limits the warnings outside peers can cause (see [`Noise`]).
    pub noise: Noise,
    /// How verifying trunks treat failures, and how long a call waits for verification.
    pub on_failure: OnFailure,
    /// Where the failures of a verified call that goes on are reported.
    pub feedback: Feedback,
    pub verify_max_wait: Duration,
    pub ports: Ports,
    pub record_route: bool,
    pub identity_policy: IdentityPolicy,
    /// What a stale Date gets (`[signing] stale_date`).
    pub stale_date: Fallback,
    /// What a call gets when its signing certificate is not valid (`[signing]
    /// invalid_certificate`).
    pub invalid_certificate: Fallback,
    /// A suspended account's call: signed C (`None`) or refused with this status.
    pub suspended_status: Option<u16>,
    /// The realm of digest challenges (`[sip] digest_realm`).
    pub digest_realm: String,
    pub timers: Timers,
    pub max_transactions: usize,
    pub max_message_size: usize,
    pub numbering: Numbering,
    pub trunks: Vec<Trunk>,
    /// (range, trunk index), most specific first.
    acl: Vec<(IpNet, usize)>,
    upstream_sources: Vec<IpNet>,
    /// Where provisioned trunks' calls go.
    default_upstream: Peer,
    /// The nonces of digest challenges to requests for credential-list trunks.
    pub nonces: Nonces,
    /// Trunks' call rates.
    pub limiter: Limiter,
    pub signer: ArcSwap<Signer>,
    /// The signing identities' signers, over `signer` for the trunks and accounts
    /// assigned to them.
    pub identity_signers: Arc<IdentitySigners>,
    pub trust: Arc<Trust>,
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// The status that refuses a call attested `attestation`, when its account is
    /// suspended and `[signing] suspended_status` says to refuse; `None` signs it.
    pub fn suspended_refusal(&self, attestation: &crate::trust::Attestation) -> Option<u16> {
        (attestation.reason == crate::trust::Reason::CAccountSuspended)
            .then_some(self.suspended_status)
            .flatten()
    }

    /// Signs `claims` with signing identity `sid`, or with `[signing]`'s pair when
    /// `None`; an identity without a signer ready fails.
    pub fn sign_identity(
        &self,
        sid: Option<Sid>,
        claims: &crate::passport::Claims<'_>,
    ) -> Result<String, crate::passport::PassportError> {
        match sid {
            None => self.signer.load().identity(claims),
            // FCC 24-120: the trunk's or account's own certificate, or no signature at all.
            Some(sid) => match self.identity_signers.load().get(&sid) {
                Some(signer) => signer.identity(claims),
                None => Err(crate::passport::PassportError::Signing),
            },
        }
    }

    /// Whether to write a warning about `kind` from `source` now (Unix seconds): at most
    /// one line per source, kind and interval; `Some` holds how many events the line
    /// stands for beyond itself.
    pub fn noisy(
        &self,
        source: std::net::IpAddr,
        kind: &'static str,
        now_unix: i64,
    ) -> Option<u64> {
        match self.noise.admit(source, kind, now_unix) {
            Admit::Log { suppressed } => Some(suppressed),
            Admit::Quiet => None,
        }
    }

    /// Builds the context. `ports` are the ports actually bound (tests bind port 0).
    pub fn new(
        settings: Settings,
        ports: Ports,
        signer: Signer,
        trust: Arc<Trust>,
        metrics: Arc<Metrics>,
    ) -> Context {
        let Settings {
            host,
            record_route,
            identity_policy,
            stale_date,
            invalid_certificate,
            suspended_status,
            digest_realm,
            max_message_size,
            timers,
            max_transactions,
            max_tcp_connections,
            tcp_idle_timeout,
            on_failure,
            feedback,
            verify_max_wait,
            numbering,
            trunks: trunk_settings,
            upstream: default_upstream,
        } = settings;
        let mut trunks = Vec::new();
        let mut acl = Vec::new();
        let mut upstream_sources: Vec<IpNet> = default_upstream.sources.clone();
        upstream_sources.push(IpNet::from(default_upstream.peer.addr.ip()));
        for (i, t) in trunk_settings.into_iter().enumerate() {
            let upstream = match &t.upstream {
                Some(u) => {
                    upstream_sources.push(IpNet::from(u.peer.addr.ip()));
                    upstream_sources.extend(u.sources.iter().copied());
                    u.peer
                }
                None => default_upstream.peer,
            };
            acl.extend(t.sources.iter().map(|net| (net.trunc(), i)));
            trunks.push(Trunk {
                name: t.name.into(),
                sid: None,
                role: t.role,
                account: t.account,
                origid: t.origid.hyphenated().to_string().into(),
                upstream,
                call_limit: None,
                level_gate: None,
                identity_policy: None,
                origination: Arc::new([]),
                require_tls: t.require_tls,
                tls_client_names: t.tls_client_names.into(),
                sbc: t.sbc,
            });
        }
        acl.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        let sent_by = |t: Transport| {
            let port = ports.of(t).or(ports.udp).or(ports.tcp).or(ports.tls);
            format!("{host}:{}", port.unwrap_or(t.default_port()))
        };
        // Facing a TLS hop, `transport=tls` (as Kamailio and OpenSIPS write it) rather
        // than a `sips:` URI, which would demand TLS on every hop of the dialog (RFC
        // 5630 section 3.1.2 deprecates the parameter, but a sip: URI has no other way
        // to say that this hop is TLS).
        let via_prefix =
            Transport::ALL.map(|t| format!("SIP/2.0/{} {};branch=", t.as_str(), sent_by(t)));
        let record_route_value =
            Transport::ALL.map(|t| format!("<sip:{};transport={};lr>", sent_by(t), t.param()));
        let random = uuid::Uuid::new_v4().as_u128();
        Context {
            secret: random as u64,
            local_tag_prefix: format!("cs{:08x}", (random >> 64) as u32),
            via_prefix,
            record_route_value,
            max_tcp_connections,
            noise: Noise::default(),
            on_failure,
            feedback,
            verify_max_wait,
            tcp_idle_timeout,
            host,
            ports,
            record_route,
            identity_policy,
            stale_date,
            invalid_certificate,
            suspended_status,
            digest_realm,
            timers,
            max_transactions,
            max_message_size,
            numbering,
            trunks,
            acl,
            upstream_sources,
            default_upstream: default_upstream.peer,
            nonces: Nonces::new(NONCE_LIFETIME_SECS, MAX_NONCES),
            limiter: Limiter::default(),
            signer: ArcSwap::from_pointee(signer),
            identity_signers: Arc::default(),
            trust,
            metrics,
        }
    }

    /// Classifies a request's source address. Trunks win over the upstream when both match.
    /// Classifies a request's source address, for a request addressed to `host` (the
    /// Request-URI host, asked for only when a provisioned trunk has a domain). The
    /// config's trunks come first, then those provisioned through the API.
    pub fn classify_request<'h>(
        &self,
        ip: IpAddr,
        host: impl FnOnce() -> Option<&'h str>,
    ) -> PeerClass<'_> {
        let ip = canonical_ip(ip);
        if let Some(t) = self.config_trunk(ip) {
            return PeerClass::Trunk(Cow::Borrowed(t));
        }
        match self.trust.load().trunk_for(ip, host) {
            TrunkFor::Trunk(hit) => return PeerClass::Trunk(Cow::Owned(self.provisioned(&hit))),
            TrunkFor::Authenticate(trunk) => return PeerClass::Authenticate(trunk),
            TrunkFor::Nothing => {}
        }
        self.upstream_or_unknown(ip)
    }

    /// Classifies an address that is not a request's source (a TCP connection, a
    /// response's next hop): any trunk whose lists admit it.
    pub fn classify(&self, ip: IpAddr) -> PeerClass<'_> {
        let ip = canonical_ip(ip);
        if let Some(t) = self.config_trunk(ip) {
            return PeerClass::Trunk(Cow::Borrowed(t));
        }
        if let Some(hit) = self.trust.load().trunk_admitting(ip) {
            return PeerClass::Trunk(Cow::Owned(self.provisioned(&hit)));
        }
        self.upstream_or_unknown(ip)
    }

    fn config_trunk(&self, ip: IpAddr) -> Option<&Trunk> {
        let (_, i) = self.acl.iter().find(|(net, _)| net.contains(&ip))?;
        self.trunks.get(*i)
    }

    fn upstream_or_unknown(&self, ip: IpAddr) -> PeerClass<'_> {
        if self.upstream_sources.iter().any(|n| n.contains(&ip))
            || self.trust.load().is_origination_source(ip)
        {
            return PeerClass::Upstream;
        }
        PeerClass::Unknown
    }

    /// A provisioned trunk as the pipeline sees it: it signs, for its account, and its
    /// calls go to the default upstream.
    pub fn provisioned(&self, hit: &TrunkHit) -> Trunk {
        Trunk {
            name: Arc::clone(&hit.name),
            sid: Some(hit.sid),
            role: match hit.role {
                TrunkRole::Sign => Role::Sign,
                TrunkRole::Verify => Role::Verify,
                TrunkRole::Redirect => Role::Redirect,
            },
            account: Some(hit.account),
            origid: Arc::clone(&hit.origid),
            upstream: self.default_upstream,
            call_limit: hit.call_limit,
            level_gate: hit.level_gate,
            identity_policy: hit.identity_policy.map(|p| match p {
                TrunkIdentityPolicy::Strip => IdentityPolicy::Strip,
                TrunkIdentityPolicy::Keep => IdentityPolicy::Keep,
                TrunkIdentityPolicy::Reject => IdentityPolicy::Reject,
            }),
            origination: Arc::clone(&hit.origination),
            require_tls: false,
            tls_client_names: Arc::new([]),
            sbc: SbcOptions {
                contact_identity: hit.contact_identity,
                attestation_headers: hit.attestation_headers,
                signing_failure: hit.signing_failure,
                sign_policy: hit.sign_policy,
                unsigned_status: hit.unsigned_status,
            },
        }
    }

    /// Our port for a transport, if we listen on it.
    pub fn port(&self, t: Transport) -> Option<u16> {
        self.ports.of(t)
    }

    /// Whether `host:port` names this proxy (for Route removal and loop detection).
    pub fn is_us(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ours = self.host.trim_start_matches('[').trim_end_matches(']');
        if !host.eq_ignore_ascii_case(ours) {
            return false;
        }
        match port {
            Some(p) => Transport::ALL.iter().any(|&t| self.ports.of(t) == Some(p)),
            // No port: 5060, or 5061 for TLS (a sips: Route).
            None => Transport::ALL
                .iter()
                .any(|&t| self.ports.of(t) == Some(t.default_port())),
        }
    }

    /// Our Via value up to the branch value, for a transport.
    pub fn via_prefix(&self, t: Transport) -> &str {
        &self.via_prefix[t.index()]
    }

    /// Our Record-Route value for a transport.
    pub fn record_route_for(&self, t: Transport) -> &str {
        &self.record_route_value[t.index()]
    }

    /// A To-tag for a response we generate in transaction `id`.
    pub fn local_tag(&self, id: u64) -> String {
        format!("{}{id:x}", self.local_tag_prefix)
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}
