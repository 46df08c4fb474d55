//! The ATIS-1000082 verification error table, one case per row (E1 to E19), each with a
//! PASSporT or request of its own against a dev PKI served on 127.0.0.1:0. Every case
//! asserts the literal E number, SIP status, reason phrase and verstat, and the `Reason`
//! header the proxy would add; none asks the code's own table what to expect.
//!
//! Then several Identity headers in one INVITE: each is verified on its own, a `div` or
//! unknown-`ppt` header never spoils a valid `shaken` one, and when none passes the
//! `shaken` header's failure is the one reported.

mod common;

use axum::http::StatusCode;
use callsign::sip::Message;
use callsign::tn::Numbering;
use callsign::verify::{
    Expected, Report, Verdict, Verifier, VerifySettings, expected_from_message, identity_values,
};
use common::now_unix;
use common::pki_server::{DEST, ORIG, ORIGID, PkiServer, expected, local_verifier as verifier};

const CHAIN: &str = "/chain.pem";

/// The protected header a SHAKEN signer writes, x5u on `server`.
fn header(server: &PkiServer) -> String {
    format!(
        r#"{{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"{}"}}"#,
        server.url(CHAIN)
    )
}

/// The SHAKEN claims of a call from ORIG to DEST at `iat`.
fn payload(iat: i64) -> String {
    format!(
        r#"{{"attest":"A","dest":{{"tn":["{DEST}"]}},"iat":{iat},"orig":{{"tn":"{ORIG}"}},"origid":"{ORIGID}"}}"#
    )
}

/// A full-form Identity value over `header` and `payload`, validly signed, info at the
/// chain.
fn value(server: &PkiServer, header: &str, payload: &str) -> String {
    format!(
        "{};info=<{}>;alg=ES256;ppt=shaken",
        server.sign_raw(header, payload),
        server.url(CHAIN)
    )
}

async fn verify(server: &PkiServer, value: &str, now: i64) -> Report {
    verifier(server).verify(value, &expected(), now).await
}

/// The report failed under row `e`, with this status, phrase and verstat; and a call with
/// only this header is marked and answered the same way.
#[track_caller]
fn assert_row(report: &Report, e: &str, code: u16, phrase: &str, verstat: &str) {
    let label = report.failure.map(|f| f.to_string());
    assert_eq!(label.as_deref(), Some(e), "{report}");
    assert_eq!(report.code, Some(code), "{report}");
    assert_eq!(report.reason_phrase(), Some(phrase), "{report}");
    assert_eq!(report.verstat.as_str(), verstat, "{report}");
    assert!(
        report.reason.starts_with(&format!("{phrase}: ")),
        "{report}"
    );
    let verdict = Verdict::from_reports(std::slice::from_ref(report));
    assert_eq!(verdict.verstat.as_str(), verstat);
    assert_eq!(verdict.code, Some(code));
    assert_eq!(
        verdict.reason.map(|r| r.to_string()),
        Some(format!("SIP;cause={code};text=\"{phrase}\""))
    );
}

#[test]
fn e1_no_identity_header_is_no_validation_without_a_code() {
    let verdict = Verdict::from_reports(&[]);
    assert_eq!(verdict.verstat.as_str(), "No-TN-Validation");
    assert_eq!((verdict.code, verdict.reason), (None, None));
}

#[tokio::test]
async fn e2_an_unparsable_identity_header_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let garbage = format!("not-a-jws;info=<{}>;ppt=shaken", server.url(CHAIN));
    let report = verify(&server, &garbage, now).await;
    assert_row(
        &report,
        "E2",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e3_a_stale_date_header_is_403() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    // A fresh iat, but a Date two minutes old.
    let stale = Expected {
        date: Some(now - 120),
        ..expected()
    };
    let report = verifier(&server)
        .verify(&server.identity(CHAIN, now), &stale, now)
        .await;
    assert_row(&report, "E3", 403, "Stale Date", "No-TN-Validation");
    let fresh = Expected {
        date: Some(now - 5),
        ..expected()
    };
    let report = verifier(&server)
        .verify(&server.identity(CHAIN, now), &fresh, now)
        .await;
    assert!(report.passed(), "{report}");
}

#[tokio::test]
async fn e4_the_compact_form_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let full = server.identity(CHAIN, now);
    let mut parts = full.splitn(3, '.');
    let (h, _, rest) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
    let report = verify(&server, &format!("{h}..{rest}"), now).await;
    assert_row(
        &report,
        "E4",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e5_a_ppt_parameter_other_than_shaken_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let value = server
        .identity(CHAIN, now)
        .replace(";ppt=shaken", ";ppt=div");
    let report = verify(&server, &value, now).await;
    assert_row(
        &report,
        "E5",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e6_a_missing_info_parameter_is_436() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity(CHAIN, now);
    let (jws, _) = id.split_once(';').unwrap();
    let report = verify(&server, &format!("{jws};alg=ES256;ppt=shaken"), now).await;
    assert_row(&report, "E6", 436, "Bad Identity Info", "No-TN-Validation");
}

#[tokio::test]
async fn e7_an_invalid_info_uri_is_436() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let id = server.identity(CHAIN, now);
    let (jws, _) = id.split_once(';').unwrap();
    let unbracketed = format!("{jws};info={};alg=ES256;ppt=shaken", server.url(CHAIN));
    let report = verify(&server, &unbracketed, now).await;
    assert_row(&report, "E7", 436, "Bad Identity Info", "No-TN-Validation");
    // A URI the fetch policy refuses (http, by default) is no better.
    let strict = Verifier::new(VerifySettings::new(&server.pki.root_pem)).unwrap();
    let report = strict.verify(&id, &expected(), now).await;
    assert_row(&report, "E7", 436, "Bad Identity Info", "No-TN-Validation");
}

