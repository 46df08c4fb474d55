//! The TOML configuration of `callsign serve`: listeners, signing material, numbering,
//! trust data, the Trust Hub API, the upstream carrier and the trunks.
//!
//! Every table denies unknown fields and defaults are named functions; [`Config::validate`]
//! checks what serde cannot and names the key at fault ([`ConfigError`]). Relative paths
//! are resolved against the directory holding the config file. The values are read here
//! and nowhere else: the daemon converts them into each layer's own settings.

mod postgres;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::proxy::{Fallback, Feedback, IdentityPolicy, OnFailure, Role, Transport};
use crate::store::Durability;
use crate::tn::Numbering;
use crate::trust::Sid;
use crate::verify::{CrlMode, TrustListSource};

pub use postgres::PostgresConfig;
pub use validate::ConfigError;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A development machine: a plain-http x5u is allowed, and so are the public dev key
    /// and the sample operator token on listeners beyond loopback.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub development: bool,
    pub sip: SipConfig,
    #[serde(default)]
    pub http: HttpConfig,
    pub signing: SigningConfig,
    #[serde(default)]
    pub numbering: Numbering,
    pub trust: TrustConfig,
    #[serde(default)]
    pub api: ApiConfig,
    pub upstream: UpstreamConfig,
    #[serde(default, rename = "trunk", skip_serializing_if = "Vec::is_empty")]
    pub trunks: Vec<TrunkConfig>,
    /// Settings for trunks with `role = "verify"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyConfig>,
    /// ATIS-1000082's signing and verification API for SBCs; absent: not served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sti_rest: Option<StiRestConfig>,
    /// Automated vetting of submitted customer profiles and trust products.
    #[serde(default)]
    pub vetting: VettingConfig,
}

/// `[vetting]`: the workflows submitted bundles run, the subscriber records identity
/// matches read, and the review queue's deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VettingConfig {
    /// Submissions run their policy's workflow; `false`: every bundle waits for the
    /// operator.
    #[serde(default = "default_true")]
    pub automatic: bool,
    /// The rules file (TOML); absent: the embedded default workflows. Reloaded on SIGHUP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflows: Option<PathBuf>,
    /// The operator's subscriber records (CSV) identity matches compare with; absent:
    /// none, and every match answers `no_data_available`. Reloaded on SIGHUP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_records: Option<PathBuf>,
    /// Hours a customer profile may wait for a decision after submission.
    #[serde(default = "default_profile_deadline")]
    pub customer_profile_deadline_hours: u32,
    /// Hours a trust product may wait for a decision after submission.
    #[serde(default = "default_product_deadline")]
    pub trust_product_deadline_hours: u32,
    /// Days without a signed call after which an account is dormant, and its next
    /// approval goes to the operator; 0: never.
    #[serde(default = "default_dormant_days")]
    pub dormant_after_days: u32,
}

impl Default for VettingConfig {
    fn default() -> VettingConfig {
        VettingConfig {
            automatic: true,
            workflows: None,
            subscriber_records: None,
            customer_profile_deadline_hours: default_profile_deadline(),
            trust_product_deadline_hours: default_product_deadline(),
            dormant_after_days: default_dormant_days(),
        }
    }
}

fn default_profile_deadline() -> u32 {
    24
}

fn default_product_deadline() -> u32 {
    72
}

fn default_dormant_days() -> u32 {
    90
}

