//! An SBC of the ATIS-1000082 REST API, and a server that serves it with a trunk
//! provisioned for that SBC.

use callsign::proxy::OnFailure;
use serde_json::{Value, json};

use super::api::{Api, Creds};
use super::*;

pub const SBC_USER: &str = "sbc-east";
pub const SBC_PASSWORD: &str = "Sbc-Password-1234";
/// An A-level number of acme (tests/data/trust.json), and a number nobody owns.
pub const ACME_A: &str = "12155550121";
pub const CALLED: &str = "12155550199";

/// An SBC: keep-alive HTTP to the REST API at `base`.
pub struct Sbc {
    pub http: reqwest::Client,
    pub base: String,
    pub basic: Option<(String, String)>,
}

impl Sbc {
    pub fn new(base: String, basic: Option<(&str, &str)>) -> Sbc {
        Sbc {
            http: http_client(),
            base,
            basic: basic.map(|(u, p)| (u.to_owned(), p.to_owned())),
        }
    }

    /// POSTs `body` as JSON to `path`: status, `X-RequestID` and the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, String, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_string());
        if let Some((u, p)) = &self.basic {
            req = req.basic_auth(u, Some(p));
        }
        answer(req.send().await.unwrap()).await
    }

    pub async fn sign(&self, orig: &str, attest: &str) -> (u16, Value) {
        let body = signing(orig, attest, now_unix());
        let (status, _, json) = self.post("/stir/v1/signing", &body).await;
        (status, json)
    }
}

pub async fn answer(r: reqwest::Response) -> (u16, String, Value) {
    let status = r.status().as_u16();
    let id = (r.headers().get("x-requestid"))
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(
        r.headers().get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "every answer is JSON"
    );
    let json: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    (status, id, json)
}

pub fn signing(orig: &str, attest: &str, iat: i64) -> Value {
    json!({"signingRequest": {
        "attest": attest,
        "dest": {"tn": [CALLED]},
        "iat": iat,
        "orig": {"tn": orig},
    }})
}

pub fn verification(identity: &str, from: &str) -> Value {
    json!({"verificationRequest": {
        "from": {"tn": from},
        "to": {"tn": [CALLED]},
        "time": now_unix(),
        "identity": identity,
    }})
}

/// The claims of a signed Identity value, decoded without checking.
pub fn claims(identity: &str) -> Value {
    use base64::Engine;
    let payload = identity.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A server that signs for acme from its store and verifies against its own PKI, with
/// the REST API on its own listener, and acme's trunk with the SBC's credentials.
pub async fn server(edit: impl FnOnce(&mut callsign::config::StiRestConfig)) -> (Harness, String) {
    server_with(|t| t, edit).await
}

/// [`server`], with more of the server's set-up from `more`.
pub async fn server_with(
    more: impl FnOnce(TestServer) -> TestServer,
    edit: impl FnOnce(&mut callsign::config::StiRestConfig),
) -> (Harness, String) {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let h = more(TestServer::verifying(&pki, OnFailure::Forward))
        .served_x5u()
        .store(seed())
        .sti_rest(edit)
        .start_in(dir)
        .await;
    let trunk = sbc_trunk(&h).await;
    (h, trunk)
}

/// tests/data/trust.json, with acme's API credentials.
pub fn seed() -> String {
    let mut trust: Value = serde_json::from_str(TRUST).unwrap();
    trust["accounts"][0]["auth_token"] = json!(ACME_TOKEN);
    trust.to_string()
}

pub const ACME_TOKEN: &str = "0000000000000000000000000000000a";

/// acme's trunk for its SBC: a domain and a credential list with the SBC's user.
pub async fn sbc_trunk(h: &Harness) -> String {
    let api = Api::new(h.http);
    let op = Creds::operator();
    let sid = |v: Value| v["sid"].as_str().unwrap().to_owned();
    let trunk = sid(api
        .ok(
            "/v1/Trunks",
            &Creds::new(ACME, ACME_TOKEN),
            &[
                ("FriendlyName", "acme-sbc"),
                ("DomainName", "sbc.acme.example"),
            ],
        )
        .await);
    let lists = format!("/2010-04-01/Accounts/{ACME}/SIP/CredentialLists.json");
    let list = sid(api.ok(&lists, &op, &[("FriendlyName", "sbcs")]).await);
    let creds = format!("/2010-04-01/Accounts/{ACME}/SIP/CredentialLists/{list}/Credentials.json");
    api.ok(
        &creds,
        &op,
        &[("Username", SBC_USER), ("Password", SBC_PASSWORD)],
    )
    .await;
    let uses = format!("/v1/Trunks/{trunk}/CredentialLists");
    api.ok(&uses, &op, &[("CredentialListSid", &list)]).await;
    trunk
}

pub fn rest_base(h: &Harness) -> String {
    format!("http://{}", h.sti_rest.expect("[sti_rest] listen"))
}

/// A `verificationResponse`'s verstat, reason code and text.
pub fn verdict(v: &Value) -> (Option<&str>, Option<u64>, Option<&str>) {
    (
        v["verstat"].as_str(),
        v["reasoncode"].as_u64(),
        v["reasontext"].as_str(),
    )
}

/// The SBC's Identity value for a call from acme's A-level number (which must succeed).
pub async fn signed(sbc: &Sbc) -> String {
    let (status, body) = sbc.sign(ACME_A, "A").await;
    assert_eq!(status, 200, "{body}");
    body["signingResponse"]["identity"]
        .as_str()
        .unwrap()
        .to_owned()
}
