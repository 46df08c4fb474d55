//! The `callsign` binary: subcommands that succeed, and bad input that fails with a
//! message and a non-zero exit code.

use std::path::Path;
use std::process::{Command, Output};

fn callsign(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callsign"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn certs_dev_writes_a_pki_that_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let o = callsign(&[
        "certs",
        "dev",
        "--out",
        out.to_str().unwrap(),
        "--spc",
        "777",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "root.pem",
        "intermediate.pem",
        "leaf.pem",
        "leaf.key",
        "chain.pem",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let key = std::fs::read_to_string(out.join("leaf.key")).unwrap();
    let chain = std::fs::read_to_string(out.join("chain.pem")).unwrap();
    let key = callsign::certs::SigningKey::from_pem(&key).unwrap();
    let chain = callsign::certs::load_chain_pem(&chain).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let info = callsign::certs::check_signing_pair(&key, &chain, now).unwrap();
    assert_eq!(info.spc.as_deref(), Some("777"));

    // Writing over an existing PKI is refused rather than silently replacing keys.
    let again = callsign(&["certs", "dev", "--out", out.to_str().unwrap()]);
    assert!(!again.status.success());
}

#[test]
fn checked_in_dev_pki_matches_and_is_valid() {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    let key = std::fs::read_to_string(dev.join("leaf.key")).unwrap();
    let chain = std::fs::read_to_string(dev.join("chain.pem")).unwrap();
    let key = callsign::certs::SigningKey::from_pem(&key).unwrap();
    let chain = callsign::certs::load_chain_pem(&chain).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let info = callsign::certs::check_signing_pair(&key, &chain, now)
        .expect("certs/dev must be regenerated with `callsign certs dev --out certs/dev`");
    assert_eq!(info.spc.as_deref(), Some("1234"));
}

#[test]
fn certs_check_passes_the_dev_chain_and_names_each_violation() {
    let o = callsign(&[
        "certs",
        "check",
        "certs/dev/chain.pem",
        "certs/dev/root.pem",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("TNAuthList: SPC 1234"), "{}", text(&o));

    // A leaf followed by the wrong CA, as JSON: non-zero exit and the rule names.
    let dir = tempfile::tempdir().unwrap();
    let leaf = std::fs::read_to_string("certs/dev/leaf.pem").unwrap();
    let root = std::fs::read_to_string("certs/dev/root.pem").unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, format!("{leaf}{root}")).unwrap();
    let o = callsign(&["certs", "check", "--json", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let chain = &json[0]["report"]["chain_violations"];
    assert_eq!(chain[0]["rule"], "chain-order", "{json}");
    assert_eq!(
        json[0]["report"]["certificates"][0]["tn_auth_list"][0]["spc"],
        "1234"
    );

    // Expired by the time given with --now.
    let o = callsign(&[
        "certs",
        "check",
        "certs/dev/leaf.pem",
        "--now",
        "4000000000",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("VIOLATION validity"), "{}", text(&o));
}

#[test]
fn attest_explains_the_level_from_the_sample_data() {
    let o = callsign(&[
        "attest",
        "--account",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
        "--number",
        "(215) 555-0121",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("level:   A"), "{t}");
    assert!(t.contains("reason:  a_full"), "{t}");

    let o = callsign(&[
        "attest",
        "--account",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f804",
        "--number",
        "+12155550151",
    ]);
    assert!(text(&o).contains("level:   C"), "{}", text(&o));
}

#[test]
fn bad_input_fails_with_a_message() {
    for (args, needle) in [
        (
            vec!["serve", "--config", "no/such/file.toml"],
            "no/such/file.toml",
        ),
        (
            vec!["attest", "--account", "ACnope", "--number", "+12155550121"],
            "--account",
        ),
        (
            vec![
                "attest",
                "--account",
                "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
                "--number",
                "911",
            ],
            "--number",
        ),
    ] {
        let o = callsign(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
}
