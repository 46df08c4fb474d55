//! Every answer of the Trust Hub paths has Twilio's JSON error shape, including what the
//! HTTP layer itself refuses (unknown paths, wrong methods, undecodable paths, oversized
//! URIs and headers), and form values Twilio would not take are refused by name.

mod common;

use common::api::*;
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw request bytes; returns the status and the body.
async fn raw(h: &Harness, request: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(h.http).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .expect("answered");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Basic {}\r\n{extra}Connection: close\r\n\r\n",
        base64_operator()
    )
    .into_bytes()
}

fn base64_operator() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{OPERATOR_SID}:{OPERATOR_TOKEN}"))
}

/// Asserts Twilio's error body: `code`, `message`, `more_info` and `status` equal to the
/// HTTP status.
#[track_caller]
fn assert_twilio_error(what: &str, status: u16, body: &str, want_status: u16) -> Value {
    let json: Value = serde_json::from_str(body)
        .unwrap_or_else(|_| panic!("{what}: {status} is not JSON: {body:?}"));
    assert_eq!(status, want_status, "{what}: {json}");
    assert_eq!(
        json["status"].as_u64(),
        Some(u64::from(status)),
        "{what}: {json}"
    );
    let code = json["code"]
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: no code: {json}"));
    assert_eq!(
        json["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}"),
        "{what}"
    );
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {json}"
    );
    json
}

#[tokio::test]
async fn what_the_http_layer_refuses_has_twilios_error_shape() {
    let (h, _api) = hub().await;
    let uri = format!("/v1/EndUsers?x={}", "a".repeat(20_000));
    let big_header = format!("X-Big: {}\r\n", "b".repeat(40_000));
    let huge_uri = format!("/v1/EndUsers?x={}", "a".repeat(70_000));
    let many_headers = "X-A: b\r\n".repeat(200);
    let huge_header = format!("X-Big: {}\r\n", "b".repeat(500_000));
    let put =
        b"PUT /v1/EndUsers HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unknown path", get("/v1/Nope", ""), 404),
        ("undecodable path", get("/v1/EndUsers/%FF%FE", ""), 400),
        ("long URI", get(&uri, ""), 414),
        ("large headers", get("/v1/EndUsers", &big_header), 431),
        ("wrong method", put.to_vec(), 405),
        // What hyper refuses itself, before any router: a request line past 64 KiB, more
        // than 100 header fields, a head past its buffer.
        ("URI past hyper's limit", get(&huge_uri, ""), 414),
        (
            "too many header fields",
            get("/v1/EndUsers", &many_headers),
            431,
        ),
        (
            "head past hyper's buffer",
            get("/v1/EndUsers", &huge_header),
            431,
        ),
    ];
    for (what, request, want) in cases {
        let (status, body) = raw(&h, &request).await;
        assert_twilio_error(what, status, &body, want);
    }
    // The server goes on serving.
    let (status, _) = raw(&h, &get("/v1/EndUsers", "")).await;
    assert_eq!(status, 200);
    // What reached the router is counted by status; hyper's own refusals cannot be.
    for (status, n) in [(400, 1), (404, 1), (405, 1)] {
        h.assert_metric(&format!(
            "callsign_api_errors_total{{status=\"{status}\"}} {n}"
        ))
        .await;
    }
    let metrics = h.http_get("/metrics").await;
    assert!(
        !metrics.contains("callsign_api_errors_total{status=\"200\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn form_values_twilio_would_not_take_are_refused_by_name_and_not_stored() {
    let (h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    let auth = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", a.sid, a.token))
    };
    for (form, name) in [
        (
            "FriendlyName=a%00b&Type=authorized_representative_1",
            "FriendlyName",
        ),
        (
            "FriendlyName=a%FFb&Type=authorized_representative_1",
            "FriendlyName",
        ),
        (
            "FriendlyName=line%0D%0Abreak&Type=authorized_representative_1",
            "FriendlyName",
        ),
    ] {
        let request = format!(
            "POST /v1/EndUsers HTTP/1.1\r\nHost: test\r\nAuthorization: Basic {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        );
        let (status, body) = raw(&h, request.as_bytes()).await;
        let json = assert_twilio_error(form, status, &body, 400);
        assert_eq!(json["code"], 20001, "{form}");
        assert!(
            json["message"].as_str().unwrap().starts_with(name),
            "{form}: {json}"
        );
    }
    let (s, list) = api.get("/v1/EndUsers", &a, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(list["results"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test]
async fn values_twilio_would_not_take_are_refused_and_not_stored() {
    let (_h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    let op = Creds::operator();
    let nums = format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", a.sid);
    let profile = |email: &'static str| {
        vec![
            ("FriendlyName", "x"),
            ("Email", email),
            ("PolicySid", PRIMARY),
        ]
    };
    // Path, caller, form, Twilio code, start of the message.
    type Case<'a> = (&'a str, &'a Creds, Vec<(&'a str, &'a str)>, u64, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/v1/EndUsers",
            &a,
            vec![("FriendlyName", "x"), ("Type", "nonsense")],
            20001,
            "Type must be one of",
        ),
        (
            "/v1/CustomerProfiles",
            &a,
            profile("not-an-email"),
            20001,
            "Email",
        ),
        (
            "/v1/CustomerProfiles",
            &a,
            profile("a@b@c.com"),
            20001,
            "Email",
        ),
        (
            "/v1/CustomerProfiles",
            &a,
            profile("ops@localhost"),
            20001,
            "Email",
        ),
        (
            &nums,
            &op,
            vec![("PhoneNumber", "+1 (215) 555-0100")],
            21421,
            "Phone number",
        ),
        (
            &nums,
            &op,
            vec![("PhoneNumber", "+1-215-555-0100")],
            21421,
            "Phone number",
        ),
        (
            &nums,
            &op,
            vec![("PhoneNumber", "2155550100")],
            21421,
            "Phone number",
        ),
        (
            &nums,
            &op,
            vec![("PhoneNumber", "+02155550100")],
            21421,
            "Phone number",
        ),
    ];
    for (path, creds, form, code, says) in cases {
        let (s, body) = api.call("POST", path, Some(creds), &form).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(code)),
            "{form:?}: {body}"
        );
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(says), "{form:?}: {message}");
    }
    // Nothing was stored; the strict forms are taken.
    for path in ["/v1/EndUsers", "/v1/CustomerProfiles"] {
        let (_, list) = api.get(path, &a, &[]).await;
        assert_eq!(
            list["results"].as_array().map(Vec::len),
            Some(0),
            "{path}: {list}"
        );
    }
    let (_, numbers) = api.get(&nums, &op, &[]).await;
    assert_eq!(
        numbers["incoming_phone_numbers"].as_array().map(Vec::len),
        Some(0)
    );
    api.ok(&nums, &op, &[("PhoneNumber", "+12155550100")]).await;
    api.ok("/v1/CustomerProfiles", &a, &profile("ops@example.com"))
        .await;
    // An update is held to the same rule.
    let (_, list) = api.get("/v1/CustomerProfiles", &a, &[]).await;
    let sid = list["results"][0]["sid"].as_str().unwrap().to_owned();
    let (s, body) = api
        .post(
            &format!("/v1/CustomerProfiles/{sid}"),
            &a,
            &[("Email", "nope")],
        )
        .await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(20001)), "{body}");
}
