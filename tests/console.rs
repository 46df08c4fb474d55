//! The operator console over real HTTP, as an attacker meets it: every page without the
//! operator's session answers 401 with the sign-in form; a form without a session, with
//! a bad CSRF token or from another origin is refused and changes nothing; the session
//! cookie is `HttpOnly` and `SameSite=Strict`; what customers wrote is escaped; signing
//! out ends the session. And the operator's review through it: a queued bundle, its
//! checks, a decision with a reason in the review log.

mod common;

use common::api::*;
use common::vetting::*;
use common::*;
use reqwest::redirect::Policy;

struct Browser {
    base: String,
    client: reqwest::Client,
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Browser {
    fn new(h: &Harness) -> Browser {
        Browser {
            base: format!("http://{}", h.http),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let resp = tokio::time::timeout(WAIT, req.send())
            .await
            .expect("the console answered in time")
            .unwrap();
        Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.send(req).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap());
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.send(req).await
    }

    /// Signs in as the operator; returns the session cookie (`name=value`).
    async fn sign_in(&self) -> String {
        let p = self
            .post(
                "/console/login",
                None,
                &[("sid", OPERATOR_SID), ("token", OPERATOR_TOKEN)],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
        assert_eq!(p.headers["location"], "/console/queue");
        let set = p.headers["set-cookie"].to_str().unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(set.contains(attribute), "{set}");
        }
        set.split(';').next().unwrap().to_owned()
    }
}

/// The CSRF token in a page's forms.
fn csrf(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    body[at + 19..at + 19 + 64].to_owned()
}

#[tokio::test]
async fn the_console_refuses_what_lacks_the_operators_session_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let (h, api) = vetting_hub(dir.path()).await;
    // A profile the workflow queues: someone else is on the representative's number.
    let (customer, p) = submit(&api, "27-1234567", "Robin").await;
    assert_eq!(decided(&api, &customer, &p).await["status"], "in-review");
    let b = Browser::new(&h);
    let bundle_page = format!("/console/bundles/{p}");
    let decision = format!("/console/bundles/{p}/decision");

    // No session, a made-up one, a customer's credential: the sign-in form, 401.
    let forged = format!("callsign_console={}", "ab".repeat(32));
    for (path, cookie) in [
        ("/console/queue", None),
        (bundle_page.as_str(), None),
        ("/console/accounts", Some(forged.as_str())),
        ("/console/calls", Some("callsign_console=<script>")),
    ] {
        let page = b.get(path, cookie).await;
        assert_eq!(page.status, 401, "{path}");
        assert!(page.body.contains("id=\"login\""), "{path}");
        assert!(!page.body.contains(p.as_str()), "{path} leaks the bundle");
    }
    let page = b
        .post(
            "/console/login",
            None,
            &[
                ("sid", customer.sid.as_str()),
                ("token", customer.token.as_str()),
            ],
        )
        .await;
    assert_eq!(page.status, 401);
    assert!(page.headers.get("set-cookie").is_none());

    // A browser under a `no-referrer` policy sends `Origin: null`, and says the post is
    // its own site's in `Sec-Fetch-Site`: signed in.
    let login = serde_urlencoded::to_string([("sid", OPERATOR_SID), ("token", OPERATOR_TOKEN)]);
    let page = b
        .send(
            b.client
                .post(format!("{}/console/login", b.base))
                .header("origin", "null")
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(login.unwrap()),
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let cookie = b.sign_in().await;
    let page = b.get(&bundle_page, Some(&cookie)).await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers["cache-control"], "no-store");
    let token = csrf(&page.body);

    // Refused, and the bundle stays in review: no session, a bad token, no token,
    // another origin, no reason, an unknown decision.
    let good = [
        ("csrf", token.as_str()),
        ("decision", "approve"),
        ("reason", "looks fine"),
    ];
    let wrong = "0".repeat(64);
    let long = "x".repeat(1025);
    let cross = b
        .send(
            b.client
                .post(format!("{}{decision}", b.base))
                .header("cookie", &cookie)
                .header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(good).unwrap()),
        )
        .await;
    assert_eq!(cross.status, 403);
    let cross_site = b
        .send(
            b.client
                .post(format!("{}{decision}", b.base))
                .header("cookie", &cookie)
                .header("sec-fetch-site", "cross-site")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(good).unwrap()),
        )
        .await;
    assert_eq!(cross_site.status, 403);
    for (cookie, form, status) in [
        (None, good.to_vec(), 401),
        (
            Some(cookie.as_str()),
            vec![
                ("csrf", wrong.as_str()),
                ("decision", "approve"),
                ("reason", "x"),
            ],
            403,
        ),
        (
            Some(cookie.as_str()),
            vec![("decision", "approve"), ("reason", "x")],
            403,
        ),
        (
            Some(cookie.as_str()),
            vec![
                ("csrf", token.as_str()),
                ("decision", "approve"),
                ("reason", "  "),
            ],
            400,
        ),
        (
            Some(cookie.as_str()),
            vec![
                ("csrf", token.as_str()),
                ("decision", "bless"),
                ("reason", "x"),
            ],
            400,
        ),
        (
            Some(cookie.as_str()),
            vec![
                ("csrf", token.as_str()),
                ("decision", "approve"),
                ("reason", long.as_str()),
            ],
            400,
        ),
    ] {
        let page = b.post(&decision, cookie, &form).await;
        assert_eq!(page.status, status, "{form:?}: {}", page.body);
    }
    let (_, now) = api
        .get(&format!("/v1/CustomerProfiles/{p}"), &customer, &[])
        .await;
    assert_eq!(now["status"], "in-review", "nothing changed");

    // The operator decides through the console; the log keeps the reason.
    let page = b.post(&decision, Some(&cookie), &good).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = b
        .get(page.headers["location"].to_str().unwrap(), Some(&cookie))
        .await;
    assert!(page.body.contains("id=\"flash\""), "{}", page.body);
    assert!(page.body.contains("twilio-approved"));
    let (_, log) = api
        .get(
            "/v1/ReviewLog",
            &Creds::operator(),
            &[("BundleSid", p.as_str())],
        )
        .await;
    let last = log["results"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["decided_by"].as_str(), last["reason"].as_str()),
        (Some("operator"), Some("looks fine"))
    );

    // Signing out ends the session: the old cookie is refused.
    let page = b
        .post(
            "/console/logout",
            Some(&cookie),
            &[("csrf", token.as_str())],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(b.get("/console/queue", Some(&cookie)).await.status, 401);
}

