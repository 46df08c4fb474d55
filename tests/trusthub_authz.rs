//! The authorization matrix. Every Trust Hub endpoint, called with no credentials, a
//! wrong token, another account's credentials and a sub-account's credentials on its
//! parent's resources, gets 401 or 404 (Twilio hides what the caller may not see), and
//! operator-only actions get 403. Everything the other account and the sub-account may
//! read, with every filter and paging parameter, names none of the parent's records in any
//! field; a parent's SID, number or name put in a path, a form or a filter answers exactly
//! as one that never existed; and nothing any of them sends changes the data.

mod common;
#[path = "trusthub_authz/probes.rs"]
mod probes;
#[path = "trusthub_authz/world.rs"]
mod world;

use std::collections::HashSet;

use common::api::*;
use common::*;
use probes::{check_probes, cross_probes, path_probes};
use serde_json::{Value, json};
use world::*;

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

#[test]
fn the_walker_names_every_leaking_field() {
    let v = json!({
        "sid": "AC1",
        "meta": {"next_page_url": "http://h/v1/X?FriendlyName=secret-1&Page=1", "page": 1},
        "results": [{"ok": true}, {"attributes": {"name": "a secret-1 b"}}],
        "secret-1": null,
        "valid": [["x", "secret-2"]],
    });
    let mut found = leaks(&v, &["secret-1".into(), "secret-2".into()]);
    found.sort();
    assert_eq!(
        found,
        [
            "$.meta.next_page_url",
            "$.results[1].attributes.name",
            "$.secret-1",
            "$.valid[0][1]"
        ]
    );
    assert!(leaks(&v, &["AC2".into()]).is_empty());
}

#[tokio::test]
async fn strangers_get_401_or_404_and_change_nothing() {
    let (_h, api, w) = start().await;
    let everything = everything(&api).await;
    let before = snapshot(&api, &everything).await;
    let p = &w.parent.creds;
    let wrong = Creds::new(&p.sid, "0123456789abcdef0123456789abcdef");
    let unknown = Creds::new("AC0000000000000000000000000000beef", &p.token);
    let operator_wrong = Creds::new(&Creds::operator().sid, "nope");
    let sub_wrong = Creds::new(&w.sub.creds.sid, "0123456789abcdef0123456789abcdef");
    let anyone = [
        ("no credentials", None, 401),
        ("unknown account", Some(&unknown), 401),
        ("operator SID, wrong token", Some(&operator_wrong), 401),
        ("another account", Some(&w.other.creds), 404),
    ];
    let targets = [
        (
            &w.parent,
            vec![
                ("wrong token", Some(&wrong), 401),
                ("sub-account on its parent", Some(&w.sub.creds), 404),
            ],
        ),
        (&w.sub, vec![("wrong token", Some(&sub_wrong), 401)]),
    ];
    for (target, extra) in targets {
        let callers: Vec<_> = anyone.iter().cloned().chain(extra).collect();
        for (method, path, form) in target.endpoints() {
            for (who, creds, expected) in &callers {
                let (s, body) = send(&api, *creds, method, &path, &form).await;
                assert_eq!(s, *expected, "{who}: {method} {path}: {body}");
                let code = if *expected == 401 { 20003 } else { 20404 };
                assert_eq!(body["code"], code, "{who}: {method} {path}: {body}");
                let docs = format!("https://www.twilio.com/docs/errors/{code}");
                assert_eq!(body["more_info"], docs.as_str(), "{who}: {method} {path}");
            }
        }
    }
    // Creates without credentials are refused.
    for (path, form) in [
        ("/2010-04-01/Accounts.json", vec![]),
        (
            "/v1/CustomerProfiles",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e@x.example"),
                ("PolicySid", PRIMARY),
            ],
        ),
        (
            "/v1/TrustProducts",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e@x.example"),
                ("PolicySid", SHAKEN),
            ],
        ),
        ("/v1/EndUsers", vec![("FriendlyName", "x"), ("Type", "t")]),
    ] {
        let (s, body) = api.call("POST", path, None, &form).await;
        assert_eq!((s, body["code"].as_u64()), (401, Some(20003)), "{path}");
    }
    // Lists act on the caller's own data: the operator sees the parent's records, and
    // the other account and the sub-account see their own and nothing else.
    let lists = |e: &Estate| {
        [
            (
                "/2010-04-01/Accounts.json",
                "accounts",
                vec![e.creds.sid.clone()],
            ),
            ("/v1/CustomerProfiles", "results", vec![e.profile.clone()]),
            ("/v1/TrustProducts", "results", vec![e.product.clone()]),
            ("/v1/EndUsers", "results", e.users.clone()),
        ]
    };
    for (path, key, parents) in lists(&w.parent) {
        let (s, all) = api.get(path, &Creds::operator(), &[]).await;
        assert_eq!(s, 200, "{all}");
        let all = sids(&all, key);
        assert!(parents.iter().all(|p| all.contains(p)), "{path}: {all:?}");
    }
    for me in [&w.other, &w.sub] {
        for (path, key, own) in lists(me) {
            let (s, body) = api.get(path, &me.creds, &[]).await;
            assert_eq!(s, 200, "{body}");
            assert_eq!(sids(&body, key), own, "{path} as {}: {body}", me.tag);
        }
    }
    assert_eq!(snapshot(&api, &everything).await, before, "data changed");
}

