//! A Trust Hub API client for tests: basic-auth requests over real HTTP, and builders
//! for the usual steps (accounts, numbers, bundles, end users, assignments, reviews).

use std::net::SocketAddr;

use serde_json::Value;

use super::{Harness, OPERATOR_SID, OPERATOR_TOKEN, TestServer};

pub const PRIMARY: &str = "RN6433641899984f951173ef1738c3bdd0";
pub const SECONDARY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
pub const SHAKEN: &str = "RN7a97559effdf62d00f4298208492a5ea";

/// Basic-auth credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub sid: String,
    pub token: String,
}

impl Creds {
    pub fn new(sid: &str, token: &str) -> Creds {
        Creds {
            sid: sid.into(),
            token: token.into(),
        }
    }
    pub fn operator() -> Creds {
        Creds::new(OPERATOR_SID, OPERATOR_TOKEN)
    }
}

/// A store-mode server on an empty store, and a client for it (keep the harness).
pub async fn hub() -> (Harness, Api) {
    hub_on(TestServer::new()).await
}

/// [`hub`], built from `server`.
pub async fn hub_on(server: TestServer) -> (Harness, Api) {
    let h = server.store("{}").start().await;
    let api = Api::new(h.http);
    (h, api)
}

/// Asserts that a request was refused as invalid (400, Twilio code 20001) with a
/// message that says `why`.
#[track_caller]
pub fn assert_refused(response: &(u16, Value), why: &str) {
    let (status, body) = response;
    assert_eq!(
        (*status, body["code"].as_u64()),
        (400, Some(20001)),
        "{body}"
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "no {why:?} in {body}");
}

/// The SIDs in the list `key` of a list response, in order.
pub fn sids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap_or_else(|| panic!("no list {key:?} in {list}"))
        .iter()
        .map(|r| r["sid"].as_str().unwrap().to_owned())
        .collect()
}

/// The JSON paths (`$.results[0].links.evaluations`) of every field of `value` whose name
/// or value contains one of `secrets`, so that a failure names the field.
pub fn leaks(value: &Value, secrets: &[String]) -> Vec<String> {
    fn walk(v: &Value, path: String, secrets: &[String], out: &mut Vec<String>) {
        let hit = |text: &str| secrets.iter().any(|s| text.contains(s.as_str()));
        match v {
            Value::Object(map) => {
                for (name, child) in map {
                    let path = format!("{path}.{name}");
                    if hit(name) {
                        out.push(path.clone());
                    }
                    walk(child, path, secrets, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{path}[{i}]"), secrets, out);
                }
            }
            Value::String(s) if hit(s) => out.push(path),
            Value::Number(n) if hit(&n.to_string()) => out.push(path),
            _ => {}
        }
    }
    assert!(
        secrets.iter().all(|s| !s.is_empty()),
        "an empty secret matches everything"
    );
    let mut out = Vec::new();
    walk(value, "$".into(), secrets, &mut out);
    out
}

/// An address SID for business-address documents (callsign checks its form only).
pub const ADDRESS: &str = "AD0123456789abcdef0123456789abcdef";

/// A `multipart/form-data` body of text `fields` and an optional `file` (name, declared
/// type, bytes): the content type (with its boundary) and the bytes.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "callsign-test-boundary-7d0e";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"File\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub struct Api {
    base: String,
    client: reqwest::Client,
}

/// `CustomerProfiles` or `TrustProducts`.
pub const PROFILES: &str = "CustomerProfiles";
pub const PRODUCTS: &str = "TrustProducts";

