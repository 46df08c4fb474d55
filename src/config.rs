//! The TOML configuration: listeners, signing material, numbering, trust data and trunks.
//!
//! Every table denies unknown fields, defaults are named functions, and [`Config::validate`]
//! checks what serde cannot (a trunk without sources, an x5u that is not a URL, ...).
//! Relative paths are resolved against the directory holding the config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use uuid::Uuid;

use crate::tn::Numbering;

/// Errors found while reading or checking the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
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
    #[serde(default, rename = "trunk")]
    pub trunks: Vec<TrunkConfig>,
    /// Settings for trunks with `role = "verify"`.
    pub verify: Option<VerifyConfig>,
}

/// What callsign does with initial INVITEs from a trunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Outbound calls from a customer: attest and sign.
    #[default]
    Sign,
    /// Inbound calls from another carrier: verify their Identity and mark `verstat`.
    Verify,
}

/// What a verifying trunk does with a call whose Identity fails verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Forward it with `verstat=TN-Validation-Failed` and a `Reason` header.
    #[default]
    Forward,
    /// Refuse it with the failure's 4xx code.
    Reject,
}

/// Revocation checking of the certificates behind Identity headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrlCheck {
    #[default]
    BestEffort,
    Require,
    Off,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// PEM bundle of the trusted STI roots.
    pub trust_anchors: PathBuf,
    #[serde(default = "default_freshness_secs")]
    pub freshness_secs: i64,
    #[serde(default)]
    pub on_failure: OnFailure,
    /// The longest a call waits for certificates to be fetched; past it the call goes on
    /// as `No-TN-Validation`.
    #[serde(default = "default_max_wait_ms")]
    pub max_wait_ms: u64,
    #[serde(default = "default_fetch_timeout_ms")]
    pub fetch_timeout_ms: u64,
    #[serde(default)]
    pub crl: CrlCheck,
    /// Allow `http` x5u URLs (local testing only).
    #[serde(default)]
    pub allow_http: bool,
    /// Allow x5u hosts on loopback (local testing only).
    #[serde(default)]
    pub allow_loopback: bool,
    /// Allow x5u hosts in private and other special-purpose ranges.
    #[serde(default)]
    pub allow_private: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// UDP listen address; absent disables UDP.
    pub udp: Option<SocketAddr>,
    /// TCP listen address; absent disables TCP.
    pub tcp: Option<SocketAddr>,
    /// Host placed in our Via and Record-Route. Defaults to the listen IP when that is
    /// not unspecified (0.0.0.0 / ::).
    pub advertise: Option<String>,
    #[serde(default = "default_record_route")]
    pub record_route: bool,
    #[serde(default)]
    pub identity_policy: IdentityPolicy,
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
}

/// What to do with an `Identity` header that arrives from a trunk (it is untrusted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// HTTP listen address for x5u and /metrics; absent disables HTTP.
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

#[derive(Debug, Clone, Deserialize)]
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
    #[serde(default)]
    pub crls: Vec<PathBuf>,
}

/// Where the trust data lives. Exactly one of `store` (the system of record, written by
/// the Trust Hub API) and `file` (a read-only JSON file, watched for changes) is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// Read-only mode: JSON trust data (Twilio Trust Hub field names), reloaded when it
    /// changes and on SIGHUP. The Trust Hub API is off in this mode.
    pub file: Option<PathBuf>,
    /// The SQLite database holding the trust data; created on first run.
    pub store: Option<PathBuf>,
    /// JSON trust data imported into the store when the store is empty (first run).
    pub seed: Option<PathBuf>,
    /// How often to check `file` for changes; 0 disables watching (SIGHUP still works).
    #[serde(default = "default_watch_ms")]
    pub watch_interval_ms: u64,
    /// `normal` (default) survives a killed process; `full` also survives power loss,
    /// at the cost of an fsync per API write.
    #[serde(default)]
    pub durability: Durability,
}

/// SQLite's `synchronous` setting for the store (WAL mode either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    #[default]
    Normal,
    Full,
}

