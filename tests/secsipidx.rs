//! Interop with secsipidx (Debian package `secsipidx`) in both directions: tokens that
//! callsign signs pass `secsipidx -check` with its chain verification against the dev
//! root, and tokens that secsipidx signs with the dev leaf key pass `callsign verify`.
//! Ignored by plain `cargo test`; `scripts/test.sh` installs secsipidx and runs them.

mod common;

use common::binary::{callsign, run, secsipidx_check, text};
use common::now_unix;
use common::pki_server::{DEST, ORIG, PkiServer};
use std::path::Path;

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
fn callsign_tokens_pass_secsipidx_check_against_the_dev_root() {
    let server = PkiServer::start(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "leaf.pem", &server.pki.leaf_pem);
    let root = write(dir.path(), "root.pem", &server.pki.root_pem);
    let intermediate = write(dir.path(), "intermediate.pem", &server.pki.intermediate_pem);

    let identity = server.identity("/chain.pem", now_unix());
    let o = secsipidx_check(&identity, &leaf, &root, &intermediate);
    assert!(o.status.success(), "{}", text(&o));

    // Its chain verification is really on: another root refuses the same token...
    let other = callsign::certs::dev::generate("1234", now_unix()).unwrap();
    let other_root = write(dir.path(), "other-root.pem", &other.root_pem);
    let o = secsipidx_check(&identity, &leaf, &other_root, &intermediate);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("unknown authority"), "{}", text(&o));
    // ...and so does its signature check on a stale token.
    let stale = server.identity("/chain.pem", now_unix() - 600);
    let o = secsipidx_check(&stale, &leaf, &root, &intermediate);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("expired token"), "{}", text(&o));
}

#[test]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
fn secsipidx_tokens_pass_callsign_verify() {
    let server = PkiServer::start(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "leaf.key", &server.pki.leaf_key_pem);
    let root = write(dir.path(), "root.pem", &server.pki.root_pem);
    let signers = write(dir.path(), "sti-pa-crl.pem", &server.pki.crl_signer_pem);
    let x5u = server.url("/chain.pem");

    let o = run(
        "secsipidx",
        &[
            "-sign-full",
            "-orig-tn",
            ORIG,
            "-dest-tn",
            DEST,
            "-attest",
            "B",
            "-x5u",
            &x5u,
            "-k",
            &key,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let identity = stdout
        .lines()
        .map(|l| l.trim().trim_start_matches("Result:").trim())
        .rfind(|l| !l.is_empty())
        .expect("secsipidx printed an Identity value")
        .to_owned();
    assert!(identity.contains(";info=<"), "{identity}");

    let verify = |identity: &str, orig: &str| {
        callsign(&[
            "verify",
            "--identity",
            identity,
            "--trust-anchors",
            &root,
            "--crl-signers",
            &signers,
            "--allow-http",
            "--allow-loopback",
            "--crl",
            "require",
            "--orig",
            orig,
            "--dest",
            DEST,
            "--json",
        ])
    };
    let o = verify(&identity, ORIG);
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["passed"], true);
    let report = &json["results"][0]["reports"][0];
    assert_eq!(report["verstat"], "TN-Validation-Passed");
    assert_eq!(report["claims"]["attest"], "B");

    // The same token for another caller fails with 438.
    let o = verify(&identity, "12155550199");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["results"][0]["reports"][0]["code"], 438);
}