/// `[sti_rest]`: `POST /stir/v1/signing` and `POST /stir/v1/verification` for SBCs.
/// An SBC authenticates with the HTTP basic credentials of a credential list on its
/// trunk, or a client certificate naming its trunk's domain, or as one of the
/// `[[sti_rest.client]]` entries; anything else is refused with 401.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StiRestConfig {
    /// Its own listener; absent: served on `[http] listen` beside the Trust Hub API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// HTTPS on its own listener; with `client_ca`, SBCs may authenticate with a
    /// client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<StiRestTlsConfig>,
    /// The largest request body taken; a larger one is refused with 413.
    #[serde(default = "default_sti_rest_max_body")]
    pub max_body_bytes: usize,
    /// Connections held open at once on its own listener; more are closed at once.
    #[serde(default = "default_sti_rest_max_connections")]
    pub max_connections: usize,
    /// How far a signing request's `iat` may be from now, either way (verifiers allow
    /// 60 s, RFC 8224 section 6.2.1).
    #[serde(default = "default_sti_rest_iat_window")]
    pub iat_window_secs: u64,
    /// SBCs of the operator's own network, bound to no trunk: they assert the level
    /// they ask for, which is signed with `[signing]`'s identity.
    #[serde(default, rename = "client", skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<StiRestClientConfig>,
}

/// `[sti_rest.tls]`: the certificate the REST listener presents, and the roots of the
/// SBCs' client certificates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StiRestTlsConfig {
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// PEM roots client certificates are checked against; absent: none is asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
    #[serde(default = "default_tls_handshake_timeout_ms")]
    pub handshake_timeout_ms: u64,
}

/// `[[sti_rest.client]]`: an SBC allowed to assert its own levels.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StiRestClientConfig {
    /// For logs and metrics.
    pub name: String,
    /// HTTP basic user name; with `password_sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The SHA-256 of the password, in hex (`printf %s "$PASSWORD" | sha256sum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_sha256: Option<String>,
    /// Names (DNS subjectAltNames) of its client certificate, `*.` wildcards allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_names: Vec<String>,
    /// The `origid` of requests that carry none; derived from `name` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origid: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// UDP listen address; absent disables UDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<SocketAddr>,
    /// TCP listen address; absent disables TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<SocketAddr>,
    /// SIP over TLS (RFC 3261 section 26): its listener, the certificate callsign
    /// presents and the roots its peers' certificates are checked against. Absent
    /// disables TLS: `sips:` targets are then refused with 503.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<SipTlsConfig>,
    /// Host placed in our Via and Record-Route. Defaults to the listen IP when that is
    /// not unspecified (0.0.0.0 / ::).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
    #[serde(default = "default_true")]
    pub record_route: bool,
    #[serde(default)]
    pub identity_policy: IdentityPolicy,
    /// The realm of digest challenges to credential-list trunks, and of the digests new
    /// credentials are kept as.
    #[serde(default = "default_digest_realm")]
    pub digest_realm: String,
    #[serde(default = "default_max_message_size")]
    pub max_message_size: usize,
    #[serde(default = "default_t1_ms")]
    pub t1_ms: u64,
    #[serde(default = "default_t2_ms")]
    pub t2_ms: u64,
    #[serde(default = "default_t4_ms")]
    pub t4_ms: u64,
    #[serde(default = "default_timer_c_secs")]
    pub timer_c_secs: u64,
    #[serde(default = "default_max_transactions")]
    pub max_transactions: usize,
    #[serde(default = "default_max_tcp_connections")]
    pub max_tcp_connections: usize,
    /// A TCP connection that sends nothing (not even a CRLF keep-alive) for this long is
    /// closed.
    #[serde(default = "default_tcp_idle_timeout_secs")]
    pub tcp_idle_timeout_secs: u64,
    /// On SIGTERM, how long the transactions in flight may take to finish while new
    /// requests are refused (503); 0 stops at once.
    #[serde(default = "default_drain_secs")]
    pub drain_secs: u64,
}

