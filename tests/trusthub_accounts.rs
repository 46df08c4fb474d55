//! The Trust Hub API's accounts and phone numbers over real HTTP: accounts and
//! sub-accounts (create, list, filter, rename, suspend), and the operator's incoming
//! phone numbers (validation, duplicates, lists, fetch and delete).

mod common;

use common::api::*;

#[tokio::test]
async fn accounts_and_sub_accounts() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let (s, parent) = api
        .post(
            "/2010-04-01/Accounts.json",
            &op,
            &[("FriendlyName", "Parent")],
        )
        .await;
    assert_eq!(s, 201, "{parent}");
    assert_eq!(parent["auth_token"].as_str().unwrap().len(), 32);
    assert_eq!(parent["owner_account_sid"], parent["sid"]);
    assert_eq!(parent["status"], "active");
    assert!(parent["date_created"].as_str().unwrap().ends_with("+0000"));
    let p = Creds::new(
        parent["sid"].as_str().unwrap(),
        parent["auth_token"].as_str().unwrap(),
    );
    let sub = api.account(&p, "Sub").await;
    let (_, fetched) = api
        .get(&format!("/2010-04-01/Accounts/{}.json", sub.sid), &p, &[])
        .await;
    assert_eq!(fetched["owner_account_sid"], p.sid.as_str());
    assert_eq!(fetched["auth_token"], sub.token.as_str());

    // A sub-account cannot nest another level.
    let (s, body) = api.post("/2010-04-01/Accounts.json", &sub, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)));

    let other = api.account(&op, "Other").await;
    let (_, list) = api.get("/2010-04-01/Accounts.json", &p, &[]).await;
    assert_eq!(sids(&list, "accounts"), [p.sid.clone(), sub.sid.clone()]);
    assert_eq!(list["page_size"], 50);
    let (_, list) = api.get("/2010-04-01/Accounts.json", &op, &[]).await;
    assert_eq!(list["accounts"].as_array().unwrap().len(), 3);
    let (_, list) = api
        .get(
            "/2010-04-01/Accounts.json",
            &op,
            &[("FriendlyName", "Other")],
        )
        .await;
    assert_eq!(sids(&list, "accounts"), std::slice::from_ref(&other.sid));

    // The parent renames and suspends its sub-account; a suspended account cannot log in.
    let path = format!("/2010-04-01/Accounts/{}.json", sub.sid);
    let (s, body) = api.post(&path, &sub, &[("Status", "suspended")]).await;
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    let updated = api
        .ok(
            &path,
            &p,
            &[("FriendlyName", "Renamed"), ("Status", "suspended")],
        )
        .await;
    assert_eq!(updated["friendly_name"], "Renamed");
    let (s, body) = api.get(&path, &sub, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (401, Some(20005)));
    let refused = api.post(&path, &p, &[("Status", "paused")]).await;
    assert_refused(&refused, "paused");
}