/// The Trust Hub API: the operator's credential and request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// The operator's account SID (`AC…`) for HTTP basic auth. It is not an account in
    /// the store: it approves bundles, owns the phone numbers and sees every account.
    pub operator_sid: Option<String>,
    /// The operator's auth token; with `operator_sid`, enables the operator.
    pub operator_auth_token: Option<String>,
    /// Larger request bodies get 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Status-callback POST attempts before giving up.
    #[serde(default = "default_callback_attempts")]
    pub callback_attempts: u32,
    /// Delay before the first callback retry; doubled after each failed attempt.
    #[serde(default = "default_callback_backoff_ms")]
    pub callback_backoff_ms: u64,
    /// Timeout of one callback POST.
    #[serde(default = "default_callback_timeout_ms")]
    pub callback_timeout_ms: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            operator_sid: None,
            operator_auth_token: None,
            max_body_bytes: default_max_body_bytes(),
            callback_attempts: default_callback_attempts(),
            callback_backoff_ms: default_callback_backoff_ms(),
            callback_timeout_ms: default_callback_timeout_ms(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
    pub fn param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    pub address: SocketAddr,
    #[serde(default = "default_transport")]
    pub transport: Transport,
    /// Extra source ranges the carrier sends in-dialog requests from (its own address
    /// is always accepted).
    #[serde(default)]
    pub sources: Vec<IpNet>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    pub name: String,
    #[serde(default)]
    pub role: Role,
    /// The customer account (required for signing trunks).
    #[serde(default)]
    pub account_sid: Option<String>,
    pub sources: Vec<IpNet>,
    pub upstream: Option<UpstreamConfig>,
    /// Stable `origid`; derived from the trunk name when absent.
    pub origid: Option<Uuid>,
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

fn default_record_route() -> bool {
    true
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
fn default_callback_attempts() -> u32 {
    5
}
fn default_callback_backoff_ms() -> u64 {
    1000
}
fn default_callback_timeout_ms() -> u64 {
    5000
}
fn default_transport() -> Transport {
    Transport::Udp
}

impl SipConfig {
    pub fn t1(&self) -> Duration {
        Duration::from_millis(self.t1_ms)
    }
    pub fn t2(&self) -> Duration {
        Duration::from_millis(self.t2_ms)
    }
    pub fn t4(&self) -> Duration {
        Duration::from_millis(self.t4_ms)
    }
    pub fn timer_c(&self) -> Duration {
        Duration::from_secs(self.timer_c_secs)
    }
    pub fn tcp_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.tcp_idle_timeout_secs)
    }
}

impl Config {
    /// Reads, parses and validates a config file, resolving relative paths against its
    /// directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
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

    fn resolve_paths(&mut self, base: &Path) {
        let verify = self.verify.as_mut().map(|v| &mut v.trust_anchors);
        let optional = [
            self.trust.file.as_mut(),
            self.trust.store.as_mut(),
            self.trust.seed.as_mut(),
            verify,
        ];
        let required = [&mut self.signing.certificate, &mut self.signing.key];
        let crls = self.signing.crls.iter_mut();
        for p in required
            .into_iter()
            .chain(optional.into_iter().flatten())
            .chain(crls)
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Checks what the types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.sip.udp.is_none() && self.sip.tcp.is_none() {
            return bad("[sip] needs at least one of `udp` or `tcp`".into());
        }
        if self.sip.advertise.is_none() {
            let unspecified = [self.sip.udp, self.sip.tcp]
                .into_iter()
                .flatten()
                .any(|a| a.ip().is_unspecified());
            if unspecified {
                return bad("[sip] listens on an unspecified address: set `advertise`".into());
            }
        }
        if self.sip.t1_ms == 0 || self.sip.t2_ms < self.sip.t1_ms {
            return bad("[sip] needs t1_ms > 0 and t2_ms >= t1_ms".into());
        }
        if self.sip.timer_c_secs == 0 || self.sip.tcp_idle_timeout_secs == 0 {
            return bad("[sip] timer_c_secs and tcp_idle_timeout_secs must be > 0".into());
        }
        if self.sip.max_message_size < 1024 || self.sip.max_message_size > 65_535 {
            return bad("[sip] max_message_size must be within 1024..=65535".into());
        }
        if !(self.signing.x5u.starts_with("https://") || self.signing.x5u.starts_with("http://")) {
            return bad(format!(
                "[signing] x5u must be an http(s) URL, got {:?}",
                self.signing.x5u
            ));
        }
        match (&self.trust.file, &self.trust.store) {
            (Some(_), Some(_)) | (None, None) => {
                return bad("[trust] needs exactly one of `store` or `file`".into());
            }
            (Some(_), None) if self.trust.seed.is_some() => {
                return bad("[trust] `seed` goes with `store`, not `file`".into());
            }
            _ => {}
        }
        match (&self.api.operator_sid, &self.api.operator_auth_token) {
            (Some(sid), Some(token)) => {
                if crate::trust::Sid::parse(sid, "AC").is_err() {
                    return bad(format!("[api] operator_sid {sid:?} is not an AC sid"));
                }
                if token.len() < 16 {
                    return bad("[api] operator_auth_token needs at least 16 characters".into());
                }
            }
            (None, None) => {}
            _ => return bad("[api] set both operator_sid and operator_auth_token".into()),
        }
        if self.api.max_body_bytes < 1024 {
            return bad("[api] max_body_bytes must be at least 1024".into());
        }
        let mut names = std::collections::HashSet::new();
        for t in &self.trunks {
            if !names.insert(t.name.as_str()) {
                return bad(format!("trunk {:?} is defined twice", t.name));
            }
            if t.sources.is_empty() {
                return bad(format!("trunk {:?} has no sources", t.name));
            }
            match (&t.account_sid, t.role) {
                (Some(sid), _) if crate::trust::Sid::parse(sid, "AC").is_err() => {
                    return bad(format!(
                        "trunk {:?}: account_sid {sid:?} is not an AC sid",
                        t.name
                    ));
                }
                (None, Role::Sign) => {
                    return bad(format!(
                        "trunk {:?} signs, so it needs an account_sid",
                        t.name
                    ));
                }
                _ => {}
            }
            if t.role == Role::Verify && self.verify.is_none() {
                return bad(format!(
                    "trunk {:?} verifies, so the config needs a [verify] table",
                    t.name
                ));
            }
        }
        Ok(())
    }

