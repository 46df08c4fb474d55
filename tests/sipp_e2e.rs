//! SIPp end to end: SIPp's UAC places calls through real callsign servers to SIPp's UAS.
//! Every call must complete. Signing: every INVITE the UAS receives carries an Identity
//! header that verifies and attests the expected level. Signing then verifying: every
//! INVITE arrives with the expected `verstat`, also when a relay between the two
//! instances tampers with the tokens.
//!
//! Needs `sipp` (Debian package `sip-tester`), so it is ignored by plain `cargo test`;
//! the README's test command installs SIPp and runs it with `--include-ignored`.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;

const CALLS: u32 = 50;

/// A free loopback UDP port for SIPp, which cannot report the port it bound.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
        .display()
        .to_string()
}

/// SIPp's UAS on a free port, tracing every message it receives to `trace`.
fn start_uas(trace: &Path) -> (Child, SocketAddr) {
    let port = free_udp_port();
    let child = Command::new("sipp")
        .args([
            "-sf",
            &scenario("uas.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args(["-m", &CALLS.to_string(), "-nostdin", "-timeout", "60s"])
        .args(["-trace_msg", "-message_file", &trace.display().to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("sipp is installed (Debian package sip-tester)");
    (child, format!("127.0.0.1:{port}").parse().unwrap())
}

/// Runs SIPp's UAC from `trunk_ip` with calling number `caller` against `target`, then
/// waits for the UAS to finish; both must report every call successful. Returns the
/// INVITEs the UAS received. Should the first INVITE beat the UAS to its socket, the
/// proxy's Timer A retransmission delivers it.
async fn place_calls(
    mut uas: Child,
    target: SocketAddr,
    caller: &str,
    trunk_ip: &str,
    trace: &Path,
) -> Vec<String> {
    let caller = caller.to_string();
    let trunk_ip = trunk_ip.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("sipp")
            .args([
                "-sf",
                &scenario("uac.xml"),
                "-i",
                &trunk_ip,
                "-p",
                &free_udp_port().to_string(),
            ])
            .args(["-key", "caller", &caller, "-s", "2155550131"])
            .args(["-m", &CALLS.to_string(), "-r", "25", "-l", "25"])
            .args(["-nostdin", "-timeout", "60s", "-timeout_error"])
            .arg(target.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "SIPp UAC reported failed calls: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The UAS exits after its last call (bounded by its -timeout).
    let status = tokio::task::spawn_blocking(move || uas.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIPp UAS reported failed calls");
    let log = std::fs::read_to_string(trace).unwrap();
    let invites: Vec<String> = log
        .split("\n\n")
        .filter(|block| block.contains("INVITE sip:"))
        .map(|block| block.to_string())
        .collect();
    assert_eq!(
        invites.len() as u32,
        CALLS,
        "one INVITE per call at the UAS"
    );
    invites
}

fn identity_line(block: &str) -> String {
    block
        .lines()
        .find(|l| l.starts_with("Identity:"))
        .map(|l| l.trim_start_matches("Identity:").trim().to_string())
        .expect("the INVITE carries an Identity header")
}

async fn signed_calls(caller: &str, trunk_ip: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("uas_messages.log");
    let (uas, uas_addr) = start_uas(&trace);
    let h = Harness::start(Options {
        upstream_addr: Some(uas_addr),
        ..Options::default()
    })
    .await;
    for invite in place_calls(uas, h.udp, caller, trunk_ip, &trace).await {
        let claims = verify_identity(&identity_line(&invite), &h.leaf_public_key);
        assert_eq!(claims["attest"], expected);
        assert_eq!(claims["dest"]["tn"][0], "12155550131");
    }
    let signed = format!("callsign_calls_signed_total{{level=\"{expected}\"");
    assert!(h.http_get("/metrics").await.contains(&signed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sipp_calls_from_a_vetted_customer_arrive_signed_a() {
    signed_calls("2155550121", "127.0.0.1", "A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sipp_calls_from_a_sub_account_arrive_signed_b() {
    signed_calls("2675550100", "127.0.0.2", "B").await;
}

/// UAC -> signing callsign -> (tampering relay) -> verifying callsign -> UAS.
async fn signed_then_verified(tampered: bool, expected_verstat: &str) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("uas_messages.log");
    let pki = shared_pki(dir.path());
    let (uas, uas_addr) = start_uas(&trace);
    let verifier = Harness::start(Options {
        upstream_addr: Some(uas_addr),
        ..verifying(&pki, "forward")
    })
    .await;
    let next_hop = if tampered {
        tampering_relay(verifier.udp, CALLS as usize * 20).await
    } else {
        verifier.udp
    };
    let signer = Harness::start(Options {
        pki: Some(pki.clone()),
        upstream_addr: Some(next_hop),
        real_x5u: true,
        ..Options::default()
    })
    .await;
    let marker = format!(";verstat={expected_verstat}@");
    for invite in place_calls(uas, signer.udp, "2155550121", "127.0.0.1", &trace).await {
        // The only place a verstat can appear is the calling party's URI we marked.
        let from = invite
            .lines()
            .find(|l| l.starts_with("From:"))
            .unwrap_or("");
        assert!(from.contains(&marker), "no {marker} in {invite}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sipp_calls_signed_then_verified_arrive_validation_passed() {
    signed_then_verified(false, "TN-Validation-Passed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sipp_calls_with_tampered_tokens_arrive_validation_failed() {
    signed_then_verified(true, "TN-Validation-Failed").await;
}