impl Api {
    pub fn new(http: SocketAddr) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            base: format!("http://{http}"),
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        creds: Option<&Creds>,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut url = format!("{}{path}", self.base);
        if method == reqwest::Method::GET && !form.is_empty() {
            url = format!("{url}?{}", serde_urlencoded::to_string(form).unwrap());
        }
        let mut req = self.client.request(method.clone(), url);
        if let Some(c) = creds {
            req = req.basic_auth(&c.sid, Some(&c.token));
        }
        if !form.is_empty() && method != reqwest::Method::GET {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap());
        }
        let resp = tokio::time::timeout(super::WAIT, req.send())
            .await
            .expect("API answered in time")
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    pub async fn get(&self, path: &str, c: &Creds, q: &[(&str, &str)]) -> (u16, Value) {
        self.call("GET", path, Some(c), q).await
    }
    pub async fn post(&self, path: &str, c: &Creds, form: &[(&str, &str)]) -> (u16, Value) {
        self.call("POST", path, Some(c), form).await
    }
    pub async fn delete(&self, path: &str, c: &Creds) -> (u16, Value) {
        self.call("DELETE", path, Some(c), &[]).await
    }

    /// POST that must succeed; returns the body.
    pub async fn ok(&self, path: &str, c: &Creds, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.post(path, c, form).await;
        assert!(
            status == 200 || status == 201,
            "POST {path} {form:?} -> {status} {body}"
        );
        body
    }

    /// Creates an account (a sub-account when `as_` is an account); returns its creds.
    /// A trunk of `who` admitting calls from `ip` through a new access list: its SID.
    pub async fn trunk_at(&self, who: &Creds, ip: &str) -> String {
        let sid = |v: Value| v["sid"].as_str().expect("a sid").to_owned();
        let trunk = sid(self.ok("/v1/Trunks", who, &[("FriendlyName", "PBX")]).await);
        let lists = format!(
            "/2010-04-01/Accounts/{}/SIP/IpAccessControlLists.json",
            who.sid
        );
        let list = sid(self.ok(&lists, who, &[("FriendlyName", "office")]).await);
        let addresses = format!(
            "/2010-04-01/Accounts/{}/SIP/IpAccessControlLists/{list}/IpAddresses.json",
            who.sid
        );
        self.ok(
            &addresses,
            who,
            &[("FriendlyName", "pbx"), ("IpAddress", ip)],
        )
        .await;
        let uses = format!("/v1/Trunks/{trunk}/IpAccessControlLists");
        self.ok(&uses, who, &[("IpAccessControlListSid", &list)])
            .await;
        trunk
    }

    pub async fn account(&self, as_: &Creds, name: &str) -> Creds {
        let body = self
            .ok("/2010-04-01/Accounts.json", as_, &[("FriendlyName", name)])
            .await;
        Creds::new(
            body["sid"].as_str().unwrap(),
            body["auth_token"].as_str().unwrap(),
        )
    }

    /// The operator gives `account` the number `e164`; returns its `PN…`.
    pub async fn number(&self, account: &str, e164: &str) -> String {
        let path = format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json");
        let body = self
            .ok(&path, &Creds::operator(), &[("PhoneNumber", e164)])
            .await;
        body["sid"].as_str().unwrap().to_owned()
    }

    /// [`Api::number`], with a friendly name.
    pub async fn number_named(&self, account: &str, e164: &str, name: &str) -> String {
        let path = format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json");
        let form = [("PhoneNumber", e164), ("FriendlyName", name)];
        let body = self.ok(&path, &Creds::operator(), &form).await;
        body["sid"].as_str().unwrap().to_owned()
    }

    pub async fn bundle(
        &self,
        c: &Creds,
        kind: &str,
        policy: &str,
        callback: Option<&str>,
    ) -> String {
        let mut form = vec![
            ("FriendlyName", "test bundle"),
            ("Email", "ops@example.com"),
            ("PolicySid", policy),
        ];
        if let Some(url) = callback {
            form.push(("StatusCallback", url));
        }
        let body = self.ok(&format!("/v1/{kind}"), c, &form).await;
        body["sid"].as_str().unwrap().to_owned()
    }

    pub async fn end_user(&self, c: &Creds, kind: &str) -> String {
        let body = self
            .ok(
                "/v1/EndUsers",
                c,
                &[
                    ("FriendlyName", kind),
                    ("Type", kind),
                    ("Attributes", r#"{"business_name":"Acme"}"#),
                ],
            )
            .await;
        body["sid"].as_str().unwrap().to_owned()
    }

    /// Creates a supporting document of `kind` with `attributes`; returns its SID.
    pub async fn document(&self, c: &Creds, kind: &str, attributes: &Value) -> String {
        let attributes = attributes.to_string();
        let body = self
            .ok(
                "/v1/SupportingDocuments",
                c,
                &[
                    ("FriendlyName", kind),
                    ("Type", kind),
                    ("Attributes", &attributes),
                ],
            )
            .await;
        body["sid"].as_str().unwrap().to_owned()
    }

    /// A business-address document naming one address, as customer profiles need.
    pub async fn address_document(&self, c: &Creds) -> String {
        let attributes = serde_json::json!({"address_sids": ADDRESS});
        self.document(c, "customer_profile_address", &attributes)
            .await
    }

    /// Posts a `multipart/form-data` body of `fields` and `file` (name, declared type,
    /// bytes) to `path`, as `curl -F` does; returns the status and the JSON body.
    pub async fn upload(
        &self,
        path: &str,
        c: Option<&Creds>,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> (u16, Value) {
        let (content_type, body) = multipart(fields, file);
        self.raw("POST", path, c, &content_type, body).await
    }

    /// Sends `body` as `content_type`; returns the status and the JSON body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        c: Option<&Creds>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(c) = c {
            req = req.basic_auth(&c.sid, Some(&c.token));
        }
        let resp = tokio::time::timeout(super::WAIT, req.send())
            .await
            .expect("API answered in time")
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// GET of a file whose body is left unread: the status and the response, which
    /// keeps the connection (and the server's transfer) open until it is dropped.
    pub async fn start_download(&self, path: &str, c: &Creds) -> (u16, reqwest::Response) {
        // A client of its own, so that the connection is not pooled for other requests.
        let req = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .basic_auth(&c.sid, Some(&c.token));
        let resp = tokio::time::timeout(super::WAIT, req.send())
            .await
            .expect("API answered in time")
            .unwrap();
        (resp.status().as_u16(), resp)
    }

    /// GET of a file: the status, the headers and the bytes.
    pub async fn download(
        &self,
        path: &str,
        c: &Creds,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let (status, resp) = self.start_download(path, c).await;
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().await.unwrap().to_vec())
    }

    /// Links `object` (an end user or a bundle) to `bundle`; returns the status and body.
    pub async fn try_link(
        &self,
        c: &Creds,
        kind: &str,
        bundle: &str,
        object: &str,
    ) -> (u16, Value) {
        let path = format!("/v1/{kind}/{bundle}/EntityAssignments");
        self.post(&path, c, &[("ObjectSid", object)]).await
    }

    /// [`Api::try_link`] that must succeed; returns the assignment.
    pub async fn link(&self, c: &Creds, kind: &str, bundle: &str, object: &str) -> Value {
        let (status, body) = self.try_link(c, kind, bundle, object).await;
        assert_eq!(status, 201, "link {object} to {bundle}: {body}");
        body
    }

    /// Assigns the phone number `pn` to `bundle`; returns the status and body.
    pub async fn try_assign(&self, c: &Creds, kind: &str, bundle: &str, pn: &str) -> (u16, Value) {
        let path = format!("/v1/{kind}/{bundle}/ChannelEndpointAssignments");
        let form = [
            ("ChannelEndpointType", "phone-number"),
            ("ChannelEndpointSid", pn),
        ];
        self.post(&path, c, &form).await
    }

    /// [`Api::try_assign`] that must succeed; returns the assignment.
    pub async fn assign(&self, c: &Creds, kind: &str, bundle: &str, pn: &str) -> Value {
        let (status, body) = self.try_assign(c, kind, bundle, pn).await;
        assert_eq!(status, 201, "assign {pn} to {bundle}: {body}");
        body
    }

    pub async fn set_status(
        &self,
        c: &Creds,
        kind: &str,
        bundle: &str,
        status: &str,
    ) -> (u16, Value) {
        self.post(&format!("/v1/{kind}/{bundle}"), c, &[("Status", status)])
            .await
    }

    /// [`Api::set_status`] that must succeed.
    pub async fn move_to(&self, c: &Creds, kind: &str, bundle: &str, status: &str) {
        let (s, body) = self.set_status(c, kind, bundle, status).await;
        assert_eq!(s, 200, "{bundle} -> {status}: {body}");
        assert_eq!(body["status"], status, "{body}");
    }

    /// A draft customer profile with both end users and an address document attached
    /// (ready to submit).
    pub async fn compliant_profile(&self, c: &Creds, policy: &str) -> String {
        let p = self.bundle(c, PROFILES, policy, None).await;
        for t in [
            "customer_profile_business_information",
            "authorized_representative_1",
        ] {
            let it = self.end_user(c, t).await;
            self.link(c, PROFILES, &p, &it).await;
        }
        let rd = self.address_document(c).await;
        self.link(c, PROFILES, &p, &rd).await;
        p
    }

    /// Submits (as `c`) and approves (as the operator) a bundle.
    pub async fn approve(&self, c: &Creds, kind: &str, bundle: &str) {
        self.move_to(c, kind, bundle, "pending-review").await;
        self.move_to(&Creds::operator(), kind, bundle, "twilio-approved")
            .await;
    }

    /// `(attest, reason)` from the preview endpoint, as the operator.
    pub async fn preview(&self, account: &str, number: &str) -> (String, String) {
        let (s, b) = self
            .get(
                "/v1/Attestation",
                &Creds::operator(),
                &[("AccountSid", account), ("PhoneNumber", number)],
            )
            .await;
        assert_eq!(s, 200, "{b}");
        (
            b["attest"].as_str().unwrap().to_owned(),
            b["reason"].as_str().unwrap().to_owned(),
        )
    }
}
