//! Fixtures for the proxy's unit tests: a context built from the shipped config and
//! sample trust data with a fresh dev PKI, and message builders.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::context::{Context, Ports};
use super::settings::{
    Fallback, Feedback, IdentityPolicy, OnFailure, Role, Settings, Timers, TrunkSettings, Upstream,
};
use super::{Peer, Transport};
use crate::certs::{SigningKey, dev};
use crate::metrics::Metrics;
use crate::passport::Signer;
use crate::tn::Numbering;
use crate::trust::{Index, Sid, Trust, TrustData};

pub const NOW_UNIX: u64 = 1_790_000_000;
/// Our SIP port in the fixture context.
pub const PORT: u16 = 5060;
/// The Bluebird trunk's source (vetted direct customer).
pub const TRUNK: &str = "127.0.0.1:5070";
/// The upstream carrier (off loopback, so it is not mistaken for a trunk).
pub const CARRIER: &str = "192.0.2.50:5080";
/// The x5u of the fixture's signer.
pub const X5U: &str = "http://127.0.0.1:8080/certs/chain.pem";

pub fn wall() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_UNIX)
}

/// The sample deployment of `config/callsign.toml`: its four trunks (Bluebird on
/// 127.0.0.1, its support sub-account on .2, Harbor Dental on .3, Quickdial on .9) and
/// the carrier at [`CARRIER`].
pub fn settings() -> Settings {
    let trunk = |name: &str, account: &str, source: &str| TrunkSettings {
        name: name.into(),
        role: Role::Sign,
        account: Some(Sid::parse(account, "AC").expect("account")),
        origid: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()),
        sources: vec![source.parse().expect("range")],
        upstream: None,
        require_tls: false,
        tls_client_names: Vec::new(),
        sbc: Default::default(),
    };
    Settings {
        host: "127.0.0.1".into(),
        record_route: true,
        identity_policy: IdentityPolicy::Strip,
        stale_date: Fallback::Refuse,
        invalid_certificate: Fallback::Unsigned,
        suspended_status: None,
        digest_realm: crate::trust::DIGEST_REALM.into(),
        max_message_size: 16 * 1024,
        timers: Timers::default(),
        max_transactions: 10_000,
        max_tcp_connections: 4096,
        tcp_idle_timeout: Duration::from_secs(600),
        on_failure: OnFailure::Forward,
        feedback: Feedback::Response,
        verify_max_wait: Duration::from_secs(2),
        numbering: Numbering {
            national_number_digits: Some(10),
            ..Numbering::default()
        },
        trunks: vec![
            trunk(
                "bluebird",
                "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
                "127.0.0.1/32",
            ),
            trunk(
                "bluebird-support",
                "AC1a2b3c4d5e6f708192a3b4c5d6e7f802",
                "127.0.0.2/32",
            ),
            trunk(
                "harbor-dental",
                "AC1a2b3c4d5e6f708192a3b4c5d6e7f803",
                "127.0.0.3/32",
            ),
            trunk(
                "quickdial",
                "AC1a2b3c4d5e6f708192a3b4c5d6e7f804",
                "127.0.0.9/32",
            ),
        ],
        upstream: Upstream {
            peer: udp(CARRIER),
            sources: Vec::new(),
            tls_name: None,
        },
    }
}

/// A carrier trunk on 198.51.100.7 whose calls are verified.
pub fn verifying_trunk() -> TrunkSettings {
    TrunkSettings {
        name: "carrier-in".into(),
        role: Role::Verify,
        account: None,
        origid: uuid::Uuid::nil(),
        sources: vec!["198.51.100.7/32".parse().expect("range")],
        upstream: None,
        require_tls: false,
        tls_client_names: Vec::new(),
        sbc: Default::default(),
    }
}

/// A context as `callsign serve` builds it, from [`settings`] changed by `edit`, the
/// sample trust data and a fresh dev PKI. Returns the signer's public key too.
pub fn context_with(edit: impl FnOnce(&mut Settings)) -> (Context, Vec<u8>) {
    let ports = Ports {
        udp: Some(PORT),
        tcp: Some(PORT),
        tls: None,
    };
    context_on(ports, edit)
}

/// [`context_with`], listening on `ports`.
pub fn context_on(ports: Ports, edit: impl FnOnce(&mut Settings)) -> (Context, Vec<u8>) {
    let mut settings = settings();
    edit(&mut settings);
    let pki = dev::generate("1234", NOW_UNIX as i64).expect("dev PKI");
    let key = SigningKey::from_pem(&pki.leaf_key_pem).expect("leaf key");
    let signer = Signer::new(&key, X5U).expect("signer");
    let data = TrustData::from_json(include_str!("../../config/trust.json")).expect("trust");
    let trust = Arc::new(Trust::new(Index::build(&data).expect("index")));
    let metrics = Arc::new(Metrics::new());
    let ctx = Context::new(settings, ports, signer, trust, metrics);
    (ctx, key.public_key_sec1())
}

pub fn context() -> (Context, Vec<u8>) {
    context_with(|_| {})
}

pub fn udp(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse::<SocketAddr>().expect("address"),
    }
}

pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// An initial INVITE from the trunk, calling 2155550121 -> 2155550131, with `extra`
/// header lines (each ending in CRLF) before Content-Type.
pub fn invite(extra: &str) -> String {
    format!(
        "INVITE sip:2155550131@carrier.example SIP/2.0\r\n\
         Via: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-1;rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:2155550121@127.0.0.1>;tag=a1\r\n\
         To: <sip:2155550131@carrier.example>\r\n\
         Call-ID: c1@test\r\n\
         CSeq: 1 INVITE\r\n\
         X-Unknown:   odd  spacing ;kept\r\n\
         {extra}\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    )
}

/// The carrier's answer `status` (To-tag `b2`) to the INVITE forwarded in `out`.
pub fn answer_forwarded(out: &[super::Output], status: u16, reason: &str) -> Vec<u8> {
    let forwarded = out
        .iter()
        .find(|o| o.bytes.starts_with(b"INVITE "))
        .expect("a forwarded INVITE");
    let msg = crate::sip::Message::parse(&forwarded.bytes).expect("the forwarded INVITE parses");
    let mut resp = Vec::new();
    crate::sip::build_response(&msg, status, reason, Some("b2"), &[], &mut resp);
    resp
}
