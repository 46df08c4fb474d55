use serde_json::json;

use super::*;
use crate::trust::Policy;
use crate::vetting::checks::Attributes;
use crate::vetting::identity::{Query, Record, grade};

fn attrs(v: Value) -> Attributes {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn business() -> Attributes {
    attrs(json!({
        "business_name": "Acme Widgets Inc",
        "business_type": "Corporation",
        "business_registration_identifier": "EIN",
        "business_registration_number": "12-3456789",
        "business_identity": "direct_customer",
        "business_industry": "TECHNOLOGY",
        "website_url": "https://www.acme-widgets.com",
        "business_regions_of_operation": "USA_AND_CANADA",
    }))
}

fn representative() -> Attributes {
    attrs(json!({
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@acme-widgets.com",
        "phone_number": "+14155550100",
        "business_title": "Chief Executive",
        "job_position": "CEO",
        "address_line1": "1 Market St",
    }))
}

fn record() -> Record {
    Record {
        phone_number: "+14155550100".into(),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        address_line1: Some("1 Market Street".into()),
        ..Record::default()
    }
}

fn query(rep: &Attributes) -> Query {
    let get = |k: &str| rep.get(k).and_then(Value::as_str).map(str::to_owned);
    Query {
        first_name: get("first_name"),
        last_name: get("last_name"),
        address_line1: get("address_line1"),
        ..Query::default()
    }
}

struct Case {
    business: Attributes,
    rep: Attributes,
    numbers: Vec<String>,
    approved: Vec<ApprovedProfile>,
    identity: Result<Option<MatchResult>, String>,
}

fn good() -> Case {
    let rep = representative();
    let identity = Ok(Some(grade(&query(&rep), Some(&record()))));
    Case {
        business: business(),
        rep,
        numbers: vec!["+14155550100".into()],
        approved: Vec::new(),
        identity,
    }
}

fn verdict(case: &Case) -> Verdict {
    let rules = Workflows::embedded();
    let workflow = rules.of(Policy::PrimaryCustomerProfile).unwrap();
    let submission = Submission {
        account: Sid::from_parts(*b"AC", 1),
        parties: vec![
            Party {
                end_user_type: "customer_profile_business_information",
                attributes: &case.business,
            },
            Party {
                end_user_type: "authorized_representative_1",
                attributes: &case.rep,
            },
        ],
        account_numbers: case.numbers.clone(),
        approved: case.approved.clone(),
        identity: vec![("authorized_representative_1".into(), case.identity.clone())],
        linked_profile: None,
    };
    run(&rules, workflow, &submission)
}

fn failed(v: &Verdict) -> Vec<&str> {
    (v.steps.iter())
        .filter(|s| s.status != StepStatus::Passed)
        .map(|s| s.name.as_str())
        .collect()
}

#[test]
fn a_clean_submission_whose_representative_matches_is_approved() {
    let v = verdict(&good());
    assert_eq!(failed(&v), Vec::<&str>::new(), "{:#?}", v.steps);
    assert_eq!((v.outcome, v.score), (Outcome::Approve, 100));
    assert_eq!(v.version, Workflows::embedded().version);
    assert_eq!(v.errors(), None);
    let results = v.results();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), v.steps.len() + 1);
    let last = results.last().unwrap();
    assert_eq!(last["requirement_name"], "vetting_decision");
    assert_eq!(last["outcome"], "approve");
    let identity = (results.iter())
        .find(|r| r["check"] == "identity_match")
        .unwrap();
    assert_eq!(identity["passed"], true);
    assert_eq!(
        identity["detail"]["authorized_representative_1"]["summary_score"],
        100
    );
}

