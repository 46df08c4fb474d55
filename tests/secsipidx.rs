//! Interop with secsipidx (Debian package `secsipidx`) in both directions: tokens that
//! callsign signs pass `secsipidx -check` with its chain verification against the dev
//! root, and tokens that secsipidx signs with the dev leaf key pass `callsign verify`;
//! the same with a delegate certificate (RFC 9060) under an STI-SCA. Through
//! ATIS-1000082's REST API as well: a token signed at `/stir/v1/signing` passes
//! `secsipidx -check`, and secsipidx's tokens pass `/stir/v1/verification`.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
async fn tokens_signed_through_the_rest_api_pass_secsipidx_check_against_the_dev_root() {
    use common::sti_rest::{ACME_A, SBC_PASSWORD, SBC_USER, Sbc, claims, rest_base, server};
    let (h, _trunk) = server(|_| {}).await;
    let sbc = Sbc::new(rest_base(&h), Some((SBC_USER, SBC_PASSWORD)));
    let (status, body) = sbc.sign(ACME_A, "A").await;
    assert_eq!(status, 200, "{body}");
    let identity = body["signingResponse"]["identity"].as_str().unwrap();
    assert_eq!(claims(identity)["attest"], "A");

    // The PKI the server signs with: its leaf, the STI-CA and the dev root.
    let pki = h.path("shared-pki");
    let file = |name: &str| pki.join(name).to_str().unwrap().to_owned();
    let (leaf, root, intermediate) = (file("leaf.pem"), file("root.pem"), file("intermediate.pem"));
    let o = secsipidx_check(identity, &leaf, &root, &intermediate);
    assert!(o.status.success(), "{}", text(&o));

    // Its chain verification is really on: another root refuses the same token.
    let dir = tempfile::tempdir().unwrap();
    let other = callsign::certs::dev::generate("1234", now_unix()).unwrap();
    let other_root = write(dir.path(), "other-root.pem", &other.root_pem);
    let o = secsipidx_check(identity, &leaf, &other_root, &intermediate);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("unknown authority"), "{}", text(&o));
}

/// A server serving the REST API whose verifier trusts `server`'s root and STI-PA CRL
/// signer (written into `dir`), CRLs required, x5u over http on loopback; and an SBC
/// calling it as an asserting client (`[[sti_rest.client]]`).
async fn rest_verifier(
    server: &PkiServer,
    dir: tempfile::TempDir,
) -> (common::Harness, common::sti_rest::Sbc) {
    use callsign::config::StiRestClientConfig;
    use callsign::proxy::OnFailure;
    const USER: &str = "sbc-core";
    const PASSWORD: &str = "Core-Password-5678";
    let pki = dir.path().join("pki-server");
    callsign::certs::dev::write(&pki, &server.pki).unwrap();
    let signers = pki.join("sti-pa-crl.pem");
    let sha256 = ring::digest::digest(&ring::digest::SHA256, PASSWORD.as_bytes());
    let password_sha256 = sha256.as_ref().iter().fold(String::new(), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    });
    let h = common::TestServer::verifying(&pki, OnFailure::Forward)
        .verify(|v| {
            v.crl_signers = Some(signers);
            v.crl = callsign::verify::CrlMode::Require;
        })
        .sti_rest(|r| {
            r.clients.push(StiRestClientConfig {
                name: "core".into(),
                username: Some(USER.into()),
                password_sha256: Some(password_sha256),
                tls_names: Vec::new(),
                origid: None,
            })
        })
        .start_in(dir)
        .await;
    let sbc = common::sti_rest::Sbc::new(common::sti_rest::rest_base(&h), Some((USER, PASSWORD)));
    (h, sbc)
}

/// POSTs `identity` to `/stir/v1/verification` for a call from `orig` to [`DEST`]:
/// the HTTP status and the `verificationResponse`.
async fn rest_verify(
    sbc: &common::sti_rest::Sbc,
    identity: &str,
    orig: &str,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({"verificationRequest": {
        "from": {"tn": orig},
        "to": {"tn": [DEST]},
        "time": now_unix(),
        "identity": identity,
    }});
    let (status, _, json) = sbc.post("/stir/v1/verification", &body).await;
    (status, json["verificationResponse"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs secsipidx (Debian package secsipidx); run by scripts/test.sh"]
async fn secsipidx_tokens_pass_the_rest_api_verification() {
    let server = PkiServer::start_delegating(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "leaf.key", &server.pki.leaf_key_pem);
    let delegate = server.pki.delegate.as_ref().unwrap();
    let delegate_key = write(dir.path(), "delegate.key", &delegate.leaf.key_pem);
    let (_h, sbc) = rest_verifier(&server, dir).await;

    let chain = server.url("/chain.pem");
    let identity = secsipidx_sign(ORIG, &chain, &key);
    let (status, v) = rest_verify(&sbc, &identity, ORIG).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["verstat"], "TN-Validation-Passed", "{v}");
    assert!(v.get("reasoncode").is_none(), "{v}");
    let passport = &v["passport"];
    assert_eq!(passport["attest"], "B", "{v}");
    assert_eq!(passport["orig"]["tn"], ORIG, "{v}");
    assert_eq!(passport["dest"]["tn"], serde_json::json!([DEST]), "{v}");
    assert_eq!(passport["x5u"], chain.as_str(), "{v}");
    // secsipidx makes up an origid of its own.
    let origid = passport["origid"].as_str().unwrap();
    assert!(uuid::Uuid::try_parse(origid).is_ok(), "{v}");
    assert_eq!(server.hits("/chain.pem"), 1);

    // The same token for another caller: 438 through the standard's fields.
    let (status, v) = rest_verify(&sbc, &identity, "12155550199").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        common::sti_rest::verdict(&v),
        (
            Some("No-TN-Validation"),
            Some(438),
            Some("Invalid Identity Header")
        ),
        "{v}"
    );
    assert!(v.get("passport").is_none(), "{v}");

    // Signed with a delegate certificate (RFC 9060): its numbers pass...
    let x5u = server.url(DELEGATE_CHAIN_PATH);
    for orig in [ORIG, "12155550399"] {
        let identity = secsipidx_sign(orig, &x5u, &delegate_key);
        let (status, v) = rest_verify(&sbc, &identity, orig).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["verstat"], "TN-Validation-Passed", "{orig}: {v}");
        assert_eq!(v["passport"]["orig"]["tn"], orig, "{v}");
    }
    // ...and a caller outside them is E17: 437, TN-Validation-Failed.
    let identity = secsipidx_sign("12155550400", &x5u, &delegate_key);
    let (status, v) = rest_verify(&sbc, &identity, "12155550400").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        common::sti_rest::verdict(&v),
        (
            Some("TN-Validation-Failed"),
            Some(437),
            Some("Unsupported Credential")
        ),
        "{v}"
    );
}
