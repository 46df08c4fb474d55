//! What serde cannot check in a config, and [`ConfigError`], whose variants name the
//! problem and the key at fault.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::Config;
use crate::proxy::Role;
use crate::trust::Sid;
use crate::verify::TrustListSource;

/// Whether two address ranges share an address.
fn overlap(a: &ipnet::IpNet, b: &ipnet::IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A DNS name as a certificate carries it, or a `*.` wildcard over one: labels of
/// letters, digits and `-`, joined by dots.
fn is_dns_pattern(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The checked-in development signing key, public in the repository.
const DEV_LEAF_KEY: &str = include_str!("../../certs/dev/leaf.key");
/// The operator token of the shipped sample config.
pub const SAMPLE_OPERATOR_TOKEN: &str = "dev-operator-token-change-me";

/// The longest `[sip] drain_secs` accepted.
const MAX_DRAIN_SECS: u64 = 3600;

/// The largest `[api] max_document_bytes`: 64 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// Why a config could not be used. Each validation variant names the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {reason}")]
    Read {
        path: PathBuf,
        kind: io::ErrorKind,
        reason: String,
    },
    #[error("invalid config {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("[sip] needs at least one of `udp`, `tcp` or a [sip.tls] table")]
    NoSipListener,
    #[error("[sti_rest] {0}")]
    StiRest(String),
    #[error("[vetting] {0}")]
    Vetting(String),
    #[error("[signing] suspended_status = {0}: must be a SIP status from 400 to 699")]
    SuspendedStatus(u16),
    #[error("{0} needs SIP over TLS: add a [sip.tls] table")]
    TlsNotConfigured(String),
    #[error(
        "[[trunk]] {0:?} has `tls_client_names`, so [sip.tls] needs `client_ca` (the roots client certificates are checked against)"
    )]
    ClientCaMissing(String),
    #[error(
        "[[trunk]] {trunk:?}: `tls_client_names` entry {name:?} is not a DNS name (letters, digits, `-` and `.`, with an optional leading `*.`)"
    )]
    TlsClientName { trunk: String, name: String },
    #[error("{table} `tls_name` = {name:?} is not a DNS name (letters, digits, `-` and `.`)")]
    TlsName { table: String, name: String },
    #[error("{0} sets `tls_name`, which only means something with `transport = \"tls\"`")]
    TlsNameWithoutTls(String),
    #[error("[sip] listens on the unspecified address {0}: set `advertise`")]
    AdvertiseRequired(SocketAddr),
    #[error("[sip] `t1_ms` must be more than 0")]
    ZeroT1,
    #[error("[sip] `t2_ms` ({t2_ms}) must be at least `t1_ms` ({t1_ms})")]
    T2BelowT1 { t1_ms: u64, t2_ms: u64 },
    #[error("[sip] `{0}` must be more than 0")]
    ZeroDuration(&'static str),
    #[error(
        "[sip] `digest_realm` must be 1 to 64 visible ASCII characters without `\"` or `\\`, got {0:?}"
    )]
    DigestRealm(String),
    #[error("[sip] `max_message_size` must be within 1024..=65535, got {0}")]
    MessageSize(usize),
    #[error("{table} `{key}` = {value:?}: {problem}")]
    X5u {
        table: &'static str,
        key: &'static str,
        value: String,
        problem: &'static str,
    },
    #[error("[trust] needs exactly one of `store` (or a [trust.postgres] table) or `file`")]
    TrustSource,
    #[error("[trust.postgres] goes with a PostgreSQL store, but `store` names a SQLite file ({0})")]
    PostgresWithSqlite(PathBuf),
    #[error("[trust.postgres] set `password` or `password_file`, not both")]
    PasswordTwice,
    #[error("[trust.postgres] cannot read `password_file` {path}: {reason}")]
    PasswordFile { path: PathBuf, reason: String },
    #[error("[trust] PostgreSQL store: {0}")]
    Postgres(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("[trust] `seed` goes with `store`, not `file`")]
    SeedWithoutStore,
    #[error("[api] `operator_sid` {0} is not an account (AC…) SID")]
    OperatorSidKind(Sid),
    #[error("[api] `operator_auth_token` needs at least 16 characters")]
    OperatorTokenTooShort,
    #[error("[api] set both `operator_sid` and `operator_auth_token`, or neither")]
    OperatorHalfSet,
    #[error("[api] `max_body_bytes` must be at least 1024, got {0}")]
    BodyLimit(usize),
    #[error(
        "[[trunk]] {first:?} and {second:?} share addresses ({first_net} and {second_net} in `sources`): one source address must belong to one trunk"
    )]
    TrunkSourcesOverlap {
        first: String,
        first_net: String,
        second: String,
        second_net: String,
    },
    #[error(
        "[sip] `drain_secs` must be at most 3600 (an hour), got {0}: a stop should not wait longer than that"
    )]
    DrainTooLong(u64),
    #[error(
        "[sip] `timer_c_secs` must be more than 180 (RFC 3261 section 16.8: Timer C exceeds 3 minutes), got {0}"
    )]
    TimerC(u64),
    #[error(
        "listening on {listen}, beyond loopback, with development settings: {problems}; or set `development = true` at the top of the config if this is a development machine"
    )]
    UnsafeExposure {
        listen: SocketAddr,
        problems: String,
    },
    #[error(
        "[api] `max_document_bytes` must be between 1024 and {max} (files are held in memory while they are checked and stored), got {0}",
        max = MAX_DOCUMENT_BYTES
    )]
    DocumentLimit(usize),
    #[error("[[trunk]] {0:?} is defined twice (`name`)")]
    DuplicateTrunk(String),
    #[error("[[trunk]] {0:?} has no `sources`")]
    TrunkWithoutSources(String),
    #[error("[[trunk]] {trunk:?}: `account_sid` {sid} is not an account (AC…) SID")]
    TrunkAccountKind { trunk: String, sid: Sid },
    #[error("[[trunk]] {0:?} signs, so it needs an `account_sid`")]
    SigningTrunkWithoutAccount(String),
    #[error(
        "[[trunk]] {0:?} verifies (`role`, or a `sign_policy` other than all), so the config needs a [verify] table"
    )]
    VerifyingTrunkWithoutVerify(String),
    #[error("[[trunk]] {0:?}: `unsigned_status` must be from 400 to 699")]
    UnsignedStatus(String),
    #[error(
        "[verify] `crl_refresh_secs` must be at least {min} (each CRL is fetched again that often), got {0}",
        min = MIN_CRL_REFRESH_SECS
    )]
    CrlRefresh(u64),
    #[error(
        "[verify] needs trusted roots: set `trust_anchors` (a PEM file), `trust_list` (the STI-PA's list of approved STI-CA roots, a URL or a file), or both"
    )]
    NoTrustAnchors,
    #[error(
        "[verify] `trust_list_refresh_secs` must be at least {min} (the list is fetched again that often), got {0}",
        min = MIN_TRUST_LIST_REFRESH_SECS
    )]
    TrustListRefresh(u64),
}

