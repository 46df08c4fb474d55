//! The Trust Hub API as a service over real HTTP: paging, request limits and
//! Twilio-shaped error bodies, the API being off in file mode, and the store behind it
//! across a restart, a reload and a broken seed.

mod common;

use common::api::*;
use common::*;
use serde_json::Value;

#[tokio::test]
async fn paging_follows_next_page_url() {
    let (_h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    for _ in 0..3 {
        api.end_user(&a, "authorized_representative_1").await;
    }
    let (_, first) = api.get("/v1/EndUsers", &a, &[("PageSize", "2")]).await;
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    assert_eq!(first["meta"]["page_size"], 2);
    let next = first["meta"]["next_page_url"].as_str().unwrap();
    let path = next
        .split_once("/v1/")
        .map(|(_, rest)| format!("/v1/{rest}"))
        .unwrap();
    let (s, second) = api.get(&path, &a, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(second["results"].as_array().unwrap().len(), 1);
    assert_eq!(second["meta"]["next_page_url"], Value::Null);
    assert!(second["meta"]["previous_page_url"].as_str().is_some());
    let refused = api.get("/v1/EndUsers", &a, &[("PageSize", "5000")]).await;
    assert_refused(&refused, "PageSize");
}

#[tokio::test]
async fn bad_requests_get_twilio_error_bodies() {
    let (h, api) = hub().await;
    let a = api.account(&Creds::operator(), "A").await;
    let (s, body) = api
        .post(
            "/v1/EndUsers",
            &a,
            &[("FriendlyName", "x"), ("Type", "t"), ("Colour", "blue")],
        )
        .await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(20001)));
    assert!(body["message"].as_str().unwrap().contains("Colour"));
    assert_eq!(
        body["more_info"],
        "https://www.twilio.com/docs/errors/20001"
    );
    assert_eq!(body["status"], 400);
    let (s, body) = api.get("/v1/CustomerProfiles/BUnot-a-sid", &a, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(20001)));
    let refused = api.get("/2010-04-01/Accounts/ACzz.json", &a, &[]).await;
    assert_refused(&refused, "ACzz");
    let refused = api
        .get("/v1/CustomerProfiles", &a, &[("Status", "approved")])
        .await;
    assert_refused(&refused, "approved");
    let big = "x".repeat(8192);
    let (s, body) = api
        .post("/v1/EndUsers", &a, &[("FriendlyName", &big)])
        .await;
    assert_eq!(s, 413, "{body}");
    let (s, _) = api.call("PUT", "/v1/EndUsers", Some(&a), &[]).await;
    assert_eq!(s, 405);
    let (s, body) = api.get("/v1/Nothing/Here", &a, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)));
    let refused = api
        .get(
            "/v1/Attestation",
            &a,
            &[("AccountSid", &a.sid), ("PhoneNumber", "911")],
        )
        .await;
    assert_refused(&refused, "911");
    drop(h);

    // In read-only file mode the Trust Hub API is off.
    let file_mode = TestServer::new().start().await;
    let (s, body) = Api::new(file_mode.http)
        .get("/v1/CustomerProfiles", &Creds::operator(), &[])
        .await;
    assert_eq!((s, body["code"].as_u64()), (503, Some(20503)));
}

#[tokio::test]
async fn committed_writes_survive_a_restart() {
    let (h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "A").await;
    let n = api.number(&a.sid, "+12155550121").await;
    let p = api.compliant_profile(&a, PRIMARY).await;
    api.assign(&a, PROFILES, &p, &n).await;
    api.approve(&a, PROFILES, &p).await;
    assert_eq!(api.preview(&a.sid, "+12155550121").await.0, "A");
    let h = h.restart(TestServer::new().store("{}")).await;
    let api = Api::new(h.http);
    assert_eq!(
        api.preview(&a.sid, "+12155550121").await,
        ("A".into(), "a_full".into())
    );
    let (s, _) = api.get(&format!("/v1/CustomerProfiles/{p}"), &a, &[]).await;
    assert_eq!(s, 200, "the account's token still works");
}

#[tokio::test]
async fn sighup_rebuilds_the_index_from_the_store() {
    let (h, api) = hub().await;
    let query = [("AccountSid", ACME), ("PhoneNumber", "+12155550121")];
    let (s, _) = api.get("/v1/Attestation", &Creds::operator(), &query).await;
    assert_eq!(s, 404);
    // An import into the running server's store (as `callsign trust import` does) ...
    let store = callsign::store::SqliteStore::open(
        &h.path("callsign.db"),
        callsign::store::Durability::Normal,
    )
    .unwrap();
    let mut data = callsign::trust::TrustData::from_json(TRUST).unwrap();
    callsign::store::prepare_import(&mut data, "2026-01-01T00:00:00Z");
    callsign::store::RecordStore::replace_all(&store, &data).unwrap();
    // The index does not know it yet ...
    assert_eq!(
        api.preview(ACME, "+12155550121").await.1,
        "c_unknown_account"
    );
    // ... is picked up on reload (SIGHUP).
    h.reload().await;
    assert_eq!(
        api.preview(ACME, "+12155550121").await,
        ("A".into(), "a_full".into())
    );
    h.assert_metric("callsign_trust_reloads_total{cause=\"ok\"} 1")
        .await;
}

#[tokio::test]
async fn a_broken_seed_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let result = TestServer::new()
        .store(r#"{"accounts": 7}"#)
        .try_start(dir.path())
        .await;
    // A seed that is not trust data is a trust-data problem, named as such.
    assert!(
        matches!(
            result,
            Err(callsign::daemon::ServeError::Trust(
                callsign::trust::TrustError::Json(_)
            ))
        ),
        "{result:?}"
    );
}
