//! [`TestServer`]: the one way tests describe a callsign server. It builds a
//! [`Config`] value in code, then either starts it in-process on 127.0.0.1:0
//! ([`TestServer::start`], giving a [`Harness`]) or writes it with [`Config::to_toml`]
//! for tests that run the real binary ([`TestServer::write_config`]).
//!
//! ```ignore
//! let h = TestServer::new().store("{}").upstream_tcp().t1_ms(20).start().await;
//! let path = TestServer::new().pki(&dev).store(seed).write_config(dir.path());
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use callsign::config::{
    ApiConfig, Config, HttpConfig, SigningConfig, SipConfig, TrunkConfig, TrustConfig,
    UpstreamConfig, VerifyConfig,
};
use callsign::daemon::{self, Control, Listeners, ServeError};
use callsign::proxy::{OnFailure, Role, Transport};
use callsign::trust::Sid;
use tokio::net::{TcpListener, UdpSocket};

use super::harness::{Harness, Upstream};
use super::{ACME, ACME_BRANCH, OPERATOR_SID, OPERATOR_TOKEN, TRUST, WAIT, now_unix};

/// The x5u PASSporTs carry unless a test asks for another. Nothing serves it.
pub const PLACEHOLDER_X5U: &str = "http://127.0.0.1/certs/chain.pem";

/// Where calls go when a config file names no upstream: the discard port, where
/// nothing answers.
const NOWHERE: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);

/// A callsign server for one test, described in code.
pub struct TestServer {
    sip: SipConfig,
    pki: Option<PathBuf>,
    leaf_key: Option<PathBuf>,
    x5u: X5u,
    trust: Trust,
    upstream: UpstreamKind,
    trunks: Vec<TrunkConfig>,
    verify: Option<VerifyConfig>,
    /// `[sti_rest]`, when served.
    sti_rest: Option<callsign::config::StiRestConfig>,
    /// `[vetting]`: not automatic unless a test asks ([`TestServer::vetting`]), so that
    /// submitted bundles wait for the operator as the older tests expect.
    vetting: callsign::config::VettingConfig,
    /// `[signing] suspended_status`.
    suspended_status: Option<u16>,
    /// Status callbacks may go to http URLs on loopback (the test receivers).
    local_callbacks: bool,
    /// The PKCS#11 libraries signing identities may load.
    pkcs11_modules: Vec<PathBuf>,
    /// Trunks' origination URLs may name loopback addresses (the test carriers).
    local_origination: bool,
    /// `[api] max_document_bytes`, when not the default.
    max_document_bytes: Option<usize>,
    /// Changes to the `[upstream]` table (its transport, `tls_name`).
    upstream_edit: Option<UpstreamEdit>,
}

/// A change a test makes to the `[upstream]` table.
type UpstreamEdit = Box<dyn FnOnce(&mut UpstreamConfig) + Send>;

enum X5u {
    Placeholder,
    /// This server's own HTTP listener, known once it is bound.
    Served,
    Url(String),
}

enum Trust {
    /// Read-only file mode: `trust.json` in the test's directory holds `json`.
    File { json: String, watch_ms: u64 },
    /// Store mode: the store `db` is seeded from `seed` on first run, and the
    /// operator credential ([`OPERATOR_SID`]) is set.
    Store { seed: String, db: PathBuf },
}

enum UpstreamKind {
    /// A UDP socket of the harness (the test UAS).
    Udp,
    /// A TCP listener of the harness.
    Tcp,
    /// An address outside the harness (SIPp, another instance, a relay).
    At(SocketAddr),
}

impl Default for TestServer {
    fn default() -> Self {
        TestServer::new()
    }
}

