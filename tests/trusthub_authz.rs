//! The authorization matrix: every Trust Hub endpoint, called with no credentials, a
//! wrong token, another account's credentials and a sub-account's credentials on its
//! parent's resources, gets 401 or 404 (Twilio hides what the caller may not see), and
//! operator-only actions get 403. Nothing any of them sends changes the data.

mod common;

use common::api::*;
use common::*;
use serde_json::Value;

/// One request: method, path and form.
type Endpoint = (&'static str, String, Vec<(&'static str, String)>);

/// A list endpoint, where the parent and the other account each own one resource.
struct List {
    path: &'static str,
    /// The key of the rows in the response.
    key: &'static str,
    parents: String,
    others: String,
}

struct World {
    parent: Creds,
    sub: Creds,
    other: Creds,
    /// (method, path, form) of every endpoint on the parent's resources.
    endpoints: Vec<Endpoint>,
    /// GET paths whose answers must not change.
    snapshot: Vec<String>,
    lists: Vec<List>,
}

async fn world(api: &Api) -> World {
    let op = Creds::operator();
    let parent = api.account(&op, "Parent").await;
    let sub = api.account(&parent, "Sub").await;
    let other = api.account(&op, "Other").await;
    let p = &parent.sid;
    let pn = api.number(p, "+12155550121").await;
    let profile = api.compliant_profile(&parent, PRIMARY).await;
    let product = api.bundle(&parent, PRODUCTS, SHAKEN, None).await;
    let link = api.link(&parent, PRODUCTS, &product, &profile).await;
    let link = link["sid"].as_str().unwrap().to_owned();
    let cea = api.assign(&parent, PROFILES, &profile, &pn).await;
    let cea = cea["sid"].as_str().unwrap().to_owned();
    let user = api.end_user(&parent, "authorized_representative_2").await;
    let eval = api
        .ok(
            &format!("/v1/CustomerProfiles/{profile}/Evaluations"),
            &parent,
            &[("PolicySid", PRIMARY)],
        )
        .await;
    let eval = eval["sid"].as_str().unwrap().to_owned();
    // The other account owns one of each listed resource too, so that its lists are
    // not empty.
    let lists = vec![
        List {
            path: "/2010-04-01/Accounts.json",
            key: "accounts",
            parents: parent.sid.clone(),
            others: other.sid.clone(),
        },
        List {
            path: "/v1/CustomerProfiles",
            key: "results",
            parents: profile.clone(),
            others: api.bundle(&other, PROFILES, PRIMARY, None).await,
        },
        List {
            path: "/v1/TrustProducts",
            key: "results",
            parents: product.clone(),
            others: api.bundle(&other, PRODUCTS, SHAKEN, None).await,
        },
        List {
            path: "/v1/EndUsers",
            key: "results",
            parents: user.clone(),
            others: api.end_user(&other, "authorized_representative_1").await,
        },
    ];

    let cp = format!("/v1/CustomerProfiles/{profile}");
    let tp = format!("/v1/TrustProducts/{product}");
    let acct = format!("/2010-04-01/Accounts/{p}.json");
    let nums = format!("/2010-04-01/Accounts/{p}/IncomingPhoneNumbers.json");
    let num = format!("/2010-04-01/Accounts/{p}/IncomingPhoneNumbers/{pn}.json");
    let f = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    let endpoints = vec![
        ("GET", acct.clone(), f(&[])),
        ("POST", acct.clone(), f(&[("FriendlyName", "hijacked")])),
        ("GET", nums.clone(), f(&[])),
        ("POST", nums.clone(), f(&[("PhoneNumber", "+12155550199")])),
        ("GET", num.clone(), f(&[])),
        ("DELETE", num.clone(), f(&[])),
        ("GET", cp.clone(), f(&[])),
        ("POST", cp.clone(), f(&[("Status", "twilio-approved")])),
        ("DELETE", cp.clone(), f(&[])),
        ("GET", format!("{cp}/EntityAssignments"), f(&[])),
        (
            "POST",
            format!("{cp}/EntityAssignments"),
            f(&[("ObjectSid", &user)]),
        ),
        ("GET", format!("{cp}/ChannelEndpointAssignments"), f(&[])),
        (
            "POST",
            format!("{cp}/ChannelEndpointAssignments"),
            f(&[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", &pn),
            ]),
        ),
        (
            "GET",
            format!("{cp}/ChannelEndpointAssignments/{cea}"),
            f(&[]),
        ),
        (
            "DELETE",
            format!("{cp}/ChannelEndpointAssignments/{cea}"),
            f(&[]),
        ),
        ("GET", format!("{cp}/Evaluations"), f(&[])),
        (
            "POST",
            format!("{cp}/Evaluations"),
            f(&[("PolicySid", PRIMARY)]),
        ),
        ("GET", format!("{cp}/Evaluations/{eval}"), f(&[])),
        ("GET", tp.clone(), f(&[])),
        ("POST", tp.clone(), f(&[("FriendlyName", "hijacked")])),
        ("DELETE", tp.clone(), f(&[])),
        ("GET", format!("{tp}/EntityAssignments/{link}"), f(&[])),
        ("DELETE", format!("{tp}/EntityAssignments/{link}"), f(&[])),
        ("GET", format!("/v1/EndUsers/{user}"), f(&[])),
        (
            "POST",
            format!("/v1/EndUsers/{user}"),
            f(&[("FriendlyName", "hijacked")]),
        ),
        ("DELETE", format!("/v1/EndUsers/{user}"), f(&[])),
        (
            "GET",
            "/v1/Attestation".into(),
            f(&[("AccountSid", p), ("PhoneNumber", "+12155550121")]),
        ),
    ];
    let snapshot = vec![
        acct,
        nums,
        num,
        cp.clone(),
        format!("{cp}/EntityAssignments"),
        format!("{cp}/ChannelEndpointAssignments"),
        format!("{cp}/Evaluations"),
        tp.clone(),
        format!("{tp}/EntityAssignments"),
        format!("/v1/EndUsers/{user}"),
        "/v1/CustomerProfiles".into(),
        "/v1/TrustProducts".into(),
        "/v1/EndUsers".into(),
        "/2010-04-01/Accounts.json".into(),
    ];
    World {
        parent,
        sub,
        other,
        endpoints,
        snapshot,
        lists,
    }
}

