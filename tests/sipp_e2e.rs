//! SIPp end to end: SIPp's UAC places calls through real callsign servers to SIPp's UAS.
//! Every call must complete. Signing: every INVITE the UAS receives carries an Identity
//! header that verifies and attests the expected level. Signing then verifying: every
//! INVITE arrives with the expected `verstat`, also when a relay between the two
//! instances tampers with the tokens.
//!
//! Needs `sipp` (Debian package `sip-tester`), so it is ignored by plain `cargo test`;
//! the README's test command installs SIPp and runs it with `--include-ignored`.

mod common;

use std::net::SocketAddr;

use callsign::proxy::OnFailure;
use common::sipp::{calls, free_udp_port, invites_at_uas};
use common::*;

const CALLS: u32 = 50;

async fn run_calls(caller: &str, trunk_ip: &str, expected: &str) {
    let uas_port = free_udp_port();
    let uas_addr: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let h = TestServer::new().upstream_at(uas_addr).start().await;
    for claims in calls(&h, uas_port, caller, trunk_ip, CALLS, "e2e").await {
        assert_eq!(claims["attest"], expected);
        assert_eq!(claims["dest"]["tn"][0], "12155550131");
    }
    // Every call is counted at its level, whatever the reason.
    let metrics = h.http_get("/metrics").await;
    let signed = format!("callsign_calls_signed_total{{level=\"{expected}\"");
    let counted: u32 = metrics
        .lines()
        .filter(|l| l.starts_with(&signed))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u32>().unwrap())
        .sum();
    assert_eq!(counted, CALLS, "{metrics}");
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

/// UAC -> signing callsign -> (tampering relay) -> verifying callsign -> UAS.
async fn signed_then_verified(tampered: bool, expected_verstat: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let uas_port = free_udp_port();
    let verifier = TestServer::verifying(&pki, OnFailure::Forward)
        .upstream_at(format!("127.0.0.1:{uas_port}").parse().unwrap())
        .start()
        .await;
    let next_hop = if tampered {
        tampering_relay(verifier.udp, CALLS as usize * 20).await
    } else {
        verifier.udp
    };
    let signer = TestServer::new()
        .pki(&pki)
        .upstream_at(next_hop)
        .served_x5u()
        .start()
        .await;
    let invites = invites_at_uas(
        signer.udp,
        dir.path(),
        uas_port,
        "2155550121",
        "127.0.0.1",
        CALLS,
        "verify",
    )
    .await;
    let marker = format!(";verstat={expected_verstat}@");
    for invite in invites {
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

/// SIPp plays an SBC against a redirect trunk: INVITE to callsign, its 302 with the
/// Identity, the ACK; then the SBC sends the call with that Identity to a SIPp UAS and
/// completes it there. Every INVITE the UAS gets carries an Identity that verifies for
/// the expected level, and callsign forwards nothing itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn an_sbc_takes_the_identity_from_a_redirect_and_completes_its_calls() {
    use common::sipp::scenario;
    const SBC_CALLS: u32 = 20;
    let mut trunk = signing_trunk("sbc", ACME, "127.0.0.1");
    trunk.role = callsign::proxy::Role::Redirect;
    let h = TestServer::new().trunks(vec![trunk]).start().await;
    let dir = h.dir.path().to_owned();
    let uas_port = free_udp_port();
    let trace = dir.join("uas_redirect.log");
    let uas = std::process::Command::new("sipp")
        .args(["-sf", &scenario("uas.xml"), "-i", "127.0.0.1"])
        .args(["-p", &uas_port.to_string()])
        .args(["-m", &SBC_CALLS.to_string(), "-nostdin", "-timeout", "60s"])
        .args(["-trace_msg", "-message_file", &trace.display().to_string()])
        .arg("-trace_err")
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sipp is installed (Debian package sip-tester)");
    let (target, sbc_dir) = (h.udp.to_string(), dir.clone());
    let sbc = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sipp")
            .args(["-sf", &scenario("sbc_redirect.xml"), "-i", "127.0.0.1"])
            .args(["-p", &free_udp_port().to_string()])
            .args(["-key", "caller", "2155550121", "-s", "2155550131"])
            .args(["-key", "uas_port", &uas_port.to_string()])
            .args(["-m", &SBC_CALLS.to_string(), "-r", "10", "-l", "10"])
            .args([
                "-nostdin",
                "-timeout",
                "60s",
                "-timeout_error",
                "-trace_err",
            ])
            .arg(target)
            .current_dir(&sbc_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    common::sipp::every_call_completed(sbc, uas).await;
    let text = std::fs::read_to_string(&trace).unwrap();
    let identities: Vec<String> = text
        .split("\n\n")
        .filter(|block| block.contains("INVITE sip:"))
        .filter_map(|block| {
            let line = block.lines().find(|l| l.starts_with("Identity:"))?;
            Some(line.trim_start_matches("Identity:").trim().to_owned())
        })
        .collect();
    assert_eq!(
        identities.len() as u32,
        SBC_CALLS,
        "one signed INVITE per call at the UAS"
    );
    for id in &identities {
        let claims = verify_identity(id, &h.leaf_public_key);
        assert_eq!(
            (claims["attest"].as_str(), claims["orig"]["tn"].as_str()),
            (Some("A"), Some("12155550121"))
        );
    }
    h.assert_metric(&format!(
        "callsign_calls_signed_total{{level=\"A\",reason=\"a_full\"}} {SBC_CALLS}"
    ))
    .await;
    let mut buf = [0u8; 4096];
    let quiet = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        h.uas_udp().recv_from(&mut buf),
    )
    .await;
    assert!(quiet.is_err(), "callsign's upstream got nothing");
}
