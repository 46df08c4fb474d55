//! The one place the TOML config becomes each layer's settings: the proxy's, the
//! verifier's, the Trust Hub service's and the HTTP routes'.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ServeError;
use crate::config::{Config, UpstreamConfig, VerifyConfig};
use crate::identities::IdentitySettings;
use crate::proxy::{self, Peer, Timers, TrunkSettings, Upstream};
use crate::trusthub::HubSettings;
use crate::trusthub::callbacks::Retry;
use crate::verify::{FetchPolicy, VerifySettings};

/// The proxy's settings.
pub fn proxy(config: &Config) -> proxy::Settings {
    let sip = &config.sip;
    let defaults = VerifyConfig::with_anchors(PathBuf::new());
    let verify = config.verify.as_ref().unwrap_or(&defaults);
    proxy::Settings {
        host: config.advertised_host(),
        record_route: sip.record_route,
        identity_policy: sip.identity_policy,
        max_message_size: sip.max_message_size,
        timers: Timers {
            t1: Duration::from_millis(sip.t1_ms),
            t2: Duration::from_millis(sip.t2_ms),
            t4: Duration::from_millis(sip.t4_ms),
            timer_c: Duration::from_secs(sip.timer_c_secs),
        },
        max_transactions: sip.max_transactions,
        max_tcp_connections: sip.max_tcp_connections,
        tcp_idle_timeout: Duration::from_secs(sip.tcp_idle_timeout_secs),
        on_failure: verify.on_failure,
        verify_max_wait: Duration::from_millis(verify.max_wait_ms),
        numbering: config.numbering.clone(),
        trunks: config
            .trunks
            .iter()
            .map(|t| TrunkSettings {
                name: t.name.clone(),
                role: t.role,
                account: t.account_sid,
                origid: t.origid(),
                sources: t.sources.clone(),
                upstream: t.upstream.as_ref().map(upstream),
            })
            .collect(),
        upstream: upstream(&config.upstream),
    }
}

fn upstream(u: &UpstreamConfig) -> Upstream {
    Upstream {
        peer: Peer {
            transport: u.transport,
            addr: u.address,
        },
        sources: u.sources.clone(),
    }
}

/// The verifier's settings: the trust anchors read from their file, the iat window, the
/// revocation mode and the fetch policy. `callsign serve` and `callsign verify` both
/// come through here.
pub fn verifier(cfg: &VerifyConfig) -> Result<VerifySettings, ServeError> {
    let mut settings = VerifySettings::new(super::read(&cfg.trust_anchors)?);
    settings.freshness_secs = cfg.freshness_secs;
    settings.crl = cfg.crl;
    settings.fetch = FetchPolicy {
        allow_http: cfg.allow_http,
        allow_loopback: cfg.allow_loopback,
        allow_private: cfg.allow_private,
        timeout: Duration::from_millis(cfg.fetch_timeout_ms),
        ..FetchPolicy::default()
    };
    Ok(settings)
}

/// The Trust Hub service's settings.
pub fn hub(config: &Config) -> HubSettings {
    let api = &config.api;
    HubSettings {
        operator: api.operator_sid.zip(api.operator_auth_token.clone()),
        callbacks: Retry {
            attempts: api.callback_attempts,
            first_backoff: Duration::from_millis(api.callback_backoff_ms),
        },
        callback_policy: FetchPolicy {
            allow_http: api.callback_allow_http,
            allow_loopback: api.callback_allow_loopback,
            allow_private: api.callback_allow_private,
            timeout: Duration::from_millis(api.callback_timeout_ms),
            ..FetchPolicy::default()
        },
        numbering: config.numbering.clone(),
        verifies: config.verify.is_some(),
        origination_policy: FetchPolicy {
            allow_loopback: api.origination_allow_loopback,
            allow_private: api.origination_allow_private,
            ..FetchPolicy::default()
        },
    }
}

/// The HTTP path a CRL file is served at: beside the chain, under the x5u URL's directory.
pub fn crl_path(config: &Config, file: &Path) -> String {
    let x5u_path = config.x5u_path();
    let dir = x5u_path.rsplit_once('/').map_or("", |(d, _)| d);
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("crl");
    format!("{dir}/{name}")
}

/// Where signing identities' keys may be and where their chains are published.
pub fn identities(config: &Config) -> IdentitySettings {
    IdentitySettings {
        key_dir: config.signing.identity_key_dir.clone(),
        pkcs11_modules: config.signing.pkcs11_modules.clone(),
        x5u_base: config.identity_x5u_base(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::{Role, Transport};

    fn sample() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/callsign.toml");
        Config::load(&path).unwrap()
    }

    #[test]
    fn the_sample_becomes_proxy_settings() {
        let config = sample();
        let s = proxy(&config);
        assert_eq!(s.host, "127.0.0.1");
        assert_eq!(s.timers, Timers::default());
        assert_eq!(s.trunks.len(), 4);
        let bluebird = &s.trunks[0];
        assert_eq!(bluebird.role, Role::Sign);
        assert_eq!(bluebird.origid, config.trunks[0].origid());
        assert_eq!(bluebird.account, config.trunks[0].account_sid);
        assert_eq!(s.upstream.peer.transport, Transport::Udp);
        assert_eq!(s.verify_max_wait, Duration::from_millis(2000));
    }

    #[test]
    fn crls_are_served_beside_the_chain() {
        let config = sample();
        assert_eq!(
            crl_path(&config, Path::new("/x/intermediate.crl")),
            "/certs/intermediate.crl"
        );
    }

    #[test]
    fn the_operator_needs_both_halves_of_its_credential() {
        let mut config = sample();
        assert!(hub(&config).operator.is_some());
        config.api.operator_auth_token = None;
        assert!(hub(&config).operator.is_none());
    }
}
