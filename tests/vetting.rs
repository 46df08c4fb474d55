//! Automated vetting over real HTTP: a submitted profile runs the workflow in the
//! background and is approved, rejected or queued; its evaluation, the review queue and
//! the review log read back; Lookup v2's Identity Match answers from the subscriber
//! records, and refuses malformed queries with Twilio's codes; a bad rules file or
//! subscriber file stops the start, naming where.

mod common;

use common::api::*;
use common::vetting::*;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_submission_is_vetted_in_the_background_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_h, api) = vetting_hub(dir.path()).await;
    let op = Creds::operator();

    let (a, p) = submit(&api, "27-1234567", "Dana").await;
    let b = decided(&api, &a, &p).await;
    assert_eq!(b["status"], "twilio-approved", "{b}");
    let e = evaluation(&api, &a, &p).await;
    assert_eq!(e["status"], "compliant");
    let results = e["results"].as_array().unwrap();
    let identity = check_result(&e, "identity_match");
    assert_eq!(identity["passed"], true);
    assert_eq!(
        identity["detail"]["authorized_representative_1"]["first_name_match"],
        "exact_match"
    );
    assert_eq!(results.last().unwrap()["workflow_version"], "2026-12-05.1");

    // The log, the operator's alone: submission, then the workflow's decision.
    let (s, _) = api
        .get("/v1/ReviewLog", &a, &[("BundleSid", p.as_str())])
        .await;
    assert_eq!(s, 403);
    let (s, log) = api
        .get("/v1/ReviewLog", &op, &[("BundleSid", p.as_str())])
        .await;
    assert_eq!(s, 200, "{log}");
    let entries = log["results"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    assert_eq!(entries[0]["decided_by"], "customer");
    assert_eq!(entries[1]["decided_by"], "workflow");
    assert_eq!(entries[1]["to_status"], "twilio-approved");
    assert_eq!(entries[1]["evaluation_sid"], e["sid"]);

    // A hard failure: rejected, the field named.
    let (b_acct, rejected) = submit(&api, "07-1234567", "Dana").await;
    let b = decided(&api, &b_acct, &rejected).await;
    assert_eq!(b["status"], "twilio-rejected");
    assert_eq!(b["errors"][0]["code"], 18602);
    assert_eq!(b["errors"][0]["field"], "business_registration_number");

    // Someone else on the representative's number: to the queue, by deadline.
    let (c_acct, queued) = submit(&api, "27-1234568", "Robin").await;
    let b = decided(&api, &c_acct, &queued).await;
    assert_eq!(b["status"], "in-review");
    // The failed checks: the identity match (the number's subscriber is Dana), and the
    // representative found on the first account's approved profile, though end users
    // have been made since it was approved.
    let e = evaluation(&api, &c_acct, &queued).await;
    let duplicate = check_result(&e, "duplicate_representative");
    assert_eq!(duplicate["passed"], false, "{duplicate}");
    let identity = check_result(&e, "identity_match");
    assert_eq!(identity["passed"], false, "{identity}");
    assert_eq!(
        identity["detail"]["authorized_representative_1"]["first_name_match"],
        "no_match"
    );
    let (s, queue) = api.get("/v1/ReviewQueue", &op, &[]).await;
    assert_eq!(s, 200, "{queue}");
    let row = queue["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["bundle_sid"] == queued.as_str())
        .unwrap()
        .clone();
    let left = row["seconds_left"].as_i64().unwrap();
    assert!((24 * 3600 - 60..=24 * 3600).contains(&left), "{row}");
    assert_eq!(row["overdue"], false);
    let (s, _) = api.get("/v1/ReviewQueue", &a, &[]).await;
    assert_eq!(s, 403);
    // The operator decides with a reason, which the log keeps.
    let path = format!("/v1/CustomerProfiles/{queued}");
    let reason = "Called the representative back on the number on file";
    api.ok(
        &path,
        &op,
        &[("Status", "twilio-approved"), ("Reason", reason)],
    )
    .await;
    let (_, log) = api
        .get("/v1/ReviewLog", &op, &[("BundleSid", queued.as_str())])
        .await;
    let last = log["results"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["decided_by"], "operator");
    assert_eq!(last["reason"], reason);
    // A customer cannot give a reason.
    let (s, _) = api.post(&path, &c_acct, &[("Reason", "me")]).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn lookup_identity_match_answers_from_the_subscriber_records() {
    let dir = tempfile::tempdir().unwrap();
    let (_h, api) = vetting_hub(dir.path()).await;
    let a = api.account(&Creds::operator(), "Looker").await;
    let lookup = |number: &'static str, q: Vec<(&'static str, &'static str)>| {
        let api = &api;
        let a = &a;
        async move {
            let path = format!("/v2/PhoneNumbers/{}", number.replace('+', "%2B"));
            api.get(&path, a, &q).await
        }
    };
    let (s, body) = lookup(
        REP_PHONE,
        vec![
            ("Fields", "identity_match"),
            ("FirstName", "dana"),
            ("LastName", "Whitfield"),
            ("AddressLine1", "200 Commerce St"),
            ("PostalCode", "19103-1234"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["phone_number"], REP_PHONE);
    assert_eq!(body["country_code"], "US");
    assert_eq!(body["national_format"], "(215) 555-0111");
    assert_eq!(body["valid"], true);
    let m = &body["identity_match"];
    assert_eq!(m["first_name_match"], "exact_match");
    assert_eq!(m["address_lines_match"], "exact_match");
    assert_eq!(m["postal_code_match"], "exact_match");
    assert_eq!(m["date_of_birth_match"], "no_data_available");
    assert_eq!(m["summary_score"], 100);
    assert_eq!(m["error_code"], Value::Null);
    // A stranger on the number.
    let (_, body) = lookup(
        REP_PHONE,
        vec![
            ("Fields", "identity_match"),
            ("FirstName", "Robin"),
            ("LastName", "Hood"),
        ],
    )
    .await;
    assert_eq!(body["identity_match"]["first_name_match"], "no_match");
    assert_eq!(body["identity_match"]["summary_score"], 0);
    // Without the package, no identity match at all.
    let (_, body) = lookup(REP_PHONE, vec![]).await;
    assert_eq!(body["identity_match"], Value::Null);
    // Not a number: 200 and invalid, as Twilio answers.
    let (s, body) = lookup("+1215", vec![]).await;
    assert_eq!((s, body["valid"].clone()), (200, json!(false)), "{body}");
    assert_eq!(body["validation_errors"][0], "TOO_SHORT");
    let (_, body) = lookup("not-a-number", vec![]).await;
    assert_eq!(body["validation_errors"][0], "NOT_A_NUMBER");

    // Malformed queries: Twilio's codes, nothing answered.
    let long = "x".repeat(129);
    let long: &'static str = Box::leak(long.into_boxed_str());
    for (number, q, code) in [
        (
            REP_PHONE,
            vec![("Fields", "identity_match"), ("FirstName", long)],
            60618,
        ),
        (
            REP_PHONE,
            vec![
                ("Fields", "identity_match"),
                ("FirstName", "Dana"),
                ("DateOfBirth", "19901340"),
            ],
            60618,
        ),
        (REP_PHONE, vec![("Fields", "identity_match")], 60617),
        // The UK needs the postal code.
        (
            "+442071838750",
            vec![
                ("Fields", "identity_match"),
                ("FirstName", "Oliver"),
                ("LastName", "Bennett"),
                ("AddressLine1", "10 Downing St"),
            ],
            60617,
        ),
        (REP_PHONE, vec![("Fields", "caller_name")], 60606),
        (REP_PHONE, vec![("Fields", "telepathy")], 60618),
        (REP_PHONE, vec![("Firstname", "Dana")], 20001),
    ] {
        let (s, body) = lookup(number, q.clone()).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(code)),
            "{q:?}: {body}"
        );
    }
    // The UK record matches once the postal code is there, in any spacing.
    let (s, body) = lookup(
        "+442071838750",
        vec![
            ("Fields", "identity_match"),
            ("FirstName", "Oliver"),
            ("LastName", "Bennett"),
            ("AddressLine1", "10 Downing Street"),
            ("PostalCode", "sw1a2aa"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["identity_match"]["summary_score"], 100, "{body}");
    assert_eq!(body["identity_match"]["postal_code_match"], "exact_match");
    // No credentials, no answer.
    let (s, _) = api
        .call("GET", "/v2/PhoneNumbers/%2B12155550111", None, &[])
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn a_bad_rules_file_or_records_file_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("vetting.toml");
    std::fs::write(
        &rules,
        "version = \"x\"\n[[workflow]]\npolicy = \"primary_customer_profile\"\napprove_at = 50\n\
         [[workflow.check]]\nname = \"who\"\ncheck = \"identity_match\"\non_fail = \"score\"\nweight = 1\n",
    )
    .unwrap();
    let server = TestServer::new()
        .store("{}")
        .vetting(|v| v.workflows = Some(rules.clone()));
    let e = server.try_start(dir.path()).await.unwrap_err().to_string();
    assert!(
        e.contains("vetting.toml") && e.contains("check who: missing field `min_score`"),
        "{e}"
    );
    let records = dir.path().join("subscribers.csv");
    std::fs::write(
        &records,
        "phone_number,first_name\n+12155550111,Dana\n12,Bad\n",
    )
    .unwrap();
    let server = TestServer::new()
        .store("{}")
        .vetting(|v| v.subscriber_records = Some(records.clone()));
    let e = server.try_start(dir.path()).await.unwrap_err().to_string();
    assert!(e.contains("subscribers.csv") && e.contains("line 3"), "{e}");
}

/// The workflow version of `p`'s decision, from the review log.
async fn decided_version(api: &Api, p: &str) -> Value {
    let (_, log) = api
        .get("/v1/ReviewLog", &Creds::operator(), &[("BundleSid", p)])
        .await;
    log["results"].as_array().unwrap().last().unwrap()["workflow_version"].clone()
}

#[tokio::test]
async fn sighup_reloads_the_rules_and_the_records_each_kept_when_its_new_file_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("vetting.toml");
    let file = |version: &str| {
        format!(
            "version = \"{version}\"\n[[workflow]]\npolicy = \"primary_customer_profile\"\napprove_at = 0\n\
             [[workflow.check]]\nname = \"registration\"\ncheck = \"registration_number\"\non_fail = \"reject\"\n"
        )
    };
    std::fs::write(&rules, file("r1")).unwrap();
    let records = dir.path().join("subscribers.csv");
    std::fs::write(&records, RECORDS).unwrap();
    let (rules_path, records_path) = (rules.clone(), records.clone());
    let (h, api) = hub_on(TestServer::new().vetting(move |v| {
        v.workflows = Some(rules_path);
        v.subscriber_records = Some(records_path);
    }))
    .await;
    let (a, p) = submit(&api, "27-1234567", "Robin").await;
    assert_eq!(decided(&api, &a, &p).await["status"], "twilio-approved");
    assert_eq!(decided_version(&api, &p).await, "r1");

    // r2, and records in which the number's subscriber is now Morgan: both taken.
    std::fs::write(&rules, file("r2")).unwrap();
    std::fs::write(&records, RECORDS.replace("Dana", "Morgan")).unwrap();
    h.reload().await;
    let (a, p) = submit(&api, "27-1234568", "Robin").await;
    decided(&api, &a, &p).await;
    assert_eq!(decided_version(&api, &p).await, "r2");
    assert_eq!(first_name_match(&api, &a, "Morgan").await, "exact_match");

    // A bad rules file beside good records: the rules kept, the records taken.
    let bad_rules = "version = \"r3\"\n[[workflow]]\npolicy = \"gold\"\napprove_at = 0\n";
    std::fs::write(&rules, bad_rules).unwrap();
    std::fs::write(&records, RECORDS).unwrap();
    h.reload().await;
    let (a, p) = submit(&api, "27-1234569", "Robin").await;
    decided(&api, &a, &p).await;
    assert_eq!(decided_version(&api, &p).await, "r2");
    assert_eq!(first_name_match(&api, &a, "Dana").await, "exact_match");

    // A bad records file beside good rules: the rules taken, the records kept.
    std::fs::write(&rules, file("r4")).unwrap();
    std::fs::write(&records, "phone_number\nnot-a-number\n").unwrap();
    h.reload().await;
    let (a, p) = submit(&api, "27-1234570", "Robin").await;
    decided(&api, &a, &p).await;
    assert_eq!(decided_version(&api, &p).await, "r4");
    assert_eq!(first_name_match(&api, &a, "Dana").await, "exact_match");
}

/// The first-name level of an identity match of +12155550111 against `first_name`.
async fn first_name_match(api: &Api, a: &Creds, first_name: &str) -> Value {
    let (s, body) = api
        .get(
            "/v2/PhoneNumbers/%2B12155550111",
            a,
            &[
                ("Fields", "identity_match"),
                ("FirstName", first_name),
                ("LastName", "Whitfield"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    body["identity_match"]["first_name_match"].clone()
}

#[tokio::test]
async fn bad_review_log_and_queue_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_h, api) = vetting_hub(dir.path()).await;
    let op = Creds::operator();
    for (path, q) in [
        ("/v1/ReviewLog", vec![("BundleSid", "BU-not-a-sid")]),
        (
            "/v1/ReviewLog",
            vec![("BundleSid", "AC00000000000000000000000000000001")],
        ),
        ("/v1/ReviewLog", vec![("PageSize", "-1")]),
        ("/v1/ReviewQueue", vec![("Status", "in-review")]),
    ] {
        let (s, body) = api.get(path, &op, &q).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(20001)),
            "{path} {q:?}: {body}"
        );
    }
    // A SID nobody has: an empty log, not an error.
    let (s, body) = api
        .get(
            "/v1/ReviewLog",
            &op,
            &[("BundleSid", "BU00000000000000000000000000000000")],
        )
        .await;
    assert_eq!((s, body["results"].clone()), (200, json!([])));
}

/// The latest evaluation of profile `p`, read as its account `a`.
async fn evaluation(api: &Api, a: &Creds, p: &str) -> serde_json::Value {
    let path = format!("/v1/CustomerProfiles/{p}/Evaluations");
    let (s, evaluations) = api.get(&path, a, &[]).await;
    assert_eq!(s, 200, "{evaluations}");
    evaluations["results"][0].clone()
}

/// An evaluation's result of the check of kind `check`.
fn check_result(e: &serde_json::Value, check: &str) -> serde_json::Value {
    let results = e["results"].as_array().expect("results");
    (results.iter())
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("no {check} result in {e}"))
        .clone()
}
