//! SIGHUP rotation of the signing key and certificate: a good new pair is used by the
//! next call and served at x5u; a bad one is refused and the current pair stays.

mod common;

use common::*;

fn leaf_key_of(pki: &std::path::Path) -> Vec<u8> {
    let pem = std::fs::read_to_string(pki.join("leaf.key")).unwrap();
    callsign::certs::SigningKey::from_pem(&pem)
        .unwrap()
        .public_key_sec1()
}

/// The Identity of one call from acme's trunk.
async fn signed(h: &Harness, id: &str) -> String {
    signed_invite(h, "127.0.0.1", "2155550121", "2155550131", id).await
}

#[tokio::test]
async fn sighup_rotates_the_signing_pair_and_keeps_it_when_the_new_one_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let live = shared_pki(dir.path());
    let h = TestServer::new().pki(&live).start().await;
    let old_key = leaf_key_of(&live);
    verify_identity(&signed(&h, "before").await, &old_key);

    // A new, valid pair replaces the files; SIGHUP picks it up.
    let next = dev_pki(&dir.path().join("next"), now_unix());
    for f in ["chain.pem", "leaf.key"] {
        std::fs::copy(next.join(f), live.join(f)).unwrap();
    }
    h.reload().await;
    let new_key = leaf_key_of(&next);
    assert_ne!(old_key, new_key);
    verify_identity(&signed(&h, "after").await, &new_key);
    let served = h.http_get("/certs/chain.pem").await;
    assert!(served.ends_with(&std::fs::read_to_string(next.join("chain.pem")).unwrap()));

    // A key that does not match the certificate is refused: the current pair signs on.
    std::fs::copy(
        dir.path().join("shared-pki/root.key"),
        live.join("leaf.key"),
    )
    .unwrap();
    h.reload().await;
    verify_identity(&signed(&h, "still").await, &new_key);
    h.assert_metric("callsign_signing_reloads_total{cause=\"error\"} 1")
        .await;
    h.assert_metric("callsign_signing_reloads_total{cause=\"ok\"} 1")
        .await;
}