/// `[sip.tls]`: SIP over TLS, as server and as client. The certificate and key are read
/// at start and again on SIGHUP; a pair that does not load leaves the current one in use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SipTlsConfig {
    /// TLS listen address (5061 by convention).
    pub listen: SocketAddr,
    /// PEM certificate chain, leaf first, presented to peers: to those that connect, and
    /// to servers that ask callsign for a client certificate.
    pub certificate: PathBuf,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1) of the certificate.
    pub key: PathBuf,
    /// PEM roots the servers callsign connects to are checked against; absent: the
    /// system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// PEM roots client certificates are checked against. When set, peers that connect
    /// are asked for a certificate (mutual TLS); a trunk with `tls_client_names`
    /// requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
    /// A connection whose handshake has not finished after this long is closed.
    #[serde(default = "default_tls_handshake_timeout_ms")]
    pub handshake_timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// HTTP listen address for x5u, CRLs, `/metrics` and the Trust Hub API; absent
    /// disables HTTP.
    #[serde(default = "default_http_listen")]
    pub listen: Option<SocketAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_http_listen(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// PEM chain: the STI leaf first, then intermediates. Served at the x5u path.
    pub certificate: PathBuf,
    /// PEM private key of the leaf (SEC1 or PKCS#8).
    pub key: PathBuf,
    /// The public URL of the chain, placed in every PASSporT.
    pub x5u: String,
    /// `Cache-Control: max-age` for the served chain.
    #[serde(default = "default_x5u_max_age")]
    pub x5u_max_age_secs: u64,
    /// CRL files (DER) served beside the chain, each at the x5u URL's directory plus its
    /// file name, so that CRL Distribution Points under that directory resolve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crls: Vec<PathBuf>,
    /// Where signing identities' key files may be (`PrivateKey` paths are relative to
    /// it and may not leave it). Without it, identities can only use PKCS#11 keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_key_dir: Option<PathBuf>,
    /// The PKCS#11 libraries signing identities may load (`module-path` of a
    /// `pkcs11:` URI), e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pkcs11_modules: Vec<PathBuf>,
    /// The URL prefix of signing identities' chains (`<prefix><SID>.pem`), served by
    /// the HTTP listener at its path. Default: `identities/` beside the x5u.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_x5u_base: Option<String>,
    /// An INVITE whose Date is more than 60 s from now gets no PASSporT (RFC 8224
    /// section 4.1): `refuse` (403 Stale Date, the default) or `unsigned`.
    #[serde(default = "refuse")]
    pub stale_date: Fallback,
    /// A call whose signing certificate is not valid at its signing time (it expired
    /// while callsign ran): `unsigned` (the default) or `refuse` (503).
    #[serde(default = "unsigned")]
    pub invalid_certificate: Fallback,
    /// A call of a suspended account (or of a sub-account of one): absent, it is signed
    /// C (`c_account_suspended`); a status from 400 to 699 refuses it with that status,
    /// and a signing request through the REST API with 403.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_status: Option<u16>,
}

fn refuse() -> Fallback {
    Fallback::Refuse
}

fn unsigned() -> Fallback {
    Fallback::Unsigned
}

/// Where the trust data lives. Exactly one of `store` (the system of record, written by
/// the Trust Hub API) and `file` (a read-only JSON file, watched for changes) is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// Read-only mode: JSON trust data (Twilio Trust Hub field names), reloaded when it
    /// changes and on SIGHUP. The Trust Hub API is off in this mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The system of record: a SQLite database file (created on first run), or a
    /// PostgreSQL URL (`postgres://user:password@host:port/db`) that several nodes share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<PathBuf>,
    /// JSON trust data imported into the store when the store is empty (first run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<PathBuf>,
    /// How often to check `file` for changes; 0 disables watching (SIGHUP still works).
    #[serde(default = "default_watch_ms")]
    pub watch_interval_ms: u64,
    /// `normal` (default) survives a killed process; `full` also survives power loss,
    /// at the cost of an fsync per API write.
    #[serde(default)]
    pub durability: Durability,
    /// On a PostgreSQL store: how often to read the change log besides its
    /// notifications, which are not guaranteed to arrive.
    #[serde(default = "default_feed_poll_ms")]
    pub feed_poll_ms: u64,
    /// `[trust.postgres]`: a PostgreSQL store's connection settings, instead of a URL in
    /// `store` or added to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresConfig>,
}

fn default_feed_poll_ms() -> u64 {
    1000
}

