//! Automated vetting's fixtures: a server vetting against subscriber records, and a
//! customer's Primary profile that passes the default workflow, or fails it where the
//! test says.

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};

use super::api::*;
use super::*;

/// The representative's number, on the account, in the subscriber records.
pub const REP_PHONE: &str = "+12155550111";
pub const RECORDS: &str = "\
phone_number,first_name,last_name,address_line1,city,state,postal_code,address_country_code
+12155550111,Dana,Whitfield,200 Commerce Street,Philadelphia,PA,19103,US
+442071838750,Oliver,Bennett,10 Downing St,London,,SW1A 2AA,GB
";

/// A vetting server whose subscriber records are [`RECORDS`], in `dir`.
pub async fn vetting_hub(dir: &Path) -> (Harness, Api) {
    let records = dir.join("subscribers.csv");
    std::fs::write(&records, RECORDS).unwrap();
    hub_on(TestServer::new().vetting(|v| v.subscriber_records = Some(records))).await
}

pub fn business(ein: &str) -> String {
    json!({
        "business_name": "Whitfield Logistics LLC",
        "business_type": "Limited Liability Corporation",
        "business_registration_identifier": "EIN",
        "business_registration_number": ein,
        "business_identity": "direct_customer",
        "business_industry": "TRANSPORTATION",
        "website_url": "https://whitfield-logistics.com",
        "business_regions_of_operation": "USA_AND_CANADA",
    })
    .to_string()
}

pub fn representative(first_name: &str) -> String {
    json!({
        "first_name": first_name,
        "last_name": "Whitfield",
        "email": "dana@whitfield-logistics.com",
        "phone_number": REP_PHONE,
        "business_title": "Owner",
        "job_position": "CEO",
        "address_line1": "200 Commerce St",
    })
    .to_string()
}

/// A new account (the first with [`REP_PHONE`]: numbers are unique) and its submitted
/// Primary profile; returns the account and the profile.
pub async fn submit(api: &Api, ein: &str, first_name: &str) -> (Creds, String) {
    let op = Creds::operator();
    let a = api.account(&op, "Whitfield").await;
    let _ = api
        .post(
            &format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", a.sid),
            &op,
            &[("PhoneNumber", REP_PHONE)],
        )
        .await;
    let p = api.bundle(&a, PROFILES, PRIMARY, None).await;
    for (t, attributes) in [
        ("customer_profile_business_information", business(ein)),
        ("authorized_representative_1", representative(first_name)),
    ] {
        linked_end_user(api, &a, &p, t, &attributes).await;
    }
    let address = api.address_document(&a).await;
    api.link(&a, PROFILES, &p, &address).await;
    let path = format!("/v1/CustomerProfiles/{p}");
    let b = api.ok(&path, &a, &[("Status", "pending-review")]).await;
    assert_eq!(b["status"], "pending-review");
    (a, p)
}

/// Polls the profile until the workflow has decided (bounded); returns it.
pub async fn decided(api: &Api, a: &Creds, p: &str) -> Value {
    left(api, a, PROFILES, p, "pending-review").await
}

/// Polls the bundle `sid` (of `kind`, [`PROFILES`] or [`PRODUCTS`]) as `c` until its
/// status is no longer `from`, for at most [`WAIT`]; returns it.
pub async fn left(api: &Api, c: &Creds, kind: &str, sid: &str, from: &str) -> Value {
    let path = format!("/v1/{kind}/{sid}");
    let since = std::time::Instant::now();
    loop {
        let (status, bundle) = api.get(&path, c, &[]).await;
        assert_eq!(status, 200, "{bundle}");
        if bundle["status"] != from {
            return bundle;
        }
        assert!(since.elapsed() < WAIT, "{sid} still {from} after {WAIT:?}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// An end user of `kind` with `attributes` (JSON), made by `a` and linked to its
/// profile `p`.
pub async fn linked_end_user(api: &Api, a: &Creds, p: &str, kind: &str, attributes: &str) {
    let form = [
        ("FriendlyName", kind),
        ("Type", kind),
        ("Attributes", attributes),
    ];
    let user = api.ok("/v1/EndUsers", a, &form).await;
    api.link(a, PROFILES, p, user["sid"].as_str().unwrap())
        .await;
}

/// A store-mode server on an empty store, vetting automatically against the subscriber
/// records at `records`, whose calls go to the SIPp UAS at `uas`.
pub fn calling_server(uas: SocketAddr, records: &Path) -> TestServer {
    let records = records.to_owned();
    TestServer::new()
        .store("{}")
        .upstream_at(uas)
        .vetting(move |v| v.subscriber_records = Some(records))
}