#[tokio::test]
async fn operator_only_actions_get_403_and_change_nothing() {
    let (_h, api, w) = start().await;
    let everything = everything(&api).await;
    let before = snapshot(&api, &everything).await;
    let (parent, sub) = (&w.parent.creds, &w.sub.creds);
    let profile = &w.parent.profile;
    let cp = format!("/v1/CustomerProfiles/{profile}");
    let nums = w.parent.numbers_path();
    type Case<'a> = (&'a Creds, &'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            parent,
            "POST",
            nums.clone(),
            vec![("PhoneNumber", "+12155550198")],
        ),
        (parent, "POST", cp.clone(), vec![("Status", "in-review")]),
        (
            parent,
            "POST",
            cp.clone(),
            vec![("Status", "twilio-approved")],
        ),
        (
            parent,
            "POST",
            cp.clone(),
            vec![("Status", "twilio-rejected")],
        ),
        (
            parent,
            "POST",
            cp.clone(),
            vec![("ValidUntil", "2099-01-01T00:00:00Z")],
        ),
        (parent, "POST", cp.clone(), vec![("Errors", "[]")]),
        (sub, "POST", "/2010-04-01/Accounts.json".into(), vec![]),
        (
            parent,
            "POST",
            w.parent.account_path(),
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
                ("Email", "e@x.example"),
                ("PolicySid", PRIMARY),
            ],
        )
        .await;
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    assert_eq!(snapshot(&api, &everything).await, before, "data changed");

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
        .set_status(parent, PROFILES, profile, "pending-review")
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .set_status(&Creds::operator(), PROFILES, profile, "in-review")
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn parents_see_their_sub_accounts_resources() {
    let (_h, api, w) = start().await;
    let parent = &w.parent.creds;
    let path = format!("/v1/CustomerProfiles/{}", w.sub.profile);
    let (s, _) = api.get(&path, parent, &[]).await;
    assert_eq!(s, 200);
    api.ok(&path, parent, &[("FriendlyName", "set by the parent")])
        .await;
    let (s, body) = api.get(&path, &w.other.creds, &[]).await;
    assert_eq!((s, body["code"].as_u64()), (404, Some(20404)));
    let (s, _) = api.get(&w.sub.account_path(), parent, &[]).await;
    assert_eq!(s, 200);
    // The parent sees which of its profiles holds its sub-account's number.
    let held = &w.sub.numbers[1].0;
    let (s, body) = api.get(&w.sub.number_path(held), parent, &[]).await;
    assert_eq!((s, &body["bundle_sid"]), (200, &json!(w.parent.profile)));
    let (s, body) = api
        .get(
            "/v1/Attestation",
            parent,
            &[
                ("AccountSid", &w.sub.creds.sid),
                ("PhoneNumber", "+12155550121"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["attest"], "C");
}

#[tokio::test]
async fn the_attestation_preview_names_no_record_the_caller_may_not_see() {
    let (_h, api, w) = start().await;
    // The parent's Primary is approved: a call of the sub-account's now rests on it.
    api.approve(&w.parent.creds, PROFILES, &w.parent.profile)
        .await;
    let parents_number = &w.parent.numbers[0].1;
    let held = &w.sub.numbers[1].1;
    // Another top-level account and the parent's sub-account ask about the parent's
    // number as their own caller ID, and the sub-account about its own number that sits
    // on the parent's profile.
    for (who, caller, number) in [
        ("other", &w.other.creds, parents_number),
        ("sub", &w.sub.creds, parents_number),
        ("sub", &w.sub.creds, held),
    ] {
        let (s, body) = api
            .get(
                "/v1/Attestation",
                caller,
                &[("AccountSid", &caller.sid), ("PhoneNumber", number)],
            )
            .await;
        assert_eq!(s, 200, "{who}: {body}");
        assert_ne!(body["attest"], "A", "{who}");
        // The number is the caller's own question, echoed in `phone_number` and `url`.
        let asked = number.trim_start_matches('+');
        let secrets: Vec<String> = (w.parent.secrets().into_iter())
            .filter(|s| s != asked)
            .collect();
        assert_eq!(
            leaks(&body, &secrets),
            Vec::<String>::new(),
            "{who}: {body}"
        );
    }
    // The owner itself still sees what decided its call.
    let (s, body) = api
        .get(
            "/v1/Attestation",
            &w.parent.creds,
            &[
                ("AccountSid", &w.parent.creds.sid),
                ("PhoneNumber", parents_number),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["phone_number_sid"], w.parent.numbers[0].0.as_str());
    assert_eq!(body["owner_account_sid"], w.parent.creds.sid.as_str());
    assert_eq!(body["customer_profile_sid"], w.parent.profile.as_str());
}

/// One of the parent's secrets that a caller may still see: in the answers to GETs of
/// `under` (or below it), at the JSON paths `fields` (`[*]` for any index).
struct Allowed {
    secret: String,
    under: Vec<String>,
    fields: &'static [&'static str],
}

/// `$.results[3].valid[0]` as `$.results[*].valid[*]`.
fn any_index(path: &str) -> String {
    let mut out = String::new();
    let mut digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() && (digits || out.ends_with('[')) {
            if !digits {
                out.push('*');
            }
            digits = true;
        } else {
            digits = false;
            out.push(c);
        }
    }
    out
}

/// Reads everything `me` may read (every list with every filter, every link in every
/// answer) and fails naming each field that holds one of `secrets`, or one of the
/// `allowed` secrets outside its place. Returns how many GETs it made.
async fn walk_view(api: &Api, me: &Estate, secrets: &[String], allowed: &[Allowed]) -> usize {
    let reads = me.reads();
    let seeds: Vec<String> = reads.iter().map(|(path, _)| path.clone()).collect();
    let visits = crawl(api, &me.creds, &seeds).await;
    let mut failures = Vec::new();
    let mut used = vec![false; allowed.len()];
    for v in &visits {
        assert_eq!(v.status, 200, "{} GET {}: {}", me.tag, v.path, v.body);
        for field in leaks(&v.body, secrets) {
            failures.push(format!("GET {}: {field}", v.path));
        }
        for (a, used) in allowed.iter().zip(used.iter_mut()) {
            let place = a.under.iter().any(|u| v.path.starts_with(u.as_str()));
            for field in leaks(&v.body, std::slice::from_ref(&a.secret)) {
                if place && a.fields.contains(&any_index(&field).as_str()) {
                    *used = true;
                } else {
                    failures.push(format!("GET {}: {field}", v.path));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} learns what it may not, in {} fields:\n{}",
        me.tag,
        failures.len(),
        failures.join("\n")
    );
    assert!(used.iter().all(|u| *u), "an allowance nothing needs");
    // The view is not empty: every unfiltered list lists something, and the crawl
    // reached every record of the caller's and every policy.
    for (path, _) in reads.iter().filter(|(_, listed)| *listed) {
        let v = visits.iter().find(|v| &v.path == path).unwrap();
        let rows = ["results", "accounts", "incoming_phone_numbers"]
            .iter()
            .find_map(|k| v.body[k].as_array());
        assert!(
            rows.is_none_or(|r| !r.is_empty()),
            "{path} lists nothing: {}",
            v.body
        );
    }
    let seen: HashSet<&str> = visits.iter().map(|v| v.path.as_str()).collect();
    let policies = [PRIMARY, SECONDARY, SHAKEN].map(|p| format!("/v1/Policies/{p}"));
    for path in me.fetch_paths().iter().chain(&policies) {
        assert!(seen.contains(path.as_str()), "the crawl missed {path}");
    }
    visits.len()
}

#[tokio::test]
async fn nothing_the_other_account_reads_names_the_parents_or_sub_accounts_records() {
    let (_h, api, w) = start().await;
    let secrets = [w.parent.secrets(), w.sub.secrets()].concat();
    let gets = walk_view(&api, &w.other, &secrets, &[]).await;
    assert!(gets > 150, "{gets} GETs");
}

#[tokio::test]
async fn the_sub_account_reads_its_parents_sids_only_where_it_must() {
    let (_h, api, w) = start().await;
    // The parent's Primary approved, so that the sub-account's calls rest on it.
    api.approve(&w.parent.creds, PROFILES, &w.parent.profile)
        .await;
    let (parent, sub) = (&w.parent, &w.sub);
    let allowed = [
        // Its own account record names its parent as owner, as Twilio's does.
        Allowed {
            secret: parent.creds.sid.clone(),
            under: vec!["/2010-04-01/Accounts.json".into(), sub.account_path()],
            fields: &["$.owner_account_sid", "$.accounts[*].owner_account_sid"],
        },
        // Its Secondary profile must link to its parent's Primary profile (Twilio's ISV
        // flow hands that SID to the sub-account): the link and the evaluation that
        // checks it name it. Nothing else of the parent's.
        Allowed {
            secret: parent.profile.clone(),
            under: ["EntityAssignments", "Evaluations"]
                .map(|s| format!("/v1/CustomerProfiles/{}/{s}", sub.profile))
                .to_vec(),
            fields: &[
                "$.object_sid",
                "$.results[*].object_sid",
                "$.results[*].valid[*]",
                "$.results[*].results[*].valid[*]",
            ],
        },
    ];
    let secrets: Vec<String> = (parent.secrets().into_iter())
        .filter(|s| !allowed.iter().any(|a| &a.secret == s))
        .collect();
    let gets = walk_view(&api, sub, &secrets, &allowed).await;
    assert!(gets > 150, "{gets} GETs");
}

#[tokio::test]
async fn a_parents_sid_number_or_name_anywhere_answers_as_one_that_never_existed() {
    let (_h, api, w) = start().await;
    let everything = everything(&api).await;
    let before = snapshot(&api, &everything).await;
    let (parent, sub, other) = (&w.parent, &w.sub, &w.other);

    // The other account, on the parent's and the sub-account's records.
    let mut probes = path_probes(parent);
    probes.extend(path_probes(sub));
    probes.extend(cross_probes(other, parent, &[]));
    probes.extend(cross_probes(other, sub, &[]));
    let secrets = [parent.secrets(), sub.secrets()].concat();
    let mut failures = check_probes(&api, other, &probes, &secrets).await;
    let mut count = probes.len();

    // The sub-account, on its parent's records. It may link its bundles to its parent's
    // Primary profile (a Secondary must; a trust product may), so that one is no probe.
    let mut probes = path_probes(parent);
    probes.extend(cross_probes(sub, parent, &[&parent.profile]));
    failures.extend(check_probes(&api, sub, &probes, &parent.secrets()).await);
    count += probes.len();
    assert!(count > 400, "{count} probes");

    // Refusals of the sub-account's writes on its own records name nothing of its
    // parent's: its number the parent holds on its profile cannot go on its own.
    let held = &sub.numbers[1].0;
    for (kind, bundle) in [(PROFILES, &sub.profile), (PRODUCTS, &sub.product)] {
        let (status, body) = api.try_assign(&sub.creds, kind, bundle, held).await;
        if (status, body["code"].as_u64()) != (400, Some(20001)) {
            failures.push(format!(
                "sub assigns {held} to its {bundle}: {status} {body}"
            ));
        }
        for field in leaks(&body, &parent.secrets()) {
            failures.push(format!(
                "sub assigns {held} to its {bundle}: {field} in {body}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} answers tell the parent's records from ones that never existed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(snapshot(&api, &everything).await, before, "data changed");
}