/// The Trust Hub API: the operator's credential, request limits and status callbacks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// The operator's account SID (`AC…`) for HTTP basic auth. It is not an account in
    /// the store: it approves bundles, owns the phone numbers and sees every account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_sid: Option<Sid>,
    /// The operator's auth token; with `operator_sid`, enables the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_auth_token: Option<String>,
    /// Larger request bodies get 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Larger supporting-document files get 413 (Twilio takes up to 10 MB).
    #[serde(default = "default_max_document_bytes")]
    pub max_document_bytes: usize,
    /// Status-callback POST attempts before giving up.
    #[serde(default = "default_callback_attempts")]
    pub callback_attempts: u32,
    /// Delay before the first callback retry; doubled after each failed attempt.
    #[serde(default = "default_callback_backoff_ms")]
    pub callback_backoff_ms: u64,
    /// Timeout of one callback POST.
    #[serde(default = "default_callback_timeout_ms")]
    pub callback_timeout_ms: u64,
    /// Development only: accept `http` status-callback URLs (production needs https).
    #[serde(default)]
    pub callback_allow_http: bool,
    /// Development only: deliver callbacks to loopback addresses.
    #[serde(default)]
    pub callback_allow_loopback: bool,
    /// Deliver callbacks to private and other special-purpose addresses (RFC 6890).
    #[serde(default)]
    pub callback_allow_private: bool,
    /// Let trunks' origination URLs name loopback addresses (development only).
    #[serde(default)]
    pub origination_allow_loopback: bool,
    /// Let trunks' origination URLs name private and other special-purpose addresses
    /// (RFC 6890), for carriers reached over a private interconnect.
    #[serde(default)]
    pub origination_allow_private: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            operator_sid: None,
            operator_auth_token: None,
            max_body_bytes: default_max_body_bytes(),
            max_document_bytes: default_max_document_bytes(),
            callback_attempts: default_callback_attempts(),
            callback_backoff_ms: default_callback_backoff_ms(),
            callback_timeout_ms: default_callback_timeout_ms(),
            callback_allow_http: false,
            callback_allow_loopback: false,
            callback_allow_private: false,
            origination_allow_loopback: false,
            origination_allow_private: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    pub address: SocketAddr,
    #[serde(default = "default_transport")]
    pub transport: Transport,
    /// With `transport = "tls"`: the name the carrier's certificate must carry. Absent:
    /// its certificate must carry its IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    /// Extra source ranges the carrier sends in-dialog requests from (its own address
    /// is always accepted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    pub name: String,
    #[serde(default)]
    pub role: Role,
    /// The customer account (required for signing trunks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<Sid>,
    pub sources: Vec<IpNet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamConfig>,
    /// Stable `origid`; derived from the trunk name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origid: Option<Uuid>,
    /// Requests from this trunk must arrive over TLS; others are refused with 403.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_tls: bool,
    /// Mutual TLS: the trunk's connections must present a certificate that
    /// `[sip.tls] client_ca` accepts and that names one of these (a DNS name in its
    /// subjectAltName, `*.` wildcards included). Implies `require_tls`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_client_names: Vec<String>,
    /// A `redirect` trunk's 302 also embeds the Identity in its Contact (`?Identity=`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contact_identity: bool,
    /// Signed calls carry `P-Attestation-Indicator` and `P-Origination-ID`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attestation_headers: bool,
    /// When callsign cannot sign: `"unsigned"` or a status (`"503"`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "signing_failure_text"
    )]
    pub signing_failure: Option<crate::trust::SigningFailure>,
    /// Which INVITEs are signed: `all` (default), `unsigned`, `never` or `required`
    /// (the last three verify an Identity the trunk sends, and need `[verify]`).
    #[serde(default, skip_serializing_if = "crate::config::is_default")]
    pub sign_policy: crate::trust::SignPolicy,
    /// The status an INVITE without Identity gets under `required` (403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsigned_status: Option<u16>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `signing_failure` as TOML writes it: `"unsigned"` or `"503"`.