impl TestServer {
    /// A signing server: UDP, TCP and HTTP on 127.0.0.1:0, a fresh dev PKI, the
    /// read-only `tests/data/trust.json`, the trunks acme (127.0.0.1) and acme-branch
    /// (127.0.0.2), and a harness UDP socket as the upstream.
    pub fn new() -> TestServer {
        let mut sip: SipConfig = defaults();
        sip.udp = Some(loopback());
        sip.tcp = Some(loopback());
        TestServer {
            sip,
            pki: None,
            leaf_key: None,
            x5u: X5u::Placeholder,
            trust: Trust::File {
                json: TRUST.to_owned(),
                watch_ms: 0,
            },
            upstream: UpstreamKind::Udp,
            trunks: vec![
                signing_trunk("acme", ACME, "127.0.0.1"),
                signing_trunk("acme-branch", ACME_BRANCH, "127.0.0.2"),
            ],
            verify: None,
            sti_rest: None,
            vetting: callsign::config::VettingConfig {
                automatic: false,
                ..Default::default()
            },
            suspended_status: None,
            local_callbacks: false,
            pkcs11_modules: Vec::new(),
            local_origination: false,
            max_document_bytes: None,
            upstream_edit: None,
        }
    }

    /// Sets `[api] max_document_bytes`, the largest supporting-document file.
    pub fn max_document_bytes(mut self, n: usize) -> TestServer {
        self.max_document_bytes = Some(n);
        self
    }

    /// Lets trunks' origination URLs name the test's carriers on loopback, which the
    /// production policy refuses.
    pub fn local_origination(mut self) -> TestServer {
        self.local_origination = true;
        self
    }

    /// Lets signing identities load keys through the PKCS#11 library `module`.
    pub fn pkcs11_module(mut self, module: &Path) -> TestServer {
        self.pkcs11_modules.push(module.to_owned());
        self
    }

    /// Lets status callbacks reach the test's own http receiver on loopback, which the
    /// production policy refuses.
    pub fn local_callbacks(mut self) -> TestServer {
        self.local_callbacks = true;
        self
    }

    /// A verifying server: every source on 127.0.0.1 is a carrier whose calls are
    /// verified against `pki`'s root, fetching x5u over http on loopback.
    pub fn verifying(pki: &Path, on_failure: OnFailure) -> TestServer {
        let mut verify = VerifyConfig::with_anchors(pki.join("root.pem"));
        verify.on_failure = on_failure;
        verify.allow_http = true;
        verify.allow_loopback = true;
        let mut server = TestServer::new()
            .pki(pki)
            .trunks(vec![verifying_trunk("carrier-in", "127.0.0.1")]);
        server.verify = Some(verify);
        server
    }

    /// Signs with the dev PKI in this folder instead of a fresh one.
    pub fn pki(mut self, dir: &Path) -> TestServer {
        self.pki = Some(dir.to_owned());
        self
    }

    /// Signs with this key instead of the PKI's leaf key.
    pub fn leaf_key(mut self, path: &Path) -> TestServer {
        self.leaf_key = Some(path.to_owned());
        self
    }

    pub fn t1_ms(mut self, ms: u64) -> TestServer {
        self.sip.t1_ms = ms;
        self
    }

    /// Any other `[sip]` setting.
    pub fn sip(mut self, edit: impl FnOnce(&mut SipConfig)) -> TestServer {
        edit(&mut self.sip);
        self
    }

    /// The upstream is a TCP listener of the harness instead of a UDP socket.
    pub fn upstream_tcp(mut self) -> TestServer {
        self.upstream = UpstreamKind::Tcp;
        self
    }

    /// Any other `[upstream]` setting (with [`TestServer::upstream_at`]: its transport).
    pub fn upstream(
        mut self,
        edit: impl FnOnce(&mut UpstreamConfig) + Send + 'static,
    ) -> TestServer {
        self.upstream_edit = Some(Box::new(edit));
        self
    }

    /// Forward to this address (a SIPp UAS, another instance) over UDP.
    pub fn upstream_at(mut self, addr: SocketAddr) -> TestServer {
        self.upstream = UpstreamKind::At(addr);
        self
    }

    /// Put the URL of this server's own chain in PASSporTs, so that a verifier can
    /// fetch it.
    pub fn served_x5u(mut self) -> TestServer {
        self.x5u = X5u::Served;
        self
    }

