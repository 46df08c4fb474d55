//! Automated vetting through the service, on its virtual clock: a submission runs its
//! policy's workflow, the decision is committed with its evaluation and review log entry,
//! the queue keeps deadlines, and only the operator reads the queue and the log.

use serde_json::{Value, json};

use super::*;
use crate::metrics::Metrics;
use crate::store::Page;
use crate::trust::{Bundle, Decider};
use crate::trusthub::end_users::NewEndUser;
use crate::trusthub::vetting::{Deadlines, Vetting};
use crate::vetting::identity::{Record, Records};
use crate::vetting::workflow::{Outcome, Workflows};

const REP_PHONE: &str = "+12675550111";

/// Quickdial (a top-level account owning [`REP_PHONE`]) on a hub with the default
/// workflows and one subscriber record, its metrics, and the clock.
fn vetting_hub(automatic: bool) -> (Hub, Arc<FixedClock>, Arc<Metrics>) {
    dormant_hub(automatic, None)
}

/// [`vetting_hub`], with accounts dormant after `dormant_after` seconds without a call.
fn dormant_hub(
    automatic: bool,
    dormant_after: Option<i64>,
) -> (Hub, Arc<FixedClock>, Arc<Metrics>) {
    let data = TrustData::from_json(include_str!("../../../config/trust.json")).unwrap();
    let store = SqliteStore::in_memory().unwrap();
    store.seed(&data).unwrap();
    let trust = Arc::new(Trust::new(crate::trust::Index::build(&data).unwrap()));
    let clock = Arc::new(FixedClock::at(NOW));
    let metrics = Arc::new(Metrics::new());
    let mut records = Records::default();
    records.insert(Record {
        phone_number: REP_PHONE.into(),
        first_name: Some("Dana".into()),
        last_name: Some("Whitfield".into()),
        address_line1: Some("200 Commerce Street".into()),
        ..Record::default()
    });
    let vetting = Vetting::new(
        Workflows::embedded(),
        Arc::new(records),
        Deadlines::default(),
        automatic,
        Some(metrics.clone()),
    )
    .with_dormancy(dormant_after);
    let hub = Hub::new(
        Arc::new(store),
        trust,
        clock.clone(),
        Numbering::default(),
        Some((sid(OPERATOR), "operator-secret".to_owned())),
        None,
    )
    .with_vetting(vetting);
    hub.create_number(&Caller::Operator, sid(QUICKDIAL), REP_PHONE, None)
        .unwrap();
    (hub, clock, metrics)
}

fn business(ein: &str) -> Value {
    json!({
        "business_name": "Quickdial LLC",
        "business_type": "Limited Liability Corporation",
        "business_registration_identifier": "EIN",
        "business_registration_number": ein,
        "business_identity": "direct_customer",
        "business_industry": "TELECOMMUNICATIONS",
        "website_url": "https://quickdial.example.com",
        "business_regions_of_operation": "USA_AND_CANADA",
    })
}

fn representative(first_name: &str) -> Value {
    json!({
        "first_name": first_name,
        "last_name": "Whitfield",
        "email": "dana@quickdial.example.com",
        "phone_number": REP_PHONE,
        "business_title": "Founder",
        "job_position": "CEO",
        "address_line1": "200 Commerce St",
    })
}

