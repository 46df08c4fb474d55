//! Interop with secsipidx (Debian package `secsipidx`) in both directions: tokens that
//! callsign signs pass `secsipidx -check` with its chain verification against the dev
//! root, and tokens that secsipidx signs with the dev leaf key pass `callsign verify`;
//! the same with a delegate certificate (RFC 9060) under an STI-SCA.
//! Ignored by plain `cargo test`; `scripts/test.sh` installs secsipidx and runs them.

mod common;

use common::binary::{callsign, run, secsipidx_check, text};
use common::now_unix;
use common::pki_server::{DELEGATE_CHAIN_PATH, DEST, ORIG, PkiServer, identity_from};
use std::path::Path;
use std::process::Output;

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

/// `secsipidx -sign-full` for `orig` (attest B) with the key file `key`, announcing
/// `x5u`: the Identity header value it prints.
fn secsipidx_sign(orig: &str, x5u: &str, key: &str) -> String {
    let o = run(
        "secsipidx",
        &[
            "-sign-full",
            "-orig-tn",
            orig,
            "-dest-tn",
            DEST,
            "-attest",
            "B",
            "-x5u",
            x5u,
            "-k",
            key,
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
    identity
}

/// `callsign verify --json` of `identity` for a call from `orig`, trusting `server`'s
/// root and STI-PA CRL signer (written into `dir`), CRLs required.
fn callsign_verify(server: &PkiServer, dir: &Path, identity: &str, orig: &str) -> Output {
    let root = write(dir, "root.pem", &server.pki.root_pem);
    let signers = write(dir, "sti-pa-crl.pem", &server.pki.crl_signer_pem);
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
}

/// The first report of `callsign verify --json`'s output.
fn first_report(o: &Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    json["results"][0]["reports"][0].clone()
}

#[test]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
fn secsipidx_tokens_pass_callsign_verify() {
    let server = PkiServer::start(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "leaf.key", &server.pki.leaf_key_pem);
    let identity = secsipidx_sign(ORIG, &server.url("/chain.pem"), &key);
    let verify = |identity: &str, orig: &str| callsign_verify(&server, dir.path(), identity, orig);
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

#[test]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
fn callsign_tokens_signed_with_a_delegate_pass_secsipidx_check_through_the_sti_sca() {
    let server = PkiServer::start_delegating(now_unix());
    let delegate = server.pki.delegate.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "delegate.pem", &delegate.leaf.pem);
    let root = write(dir.path(), "root.pem", &server.pki.root_pem);
    // The CAs between the delegate leaf and the root: the STI-SCA and the STI-CA.
    let cas = format!("{}{}", delegate.sca.pem, server.pki.intermediate_pem);
    let intermediates = write(dir.path(), "cas.pem", &cas);

    let key = server.delegate_key();
    let x5u = server.url(DELEGATE_CHAIN_PATH);
    for orig in [ORIG, "12155550300", "12155550399"] {
        let identity = identity_from(&key, &x5u, orig, now_unix());
        let o = secsipidx_check(&identity, &leaf, &root, &intermediates);
        assert!(o.status.success(), "{orig}: {}", text(&o));
    }

    // Its chain verification needs the STI-SCA: the STI-CA alone does not reach it.
    let identity = identity_from(&key, &x5u, ORIG, now_unix());
    let sti_ca = write(dir.path(), "sti-ca.pem", &server.pki.intermediate_pem);
    let o = secsipidx_check(&identity, &leaf, &root, &sti_ca);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("unknown authority"), "{}", text(&o));
    // And callsign verifies what it signed.
    let o = callsign_verify(&server, dir.path(), &identity, ORIG);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
fn secsipidx_tokens_signed_with_a_delegate_pass_callsign_verify_for_its_numbers_only() {
    let server = PkiServer::start_delegating(now_unix());
    let delegate = server.pki.delegate.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "delegate.key", &delegate.leaf.key_pem);
    let x5u = server.url(DELEGATE_CHAIN_PATH);

    for (orig, within) in [
        (ORIG, "TN 12155550121"),
        ("12155550399", "range 12155550300 (+100)"),
    ] {
        let identity = secsipidx_sign(orig, &x5u, &key);
        let o = callsign_verify(&server, dir.path(), &identity, orig);
        assert!(o.status.success(), "{orig}: {}", text(&o));
        let report = first_report(&o);
        assert_eq!(report["verstat"], "TN-Validation-Passed");
        let note = report["steps"][4]["detail"].as_str().unwrap();
        assert_eq!(report["steps"][4]["name"], "tn_auth_list");
        assert!(note.contains(&format!("within its {within}")), "{note}");
        assert!(note.contains("(SPC 1234)"), "{note}");
    }

    // secsipidx signs whatever it is asked to; callsign refuses a caller outside the
    // delegate's numbers: ATIS-1000082 E17, 437, TN-Validation-Failed.
    let identity = secsipidx_sign("12155550400", &x5u, &key);
    let o = callsign_verify(&server, dir.path(), &identity, "12155550400");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report = first_report(&o);
    assert_eq!(report["code"], 437, "{report}");
    assert_eq!(report["failure"], "E17", "{report}");
    assert_eq!(report["failed_step"], "tn_auth_list", "{report}");
    assert_eq!(report["verstat"], "TN-Validation-Failed", "{report}");
}
