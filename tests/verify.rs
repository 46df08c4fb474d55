//! The verification service end to end against a dev PKI served on 127.0.0.1:0: a
//! passing call, and the negative suite of issue 4, each case asserting its exact code,
//! failing step and verstat.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callsign::certs::dev;
use callsign::verify::{CrlMode, Expected, Report, Step, Verifier, VerifySettings, Verstat};
use common::now_unix;
use common::pki_server::{
    CRL_PATH, ORIG, ORIGID, PkiServer, expected, identity_with, local_settings as settings,
    local_verifier as verifier, silent_server,
};

/// The report failed at `step` with `code`; a certificate or signature failure is
/// `TN-Validation-Failed`, anything else `No-TN-Validation` (ATIS-1000082 E17, E18).
#[track_caller]
fn assert_fails(report: &Report, step: Step, code: u16) {
    assert_eq!(report.failed_step, Some(step), "{report}");
    assert_eq!(report.code, Some(code), "{report}");
    let verstat = match step {
        Step::Chain | Step::TnAuthList | Step::CertValidAtIat | Step::Signature => {
            "TN-Validation-Failed"
        }
        _ => "No-TN-Validation",
    };
    assert_eq!(report.verstat.as_str(), verstat, "{report}");
    assert!(!report.passed());
}

/// Replaces the payload of an Identity value (keeping header and signature).
fn with_payload(identity: &str, payload: &str) -> String {
    let mut parts = identity.splitn(3, '.');
    let (h, _, rest) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    format!("{h}.{}.{rest}", URL_SAFE_NO_PAD.encode(payload))
}

fn payload_of(identity: &str) -> String {
    let p = identity.split('.').nth(1).unwrap();
    String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

#[tokio::test]
async fn a_good_call_passes_every_step() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let report = verifier(&server)
        .verify(&server.identity("/chain.pem", now), &expected(), now)
        .await;
    assert!(report.passed(), "{report}");
    assert_eq!(report.verstat, Verstat::Passed);
    assert_eq!(report.code, None);
    // Every one of the eleven steps ran and passed.
    let steps: Vec<Step> = report.steps.iter().map(|s| s.step).collect();
    assert_eq!(steps, Step::ALL, "{report}");
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.outcome == callsign::verify::Outcome::Passed),
        "{report}"
    );
    assert_eq!(report.claims.as_ref().map(|c| c.orig.as_str()), Some(ORIG));
}

#[tokio::test]
async fn tampered_payload_fails_the_signature_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let tampered = with_payload(
        &id,
        &payload_of(&id).replace(ORIGID, "00000000-0000-0000-0000-000000000000"),
    );
    let report = verifier(&server).verify(&tampered, &expected(), now).await;
    assert_fails(&report, Step::Signature, 438);
}

#[tokio::test]
async fn tampered_header_fails_the_signature_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let h = id.split('.').next().unwrap();
    let header = String::from_utf8(URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
    // Same fields, different bytes: the signature covers the bytes as received.
    let tampered = id.replacen(h, &URL_SAFE_NO_PAD.encode(header.replacen('{', "{ ", 1)), 1);
    let report = verifier(&server).verify(&tampered, &expected(), now).await;
    assert_fails(&report, Step::Signature, 438);
}

#[tokio::test]
async fn a_wrong_key_fails_the_signature_438() {
    let server = PkiServer::start(now_unix());
    let other = dev::generate("1234", now_unix()).unwrap();
    let key = callsign::certs::SigningKey::from_pem(&other.leaf_key_pem).unwrap();
    let now = now_unix();
    let id = identity_with(&key, &server.url("/chain.pem"), now);
    let report = verifier(&server).verify(&id, &expected(), now).await;
    assert_fails(&report, Step::Signature, 438);
}

