//! Wire compatibility with Twilio's own client: the official `twilio` Python package
//! drives the Trust Hub API (tests/python/twilio_compat.py), and SIPp calls through the
//! proxy show the `attest` claim before and after the operator's approval; it drives
//! trunking (tests/python/trunking_compat.py), and a SIPp call from the address it
//! provisioned is signed for the trunk until it takes the trunk down again.
//!
//! Needs SIPp and a virtualenv with `twilio` (`scripts/test.sh` creates
//! `target/twilio-venv` and installs it), so plain `cargo test` ignores it. The
//! interpreter can be overridden with `CALLSIGN_TWILIO_PYTHON`.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::sipp::{calls, free_udp_port};
use common::*;

fn python() -> PathBuf {
    std::env::var_os("CALLSIGN_TWILIO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/twilio-venv/bin/python")
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
    let base = format!("http://{}", h.http);
    let state = h.path(script.state);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script.file);
    let name = name.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .args([name.as_str(), &base])
            .arg(&state)
            .env("OPERATOR_SID", OPERATOR_SID)
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            .output()
            .expect("the twilio virtualenv exists (scripts/test.sh creates it)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "twilio-python phase failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn state(h: &Harness, script: Script) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(h.path(script.state)).unwrap()).unwrap()
}

/// A server on an empty store whose calls go to the SIPp UAS at `uas`.
fn server(uas: SocketAddr) -> TestServer {
    TestServer::new().store("{}").upstream_at(uas)
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
#[ignore = "needs SIPp and the twilio Python package; run by scripts/test.sh"]
async fn the_twilio_python_client_provisions_a_trunk_that_then_carries_signed_calls() {
    let uas_port = free_udp_port();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let h = server(uas).start().await;
    let pbx = "127.0.0.5";
    assert_eq!(final_answer(&h, pbx, "trunkco-before").await, 403);

    // An account made through the client gives its trunk a list admitting the PBX.
    phase(&h, TRUNKING, "provision").await;
    let trunk = state(&h, TRUNKING)["trunk_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let origid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, trunk.as_bytes());
    for claims in calls(&h, uas_port, "2155550177", pbx, 1, "trunk").await {
        // No approved profile yet: C, with the trunk's own origid.
        assert_eq!(claims["attest"], "C");
        assert_eq!(claims["orig"]["tn"], "12155550177");
        assert_eq!(claims["origid"], origid.hyphenated().to_string());
    }

    // Once the client has taken the list off the trunk and deleted it all, the PBX's
    // next call is refused.
    phase(&h, TRUNKING, "teardown").await;
    assert_eq!(final_answer(&h, pbx, "trunkco-after").await, 403);
}
