//! The ATIS-1000082 REST API end to end: a server with a store, a trunk provisioned
//! through the Trust Hub API with a credential list, and SBCs calling
//! `/stir/v1/signing` and `/stir/v1/verification` over HTTP with keep-alive. Levels come
//! from the trust data; the request's `attest` is a ceiling or ignored, as the trunk
//! says; configured SBCs assert theirs; a client certificate naming a trunk's domain
//! binds to it. Every refusal has the standard's status and message id, signs nothing,
//! and leaves the service answering.

mod common;

use common::api::{Api, Creds};
use common::sti_rest::*;
use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunks_sbc_signs_at_the_computed_level_and_the_token_verifies() {
    let (h, trunk) = server(|_| {}).await;
    let sbc = Sbc::new(rest_base(&h), Some((SBC_USER, SBC_PASSWORD)));

    // The trust data gives acme's number A, whatever is asked above it.
    let identity = signed(&sbc).await;
    assert!(identity.contains(";info=<http://"), "{identity}");
    assert!(identity.ends_with(";alg=ES256;ppt=shaken"), "{identity}");
    let c = claims(&identity);
    assert_eq!(
        (c["attest"].as_str(), c["orig"]["tn"].as_str()),
        (Some("A"), Some(ACME_A))
    );
    assert_eq!(c["dest"]["tn"], json!([CALLED]));

    // The same server verifies it through the REST API, claims included.
    let (status, _, v) = sbc
        .post("/stir/v1/verification", &verification(&identity, ACME_A))
        .await;
    assert_eq!(status, 200, "{v}");
    let v = &v["verificationResponse"];
    assert_eq!(v["verstat"], "TN-Validation-Passed", "{v}");
    assert_eq!(v["passport"]["attest"], "A");
    assert_eq!(v["passport"]["orig"]["tn"], ACME_A);
    assert!(v.get("reasoncode").is_none(), "{v}");

    // The wrong caller for the token: 438 through the standard's fields.
    let (_, _, v) = sbc
        .post(
            "/stir/v1/verification",
            &verification(&identity, "12155550100"),
        )
        .await;
    let v = &v["verificationResponse"];
    assert_eq!(
        verdict(v),
        (
            Some("No-TN-Validation"),
            Some(438),
            Some("Invalid Identity Header")
        ),
        "{v}"
    );
    assert!(v.get("passport").is_none());

    // A lower request is a ceiling by default...
    let (_, body) = sbc.sign(ACME_A, "C").await;
    let c = claims(body["signingResponse"]["identity"].as_str().unwrap());
    assert_eq!(c["attest"], "C");
    h.assert_metric("callsign_calls_signed_total{level=\"C\",reason=\"sbc_ceiling\"} 1")
        .await;
    // ...and nothing when the trunk says to ignore it.
    let api = Api::new(h.http);
    api.ok(
        &format!("/v1/Trunks/{trunk}"),
        &Creds::operator(),
        &[("RequestedLevel", "ignore")],
    )
    .await;
    let (_, body) = sbc.sign(ACME_A, "C").await;
    let c = claims(body["signingResponse"]["identity"].as_str().unwrap());
    assert_eq!(c["attest"], "A");
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 2")
        .await;
    h.assert_metric("callsign_sti_rest_requests_total{endpoint=\"signing\",status=\"200\"} 3")
        .await;
}