mod signing_failure_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::trust::SigningFailure;

    pub fn serialize<S: Serializer>(v: &Option<SigningFailure>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => s.serialize_str(&f.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SigningFailure>, D::Error> {
        let text = String::deserialize(d)?;
        SigningFailure::parse(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "signing_failure must be \"unsigned\" or a status from 400 to 699, got {text:?}"
            ))
        })
    }
}

impl TrunkConfig {
    /// The configured origid, or a name-based UUID (v5) that is stable across restarts.
    pub fn origid(&self) -> Uuid {
        self.origid
            .unwrap_or_else(|| Uuid::new_v5(&ORIGID_NAMESPACE, self.name.as_bytes()))
    }
}

/// Namespace for derived origids (a fixed random UUID, so derived values never collide
/// with other v5 users).
const ORIGID_NAMESPACE: Uuid = Uuid::from_u128(0x5b1c_a7e2_3f0d_4e7b_9a55_1d2c_8e6f_4a10);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// PEM bundle of trusted STI roots. Optional when `trust_list` is set; the roots
    /// trusted are those of both.
    #[serde(default)]
    pub trust_anchors: Option<PathBuf>,
    /// The STI-PA's list of approved STI-CA roots: an https URL (plain http only with
    /// `development = true`) or a file, read at start, every `trust_list_refresh_secs`
    /// and on SIGHUP.
    #[serde(default)]
    pub trust_list: Option<String>,
    /// How often the trust list is fetched (or its file read) again; at least 60.
    #[serde(default = "default_trust_list_refresh_secs")]
    pub trust_list_refresh_secs: u64,
    /// Where the last good trust list is kept, so that a start without the network
    /// still has it (none: not kept).
    #[serde(default)]
    pub trust_list_cache: Option<PathBuf>,
    /// PEM of the certificates trusted to sign the list when it comes signed (the
    /// STI-PA's `sticaList.jwt`, signed by its "STI-PA CA List" certificate).
    #[serde(default)]
    pub trust_list_signers: Option<PathBuf>,
    #[serde(default = "default_freshness_secs")]
    pub freshness_secs: i64,
    #[serde(default)]
    pub on_failure: OnFailure,
    /// Where the failures of a call that goes on are reported: `response` (the first
    /// response back upstream, RFC 9410), `request` (the forwarded INVITE) or `both`.
    #[serde(default)]
    pub feedback: Feedback,
    /// The longest a call waits for certificates to be fetched; past it the call goes on
    /// as `No-TN-Validation`.
    #[serde(default = "default_max_wait_ms")]
    pub max_wait_ms: u64,
    #[serde(default = "default_fetch_timeout_ms")]
    pub fetch_timeout_ms: u64,
    #[serde(default)]
    pub crl: CrlMode,
    /// Allow `http` x5u URLs (local testing only).
    #[serde(default)]
    pub allow_http: bool,
    /// Allow x5u hosts on loopback (local testing only).
    #[serde(default)]
    pub allow_loopback: bool,
    /// Allow x5u hosts in private and other special-purpose ranges.
    #[serde(default)]
    pub allow_private: bool,
    /// How often the trust anchors' file is checked for changes (they are reloaded
    /// when it changed, and on SIGHUP); 0 checks only on SIGHUP.
    #[serde(default = "default_anchors_poll_secs")]
    pub trust_anchors_poll_secs: u64,
    /// PEM bundle of the certificates trusted to sign indirect CRLs: the STI-PA's CRL
    /// signing certificate (`CN=STI-PA CRL`). Certificates whose distribution point
    /// names such a cRLIssuer are checked against the CRL it signed.
    #[serde(default)]
    pub crl_signers: Option<PathBuf>,
    /// Where fetched CRLs are kept so that a restart starts warm (none: memory only).
    #[serde(default)]
    pub crl_cache_dir: Option<PathBuf>,
    /// A CRL held this long is fetched again, even before its nextUpdate.
    #[serde(default = "default_crl_refresh_secs")]
    pub crl_refresh_secs: u64,
    /// A CRL is fetched again this long before its nextUpdate.
    #[serde(default = "default_crl_refresh_secs")]
    pub crl_refresh_before_secs: u64,
    /// A CRL still held this long past its nextUpdate (every refresh failed) is
    /// reported stale in `/metrics` (`callsign_crl_stale`).
    #[serde(default = "default_crl_refresh_secs")]
    pub crl_stale_grace_secs: u64,
}

