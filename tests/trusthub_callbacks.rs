//! Status callbacks against a local receiver: each status change of a bundle with a
//! `StatusCallback` is POSTed there, a refused delivery is retried, and the API answers
//! without waiting for the receiver.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use common::api::*;
use common::*;
use tokio::sync::mpsc;

/// A receiver that refuses its first delivery with 500, then accepts; every body it
/// sees goes to the channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(Mutex::new(0u32));
    let app = Router::new().route(
        "/status",
        post(move |body: String| {
            let tx = tx.clone();
            let seen = Arc::clone(&seen);
            async move {
                let n = {
                    let mut n = seen.lock().unwrap();
                    *n += 1;
                    *n
                };
                let _ = tx.send(body);
                if n == 1 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/status", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> Vec<(String, String)> {
    let body = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a callback arrives")
        .unwrap();
    serde_urlencoded::from_str(&body).unwrap()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

#[tokio::test]
async fn status_changes_are_posted_and_retried() {
    let (_h, api) = hub_on(TestServer::new().local_callbacks()).await;
    let (url, mut rx) = receiver().await;
    let a = api.account(&Creds::operator(), "A").await;
    let p = api.bundle(&a, PROFILES, PRIMARY, Some(&url)).await;
    for t in [
        "customer_profile_business_information",
        "authorized_representative_1",
    ] {
        let it = api.end_user(&a, t).await;
        api.link(&a, PROFILES, &p, &it).await;
    }
    let rd = api.address_document(&a).await;
    api.link(&a, PROFILES, &p, &rd).await;
    api.move_to(&a, PROFILES, &p, "pending-review").await;

    // The first delivery is refused (500) and retried after the backoff.
    let first = next(&mut rx).await;
    let retry = next(&mut rx).await;
    assert_eq!(first, retry);
    assert_eq!(field(&first, "BundleSid"), p);
    assert_eq!(field(&first, "AccountSid"), a.sid);
    assert_eq!(field(&first, "Status"), "pending-review");

    let (s, _) = api
        .post(
            &format!("/v1/CustomerProfiles/{p}"),
            &Creds::operator(),
            &[("Status", "twilio-rejected"), ("Errors", r#"[{"code":1}]"#)],
        )
        .await;
    assert_eq!(s, 200);
    let rejected = next(&mut rx).await;
    assert_eq!(field(&rejected, "Status"), "twilio-rejected");
    assert_eq!(field(&rejected, "FailureReason"), r#"[{"code":1}]"#);

    // A field edit without a status change sends nothing: the next callback is the
    // resubmission that follows it.
    api.ok(
        &format!("/v1/CustomerProfiles/{p}"),
        &a,
        &[("FriendlyName", "renamed")],
    )
    .await;
    api.move_to(&a, PROFILES, &p, "pending-review").await;
    let resubmitted = next(&mut rx).await;
    assert_eq!(field(&resubmitted, "Status"), "pending-review");
    assert_eq!(field(&resubmitted, "BundleSid"), p);
}

#[tokio::test]
async fn an_unreachable_callback_does_not_delay_the_api() {
    let (_h, api) = hub_on(TestServer::new().local_callbacks()).await;
    // Nothing listens here: every attempt fails, and the API does not wait for them.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/gone", l.local_addr().unwrap())
    };
    let a = api.account(&Creds::operator(), "A").await;
    let p = api.compliant_profile(&a, PRIMARY).await;
    api.ok(
        &format!("/v1/CustomerProfiles/{p}"),
        &a,
        &[("StatusCallback", &dead)],
    )
    .await;
    let started = std::time::Instant::now();
    api.approve(&a, PROFILES, &p).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        api.preview(&a.sid, "+12155550100").await.1,
        "b_number_not_owned"
    );
}

#[tokio::test]
async fn callback_urls_the_outbound_policy_refuses_are_refused_at_write_time() {
    let (_h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    let p = api.bundle(&a, PROFILES, PRIMARY, None).await;
    // Over the 4000-character limit, and under the test server's 4096-byte body limit.
    let long = format!("https://example.com/{}", "a".repeat(3990));
    for bad in [
        "http://example.com/cb",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:secret@example.com/cb",
        "https://127.0.0.1/cb",
        "https://[::1]/cb",
        "https://10.0.0.5/cb",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]/cb",
        "not a url",
        long.as_str(),
    ] {
        let path = format!("/v1/CustomerProfiles/{p}");
        let (s, body) = api.post(&path, &a, &[("StatusCallback", bad)]).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(21609)),
            "{bad}: {body}"
        );
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("StatusCallback"), "{bad}: {message}");
        // Nothing was stored.
        let (_, got) = api.get(&path, &a, &[]).await;
        assert_eq!(got["status_callback"], serde_json::Value::Null, "{bad}");
        if bad.len() > 4000 {
            // With the create's other fields it passes the test server's body limit.
            continue;
        }
        let (s, body) = api
            .post(
                "/v1/CustomerProfiles",
                &a,
                &[
                    ("FriendlyName", "x"),
                    ("Email", "x@example.com"),
                    ("PolicySid", PRIMARY),
                    ("StatusCallback", bad),
                ],
            )
            .await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(21609)),
            "{bad}: {body}"
        );
    }
    // A public https URL, with a query, is taken.
    let good = "https://hooks.example.com/trusthub?customer=42";
    api.ok(
        &format!("/v1/CustomerProfiles/{p}"),
        &a,
        &[("StatusCallback", good)],
    )
    .await;
}
