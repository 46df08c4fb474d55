//! The verifier's ATIS-1000082 error table (tests/verify_errors.rs) through the REST
//! API: each negative case, built the same way against a dev PKI served on
//! 127.0.0.1:0, is POSTed to `/stir/v1/verification` by an SBC and answered with HTTP
//! 200 and the standard's `verstat`, `reasoncode` (a JSON number) and `reasontext`,
//! asserted literally; a valid PASSporT passes with its claims. Requests the API cannot
//! read are 400 service exceptions, and Identity values that are not PASSporTs at all
//! are verification failures, never a 5xx; the service answers a valid one after them.

mod common;

use callsign::config::StiRestClientConfig;
use callsign::proxy::OnFailure;
use callsign::verify::CrlMode;
use common::pki_server::{DEST, ORIG, ORIGID, PkiServer};
use common::sti_rest::Sbc;
use common::*;
use serde_json::{Value, json};

const CHAIN: &str = "/chain.pem";
const VERIFICATION: &str = "/stir/v1/verification";
/// An asserting SBC of `[[sti_rest.client]]`.
const SBC_NAME: &str = "sbc-core";
const SBC_USER: &str = "sbc-core-user";
const SBC_PASSWORD: &str = "Core-Password-5678";

/// A REST-serving server whose verifier trusts `pki`'s root and its STI-PA CRL signer
/// (CRLs required, x5u over http on loopback), and which signs with `pki`'s leaf, x5u at
/// `pki`'s chain; and an SBC that calls it as the asserting client.
struct Rest {
    pki: PkiServer,
    h: Harness,
    sbc: Sbc,
}

impl Rest {
    async fn start() -> Rest {
        let pki = PkiServer::start(now_unix());
        let dir = tempfile::tempdir().unwrap();
        let pki_dir = dir.path().join("pki-server");
        callsign::certs::dev::write(&pki_dir, &pki.pki).unwrap();
        let signers = pki_dir.join("sti-pa-crl.pem");
        let h = TestServer::verifying(&pki_dir, OnFailure::Forward)
            .x5u(&pki.url(CHAIN))
            .verify(|v| {
                v.crl_signers = Some(signers);
                v.crl = CrlMode::Require;
            })
            .sti_rest(|r| {
                r.clients.push(StiRestClientConfig {
                    name: SBC_NAME.into(),
                    username: Some(SBC_USER.into()),
                    password_sha256: Some(sha256_hex(SBC_PASSWORD)),
                    tls_names: Vec::new(),
                    origid: None,
                })
            })
            .start_in(dir)
            .await;
        let sbc = Sbc::new(
            common::sti_rest::rest_base(&h),
            Some((SBC_USER, SBC_PASSWORD)),
        );
        Rest { pki, h, sbc }
    }

    /// POSTs a verification request for a call from `from` to [`DEST`] received at
    /// `time`: the HTTP status and the JSON answer.
    async fn verify_at(&self, identity: &str, from: &str, time: i64) -> (u16, Value) {
        let body = request(identity, from, DEST, time);
        let (status, _, json) = self.sbc.post(VERIFICATION, &body).await;
        (status, json)
    }

    /// [`Rest::verify_at`] from [`ORIG`], received now.
    async fn verify(&self, identity: &str) -> (u16, Value) {
        self.verify_at(identity, ORIG, now_unix()).await
    }

    /// A full-form Identity value over `header` and `payload` text, validly signed with
    /// the leaf key, info at the chain.
    fn value(&self, header: &str, payload: &str) -> String {
        format!(
            "{};info=<{}>;alg=ES256;ppt=shaken",
            self.pki.sign_raw(header, payload),
            self.pki.url(CHAIN)
        )
    }

    /// The protected header a SHAKEN signer writes, x5u at the chain.
    fn header(&self) -> String {
        format!(
            r#"{{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"{}"}}"#,
            self.pki.url(CHAIN)
        )
    }

    /// A valid Identity value for a call from [`ORIG`] to [`DEST`] at `iat`.
    fn identity(&self, iat: i64) -> String {
        self.pki.identity(CHAIN, iat)
    }
}

/// The SHAKEN claims of a call from ORIG to DEST at `iat`.
fn payload(iat: i64) -> String {
    format!(
        r#"{{"attest":"A","dest":{{"tn":["{DEST}"]}},"iat":{iat},"orig":{{"tn":"{ORIG}"}},"origid":"{ORIGID}"}}"#
    )
}

