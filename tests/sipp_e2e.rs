//! SIPp end to end: SIPp's UAC places calls through a real callsign server to SIPp's UAS.
//! Every call must complete, and every INVITE the UAS received must carry an Identity
//! header that verifies and attests the expected level.
//!
//! Needs `sipp` (Debian package `sip-tester`), so it is ignored by plain `cargo test`;
//! the README's test command installs SIPp and runs it with `--include-ignored`.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;

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

/// The Identity values of the INVITEs in a SIPp message trace.
fn identities(trace: &str) -> Vec<String> {
    trace
        .split("\n\n")
        .filter(|block| block.contains("INVITE sip:"))
        .filter_map(|block| {
            block
                .lines()
                .find(|l| l.starts_with("Identity:"))
                .map(|l| l.trim_start_matches("Identity:").trim().to_string())
        })
        .collect()
}

async fn run_calls(caller: &str, trunk_ip: &str, expected: &str) {
    let uas_port = free_udp_port();
    let uas_addr: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let h = Harness::start(Options {
        upstream_addr: Some(uas_addr),
        ..Options::default()
    })
    .await;
    let trace = h.path("uas_messages.log");

    let mut uas = Command::new("sipp")
        .args([
            "-sf",
            &scenario("uas.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            &uas_port.to_string(),
        ])
        .args(["-m", &CALLS.to_string(), "-nostdin", "-timeout", "60s"])
        .args(["-trace_msg", "-message_file", &trace.display().to_string()])
        .arg("-trace_err")
        .current_dir(h.dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sipp is installed (Debian package sip-tester)");
    // Should the UAC's first INVITE beat the UAS to its socket, the proxy's Timer A
    // retransmission delivers it.

    let uac_port = free_udp_port();
    let out = tokio::task::spawn_blocking({
        let dir = h.dir.path().to_owned();
        let target = h.udp.to_string();
        let caller = caller.to_string();
        let trunk_ip = trunk_ip.to_string();
        move || {
            Command::new("sipp")
                .args([
                    "-sf",
                    &scenario("uac.xml"),
                    "-i",
                    &trunk_ip,
                    "-p",
                    &uac_port.to_string(),
                ])
                .args(["-key", "caller", &caller, "-s", "2155550131"])
                .args(["-m", &CALLS.to_string(), "-r", "25", "-l", "25"])
                .args([
                    "-nostdin",
                    "-timeout",
                    "60s",
                    "-timeout_error",
                    "-trace_err",
                ])
                .arg(&target)
                .current_dir(&dir)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "SIPp UAC reported failed calls: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The UAS exits after its last call (bounded by its -timeout); its trace then holds
    // every INVITE.
    let uas_status = tokio::task::spawn_blocking(move || uas.wait().unwrap())
        .await
        .unwrap();
    assert!(uas_status.success(), "SIPp UAS reported failed calls");
    let log = std::fs::read_to_string(&trace).unwrap();
    let ids = identities(&log);
    assert_eq!(
        ids.len() as u32,
        CALLS,
        "one signed INVITE per call at the UAS"
    );
    for id in &ids {
        let claims = verify_identity(id, &h.leaf_public_key);
        assert_eq!(claims["attest"], expected);
        assert_eq!(claims["dest"]["tn"][0], "12155550131");
    }
    let metrics = h.http_get("/metrics").await;
    let signed = format!("callsign_calls_signed_total{{level=\"{expected}\"");
    assert!(metrics.contains(&signed), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sipp_calls_from_a_vetted_customer_arrive_signed_a() {
    run_calls("2155550121", "127.0.0.1", "A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sipp_calls_from_a_sub_account_arrive_signed_b() {
    run_calls("2675550100", "127.0.0.2", "B").await;
}
