//! Fixtures for the proxy's unit tests: a context built from the shipped config and
//! sample trust data with a fresh dev PKI, and message builders.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::context::Context;
use super::{Peer, Transport};
use crate::certs::{SigningKey, dev};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::passport::Signer;
use crate::trust::{Index, Trust, TrustData};

pub const NOW_UNIX: u64 = 1_790_000_000;
/// Our SIP port in the fixture context.
pub const PORT: u16 = 5060;
/// The Bluebird trunk's source (vetted direct customer).
pub const TRUNK: &str = "127.0.0.1:5070";
/// The upstream carrier (moved off loopback so it is not mistaken for a trunk).
pub const CARRIER: &str = "192.0.2.50:5080";

pub fn wall() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_UNIX)
}

/// The shipped config (upstream moved to [`CARRIER`]), the sample trust data and a dev
/// PKI, as `callsign serve` would build them, with `edit` applied to the config text.
pub fn context_with(edit: impl Fn(&str) -> String) -> (Context, Vec<u8>) {
    let shipped = include_str!("../../config/callsign.toml").replace(
        "address = \"127.0.0.1:5080\"",
        &format!("address = \"{CARRIER}\""),
    );
    let config = Config::from_toml(&edit(&shipped)).expect("fixture config");
    let pki = dev::generate("1234", NOW_UNIX as i64).expect("dev PKI");
    let key = SigningKey::from_pem(&pki.leaf_key_pem).expect("leaf key");
    let signer = Signer::new(&key, &config.signing.x5u).expect("signer");
    let data = TrustData::from_json(include_str!("../../config/trust.json")).expect("trust");
    let trust = Arc::new(Trust::new(Index::build(&data).expect("index")));
    let metrics = Arc::new(Metrics::new());
    let ctx =
        Context::new(&config, Some(PORT), Some(PORT), signer, trust, metrics).expect("context");
    (ctx, key.public_key_sec1())
}

pub fn context() -> (Context, Vec<u8>) {
    context_with(str::to_string)
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