    /// Put this x5u URL in PASSporTs.
    pub fn x5u(mut self, url: &str) -> TestServer {
        self.x5u = X5u::Url(url.to_owned());
        self
    }

    /// Store mode: a store seeded from this trust-data JSON, with the Trust Hub API
    /// on and the operator credential set.
    pub fn store(mut self, seed: impl Into<String>) -> TestServer {
        self.trust = Trust::Store {
            seed: seed.into(),
            db: "callsign.db".into(),
        };
        self
    }

    /// Store mode only: the store's path, relative to the test's directory, or a
    /// PostgreSQL URL.
    pub fn store_db(mut self, path: &str) -> TestServer {
        match &mut self.trust {
            Trust::Store { db, .. } => *db = path.into(),
            Trust::File { .. } => panic!("store_db needs store mode"),
        }
        self
    }

    /// File mode (the default) with this trust-data JSON.
    pub fn trust_file(mut self, json: &str) -> TestServer {
        self.trust = Trust::File {
            json: json.to_owned(),
            watch_ms: 0,
        };
        self
    }

    /// File mode only: check the file for changes this often (0, the default, does not
    /// watch).
    pub fn watch_ms(mut self, ms: u64) -> TestServer {
        match &mut self.trust {
            Trust::File { watch_ms, .. } => *watch_ms = ms,
            Trust::Store { .. } => panic!("watch_ms needs file mode"),
        }
        self
    }

    /// These trunks instead of acme and acme-branch.
    pub fn trunks(mut self, trunks: Vec<TrunkConfig>) -> TestServer {
        self.trunks = trunks;
        self
    }

    /// One more trunk.
    pub fn trunk(mut self, trunk: TrunkConfig) -> TestServer {
        self.trunks.push(trunk);
        self
    }

    /// Changes the `[verify]` settings of a [`TestServer::verifying`] server.
    pub fn verify(mut self, edit: impl FnOnce(&mut VerifyConfig)) -> TestServer {
        edit(
            self.verify
                .as_mut()
                .expect("verify needs a verifying server"),
        );
        self
    }

    /// Serves the ATIS-1000082 REST API, as `edit` sets it up (its own listener on
    /// loopback to start with).
    pub fn sti_rest(
        mut self,
        edit: impl FnOnce(&mut callsign::config::StiRestConfig),
    ) -> TestServer {
        let mut r: callsign::config::StiRestConfig =
            toml::from_str(&format!("listen = \"{}\"", loopback())).unwrap();
        edit(&mut r);
        self.sti_rest = Some(r);
        self
    }

    /// Automated vetting, as `edit` sets it up (automatic, on the embedded workflows, to
    /// start with).
    pub fn vetting(
        mut self,
        edit: impl FnOnce(&mut callsign::config::VettingConfig),
    ) -> TestServer {
        let mut v = callsign::config::VettingConfig::default();
        edit(&mut v);
        self.vetting = v;
        self
    }

    /// Refuses suspended accounts' calls with `status` (`[signing] suspended_status`).
    pub fn suspended_status(mut self, status: u16) -> TestServer {
        self.suspended_status = Some(status);
        self
    }

    /// Starts the server in a fresh temporary directory.
    pub async fn start(self) -> Harness {
        self.start_in(tempfile::tempdir().unwrap()).await
    }