#[test]
fn a_hard_failure_rejects_with_errors_naming_the_field() {
    let mut case = good();
    case.business
        .insert("business_registration_number".into(), json!("00-1234567"));
    let v = verdict(&case);
    assert_eq!(v.outcome, Outcome::Reject);
    assert_eq!(failed(&v), ["registration-number"]);
    let errors = v.errors().unwrap();
    assert_eq!(errors[0]["code"], 18602);
    assert_eq!(errors[0]["field"], "business_registration_number");
    assert_eq!(
        errors[0]["object_type"],
        "customer_profile_business_information"
    );
    assert_eq!(errors[0]["check"], "registration-number");
    let results = v.results();
    let step = (results.as_array().unwrap().iter())
        .find(|r| r["requirement_name"] == "registration-number")
        .unwrap();
    assert_eq!(step["passed"], false);
    assert_eq!(
        step["invalid"][0]["object_field"],
        "business_registration_number"
    );
    assert_eq!(step["error_code"], 18602);
    // A missing required attribute is named too.
    let mut case = good();
    case.rep.remove("last_name");
    let v = verdict(&case);
    assert_eq!(v.outcome, Outcome::Reject);
    let errors = v.errors().unwrap();
    assert!(
        (errors.as_array().unwrap().iter())
            .any(|e| e["field"] == "last_name" && e["code"] == 22215),
        "{errors}"
    );
}

#[test]
fn too_little_corroboration_goes_to_review() {
    // No subscriber record, and a free-mail address: only the phone check scores.
    let mut case = good();
    case.identity = Ok(Some(grade(&query(&case.rep), None)));
    case.rep.insert("email".into(), json!("jane.doe@gmail.com"));
    let v = verdict(&case);
    assert_eq!(
        failed(&v),
        ["email-domain", "representative-identity"],
        "{:#?}",
        v.steps
    );
    assert_eq!((v.outcome, v.score), (Outcome::Review, 20));
    assert_eq!(v.errors(), None);
    // The representative's own number, not the account's, costs 20 of 100.
    let mut case = good();
    case.numbers.clear();
    let v = verdict(&case);
    assert_eq!((v.outcome, v.score), (Outcome::Approve, 80));
}

#[test]
fn a_duplicate_on_another_account_goes_to_review() {
    let mut case = good();
    case.approved.push(ApprovedProfile {
        account: Sid::from_parts(*b"AC", 2),
        bundle: Sid::from_parts(*b"BU", 9),
        registration: Some(("EIN".into(), "123456789".into())),
        representatives: Vec::new(),
    });
    let v = verdict(&case);
    assert_eq!(failed(&v), ["duplicate-registration"]);
    assert_eq!(v.outcome, Outcome::Review);
}

#[test]
fn unreadable_records_send_to_review_never_approve() {
    let mut case = good();
    case.identity = Err("records unavailable".into());
    let v = verdict(&case);
    assert_eq!(v.outcome, Outcome::Review);
    let step = (v.steps.iter())
        .find(|s| s.check == "identity_match")
        .unwrap();
    assert_eq!(step.status, StepStatus::Unavailable);
    // A representative without a phone number fails the match instead.
    let mut case = good();
    case.identity = Ok(None);
    let v = verdict(&case);
    let step = (v.steps.iter())
        .find(|s| s.check == "identity_match")
        .unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(step.failures[0].field, "phone_number");
}

#[test]
fn an_identity_below_the_threshold_names_the_fields_that_did_not_match() {
    let mut case = good();
    let mut q = query(&case.rep);
    // Twilio's table: first name not matching, last name and address matching, is 20.
    q.first_name = Some("Mary".into());
    case.identity = Ok(Some(grade(&q, Some(&record()))));
    let v = verdict(&case);
    let step = (v.steps.iter())
        .find(|s| s.check == "identity_match")
        .unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    let fields: Vec<&str> = step.failures.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["first_name"]);
    assert_eq!(v.outcome, Outcome::Review);
}

#[test]
fn a_trust_product_waits_for_its_profile() {
    let rules = Workflows::embedded();
    let workflow = rules.of(Policy::ShakenStir).unwrap();
    let profile = Sid::from_parts(*b"BU", 3);
    let mut submission = Submission {
        account: Sid::from_parts(*b"AC", 1),
        parties: Vec::new(),
        account_numbers: Vec::new(),
        approved: Vec::new(),
        identity: Vec::new(),
        linked_profile: Some((profile, false)),
    };
    let v = run(&rules, workflow, &submission);
    assert_eq!(v.outcome, Outcome::Review);
    assert!(v.steps[0].failures[0].reason.contains(&profile.to_string()));
    submission.linked_profile = Some((profile, true));
    assert_eq!(run(&rules, workflow, &submission).outcome, Outcome::Approve);
    submission.linked_profile = None;
    assert_eq!(run(&rules, workflow, &submission).outcome, Outcome::Review);
}