#[tokio::test]
async fn e8_an_info_uri_that_cannot_be_dereferenced_is_436() {
    let server = PkiServer::start(now_unix());
    server.put_status("/gone.pem", StatusCode::NOT_FOUND, Vec::new());
    let now = now_unix();
    let report = verify(&server, &server.identity("/gone.pem", now), now).await;
    assert_row(&report, "E8", 436, "Bad Identity Info", "No-TN-Validation");
}

#[tokio::test]
async fn e9_a_header_without_typ_is_436() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let header = header(&server).replace(r#""typ":"passport","#, "");
    let report = verify(&server, &value(&server, &header, &payload(now)), now).await;
    assert_row(&report, "E9", 436, "Bad Identity Info", "No-TN-Validation");
}

#[tokio::test]
async fn e10_info_other_than_x5u_is_436() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let moved = server.identity(CHAIN, now).replace(
        &format!("info=<{}>", server.url(CHAIN)),
        "info=<https://elsewhere.example/c.pem>",
    );
    let report = verify(&server, &moved, now).await;
    assert_row(&report, "E10", 436, "Bad Identity Info", "No-TN-Validation");
}

#[tokio::test]
async fn e11_a_typ_other_than_passport_is_437() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let header = header(&server).replace(r#""typ":"passport""#, r#""typ":"JWT""#);
    let report = verify(&server, &value(&server, &header, &payload(now)), now).await;
    assert_row(
        &report,
        "E11",
        437,
        "Unsupported Credential",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e12_an_alg_other_than_es256_is_437() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let header = header(&server).replace(r#""alg":"ES256""#, r#""alg":"RS256""#);
    let report = verify(&server, &value(&server, &header, &payload(now)), now).await;
    assert_row(
        &report,
        "E12",
        437,
        "Unsupported Credential",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e13_a_ppt_claim_other_than_shaken_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    // The Identity parameter still says shaken; the signed header does not.
    let header = header(&server).replace(r#""ppt":"shaken""#, r#""ppt":"div""#);
    let report = verify(&server, &value(&server, &header, &payload(now)), now).await;
    assert_row(
        &report,
        "E13",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e14_a_missing_claim_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let payload = payload(now).replace(&format!(r#","origid":"{ORIGID}""#), "");
    let report = verify(&server, &value(&server, &header(&server), &payload), now).await;
    assert_row(
        &report,
        "E14",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e15_a_stale_iat_is_403() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let report = verify(&server, &server.identity(CHAIN, now - 61), now).await;
    assert_row(&report, "E15", 403, "Stale Date", "No-TN-Validation");
}

#[tokio::test]
async fn e16_an_orig_mismatch_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let other_caller = Expected {
        orig: Some("12155550199".into()),
        ..expected()
    };
    let report = verifier(&server)
        .verify(&server.identity(CHAIN, now), &other_caller, now)
        .await;
    assert_row(
        &report,
        "E16",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

#[tokio::test]
async fn e17_a_certificate_from_an_untrusted_root_is_437_failed() {
    let server = PkiServer::start(now_unix());
    let stranger = PkiServer::start(now_unix());
    let now = now_unix();
    let report = verifier(&stranger)
        .verify(&server.identity(CHAIN, now), &expected(), now)
        .await;
    assert_row(
        &report,
        "E17",
        437,
        "Unsupported Credential",
        "TN-Validation-Failed",
    );
}

#[tokio::test]
async fn e18_a_signature_that_does_not_verify_is_438_failed() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let good = value(&server, &header(&server), &payload(now));
    let forged = value(
        &server,
        &header(&server),
        &payload(now).replace(ORIGID, "00000000-0000-0000-0000-000000000000"),
    );
    // The forged payload with the good signature.
    let (good_sig, forged_input) = (
        good.split(';').next().unwrap().rsplit('.').next().unwrap(),
        forged
            .split(';')
            .next()
            .unwrap()
            .rsplit_once('.')
            .unwrap()
            .0,
    );
    let tampered = format!(
        "{forged_input}.{good_sig};info=<{}>;alg=ES256;ppt=shaken",
        server.url(CHAIN)
    );
    let report = verify(&server, &tampered, now).await;
    assert_row(
        &report,
        "E18",
        438,
        "Invalid Identity Header",
        "TN-Validation-Failed",
    );
}

#[tokio::test]
async fn e19_an_attest_other_than_a_b_or_c_is_438() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let payload = payload(now).replace(r#""attest":"A""#, r#""attest":"D""#);
    let report = verify(&server, &value(&server, &header(&server), &payload), now).await;
    assert_row(
        &report,
        "E19",
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
    );
}

/// An INVITE from ORIG to DEST carrying these Identity header values, in order.
fn invite(identities: &[String]) -> String {
    let mut text = format!(
        "INVITE sip:+{DEST}@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-multi\r\n\
         From: <sip:+{ORIG}@example.com>;tag=f1\r\n\
         To: <sip:+{DEST}@example.com>\r\n\
         Call-ID: multi\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
    );
    for value in identities {
        text.push_str(&format!("Identity: {value}\r\n"));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text
}

/// Verifies every Identity header of `invite` on its own and combines them, as the
/// proxy and `callsign verify --sip` do.
async fn verdict_of(server: &PkiServer, invite: &str, now: i64) -> (Vec<Report>, Verdict) {
    let msg = Message::parse(invite.as_bytes()).expect("INVITE");
    let expected = expected_from_message(&msg, &Numbering::default());
    assert_eq!(expected.orig.as_deref(), Some(ORIG));
    let v = verifier(server);
    let mut reports = Vec::new();
    for value in identity_values(&msg) {
        reports.push(v.verify(&value, &expected, now).await);
    }
    let verdict = Verdict::from_reports(&reports);
    (reports, verdict)
}

/// A `div` PASSporT (RFC 8946) for the same call: not one this verifier supports.
fn div(server: &PkiServer, now: i64) -> String {
    let header = header(server).replace(r#""ppt":"shaken""#, r#""ppt":"div""#);
    let payload = payload(now).replace(r#","origid""#, r#","div":{"tn":"12155550100"},"origid""#);
    value(server, &header, &payload).replace(";ppt=shaken", ";ppt=div")
}

#[tokio::test]
async fn two_headers_a_div_before_a_valid_shaken_one_pass() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let identities = [div(&server, now), server.identity(CHAIN, now)];
    let (reports, verdict) = verdict_of(&server, &invite(&identities), now).await;
    assert_eq!(reports.len(), 2);
    // Each header was judged on its own.
    assert_eq!(
        reports[0].failure.map(|f| f.to_string()).as_deref(),
        Some("E5")
    );
    assert!(reports[1].passed(), "{}", reports[1]);
    assert_eq!(verdict.verstat.as_str(), "TN-Validation-Passed");
    assert_eq!((verdict.code, verdict.reason), (None, None));
}

#[tokio::test]
async fn three_headers_div_and_unknown_ppt_around_a_valid_shaken_one_pass() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let unknown = server
        .identity(CHAIN, now)
        .replace(";ppt=shaken", ";ppt=rcd");
    let identities = [unknown, server.identity(CHAIN, now), div(&server, now)];
    let (reports, verdict) = verdict_of(&server, &invite(&identities), now).await;
    assert_eq!(reports.len(), 3);
    assert!(!reports[0].passed() && reports[1].passed() && !reports[2].passed());
    assert_eq!(verdict.verstat.as_str(), "TN-Validation-Passed");
    assert_eq!(verdict.code, None);
}

#[tokio::test]
async fn two_failing_headers_report_the_shaken_ones_failure() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    // The div header comes first and fails with 438 No-TN-Validation; the shaken one
    // is stale (403). The shaken header speaks.
    let identities = [div(&server, now), server.identity(CHAIN, now - 61)];
    let (_, verdict) = verdict_of(&server, &invite(&identities), now).await;
    assert_eq!(verdict.verstat.as_str(), "No-TN-Validation");
    assert_eq!(verdict.code, Some(403));
    assert_eq!(
        verdict.reason.map(|r| r.to_string()).as_deref(),
        Some("SIP;cause=403;text=\"Stale Date\"")
    );
}

#[tokio::test]
async fn three_failing_headers_report_the_shaken_ones_failure() {
    let server = PkiServer::start(now_unix());
    let now = now_unix();
    let unknown = server
        .identity(CHAIN, now)
        .replace(";ppt=shaken", ";ppt=rcd");
    let untrusted = PkiServer::start(now_unix());
    // A shaken PASSporT whose certificate chains to a root this verifier does not trust.
    let shaken = untrusted.identity(CHAIN, now);
    let identities = [unknown, div(&server, now), shaken];
    let (reports, verdict) = verdict_of(&server, &invite(&identities), now).await;
    assert_eq!(reports.len(), 3);
    assert_eq!(verdict.verstat.as_str(), "TN-Validation-Failed");
    assert_eq!(verdict.code, Some(437));
    assert_eq!(
        verdict.reason.map(|r| r.to_string()).as_deref(),
        Some("SIP;cause=437;text=\"Unsupported Credential\"")
    );
}