    /// The host we put in Via and Record-Route.
    pub fn advertised_host(&self) -> String {
        match &self.sip.advertise {
            Some(h) => h.clone(),
            None => {
                let ip = self.sip.udp.or(self.sip.tcp).map(|a| a.ip());
                match ip {
                    Some(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
                    Some(ip) => ip.to_string(),
                    None => "127.0.0.1".into(),
                }
            }
        }
    }

    /// The path part of the x5u URL, which the HTTP listener serves the chain at.
    pub fn x5u_path(&self) -> String {
        let rest = self
            .signing
            .x5u
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or("");
        match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../config/callsign.toml");

    #[test]
    fn shipped_config_loads() {
        let c = Config::from_toml(SHIPPED).expect("shipped config is valid");
        assert!(!c.trunks.is_empty());
        assert_eq!(c.x5u_path(), "/certs/chain.pem");
        assert!(c.trust.store.is_some() && c.trust.seed.is_some() && c.trust.file.is_none());
        assert!(c.api.operator_sid.is_some());
    }

    #[test]
    fn every_unknown_key_is_refused() {
        // Corrupt the shipped file one way at a time: each must fail to parse.
        for (from, to) in [
            ("[sip]", "[sip]\nbogus = 1"),
            ("[signing]", "[signing]\nbogus = 1"),
            ("[trust]", "[trust]\nbogus = 1"),
            ("[api]", "[api]\nbogus = 1"),
            ("[upstream]", "[upstream]\nbogus = 1"),
            ("[[trunk]]", "[[trunk]]\nbogus = 1"),
        ] {
            let text = SHIPPED.replacen(from, to, 1);
            assert!(Config::from_toml(&text).is_err(), "accepted {to:?}");
        }
    }

    #[test]
    fn validation_catches_semantic_errors() {
        let cases = [
            ("sources = [", "sources = [] #"),
            ("x5u = \"", "x5u = \"ftp://"),
            ("account_sid = \"AC", "account_sid = \"XX"),
            ("store = ", "file = \"trust.json\"\nstore = "),
            ("[trust]\nstore = \"../var/callsign.db\"", "[trust]"),
            ("store = \"../var/callsign.db\"", "file = \"trust.json\""),
            ("operator_sid = \"AC", "operator_sid = \"XX"),
            ("operator_auth_token = \"", "operator_auth_token = \"x\" #"),
            ("[api]", "[api]\nmax_body_bytes = 10"),
        ];
        for (from, to) in cases {
            let text = SHIPPED.replacen(from, to, 1);
            match Config::from_toml(&text) {
                Err(ConfigError::Invalid(_)) => {}
                other => panic!("{to:?}: expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn derived_origid_is_stable_and_distinct() {
        let t = |name: &str| TrunkConfig {
            name: name.into(),
            role: Role::Sign,
            account_sid: None,
            sources: vec![],
            upstream: None,
            origid: None,
        };
        assert_eq!(t("a").origid(), t("a").origid());
        assert_ne!(t("a").origid(), t("b").origid());
    }
}
