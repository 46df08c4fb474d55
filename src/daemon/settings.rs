//! The one place the TOML config becomes each layer's settings: the proxy's, the
//! verifier's, the Trust Hub service's and the HTTP routes'.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use uuid::Uuid;

use super::ServeError;
use crate::config::{Config, TrunkConfig, UpstreamConfig, VerifyConfig};
use crate::identities::IdentitySettings;
use crate::proxy::tls::{SipTls, TlsFiles};
use crate::proxy::{self, Peer, Role, Timers, TrunkSettings, Upstream};
use crate::trust::{
    IpAccessControlList, IpAddress, OriginationUrl, Sid, Trunk, TrunkAcl, TrunkRole, TrunkTable,
    TrustData,
};
use crate::trusthub::HubSettings;
use crate::trusthub::callbacks::Retry;
use crate::verify::{
    CrlRefresh, FetchPolicy, ListSigners, TrustListSettings, TrustListSource, VerifySettings,
};

/// The proxy's settings.
pub fn proxy(config: &Config) -> proxy::Settings {
    let sip = &config.sip;
    let defaults = VerifyConfig::with_anchors(PathBuf::new());
    let verify = config.verify.as_ref().unwrap_or(&defaults);
    proxy::Settings {
        host: config.advertised_host(),
        record_route: sip.record_route,
        identity_policy: sip.identity_policy,
        stale_date: config.signing.stale_date,
        invalid_certificate: config.signing.invalid_certificate,
        suspended_status: config.signing.suspended_status,
        digest_realm: sip.digest_realm.clone(),
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
        feedback: verify.feedback,
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
                require_tls: t.require_tls || !t.tls_client_names.is_empty(),
                tls_client_names: t.tls_client_names.clone(),
                sbc: crate::proxy::SbcOptions {
                    contact_identity: t.contact_identity,
                    attestation_headers: t.attestation_headers,
                    signing_failure: t.signing_failure,
                    sign_policy: t.sign_policy,
                    unsigned_status: t.unsigned_status.unwrap_or(403),
                },
            })
            .collect(),
        upstream: upstream(&config.upstream),
    }
}

/// SIP over TLS, its files read, when `[sip.tls]` is set.
pub fn sip_tls(config: &Config) -> Result<Option<SipTls>, ServeError> {
    let Some(t) = &config.sip.tls else {
        return Ok(None);
    };
    let files = TlsFiles {
        section: "[sip.tls]",
        certificate: t.certificate.clone(),
        key: t.key.clone(),
        ca: t.ca.clone(),
        client_ca: t.client_ca.clone(),
    };
    let timeout = Duration::from_millis(t.handshake_timeout_ms);
    Ok(Some(SipTls::load(files, timeout)?))
}

/// The names the certificates of TLS upstreams must carry, by address.
pub fn tls_names(config: &Config) -> Vec<(std::net::SocketAddr, String)> {
    std::iter::once(&config.upstream)
        .chain(config.trunks.iter().filter_map(|t| t.upstream.as_ref()))
        .filter_map(|u| Some((u.address, u.tls_name.clone()?.to_ascii_lowercase())))
        .collect()
}

fn upstream(u: &UpstreamConfig) -> Upstream {
    Upstream {
        peer: Peer {
            transport: u.transport,
            addr: u.address,
        },
        sources: u.sources.clone(),
        tls_name: u.tls_name.clone(),
    }
}

/// The verifier's settings: the trust anchors read from their file, the iat window, the
/// revocation mode and the fetch policy. `callsign serve` and `callsign verify` both
/// come through here.
pub fn verifier(cfg: &VerifyConfig) -> Result<VerifySettings, ServeError> {
    let anchors = match &cfg.trust_anchors {
        Some(path) => super::read(path)?,
        None => String::new(),
    };
    let mut settings = VerifySettings::new(anchors);
    settings.freshness_secs = cfg.freshness_secs;
    settings.crl = cfg.crl;
    if let Some(path) = &cfg.crl_signers {
        settings.crl_signers_pem = super::read(path)?;
    }
    settings.crl_cache_dir = cfg.crl_cache_dir.clone();
    let secs = |s: u64| i64::try_from(s).unwrap_or(i64::MAX);
    settings.crl_refresh = CrlRefresh {
        every_secs: secs(cfg.crl_refresh_secs),
        before_next_update_secs: secs(cfg.crl_refresh_before_secs),
        stale_grace_secs: secs(cfg.crl_stale_grace_secs),
    };
    settings.fetch = FetchPolicy {
        allow_http: cfg.allow_http,
        allow_loopback: cfg.allow_loopback,
        allow_private: cfg.allow_private,
        timeout: Duration::from_millis(cfg.fetch_timeout_ms),
        ..FetchPolicy::default()
    };
    Ok(settings)
}