#[tokio::test]
async fn what_customers_wrote_is_escaped_and_pages_show_the_review() {
    let dir = tempfile::tempdir().unwrap();
    let (h, api) = vetting_hub(dir.path()).await;
    let (customer, p) = submit(&api, "27-1234567", "<script>alert(1)</script>").await;
    assert_eq!(decided(&api, &customer, &p).await["status"], "in-review");
    let b = Browser::new(&h);
    let cookie = b.sign_in().await;

    let queue = b.get("/console/queue", Some(&cookie)).await;
    assert_eq!(queue.status, 200);
    assert!(
        queue.body.contains(&format!("data-bundle=\"{p}\"")),
        "{}",
        queue.body
    );
    let page = b.get(&format!("/console/bundles/{p}"), Some(&cookie)).await;
    assert!(!page.body.contains("<script>alert(1)</script>"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The checks, the identity match and the deadline are there.
    assert!(page.body.contains("id=\"checks\""));
    assert!(
        page.body
            .contains("Identity match of authorized_representative_1")
    );
    assert!(page.body.contains("no_match"));
    assert!(page.body.contains("Deadline"));
    // Unknown and malformed SIDs are 404s, not errors.
    for path in [
        "/console/bundles/BU00000000000000000000000000000000",
        "/console/bundles/nope",
    ] {
        assert_eq!(b.get(path, Some(&cookie)).await.status, 404, "{path}");
    }
    // The account, its numbers, and the attestation preview.
    let page = b
        .get(
            &format!("/console/accounts/{}?number=%2B12155550111", customer.sid),
            Some(&cookie),
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("+12155550111"));
    assert!(page.body.contains("level: C"), "{}", page.body);
    let calls = b.get("/console/calls", Some(&cookie)).await;
    assert!(calls.body.contains("id=\"calls-chart\""));
    // The workflow's decision is counted on the vetting table.
    assert!(
        calls
            .body
            .contains("<td>workflow</td><td>in-review</td><td>1</td>"),
        "{}",
        calls.body
    );
}

/// What the console's forms and paths take from outside, each refused without change:
/// the operator's own credential posted from another site, SIDs that are malformed, of
/// another kind or unknown, a decision field given twice.
#[tokio::test]
async fn forged_origins_bad_sids_and_doubled_fields_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (h, api) = vetting_hub(dir.path()).await;
    let (customer, p) = submit(&api, "27-1234567", "Robin").await;
    assert_eq!(decided(&api, &customer, &p).await["status"], "in-review");
    let b = Browser::new(&h);

    let login =
        serde_urlencoded::to_string([("sid", OPERATOR_SID), ("token", OPERATOR_TOKEN)]).unwrap();
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let req = (b.client.post(format!("{}/console/login", b.base)))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(header, value)
            .body(login.clone());
        let page = b.send(req).await;
        assert_eq!(page.status, 403, "{header}: {value}");
        assert!(
            page.headers.get("set-cookie").is_none(),
            "{header}: {value}"
        );
    }

    let cookie = b.sign_in().await;
    let token = csrf(&b.get("/console/queue", Some(&cookie)).await.body);
    for sid in [
        "nope",
        "BU",
        &customer.sid,
        "BU00000000000000000000000000000000",
    ] {
        let path = format!("/console/bundles/{sid}/decision");
        let form = [
            ("csrf", token.as_str()),
            ("decision", "approve"),
            ("reason", "checked"),
        ];
        assert_eq!(
            b.post(&path, Some(&cookie), &form).await.status,
            404,
            "{sid}"
        );
        let page = format!("/console/bundles/{sid}");
        assert_eq!(b.get(&page, Some(&cookie)).await.status, 404, "{sid}");
    }
    for sid in ["nope", p.as_str(), "AC00000000000000000000000000000000"] {
        let page = format!("/console/accounts/{sid}");
        assert_eq!(b.get(&page, Some(&cookie)).await.status, 404, "{sid}");
    }
    let doubled = [
        ("csrf", token.as_str()),
        ("decision", "reject"),
        ("decision", "approve"),
        ("reason", "checked"),
    ];
    let path = format!("/console/bundles/{p}/decision");
    let page = b.post(&path, Some(&cookie), &doubled).await;
    assert!((400..500).contains(&page.status), "{}", page.status);

    let (_, bundle) = api
        .get(&format!("/v1/CustomerProfiles/{p}"), &customer, &[])
        .await;
    assert_eq!(bundle["status"], "in-review", "nothing decided");
}