    /// Starts the server in `dir`, reusing the PKI and store already there.
    pub async fn start_in(self, dir: tempfile::TempDir) -> Harness {
        let (upstream, address, transport) = match self.upstream {
            UpstreamKind::At(a) => (Upstream::External, a, Transport::Udp),
            UpstreamKind::Tcp => {
                let l = TcpListener::bind(loopback()).await.unwrap();
                let a = l.local_addr().unwrap();
                (Upstream::Tcp(l), a, Transport::Tcp)
            }
            UpstreamKind::Udp => {
                let s = UdpSocket::bind(loopback()).await.unwrap();
                let a = s.local_addr().unwrap();
                (Upstream::Udp(s), a, Transport::Udp)
            }
        };
        let served = matches!(self.x5u, X5u::Served);
        let mut config = self.config(dir.path(), address, transport);
        let listeners = Listeners::bind(&config).await.unwrap();
        let http = listeners.http.as_ref().unwrap().local_addr().unwrap();
        if served {
            config.signing.x5u = format!("http://{http}/certs/chain.pem");
        }
        let chain = std::fs::read_to_string(&config.signing.certificate).unwrap();
        Harness::run(dir, config, listeners, upstream, &chain)
    }

    /// Runs the server in `dir` and stops it as soon as it has started: returns what
    /// `run` returned, which is the refusal when it refuses to start. No harness socket
    /// is its upstream.
    pub async fn try_start(self, dir: &Path) -> Result<(), ServeError> {
        let (address, transport) = self.fixed_upstream();
        let config = self.config(dir, address, transport);
        let listeners = Listeners::bind(&config).await.unwrap();
        let (control, stop) = Control::new();
        let run = tokio::spawn(daemon::run(config, listeners, control));
        drop(stop);
        tokio::time::timeout(WAIT, run).await.unwrap().unwrap()
    }

    /// Writes the config to `dir/callsign.toml` for the binary, with the files it
    /// names, and returns its path.
    pub fn write_config(self, dir: &Path) -> PathBuf {
        assert!(
            !matches!(self.x5u, X5u::Served),
            "the binary's HTTP port is not known in advance"
        );
        let (address, transport) = self.fixed_upstream();
        let config = self.config(dir, address, transport);
        let path = dir.join("callsign.toml");
        std::fs::write(&path, config.to_toml()).unwrap();
        let read = Config::load(&path).expect("the written config loads");
        assert_eq!(read, config, "the written config reads back unchanged");
        path
    }

    /// The upstream when no harness socket stands behind it: `upstream_at`'s address,
    /// or the discard port.
    fn fixed_upstream(&self) -> (SocketAddr, Transport) {
        match self.upstream {
            UpstreamKind::At(a) => (a, Transport::Udp),
            UpstreamKind::Udp => (NOWHERE, Transport::Udp),
            UpstreamKind::Tcp => (NOWHERE, Transport::Tcp),
        }
    }

    /// The config, with the PKI, trust file or seed it names written into `dir`.
    fn config(self, dir: &Path, address: SocketAddr, transport: Transport) -> Config {
        let pki = match self.pki {
            Some(p) => p,
            None => {
                let p = dir.join("pki");
                if !p.exists() {
                    dev_pki(&p, now_unix());
                }
                p
            }
        };
        let mut trust: TrustConfig = defaults();
        let mut api = ApiConfig::default();
        match self.trust {
            Trust::File { json, watch_ms } => {
                std::fs::write(dir.join("trust.json"), json).unwrap();
                trust.file = Some(dir.join("trust.json"));
                trust.watch_interval_ms = watch_ms;
            }
            Trust::Store { seed, db } => {
                std::fs::write(dir.join("seed.json"), seed).unwrap();
                trust.store = Some(match callsign::store::database_url(&db) {
                    Some(_) => db.clone(),
                    None => dir.join(db),
                });
                trust.seed = Some(dir.join("seed.json"));
                api.operator_sid = Some(account(OPERATOR_SID));
                api.operator_auth_token = Some(OPERATOR_TOKEN.to_owned());
                api.callback_backoff_ms = 20;
                api.callback_allow_http = self.local_callbacks;
                api.callback_allow_loopback = self.local_callbacks;
                api.origination_allow_loopback = self.local_origination;
                api.max_body_bytes = 4096;
                if let Some(n) = self.max_document_bytes {
                    api.max_document_bytes = n;
                }
            }
        }
        let x5u = match self.x5u {
            X5u::Url(url) => url,
            X5u::Placeholder | X5u::Served => PLACEHOLDER_X5U.to_owned(),
        };
        let config = Config {
            // The test PKI's x5u is plain http on loopback.
            development: true,
            sip: self.sip,
            http: HttpConfig {
                listen: Some(loopback()),
            },
            signing: SigningConfig {
                certificate: pki.join("chain.pem"),
                key: self.leaf_key.unwrap_or_else(|| pki.join("leaf.key")),
                x5u,
                // The documented default, which the x5u test expects to be served.
                x5u_max_age_secs: 86_400,
                crls: vec![pki.join("sti-pa.crl")],
                // Signing identities' key files: `identity-keys/` in the test's folder.
                identity_key_dir: Some(identity_key_dir(dir)),
                pkcs11_modules: self.pkcs11_modules,
                identity_x5u_base: None,
                stale_date: callsign::proxy::Fallback::Refuse,
                invalid_certificate: callsign::proxy::Fallback::Unsigned,
                suspended_status: self.suspended_status,
            },
            numbering: Default::default(),
            trust,
            api,
            upstream: {
                let mut u = UpstreamConfig {
                    address,
                    transport,
                    tls_name: None,
                    sources: Vec::new(),
                };
                if let Some(edit) = self.upstream_edit {
                    edit(&mut u);
                }
                u
            },
            trunks: self.trunks,
            verify: self.verify,
            sti_rest: self.sti_rest,
            vetting: self.vetting,
        };
        config
            .validate()
            .expect("the test server's config is valid");
        config
    }
}