/// A draft Primary profile of Quickdial with these end users and an address.
fn primary(hub: &Hub, business: Value, rep: Value) -> Sid {
    let me = account(QUICKDIAL);
    let kind = BundleKind::CustomerProfile;
    let new = NewBundle {
        friendly_name: "Quickdial".into(),
        email: "ops@quickdial.example.com".into(),
        policy_sid: Policy::PrimaryCustomerProfile.sid(),
        status_callback: None,
    };
    let p = hub.create_bundle(&me, kind, new).unwrap().sid;
    for (t, attributes) in [
        ("customer_profile_business_information", business),
        ("authorized_representative_1", rep),
    ] {
        let user = NewEndUser {
            friendly_name: t.into(),
            end_user_type: t.into(),
            attributes,
        };
        let it = hub.create_end_user(&me, user).unwrap().sid;
        hub.link(&me, kind, p, it).unwrap();
    }
    let doc = crate::trusthub::documents::NewDocument {
        friendly_name: "HQ".into(),
        document_type: "customer_profile_address".into(),
        attributes: json!({"address_sids": "AD0123456789abcdef0123456789abcdef"}),
        file: None,
    };
    let rd = hub.create_document(&me, doc).unwrap().sid;
    hub.link(&me, kind, p, rd).unwrap();
    p
}

/// [`primary`], submitted by Quickdial.
fn submitted(hub: &Hub, ein: &str, first_name: &str) -> Sid {
    let p = primary(hub, business(ein), representative(first_name));
    move_to(
        hub,
        &account(QUICKDIAL),
        p,
        BundleStatus::PendingReview,
        None,
    );
    p
}

fn move_to(hub: &Hub, who: &Caller, p: Sid, to: BundleStatus, reason: Option<&str>) {
    let update = BundleUpdate {
        status: Some(to),
        reason: reason.map(str::to_owned),
        ..BundleUpdate::default()
    };
    hub.update_bundle(who, BundleKind::CustomerProfile, p, update)
        .unwrap();
}

fn bundle(hub: &Hub, p: Sid) -> Bundle {
    hub.bundle(&Caller::Operator, BundleKind::CustomerProfile, p)
        .unwrap()
}

fn log(hub: &Hub, p: Sid) -> Vec<crate::trust::ReviewEntry> {
    hub.review_log(&Caller::Operator, Some(p), Page::ALL)
        .unwrap()
}

#[test]
fn a_vetted_submission_is_approved_with_its_evaluation_and_log() {
    let (hub, clock, metrics) = vetting_hub(true);
    let p = submitted(&hub, "27-1234567", "Dana");
    clock.advance(3);
    assert_eq!(hub.vet(p), Ok(Some(Outcome::Approve)));
    let b = bundle(&hub, p);
    assert_eq!(b.status, BundleStatus::TwilioApproved);
    assert_eq!(b.errors, None);
    // The evaluation holds one result per check and the decision.
    let evaluations = hub
        .evaluations(&Caller::Operator, BundleKind::CustomerProfile, p, Page::ALL)
        .unwrap();
    assert_eq!(evaluations.len(), 1);
    assert_eq!(evaluations[0].status, "compliant");
    let results = evaluations[0].results.as_array().unwrap();
    assert_eq!(results.last().unwrap()["outcome"], "approve");
    assert!(results.iter().all(|r| r["passed"] == true), "{results:#?}");
    // The log: the customer's submission, then the workflow's decision.
    let entries = log(&hub, p);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].decided_by, Decider::Customer);
    assert_eq!(entries[0].actor, QUICKDIAL);
    assert_eq!(entries[0].to_status, BundleStatus::PendingReview);
    let decision = &entries[1];
    assert_eq!(decision.decided_by, Decider::Workflow);
    assert_eq!(decision.workflow_version.as_deref(), Some("2026-12-05.1"));
    assert_eq!(decision.evaluation_sid, Some(evaluations[0].sid));
    assert_eq!(decision.score, Some(100));
    assert_eq!(
        decision.submitted_at.as_deref(),
        Some("2027-01-15T08:00:00Z")
    );
    assert_eq!(decision.deadline.as_deref(), Some("2027-01-16T08:00:00Z"));
    assert!(!decision.late);
    // Approving the Primary made its automatic trust product: its calls are B now.
    let n = canonicalize("+12675550100", &Numbering::default()).unwrap();
    let level = hub.trust().load().attest(sid(QUICKDIAL), n, NOW).level;
    assert_eq!(level, Attest::B);
    let text = metrics.render();
    assert!(
        text.contains(
            "callsign_vetting_decisions_total{outcome=\"twilio-approved\",decided_by=\"workflow\"} 1"
        ),
        "{text}"
    );
    // Nothing is decided twice.
    assert_eq!(hub.vet(p), Ok(None));
}