/// One raw HTTP/1.1 request on a fresh connection: the status line's code and the body.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The `requestError`'s kind and message id.
fn error_id(body: &Value) -> (String, String) {
    let e = body["requestError"].as_object().expect("a requestError");
    let (kind, inner) = e.iter().next().unwrap();
    (
        kind.clone(),
        inner["messageId"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_gets_the_standards_error_and_signs_nothing() {
    let (h, _) = server(|_| {}).await;
    let base = rest_base(&h);
    let sbc = Sbc::new(base.clone(), Some((SBC_USER, SBC_PASSWORD)));
    let http = http_client();
    let good = signing(ACME_A, "A", now_unix());
    let post = |path: &str| http.post(format!("{base}{path}"));

    // Who: nobody, a wrong password, an unknown user, another SBC's password.
    for basic in [
        None,
        Some((SBC_USER, "Wrong-Password-1234")),
        Some(("nobody", SBC_PASSWORD)),
        Some((SBC_USER, "")),
    ] {
        let mut req = post("/stir/v1/signing")
            .header("content-type", "application/json")
            .body(good.to_string());
        if let Some((u, p)) = basic {
            req = req.basic_auth(u, Some(p));
        }
        let r = req.send().await.unwrap();
        let challenge = r.headers().get("www-authenticate").cloned();
        let (status, _, body) = answer(r).await;
        assert_eq!(status, 401, "{basic:?}");
        assert_eq!(
            error_id(&body),
            ("policyException".into(), "POL0001".into())
        );
        assert!(
            challenge
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("Basic realm=")
        );
    }

    // The method and the resource, before credentials.
    let r = http
        .get(format!("{base}/stir/v1/signing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("allow").unwrap(), "POST");
    let (status, _, body) = answer(r).await;
    assert_eq!((status, error_id(&body).1.as_str()), (405, "POL4050"));
    let (status, _, body) = sbc.post("/stir/v1/signings", &good).await;
    assert_eq!((status, error_id(&body).1.as_str()), (404, "SVC4003"));

    // Headers: the body's type, what the SBC accepts, the length.
    let with = |ct: &str, accept: &str| {
        post("/stir/v1/signing")
            .basic_auth(SBC_USER, Some(SBC_PASSWORD))
            .header("content-type", ct)
            .header("accept", accept)
            .body(good.to_string())
    };
    let (status, _, body) = answer(with("text/plain", "*/*").send().await.unwrap()).await;
    assert_eq!((status, error_id(&body).1.as_str()), (415, "SVC4004"));
    let (status, _, body) =
        answer(with("application/json", "text/html").send().await.unwrap()).await;
    assert_eq!((status, error_id(&body).1.as_str()), (406, "SVC4002"));
    let (status, _, _) = answer(
        with("application/json; charset=utf-8", "application/*")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "parameters and wildcards are fine");
    let auth = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{SBC_USER}:{SBC_PASSWORD}"))
    };
    let chunked = format!(
        "POST /stir/v1/signing HTTP/1.1\r\nhost: x\r\nauthorization: Basic {auth}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{good}\r\n0\r\n\r\n",
        good.to_string().len()
    );
    let addr = h.sti_rest.unwrap();
    let (status, body) = raw(addr, chunked.as_bytes()).await;
    assert_eq!((status, error_id(&body).1.as_str()), (411, "SVC4007"));
    let huge = json!({"signingRequest": {"pad": "x".repeat(20_000)}});
    let (status, _, body) = sbc.post("/stir/v1/signing", &huge).await;
    assert_eq!((status, error_id(&body).1.as_str()), (413, "SVC4006"));

    // Bodies: not JSON, a key twice, fields missing or wrong.
    let body_of = |text: &str| {
        post("/stir/v1/signing")
            .basic_auth(SBC_USER, Some(SBC_PASSWORD))
            .header("content-type", "application/json")
            .body(text.to_owned())
    };
    let now = now_unix();
    let twice = format!(
        r#"{{"signingRequest":{{"attest":"C","attest":"A","dest":{{"tn":["{CALLED}"]}},"iat":{now},"orig":{{"tn":"{ACME_A}"}}}}}}"#
    );
    for (text, id, variable) in [
        ("{\"signingRequest\": ", "SVC4006", None),
        ("\u{feff}", "SVC4006", None),
        ("", "SVC4000", None),
        (twice.as_str(), "SVC4006", None),
        ("{}", "SVC4001", Some("signingRequest")),
    ] {
        let (status, _, body) = answer(body_of(text).send().await.unwrap()).await;
        assert_eq!(
            (status, error_id(&body).1.as_str()),
            (400, id),
            "{text:?}: {body}"
        );
        if let Some(v) = variable {
            assert_eq!(body["requestError"]["serviceException"]["variables"][0], v);
        }
    }
    let mut missing = good.clone();
    missing["signingRequest"]
        .as_object_mut()
        .unwrap()
        .remove("attest");
    let bad_number = signing("12-abc", "A", now);
    let stale = signing(ACME_A, "A", now - 3600);
    let mut not_uuid = good.clone();
    not_uuid["signingRequest"]["origid"] = json!("'; DROP TABLE calls; --");
    let mut level = good.clone();
    level["signingRequest"]["attest"] = json!("D");
    for (body, id, variable) in [
        (&missing, "SVC4001", "attest"),
        (&bad_number, "SVC4005", "orig"),
        (&stale, "SVC4005", "iat"),
        (&not_uuid, "SVC4005", "origid"),
        (&level, "SVC4005", "attest"),
    ] {
        let (status, _, answer) = sbc.post("/stir/v1/signing", body).await;
        assert_eq!(
            (status, error_id(&answer).1.as_str()),
            (400, id),
            "{answer}"
        );
        assert_eq!(
            answer["requestError"]["serviceException"]["variables"][0],
            variable
        );
    }

    // X-RequestID: echoed, else made; one too long to echo is replaced.
    let id_of = |id: Option<&str>| {
        let mut r = with("application/json", "application/json");
        if let Some(id) = id {
            r = r.header("x-requestid", id);
        }
        r
    };
    let (_, echoed, _) = answer(id_of(Some("sbc-4711")).send().await.unwrap()).await;
    assert_eq!(echoed, "sbc-4711");
    let (_, made, _) = answer(id_of(None).send().await.unwrap()).await;
    assert!(uuid::Uuid::try_parse(&made).is_ok(), "{made}");
    let long = "x".repeat(300);
    let (_, replaced, _) = answer(id_of(Some(&long)).send().await.unwrap()).await;
    assert!(uuid::Uuid::try_parse(&replaced).is_ok(), "{replaced}");

    // Only the three good requests above signed; the service still answers.
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 4")
        .await;
    let (status, _) = sbc.sign(ACME_A, "A").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_own_sbc_asserts_its_level_and_a_client_certificate_binds_a_trunk() {
    use callsign::certs::dev_tls::DevTlsCa;
    let ca = DevTlsCa::new("sbc test ca").unwrap();
    let server_cert = ca.issue(&["localhost"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (cert, key, roots) = (
        write("rest.pem", &server_cert.chain_pem),
        write("rest.key", &server_cert.key_pem),
        write("ca.pem", &ca.pem),
    );
    let (h, _) = server(move |r| {
        r.tls = Some(callsign::config::StiRestTlsConfig {
            certificate: cert,
            key,
            client_ca: Some(roots),
            handshake_timeout_ms: 2_000,
        });
        r.clients.push(callsign::config::StiRestClientConfig {
            name: "core-sbc".into(),
            username: Some("core".into()),
            // printf %s 'Core-Password-1234' | sha256sum
            password_sha256: Some(sha256_hex("Core-Password-1234")),
            tls_names: vec!["*.core.example.net".into()],
            origid: None,
        });
    })
    .await;
    let addr = h.sti_rest.unwrap();
    let https = |identity: Option<&callsign::certs::dev_tls::DevTlsCert>| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap()])
            .resolve("localhost", addr);
        if let Some(c) = identity {
            let pem = format!("{}{}", c.chain_pem, c.key_pem);
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        Sbc {
            http: b.build().unwrap(),
            base: format!("https://localhost:{}", addr.port()),
            basic: None,
        }
    };

    // The operator's SBC by password: its level, whoever owns the number.
    let mut core = https(None);
    core.basic = Some(("core".into(), "Core-Password-1234".into()));
    let (status, body) = core.sign("12125550100", "B").await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["signingResponse"]["identity"].as_str().unwrap());
    assert_eq!(
        (c["attest"].as_str(), c["orig"]["tn"].as_str()),
        (Some("B"), Some("12125550100"))
    );
    h.assert_metric("callsign_calls_signed_total{level=\"B\",reason=\"sbc_asserted\"} 1")
        .await;

    // By certificate: a name under the operator's pattern asserts; the trunk's domain
    // binds to acme's trunk, whose trust data decides.
    let edge = ca.issue(&["edge1.core.example.net"]).unwrap();
    let (status, body) = https(Some(&edge)).sign("12125550100", "A").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["signingResponse"]["identity"].as_str().unwrap())["attest"],
        "A"
    );
    let acme = ca.issue(&["sbc.acme.example"]).unwrap();
    let (status, body) = https(Some(&acme)).sign("12125550100", "A").await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["signingResponse"]["identity"].as_str().unwrap());
    assert_ne!(c["attest"], "A", "acme does not own 12125550100: {c}");

    // No certificate, a stranger's name, another CA: 401 or no handshake at all.
    let (status, _) = https(None).sign(ACME_A, "A").await;
    assert_eq!(status, 401);
    let stranger = ca.issue(&["sbc.other.example"]).unwrap();
    let (status, _) = https(Some(&stranger)).sign(ACME_A, "A").await;
    assert_eq!(status, 401);
    let rogue_ca = DevTlsCa::new("rogue").unwrap();
    let rogue = rogue_ca.issue(&["sbc.acme.example"]).unwrap();
    let refused = https(Some(&rogue))
        .http
        .post(format!("https://localhost:{}/stir/v1/signing", addr.port()))
        .header("content-type", "application/json")
        .body(signing(ACME_A, "A", now_unix()).to_string())
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a certificate of another CA is refused in the handshake"
    );
    let (status, _) = https(Some(&acme)).sign(ACME_A, "A").await;
    assert_eq!(status, 200, "the listener still serves");

    // A verifying trunk's SBC may verify, not sign.
    let api = Api::new(h.http);
    let form = [
        ("FriendlyName", "carrier"),
        ("DomainName", "in.carrier.example"),
        ("Role", "verify"),
    ];
    api.ok("/v1/Trunks", &Creds::new(ACME, ACME_TOKEN), &form)
        .await;
    let carrier = https(Some(&ca.issue(&["in.carrier.example"]).unwrap()));
    let (status, body) = carrier.sign(ACME_A, "A").await;
    assert_eq!(
        (status, error_id(&body).1.as_str()),
        (403, "POL0001"),
        "{body}"
    );
    let (status, _, body) = carrier
        .post(
            "/stir/v1/verification",
            &verification("a.b.c;info=<http://x/>", ACME_A),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn sha256_hex(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_own_listener_the_api_is_served_beside_the_trust_hub() {
    let (h, _) = server(|r| r.listen = None).await;
    assert_eq!(h.sti_rest, None);
    let sbc = Sbc::new(format!("http://{}", h.http), Some((SBC_USER, SBC_PASSWORD)));
    let (status, body) = sbc.sign(ACME_A, "A").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["signingResponse"]["identity"].as_str().unwrap())["attest"],
        "A"
    );
    // Its paths keep the standard's errors; the Trust Hub's keep Twilio's.
    let (status, _, body) = sbc.post("/stir/v1/nothing", &json!({})).await;
    assert_eq!((status, error_id(&body).1.as_str()), (404, "SVC4003"));
    let (status, _) = Api::new(h.http)
        .get("/v1/Trunks", &Creds::new(ACME, "wrong"), &[])
        .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_through_the_api_passes_callsign_verify() {
    let (h, _) = server(|_| {}).await;
    let sbc = Sbc::new(rest_base(&h), Some((SBC_USER, SBC_PASSWORD)));
    let identity = signed(&sbc).await;
    let root = h.path("shared-pki").join("root.pem");
    let root = root.to_str().unwrap().to_owned();
    let verify = |orig: &'static str| {
        let (identity, root) = (identity.clone(), root.clone());
        tokio::task::spawn_blocking(move || {
            common::binary::callsign(&[
                "verify",
                "--identity",
                &identity,
                "--trust-anchors",
                &root,
                "--allow-http",
                "--allow-loopback",
                "--orig",
                orig,
                "--dest",
                CALLED,
                "--json",
            ])
        })
    };
    let o = verify(ACME_A).await.unwrap();
    let text = common::binary::text(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("TN-Validation-Passed"), "{text}");
    // Another caller: the CLI refuses the same token.
    let o = verify("12155550100").await.unwrap();
    assert!(!o.status.success(), "{}", common::binary::text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trunks_call_rate_and_sign_policy_hold_for_its_sbc_too() {
    let (h, trunk) = server(|_| {}).await;
    let sbc = Sbc::new(rest_base(&h), Some((SBC_USER, SBC_PASSWORD)));
    let api = Api::new(h.http);
    let path = format!("/v1/Trunks/{trunk}");
    let op = Creds::operator();
    api.ok(&path, &op, &[("CallsPerSecond", "1"), ("CallsBurst", "1")])
        .await;
    // Three at once span at most one second's refill: one at least is over the rate.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = sbc
            .http
            .post(format!("{}/stir/v1/signing", sbc.base))
            .basic_auth(SBC_USER, Some(SBC_PASSWORD))
            .header("content-type", "application/json")
            .body(signing(ACME_A, "A", now_unix()).to_string())
            .send()
            .await
            .unwrap();
        let retry = r.headers().get("retry-after").cloned();
        let (status, _, body) = answer(r).await;
        if status == 503 {
            assert_eq!(error_id(&body).1, "POL0001");
            assert_eq!(retry.unwrap(), "1");
        }
        statuses.push(status);
    }
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");
    api.ok(&path, &op, &[("CallsPerSecond", "0")]).await;

    // A trunk that signs nothing signs nothing through the API either.
    api.ok(&path, &op, &[("SignPolicy", "never")]).await;
    let (status, body) = sbc.sign(ACME_A, "A").await;
    assert_eq!(
        (status, error_id(&body).1.as_str()),
        (403, "POL0001"),
        "{body}"
    );
    api.ok(&path, &op, &[("SignPolicy", "unsigned")]).await;
    let (status, _) = sbc.sign(ACME_A, "A").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_credentials_are_401_and_nothing_else() {
    let (h, _) = server(|_| {}).await;
    let base = rest_base(&h);
    let http = http_client();
    let raw_auth: Vec<Vec<u8>> = vec![
        b"Basic !!!not-base64!!!".to_vec(),
        b"Basic c2JjLWVhc3Q=".to_vec(), // "sbc-east", no colon
        b"Basic /w==".to_vec(),         // one byte that is not UTF-8
        b"Bearer c2JjLWVhc3Q6eA==".to_vec(),
        b"Basic".to_vec(),
        [b"Basic ".as_slice(), &[0xff, 0xfe]].concat(),
        format!("Basic {}", "QUFB".repeat(2000)).into_bytes(),
    ];
    for auth in raw_auth {
        let value = reqwest::header::HeaderValue::from_bytes(&auth).unwrap();
        let r = http
            .post(format!("{base}/stir/v1/signing"))
            .header("authorization", value)
            .header("content-type", "application/json")
            .body(signing(ACME_A, "A", now_unix()).to_string())
            .send()
            .await
            .unwrap();
        let (status, _, body) = answer(r).await;
        assert_eq!(status, 401, "{}: {body}", String::from_utf8_lossy(&auth));
    }
    let sbc = Sbc::new(base, Some((SBC_USER, SBC_PASSWORD)));
    assert_eq!(sbc.sign(ACME_A, "A").await.0, 200);
}

/// A suspended account's SBC gets what its SIP calls get: C by default, or a refusal
/// (403, POL0001) with `[signing] suspended_status`; A again once it is reinstated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_accounts_sbc_is_treated_as_its_sip_calls_are() {
    let account = format!("/2010-04-01/Accounts/{ACME}.json");
    let suspend = [("Status", "suspended"), ("SuspensionCause", "fraud")];
    let op = Creds::operator();
    let attest = |identity: String| claims(&identity)["attest"].clone();
    let signed_c = "callsign_calls_signed_total{level=\"C\",reason=\"c_account_suspended\"}";

    let (h, _) = server(|_| {}).await;
    let sbc = Sbc::new(rest_base(&h), Some((SBC_USER, SBC_PASSWORD)));
    let api = Api::new(h.http);
    api.ok(&account, &op, &suspend).await;
    assert_eq!(attest(signed(&sbc).await), "C");
    assert_eq!(metric(h.http, signed_c).await, Some(1.0));
    api.ok(&account, &op, &[("Status", "active")]).await;
    assert_eq!(attest(signed(&sbc).await), "A");

    let (h, _) = server_with(|t| t.suspended_status(403), |_| {}).await;
    let sbc = Sbc::new(rest_base(&h), Some((SBC_USER, SBC_PASSWORD)));
    let api = Api::new(h.http);
    api.ok(&account, &op, &suspend).await;
    let (status, body) = sbc.sign(ACME_A, "A").await;
    assert_eq!(
        (status, error_id(&body)),
        (403, ("policyException".into(), "POL0001".into())),
        "{body}"
    );
    let why = body["requestError"]["policyException"]["variables"].to_string();
    assert!(why.contains("is suspended"), "{body}");
    assert_eq!(metric(h.http, signed_c).await, None, "nothing was signed");
    api.ok(&account, &op, &[("Status", "active")]).await;
    assert_eq!(attest(signed(&sbc).await), "A");
}
