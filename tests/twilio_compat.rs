//! Wire compatibility with Twilio's own client: the official `twilio` Python package
//! drives the Trust Hub API (tests/python/twilio_compat.py), and SIPp calls through the
//! proxy show the `attest` claim before and after the operator's approval; it drives
//! trunking (tests/python/trunking_compat.py), including a verifying trunk's phone
//! numbers, and a SIPp call from the address it provisioned is signed for the trunk, as
//! is a call to its other trunk's domain that authenticates with the password it set,
//! until it takes both down again.
//!
//! The first also runs on two nodes sharing a PostgreSQL store: the client writes
//! through one, the other's calls change level.
//!
//! Twilio's Node.js library (the `twilio` npm package) builds the same world through
//! its own code paths and pages through every list one record at a time
//! (tests/node/twilio_compat.js).
//!
//! Needs SIPp and a virtualenv with `twilio` (`scripts/test.sh` creates
//! `target/twilio-venv` and installs it; and PostgreSQL for the two nodes), and Node.js
//! with the npm package in `target/twilio-node`, so plain `cargo test` ignores them. The
//! interpreter can be overridden with `CALLSIGN_TWILIO_PYTHON`, the npm packages' folder
//! with `CALLSIGN_TWILIO_NODE_MODULES`.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use callsign::proxy::OnFailure;
use callsign::sip::HeaderName;
use common::sipp::{calls, free_udp_port};
use common::*;
use tokio::net::UdpSocket;

/// Where the `twilio` npm package is installed (`scripts/test.sh` puts it in
/// `target/twilio-node`); `CALLSIGN_TWILIO_NODE_MODULES` overrides it.
fn node_modules() -> PathBuf {
    std::env::var_os("CALLSIGN_TWILIO_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/twilio-node/node_modules")
        })
}

/// A script of tests/python/, and the file in the harness directory that carries SIDs
/// and tokens from one of its phases to the next.
#[derive(Clone, Copy)]
struct Script {
    file: &'static str,
    state: &'static str,
}

const TRUST_HUB: Script = Script {
    file: "twilio_compat.py",
    state: "compat-state.json",
};
const TRUNKING: Script = Script {
    file: "trunking_compat.py",
    state: "trunking-state.json",
};

/// Runs one phase of `script` against `h`.
async fn phase(h: &Harness, script: Script, name: &str) {
    phase_via(h, h.http, script, name).await
}

/// Runs one phase of `script` against the API at `api`, with its state in `h`'s folder.
async fn phase_via(h: &Harness, api: SocketAddr, script: Script, name: &str) {
    common::python::run_phase(script.file, name, api, h.path(script.state)).await
}

fn state(h: &Harness, script: Script) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(h.path(script.state)).unwrap()).unwrap()
}

/// An address no list of the trunking script's names: its calls reach the trunk with a
/// domain only by authenticating.
const ROAMING: &str = "127.0.0.12";

/// Sends an INVITE for `uri` from [`ROAMING`], with `authorization` as its
/// Proxy-Authorization when given; returns the UAC, to read the answers on.
async fn invite_to(
    h: &Harness,
    uri: &str,
    call_id: &str,
    authorization: Option<&str>,
) -> UdpSocket {
    let extra = authorization.map_or(String::new(), |a| format!("Proxy-Authorization: {a}\r\n"));
    let numbers = ("2155550177", "2155550199");
    send_invite(h.udp, ROAMING, call_id, numbers, Some(uri), &extra).await
}

/// The status of the final answer `uac` gets, and the answer.
async fn final_status(uac: &UdpSocket) -> (u16, String) {
    let (answer, _) = recv_until(uac, |m| status(m) >= 200).await;
    (status(&answer), answer)
}

/// A server on an empty store whose calls go to the SIPp UAS at `uas`.
fn server(uas: SocketAddr) -> TestServer {
    TestServer::new().store("{}").upstream_at(uas)
}