#[test]
fn a_hard_failure_is_rejected_naming_the_field_and_can_be_fixed() {
    let (hub, _, _) = vetting_hub(true);
    let me = account(QUICKDIAL);
    let p = primary(&hub, business("07-1234567"), representative("Dana"));
    move_to(&hub, &me, p, BundleStatus::PendingReview, None);
    assert_eq!(hub.vet(p), Ok(Some(Outcome::Reject)));
    let b = bundle(&hub, p);
    assert_eq!(b.status, BundleStatus::TwilioRejected);
    let errors = b.errors.unwrap();
    assert_eq!(errors[0]["code"], 18602);
    assert_eq!(errors[0]["field"], "business_registration_number");
    // Rejected is editable again: the customer resubmits, the log keeps both rounds.
    move_to(&hub, &me, p, BundleStatus::PendingReview, None);
    assert_eq!(log(&hub, p).len(), 3);
}

#[test]
fn an_unconfirmed_identity_waits_for_the_operator_who_decides_with_a_reason() {
    let (hub, clock, metrics) = vetting_hub(true);
    // The subscriber records name someone else on the representative's number.
    let p = submitted(&hub, "27-1234567", "Robin");
    assert_eq!(hub.vet(p), Ok(Some(Outcome::Review)));
    assert_eq!(bundle(&hub, p).status, BundleStatus::InReview);
    let queue = hub.review_queue(&Caller::Operator).unwrap();
    let waiting = queue.iter().find(|q| q.bundle.sid == p).unwrap();
    assert_eq!(waiting.deadline, NOW + 24 * 3600);
    // The operator decides after the deadline: the log says so, and the metrics count it.
    clock.advance(25 * 3600);
    hub.refresh_queue_metrics().unwrap();
    assert!(
        metrics
            .render()
            .contains("callsign_vetting_queue_overdue 1")
    );
    move_to(
        &hub,
        &Caller::Operator,
        p,
        BundleStatus::TwilioApproved,
        Some("Called the number on file; the founder confirmed"),
    );
    let entries = log(&hub, p);
    let last = entries.last().unwrap();
    assert_eq!(last.decided_by, Decider::Operator);
    assert_eq!(last.from_status, BundleStatus::InReview);
    assert_eq!(
        last.reason.as_deref(),
        Some("Called the number on file; the founder confirmed")
    );
    assert!(last.late);
    let text = metrics.render();
    assert!(
        text.contains("callsign_vetting_decisions_late_total{decided_by=\"operator\"} 1"),
        "{text}"
    );
    assert!(
        !hub.review_queue(&Caller::Operator)
            .unwrap()
            .iter()
            .any(|q| q.bundle.sid == p)
    );
}

#[test]
fn without_automation_submissions_wait_and_the_log_still_records() {
    let (hub, _, _) = vetting_hub(false);
    let p = submitted(&hub, "27-1234567", "Dana");
    // `vet` is what the worker calls; without automation the worker never starts, and
    // the bundle waits in the queue.
    assert_eq!(bundle(&hub, p).status, BundleStatus::PendingReview);
    assert_eq!(log(&hub, p).len(), 1);
    assert!(
        hub.review_queue(&Caller::Operator)
            .unwrap()
            .iter()
            .any(|q| q.bundle.sid == p)
    );
}

