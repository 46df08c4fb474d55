//! SIPp end to end: SIPp's UAC places calls through a real callsign server to SIPp's UAS.
//! Every call must complete, and every INVITE the UAS received must carry an Identity
//! header that verifies and attests the expected level.
//!
//! Needs `sipp` (Debian package `sip-tester`), so it is ignored by plain `cargo test`;
//! the README's test command installs SIPp and runs it with `--include-ignored`.

mod common;

use std::net::SocketAddr;

use common::sipp::{calls, free_udp_port};
use common::*;

const CALLS: u32 = 50;

async fn run_calls(caller: &str, trunk_ip: &str, expected: &str) {
    let uas_port = free_udp_port();
    let uas_addr: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let h = Harness::start(Options {
        upstream_addr: Some(uas_addr),
        ..Options::default()
    })
    .await;
    for claims in calls(&h, uas_port, caller, trunk_ip, CALLS, "e2e").await {
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
