//! What the proxy is told at start-up: its host, SIP limits and timers, the trunks with
//! their roles and source ranges, and the upstream carrier. The daemon converts the TOML
//! config into these once; the proxy never sees the config itself.

use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Peer;
use crate::tn::Numbering;
use crate::trust::Sid;

/// What callsign does with initial INVITEs from a trunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Outbound calls from a customer: attest and sign.
    #[default]
    Sign,
    /// Inbound calls from another carrier: verify their Identity and mark `verstat`.
    Verify,
    /// An SBC's calls: attest and sign, and answer `302` with the Identity instead of
    /// forwarding; the SBC sends the call on itself.
    Redirect,
}

/// What a trunk's calls carry besides the Identity, and what they get when callsign
/// cannot sign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SbcOptions {
    /// A redirect trunk's 302 also embeds the Identity in its Contact (`?Identity=`).
    pub contact_identity: bool,
    /// Signed calls carry `P-Attestation-Indicator` and `P-Origination-ID`.
    pub attestation_headers: bool,
    /// When callsign cannot sign: unsigned, or a status; `None` for the default
    /// (`[signing] invalid_certificate`, or a 302 without Identity on a redirect trunk).
    pub signing_failure: Option<crate::trust::SigningFailure>,
    /// Which INVITEs are signed, and whether an Identity that arrives is verified.
    pub sign_policy: crate::trust::SignPolicy,
    /// What an INVITE without Identity gets under `required` (0: 403).
    pub unsigned_status: u16,
}

/// What to do with an `Identity` header that arrives from a signing trunk (it is
/// untrusted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityPolicy {
    /// Remove it, log the removal, and sign afresh.
    #[default]
    Strip,
    /// Leave it in place and add ours after it.
    Keep,
    /// Refuse the request with 403.
    Reject,
}

/// What a call that must not be signed gets: refused, or forwarded without a PASSporT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// Refused: `403 Stale Date` for a stale Date, `503` for a signing certificate that is
    /// not valid (so that the caller may try another node).
    Refuse,
    /// Forwarded without an Identity header, counted in
    /// `callsign_calls_unsigned_total` by its cause.
    Unsigned,
}

/// What a verifying trunk does with a call whose Identity fails verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Forward it with `verstat=TN-Validation-Failed`, reporting the failure as
    /// [`Feedback`] says.
    #[default]
    Forward,
    /// Refuse it with the failure's 4xx code.
    Reject,
}

/// Where a verifying trunk tells the caller's side that an Identity header failed, for a
/// call that goes on (RFC 9410, ATIS-1000074 section 5.3.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Feedback {
    /// `Reason: STIR;cause=...;text="..."` (one per failed Identity header, with `ppi`
    /// when there were several) on the first provisional (other than 100) or final
    /// response sent back upstream in the INVITE's transaction.
    #[default]
    Response,
    /// `Reason: SIP;cause=...;text="..."` on the forwarded INVITE, for the UAS.
    Request,
    /// Both of the above.
    Both,
}

impl Feedback {
    /// Whether the forwarded INVITE carries the failure's `Reason: SIP`.
    pub fn on_request(self) -> bool {
        matches!(self, Feedback::Request | Feedback::Both)
    }

    /// Whether the first response upstream carries `Reason: STIR`.
    pub fn on_response(self) -> bool {
        matches!(self, Feedback::Response | Feedback::Both)
    }
}

/// RFC 3261 timer base values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
    pub timer_c: Duration,
}

impl Timers {
    /// 64*T1: Timers B, F, H and J.
    pub fn t64(&self) -> Duration {
        self.t1 * 64
    }
}

impl Default for Timers {
    /// RFC 3261's values, and a Timer C just over the three minutes section 16.6 asks.
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_c: Duration::from_secs(181),
        }
    }
}

/// A carrier calls are forwarded to, and the ranges its in-dialog requests come from
/// (its own address is always accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub peer: Peer,
    pub sources: Vec<IpNet>,
    /// Over TLS: the name its certificate must carry (absent: its IP address).
    pub tls_name: Option<String>,
}

/// A customer or carrier trunk: requests from `sources` belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkSettings {
    pub name: String,
    pub role: Role,
    /// The customer account; every signing trunk has one.
    pub account: Option<Sid>,
    /// Placed in every PASSporT signed for this trunk.
    pub origid: Uuid,
    pub sources: Vec<IpNet>,
    /// Where this trunk's calls go instead of the default upstream.
    pub upstream: Option<Upstream>,
    /// Its requests must arrive over TLS.
    pub require_tls: bool,
    /// Mutual TLS: the names one of which its client certificate must carry.
    pub tls_client_names: Vec<String>,
    pub sbc: SbcOptions,
}

/// Everything the proxy's decisions depend on besides the signer, the trust index and the
/// ports actually bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The host placed in our Via and Record-Route.
    pub host: String,
    pub record_route: bool,
    pub identity_policy: IdentityPolicy,
    /// A signing trunk's INVITE whose Date is outside the freshness window (RFC 8224
    /// section 4.1).
    pub stale_date: Fallback,
    /// A signing trunk's INVITE when the certificate that would sign it is not valid now.
    pub invalid_certificate: Fallback,
    /// A suspended account's call: `None` signs it C, a status refuses it.
    pub suspended_status: Option<u16>,
    /// The realm of our digest challenges.
    pub digest_realm: String,
    pub max_message_size: usize,
    pub timers: Timers,
    pub max_transactions: usize,
    pub max_tcp_connections: usize,
    /// A TCP connection silent for this long is closed.
    pub tcp_idle_timeout: Duration,
    /// How verifying trunks treat failures.
    pub on_failure: OnFailure,
    /// Where the failures of a call that goes on are reported.
    pub feedback: Feedback,
    /// How long a verified call waits for its certificates before it goes on unverified.
    pub verify_max_wait: Duration,
    pub numbering: Numbering,
    pub trunks: Vec<TrunkSettings>,
    /// The default carrier.
    pub upstream: Upstream,
}