fn request(identity: &str, from: &str, to: &str, time: i64) -> Value {
    json!({"verificationRequest": {
        "from": {"tn": from},
        "to": {"tn": [to]},
        "time": time,
        "identity": identity,
    }})
}

fn sha256_hex(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    d.as_ref().iter().fold(String::new(), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    })
}

/// The answer is HTTP 200 with a `verificationResponse` of this verstat, reason code
/// (a JSON number) and reason text, a description of what failed that mentions `about`
/// (the field or value at fault, as the row's cause), and no claims.
#[track_caller]
fn assert_row(answer: &(u16, Value), code: u64, text: &str, verstat: &str, about: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 200, "{body}");
    let v = &body["verificationResponse"];
    assert_eq!(
        (
            v["verstat"].as_str(),
            v["reasoncode"].as_u64(),
            v["reasontext"].as_str()
        ),
        (Some(verstat), Some(code), Some(text)),
        "{body}"
    );
    assert!(v["reasoncode"].is_number(), "{body}");
    let desc = v["reasondesc"].as_str().unwrap_or_default();
    assert!(!desc.starts_with(text) && desc.contains(about), "{body}");
    assert!(v.get("passport").is_none(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
}

/// The answer is HTTP 400 with the service exception `id` and these variables.
#[track_caller]
fn assert_service_exception(answer: &(u16, Value), id: &str, variables: &[&str]) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    let e = &body["requestError"]["serviceException"];
    assert_eq!(e["messageId"], id, "{body}");
    assert_eq!(e["variables"], json!(variables), "{body}");
    assert!(e["text"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body.get("verificationResponse").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_passport_passes_with_its_claims() {
    let rest = Rest::start().await;
    let iat = now_unix();
    let (status, body) = rest.verify(&rest.identity(iat)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"verificationResponse": {
            "verstat": "TN-Validation-Passed",
            "passport": {
                "attest": "A",
                "dest": {"tn": [DEST]},
                "iat": iat,
                "orig": {"tn": ORIG},
                "origid": ORIGID,
                "x5u": rest.pki.url(CHAIN),
            },
        }})
    );

    // A token the same server signs for the asserting SBC verifies as well.
    let signing = json!({"signingRequest": {
        "attest": "B",
        "dest": {"tn": [DEST]},
        "iat": iat,
        "orig": {"tn": ORIG},
    }});
    let (status, _, signed) = rest.sbc.post("/stir/v1/signing", &signing).await;
    assert_eq!(status, 200, "{signed}");
    let identity = signed["signingResponse"]["identity"].as_str().unwrap();
    let (status, body) = rest.verify(identity).await;
    assert_eq!(status, 200, "{body}");
    let v = &body["verificationResponse"];
    assert_eq!(v["verstat"], "TN-Validation-Passed", "{body}");
    assert_eq!(v["passport"]["attest"], "B", "{body}");
    assert_eq!(v["passport"]["orig"]["tn"], ORIG, "{body}");
    assert!(v.get("reasoncode").is_none(), "{body}");
    rest.h
        .assert_metric(
            "callsign_sti_rest_requests_total{endpoint=\"verification\",status=\"200\"} 2",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e1_a_request_without_an_identity_is_400_svc4001() {
    let rest = Rest::start().await;
    let mut body = request("x", ORIG, DEST, now_unix());
    body["verificationRequest"]
        .as_object_mut()
        .unwrap()
        .remove("identity");
    let (status, _, json) = rest.sbc.post(VERIFICATION, &body).await;
    assert_service_exception(&(status, json), "SVC4001", &["identity"]);
    // null is as good as absent.
    body["verificationRequest"]["identity"] = Value::Null;
    let (status, _, json) = rest.sbc.post(VERIFICATION, &body).await;
    assert_service_exception(&(status, json), "SVC4001", &["identity"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_identity_is_400_svc4005() {
    let rest = Rest::start().await;
    for empty in ["", "   ", "\t\r\n"] {
        let answer = rest.verify(empty).await;
        assert_service_exception(&answer, "SVC4005", &["identity", "must not be empty"]);
    }
    // Not a string at all.
    let mut body = request("x", ORIG, DEST, now_unix());
    body["verificationRequest"]["identity"] = json!(42);
    let (status, _, json) = rest.sbc.post(VERIFICATION, &body).await;
    assert_service_exception(
        &(status, json),
        "SVC4005",
        &["identity", "must be a string"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_from_tn_that_is_not_a_number_is_400_svc4005() {
    let rest = Rest::start().await;
    let identity = rest.identity(now_unix());
    for from in ["not-a-number", "+1 (215) 555-ABCD", "☎"] {
        let answer = rest.verify_at(&identity, from, now_unix()).await;
        assert_service_exception(
            &answer,
            "SVC4005",
            &["from", "'tn' is not a telephone number"],
        );
    }
    // The same for a called number, and for a `from` without its `tn`.
    let body = request(&identity, ORIG, "nobody", now_unix());
    let (status, _, json) = rest.sbc.post(VERIFICATION, &body).await;
    assert_service_exception(
        &(status, json),
        "SVC4005",
        &["to", "a 'tn' is not a telephone number"],
    );
    let mut body = request(&identity, ORIG, DEST, now_unix());
    body["verificationRequest"]["from"] = json!({"uri": "sip:alice@example.com"});
    let (status, _, json) = rest.sbc.post(VERIFICATION, &body).await;
    assert_service_exception(
        &(status, json),
        "SVC4005",
        &["from", "must carry a 'tn' string"],
    );
    // The request was fine all along.
    let (_, body) = rest.verify(&identity).await;
    assert_eq!(
        body["verificationResponse"]["verstat"],
        "TN-Validation-Passed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_an_unparsable_identity_is_438() {
    let rest = Rest::start().await;
    let garbage = format!("not-a-jws;info=<{}>;ppt=shaken", rest.pki.url(CHAIN));
    let answer = rest.verify(&garbage).await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "malformed",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e3_a_stale_time_is_403() {
    let rest = Rest::start().await;
    let now = now_unix();
    // A fresh iat, but the SBC received the call two minutes ago.
    let answer = rest.verify_at(&rest.identity(now), ORIG, now - 120).await;
    assert_row(&answer, 403, "Stale Date", "No-TN-Validation", "120 s");
    let desc = &answer.1["verificationResponse"]["reasondesc"];
    assert!(
        desc.as_str().unwrap().starts_with("'time' is 120 s"),
        "{desc}"
    );
    let (_, body) = rest.verify_at(&rest.identity(now), ORIG, now - 5).await;
    assert_eq!(
        body["verificationResponse"]["verstat"], "TN-Validation-Passed",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e4_the_compact_form_is_438() {
    let rest = Rest::start().await;
    let full = rest.identity(now_unix());
    let mut parts = full.splitn(3, '.');
    let (h, _, tail) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
    let answer = rest.verify(&format!("{h}..{tail}")).await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "compact-form",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e5_a_ppt_parameter_other_than_shaken_is_438() {
    let rest = Rest::start().await;
    let value = rest.identity(now_unix()).replace(";ppt=shaken", ";ppt=div");
    let answer = rest.verify(&value).await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "ppt",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e6_a_missing_info_parameter_is_436() {
    let rest = Rest::start().await;
    let id = rest.identity(now_unix());
    let (jws, _) = id.split_once(';').unwrap();
    let answer = rest.verify(&format!("{jws};alg=ES256;ppt=shaken")).await;
    assert_row(
        &answer,
        436,
        "Bad Identity Info",
        "No-TN-Validation",
        "no info",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e7_an_invalid_info_uri_is_436() {
    let rest = Rest::start().await;
    let id = rest.identity(now_unix());
    let (jws, _) = id.split_once(';').unwrap();
    let unbracketed = format!("{jws};info={};alg=ES256;ppt=shaken", rest.pki.url(CHAIN));
    let answer = rest.verify(&unbracketed).await;
    assert_row(
        &answer,
        436,
        "Bad Identity Info",
        "No-TN-Validation",
        "angle brackets",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e8_an_info_uri_that_cannot_be_dereferenced_is_436() {
    let rest = Rest::start().await;
    rest.pki
        .put_status("/gone.pem", axum::http::StatusCode::NOT_FOUND, Vec::new());
    let answer = rest
        .verify(&rest.pki.identity("/gone.pem", now_unix()))
        .await;
    assert_row(&answer, 436, "Bad Identity Info", "No-TN-Validation", "404");
    assert_eq!(rest.pki.hits("/gone.pem"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e9_a_header_without_typ_is_436() {
    let rest = Rest::start().await;
    let header = rest.header().replace(r#""typ":"passport","#, "");
    let answer = rest
        .verify(&rest.value(&header, &payload(now_unix())))
        .await;
    assert_row(&answer, 436, "Bad Identity Info", "No-TN-Validation", "typ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e10_info_other_than_x5u_is_436() {
    let rest = Rest::start().await;
    let moved = rest.identity(now_unix()).replace(
        &format!("info=<{}>", rest.pki.url(CHAIN)),
        "info=<https://elsewhere.example/c.pem>",
    );
    let answer = rest.verify(&moved).await;
    assert_row(&answer, 436, "Bad Identity Info", "No-TN-Validation", "x5u");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e11_a_typ_other_than_passport_is_437() {
    let rest = Rest::start().await;
    let header = rest
        .header()
        .replace(r#""typ":"passport""#, r#""typ":"JWT""#);
    let answer = rest
        .verify(&rest.value(&header, &payload(now_unix())))
        .await;
    assert_row(
        &answer,
        437,
        "Unsupported Credential",
        "No-TN-Validation",
        r#""JWT""#,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e12_an_alg_other_than_es256_is_437() {
    let rest = Rest::start().await;
    let header = rest
        .header()
        .replace(r#""alg":"ES256""#, r#""alg":"RS256""#);
    let answer = rest
        .verify(&rest.value(&header, &payload(now_unix())))
        .await;
    assert_row(
        &answer,
        437,
        "Unsupported Credential",
        "No-TN-Validation",
        r#""RS256""#,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e13_a_ppt_claim_other_than_shaken_is_438() {
    let rest = Rest::start().await;
    // The Identity parameter still says shaken; the signed header does not.
    let header = rest.header().replace(r#""ppt":"shaken""#, r#""ppt":"div""#);
    let answer = rest
        .verify(&rest.value(&header, &payload(now_unix())))
        .await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "ppt",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e14_a_missing_claim_is_438() {
    let rest = Rest::start().await;
    let payload = payload(now_unix()).replace(&format!(r#","origid":"{ORIGID}""#), "");
    let answer = rest.verify(&rest.value(&rest.header(), &payload)).await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "origid",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e15_a_stale_iat_is_403() {
    let rest = Rest::start().await;
    let answer = rest.verify(&rest.identity(now_unix() - 61)).await;
    assert_row(&answer, 403, "Stale Date", "No-TN-Validation", "iat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e16_an_orig_or_dest_mismatch_is_438() {
    let rest = Rest::start().await;
    let identity = rest.identity(now_unix());
    let other_caller = rest.verify_at(&identity, "12155550199", now_unix()).await;
    assert_row(
        &other_caller,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "orig 12155550121",
    );
    let body = request(&identity, ORIG, "12155550199", now_unix());
    let (status, _, json) = rest.sbc.post(VERIFICATION, &body).await;
    assert_row(
        &(status, json),
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "dest",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e17_a_certificate_from_an_untrusted_root_is_437_failed() {
    let rest = Rest::start().await;
    let stranger = PkiServer::start(now_unix());
    let answer = rest.verify(&stranger.identity(CHAIN, now_unix())).await;
    assert_row(
        &answer,
        437,
        "Unsupported Credential",
        "TN-Validation-Failed",
        "chain",
    );
    assert_eq!(stranger.hits(CHAIN), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e18_a_signature_that_does_not_verify_is_438_failed() {
    let rest = Rest::start().await;
    let now = now_unix();
    let good = rest.value(&rest.header(), &payload(now));
    let forged = rest.value(
        &rest.header(),
        &payload(now).replace(ORIGID, "00000000-0000-0000-0000-000000000000"),
    );
    // The forged payload with the good signature.
    let good_sig = good.split(';').next().unwrap().rsplit('.').next().unwrap();
    let forged_input = forged
        .split(';')
        .next()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0;
    let tampered = format!(
        "{forged_input}.{good_sig};info=<{}>;alg=ES256;ppt=shaken",
        rest.pki.url(CHAIN)
    );
    let answer = rest.verify(&tampered).await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "TN-Validation-Failed",
        "signature",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e19_an_attest_other_than_a_b_or_c_is_438() {
    let rest = Rest::start().await;
    let payload = payload(now_unix()).replace(r#""attest":"A""#, r#""attest":"D""#);
    let answer = rest.verify(&rest.value(&rest.header(), &payload)).await;
    assert_row(
        &answer,
        438,
        "Invalid Identity Header",
        "No-TN-Validation",
        "attest",
    );
}

/// Deterministic bytes of every value (xorshift), for a garbage Identity value.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_identity_values_fail_verification_and_never_break_the_service() {
    let rest = Rest::start().await;
    let chain = rest.pki.url(CHAIN);
    let valid = rest.identity(now_unix());
    let (jws, _) = valid.split_once(';').unwrap();
    let garbage = [
        String::from_utf8_lossy(&noise(2048)).into_owned(),
        noise(512).iter().map(|&b| char::from(b)).collect(),
        ".".repeat(10 * 1024),
        ";".repeat(4096),
        "ü".repeat(2000),
        "☎📞 идентичность 身份;info=<http://例え.jp/c.pem>;ppt=shaken".to_owned(),
        format!("{jws};info=<{chain}>;alg=ES256;ppt=shaken;ppt=shaken;info=<{chain}>"),
        format!("\u{0}{valid}"),
        format!("{jws}\u{0};info=<{chain}>;alg=ES256;ppt=shaken"),
        format!("{jws};info=<file:///etc/passwd>;alg=ES256;ppt=shaken"),
        format!("{jws};info=<http://127.0.0.1:1/c.pem>;alg=ES256;ppt=shaken"),
        format!(
            "{jws};info=<{chain}{}>;alg=ES256;ppt=shaken",
            "%".repeat(500)
        ),
        format!("a.b.c;info=<{chain}>;alg=ES256;ppt=shaken"),
        format!(
            "{}.{}.{};info=<{chain}>",
            "A".repeat(3000),
            "B".repeat(3000),
            "C".repeat(3000)
        ),
        format!(
            "{};info=<{chain}>;ppt=shaken",
            rest.pki.sign_raw(&"[".repeat(5000), "{}")
        ),
        format!(
            "{};info=<{chain}>;ppt=shaken",
            rest.pki.sign_raw("null", "null")
        ),
        format!(
            "{};info=<{chain}>;ppt=shaken",
            rest.pki.sign_raw(&rest.header(), "[]")
        ),
        format!(
            "{};info=<{chain}>;ppt=shaken",
            rest.pki.sign_raw(&rest.header(), &payload(i64::MAX))
        ),
        format!(
            "{};info=<{chain}>;ppt=shaken",
            rest.pki.sign_raw(&rest.header(), &payload(-1))
        ),
        "<>".to_owned(),
        ";info=<>".to_owned(),
    ];
    for (i, identity) in garbage.iter().enumerate() {
        let (status, body) = rest.verify(identity).await;
        assert_eq!(status, 200, "garbage #{i}: {body}");
        let v = &body["verificationResponse"];
        let code = v["reasoncode"].as_u64();
        assert!(
            matches!(code, Some(403 | 436 | 437 | 438)),
            "garbage #{i}: {body}"
        );
        assert!(
            matches!(
                v["verstat"].as_str(),
                Some("No-TN-Validation" | "TN-Validation-Failed")
            ),
            "garbage #{i}: {body}"
        );
        assert!(v.get("passport").is_none(), "garbage #{i}: {body}");
    }
    // Bytes that are not UTF-8 inside the identity string make the body unparsable:
    // a request error, not a verification.
    let mut raw = format!(
        r#"{{"verificationRequest":{{"from":{{"tn":"{ORIG}"}},"to":{{"tn":["{DEST}"]}},"time":{},"identity":""#,
        now_unix()
    )
    .into_bytes();
    raw.extend(noise(256).iter().map(|b| b | 0x80));
    raw.extend(br#""}}"#);
    let response = rest
        .sbc
        .http
        .post(format!("{}{VERIFICATION}", rest.sbc.base))
        .basic_auth(SBC_USER, Some(SBC_PASSWORD))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let (status, _, body) = common::sti_rest::answer(response).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["requestError"]["serviceException"]["messageId"], "SVC4006",
        "{body}"
    );
    // The service still verifies a valid PASSporT, on the same connection.
    let (status, body) = rest.verify(&valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["verificationResponse"]["verstat"], "TN-Validation-Passed",
        "{body}"
    );
    let answered = garbage.len() + 1;
    rest.h
        .assert_metric(&format!(
            "callsign_sti_rest_requests_total{{endpoint=\"verification\",status=\"200\"}} {answered}"
        ))
        .await;
}