/// The shortest `[verify] crl_refresh_secs`: CRLs are published daily or so, and their
/// publishers should not be polled harder than this.
const MIN_CRL_REFRESH_SECS: u64 = 60;

/// The shortest `[verify] trust_list_refresh_secs`: the STI-PA changes its list a few
/// times a year, and whoever publishes it should not be polled harder than this.
const MIN_TRUST_LIST_REFRESH_SECS: u64 = 60;

/// A URL certificates are fetched from: an x5u verifiers will fetch (ATIS-1000074, RFC
/// 8224 section 7.2), or the trust list callsign fetches. `https`, a host, and no
/// userinfo, query or fragment. Plain `http` only on a development machine. `table` and
/// `key` name the setting.
fn check_x5u(
    table: &'static str,
    key: &'static str,
    value: &str,
    development: bool,
) -> Result<(), ConfigError> {
    let refuse = |problem| {
        Err(ConfigError::X5u {
            table,
            key,
            value: value.to_owned(),
            problem,
        })
    };
    let Ok(url) = reqwest::Url::parse(value) else {
        return refuse("not a URL");
    };
    match url.scheme() {
        "https" => {}
        "http" if development => {}
        "http" => {
            return refuse(
                "plain http: certificates are fetched over https (a development machine \
                 says `development = true` at the top of the config)",
            );
        }
        _ => return refuse("must be an https URL"),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return refuse("has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("must not carry userinfo (user:password@)");
    }
    if url.query().is_some() {
        return refuse("must not carry a query (?...)");
    }
    if url.fragment().is_some() {
        return refuse("must not carry a fragment (#...)");
    }
    Ok(())
}

impl Config {
    /// Checks what the types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_sip()?;
        check_x5u("[signing]", "x5u", &self.signing.x5u, self.development)?;
        if let Some(base) = &self.signing.identity_x5u_base {
            check_x5u("[signing]", "identity_x5u_base", base, self.development)?;
        }
        let store = self.trust.store.is_some() || self.trust.postgres.is_some();
        match (&self.trust.file, store) {
            (Some(_), true) | (None, false) => return Err(ConfigError::TrustSource),
            (Some(_), false) if self.trust.seed.is_some() => {
                return Err(ConfigError::SeedWithoutStore);
            }
            _ => {}
        }
        // A table is checked whole here; a URL alone, when the store opens.
        if self.trust.postgres.is_some() {
            self.trust.location()?;
        }
        self.validate_api()?;
        self.validate_trunks()?;
        self.validate_verify()?;
        self.validate_sti_rest()?;
        self.validate_vetting()?;
        self.validate_exposure()
    }

    fn validate_vetting(&self) -> Result<(), ConfigError> {
        if let Some(status) = self.signing.suspended_status
            && !(400..=699).contains(&status)
        {
            return Err(ConfigError::SuspendedStatus(status));
        }
        let v = &self.vetting;
        if v.dormant_after_days > 3650 {
            return Err(ConfigError::Vetting(format!(
                "dormant_after_days = {}: must be from 0 (never) to 3650",
                v.dormant_after_days
            )));
        }
        for (key, hours) in [
            (
                "customer_profile_deadline_hours",
                v.customer_profile_deadline_hours,
            ),
            (
                "trust_product_deadline_hours",
                v.trust_product_deadline_hours,
            ),
        ] {
            if !(1..=8760).contains(&hours) {
                return Err(ConfigError::Vetting(format!(
                    "{key} = {hours}: must be from 1 to 8760 (a year)"
                )));
            }
        }
        Ok(())
    }

    fn validate_sti_rest(&self) -> Result<(), ConfigError> {
        let Some(r) = &self.sti_rest else {
            return Ok(());
        };
        let bad = |why: String| Err(ConfigError::StiRest(why));
        if r.listen.is_none() && self.http.listen.is_none() {
            return bad("needs `listen`, or an [http] listen to be served on".into());
        }
        if r.tls.is_some() && r.listen.is_none() {
            return bad("[sti_rest.tls] needs [sti_rest] `listen` (its own listener)".into());
        }
        if !(256..=1024 * 1024).contains(&r.max_body_bytes) {
            return bad(format!(
                "max_body_bytes = {}: must be from 256 to 1048576",
                r.max_body_bytes
            ));
        }
        if r.max_connections == 0 {
            return bad("max_connections must be at least 1".into());
        }
        if !(1..=600).contains(&r.iat_window_secs) {
            return bad(format!(
                "iat_window_secs = {}: must be from 1 to 600",
                r.iat_window_secs
            ));
        }
        if r.tls.as_ref().is_some_and(|t| t.handshake_timeout_ms == 0) {
            return bad("[sti_rest.tls] handshake_timeout_ms must not be 0".into());
        }
        let client_ca = r.tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        let mut names = std::collections::HashSet::new();
        let mut users = std::collections::HashSet::new();
        for c in &r.clients {
            let at = format!("[[sti_rest.client]] {:?}", c.name);
            if c.name.is_empty() || !names.insert(c.name.as_str()) {
                return bad(format!("{at}: `name` must be set and unique"));
            }
            match (&c.username, &c.password_sha256) {
                (Some(u), Some(h)) => {
                    let hex = h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
                    if !hex {
                        return bad(format!(
                            "{at}: `password_sha256` must be 64 hex digits (printf %s \"$PASSWORD\" | sha256sum)"
                        ));
                    }
                    if u.is_empty() || u.contains(':') || !users.insert(u.as_str()) {
                        return bad(format!(
                            "{at}: `username` must be unique, not empty, and without ':'"
                        ));
                    }
                }
                (None, None) => {}
                _ => {
                    return bad(format!(
                        "{at}: `username` and `password_sha256` go together"
                    ));
                }
            }
            if c.username.is_none() && c.tls_names.is_empty() {
                return bad(format!(
                    "{at}: needs `username` and `password_sha256`, or `tls_names`"
                ));
            }
            if !c.tls_names.is_empty() && !client_ca {
                return bad(format!(
                    "{at}: `tls_names` needs [sti_rest.tls] `client_ca`"
                ));
            }
            if let Some(n) = c.tls_names.iter().find(|n| !is_dns_pattern(n)) {
                return bad(format!("{at}: `tls_names` entry {n:?} is not a DNS name"));
            }
        }
        Ok(())
    }

    fn validate_verify(&self) -> Result<(), ConfigError> {
        let Some(v) = &self.verify else {
            return Ok(());
        };
        if v.crl_refresh_secs < MIN_CRL_REFRESH_SECS {
            return Err(ConfigError::CrlRefresh(v.crl_refresh_secs));
        }
        if v.trust_anchors.is_none() && v.trust_list.is_none() {
            return Err(ConfigError::NoTrustAnchors);
        }
        if let Some(list) = &v.trust_list
            && TrustListSource::is_url(list)
        {
            check_x5u("[verify]", "trust_list", list, self.development)?;
        }
        if v.trust_list_refresh_secs < MIN_TRUST_LIST_REFRESH_SECS {
            return Err(ConfigError::TrustListRefresh(v.trust_list_refresh_secs));
        }
        Ok(())
    }

    /// Listening beyond loopback with what is only for development (the public dev key,
    /// the sample operator token) is refused unless `development = true` says it is
    /// meant; the error names each thing to change. (A plain-http x5u needs `development
    /// = true` wherever callsign listens: [`check_x5u`].)
    fn validate_exposure(&self) -> Result<(), ConfigError> {
        let tls = self.sip.tls.as_ref().map(|t| t.listen);
        let rest = self.sti_rest.as_ref().and_then(|r| r.listen);
        let exposed: Vec<SocketAddr> = [self.sip.udp, self.sip.tcp, tls, self.http.listen, rest]
            .into_iter()
            .flatten()
            .filter(|a| !a.ip().is_loopback())
            .collect();
        let Some(first) = exposed.first() else {
            return Ok(());
        };
        if self.development {
            return Ok(());
        }
        let mut problems = Vec::new();
        let dev_key = std::fs::read_to_string(&self.signing.key)
            .is_ok_and(|k| k.trim() == DEV_LEAF_KEY.trim());
        if dev_key {
            problems.push(
                "[signing] key is the public development key (certs/dev/leaf.key): sign with \
                 your own key and STI-CA certificate",
            );
        }
        if self.api.operator_auth_token.as_deref() == Some(SAMPLE_OPERATOR_TOKEN) {
            problems
                .push("[api] operator_auth_token is the sample token: set a secret of your own");
        }
        match problems.is_empty() {
            true => Ok(()),
            false => Err(ConfigError::UnsafeExposure {
                listen: *first,
                problems: problems.join("; "),
            }),
        }
    }

    fn validate_sip(&self) -> Result<(), ConfigError> {
        let sip = &self.sip;
        let tls = sip.tls.as_ref().map(|t| t.listen);
        if sip.udp.is_none() && sip.tcp.is_none() && tls.is_none() {
            return Err(ConfigError::NoSipListener);
        }
        if sip.advertise.is_none()
            && let Some(addr) = [sip.udp, sip.tcp, tls]
                .into_iter()
                .flatten()
                .find(|a| a.ip().is_unspecified())
        {
            return Err(ConfigError::AdvertiseRequired(addr));
        }
        if sip.t1_ms == 0 {
            return Err(ConfigError::ZeroT1);
        }
        let realm = &sip.digest_realm;
        let realm_ok = (1..=64).contains(&realm.len())
            && realm
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !realm_ok {
            return Err(ConfigError::DigestRealm(realm.clone()));
        }
        if sip.t2_ms < sip.t1_ms {
            return Err(ConfigError::T2BelowT1 {
                t1_ms: sip.t1_ms,
                t2_ms: sip.t2_ms,
            });
        }
        let handshake = sip.tls.as_ref().map_or(1, |t| t.handshake_timeout_ms);
        for (key, value) in [
            ("timer_c_secs", sip.timer_c_secs),
            ("tcp_idle_timeout_secs", sip.tcp_idle_timeout_secs),
            ("tls.handshake_timeout_ms", handshake),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroDuration(key));
            }
        }
        // RFC 3261 section 16.8: Timer C is greater than 3 minutes.
        if sip.timer_c_secs <= 180 && sip.timer_c_secs != 0 {
            return Err(ConfigError::TimerC(sip.timer_c_secs));
        }
        if sip.drain_secs > MAX_DRAIN_SECS {
            return Err(ConfigError::DrainTooLong(sip.drain_secs));
        }
        if !(1024..=65_535).contains(&sip.max_message_size) {
            return Err(ConfigError::MessageSize(sip.max_message_size));
        }
        Ok(())
    }

    fn validate_api(&self) -> Result<(), ConfigError> {
        let api = &self.api;
        match (&api.operator_sid, &api.operator_auth_token) {
            (Some(sid), Some(token)) => {
                if !sid.is("AC") {
                    return Err(ConfigError::OperatorSidKind(*sid));
                }
                if token.len() < 16 {
                    return Err(ConfigError::OperatorTokenTooShort);
                }
            }
            (None, None) => {}
            _ => return Err(ConfigError::OperatorHalfSet),
        }
        if api.max_body_bytes < 1024 {
            return Err(ConfigError::BodyLimit(api.max_body_bytes));
        }
        if !(1024..=MAX_DOCUMENT_BYTES).contains(&api.max_document_bytes) {
            return Err(ConfigError::DocumentLimit(api.max_document_bytes));
        }
        Ok(())
    }

    /// What needs `[sip.tls]` has it: an upstream reached over TLS, a trunk that must
    /// use it, a trunk that authenticates by certificate.
    fn validate_tls(&self) -> Result<(), ConfigError> {
        let upstreams = std::iter::once(("[upstream]".to_string(), &self.upstream)).chain(
            self.trunks.iter().filter_map(|t| {
                let table = format!("[[trunk]] {:?} upstream", t.name);
                t.upstream.as_ref().map(|u| (table, u))
            }),
        );
        for (table, u) in upstreams {
            if u.tls_name.is_some() && u.transport != crate::proxy::Transport::Tls {
                return Err(ConfigError::TlsNameWithoutTls(table));
            }
            // A name no certificate can carry would drop every call at the handshake.
            if let Some(name) = &u.tls_name
                && (name.starts_with("*.") || !is_dns_pattern(name))
            {
                return Err(ConfigError::TlsName {
                    table,
                    name: name.clone(),
                });
            }
            if u.transport == crate::proxy::Transport::Tls && self.sip.tls.is_none() {
                return Err(ConfigError::TlsNotConfigured(format!(
                    "{table} `transport = \"tls\"`"
                )));
            }
        }
        Ok(())
    }

    fn validate_trunk_tls(&self, t: &super::TrunkConfig) -> Result<(), ConfigError> {
        if !t.require_tls && t.tls_client_names.is_empty() {
            return Ok(());
        }
        let Some(tls) = &self.sip.tls else {
            let key = if t.require_tls {
                "require_tls"
            } else {
                "tls_client_names"
            };
            return Err(ConfigError::TlsNotConfigured(format!(
                "[[trunk]] {:?} `{key}`",
                t.name
            )));
        };
        if !t.tls_client_names.is_empty() && tls.client_ca.is_none() {
            return Err(ConfigError::ClientCaMissing(t.name.clone()));
        }
        for name in &t.tls_client_names {
            if !is_dns_pattern(name) {
                return Err(ConfigError::TlsClientName {
                    trunk: t.name.clone(),
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }

    fn validate_trunks(&self) -> Result<(), ConfigError> {
        self.validate_tls()?;
        let mut names = HashSet::new();
        for t in &self.trunks {
            if !names.insert(t.name.as_str()) {
                return Err(ConfigError::DuplicateTrunk(t.name.clone()));
            }
            if t.sources.is_empty() {
                return Err(ConfigError::TrunkWithoutSources(t.name.clone()));
            }
            match (t.account_sid, t.role) {
                (Some(sid), _) if !sid.is("AC") => {
                    return Err(ConfigError::TrunkAccountKind {
                        trunk: t.name.clone(),
                        sid,
                    });
                }
                (None, Role::Sign | Role::Redirect) => {
                    return Err(ConfigError::SigningTrunkWithoutAccount(t.name.clone()));
                }
                _ => {}
            }
            if (t.role == Role::Verify || t.sign_policy.verifies()) && self.verify.is_none() {
                return Err(ConfigError::VerifyingTrunkWithoutVerify(t.name.clone()));
            }
            if t.unsigned_status.is_some_and(|s| !(400..700).contains(&s)) {
                return Err(ConfigError::UnsignedStatus(t.name.clone()));
            }
            self.validate_trunk_tls(t)?;
        }
        // One source address belongs to one trunk: which trunk a request is from must
        // not depend on the order of the table.
        for (i, a) in self.trunks.iter().enumerate() {
            for b in &self.trunks[i + 1..] {
                for x in &a.sources {
                    if let Some(y) = b.sources.iter().find(|y| overlap(x, y)) {
                        return Err(ConfigError::TrunkSourcesOverlap {
                            first: a.name.clone(),
                            first_net: x.to_string(),
                            second: b.name.clone(),
                            second_net: y.to_string(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