/// A server on an empty store, and the world built in it (keep the harness alive).
async fn start() -> (Harness, Api, World) {
    let (h, api) = hub().await;
    let w = world(&api).await;
    (h, api, w)
}

async fn snapshot(api: &Api, paths: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for path in paths {
        let (s, body) = api.get(path, &Creds::operator(), &[]).await;
        assert_eq!(s, 200, "{path}: {body}");
        out.push(body);
    }
    out
}

async fn send(
    api: &Api,
    creds: Option<&Creds>,
    method: &str,
    path: &str,
    form: &[(&'static str, String)],
) -> (u16, Value) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api.call(method, path, creds, &form).await
}

#[tokio::test]
async fn strangers_get_401_or_404_and_change_nothing() {
    let (_h, api, w) = start().await;
    let before = snapshot(&api, &w.snapshot).await;
    let wrong = Creds::new(&w.parent.sid, "0123456789abcdef0123456789abcdef");
    let unknown = Creds::new("AC0000000000000000000000000000beef", &w.parent.token);
    let operator_wrong = Creds::new(&Creds::operator().sid, "nope");
    for (method, path, form) in &w.endpoints {
        for (who, creds, expected) in [
            ("no credentials", None, 401),
            ("wrong token", Some(&wrong), 401),
            ("unknown account", Some(&unknown), 401),
            ("operator SID, wrong token", Some(&operator_wrong), 401),
            ("another account", Some(&w.other), 404),
            ("sub-account on its parent", Some(&w.sub), 404),
        ] {
            let (s, body) = send(&api, creds, method, path, form).await;
            assert_eq!(s, expected, "{who}: {method} {path}: {body}");
            let code = if expected == 401 { 20003 } else { 20404 };
            assert_eq!(body["code"], code, "{who}: {method} {path}: {body}");
            let docs = format!("https://www.twilio.com/docs/errors/{code}");
            assert_eq!(body["more_info"], docs.as_str(), "{who}: {method} {path}");
        }
    }
    // Creates without credentials are refused.
    for (path, form) in [
        ("/2010-04-01/Accounts.json", vec![]),
        (
            "/v1/CustomerProfiles",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e@x"),
                ("PolicySid", PRIMARY),
            ],
        ),
        (
            "/v1/TrustProducts",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e@x"),
                ("PolicySid", SHAKEN),
            ],
        ),
        ("/v1/EndUsers", vec![("FriendlyName", "x"), ("Type", "t")]),
    ] {
        let (s, body) = api.call("POST", path, None, &form).await;
        assert_eq!((s, body["code"].as_u64()), (401, Some(20003)), "{path}");
    }
    // Lists act on the caller's own data: the operator sees the parent's resource, and
    // the other account sees its own and nothing else.
    assert_eq!(w.lists.len(), 4);
    for list in &w.lists {
        let (s, all) = api.get(list.path, &Creds::operator(), &[]).await;
        assert_eq!(s, 200, "{all}");
        assert!(
            sids(&all, list.key).contains(&list.parents),
            "{}: the parent's {} is missing: {all}",
            list.path,
            list.parents
        );
        let (s, body) = api.get(list.path, &w.other, &[]).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(
            sids(&body, list.key),
            std::slice::from_ref(&list.others),
            "{} shows another account more than its own",
            list.path
        );
        assert!(
            !body.to_string().contains(&w.parent.sid),
            "{} leaks the parent's data to another account: {body}",
            list.path
        );
    }
    assert_eq!(snapshot(&api, &w.snapshot).await, before, "data changed");
}

