//! The Trust Hub API's bundles over real HTTP: the customer-profile lifecycle with its
//! legal and illegal transitions, evaluations, the trust product added when a Primary
//! is approved, and end users and policies.

mod common;

use common::api::*;
use serde_json::Value;

#[tokio::test]
async fn bundle_lifecycle_legal_and_illegal_transitions() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "A").await;
    let (s, body) = api
        .post(
            "/v1/CustomerProfiles",
            &a,
            &[
                ("FriendlyName", "x"),
                ("Email", "e@x"),
                ("PolicySid", SHAKEN),
            ],
        )
        .await;
    assert_eq!(
        s, 400,
        "a trust-product policy is not a profile policy: {body}"
    );
    let refused = api
        .post(
            "/v1/CustomerProfiles",
            &a,
            &[("FriendlyName", "x"), ("PolicySid", PRIMARY)],
        )
        .await;
    assert_refused(&refused, "Email");

    let p = api.bundle(&a, PROFILES, PRIMARY, None).await;
    let path = format!("/v1/CustomerProfiles/{p}");
    let (_, b) = api.get(&path, &a, &[]).await;
    assert_eq!(b["status"], "draft");
    assert_eq!(b["policy_sid"], PRIMARY);
    assert!(
        b["links"]["customer_profiles_entity_assignments"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/CustomerProfiles/{p}/EntityAssignments"))
    );
    assert_eq!(b["valid_until"], Value::Null);
    api.ok(&path, &a, &[("FriendlyName", "Acme primary")]).await;

    // Evaluations say what is missing; a noncompliant bundle cannot be submitted.
    let eval_path = format!("{path}/Evaluations");
    let e = api.ok(&eval_path, &a, &[("PolicySid", PRIMARY)]).await;
    assert_eq!(e["status"], "noncompliant");
    assert_eq!(e["customer_profile_sid"], p.as_str());
    assert_eq!(e["results"][0]["passed"], false);
    assert!(
        e["results"][0]["failure_reason"]
            .as_str()
            .unwrap()
            .contains("customer_profile_business_information")
    );
    let refused = api.set_status(&a, PROFILES, &p, "pending-review").await;
    assert_refused(&refused, "noncompliant");
    for t in [
        "customer_profile_business_information",
        "authorized_representative_1",
    ] {
        let it = api.end_user(&a, t).await;
        api.link(&a, PROFILES, &p, &it).await;
    }
    // The business address is the last requirement missing.
    let e1 = api.ok(&eval_path, &a, &[("PolicySid", PRIMARY)]).await;
    assert_eq!(e1["status"], "noncompliant");
    assert_eq!(
        e1["results"][2]["requirement_name"],
        "customer_profile_address"
    );
    assert_eq!(e1["results"][2]["passed"], false);
    let rd = api.address_document(&a).await;
    api.link(&a, PROFILES, &p, &rd).await;
    let e2 = api.ok(&eval_path, &a, &[("PolicySid", PRIMARY)]).await;
    assert_eq!(e2["status"], "compliant");
    assert_eq!(e2["results"][2]["valid"][0], rd.as_str());
    let (_, list) = api.get(&eval_path, &a, &[]).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 3);
    let (s, fetched) = api
        .get(
            &format!("{eval_path}/{}", e["sid"].as_str().unwrap()),
            &a,
            &[],
        )
        .await;
    assert_eq!((s, fetched["status"].as_str()), (200, Some("noncompliant")));
    // An evaluation uses the bundle's own policy.
    let refused = api.post(&eval_path, &a, &[("PolicySid", SECONDARY)]).await;
    assert_refused(&refused, "is not the policy of");

    // draft -> pending-review by the customer; then the bundle is locked (60711).
    let (s, b) = api.set_status(&a, PROFILES, &p, "pending-review").await;
    assert_eq!((s, b["status"].as_str()), (200, Some("pending-review")));
    let (s, body) = api.post(&path, &a, &[("FriendlyName", "changed")]).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)), "{body}");
    let it = api.end_user(&a, "authorized_representative_2").await;
    let (s, body) = api.try_link(&a, PROFILES, &p, &it).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)), "{body}");
    let (s, body) = api.delete(&path, &a).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)));

    // Review statuses are the operator's.
    for status in ["in-review", "twilio-approved", "twilio-rejected"] {
        let (s, body) = api.set_status(&a, PROFILES, &p, status).await;
        assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    }
    let (s, body) = api
        .post(&path, &a, &[("ValidUntil", "2099-01-01T00:00:00Z")])
        .await;
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    let (s, _) = api.set_status(&op, PROFILES, &p, "in-review").await;
    assert_eq!(s, 200);
    let (s, b) = api
        .post(
            &path,
            &op,
            &[
                ("Status", "twilio-approved"),
                ("ValidUntil", "2099-01-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["valid_until"], "2099-01-01T00:00:00Z");

    // Illegal moves, for anyone.
    for (who, status) in [
        (&a, "pending-review"),
        (&op, "draft"),
        (&op, "pending-review"),
    ] {
        let (s, body) = api.set_status(who, PROFILES, &p, status).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(20001)),
            "{status}: {body}"
        );
    }
    let refused = api.set_status(&a, PROFILES, &p, "cancelled").await;
    assert_refused(&refused, "cancelled");

    // The operator revokes with errors; the customer fixes and resubmits.
    let (s, b) = api
        .post(
            &path,
            &op,
            &[
                ("Status", "twilio-rejected"),
                ("Errors", r#"[{"code":22215,"message":"bad EIN"}]"#),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["errors"][0]["code"], 22215);
    api.ok(&path, &a, &[("Email", "fixed@example.com")]).await;
    let (s, _) = api.set_status(&a, PROFILES, &p, "pending-review").await;
    assert_eq!(s, 200);
    let (s, _) = api.set_status(&op, PROFILES, &p, "twilio-rejected").await;
    assert_eq!(s, 200);

    // Lists filter by status, name and policy; a rejected bundle can be deleted.
    let draft = api.bundle(&a, PROFILES, PRIMARY, None).await;
    let (_, list) = api
        .get("/v1/CustomerProfiles", &a, &[("Status", "twilio-rejected")])
        .await;
    assert_eq!(sids(&list, "results"), std::slice::from_ref(&p));
    assert_eq!(list["meta"]["key"], "results");
    let (_, list) = api
        .get(
            "/v1/CustomerProfiles",
            &a,
            &[("FriendlyName", "test bundle")],
        )
        .await;
    assert_eq!(sids(&list, "results"), std::slice::from_ref(&draft));
    let (_, list) = api
        .get("/v1/CustomerProfiles", &a, &[("PolicySid", SECONDARY)])
        .await;
    assert!(sids(&list, "results").is_empty());
    let (s, _) = api.delete(&path, &a).await;
    assert_eq!(s, 204);
    let (s, _) = api.get(&path, &a, &[]).await;
    assert_eq!(s, 404);
    let (s, _) = api
        .get(&format!("/v1/TrustProducts/{draft}"), &a, &[])
        .await;
    assert_eq!(s, 404, "a profile is not found under TrustProducts");
}

#[tokio::test]
async fn approving_a_primary_adds_an_approved_shaken_stir_product() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "A").await;
    let n1 = api.number(&a.sid, "+12155550121").await;
    let p = api.compliant_profile(&a, PRIMARY).await;
    api.assign(&a, PROFILES, &p, &n1).await;
    assert_eq!(
        api.preview(&a.sid, "+12155550121").await.1,
        "c_primary_not_approved"
    );
    api.approve(&a, PROFILES, &p).await;

    let (_, products) = api.get("/v1/TrustProducts", &a, &[]).await;
    let products = products["results"].as_array().unwrap().clone();
    assert_eq!(products.len(), 1);
    let t = products[0]["sid"].as_str().unwrap().to_owned();
    assert_eq!(products[0]["status"], "twilio-approved");
    assert_eq!(products[0]["policy_sid"], SHAKEN);
    let (_, links) = api
        .get(&format!("/v1/TrustProducts/{t}/EntityAssignments"), &a, &[])
        .await;
    assert_eq!(links["results"][0]["object_sid"], p.as_str());
    let (_, numbers) = api
        .get(
            &format!("/v1/TrustProducts/{t}/ChannelEndpointAssignments"),
            &a,
            &[],
        )
        .await;
    assert_eq!(numbers["results"][0]["channel_endpoint_sid"], n1.as_str());
    assert_eq!(
        api.preview(&a.sid, "+12155550121").await,
        ("A".into(), "a_full".into())
    );

    // A number assigned to the primary later follows it onto the product.
    let n2 = api.number(&a.sid, "+12155550122").await;
    api.assign(&a, PROFILES, &p, &n2).await;
    assert_eq!(api.preview(&a.sid, "+12155550122").await.0, "A");

    // Re-approval does not add a second product; revoking the primary revokes it too.
    let (s, _) = api.set_status(&op, PROFILES, &p, "twilio-rejected").await;
    assert_eq!(s, 200);
    let (_, t_now) = api.get(&format!("/v1/TrustProducts/{t}"), &a, &[]).await;
    assert_eq!(t_now["status"], "twilio-rejected");
    assert_eq!(api.preview(&a.sid, "+12155550121").await.0, "C");
    let (_, products) = api.get("/v1/TrustProducts", &a, &[]).await;
    assert_eq!(products["results"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn end_users_and_policies() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let a = api.account(&op, "A").await;
    let it = api
        .end_user(&a, "customer_profile_business_information")
        .await;
    let path = format!("/v1/EndUsers/{it}");
    let (_, u) = api.get(&path, &a, &[]).await;
    assert_eq!(u["type"], "customer_profile_business_information");
    assert_eq!(u["attributes"]["business_name"], "Acme");
    let u = api
        .ok(
            &path,
            &a,
            &[("Attributes", r#"{"business_name":"Acme 2"}"#)],
        )
        .await;
    assert_eq!(u["attributes"]["business_name"], "Acme 2");
    let refused = api.post(&path, &a, &[("Attributes", "[1,2]")]).await;
    assert_refused(&refused, "JSON object");
    let (_, list) = api.get("/v1/EndUsers", &a, &[]).await;
    assert_eq!(sids(&list, "results"), std::slice::from_ref(&it));

    // Attached to a submitted bundle, it is locked and cannot be deleted.
    let p = api.bundle(&a, PROFILES, PRIMARY, None).await;
    api.link(&a, PROFILES, &p, &it).await;
    let rep = api.end_user(&a, "authorized_representative_1").await;
    api.link(&a, PROFILES, &p, &rep).await;
    let rd = api.address_document(&a).await;
    api.link(&a, PROFILES, &p, &rd).await;
    api.move_to(&a, PROFILES, &p, "pending-review").await;
    let (s, body) = api.post(&path, &a, &[("FriendlyName", "x")]).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)));
    let (s, body) = api.delete(&path, &a).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(20001)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains(&p),
        "names the bundle: {body}"
    );
    let loose = api.end_user(&a, "authorized_representative_2").await;
    let (s, _) = api.delete(&format!("/v1/EndUsers/{loose}"), &a).await;
    assert_eq!(s, 204);

    let (_, policies) = api.get("/v1/Policies", &a, &[]).await;
    assert_eq!(sids(&policies, "results"), [PRIMARY, SECONDARY, SHAKEN]);
    let (_, primary) = api.get(&format!("/v1/Policies/{PRIMARY}"), &a, &[]).await;
    assert_eq!(primary["friendly_name"], "Primary Customer Profile");
    assert_eq!(
        primary["requirements"]["end_user"][0]["type"],
        "customer_profile_business_information"
    );
    let (s, _) = api
        .get("/v1/Policies/RN00000000000000000000000000000000", &a, &[])
        .await;
    assert_eq!(s, 404);

    // The end-user types, in Twilio's catalogue shape, two to a page.
    let (s, types) = api.get("/v1/EndUserTypes", &a, &[("PageSize", "2")]).await;
    assert_eq!(s, 200, "{types}");
    assert_eq!(types["meta"]["key"], "end_user_types");
    let names = |v: &serde_json::Value| -> Vec<String> {
        (v["end_user_types"].as_array().unwrap().iter())
            .map(|t| t["machine_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&types),
        [
            "customer_profile_business_information",
            "authorized_representative_1"
        ]
    );
    let next = types["meta"]["next_page_url"]
        .as_str()
        .expect("a second page");
    let next = &next[next.find("/v1/").unwrap()..];
    let (_, rest) = api.get(next, &a, &[]).await;
    assert_eq!(names(&rest), ["authorized_representative_2"]);
    assert!(rest["meta"]["next_page_url"].is_null());
    let representative = &types["end_user_types"][1];
    let fields: Vec<&str> = (representative["fields"].as_array().unwrap().iter())
        .map(|f| f["machine_name"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"first_name") && fields.contains(&"email"),
        "{fields:?}"
    );
    let url = representative["url"].as_str().unwrap();
    let (s, fetched) = api.get(&url[url.find("/v1/").unwrap()..], &a, &[]).await;
    assert_eq!((s, &fetched), (200, representative));
    let missing = "/v1/EndUserTypes/OY00000000000000000000000000000000";
    let (s, body) = api.get(missing, &a, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)), "{body}");
    let (s, _) = api
        .get(
            "/v1/EndUserTypes/RN00000000000000000000000000000000",
            &a,
            &[],
        )
        .await;
    assert_eq!(s, 400, "another kind of SID");
    let (s, _) = api.call("GET", "/v1/EndUserTypes", None, &[]).await;
    assert_eq!(s, 401);
}
