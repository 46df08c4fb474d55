//! Test harness: a real callsign server on 127.0.0.1:0 with a fresh dev PKI, a test UAC
//! and a test UAS (the upstream) talking to it over real sockets.
#![allow(dead_code)]

pub mod api;
pub mod sipp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use callsign::config::Config;
use callsign::daemon::{self, Control, Listeners};
use callsign::sip::{HeaderName, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;

pub const ACME: &str = "AC00000000000000000000000000000001";
const DEFAULT_TRUNKS: &str = r#"
[[trunk]]
name = "acme"
account_sid = "AC00000000000000000000000000000001"
sources = ["127.0.0.1/32"]

[[trunk]]
name = "acme-branch"
account_sid = "AC00000000000000000000000000000002"
sources = ["127.0.0.2/32"]
"#;

/// A dev PKI written into `dir`, for harnesses that must share one.
pub fn shared_pki(dir: &std::path::Path) -> std::path::PathBuf {
    let pki = callsign::certs::dev::generate("1234", now_unix()).unwrap();
    let path = dir.join("shared-pki");
    callsign::certs::dev::write(&path, &pki).unwrap();
    path
}

/// Options for a verifying instance: every source on 127.0.0.1 is a carrier whose
/// calls are verified against `pki`'s root, fetching x5u over http on loopback.
pub fn verifying(pki: &std::path::Path, on_failure: &str) -> Options {
    Options {
        pki: Some(pki.to_owned()),
        trunks: Some(
            "[[trunk]]\nname = \"carrier-in\"\nrole = \"verify\"\nsources = [\"127.0.0.1/32\"]\n"
                .into(),
        ),
        extra_config: format!(
            "[verify]\ntrust_anchors = \"{}\"\non_failure = \"{on_failure}\"\nallow_http = true\nallow_loopback = true\n",
            pki.join("root.pem").display()
        ),
        ..Options::default()
    }
}
/// The operator credential of store-mode harnesses.
pub const OPERATOR_SID: &str = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";
pub const TRUST: &str = include_str!("../data/trust.json");
/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct Options {
    /// Forward to this address (e.g. a SIPp UAS) instead of a harness socket.
    pub upstream_addr: Option<SocketAddr>,
    pub upstream_tcp: bool,
    pub t1_ms: u64,
    pub extra_sip: &'static str,
    /// Use the dev PKI in this folder instead of generating one.
    pub pki: Option<std::path::PathBuf>,
    /// Put the real x5u URL (this server's HTTP listener) in PASSporTs.
    pub real_x5u: bool,
    /// Put this x5u URL in PASSporTs.
    pub x5u: Option<String>,
    /// Trunk tables replacing the default acme and acme-branch trunks.
    pub trunks: Option<String>,
    /// More TOML appended to the config (e.g. a [verify] table).
    pub extra_config: String,
    /// Store mode: the store is seeded from this trust-data JSON (instead of the
    /// read-only `tests/data/trust.json` file mode).
    pub store_seed: Option<String>,
    /// More `[[trunk]]` tables.
    pub extra_trunks: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            upstream_addr: None,
            upstream_tcp: false,
            t1_ms: 500,
            extra_sip: "",
            pki: None,
            real_x5u: false,
            x5u: None,
            trunks: None,
            extra_config: String::new(),
            store_seed: None,
            extra_trunks: String::new(),
        }
    }
}

pub enum Upstream {
    Udp(UdpSocket),
    Tcp(TcpListener),
    External,
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    pub http: SocketAddr,
    pub upstream: Upstream,
    pub control: Control,
    pub leaf_public_key: Vec<u8>,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Harness {
    pub async fn start(opts: Options) -> Harness {
        Harness::start_in(tempfile::tempdir().unwrap(), opts).await
    }

    /// Stops this server, waits until it has, and starts another on the same directory
    /// (and so the same store) with `opts`.
    pub async fn restart(mut self, opts: Options) -> Harness {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server).await.unwrap().unwrap();
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Harness::start_in(dir, opts).await
    }