#[tokio::test]
async fn an_expired_certificate_is_437() {
    // Issued three years ago: the two-year leaf has expired.
    let server = PkiServer::start(now_unix() - 3 * 365 * 86_400);
    let now = now_unix();
    let report = verifier(&server)
        .verify(&server.identity("/chain.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::Chain, 437);
    assert!(report.reason.contains("expired"), "{report}");
    assert_eq!(
        report.step(Step::CertValidAtIat).map(|s| s.outcome),
        Some(callsign::verify::Outcome::Failed)
    );
}

#[tokio::test]
async fn an_untrusted_root_is_437() {
    let server = PkiServer::start(now_unix());
    let other = dev::generate("1234", now_unix()).unwrap();
    let now = now_unix();
    let mut untrusting = settings(&server);
    untrusting.trust_anchors_pem = other.root_pem.clone();
    let verifier = Verifier::new(untrusting).unwrap();
    let report = verifier
        .verify(&server.identity("/chain.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::Chain, 437);
}

#[tokio::test]
async fn a_revoked_certificate_is_437() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let crl = server.pki.issue_crl(&[&server.pki.leaf_der], now).unwrap();
    server.put(CRL_PATH, crl);
    let report = verifier(&server)
        .verify(&server.identity("/chain.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::Chain, 437);
    assert!(report.reason.contains("revoked"), "{report}");
}

#[tokio::test]
async fn a_revoked_intermediate_named_in_the_indirect_crl_is_437() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let crl = server
        .pki
        .issue_crl(&[&server.pki.intermediate_der], now)
        .unwrap();
    server.put(CRL_PATH, crl);
    // Even in best-effort mode: a revocation is an answer, not a missing CRL.
    let mut best_effort = settings(&server);
    best_effort.crl = CrlMode::BestEffort;
    let report = Verifier::new(best_effort)
        .unwrap()
        .verify(&server.identity("/chain.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::Chain, 437);
    assert!(
        report
            .reason
            .contains("callsign dev SHAKEN intermediate, O=callsign dev, C=US is revoked"),
        "{report}"
    );
}

#[tokio::test]
async fn a_crl_signed_by_the_wrong_key_is_refused() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    // Another STI-PA CRL signer with the same name, revoking nothing.
    let impostor = dev::generate("1234", now).unwrap();
    assert_eq!(
        x509_parser::parse_x509_certificate(&impostor.crl_signer_der)
            .unwrap()
            .1
            .subject(),
        x509_parser::parse_x509_certificate(&server.pki.crl_signer_der)
            .unwrap()
            .1
            .subject()
    );
    server.put(CRL_PATH, impostor.issue_crl(&[], now).unwrap());
    let id = server.identity("/chain.pem", now);
    let report = verifier(&server).verify(&id, &expected(), now).await;
    assert_fails(&report, Step::Chain, 437);
    assert!(
        report.reason.contains("not a CRL of the expected signer"),
        "{report}"
    );
    assert!(
        report.reason.contains("signature does not verify"),
        "{report}"
    );

    // Best effort: the call passes, and both certificates are counted as unchecked.
    let mut best_effort = settings(&server);
    best_effort.crl = CrlMode::BestEffort;
    let unchecked = best_effort.unchecked.clone();
    let report = Verifier::new(best_effort)
        .unwrap()
        .verify(&id, &expected(), now)
        .await;
    assert!(report.passed(), "{report}");
    assert_eq!(unchecked.get(), 2);
}

#[tokio::test]
async fn an_indirect_crl_needs_a_configured_signer() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let mut unconfigured = settings(&server);
    unconfigured.crl_signers_pem = String::new();
    let report = Verifier::new(unconfigured.clone())
        .unwrap()
        .verify(&id, &expected(), now)
        .await;
    assert_fails(&report, Step::Chain, 437);
    assert!(
        report
            .reason
            .contains("STI-PA CRL, O=callsign dev, C=US is not a CRL signer"),
        "{report}"
    );
    // Best effort counts it and goes on.
    unconfigured.crl = CrlMode::BestEffort;
    let unchecked = unconfigured.unchecked.clone();
    let report = Verifier::new(unconfigured)
        .unwrap()
        .verify(&id, &expected(), now)
        .await;
    assert!(report.passed(), "{report}");
    assert_eq!(unchecked.get(), 2);
    // A signer that is not valid now is no signer.
    let expired_at = x509_parser::parse_x509_certificate(&server.pki.crl_signer_der)
        .unwrap()
        .1
        .validity()
        .not_after
        .timestamp();
    let later = expired_at + 1;
    let report = verifier(&server)
        .verify(&server.identity("/chain.pem", later), &expected(), later)
        .await;
    assert_fails(&report, Step::Chain, 437);
}

#[tokio::test]
async fn crls_are_refreshed_before_their_next_update_apart_from_calls() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let next = now + 7200;
    server.put(
        CRL_PATH,
        server.pki.issue_crl_between(&[], now - 60, next).unwrap(),
    );
    let mut s = settings(&server);
    s.crl_refresh = callsign::verify::CrlRefresh {
        every_secs: 86_400,
        before_next_update_secs: 600,
        stale_grace_secs: 300,
    };
    let v = Verifier::new(s).unwrap();
    assert!(
        v.verify(&server.identity("/chain.pem", now), &expected(), now)
            .await
            .passed()
    );

    // The STI-PA revokes the leaf. Until the refresh is due, the CRL held answers.
    let revoking = server
        .pki
        .issue_crl_between(&[&server.pki.leaf_der], now, now + 86_400)
        .unwrap();
    server.put(CRL_PATH, revoking);
    let early = now + 60;
    let statuses = v.refresh_crls(early).await;
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0].url, server.url(CRL_PATH));
    assert!(!statuses[0].attempted && !statuses[0].refreshed && !statuses[0].stale);
    assert_eq!(statuses[0].next_update, Some(next));
    let id = server.identity("/chain.pem", early);
    assert!(v.verify(&id, &expected(), early).await.passed());

    // Ten minutes before nextUpdate the refresh fetches it; the next call sees the
    // revocation without fetching anything itself.
    let due = next - 600;
    let statuses = v.refresh_crls(due).await;
    assert!(
        statuses[0].attempted && statuses[0].refreshed,
        "{statuses:?}"
    );
    assert_eq!(statuses[0].next_update, Some(now + 86_400));
    server.put_status(CRL_PATH, StatusCode::NOT_FOUND, Vec::new());
    let id = server.identity("/chain.pem", due);
    let report = v.verify(&id, &expected(), due).await;
    assert_fails(&report, Step::Chain, 437);
    assert!(report.reason.contains("revoked"), "{report}");

    // The publisher goes away: refreshes fail, the CRL held stays until its
    // nextUpdate, and past it plus the grace period it is reported stale.
    let failing = now + 86_400 - 300;
    let statuses = v.refresh_crls(failing).await;
    assert!(
        statuses[0].attempted && !statuses[0].refreshed,
        "{statuses:?}"
    );
    assert!(!statuses[0].stale);
    assert!(
        statuses[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("404")),
        "{statuses:?}"
    );
    let statuses = v.refresh_crls(now + 86_400 + 301).await;
    assert!(statuses[0].stale, "{statuses:?}");
}

#[tokio::test]
async fn a_restart_reads_the_crls_back_from_the_cache_directory() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&server);
    s.crl_cache_dir = Some(dir.path().join("crls"));
    let first = Verifier::new(s.clone()).unwrap();
    let id = server.identity("/chain.pem", now);
    assert!(first.verify(&id, &expected(), now).await.passed());
    drop(first);

    // The CRL can no longer be fetched; the restarted verifier still has it.
    server.put_status(CRL_PATH, StatusCode::NOT_FOUND, Vec::new());
    std::fs::write(dir.path().join("crls/junk.url"), "http://elsewhere/x.crl").unwrap();
    let second = Verifier::new(s.clone()).unwrap();
    let (loaded, skipped) = second.load_crl_cache(now);
    assert_eq!(loaded, 1);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(second.verify(&id, &expected(), now).await.passed());

    // A cached file altered on disk fails its signature check and is not used.
    let cached: Vec<_> = std::fs::read_dir(dir.path().join("crls"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "crl"))
        .collect();
    assert_eq!(cached.len(), 1);
    let impostor = dev::generate("1234", now).unwrap();
    std::fs::write(&cached[0], impostor.issue_crl(&[], now).unwrap()).unwrap();
    let third = Verifier::new(s).unwrap();
    assert_eq!(third.load_crl_cache(now).0, 1);
    assert_fails(&third.verify(&id, &expected(), now).await, Step::Chain, 437);
}

