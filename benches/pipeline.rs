//! The per-INVITE pipeline, received bytes to forwarded bytes: parse, trunk lookup,
//! canonicalization, attestation, signing and editing. The clock is pinned.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use callsign::certs::{SigningKey, dev};
use callsign::config::Config;
use callsign::daemon::settings;
use callsign::metrics::Metrics;
use callsign::passport::Signer;
use callsign::proxy::pipeline::{Action, decide};
use callsign::proxy::{Context, Peer, Ports, Transport};
use callsign::sip::Message;
use callsign::sip::digest::{Algorithm, Credentials, ha1, response};
use callsign::trust::DIGEST_REALM;
use callsign::trust::{Index, Sid, SigningAssignment, SigningIdentity, Trust, TrustData};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

mod synthetic;

const NOW: u64 = 1_790_000_000;
const CONFIG: &str = include_str!("../config/callsign.toml");
const TRUST: &str = include_str!("../config/trust.json");

fn invite() -> Vec<u8> {
    let body = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:2155550131@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-524287-1---7a9c3b1e;rport\r\n\
         From: <sip:2155550121@127.0.0.1:5070>;tag=28461SIPpTag001\r\n\
         To: <sip:2155550131@127.0.0.1:5060>\r\n\
         Call-ID: 1-28461@127.0.0.1\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:2155550121@127.0.0.1:5070;transport=UDP>\r\n\
         Max-Forwards: 70\r\n\
         Subject: Performance Test\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Bluebird, the sample's vetted account, which the provisioned trunks belong to.
const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";
/// Provisioned trunks and addresses for the loaded runs: 10,000 trunks with ten
/// addresses each.
const TRUNKS: u64 = 10_000;
const PER_TRUNK: u64 = 10;

/// The first provisioned trunk's domain and its credential.
const DOMAIN: &str = "pbx.bench.example";
const USER: &str = "pbx";
const PASSWORD: &str = "Bench-Passw0rd";

/// The pipeline's context on the sample data, with `trunks` provisioned trunks (the first
/// with a domain and a credential list).
fn context(trunks: u64) -> Context {
    let config = Config::from_toml(CONFIG).expect("shipped config");
    let pki = dev::generate("1234", NOW as i64).expect("dev PKI");
    let key = SigningKey::from_pem(&pki.leaf_key_pem).expect("leaf key");
    let signer = Signer::new(&key, &config.signing.x5u).expect("signer");
    let mut data = TrustData::from_json(TRUST).expect("sample trust data");
    let account = Sid::parse(BLUEBIRD, "AC").expect("Bluebird");
    data.trunking = synthetic::trunking(account, trunks, PER_TRUNK);
    if trunks > 0 {
        synthetic::credentials(&mut data.trunking, DOMAIN, USER, PASSWORD);
    }
    let trust = Arc::new(Trust::new(Index::build(&data).expect("index")));
    Context::new(
        settings::proxy(&config),
        Ports {
            udp: Some(5060),
            tcp: Some(5060),
            tls: None,
        },
        signer,
        trust,
        Arc::new(Metrics::new()),
    )
}

/// [`context`] without provisioned trunks, where Bluebird's calls are signed by a
/// signing identity of its own (another provider's key and x5u) instead of `[signing]`.
fn context_with_identity() -> Context {
    let mut ctx = context(0);
    let sid = Sid::parse("SI00000000000000000000000000000001", "SI").expect("SID");
    let account = Sid::parse(BLUEBIRD, "AC").expect("Bluebird");
    let mut data = TrustData::from_json(TRUST).expect("sample trust data");
    data.trunking.signing_identities.push(SigningIdentity {
        sid,
        friendly_name: None,
        certificate_chain: String::new(),
        private_key: "bench.pem".into(),
        x5u: None,
        date_created: None,
        date_updated: None,
    });
    data.trunking.signing_assignments.push(SigningAssignment {
        signing_identity_sid: sid,
        assigned_sid: account,
        date_created: None,
    });
    ctx.trust = Arc::new(Trust::new(Index::build(&data).expect("index")));
    let pki = dev::generate("5678", NOW as i64).expect("dev PKI");
    let key = SigningKey::from_pem(&pki.leaf_key_pem).expect("leaf key");
    let signer = Signer::new(&key, "https://sti.example/5678.pem").expect("signer");
    let signers = std::iter::once((sid, Arc::new(signer))).collect();
    ctx.identity_signers.store(Arc::new(signers));
    ctx
}

/// The bench INVITE to `uri` with SHA-256 credentials for `nonce` and count `nc`.
fn authenticated_invite(nonce: &str, uri: &str, nc: u32) -> Vec<u8> {
    let partial = format!(
        r#"Digest username="{USER}", realm="{DIGEST_REALM}", nonce="{nonce}", uri="{uri}", response="0", algorithm=SHA-256, qop=auth, nc={nc:08x}, cnonce="bench""#
    );
    let creds = Credentials::parse(&partial).expect("credentials");
    let key = ha1(Algorithm::Sha256, USER, DIGEST_REALM, PASSWORD);
    let header = partial.replace(
        r#"response="0""#,
        &format!(r#"response="{}""#, response(&creds, "INVITE", &key)),
    );
    let text = String::from_utf8(invite())
        .expect("text")
        .replacen(
            "INVITE sip:2155550131@127.0.0.1:5060",
            &format!("INVITE {uri}"),
            1,
        )
        .replacen(
            "Max-Forwards: 70\r\n",
            &format!("Max-Forwards: 70\r\nProxy-Authorization: {header}\r\n"),
            1,
        );
    text.into_bytes()
}

/// One INVITE from `src` through parse and decide, signed.
fn one_call(ctx: &Context, bytes: &[u8], src: Peer) -> usize {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let msg = Message::parse(black_box(bytes)).expect("valid INVITE");
    match decide(ctx, &msg, src, 7, black_box(now), None) {
        Action::Forward(f) => {
            assert!(f.signing.is_some(), "signed");
            f.bytes.len()
        }
        Action::Respond { status, .. } => panic!("refused with {status}"),
        Action::Answer(a) => panic!("answered with {}", a.status),
    }
}

fn pipeline(c: &mut Criterion) {
    let bytes = invite();
    let peer = |ip: [u8; 4]| Peer {
        transport: Transport::Udp,
        addr: SocketAddr::from((ip, 5070)),
    };
    let config_trunk = peer([127, 0, 0, 1]);
    // The last address of the last provisioned trunk.
    let last = u32::try_from(TRUNKS * PER_TRUNK - 1).expect("fits");
    let provisioned = peer((0x0a00_0000 + last).to_be_bytes());
    let (plain, loaded) = (context(0), context(TRUNKS));
    c.bench_function("pipeline/initial_invite_signed_a", |b| {
        b.iter(|| one_call(&plain, &bytes, config_trunk))
    });
    // The same call with 10,000 provisioned trunks and 100,000 addresses loaded: from a
    // config trunk, and from a provisioned one (the table's lookup on the call's path).
    c.bench_function(
        "pipeline/initial_invite_signed_a_100k_addresses_loaded",
        |b| b.iter(|| one_call(&loaded, &bytes, config_trunk)),
    );
    c.bench_function(
        "pipeline/initial_invite_from_a_provisioned_trunk_of_10k",
        |b| b.iter(|| one_call(&loaded, &bytes, provisioned)),
    );
    // A digest-authenticated call to the first trunk's domain from an address it does
    // not admit: each iteration's INVITE carries the next nonce count (made outside the
    // timing), so the proxy checks a fresh response every time.
    let nonce = loaded.nonces.mint(NOW as i64);
    let uri = format!("sip:2155550131@{DOMAIN}");
    let mut count = 0u32;
    let mut authenticated = || {
        count += 1;
        authenticated_invite(&nonce, &uri, count)
    };
    let roaming = peer([192, 0, 2, 99]);
    c.bench_function("pipeline/initial_invite_digest_authenticated", |b| {
        b.iter_batched(
            &mut authenticated,
            |bytes| one_call(&loaded, &bytes, roaming),
            BatchSize::SmallInput,
        )
    });
    // The same call signed by the account's own signing identity (FCC 24-120).
    let identity = context_with_identity();
    c.bench_function("pipeline/initial_invite_signed_by_assigned_identity", |b| {
        b.iter(|| one_call(&identity, &bytes, config_trunk))
    });
    c.bench_function("pipeline/parse_only", |b| {
        b.iter(|| Message::parse(black_box(&bytes)).map(|m| m.headers().len()))
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
