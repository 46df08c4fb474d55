//! A trunk's sign policy between two instances: the first signs, the second takes the
//! call on a signing trunk with `sign_policy = "unsigned"`, verifies the Identity it
//! arrives with and passes it on instead of signing over it, signs what comes
//! unsigned, and refuses a token that was tampered with on the way.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use callsign::proxy::OnFailure;
use callsign::sip::HeaderName;
use callsign::trust::SignPolicy;
use common::*;

/// The second instance: verifies against `pki`, its trunk on 127.0.0.1 signs only what
/// comes unsigned.
fn passing_server(pki: &Path) -> TestServer {
    let mut trunk = signing_trunk("sbc", ACME, "127.0.0.1");
    trunk.sign_policy = SignPolicy::Unsigned;
    TestServer::verifying(pki, OnFailure::Reject).trunks(vec![trunk])
}

fn signing_server(pki: &Path, next_hop: SocketAddr) -> TestServer {
    TestServer::new()
        .pki(pki)
        .upstream_at(next_hop)
        .served_x5u()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_identity_is_passed_on_and_an_unsigned_call_is_signed() {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let second = passing_server(&pki).start().await;
    let first = signing_server(&pki, second.udp).start().await;

    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "signed-once");
    uac.send_to(inv.as_bytes(), first.udp).await.unwrap();
    let (got, _) = recv_from(second.uas_udp()).await;
    let identity = header(&got, HeaderName::Identity).expect("the Identity goes on");
    // The first instance's token (its x5u is its own listener; the second's is not).
    let first_x5u = format!(";info=<http://{}/certs/chain.pem>", first.http);
    assert!(identity.contains(&first_x5u), "{identity}");
    assert_eq!(got.matches("\r\nIdentity:").count(), 1, "{got}");
    second
        .assert_metric("callsign_calls_verified_total{verstat=\"TN-Validation-Passed\"} 1")
        .await;
    let metrics = second.http_get("/metrics").await;
    assert!(
        !metrics.contains("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1"),
        "the second instance signed nothing over it"
    );

    // The same trunk's unsigned call: signed by the second instance.
    let direct = common::uac("127.0.0.1").await;
    let inv = call(direct.local_addr().unwrap(), "UDP", "unsigned");
    direct.send_to(inv.as_bytes(), second.udp).await.unwrap();
    let (got, _) = recv_from(second.uas_udp()).await;
    assert!(header(&got, HeaderName::Identity).is_some(), "{got}");
    second
        .assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_identity_is_refused_not_signed_over() {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let second = passing_server(&pki).start().await;
    let relay = tampering_relay(second.udp, 40).await;
    let first = signing_server(&pki, relay).start().await;
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "tampered-policy");
    uac.send_to(inv.as_bytes(), first.udp).await.unwrap();
    let (got, _) = recv_until(&uac, |m| status(m) != 100).await;
    assert_eq!(status(&got), 438, "{got}");
    second
        .assert_metric("callsign_requests_rejected_total{cause=\"verification_failed\"} 1")
        .await;
}
