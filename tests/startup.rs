//! `callsign serve` refuses to start on signing material it must not use, and reloads
//! trust data when the file changes.

mod common;

use callsign::certs::CertError;
use callsign::config::Config;
use callsign::daemon::{self, Control, Listeners, ServeError};
use common::{ACME, TRUST, WAIT, now_unix};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(dir: &std::path::Path, key: &str, watch_ms: u64) -> Config {
    let text = format!(
        r#"
[sip]
udp = "127.0.0.1:0"
[http]
listen = "127.0.0.1:0"
[signing]
certificate = "pki/chain.pem"
key = "{key}"
x5u = "http://127.0.0.1/certs/chain.pem"
[trust]
file = "trust.json"
watch_interval_ms = {watch_ms}
[upstream]
address = "127.0.0.1:9"
[[trunk]]
name = "acme"
account_sid = "{ACME}"
sources = ["127.0.0.1/32"]
"#
    );
    let path = dir.join("callsign.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(&path).unwrap()
}

fn write_pki(dir: &std::path::Path, name: &str, now: i64) {
    let pki = callsign::certs::dev::generate("1234", now).unwrap();
    callsign::certs::dev::write(&dir.join(name), &pki).unwrap();
}

async fn start(config: Config) -> Result<(), ServeError> {
    let listeners = Listeners::bind(&config).await.unwrap();
    let (control, stop) = Control::new();
    // The server returns at once on a refusal; otherwise stop it after it has started.
    let run = tokio::spawn(daemon::run(config, listeners, control));
    drop(stop);
    tokio::time::timeout(WAIT, run).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trust.json"), TRUST).unwrap();
    write_pki(dir.path(), "pki", now_unix());
    write_pki(dir.path(), "other", now_unix());
    let result = start(config(dir.path(), "other/leaf.key", 0)).await;
    assert!(
        matches!(result, Err(ServeError::Cert(CertError::KeyMismatch))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trust.json"), TRUST).unwrap();
    // Issued five years ago: the dev leaf is valid for about two.
    write_pki(dir.path(), "pki", now_unix() - 5 * 365 * 86_400);
    let result = start(config(dir.path(), "pki/leaf.key", 0)).await;
    assert!(
        matches!(result, Err(ServeError::Cert(CertError::Expired { .. }))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_chain_that_breaks_the_sti_profile_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trust.json"), TRUST).unwrap();
    write_pki(dir.path(), "pki", now_unix());
    // The leaf followed by the root instead of its intermediate.
    let leaf = std::fs::read_to_string(dir.path().join("pki/leaf.pem")).unwrap();
    let root = std::fs::read_to_string(dir.path().join("pki/root.pem")).unwrap();
    std::fs::write(dir.path().join("pki/chain.pem"), format!("{leaf}{root}")).unwrap();
    let result = start(config(dir.path(), "pki/leaf.key", 0)).await;
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
    std::fs::write(dir.path().join("trust.json"), "{\"accounts\": 7}").unwrap();
    write_pki(dir.path(), "pki", now_unix());
    let result = start(config(dir.path(), "pki/leaf.key", 0)).await;
    assert!(matches!(result, Err(ServeError::Trust(_))), "{result:?}");
}

#[tokio::test]
async fn a_changed_trust_file_is_reloaded_without_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trust.json"), TRUST).unwrap();
    write_pki(dir.path(), "pki", now_unix());
    let config = config(dir.path(), "pki/leaf.key", 20);
    let listeners = Listeners::bind(&config).await.unwrap();
    let http = listeners.http.as_ref().unwrap().local_addr().unwrap();
    let (control, _stop) = Control::new();
    let mut reloaded = control.reloaded.subscribe();
    tokio::spawn(daemon::run(config, listeners, control));
    // HTTP is served only after the trust data is loaded: one answered request means
    // the watcher has its starting point.
    let before = metrics(http).await;
    assert!(!before.contains("callsign_trust_reloads_total{cause=\"ok\"}"));
    // Change the file's size so the change is seen even within one mtime tick.
    std::fs::write(dir.path().join("trust.json"), format!("{TRUST}\n")).unwrap();
    tokio::time::timeout(WAIT, reloaded.changed())
        .await
        .expect("the watcher reloads the changed file")
        .unwrap();
    // The reload succeeded, not merely ran.
    let after = metrics(http).await;
    assert!(
        after.contains("callsign_trust_reloads_total{cause=\"ok\"} 1"),
        "{after}"
    );
}

async fn metrics(http: std::net::SocketAddr) -> String {
    let mut s = tokio::net::TcpStream::connect(http).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    answer
}