#[tokio::test]
async fn an_unreachable_crl_fails_only_when_required() {
    let server = PkiServer::start(now_unix());
    server.put_status(CRL_PATH, StatusCode::NOT_FOUND, Vec::new());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let report = verifier(&server).verify(&id, &expected(), now).await;
    assert_fails(&report, Step::Chain, 437);

    let mut best_effort = settings(&server);
    best_effort.crl = CrlMode::BestEffort;
    let report = Verifier::new(best_effort)
        .unwrap()
        .verify(&id, &expected(), now)
        .await;
    assert!(report.passed(), "{report}");
    let note = &report.step(Step::Chain).unwrap().detail;
    assert!(note.contains("not checked"), "{note}");
}

#[tokio::test]
async fn a_leaf_without_tnauthlist_is_437() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    // A leaf issued by the dev intermediate, without the TNAuthList extension.
    let ca_key = rcgen::KeyPair::from_pem(&server.pki.intermediate_key_pem).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&server.pki.intermediate_pem, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "SHAKEN 1234");
    params.not_before = time::OffsetDateTime::from_unix_timestamp(now - 3600).unwrap();
    params.not_after = time::OffsetDateTime::from_unix_timestamp(now + 86_400).unwrap();
    // The same distribution point as the dev leaf's: the STI-PA CRL, cRLIssuer and all.
    let dev_leaf = x509_parser::parse_x509_certificate(&server.pki.leaf_der)
        .unwrap()
        .1;
    let point = dev_leaf
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "2.5.29.31")
        .unwrap();
    params
        .custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            &[2, 5, 29, 31],
            point.value.to_vec(),
        ));
    let leaf = params.signed_by(&leaf_key, &issuer).unwrap();
    server.put(
        "/no-tnauthlist.pem",
        format!("{}{}", leaf.pem(), server.pki.intermediate_pem).into_bytes(),
    );
    let key = callsign::certs::SigningKey::from_pem(&leaf_key.serialize_pem()).unwrap();
    let id = identity_with(&key, &server.url("/no-tnauthlist.pem"), now);
    let report = verifier(&server).verify(&id, &expected(), now).await;
    assert_fails(&report, Step::TnAuthList, 437);
    // Everything else about it is fine.
    assert_eq!(
        report
            .steps
            .iter()
            .filter(|s| s.outcome == callsign::verify::Outcome::Failed)
            .count(),
        1,
        "{report}"
    );
}