    pub async fn start_in(dir: tempfile::TempDir, opts: Options) -> Harness {
        let pki_dir = match &opts.pki {
            Some(p) => p.clone(),
            None => {
                if !dir.path().join("pki").exists() {
                    let pki = callsign::certs::dev::generate("1234", now_unix()).unwrap();
                    callsign::certs::dev::write(&dir.path().join("pki"), &pki).unwrap();
                }
                dir.path().join("pki")
            }
        };
        let trust = match &opts.store_seed {
            Some(seed) => {
                std::fs::write(dir.path().join("seed.json"), seed).unwrap();
                format!(
                    "store = \"callsign.db\"\nseed = \"seed.json\"\n\n[api]\n\
                     operator_sid = \"{OPERATOR_SID}\"\noperator_auth_token = \"{OPERATOR_TOKEN}\"\n\
                     callback_backoff_ms = 20\nmax_body_bytes = 4096"
                )
            }
            None => {
                std::fs::write(dir.path().join("trust.json"), TRUST).unwrap();
                "file = \"trust.json\"\nwatch_interval_ms = 0".to_owned()
            }
        };

        let (upstream, up_addr) = if let Some(a) = opts.upstream_addr {
            (Upstream::External, a)
        } else if opts.upstream_tcp {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let a = l.local_addr().unwrap();
            (Upstream::Tcp(l), a)
        } else {
            let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let a = s.local_addr().unwrap();
            (Upstream::Udp(s), a)
        };
        let transport = if opts.upstream_tcp { "tcp" } else { "udp" };
        let text = format!(
            r#"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
t1_ms = {t1}
{extra}

[http]
listen = "127.0.0.1:0"

[signing]
certificate = "{pki}/chain.pem"
key = "{pki}/leaf.key"
x5u = "http://127.0.0.1/certs/chain.pem"
crls = ["{pki}/intermediate.crl"]

[trust]
{trust}

[upstream]
address = "{up_addr}"
transport = "{transport}"

{trunks}
{extra_trunks}
{extra_config}
"#,
            t1 = opts.t1_ms,
            extra = opts.extra_sip,
            pki = pki_dir.display(),
            trunks = opts
                .trunks
                .clone()
                .unwrap_or_else(|| DEFAULT_TRUNKS.to_string()),
            extra_trunks = opts.extra_trunks,
            extra_config = opts.extra_config,
        );
        let path = dir.path().join("callsign.toml");
        std::fs::write(&path, text).unwrap();
        let mut config = Config::load(&path).unwrap();
        let listeners = Listeners::bind(&config).await.unwrap();
        let udp = listeners.udp.as_ref().unwrap().local_addr().unwrap();
        let tcp = listeners.tcp.as_ref().unwrap().local_addr().unwrap();
        let http = listeners.http.as_ref().unwrap().local_addr().unwrap();
        if opts.real_x5u {
            config.signing.x5u = format!("http://{http}/certs/chain.pem");
        }
        if let Some(x5u) = &opts.x5u {
            config.signing.x5u = x5u.clone();
        }
        let (control, stop) = Control::new();
        let c = control.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = daemon::run(config, listeners, c).await {
                panic!("server failed: {e}");
            }
        });
        let chain = std::fs::read_to_string(pki_dir.join("chain.pem")).unwrap();
        Harness {
            dir,
            udp,
            tcp,
            http,
            upstream,
            control,
            leaf_public_key: leaf_public_key(&chain),
            stop,
            server: Some(server),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn uas_udp(&self) -> &UdpSocket {
        match &self.upstream {
            Upstream::Udp(s) => s,
            _ => panic!("upstream is not a harness UDP socket"),
        }
    }

    /// Asks the server to reload its trust data and waits until it has tried.
    pub async fn reload(&self) {
        let mut rx = self.control.reloaded.subscribe();
        rx.borrow_and_update();
        self.control.reload.notify_one();
        tokio::time::timeout(WAIT, rx.changed())
            .await
            .unwrap()
            .unwrap();
    }

    /// Asserts that `/metrics` has a line starting with `sample` (name, labels and value).
    pub async fn assert_metric(&self, sample: &str) {
        let metrics = self.http_get("/metrics").await;
        assert!(
            metrics.lines().any(|l| l == sample),
            "no `{sample}` in:\n{metrics}"
        );
    }

    /// GET a path from the HTTP listener; returns the whole response as text.
    pub async fn http_get(&self, path: &str) -> String {
        String::from_utf8(self.http_get_bytes(path).await).unwrap()
    }

    /// GET a path from the HTTP listener; returns the whole response.
    pub async fn http_get_bytes(&self, path: &str) -> Vec<u8> {
        let mut s = TcpStream::connect(self.http).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        out
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn leaf_public_key(chain_pem: &str) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(chain_pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    cert.public_key().subject_public_key.data.to_vec()
}

/// A UDP user agent bound on `ip`.
pub async fn uac(ip: &str) -> UdpSocket {
    UdpSocket::bind(format!("{ip}:0")).await.unwrap()
}

pub async fn recv(sock: &UdpSocket) -> String {
    let mut buf = vec![0u8; 65536];
    let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
        .await
        .expect("timed out waiting for a SIP message")
        .unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

pub async fn recv_from(sock: &UdpSocket) -> (String, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (n, from) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
        .await
        .expect("timed out waiting for a SIP message")
        .unwrap();
    (String::from_utf8(buf[..n].to_vec()).unwrap(), from)
}

/// Receives until a message satisfies `pred`, skipping others (bounded by WAIT each).
pub async fn recv_until(sock: &UdpSocket, pred: impl Fn(&str) -> bool) -> (String, SocketAddr) {
    for _ in 0..50 {
        let (m, from) = recv_from(sock).await;
        if pred(&m) {
            return (m, from);
        }
    }
    panic!("no matching message within 50 messages");
}

/// The status code of a response, read from its status line alone (a 400 may echo the
/// malformed header that caused it).
pub fn status(msg: &str) -> u16 {
    let line = msg.lines().next().unwrap_or_default();
    assert!(line.starts_with("SIP/2.0 "), "not a response: {line}");
    line[8..11].parse().expect("status code")
}

pub fn header(msg: &str, name: HeaderName) -> Option<String> {
    Message::parse(msg.as_bytes())
        .unwrap()
        .header(name)
        .map(str::to_string)
}

pub fn method(msg: &str) -> Option<String> {
    Message::parse(msg.as_bytes())
        .unwrap()
        .method_str()
        .map(str::to_string)
}

/// An INVITE from `local` (the UAC's address) calling `from` -> `to`.
pub fn invite(
    local: SocketAddr,
    transport: &str,
    call_id: &str,
    branch: &str,
    from: &str,
    to: &str,
    extra: &str,
) -> String {
    let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    format!(
        "INVITE sip:{to}@carrier.example SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{from}@127.0.0.1>;tag=uac-{call_id}\r\n\
         To: <sip:{to}@carrier.example>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:{from}@{local};transport={tl}>\r\n\
         X-Custom-Header: keep me exactly  as is\r\n\
         {extra}\
         Content-Type: application/sdp\r\n\
         Content-Length: {len}\r\n\r\n{body}",
        tl = transport.to_ascii_lowercase(),
        len = body.len()
    )
}

/// An INVITE from the vetted customer's number +1 215 555 0121 to +1 215 555 0131, with
/// branch `z9hG4bK-<call_id>`.
pub fn call(local: SocketAddr, transport: &str, call_id: &str) -> String {
    let branch = format!("z9hG4bK-{call_id}");
    invite(
        local,
        transport,
        call_id,
        &branch,
        "2155550121",
        "2155550131",
        "",
    )
}

/// A response from the UAS to `req`, copying Via, From, To (adding a tag), Call-ID and CSeq.
pub fn respond(req: &str, status: u16, reason: &str, extra: &str) -> String {
    let msg = Message::parse(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let extras: Vec<(HeaderName, &str)> = extra
        .split("\r\n")
        .filter_map(|l| l.split_once(": "))
        .map(|(name, value)| (HeaderName::parse(name), value))
        .collect();
    let tag = if status > 100 { Some("uas-tag") } else { None };
    callsign::sip::build_response(&msg, status, reason, tag, &extras, &mut out);
    String::from_utf8(out).unwrap()
}

/// Verifies an Identity header value with jsonwebtoken (an independent decoder) and
/// returns its claims.
pub fn verify_identity(value: &str, public_key: &[u8]) -> serde_json::Value {
    let jws = value.split(';').next().unwrap().trim();
    assert!(value.contains(";alg=ES256"), "{value}");
    assert!(value.contains(";ppt=shaken"), "{value}");
    assert!(
        value.contains(";info=<http://127.0.0.1/certs/chain.pem>"),
        "{value}"
    );
    let key = jsonwebtoken::DecodingKey::from_ec_der(public_key);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(jws, &key, &validation)
        .expect("Identity verifies with the leaf key");
    assert_eq!(
        data.header.x5u.as_deref(),
        Some("http://127.0.0.1/certs/chain.pem")
    );
    data.claims
}

/// Relays datagrams between the signing instance and the verifying one (`to`),
/// flipping one character of each Identity header's PASSporT payload on the way.
/// Bounded: it stops after `max` datagrams.
pub async fn tampering_relay(to: std::net::SocketAddr, max: usize) -> std::net::SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        let mut back = None;
        for _ in 0..max {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if from == to {
                if let Some(back) = back {
                    let _ = sock.send_to(text.as_bytes(), back).await;
                }
            } else {
                back = Some(from);
                let _ = sock.send_to(tamper(&text).as_bytes(), to).await;
            }
        }
    });
    addr
}

pub fn tamper(msg: &str) -> String {
    let Some(start) = msg.find("\r\nIdentity: ") else {
        return msg.to_string();
    };
    let value = start + "\r\nIdentity: ".len();
    let payload = value + msg[value..].find('.').unwrap() + 1;
    let at = payload + 10;
    let flipped = if &msg[at..at + 1] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &msg[..at], &msg[at + 1..])
}

/// Places one call from a UAC on `ip` (a trunk's source) calling `from` → `to`, takes
/// the forwarded INVITE at the harness UAS, answers it 486, and returns the verified
/// PASSporT claims.
pub async fn signed_call(
    h: &Harness,
    ip: &str,
    from: &str,
    to: &str,
    call_id: &str,
) -> serde_json::Value {
    let uac = uac(ip).await;
    let local = uac.local_addr().unwrap();
    let branch = format!("z9hG4bK-{call_id}");
    let inv = invite(local, "UDP", call_id, &branch, from, to, "");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let (fwd, proxy) = recv_until(h.uas_udp(), |m| {
        m.starts_with("INVITE ") && m.contains(&format!("Call-ID: {call_id}\r\n"))
    })
    .await;
    let busy = respond(&fwd, 486, "Busy Here", "");
    h.uas_udp().send_to(busy.as_bytes(), proxy).await.unwrap();
    let identity = header(&fwd, HeaderName::Identity).expect("the INVITE is signed");
    verify_identity(&identity, &h.leaf_public_key)
}
