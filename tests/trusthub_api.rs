//! The Trust Hub API over real HTTP: every resource, the bundle lifecycle (legal and
//! illegal transitions), evaluations, assignment rules, the automatic trust product,
//! paging, limits and restarts.

mod common;

use common::api::*;
use common::*;
use serde_json::Value;

async fn hub() -> (Harness, Api) {
    let h = Harness::start(Options {
        store_seed: Some("{}".into()),
        ..Options::default()
    })
    .await;
    let api = Api::new(h.http);
    (h, api)
}

fn sids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sid"].as_str().unwrap().to_owned())
        .collect()
}

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
    assert_eq!(s, 403, "{body}");
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
    let (s, _) = api.post(&path, &p, &[("Status", "paused")]).await;
    assert_eq!(s, 400);
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
            &[
                ("PhoneNumber", "+1 (215) 555-0100"),
                ("FriendlyName", "main"),
            ],
        )
        .await;
    assert_eq!(s, 201, "{n}");
    assert_eq!(n["phone_number"], "+12155550100");
    assert_eq!(n["account_sid"], a.sid.as_str());
    let pn = n["sid"].as_str().unwrap().to_owned();

    for bad in ["2155550100", "+1215555010", "+1-call-me", "+999"] {
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
    let (s, _) = api
        .post(&path, &a, &[("PhoneNumber", "+12155550101")])
        .await;
    assert_eq!(s, 403, "only the operator creates numbers");

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
    let (s, _) = api
        .post(
            "/v1/CustomerProfiles",
            &a,
            &[("FriendlyName", "x"), ("PolicySid", PRIMARY)],
        )
        .await;
    assert_eq!(s, 400, "Email is required");

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
    let (s, body) = api.set_status(&a, PROFILES, &p, "pending-review").await;
    assert_eq!(s, 400);
    assert!(
        body["message"].as_str().unwrap().contains("noncompliant"),
        "{body}"
    );
    for t in [
        "customer_profile_business_information",
        "authorized_representative_1",
    ] {
        let it = api.end_user(&a, t).await;
        api.link(&a, PROFILES, &p, &it).await;
    }
    let e2 = api.ok(&eval_path, &a, &[("PolicySid", PRIMARY)]).await;
    assert_eq!(e2["status"], "compliant");
    let (_, list) = api.get(&eval_path, &a, &[]).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    let (s, fetched) = api
        .get(
            &format!("{eval_path}/{}", e["sid"].as_str().unwrap()),
            &a,
            &[],
        )
        .await;
    assert_eq!((s, fetched["status"].as_str()), (200, Some("noncompliant")));
    let (s, _) = api.post(&eval_path, &a, &[("PolicySid", SECONDARY)]).await;
    assert_eq!(s, 400, "an evaluation uses the bundle's own policy");

    // draft -> pending-review by the customer; then the bundle is locked (60711).
    let (s, b) = api.set_status(&a, PROFILES, &p, "pending-review").await;
    assert_eq!((s, b["status"].as_str()), (200, Some("pending-review")));
    let (s, body) = api.post(&path, &a, &[("FriendlyName", "changed")]).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)), "{body}");
    let it = api.end_user(&a, "authorized_representative_2").await;
    let (s, body) = api
        .post(
            &format!("{path}/EntityAssignments"),
            &a,
            &[("ObjectSid", &it)],
        )
        .await;
    assert_eq!(body["code"], 60711, "{s}");
    let (s, body) = api.delete(&path, &a).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)));

    // Review statuses are the operator's.
    for status in ["in-review", "twilio-approved", "twilio-rejected"] {
        let (s, _) = api.set_status(&a, PROFILES, &p, status).await;
        assert_eq!(s, 403, "{status}");
    }
    let (s, body) = api
        .post(&path, &a, &[("ValidUntil", "2099-01-01T00:00:00Z")])
        .await;
    assert_eq!(s, 403, "{body}");
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
    let (s, _) = api.set_status(&a, PROFILES, &p, "cancelled").await;
    assert_eq!(s, 400);

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
async fn assignment_rules() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let parent = api.account(&op, "Parent").await;
    let sub = api.account(&parent, "Sub").await;
    let stranger = api.account(&op, "Stranger").await;
    let n1 = api.number(&parent.sid, "+12155550121").await;
    let n2 = api.number(&parent.sid, "+12155550122").await;
    let theirs = api.number(&stranger.sid, "+12155550199").await;

    let p = api.compliant_profile(&parent, PRIMARY).await;
    let t = api.bundle(&parent, PRODUCTS, SHAKEN, None).await;
    let p2 = api.bundle(&parent, PROFILES, PRIMARY, None).await;

    // A number goes on a trust product only after it is on the linked profile.
    let tp_numbers = format!("/v1/TrustProducts/{t}/ChannelEndpointAssignments");
    let form = |pn: &str| {
        vec![
            ("ChannelEndpointType", "phone-number"),
            ("ChannelEndpointSid", pn),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect::<Vec<_>>()
    };
    let post_number = |path: String, pn: String| {
        let api = &api;
        let parent = &parent;
        async move {
            let f = form(&pn);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.post(&path, parent, &f).await
        }
    };
    let (s, body) = post_number(tp_numbers.clone(), n1.clone()).await;
    assert_eq!(s, 400);
    assert!(
        body["message"].as_str().unwrap().contains("first"),
        "{body}"
    );
    let link = api.link(&parent, PRODUCTS, &t, &p).await;
    assert_eq!(link["trust_product_sid"], t.as_str());
    assert_eq!(link["object_sid"], p.as_str());
    let (s, _) = post_number(tp_numbers.clone(), n1.clone()).await;
    assert_eq!(s, 400, "still not on the profile");
    let a1 = api.assign(&parent, PROFILES, &p, &n1).await;
    assert_eq!(a1["channel_endpoint_type"], "phone-number");
    assert_eq!(a1["customer_profile_sid"], p.as_str());
    api.assign(&parent, PRODUCTS, &t, &n1).await;

    // One profile per number; numbers of other accounts are refused; type must match.
    let (s, body) = post_number(
        format!("/v1/CustomerProfiles/{p2}/ChannelEndpointAssignments"),
        n1.clone(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body["message"].as_str().unwrap().contains("already"),
        "{body}"
    );
    let (s, _) = post_number(
        format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments"),
        theirs,
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = api
        .post(
            &format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments"),
            &parent,
            &[
                ("ChannelEndpointType", "sip-trunk"),
                ("ChannelEndpointSid", &n2),
            ],
        )
        .await;
    assert_eq!(s, 400);
    api.assign(&parent, PROFILES, &p, &n2).await;

    // Channel endpoint lists filter by number.
    let cea = format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments");
    let (_, all) = api.get(&cea, &parent, &[]).await;
    assert_eq!(all["results"].as_array().unwrap().len(), 2);
    let (_, one) = api.get(&cea, &parent, &[("ChannelEndpointSid", &n2)]).await;
    assert_eq!(one["results"][0]["channel_endpoint_sid"], n2.as_str());
    let both = format!("{n1},{n2}");
    let (_, two) = api
        .get(&cea, &parent, &[("ChannelEndpointSids", &both)])
        .await;
    assert_eq!(two["results"].as_array().unwrap().len(), 2);
    let a2 = one["results"][0]["sid"].as_str().unwrap().to_owned();
    let (s, _) = api.get(&format!("{cea}/{a2}"), &parent, &[]).await;
    assert_eq!(s, 200);
    let (s, _) = api.delete(&format!("{cea}/{a2}"), &parent).await;
    assert_eq!(s, 204);
    let (_, all) = api.get(&cea, &parent, &[]).await;
    assert_eq!(all["results"].as_array().unwrap().len(), 1);

    // Entity links: a Primary links to no bundle; a Secondary needs a parent account and
    // links only to the parent's Primary; a product links to a profile of its account or
    // its parent's.
    let (s, _) = api
        .post(
            &format!("/v1/CustomerProfiles/{p2}/EntityAssignments"),
            &parent,
            &[("ObjectSid", &p)],
        )
        .await;
    assert_eq!(s, 400);
    let top_secondary = api.bundle(&parent, PROFILES, SECONDARY, None).await;
    let (s, body) = api
        .post(
            &format!("/v1/CustomerProfiles/{top_secondary}/EntityAssignments"),
            &parent,
            &[("ObjectSid", &p)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        body["message"].as_str().unwrap().contains("sub-account"),
        "{body}"
    );
    let secondary = api.bundle(&sub, PROFILES, SECONDARY, None).await;
    api.link(&sub, PROFILES, &secondary, &p).await;
    let sub_product = api.bundle(&sub, PRODUCTS, SHAKEN, None).await;
    api.link(&sub, PRODUCTS, &sub_product, &secondary).await;
    let stranger_profile = api.bundle(&stranger, PROFILES, PRIMARY, None).await;
    let (s, _) = api
        .post(
            &format!("/v1/TrustProducts/{t}/EntityAssignments"),
            &parent,
            &[("ObjectSid", &stranger_profile)],
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = api
        .post(
            &format!("/v1/TrustProducts/{t}/EntityAssignments"),
            &parent,
            &[("ObjectSid", &p)],
        )
        .await;
    assert_eq!(s, 400, "already assigned");
    let (s, _) = api
        .post(
            &format!("/v1/TrustProducts/{t}/EntityAssignments"),
            &parent,
            &[("ObjectSid", "PN00000000000000000000000000000001")],
        )
        .await;
    assert_eq!(s, 400);

    // Entity assignments list, filter by type, fetch and delete.
    let ea = format!("/v1/CustomerProfiles/{p}/EntityAssignments");
    let (_, list) = api.get(&ea, &parent, &[("ObjectType", "end_user")]).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    let (_, list) = api
        .get(
            &format!("/v1/TrustProducts/{t}/EntityAssignments"),
            &parent,
            &[],
        )
        .await;
    let link_sid = list["results"][0]["sid"].as_str().unwrap().to_owned();
    let link_path = format!("/v1/TrustProducts/{t}/EntityAssignments/{link_sid}");
    let (s, got) = api.get(&link_path, &parent, &[]).await;
    assert_eq!((s, got["object_sid"].as_str()), (200, Some(p.as_str())));
    let (s, _) = api.delete(&link_path, &parent).await;
    assert_eq!(s, 204);
    let (s, _) = api.get(&link_path, &parent, &[]).await;
    assert_eq!(s, 404);
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
    let (s, _) = api.post(&path, &a, &[("Attributes", "[1,2]")]).await;
    assert_eq!(s, 400);
    let (_, list) = api.get("/v1/EndUsers", &a, &[]).await;
    assert_eq!(sids(&list, "results"), std::slice::from_ref(&it));

    // Attached to a submitted bundle, it is locked and cannot be deleted.
    let p = api.bundle(&a, PROFILES, PRIMARY, None).await;
    api.link(&a, PROFILES, &p, &it).await;
    let rep = api.end_user(&a, "authorized_representative_1").await;
    api.link(&a, PROFILES, &p, &rep).await;
    api.set_status(&a, PROFILES, &p, "pending-review").await;
    let (s, body) = api.post(&path, &a, &[("FriendlyName", "x")]).await;
    assert_eq!((s, body["code"].as_u64()), (400, Some(60711)));
    let (s, _) = api.delete(&path, &a).await;
    assert_eq!(s, 400);
    let loose = api.end_user(&a, "authorized_representative_2").await;
    let (s, _) = api.delete(&format!("/v1/EndUsers/{loose}"), &a).await;
    assert_eq!(s, 204);

    let (_, policies) = api.get("/v1/Policies", &a, &[]).await;
    let got: Vec<&str> = policies["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sid"].as_str().unwrap())
        .collect();
    assert_eq!(got, [PRIMARY, SECONDARY, SHAKEN]);
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
}

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
    let (s, _) = api.get("/v1/EndUsers", &a, &[("PageSize", "5000")]).await;
    assert_eq!(s, 400);
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
    let (s, _) = api.get("/2010-04-01/Accounts/ACzz.json", &a, &[]).await;
    assert_eq!(s, 400);
    let (s, _) = api
        .get("/v1/CustomerProfiles", &a, &[("Status", "approved")])
        .await;
    assert_eq!(s, 400);
    let big = "x".repeat(8192);
    let (s, body) = api
        .post("/v1/EndUsers", &a, &[("FriendlyName", &big)])
        .await;
    assert_eq!(s, 413, "{body}");
    let (s, _) = api.call("PUT", "/v1/EndUsers", Some(&a), &[]).await;
    assert_eq!(s, 405);
    let (s, body) = api.get("/v1/Nothing/Here", &a, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)));
    let (s, body) = api
        .get(
            "/v1/Attestation",
            &a,
            &[("AccountSid", &a.sid), ("PhoneNumber", "911")],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    drop(h);

    // In read-only file mode the Trust Hub API is off.
    let file_mode = Harness::start(Options::default()).await;
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
    let h = h
        .restart(Options {
            store_seed: Some("{}".into()),
            ..Options::default()
        })
        .await;
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
    let pki = callsign::certs::dev::generate("1234", now_unix()).unwrap();
    callsign::certs::dev::write(&dir.path().join("pki"), &pki).unwrap();
    std::fs::write(dir.path().join("seed.json"), r#"{"accounts": 7}"#).unwrap();
    let text = "[sip]\nudp = \"127.0.0.1:0\"\n[http]\nlisten = \"127.0.0.1:0\"\n[signing]\n\
         certificate = \"pki/chain.pem\"\nkey = \"pki/leaf.key\"\nx5u = \"http://127.0.0.1/c.pem\"\n\
         [trust]\nstore = \"callsign.db\"\nseed = \"seed.json\"\n[upstream]\naddress = \"127.0.0.1:9\"\n";
    std::fs::write(dir.path().join("callsign.toml"), text).unwrap();
    let config = callsign::config::Config::load(&dir.path().join("callsign.toml")).unwrap();
    let listeners = callsign::daemon::Listeners::bind(&config).await.unwrap();
    let (control, _stop) = callsign::daemon::Control::new();
    let result = callsign::daemon::run(config, listeners, control).await;
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