#[tokio::test]
async fn a_stale_or_future_iat_is_403_stale_date() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let v = verifier(&server);
    for iat in [now - 61, now + 61] {
        let report = v
            .verify(&server.identity("/chain.pem", iat), &expected(), now)
            .await;
        assert_fails(&report, Step::Freshness, 403);
        assert_eq!(report.reason_phrase(), Some("Stale Date"));
    }
    // Just inside the window, both ways.
    for iat in [now - 60, now + 60] {
        let report = v
            .verify(&server.identity("/chain.pem", iat), &expected(), now)
            .await;
        assert!(report.passed(), "{report}");
    }
}

#[tokio::test]
async fn orig_and_dest_mismatches_are_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let v = verifier(&server);
    let orig = Expected {
        orig: Some("12155550199".into()),
        ..expected()
    };
    assert_fails(&v.verify(&id, &orig, now).await, Step::Numbers, 438);
    let dest = Expected {
        dest: vec!["12155550199".into()],
        ..expected()
    };
    assert_fails(&v.verify(&id, &dest, now).await, Step::Numbers, 438);
}

#[tokio::test]
async fn the_compact_form_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let mut parts = id.splitn(3, '.');
    let (h, _, rest) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let compact = format!("{h}..{rest}");
    let report = verifier(&server).verify(&compact, &expected(), now).await;
    assert_fails(&report, Step::Parse, 438);
    assert_eq!(report.verstat, Verstat::NoValidation);
}

