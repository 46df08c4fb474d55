//! The store through the binary: a killed `callsign serve` loses no committed write,
//! `callsign trust export`/`import` keep the JSON trust-data format, and `callsign
//! attest` answers from the store.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const OPERATOR: &str = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
const TOKEN: &str = "operator-token-for-tests";
const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config in `dir` with a store seeded from the sample trust data.
fn config(dir: &Path, http: u16) -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        r#"
[sip]
udp = "127.0.0.1:{sip}"
[http]
listen = "127.0.0.1:{http}"
[signing]
certificate = "{root}/certs/dev/chain.pem"
key = "{root}/certs/dev/leaf.key"
x5u = "http://127.0.0.1/certs/chain.pem"
[trust]
store = "data/callsign.db"
seed = "{root}/config/trust.json"
[api]
operator_sid = "{OPERATOR}"
operator_auth_token = "{TOKEN}"
[upstream]
address = "127.0.0.1:9"
"#,
        sip = free_port(),
    );
    let path = dir.join("callsign.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn callsign(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callsign"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts `callsign serve` and waits for its "HTTP serving" log line.
fn serve(config: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_callsign"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Logs go to stderr.
    let out = child.stderr.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        let line = lines
            .next()
            .expect("the server logs that it serves HTTP")
            .unwrap();
        if line.contains("HTTP serving") {
            break;
        }
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn a_killed_server_loses_no_committed_write() {
    let dir = tempfile::tempdir().unwrap();
    let http = free_port();
    let cfg = config(dir.path(), http);
    let mut server = serve(&cfg);
    let c = client();
    let mut created = Vec::new();
    for i in 0..20 {
        let r = c
            .post(format!("http://127.0.0.1:{http}/2010-04-01/Accounts.json"))
            .basic_auth(OPERATOR, Some(TOKEN))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("FriendlyName=account+{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        created.push(body["sid"].as_str().unwrap().to_owned());
    }
    // SIGKILL right after the last response: no shutdown, no checkpoint.
    server.kill().unwrap();
    server.wait().unwrap();

    let exported = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    let data: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    let sids: Vec<&str> = data["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sid"].as_str().unwrap())
        .collect();
    for sid in &created {
        assert!(sids.contains(&sid.as_str()), "{sid} lost");
    }

    // And a restarted server serves them (a fresh client: the old one pooled a
    // connection to the killed server).
    let mut server = serve(&cfg);
    let r = client()
        .get(format!(
            "http://127.0.0.1:{http}/2010-04-01/Accounts/{}.json",
            created.last().unwrap()
        ))
        .basic_auth(OPERATOR, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn export_import_round_trip_and_attest_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), free_port());
    let cfg = cfg.to_str().unwrap();

    // The first use creates and seeds the store; attest reads it.
    let o = callsign(&[
        "attest",
        "--config",
        cfg,
        "--account",
        BLUEBIRD,
        "--number",
        "+12155550121",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("level:   A"), "{}", text(&o));
    assert!(text(&o).contains("product: BU2b3c4d5e6f708192a3b4c5d6e7f80102"));

    let out = dir.path().join("export.json");
    let o = callsign(&[
        "trust",
        "export",
        "--config",
        cfg,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let exported = callsign::store::load_file(&out).expect("the export is valid trust data");
    assert_eq!(exported.phone_numbers.len(), 7);
    assert!(exported.accounts.iter().all(|a| a.auth_token.is_some()));

    // Importing into a store that holds data needs --replace.
    let o = callsign(&["trust", "import", "--config", cfg, out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--replace"), "{}", text(&o));
    let mut data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    data["trust_products"] = serde_json::json!([]);
    data["entity_assignments"] = serde_json::json!([]);
    data["channel_endpoint_assignments"] = serde_json::json!([]);
    std::fs::write(&out, data.to_string()).unwrap();
    let o = callsign(&[
        "trust",
        "import",
        "--replace",
        "--config",
        cfg,
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = callsign(&[
        "attest",
        "--config",
        cfg,
        "--account",
        BLUEBIRD,
        "--number",
        "+12155550121",
    ]);
    assert!(
        text(&o).contains("reason:  c_no_trust_product"),
        "{}",
        text(&o)
    );

    // A file that is not valid trust data is refused and the store is left alone.
    std::fs::write(&out, r#"{"accounts": [{"sid": "ACnope"}]}"#).unwrap();
    let o = callsign(&[
        "trust",
        "import",
        "--replace",
        "--config",
        cfg,
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let o = callsign(&[
        "attest",
        "--config",
        cfg,
        "--account",
        BLUEBIRD,
        "--number",
        "+12155550121",
    ]);
    assert!(text(&o).contains("c_no_trust_product"), "{}", text(&o));
}