#[tokio::test]
async fn incoming_phone_numbers() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "A").await;
    let path = format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", a.sid);
    let (s, n) = api
        .post(
            &path,
            &op,
            &[("PhoneNumber", "+12155550100"), ("FriendlyName", "main")],
        )
        .await;
    assert_eq!(s, 201, "{n}");
    assert_eq!(n["phone_number"], "+12155550100");
    assert_eq!(n["account_sid"], a.sid.as_str());
    let pn = n["sid"].as_str().unwrap().to_owned();

    for bad in [
        "2155550100",
        "+1215555010",
        "+1-call-me",
        "+999",
        "+1 (215) 555-0100",
    ] {
        let (s, body) = api.post(&path, &op, &[("PhoneNumber", bad)]).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(21421)),
            "{bad}: {body}"
        );
        assert!(body["message"].as_str().unwrap().contains(bad));
    }
    let (s, body) = api
        .post(&path, &op, &[("PhoneNumber", "+12155550100")])
        .await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(21422)));
    let (s, body) = api
        .post(&path, &a, &[("PhoneNumber", "+12155550101")])
        .await;
    // Only the operator creates numbers.
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");

    api.number(&a.sid, "+12155550199").await;
    let (_, list) = api.get(&path, &a, &[("PhoneNumber", "5550100")]).await;
    assert_eq!(
        sids(&list, "incoming_phone_numbers"),
        std::slice::from_ref(&pn)
    );
    let (_, list) = api.get(&path, &a, &[("PhoneNumber", "+1215555019*")]).await;
    assert_eq!(list["incoming_phone_numbers"].as_array().unwrap().len(), 1);
    let (_, list) = api.get(&path, &a, &[]).await;
    assert_eq!(list["incoming_phone_numbers"].as_array().unwrap().len(), 2);

    let one = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
        a.sid
    );
    let (s, got) = api.get(&one, &a, &[]).await;
    assert_eq!((s, got["friendly_name"].as_str()), (200, Some("main")));
    let (s, _) = api.delete(&one, &a).await;
    assert_eq!(s, 204);
    let (s, body) = api.get(&one, &a, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)));
    assert_eq!(
        api.preview(&a.sid, "+12155550100").await.1,
        "c_no_primary_profile"
    );
}

#[tokio::test]
async fn closing_an_account_is_final_and_stops_its_traffic() {
    let (h, api) = hub().await;
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let sub = api.account(&newco, "Newco support").await;
    let pn = api.number(&newco.sid, "+12155550171").await;
    api.number(&sub.sid, "+12155550172").await;
    api.trunk_at(&newco, "127.0.0.31").await;
    api.trunk_at(&sub, "127.0.0.32").await;
    let claims = common::signed_call(&h, "127.0.0.31", "2155550171", "2155550199", "open").await;
    assert_eq!(claims["attest"], "C", "its trunk's calls are signed");

    let path = |a: &Creds| format!("/2010-04-01/Accounts/{}.json", a.sid);
    let (s, closed) = api.post(&path(&newco), &op, &[("Status", "closed")]).await;
    assert_eq!((s, &closed["status"]), (200, &"closed".into()), "{closed}");
    let (_, sub_now) = api.get(&path(&sub), &op, &[]).await;
    assert_eq!(
        sub_now["status"], "closed",
        "its sub-account closes with it"
    );

    // Neither trunk takes a call; the numbers are released, free for another account.
    for (ip, call) in [("127.0.0.31", "closed-1"), ("127.0.0.32", "closed-2")] {
        assert_eq!(common::final_answer(&h, ip, call).await, 403, "{ip}");
    }
    for a in [&newco, &sub] {
        let numbers = format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", a.sid);
        let (_, list) = api.get(&numbers, &op, &[]).await;
        assert!(sids(&list, "incoming_phone_numbers").is_empty(), "{list}");
    }
    let (s, _) = api
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
                newco.sid
            ),
            &op,
            &[],
        )
        .await;
    assert_eq!(s, 404);
    let other = api.account(&op, "Other").await;
    api.number(&other.sid, "+12155550171").await;

    // Closed is final: reopening or suspending is refused, for either account.
    for (a, status) in [(&newco, "active"), (&newco, "suspended"), (&sub, "active")] {
        let (s, body) = api.post(&path(a), &op, &[("Status", status)]).await;
        assert_eq!((s, body["code"].as_u64()), (400, Some(20001)), "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("cannot be reopened"),
            "{body}"
        );
    }
    let (_, still) = api.get(&path(&newco), &op, &[]).await;
    assert_eq!(still["status"], "closed");
    // Nor is it given a number again, by the operator either.
    let numbers = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        newco.sid
    );
    let (s, body) = api
        .post(&numbers, &op, &[("PhoneNumber", "+12155550173")])
        .await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(20001)), "{body}");
    // And its credentials open nothing.
    let (s, body) = api.get(&path(&newco), &newco, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (401, Some(20005)), "{body}");
}