#[tokio::test]
async fn a_wrong_ppt_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let header = format!(
        r#"{{"alg":"ES256","ppt":"div","typ":"passport","x5u":"{}"}}"#,
        server.url("/chain.pem")
    );
    let id = server.identity("/chain.pem", now);
    let jws = server.sign_raw(&header, &payload_of(&id));
    let value = format!(
        "{jws};info=<{}>;alg=ES256;ppt=div",
        server.url("/chain.pem")
    );
    let report = verifier(&server).verify(&value, &expected(), now).await;
    assert_fails(&report, Step::Header, 438);
}

#[tokio::test]
async fn an_x5u_404_is_436() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let report = verifier(&server)
        .verify(&server.identity("/missing.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::FetchX5u, 436);
    assert!(report.reason.contains("HTTP status 404"), "{report}");
}

#[tokio::test]
async fn an_x5u_timeout_is_436() {
    let server = PkiServer::start(now_unix());
    let silent = silent_server();
    let now = now_unix();
    let key = server.leaf_key();
    let x5u = format!("http://{}/chain.pem", silent.local_addr().unwrap());
    let id = identity_with(&key, &x5u, now);
    let v = verifier(&server);
    let started = std::time::Instant::now();
    let report = v.verify(&id, &expected(), now).await;
    assert_fails(&report, Step::FetchX5u, 436);
    assert!(report.reason.contains("timed out"), "{report}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The failure is remembered: the next call does not wait again.
    let started = std::time::Instant::now();
    let again = v.verify(&id, &expected(), now).await;
    assert_fails(&again, Step::FetchX5u, 436);
    assert!(started.elapsed() < Duration::from_millis(250));
}

#[tokio::test]
async fn a_non_https_x5u_is_436_by_default() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let strict = Verifier::new(VerifySettings::new(&server.pki.root_pem)).unwrap();
    let report = strict
        .verify(&server.identity("/chain.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::FetchX5u, 436);
    assert!(report.reason.contains("scheme \"http\""), "{report}");
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let key = server.leaf_key();
    let id = identity_with(
        &key,
        &format!("http://localhost:{}/chain.pem", server.addr.port()),
        now,
    );
    let mut no_loopback = settings(&server);
    no_loopback.fetch.allow_loopback = false;
    let report = Verifier::new(no_loopback)
        .unwrap()
        .verify(&id, &expected(), now)
        .await;
    assert_fails(&report, Step::FetchX5u, 436);
    assert!(report.reason.contains("special-purpose"), "{report}");
    let report = verifier(&server).verify(&id, &expected(), now).await;
    assert!(report.passed(), "{report}");
}

#[tokio::test]
async fn an_oversized_x5u_is_436() {
    let server = PkiServer::start(now_unix());
    let mut big = server.pki.chain_pem().into_bytes();
    big.resize(70 * 1024, b'\n');
    server.put("/big.pem", big);
    let now = now_unix();
    let report = verifier(&server)
        .verify(&server.identity("/big.pem", now), &expected(), now)
        .await;
    assert_fails(&report, Step::FetchX5u, 436);
    assert!(report.reason.contains("larger than"), "{report}");
}

#[tokio::test]
async fn a_der_signature_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity("/chain.pem", now);
    let (jws, params) = id.split_once(';').unwrap();
    let (input, sig) = jws.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let value = format!(
        "{input}.{};{params}",
        URL_SAFE_NO_PAD.encode(der.as_bytes())
    );
    let report = verifier(&server).verify(&value, &expected(), now).await;
    assert_fails(&report, Step::Signature, 438);
    assert!(report.reason.contains("DER"), "{report}");
}

#[tokio::test]
async fn a_warm_cache_does_not_fetch_again() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let v = verifier(&server);
    let id = server.identity("/chain.pem", now);
    assert!(v.verify(&id, &expected(), now).await.passed());
    // The chain and CRLs disappear from the server: the cache still answers.
    for path in ["/chain.pem", CRL_PATH] {
        server.put_status(path, StatusCode::NOT_FOUND, Vec::new());
    }
    assert!(v.verify(&id, &expected(), now + 30).await.passed());
    // A day later the cache has expired (default 24 h) and the fetch fails.
    let later = now + 86_400;
    let id = server.identity("/chain.pem", later);
    assert_fails(
        &v.verify(&id, &expected(), later).await,
        Step::FetchX5u,
        436,
    );
}

#[tokio::test]
async fn cache_control_max_age_is_honoured() {
    let server = PkiServer::start(now_unix());
    server.put_cached(
        "/chain.pem",
        server.pki.chain_pem().into_bytes(),
        "public, max-age=60",
    );
    let now = now_unix();
    let v = verifier(&server);
    assert!(
        v.verify(&server.identity("/chain.pem", now), &expected(), now)
            .await
            .passed()
    );
    server.put_status("/chain.pem", StatusCode::NOT_FOUND, Vec::new());
    let at = now + 59;
    let report = v
        .verify(&server.identity("/chain.pem", at), &expected(), at)
        .await;
    assert!(report.passed(), "{report}");
    let at = now + 60;
    let report = v
        .verify(&server.identity("/chain.pem", at), &expected(), at)
        .await;
    assert_fails(&report, Step::FetchX5u, 436);
}

/// The STI-PA's list of approved CAs changes while callsign runs: a CA added is trusted
/// from the next call, a CA removed is trusted no more (its cached x5u included), and a
/// list that does not parse leaves the current one in place.
#[tokio::test]
async fn a_trust_list_update_adds_and_removes_a_ca_without_restart() {
    let now = now_unix();
    let a = PkiServer::start(now);
    let b = PkiServer::start(now);
    // One STI-PA in real life; here each PKI has its own CRL signer, of the same name,
    // as while the STI-PA rolls its CRL signing key over: both are trusted.
    let mut s = settings(&a);
    s.crl_signers_pem = format!("{}{}", a.pki.crl_signer_pem, b.pki.crl_signer_pem);
    let verifier = Verifier::new(s).unwrap();
    let call_a = a.identity("/chain.pem", now);
    let call_b = b.identity("/chain.pem", now);
    assert!(verifier.verify(&call_a, &expected(), now).await.passed());
    assert_fails(
        &verifier.verify(&call_b, &expected(), now).await,
        Step::Chain,
        437,
    );

    // B's root is added to the list.
    let both = format!("{}{}", a.pki.root_pem, b.pki.root_pem);
    assert_eq!(verifier.replace_anchors(&both).unwrap(), 2);
    let report = verifier.verify(&call_b, &expected(), now).await;
    assert!(report.passed(), "{report}");

    // A's is taken off: its x5u, cached as trusted a moment ago, is judged again.
    assert_eq!(verifier.replace_anchors(&b.pki.root_pem).unwrap(), 1);
    assert_fails(
        &verifier.verify(&call_a, &expected(), now).await,
        Step::Chain,
        437,
    );
    assert!(verifier.verify(&call_b, &expected(), now).await.passed());

    // A broken list, or one with no root, changes nothing.
    assert!(verifier.replace_anchors("not a PEM bundle").is_err());
    assert!(verifier.replace_anchors("").is_err());
    assert!(verifier.verify(&call_b, &expected(), now).await.passed());
    assert_fails(
        &verifier.verify(&call_a, &expected(), now).await,
        Step::Chain,
        437,
    );
}
