//! The two roles together: a call signed by one callsign instance is verified by a
//! second one in the verifying role, which marks `verstat` for the UAS. A token
//! tampered with between them fails, is reported back to the caller's side, and can be
//! refused.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use callsign::proxy::OnFailure;
use callsign::sip::{HeaderName, Message};
use common::pki_server::silent_server;
use common::*;

/// A signing server with the verifier's PKI, forwarding to `next_hop`.
fn signing_server(pki: &Path, next_hop: SocketAddr) -> TestServer {
    TestServer::new().pki(pki).upstream_at(next_hop)
}

fn calling_party(msg: &str) -> String {
    let m = Message::parse(msg.as_bytes()).unwrap();
    m.header(HeaderName::PAssertedIdentity)
        .or(m.header(HeaderName::From))
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_call_is_verified_by_a_second_instance() {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let verifier = TestServer::verifying(&pki, OnFailure::Forward)
        .start()
        .await;
    let signer = signing_server(&pki, verifier.udp)
        .served_x5u()
        .start()
        .await;
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "two-hop");
    uac.send_to(inv.as_bytes(), signer.udp).await.unwrap();

    let (got, _) = recv_from(verifier.uas_udp()).await;
    let party = calling_party(&got);
    assert!(party.contains(";verstat=TN-Validation-Passed@"), "{party}");
    assert!(header(&got, HeaderName::Identity).is_some());
    assert!(!got.contains("\r\nReason:"));
    verifier
        .assert_metric("callsign_calls_verified_total{verstat=\"TN-Validation-Passed\"} 1")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_token_is_marked_failed_or_refused() {
    for on_failure in [OnFailure::Forward, OnFailure::Reject] {
        let dir = tempfile::tempdir().unwrap();
        let pki = shared_pki(dir.path());
        let verifier = TestServer::verifying(&pki, on_failure).start().await;
        let relay = tampering_relay(verifier.udp, 40).await;
        let signer = signing_server(&pki, relay).served_x5u().start().await;
        let uac = uac("127.0.0.1").await;
        let inv = call(uac.local_addr().unwrap(), "UDP", "tampered");
        uac.send_to(inv.as_bytes(), signer.udp).await.unwrap();

        if on_failure == OnFailure::Forward {
            let (got, proxy) = recv_from(verifier.uas_udp()).await;
            let party = calling_party(&got);
            assert!(party.contains(";verstat=TN-Validation-Failed@"), "{party}");
            // The failure goes back towards the caller (RFC 9410), not on to the UAS:
            // the UAS's answer reaches the caller, through the signer, with the report.
            assert!(!got.contains("\r\nReason:"), "{got}");
            let busy = respond(&got, 486, "Busy Here", "");
            verifier
                .uas_udp()
                .send_to(busy.as_bytes(), proxy)
                .await
                .unwrap();
            let (answer, _) = recv_until(&uac, |m| status(m) != 100).await;
            assert_eq!(status(&answer), 486, "{answer}");
            assert!(
                answer.contains("\r\nReason: STIR;cause=438;text=\"Invalid Identity Header\"\r\n"),
                "{answer}"
            );
        } else {
            // The verifier refuses with 438; the signer relays it to the caller.
            let (got, _) = recv_until(&uac, |m| status(m) != 100).await;
            assert_eq!(status(&got), 438, "{got}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waits_no_longer_than_the_bound_for_a_silent_x5u_host() {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let silent = silent_server();
    let x5u = format!("http://{}/chain.pem", silent.local_addr().unwrap());
    let verifier = TestServer::verifying(&pki, OnFailure::Reject)
        .verify(|v| {
            v.max_wait_ms = 300;
            v.fetch_timeout_ms = 10_000;
        })
        .start()
        .await;
    let signer = signing_server(&pki, verifier.udp).x5u(&x5u).start().await;
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "slow-x5u");
    uac.send_to(inv.as_bytes(), signer.udp).await.unwrap();
    // recv_from gives up after 5 s, well before the 10 s fetch timeout: the call must
    // have been released by the 300 ms bound.
    let (got, _) = recv_from(verifier.uas_udp()).await;
    // Not refused: an unfinished verification is No-TN-Validation, even in reject mode.
    assert!(calling_party(&got).contains(";verstat=No-TN-Validation@"));
    verifier
        .assert_metric("callsign_timeouts_total{cause=\"verify_wait\"} 1")
        .await;
    drop(silent);
}