#[tokio::test]
async fn operator_only_actions_get_403_and_change_nothing() {
    let (_h, api, w) = start().await;
    let before = snapshot(&api, &w.snapshot).await;
    let (_, list) = api.get("/v1/CustomerProfiles", &w.parent, &[]).await;
    let profile = list["results"][0]["sid"].as_str().unwrap().to_owned();
    let cp = format!("/v1/CustomerProfiles/{profile}");
    let nums = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        w.parent.sid
    );
    type Case<'a> = (&'a Creds, &'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            &w.parent,
            "POST",
            nums.clone(),
            vec![("PhoneNumber", "+12155550198")],
        ),
        (&w.parent, "POST", cp.clone(), vec![("Status", "in-review")]),
        (
            &w.parent,
            "POST",
            cp.clone(),
            vec![("Status", "twilio-approved")],
        ),
        (
            &w.parent,
            "POST",
            cp.clone(),
            vec![("Status", "twilio-rejected")],
        ),
        (
            &w.parent,
            "POST",
            cp.clone(),
            vec![("ValidUntil", "2099-01-01T00:00:00Z")],
        ),
        (&w.parent, "POST", cp.clone(), vec![("Errors", "[]")]),
        (&w.sub, "POST", "/2010-04-01/Accounts.json".into(), vec![]),
        (
            &w.parent,
            "POST",
            format!("/2010-04-01/Accounts/{}.json", w.parent.sid),
            vec![("Status", "closed")],
        ),
    ];
    for (creds, method, path, form) in &cases {
        let (s, body) = api.call(method, path, Some(creds), form).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (403, Some(20403)),
            "{method} {path} {form:?}: {body}"
        );
    }
    // The operator has no Trust Hub resources of its own to create.
    let (s, body) = api
        .post(
            "/v1/CustomerProfiles",
            &Creds::operator(),
            &[
                ("FriendlyName", "x"),
                ("Email", "e@x"),
                ("PolicySid", PRIMARY),
            ],
        )
        .await;
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    assert_eq!(snapshot(&api, &w.snapshot).await, before, "data changed");

    // The same actions succeed for those allowed to take them.
    let (s, _) = api
        .post(
            &nums,
            &Creds::operator(),
            &[("PhoneNumber", "+12155550198")],
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .set_status(&w.parent, PROFILES, &profile, "pending-review")
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .set_status(&Creds::operator(), PROFILES, &profile, "in-review")
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn parents_see_their_sub_accounts_resources() {
    let (_h, api, w) = start().await;
    let secondary = api.bundle(&w.sub, PROFILES, SECONDARY, None).await;
    let path = format!("/v1/CustomerProfiles/{secondary}");
    let (s, _) = api.get(&path, &w.parent, &[]).await;
    assert_eq!(s, 200);
    api.ok(&path, &w.parent, &[("FriendlyName", "set by the parent")])
        .await;
    let (s, body) = api.get(&path, &w.other, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)));
    let (s, _) = api
        .get(
            &format!("/2010-04-01/Accounts/{}.json", w.sub.sid),
            &w.parent,
            &[],
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = api
        .get(
            "/v1/Attestation",
            &w.parent,
            &[("AccountSid", &w.sub.sid), ("PhoneNumber", "+12155550121")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["attest"], "C");
}

/// The SIDs in a world's endpoint paths and forms: every record of the parent's.
fn parents_sids(w: &World) -> Vec<String> {
    let mut sids: Vec<String> = Vec::new();
    for (_, path, form) in &w.endpoints {
        let values = form.iter().map(|(_, v)| v.as_str());
        for token in path.split(['/', '.', '?', '=']).chain(values) {
            let sid_shaped = token.len() == 34
                && token.bytes().take(2).all(|b| b.is_ascii_uppercase())
                && token.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
            if sid_shaped && !sids.iter().any(|s| s == token) {
                sids.push(token.to_owned());
            }
        }
    }
    sids
}

#[tokio::test]
async fn the_attestation_preview_names_no_record_the_caller_may_not_see() {
    let (_h, api, w) = start().await;
    let secret = parents_sids(&w);
    assert!(
        secret.len() >= 6,
        "the parent's account, number, bundles, assignment, link, end user, evaluation: {secret:?}"
    );
    // Another top-level account, and the parent's sub-account (which may know its parent's
    // account SID, shown on its own account, but none of the parent's records), ask about
    // the parent's number as their own caller ID.
    for (who, caller, known) in [
        ("other", &w.other, None),
        ("sub", &w.sub, Some(w.parent.sid.as_str())),
    ] {
        let (s, body) = api
            .get(
                "/v1/Attestation",
                caller,
                &[("AccountSid", &caller.sid), ("PhoneNumber", "+12155550121")],
            )
            .await;
        assert_eq!(s, 200, "{who}: {body}");
        assert_ne!(body["attest"], "A", "{who}");
        let text = body.to_string();
        for sid in secret.iter().filter(|s| Some(s.as_str()) != known) {
            assert!(!text.contains(sid.as_str()), "{who} learns {sid}: {body}");
        }
    }
    // The owner itself still sees what decided its call.
    let (s, body) = api
        .get(
            "/v1/Attestation",
            &w.parent,
            &[
                ("AccountSid", &w.parent.sid),
                ("PhoneNumber", "+12155550121"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body["phone_number_sid"].is_string(), "{body}");
    assert_eq!(body["owner_account_sid"], w.parent.sid.as_str());
}
