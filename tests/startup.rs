//! `callsign serve` refuses to start on signing material it must not use, and reloads
//! trust data when the file changes.

mod common;

use callsign::certs::CertError;
use callsign::daemon::ServeError;
use common::*;

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    dev_pki(&dir.path().join("pki"), now_unix());
    let other = dev_pki(&dir.path().join("other"), now_unix());
    let result = TestServer::new()
        .leaf_key(&other.join("leaf.key"))
        .try_start(dir.path())
        .await;
    assert!(
        matches!(result, Err(ServeError::Cert(CertError::KeyMismatch))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Issued five years ago: the dev leaf is valid for about two.
    dev_pki(&dir.path().join("pki"), now_unix() - 5 * 365 * 86_400);
    let result = TestServer::new().try_start(dir.path()).await;
    assert!(
        matches!(result, Err(ServeError::Cert(CertError::Expired { .. }))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_chain_that_breaks_the_sti_profile_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dev_pki(&dir.path().join("pki"), now_unix());
    // The leaf followed by the root instead of its intermediate.
    let leaf = std::fs::read_to_string(pki.join("leaf.pem")).unwrap();
    let root = std::fs::read_to_string(pki.join("root.pem")).unwrap();
    std::fs::write(pki.join("chain.pem"), format!("{leaf}{root}")).unwrap();
    let result = TestServer::new().try_start(dir.path()).await;
    match result {
        Err(ServeError::Cert(CertError::Profile(report))) => {
            let rules: Vec<&str> = report.violations().map(|v| v.rule).collect();
            assert_eq!(rules, ["chain-order"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_broken_trust_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let result = TestServer::new()
        .trust_file("{\"accounts\": 7}")
        .try_start(dir.path())
        .await;
    assert!(matches!(result, Err(ServeError::Trust(_))), "{result:?}");
}

#[tokio::test]
async fn a_changed_trust_file_is_reloaded_without_a_signal() {
    let h = TestServer::new().watch_ms(20).start().await;
    let mut reloaded = h.control.reloaded.subscribe();
    // HTTP is served only after the trust data is loaded: one answered request means
    // the watcher has its starting point.
    let before = h.http_get("/metrics").await;
    // The metrics are there, only not the reload yet.
    assert!(before.starts_with("HTTP/1.1 200"), "{before}");
    assert!(before.contains("\n# TYPE callsign_"), "{before}");
    assert!(!before.contains("callsign_trust_reloads_total{cause=\"ok\"}"));
    // Change the file's size so the change is seen even within one mtime tick.
    std::fs::write(h.path("trust.json"), format!("{TRUST}\n")).unwrap();
    tokio::time::timeout(WAIT, reloaded.changed())
        .await
        .expect("the watcher reloads the changed file")
        .unwrap();
    // The reload succeeded, not merely ran.
    h.assert_metric("callsign_trust_reloads_total{cause=\"ok\"} 1")
        .await;
}

#[tokio::test]
async fn health_and_readiness_answer_once_serving() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    for server in [TestServer::new(), TestServer::new().store("{}")] {
        let h = server.start().await;
        for (path, body) in [
            ("/health", serde_json::json!({"status": "ok"})),
            (
                "/ready",
                serde_json::json!({"status": "ready", "checks": {"listeners": true, "index": true, "store": true, "draining": false}}),
            ),
        ] {
            let response = reqwest::get(format!("http://{}{path}", h.http))
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
            let text = response.text().await.unwrap();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                body
            );
        }
        // The signing certificate's time left, and the build, in /metrics.
        let name = "callsign_certificate_expiry_seconds{identity=\"default\"}";
        let left = metric(h.http, name).await.expect("the default certificate");
        assert!(left > 86_400.0, "{left}");
        h.assert_metric(&format!(
            "callsign_build_info{{version=\"{}\",revision=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            env!("CALLSIGN_GIT_REVISION")
        ))
        .await;
    }
}