/// A signing trunk for `account` whose calls come from the address `source`.
pub fn signing_trunk(name: &str, account_sid: &str, source: &str) -> TrunkConfig {
    TrunkConfig {
        name: name.to_owned(),
        role: Role::Sign,
        account_sid: Some(account(account_sid)),
        sources: vec![host(source)],
        upstream: None,
        origid: None,
        require_tls: false,
        tls_client_names: Vec::new(),
        contact_identity: false,
        attestation_headers: false,
        signing_failure: None,
        sign_policy: Default::default(),
        unsigned_status: None,
    }
}

/// A verifying trunk: calls from the address `source` come from another carrier.
pub fn verifying_trunk(name: &str, source: &str) -> TrunkConfig {
    TrunkConfig {
        name: name.to_owned(),
        role: Role::Verify,
        account_sid: None,
        sources: vec![host(source)],
        upstream: None,
        origid: None,
        require_tls: false,
        tls_client_names: Vec::new(),
        contact_identity: false,
        attestation_headers: false,
        signing_failure: None,
        sign_policy: Default::default(),
        unsigned_status: None,
    }
}

/// Where a test server in `dir` takes signing identities' key files from (created).
pub fn identity_key_dir(dir: &Path) -> PathBuf {
    let keys = dir.join("identity-keys");
    std::fs::create_dir_all(&keys).unwrap();
    keys
}

/// Writes a fresh dev PKI (SPC 1234) issued at `issued_at` into the folder `path`.
pub fn dev_pki(path: &Path, issued_at: i64) -> PathBuf {
    let pki = callsign::certs::dev::generate("1234", issued_at).unwrap();
    callsign::certs::dev::write(path, &pki).unwrap();
    path.to_owned()
}

/// A dev PKI in `dir/shared-pki`, for servers that must share one.
pub fn shared_pki(dir: &Path) -> PathBuf {
    dev_pki(&dir.join("shared-pki"), now_unix())
}

fn account(sid: &str) -> Sid {
    Sid::parse(sid, "AC").unwrap()
}

fn host(ip: &str) -> ipnet::IpNet {
    ipnet::IpNet::from(ip.parse::<IpAddr>().unwrap())
}

fn loopback() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
}

/// A config table with every field at its default: the library's own serde defaults,
/// which `SipConfig` and `TrustConfig` offer no constructor for.
fn defaults<T: serde::de::DeserializeOwned>() -> T {
    toml::from_str("").expect("every field has a default")
}