#[test]
fn only_the_operator_reads_the_queue_and_the_log_and_sets_a_reason() {
    let (hub, _, _) = vetting_hub(true);
    let me = account(QUICKDIAL);
    assert!(matches!(
        hub.review_queue(&me),
        Err(HubError::OperatorOnly(_))
    ));
    assert!(matches!(
        hub.review_log(&me, None, Page::ALL),
        Err(HubError::OperatorOnly(_))
    ));
    let p = primary(&hub, business("27-1234567"), representative("Dana"));
    let update = BundleUpdate {
        status: Some(BundleStatus::PendingReview),
        reason: Some("trust me".into()),
        ..BundleUpdate::default()
    };
    assert!(matches!(
        hub.update_bundle(&me, BundleKind::CustomerProfile, p, update),
        Err(HubError::OperatorOnly(_))
    ));
    let update = BundleUpdate {
        reason: Some("x".repeat(1025)),
        ..BundleUpdate::default()
    };
    assert!(matches!(
        hub.update_bundle(&Caller::Operator, BundleKind::CustomerProfile, p, update),
        Err(HubError::TooLong { .. })
    ));
    // Nothing was written by the refused requests.
    assert!(log(&hub, p).is_empty());
    assert_eq!(bundle(&hub, p).status, BundleStatus::Draft);
}

#[test]
fn the_log_outlives_its_bundle_and_refuses_a_rewrite() {
    let (hub, _, _) = vetting_hub(true);
    let p = submitted(&hub, "27-1234567", "Dana");
    hub.vet(p).unwrap();
    let entries = log(&hub, p);
    hub.delete_bundle(&Caller::Operator, BundleKind::CustomerProfile, p)
        .unwrap();
    assert_eq!(log(&hub, p), entries);
    let again = hub
        .store()
        .apply(&[crate::trust::Change::AppendReview(entries[0].clone())]);
    assert!(again.is_err(), "an entry's SID is written once");
    assert_eq!(log(&hub, p), entries);
}

#[test]
fn a_dormant_account_is_reviewed_by_the_operator_until_it_calls_again() {
    let day = 86_400;
    let (hub, clock, metrics) = dormant_hub(true, Some(30 * day));
    let quickdial = sid(QUICKDIAL);
    let call = |at| (metrics.calls).record(quickdial, Attest::A, "a_full", at);
    // No call since long before: dormant, the approval goes to the operator.
    call(NOW - 40 * day);
    hub.flush_activity().unwrap();
    assert_eq!(
        hub.store().last_activity(quickdial),
        Ok(Some(NOW - 40 * day))
    );
    assert_eq!(hub.last_call(quickdial), Ok(Some(NOW - 40 * day)));
    let p = submitted(&hub, "27-1234567", "Dana");
    assert_eq!(hub.vet(p), Ok(Some(Outcome::Review)));
    let evaluation = &hub
        .evaluations(&Caller::Operator, BundleKind::CustomerProfile, p, Page::ALL)
        .unwrap()[0];
    let results = evaluation.results.as_array().unwrap();
    let activity = results
        .iter()
        .find(|r| r["requirement_name"] == "account-activity")
        .unwrap();
    assert_eq!(activity["passed"], false);
    assert!(
        activity["failure_reason"]
            .as_str()
            .unwrap()
            .contains("no call for 40 days"),
        "{activity}"
    );
    // A call today (counted by the proxy, not yet in the store) ends the dormancy.
    clock.advance(60);
    call(NOW + 60);
    assert_eq!(hub.last_call(quickdial), Ok(Some(NOW + 60)));
    let again = submitted(&hub, "27-7654321", "Dana");
    assert_eq!(hub.vet(again), Ok(Some(Outcome::Approve)));
    // Flushed, and the store keeps the later of two times.
    hub.flush_activity().unwrap();
    assert_eq!(hub.store().last_activity(quickdial), Ok(Some(NOW + 60)));
    (hub.store())
        .record_activity(&[(quickdial, NOW - 5 * day)])
        .unwrap();
    assert_eq!(hub.store().last_activity(quickdial), Ok(Some(NOW + 60)));
}
