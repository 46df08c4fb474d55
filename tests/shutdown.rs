//! How `callsign serve` stops. SIGTERM drains: new requests get 503 with Retry-After and
//! `/ready` answers 503, while the calls in flight finish; then the process exits 0. A
//! second SIGTERM stops at once.
//!
//! The SIPp test needs `sipp` (Debian package `sip-tester`), so it is ignored by plain
//! `cargo test`; the README's test command installs SIPp and runs it with
//! `--include-ignored`. The grace period's expiry is tested on a virtual clock in
//! src/daemon/tests.rs.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use common::binary::{Served, serve};
use common::sip::{call, recv_until, status, uac};
use common::sipp::{every_call_completed, free_udp_port, scenario, uac_calls};
use common::*;

/// Calls placed by SIPp in the drain test.
const CALLS: u32 = 20;

/// A `callsign serve` process from `dir`'s config, forwarding calls to `upstream`.
fn server(dir: &std::path::Path, upstream: SocketAddr) -> Served {
    let cfg = TestServer::new().upstream_at(upstream).write_config(dir);
    serve(&cfg)
}

/// Waits (bounded by [`WAIT`]) until `/ready` answers 503 `draining`.
async fn draining(http: SocketAddr) {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = format!("http://{http}/ready");
        let resp = http_client().get(url).send().await.unwrap();
        if resp.status() == 503 {
            let body = resp.text().await.unwrap();
            assert!(body.contains("\"status\":\"draining\""), "{body}");
            return;
        }
        assert!(Instant::now() < deadline, "/ready never said draining");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Waits for `served` to exit by itself, asserts it exited 0, and returns its log.
async fn exits_0(served: Served) -> String {
    let lines = Arc::clone(&served.lines);
    let exit = tokio::task::spawn_blocking(move || served.wait())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    lines.lock().unwrap().join("\n")
}

/// Waits (bounded by [`WAIT`]) until the server holds at least `n` transactions.
async fn holding(http: SocketAddr, n: u32) {
    let deadline = Instant::now() + WAIT;
    while metric(http, "callsign_transactions").await < Some(f64::from(n)) {
        assert!(
            Instant::now() < deadline,
            "the server never held {n} transactions"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A new call from the trunk, sent while the server drains: its final answer.
async fn new_call_answer(sip: SocketAddr, call_id: &str) -> String {
    let sock = uac("127.0.0.1").await;
    let invite = call(sock.local_addr().unwrap(), "UDP", call_id);
    sock.send_to(invite.as_bytes(), sip).await.unwrap();
    recv_until(&sock, |m| status(m) >= 200).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp (Debian package sip-tester); run by the README test command"]
async fn sigterm_during_sipp_calls_lets_every_call_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let uas_port = free_udp_port();
    let served = server(dir.path(), format!("127.0.0.1:{uas_port}").parse().unwrap());
    let uas = Command::new("sipp")
        .args(["-sf", &scenario("uas_slow.xml"), "-i", "127.0.0.1"])
        .args(["-p", &uas_port.to_string()])
        .args(["-m", &CALLS.to_string(), "-nostdin", "-timeout", "60s"])
        .arg("-trace_err")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("sipp is installed (Debian package sip-tester)");
    let uac = tokio::spawn({
        let (sip, dir) = (served.udp, dir.path().to_owned());
        async move { uac_calls(sip, &dir, "127.0.0.1", "2155550121", CALLS, 50).await }
    });
    // Every call has reached the server (the UAS holds each for two seconds).
    holding(served.http, CALLS).await;
    served.signal("TERM");

    // Draining: load balancers are told, and a new call is sent elsewhere.
    draining(served.http).await;
    let refused = new_call_answer(served.udp, "after-sigterm").await;
    assert_eq!(status(&refused), 503, "{refused}");
    assert!(refused.contains("\r\nRetry-After: 32\r\n"), "{refused}");

    // Every call that was in flight completes.
    every_call_completed(uac.await.unwrap(), uas).await;
    // The drain ended when the calls did, not at the end of its 32 s.
    let log = exits_0(served).await;
    assert!(log.contains("drained: nothing left in flight"), "{log}");
    assert!(!log.contains("grace period over"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_stops_at_once_with_a_call_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    // A carrier that takes the INVITE and never answers.
    let carrier = uac("127.0.0.1").await;
    let served = server(dir.path(), carrier.local_addr().unwrap());
    let caller = uac("127.0.0.1").await;
    let invite = call(caller.local_addr().unwrap(), "UDP", "held");
    caller.send_to(invite.as_bytes(), served.udp).await.unwrap();
    let (forwarded, _) = recv_until(&carrier, |m| m.starts_with("INVITE ")).await;
    assert!(forwarded.contains("Call-ID: held"), "{forwarded}");

    served.signal("TERM");
    draining(served.http).await;
    // Still draining: the call is in flight and the grace period is 32 s.
    assert_eq!(status(&new_call_answer(served.udp, "refused").await), 503);
    served.signal("TERM");
    let log = exits_0(served).await;
    assert!(log.contains("drain cut short"), "{log}");
    assert!(!log.contains("drained: nothing left in flight"), "{log}");
}