fn default_anchors_poll_secs() -> u64 {
    60
}

fn default_crl_refresh_secs() -> u64 {
    3600
}

fn default_trust_list_refresh_secs() -> u64 {
    3600
}

impl VerifyConfig {
    /// The defaults, with these trust anchors.
    pub fn with_anchors(trust_anchors: PathBuf) -> VerifyConfig {
        VerifyConfig {
            trust_anchors: Some(trust_anchors),
            trust_list: None,
            trust_list_refresh_secs: default_trust_list_refresh_secs(),
            trust_list_cache: None,
            trust_list_signers: None,
            freshness_secs: default_freshness_secs(),
            on_failure: OnFailure::default(),
            feedback: Feedback::default(),
            max_wait_ms: default_max_wait_ms(),
            fetch_timeout_ms: default_fetch_timeout_ms(),
            crl: CrlMode::default(),
            allow_http: false,
            allow_loopback: false,
            allow_private: false,
            trust_anchors_poll_secs: default_anchors_poll_secs(),
            crl_signers: None,
            crl_cache_dir: None,
            crl_refresh_secs: default_crl_refresh_secs(),
            crl_refresh_before_secs: default_crl_refresh_secs(),
            crl_stale_grace_secs: default_crl_refresh_secs(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_digest_realm() -> String {
    crate::trust::DIGEST_REALM.to_owned()
}
fn default_max_message_size() -> usize {
    16 * 1024
}
fn default_t1_ms() -> u64 {
    500
}
fn default_t2_ms() -> u64 {
    4000
}
fn default_t4_ms() -> u64 {
    5000
}
/// RFC 3261 16.6 item 11: Timer C must be greater than 3 minutes.
fn default_timer_c_secs() -> u64 {
    181
}
fn default_max_transactions() -> usize {
    500_000
}
fn default_freshness_secs() -> i64 {
    60
}
fn default_max_wait_ms() -> u64 {
    2000
}
fn default_fetch_timeout_ms() -> u64 {
    2000
}
fn default_max_tcp_connections() -> usize {
    4096
}
fn default_tcp_idle_timeout_secs() -> u64 {
    600
}
/// Long enough for Timer B's 32 s, within systemd's default 90 s stop timeout.
fn default_drain_secs() -> u64 {
    32
}
fn default_http_listen() -> Option<SocketAddr> {
    Some(SocketAddr::from(([127, 0, 0, 1], 8080)))
}
fn default_x5u_max_age() -> u64 {
    86_400
}
fn default_watch_ms() -> u64 {
    1000
}
fn default_max_body_bytes() -> usize {
    64 * 1024
}
fn default_max_document_bytes() -> usize {
    10 * 1024 * 1024
}
fn default_callback_attempts() -> u32 {
    5
}
fn default_callback_backoff_ms() -> u64 {
    1000
}
fn default_callback_timeout_ms() -> u64 {
    5000
}
fn default_sti_rest_max_body() -> usize {
    16 * 1024
}
fn default_sti_rest_max_connections() -> usize {
    1024
}
fn default_sti_rest_iat_window() -> u64 {
    60
}
fn default_tls_handshake_timeout_ms() -> u64 {
    5_000
}
fn default_transport() -> Transport {
    Transport::Udp
}

impl Config {
    /// Reads, parses and validates a config file, resolving relative paths against its
    /// directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            kind: e.kind(),
            reason: e.to_string(),
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        // Before validation, which reads some of the files named.
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.validate()?;
        Ok(config)
    }

    /// Parses and validates config text (paths stay as written).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: PathBuf::new(),
            source: Box::new(source),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The config as TOML text that [`Config::from_toml`] reads back unchanged.
    pub fn to_toml(&self) -> String {
        // Every field serializes to TOML (no maps with non-string keys, no NaN floats).
        toml::to_string(self).unwrap_or_default()
    }

    fn resolve_paths(&mut self, base: &Path) {
        let (verify, crl_signers, crl_cache_dir, list_cache, list_signers) =
            match self.verify.as_mut() {
                Some(v) => {
                    // A trust list that is a file, not a URL.
                    if let Some(list) = v.trust_list.as_mut()
                        && !TrustListSource::is_url(list)
                        && Path::new(list.as_str()).is_relative()
                    {
                        *list = base.join(&*list).to_string_lossy().into_owned();
                    }
                    (
                        v.trust_anchors.as_mut(),
                        v.crl_signers.as_mut(),
                        v.crl_cache_dir.as_mut(),
                        v.trust_list_cache.as_mut(),
                        v.trust_list_signers.as_mut(),
                    )
                }
                None => (None, None, None, None, None),
            };
        // A database URL is not a path.
        let store = (self.trust.store.as_mut()).filter(|p| crate::store::database_url(p).is_none());
        let pg = self.trust.postgres.as_mut();
        let (password_file, ca) = pg.map_or((None, None), |p| {
            (p.password_file.as_mut(), p.sslrootcert.as_mut())
        });
        let optional = [
            self.trust.file.as_mut(),
            store,
            password_file,
            ca,
            self.trust.seed.as_mut(),
            self.signing.identity_key_dir.as_mut(),
            verify,
            crl_signers,
            crl_cache_dir,
            list_cache,
            list_signers,
        ];
        let required = [&mut self.signing.certificate, &mut self.signing.key];
        let crls = self.signing.crls.iter_mut();
        let tls = self.sip.tls.as_mut().into_iter().flat_map(|t| {
            [
                Some(&mut t.certificate),
                Some(&mut t.key),
                t.ca.as_mut(),
                t.client_ca.as_mut(),
            ]
            .into_iter()
            .flatten()
        });
        for p in required
            .into_iter()
            .chain(optional.into_iter().flatten())
            .chain(crls)
            .chain(tls)
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The host we put in Via and Record-Route.
    pub fn advertised_host(&self) -> String {
        match &self.sip.advertise {
            Some(h) => h.clone(),
            None => {
                let tls = self.sip.tls.as_ref().map(|t| t.listen);
                let ip = self.sip.udp.or(self.sip.tcp).or(tls).map(|a| a.ip());
                match ip {
                    Some(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
                    Some(ip) => ip.to_string(),
                    None => "127.0.0.1".into(),
                }
            }
        }
    }

    /// The URL prefix of signing identities' chains: `identity_x5u_base`, or
    /// `identities/` in the x5u URL's directory.
    pub fn identity_x5u_base(&self) -> String {
        match &self.signing.identity_x5u_base {
            Some(base) if base.ends_with('/') => base.clone(),
            Some(base) => format!("{base}/"),
            None => {
                let x5u = &self.signing.x5u;
                let dir = x5u.rsplit_once('/').map_or(x5u.as_str(), |(d, _)| d);
                format!("{dir}/identities/")
            }
        }
    }

    /// The path part of [`Config::identity_x5u_base`], where the HTTP listener serves
    /// the identities' chains.
    pub fn identity_x5u_path(&self) -> String {
        url_path(&self.identity_x5u_base())
    }

    /// The path part of the x5u URL, which the HTTP listener serves the chain at.
    pub fn x5u_path(&self) -> String {
        url_path(&self.signing.x5u)
    }
}

/// The path of an http(s) URL (`/` when it has none).
fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".to_string(),
    }
}

#[cfg(test)]
mod tests;