/// [`server`], verifying too (a `[verify]` table trusting `pki`'s root), so that a trunk
/// may take `Role=verify`, and phone numbers with it. Its config trunks stay
/// [`TestServer::new`]'s signing acme and acme-branch: no source is a carrier.
fn verifying_server(uas: SocketAddr, pki: &Path) -> TestServer {
    TestServer::verifying(pki, OnFailure::Forward)
        .trunks(vec![
            signing_trunk("acme", ACME, "127.0.0.1"),
            signing_trunk("acme-branch", ACME_BRANCH, "127.0.0.2"),
        ])
        .store("{}")
        .upstream_at(uas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp and the twilio Python package; run by scripts/test.sh"]
async fn the_twilio_python_client_vets_a_customer_and_calls_change_level() {
    let uas_port = free_udp_port();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let h = server(uas).start().await;

    // 1. The account and its sub-account, created through the client.
    phase(&h, TRUST_HUB, "accounts").await;
    let s = state(&h, TRUST_HUB);
    let (account, sub) = (
        s["account_sid"].as_str().unwrap().to_owned(),
        s["sub_sid"].as_str().unwrap().to_owned(),
    );
    // Trunks name accounts in config, so the proxy restarts with trunks for the two new
    // accounts; the store keeps everything the client wrote.
    let next = server(uas)
        .trunk(signing_trunk("compat", &account, "127.0.0.5"))
        .trunk(signing_trunk("compat-support", &sub, "127.0.0.6"));
    let h = h.restart(next).await;

    // 2-3. Numbers, profile, end users, trust product, assignments, submission.
    phase(&h, TRUST_HUB, "vet").await;
    for claims in calls(&h, uas_port, "2155550121", "127.0.0.5", 3, "before").await {
        assert_eq!(claims["attest"], "C", "submitted but not yet approved");
    }
    // The operator approves; the very next calls are signed A (B for the sub-account).
    phase(&h, TRUST_HUB, "approve").await;
    for claims in calls(&h, uas_port, "2155550121", "127.0.0.5", 3, "after").await {
        assert_eq!(claims["attest"], "A");
        assert_eq!(claims["orig"]["tn"], "12155550121");
    }
    for claims in calls(&h, uas_port, "2155550131", "127.0.0.6", 2, "sub").await {
        assert_eq!(claims["attest"], "B");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and the twilio npm package; run by scripts/test.sh"]
async fn the_twilio_node_client_builds_the_attestation_world_and_pages_every_list() {
    let h = TestServer::new().store("{}").start().await;
    let base = format!("http://{}", h.http);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/twilio_compat.js");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(&base)
            .env("NODE_PATH", node_modules())
            .env("OPERATOR_SID", OPERATOR_SID)
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            .output()
            .expect("node runs (scripts/test.sh installs Node.js)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "twilio-node failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until every node of `nodes` has applied the change log of the PostgreSQL store
/// at `url` up to its head.
async fn converged(url: &str, nodes: &[&Harness]) {
    use callsign::store::RecordStore;
    let store = callsign::store::PostgresStore::connect(url).unwrap();
    let head = store.feed().expect("a shared store").head().unwrap();
    let https: Vec<SocketAddr> = nodes.iter().map(|h| h.http).collect();
    applied_everywhere(head, &https, std::time::Instant::now()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp, the twilio Python package and PostgreSQL; run by scripts/test.sh"]
async fn on_two_postgres_nodes_the_client_vets_through_one_and_the_other_signs() {
    let url = fresh_database();
    let uas_port = free_udp_port();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let one = server(uas).pki(&pki).store_db(&url).start().await;
    let two = server(uas).pki(&pki).store_db(&url).start().await;

    // The client makes the accounts through node 1; their trunks are made through node 2's
    // API (no config, no restart), with the tokens the client was given.
    phase_via(&one, one.http, TRUST_HUB, "accounts").await;
    let s = state(&one, TRUST_HUB);
    let creds = |sid: &str, token: &str| {
        common::api::Creds::new(s[sid].as_str().unwrap(), s[token].as_str().unwrap())
    };
    let api2 = common::api::Api::new(two.http);
    api2.trunk_at(&creds("account_sid", "account_token"), "127.0.0.5")
        .await;
    api2.trunk_at(&creds("sub_sid", "sub_token"), "127.0.0.6")
        .await;

    // Vetted and submitted through node 2: node 1's calls are still C.
    phase_via(&one, two.http, TRUST_HUB, "vet").await;
    converged(&url, &[&one, &two]).await;
    for claims in calls(&one, uas_port, "2155550121", "127.0.0.5", 3, "before").await {
        assert_eq!(claims["attest"], "C", "submitted but not yet approved");
    }
    // Approved through node 1: node 2 signs A, and B for the sub-account.
    phase_via(&one, one.http, TRUST_HUB, "approve").await;
    converged(&url, &[&one, &two]).await;
    for claims in calls(&two, uas_port, "2155550121", "127.0.0.5", 3, "after").await {
        assert_eq!(claims["attest"], "A");
        assert_eq!(claims["orig"]["tn"], "12155550121");
    }
    for claims in calls(&two, uas_port, "2155550131", "127.0.0.6", 2, "sub").await {
        assert_eq!(claims["attest"], "B");
    }
    for claims in calls(&one, uas_port, "2155550131", "127.0.0.6", 2, "sub-1").await {
        assert_eq!(claims["attest"], "B");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp and the twilio Python package; run by scripts/test.sh"]
async fn the_twilio_python_client_provisions_a_trunk_that_then_carries_signed_calls() {
    let uas_port = free_udp_port();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let h = verifying_server(uas, &pki).start_in(dir).await;
    let pbx = "127.0.0.5";
    assert_eq!(final_answer(&h, pbx, "trunkco-before").await, 403);

    // An account made through the client gives its trunk a list admitting the PBX (and
    // takes a verifying trunk's numbers through their lifecycle on the way).
    phase(&h, TRUNKING, "provision").await;
    let s = state(&h, TRUNKING);
    let text = |key: &str| s[key].as_str().unwrap().to_owned();
    let origid = |trunk: &str| {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, text(trunk).as_bytes());
        id.hyphenated().to_string()
    };
    for claims in calls(&h, uas_port, "2155550177", pbx, 1, "trunk").await {
        // No approved profile yet: C, with the trunk's own origid.
        assert_eq!(claims["attest"], "C");
        assert_eq!(claims["orig"]["tn"], "12155550177");
        assert_eq!(claims["origid"], origid("trunk_sid"));
    }

    // Its other trunk has a domain and a credential list: a call addressed to the domain
    // from an address no list names is challenged, refused with the password the client
    // replaced, and signed for that trunk with the one it set.
    let uri = format!("sip:2155550199@{}", text("domain"));
    let (code, challenge) = final_status(&invite_to(&h, &uri, "roam-0", None).await).await;
    assert_eq!(code, 407, "{challenge}");
    let user = text("username");
    let old = digest_answer(&challenge, &uri, &user, &text("old_password"), 1);
    let refused = final_status(&invite_to(&h, &uri, "roam-1", Some(&old)).await).await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    // SIPp's UAS has exited; this socket takes its place as the upstream.
    let upstream = UdpSocket::bind(uas).await.unwrap();
    let right = digest_answer(&challenge, &uri, &user, &text("password"), 2);
    let uac = invite_to(&h, &uri, "roam-2", Some(&right)).await;
    let (fwd, proxy) = recv_until(&upstream, |m| {
        m.starts_with("INVITE ") && m.contains("Call-ID: roam-2\r\n")
    })
    .await;
    assert!(
        !fwd.contains("Proxy-Authorization"),
        "credentials went on: {fwd}"
    );
    let identity = header(&fwd, HeaderName::Identity).expect("the INVITE is signed");
    let claims = verify_identity(&identity, &h.leaf_public_key);
    assert_eq!(claims["attest"], "C");
    assert_eq!(claims["origid"], origid("backup_sid"));
    let busy = respond(&fwd, 486, "Busy Here", "");
    upstream.send_to(busy.as_bytes(), proxy).await.unwrap();
    assert_eq!(final_status(&uac).await.0, 486);
    drop(upstream);

    // Once the client has taken the lists off the trunks and deleted it all, the PBX's
    // next call is refused, and so is the next call to the domain, unchallenged.
    phase(&h, TRUNKING, "teardown").await;
    assert_eq!(final_answer(&h, pbx, "trunkco-after").await, 403);
    let after = final_status(&invite_to(&h, &uri, "roam-3", None).await).await;
    assert_eq!(after.0, 403, "{}", after.1);
}
