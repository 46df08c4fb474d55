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
