//! The authorization matrix. Every Trust Hub and trunking endpoint, called with no
//! credentials, a wrong token, another account's credentials and a sub-account's
//! credentials on its parent's resources, gets 401 or 404 (Twilio hides what the caller
//! may not see), and operator-only actions get 403. Everything the other account and the
//! sub-account may read, with every filter and paging parameter, at every GET route,
//! names none of the parent's records in any field; a parent's SID, number or name put in
//! a path, a form or a filter answers exactly as one that never existed; a parent's
//! address range or trunk domain offered as one's own is refused saying only that it is
//! taken; no answer to anyone, the operator and the owner included, holds a password;
//! and nothing any of them sends changes the data.

mod common;
#[path = "trusthub_authz/credentials.rs"]
mod credentials;
#[path = "trusthub_authz/probes.rs"]
mod probes;
#[path = "trusthub_authz/trunking.rs"]
mod trunking;
#[path = "trusthub_authz/view.rs"]
mod view;
#[path = "trusthub_authz/world.rs"]
mod world;

use callsign::proxy::OnFailure;
use common::api::*;
use common::*;
use credentials::*;
use probes::*;
use serde_json::{Value, json};
use view::{Allowed, everything, walk_view};
use world::*;

/// A server on an empty store, and the world built in it (keep the harness alive). The
/// server verifies too (it has a `[verify]` table), so that trunks may take
/// `Role=verify` and with it phone numbers; its config trunks are [`TestServer::new`]'s
/// signing acme and acme-branch, not the verifying server's carrier.
async fn start() -> (Harness, Api, World) {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let server = TestServer::verifying(&pki, OnFailure::Forward).trunks(vec![
        signing_trunk("acme", ACME, "127.0.0.1"),
        signing_trunk("acme-branch", ACME_BRANCH, "127.0.0.2"),
    ]);
    let h = server.store("{}").start_in(dir).await;
    let api = Api::new(h.http);
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
                if *expected == 404 {
                    // Twilio names the whole path asked for, not the SID alone.
                    let message = format!("The requested resource {path} was not found");
                    assert_eq!(body["message"], message.as_str(), "{who}: {method}");
                }
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
        ("/v1/Trunks", vec![("FriendlyName", "x")]),
    ] {
        let (s, body) = api.call("POST", path, None, &form).await;
        assert_eq!((s, body["code"].as_u64()), (401, Some(20003)), "{path}");
    }
    // Lists act on the caller's own data: the operator sees the parent's records, and
    // the other account and the sub-account see their own and nothing else.
    let lists = |e: &Estate| {
        [
            (
                "/2010-04-01/Accounts.json".to_owned(),
                "accounts",
                vec![e.creds.sid.clone()],
            ),
            (
                "/v1/CustomerProfiles".into(),
                "results",
                vec![e.profile.clone()],
            ),
            (
                "/v1/TrustProducts".into(),
                "results",
                vec![e.product.clone()],
            ),
            ("/v1/EndUsers".into(), "results", e.users.clone()),
            (
                "/v1/SupportingDocuments".into(),
                "results",
                vec![e.document.clone()],
            ),
            (
                "/v1/Trunks".into(),
                "trunks",
                vec![e.trunk.clone(), e.domain_trunk.clone(), e.inbound.clone()],
            ),
            (
                e.inbound_numbers_path(),
                "phone_numbers",
                vec![e.inbound_number().0.clone()],
            ),
            (
                e.trunk_lists_path(),
                "ip_access_control_lists",
                vec![e.list.clone()],
            ),
            (
                e.lists_path(),
                "ip_access_control_lists",
                vec![e.list.clone()],
            ),
            (e.addresses_path(), "ip_addresses", vec![e.address.clone()]),
            (
                e.trunk_credential_lists_path(),
                "credential_lists",
                vec![e.credential_list.clone()],
            ),
            (
                e.credential_lists_path(),
                "credential_lists",
                vec![e.credential_list.clone()],
            ),
            (
                e.credentials_path(),
                "credentials",
                vec![e.credential.clone()],
            ),
        ]
    };
    // The operator has no trunk of its own but lists every account's.
    for (path, key, parents) in lists(&w.parent) {
        let (s, all) = api.get(&path, &Creds::operator(), &[]).await;
        assert_eq!(s, 200, "{all}");
        let all = sids(&all, key);
        assert!(parents.iter().all(|p| all.contains(p)), "{path}: {all:?}");
    }
    for me in [&w.other, &w.sub] {
        for (path, key, own) in lists(me) {
            let (s, body) = api.get(&path, &me.creds, &[]).await;
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
        // Signing identities are the operator's alone, to read as to write.
        (
            parent,
            "POST",
            "/v1/SigningIdentities".into(),
            vec![("CertificateChain", "x"), ("PrivateKey", "x.pem")],
        ),
        (parent, "GET", "/v1/SigningIdentities".into(), vec![]),
        (
            sub,
            "GET",
            "/v1/SigningIdentities/SI00000000000000000000000000000001".into(),
            vec![],
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
    let (s, body) = api
        .post("/v1/Trunks", &Creds::operator(), &[("FriendlyName", "x")])
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
    // And its trunks, lists, address, credential and the number on its verifying trunk,
    // at the sub-account's paths.
    let paths = w.sub.trunking_fetch_paths().into_iter();
    for path in paths.chain(w.sub.credential_fetch_paths()) {
        let (s, body) = api.get(&path, parent, &[]).await;
        assert_eq!((s, &body["account_sid"]), (200, &json!(w.sub.creds.sid)));
    }
    let (s, body) = api.get("/v1/Trunks", parent, &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        sids(&body, "trunks"),
        [
            w.parent.trunk.clone(),
            w.parent.domain_trunk.clone(),
            w.parent.inbound.clone()
        ],
        "its own only"
    );
    // The sub-account's number names the trunk it is on, to the parent as to its owner.
    let on_trunk = &w.sub.inbound_number().0;
    for who in [parent, &w.sub.creds] {
        let (s, body) = api.get(&w.sub.number_path(on_trunk), who, &[]).await;
        assert_eq!(
            (s, &body["trunk_sid"]),
            (200, &json!(w.sub.inbound)),
            "{body}"
        );
    }
    let (s, body) = api.get(&w.sub.inbound_numbers_path(), parent, &[]).await;
    assert_eq!(s, 200, "{body}");
    let just = std::slice::from_ref(on_trunk);
    assert_eq!(sids(&body, "phone_numbers"), just, "{body}");
    // A trunk takes its own account's numbers only: not the parent's on the sub-account's
    // trunk, though the parent may act on both, nor the sub-account's on the parent's.
    let theirs = [("PhoneNumberSid", w.parent.numbers[1].0.as_str())];
    let refused = api
        .post(&w.sub.inbound_numbers_path(), parent, &theirs)
        .await;
    assert_refused(&refused, "PhoneNumberSid");
    let theirs = [("PhoneNumberSid", w.sub.numbers[0].0.as_str())];
    let refused = api
        .post(&w.parent.inbound_numbers_path(), parent, &theirs)
        .await;
    assert_refused(&refused, "PhoneNumberSid");
    let (s, body) = api.get(&w.sub.inbound_numbers_path(), parent, &[]).await;
    assert_eq!(sids(&body, "phone_numbers"), just, "{s} {body}");
    let (s, body) = api.get(&w.parent.inbound_numbers_path(), parent, &[]).await;
    let own = w.parent.inbound_number().0.clone();
    assert_eq!(sids(&body, "phone_numbers"), [own], "{s} {body}");
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

#[tokio::test]
async fn nothing_the_other_account_reads_names_the_parents_or_sub_accounts_records() {
    let (_h, api, w) = start().await;
    let secrets = [w.parent.secrets(), w.sub.secrets()].concat();
    let gets = walk_view(&api, &w.other, &secrets, &[]).await;
    assert!(gets > 200, "{gets} GETs");
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
    assert!(gets > 200, "{gets} GETs");
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
    assert!(count > 600, "{count} probes");

    // A trunk domain is one trunk's in the whole world, so offering the parent's (or the
    // sub-account's) necessarily learns that it is taken, and nothing more.
    for (me, target) in [(other, parent), (other, sub), (sub, parent)] {
        let probes = domain_probes(me, target);
        failures.extend(check_taken(&api, me, &probes, &target.secrets()).await);
    }
    // A username is one list's, so the parent's (or the sub-account's) is free in the
    // caller's own list.
    for (me, target) in [(other, parent), (other, sub), (sub, parent)] {
        failures.extend(check_usernames_are_per_list(&api, me, target).await);
    }

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

/// One source address reaches at most one trunk without a domain (docs/trunks.md, "Provisioned trunks"; an
/// issue asks that "overlapping access lists between accounts are refused at write time
/// with a clear error"), so an account offering, for its trunk without a domain, a range
/// that another account's such trunk admits — as a new address, as its address, or by
/// putting a list that holds it on that trunk — must be refused, and the refusal
/// necessarily tells that the range is taken: nothing else keeps the source from reaching
/// two trunks. What it must not do is name more of the other account's than that: not its
/// list, not its trunk (records that answer 404 everywhere else), and not its range where
/// the request did not hold it (the /24 around its /32 must not learn the /32).
#[tokio::test]
async fn an_overlap_refusal_names_no_list_trunk_or_range_of_another_account() {
    let (_h, api, w) = start().await;
    let everything = everything(&api).await;
    let before = snapshot(&api, &everything).await;
    let (parent, sub, other) = (&w.parent, &w.sub, &w.other);
    let mut failures = Vec::new();
    let mut count = 0;
    for (me, target) in [(other, parent), (other, sub), (sub, parent)] {
        let probes = range_probes(me, target);
        count += probes.len() + 1;
        failures.extend(check_taken(&api, me, &probes, &target.secrets()).await);
        failures.extend(check_taken_list(&api, me, target).await);
    }
    assert_eq!(count, 15, "{count} probes");
    assert!(
        failures.is_empty(),
        "{} overlap refusals name another account's records:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(snapshot(&api, &everything).await, before, "data changed");
}

/// A password goes in and never comes out, nor its digests: not in what the operator
/// reads, not in what its owner (or the owner's parent) reads, not in the answer that
/// sets it.
#[tokio::test]
async fn no_answer_to_anyone_holds_a_password() {
    let (_h, api, w) = start().await;
    let (parent, sub, other) = (&w.parent, &w.sub, &w.other);
    let passwords = [parent.hidden(), sub.hidden(), other.hidden()].concat();
    let everything = everything(&api).await;
    for (path, body) in everything.iter().zip(snapshot(&api, &everything).await) {
        let found = leaks(&body, &passwords);
        assert!(found.is_empty(), "the operator GET {path}: {found:?}");
    }
    // The parent reads its sub-account's records and nothing of the other account's.
    let secrets = [other.secrets(), sub.hidden()].concat();
    let gets = walk_view(&api, parent, &secrets, &[]).await;
    assert!(gets > 200, "{gets} GETs");
    // A new password: the answer names the username only.
    let set = [("Password", NEW_PASSWORD)];
    let (s, body) = api
        .post(&parent.credential_path(), &parent.creds, &set)
        .await;
    assert_eq!(
        (s, &body["username"]),
        (200, &json!(parent.username)),
        "{body}"
    );
    let both = [hidden(&parent.username, NEW_PASSWORD), parent.hidden()].concat();
    assert_eq!(leaks(&body, &both), Vec::<String>::new(), "{body}");
    let (s, body) = api.get(&parent.credential_path(), &parent.creds, &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(leaks(&body, &both), Vec::<String>::new(), "{body}");
}

#[tokio::test]
async fn an_update_that_names_nothing_is_refused_and_changes_nothing() {
    let (_h, api, w) = start().await;
    let everything = everything(&api).await;
    let before = snapshot(&api, &everything).await;
    let mut updates = Vec::new();
    for estate in [&w.parent, &w.sub] {
        let records = estate.fetch_paths();
        for (method, path, _) in estate.endpoints() {
            if method == "POST" && records.contains(&path) && !updates.contains(&path) {
                let (s, body) = api.call("POST", &path, Some(&estate.creds), &[]).await;
                assert_eq!(
                    (s, body["code"].as_u64()),
                    (400, Some(20001)),
                    "POST {path} with no parameter: {body}"
                );
                updates.push(path);
            }
        }
    }
    // Accounts, bundles, end users, trunks, their lists, addresses and credentials,
    // origination URLs: each kind of record is among them.
    for kind in [
        "/Accounts/AC",
        "/CustomerProfiles/",
        "/TrustProducts/",
        "/EndUsers/",
        "/Trunks/TK",
        "/IpAccessControlLists/AL",
        "/IpAddresses/IP",
        "/CredentialLists/CL",
        "/Credentials/CR",
        "/OriginationUrls/",
    ] {
        assert!(
            updates.iter().any(|p| p.contains(kind)),
            "no update of {kind}: {updates:?}"
        );
    }
    assert_eq!(snapshot(&api, &everything).await, before);
}