/// The trust list's settings, when `[verify] trust_list` names one: fetched under the
/// x5u's address rules, within `fetch_timeout_ms`, over plain http only on a development
/// machine (the config refuses an http URL anywhere else).
pub fn trust_list(config: &Config) -> Result<Option<TrustListSettings>, ServeError> {
    let Some(v) = config.verify.as_ref() else {
        return Ok(None);
    };
    let Some(value) = v.trust_list.as_deref() else {
        return Ok(None);
    };
    let signers = match &v.trust_list_signers {
        Some(path) => ListSigners::from_pem(&super::read(path)?).map_err(ServeError::Cert)?,
        None => ListSigners::default(),
    };
    Ok(Some(TrustListSettings {
        source: TrustListSource::parse(value),
        every_secs: i64::try_from(v.trust_list_refresh_secs).unwrap_or(i64::MAX),
        cache: v.trust_list_cache.clone(),
        fetch: FetchPolicy {
            allow_http: config.development,
            allow_loopback: v.allow_loopback,
            allow_private: v.allow_private,
            timeout: Duration::from_millis(v.fetch_timeout_ms),
            ..FetchPolicy::default()
        },
        signers,
    }))
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
        digest_realm: config.sip.digest_realm.clone(),
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

/// Copies the config's `[[trunk]]` tables into trust data that seeds a new store: each
/// becomes a trunk of its account (SIDs derived from its name), with its role and
/// origid, its sources as one IP access control list, and its own upstream as an
/// origination URL. Returns the names copied, and those left config-only with why: no
/// account (a verifying trunk), an account the seed lacks, or sources that overlap
/// another trunk's or are wider than a list may hold.
pub fn seed_trunking(
    trunks: &[TrunkConfig],
    data: &mut TrustData,
) -> (Vec<String>, Vec<(String, &'static str)>) {
    let accounts: HashSet<Sid> = data.accounts.iter().map(|a| a.sid).collect();
    let (mut seeded, mut skipped) = (Vec::new(), Vec::new());
    for t in trunks {
        let name = t.name.clone();
        let Some(account) = t.account_sid else {
            skipped.push((name, "it has no account_sid"));
            continue;
        };
        if !accounts.contains(&account) {
            skipped.push((name, "its account is not in the seed"));
            continue;
        }
        if t.require_tls || !t.tls_client_names.is_empty() {
            // A provisioned trunk cannot say either yet: the trunk stays in the config.
            skipped.push((name, "it requires TLS or a client certificate"));
            continue;
        }
        let sid = |kind: [u8; 2], what: &str| {
            let key = format!("callsign [[trunk]] {} {what}", t.name);
            Sid::from_parts(
                kind,
                Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes()).as_u128(),
            )
        };
        let (trunk_sid, list_sid) = (sid(*b"TK", "trunk"), sid(*b"AL", "sources"));
        let mut next = data.trunking.clone();
        next.trunks.push(Trunk {
            friendly_name: Some(t.name.clone()),
            role: Some(match t.role {
                Role::Sign => TrunkRole::Sign,
                Role::Verify => TrunkRole::Verify,
                Role::Redirect => TrunkRole::Redirect,
            }),
            contact_identity: t.contact_identity.then_some(true),
            attestation_headers: t.attestation_headers.then_some(true),
            signing_failure: t.signing_failure,
            sign_policy: (t.sign_policy != Default::default()).then_some(t.sign_policy),
            unsigned_status: t.unsigned_status,
            origid: Some(t.origid()),
            ..Trunk::new(trunk_sid, account)
        });
        next.ip_access_control_lists.push(IpAccessControlList {
            sid: list_sid,
            account_sid: account,
            friendly_name: Some(format!("{} sources", t.name)),
            date_created: None,
            date_updated: None,
        });
        for (i, net) in t.sources.iter().enumerate() {
            next.ip_addresses.push(IpAddress {
                sid: sid(*b"IP", &format!("source {i}")),
                account_sid: account,
                ip_access_control_list_sid: list_sid,
                friendly_name: None,
                ip_address: net.network().to_string(),
                cidr_prefix_length: net.prefix_len(),
                date_created: None,
                date_updated: None,
            });
        }
        next.trunk_ip_access_control_lists.push(TrunkAcl {
            trunk_sid,
            ip_access_control_list_sid: list_sid,
            account_sid: account,
            date_created: None,
        });
        if let Some(up) = &t.upstream {
            next.origination_urls.push(OriginationUrl {
                sid: sid(*b"OU", "upstream"),
                account_sid: account,
                trunk_sid,
                friendly_name: Some(format!("{} upstream", t.name)),
                sip_url: format!("sip:{};transport={}", up.address, up.transport.param()),
                priority: 10,
                weight: 10,
                enabled: true,
                date_created: None,
                date_updated: None,
            });
        }
        let fits =
            next.validate(|a| accounts.contains(&a)).is_ok() && TrunkTable::build(&next).is_ok();
        if fits {
            data.trunking = next;
            seeded.push(name);
        } else {
            skipped.push((
                name,
                "its sources overlap another trunk's or are wider than a list may hold",
            ));
        }
    }
    (seeded, skipped)
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
        assert_eq!(s.feedback, proxy::Feedback::Response);
        // `[verify] feedback` reaches the proxy.
        let mut verifying = config.clone();
        let mut verify = crate::config::VerifyConfig::with_anchors("roots.pem".into());
        verify.feedback = proxy::Feedback::Both;
        verifying.verify = Some(verify);
        assert_eq!(proxy(&verifying).feedback, proxy::Feedback::Both);
    }

    #[test]
    fn the_samples_trunks_seed_its_store_and_the_rest_stay_config_only() {
        let mut config = sample();
        let data_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/trust.json");
        let mut data = TrustData::from_json(&std::fs::read_to_string(data_path).unwrap()).unwrap();
        let mut carrier = config.trunks[0].clone();
        carrier.name = "carrier".into();
        carrier.role = Role::Verify;
        carrier.account_sid = None;
        let mut stranger = config.trunks[0].clone();
        stranger.name = "stranger".into();
        stranger.account_sid =
            Some(Sid::parse("AC00000000000000000000000000000099", "AC").unwrap());
        let mut overlapping = config.trunks[0].clone();
        overlapping.name = "overlapping".into();
        let mut routed = config.trunks[1].clone();
        routed.upstream = Some(UpstreamConfig {
            address: "192.0.2.80:5070".parse().unwrap(),
            transport: Transport::Tcp,
            tls_name: None,
            sources: Vec::new(),
        });
        config.trunks[1] = routed;
        config.trunks.extend([carrier, stranger, overlapping]);

        let (seeded, skipped) = seed_trunking(&config.trunks, &mut data);
        assert_eq!(
            seeded,
            ["bluebird", "bluebird-support", "harbor-dental", "quickdial"]
        );
        let skipped: Vec<&str> = skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(skipped, ["carrier", "stranger", "overlapping"]);
        let t = &data.trunking;
        assert_eq!(t.trunks.len(), 4);
        assert_eq!(t.trunks[0].origid, Some(config.trunks[0].origid()));
        assert_eq!(t.ip_addresses[0].ip_address, "127.0.0.1");
        assert_eq!(t.origination_urls.len(), 1);
        assert_eq!(
            t.origination_urls[0].sip_url,
            "sip:192.0.2.80:5070;transport=tcp"
        );
        assert_eq!(t.origination_urls[0].trunk_sid, t.trunks[1].sid);
        // The same tables give the same SIDs, run after run.
        let mut again = TrustData::from_json(&serde_json::to_string(&data).unwrap()).unwrap();
        again.trunking = Default::default();
        seed_trunking(&config.trunks, &mut again);
        assert_eq!(again.trunking, data.trunking);
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
