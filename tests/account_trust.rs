//! Account trust over real SIP and HTTP: the operator suspends an account for a stated
//! cause and its calls (and its sub-account's) are signed C, or refused with
//! `[signing] suspended_status`, and its API requests are refused, until it is
//! reinstated; an exposed auth token is rotated through Accounts v1's `AuthTokens`, and
//! the old one is refused at once.

mod common;

use common::api::*;
use common::*;

fn account_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{sid}.json")
}

#[tokio::test]
async fn a_suspended_account_signs_c_until_it_is_reinstated() {
    let h = TestServer::new().store(TRUST).start().await;
    let api = Api::new(h.http);
    let op = Creds::operator();
    let attest = |call: &'static str, ip: &'static str| {
        let h = &h;
        async move { signed_call(h, ip, "2155550121", "2155550199", call).await["attest"].clone() }
    };
    assert_eq!(attest("before", "127.0.0.1").await, "A");

    // Suspended for a stated cause: its calls and its sub-account's get nothing of its
    // vetting.
    let body = api
        .ok(
            &account_path(ACME),
            &op,
            &[
                ("Status", "suspended"),
                ("SuspensionCause", "account_takeover"),
            ],
        )
        .await;
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["suspension_cause"], "account_takeover");
    assert_eq!(attest("suspended", "127.0.0.1").await, "C");
    assert_eq!(attest("suspended-sub", "127.0.0.2").await, "C");
    h.assert_metric("callsign_calls_signed_total{level=\"C\",reason=\"c_account_suspended\"} 2")
        .await;

    // Bad requests change nothing.
    for (form, code) in [
        (vec![("SuspensionCause", "fraud")], 400),
        (
            vec![("Status", "suspended"), ("SuspensionCause", "bored")],
            400,
        ),
        (
            vec![("Status", "active"), ("SuspensionCause", "fraud")],
            400,
        ),
    ] {
        let (s, body) = api.post(&account_path(ACME), &op, &form).await;
        assert_eq!(s, code, "{form:?}: {body}");
    }
    let (_, body) = api.get(&account_path(ACME), &op, &[]).await;
    assert_eq!(body["suspension_cause"], "account_takeover");

    // Reinstated: A again, and the cause is gone.
    let body = api
        .ok(&account_path(ACME), &op, &[("Status", "active")])
        .await;
    assert_eq!(body["status"], "active");
    assert!(body.get("suspension_cause").is_none(), "{body}");
    assert_eq!(attest("reinstated", "127.0.0.1").await, "A");
}

#[tokio::test]
async fn a_suspended_account_can_be_refused_instead() {
    let h = TestServer::new()
        .store(TRUST)
        .suspended_status(403)
        .start()
        .await;
    let api = Api::new(h.http);
    api.ok(
        &account_path(ACME),
        &Creds::operator(),
        &[("Status", "suspended"), ("SuspensionCause", "fraud")],
    )
    .await;
    assert_eq!(final_answer(&h, "127.0.0.1", "refused").await, 403);
    h.assert_metric("callsign_requests_rejected_total{cause=\"account_suspended\"} 1")
        .await;
}

#[tokio::test]
async fn suspension_refuses_the_api_and_an_exposed_token_is_rotated() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "Exposed Co").await;
    let sub = api.account(&a, "Exposed Co support").await;
    let accounts = "/2010-04-01/Accounts.json";
    assert_eq!(api.get(accounts, &a, &[]).await.0, 200);

    // Only the operator states a cause; a suspended account, and its sub-account, are
    // refused until reinstated.
    let (s, _) = api
        .post(
            &account_path(&sub.sid),
            &a,
            &[("Status", "suspended"), ("SuspensionCause", "fraud")],
        )
        .await;
    assert_eq!(s, 403);
    api.ok(
        &account_path(&a.sid),
        &op,
        &[
            ("Status", "suspended"),
            ("SuspensionCause", "exposed_credentials"),
        ],
    )
    .await;
    for who in [&a, &sub] {
        let (s, body) = api.get(accounts, who, &[]).await;
        assert_eq!((s, body["code"].as_u64()), (401, Some(20005)), "{body}");
    }
    api.ok(&account_path(&a.sid), &op, &[("Status", "active")])
        .await;
    assert_eq!(api.get(accounts, &sub, &[]).await.0, 200);

    // The account makes a second token: both work until it is promoted, then only the
    // new one does.
    let secondary = api.ok("/v1/AuthTokens/Secondary", &a, &[]).await;
    assert_eq!(secondary["account_sid"], a.sid.as_str());
    let token = secondary["secondary_auth_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(token, a.token);
    let new = Creds::new(&a.sid, &token);
    assert_eq!(api.get(accounts, &a, &[]).await.0, 200);
    assert_eq!(api.get(accounts, &new, &[]).await.0, 200);
    let (s, _) = api.post("/v1/AuthTokens/Secondary", &a, &[]).await;
    assert_eq!(s, 400, "a second secondary token");
    let promoted = api.ok("/v1/AuthTokens/Promote", &new, &[]).await;
    assert_eq!(promoted["auth_token"], token.as_str());
    assert_eq!(api.get(accounts, &a, &[]).await.0, 401, "the old token");
    assert_eq!(api.get(accounts, &new, &[]).await.0, 200);
    let (s, _) = api.post("/v1/AuthTokens/Promote", &new, &[]).await;
    assert_eq!(s, 400, "nothing to promote");
    assert_eq!(api.delete("/v1/AuthTokens/Secondary", &new).await.0, 404);

    // The operator rotates an account's token for it; an account cannot for another.
    let (s, _) = api
        .post(
            "/v1/AuthTokens/Secondary",
            &new,
            &[("AccountSid", sub.sid.as_str())],
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(api.post("/v1/AuthTokens/Promote", &op, &[]).await.0, 400);
    for (account, status) in [
        ("AC00000000000000000000000000000077", 404),
        ("not-a-sid", 400),
        ("PN00000000000000000000000000000001", 400),
    ] {
        let (s, body) = api
            .post("/v1/AuthTokens/Secondary", &op, &[("AccountSid", account)])
            .await;
        assert_eq!(s, status, "{account}: {body}");
    }
    let for_sub = [("AccountSid", sub.sid.as_str())];
    let made = api.ok("/v1/AuthTokens/Secondary", &op, &for_sub).await;
    let rotated = Creds::new(&sub.sid, made["secondary_auth_token"].as_str().unwrap());
    api.ok("/v1/AuthTokens/Promote", &op, &for_sub).await;
    assert_eq!(api.get(accounts, &sub, &[]).await.0, 401);
    assert_eq!(api.get(accounts, &rotated, &[]).await.0, 200);
    // A deleted secondary token is refused at once.
    let made = api.ok("/v1/AuthTokens/Secondary", &rotated, &[]).await;
    let spare = Creds::new(&sub.sid, made["secondary_auth_token"].as_str().unwrap());
    assert_eq!(api.get(accounts, &spare, &[]).await.0, 200);
    assert_eq!(
        api.delete("/v1/AuthTokens/Secondary", &rotated).await.0,
        204
    );
    assert_eq!(api.get(accounts, &spare, &[]).await.0, 401);
}
