//! Supporting documents through a bundle's review, on the service's virtual clock: their
//! statuses follow the bundle's, the operator reviews them alone, expiry turns them
//! `EXPIRED` when the clock passes `valid_until`, and evaluations count only documents
//! that are still evidence.

use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::store::Page;
use crate::trust::{DocumentStatus, Evaluation};
use crate::trusthub::documents::{DocumentUpdate, NewDocument, Upload};
use crate::trusthub::end_users::NewEndUser;

/// A hub on an empty store with one account, and the clock it runs on.
fn hub_and_clock() -> (Hub, Arc<FixedClock>) {
    let data = TrustData {
        accounts: vec![Account {
            sid: sid(QUICKDIAL),
            parent_sid: None,
            friendly_name: None,
            auth_token: Some("t-4".into()),
            status: AccountStatus::Active,
            account_type: None,
            date_created: None,
            date_updated: None,
            uri: None,
            subresource_uris: None,
            suspension_cause: None,
            secondary_auth_token: None,
        }],
        ..TrustData::default()
    };
    let store = SqliteStore::in_memory().unwrap();
    store.seed(&data).unwrap();
    let trust = Arc::new(Trust::new(crate::trust::Index::build(&data).unwrap()));
    let clock = Arc::new(FixedClock::at(NOW));
    let hub = Hub::new(
        Arc::new(store),
        trust,
        clock.clone(),
        Numbering::default(),
        Some((sid(OPERATOR), "operator-secret".to_owned())),
        None,
    );
    (hub, clock)
}

fn address(hub: &Hub, who: &Caller) -> Sid {
    let new = NewDocument {
        friendly_name: "HQ".into(),
        document_type: "customer_profile_address".into(),
        attributes: json!({"address_sids": "AD0123456789abcdef0123456789abcdef"}),
        file: None,
    };
    hub.create_document(who, new).unwrap().sid
}

/// A draft Primary profile with its end users and `document` attached.
fn profile_with(hub: &Hub, who: &Caller, document: Sid) -> Sid {
    let kind = BundleKind::CustomerProfile;
    let new = NewBundle {
        friendly_name: "Quickdial".into(),
        email: "ops@quickdial.example".into(),
        policy_sid: Policy::PrimaryCustomerProfile.sid(),
        status_callback: None,
    };
    let p = hub.create_bundle(who, kind, new).unwrap().sid;
    for t in [
        "customer_profile_business_information",
        "authorized_representative_1",
    ] {
        let user = NewEndUser {
            friendly_name: t.into(),
            end_user_type: t.into(),
            attributes: json!({}),
        };
        let it = hub.create_end_user(who, user).unwrap().sid;
        hub.link(who, kind, p, it).unwrap();
    }
    hub.link(who, kind, p, document).unwrap();
    p
}

fn set_status(hub: &Hub, who: &Caller, bundle: Sid, status: BundleStatus) {
    let update = BundleUpdate {
        status: Some(status),
        ..BundleUpdate::default()
    };
    hub.update_bundle(who, BundleKind::CustomerProfile, bundle, update)
        .unwrap();
}

fn status_of(hub: &Hub, document: Sid) -> DocumentStatus {
    let doc = hub.document(&Caller::Operator, document).unwrap();
    doc.status_at(hub.now_time())
}

fn evaluation(hub: &Hub, who: &Caller, bundle: Sid) -> Evaluation {
    let policy = Policy::PrimaryCustomerProfile.sid();
    hub.evaluate(who, BundleKind::CustomerProfile, bundle, policy)
        .unwrap()
}

#[test]
fn documents_follow_the_review_of_their_bundle() {
    let (hub, _) = hub_and_clock();
    let me = account(QUICKDIAL);
    let rd = address(&hub, &me);
    let p = profile_with(&hub, &me, rd);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Draft);
    set_status(&hub, &me, p, BundleStatus::PendingReview);
    assert_eq!(status_of(&hub, rd), DocumentStatus::PendingReview);
    // Under review, the customer cannot change what the bundle rests on.
    let edit = DocumentUpdate {
        attributes: Some(json!({"address_sids": "AD00000000000000000000000000000001"})),
        ..DocumentUpdate::default()
    };
    assert!(matches!(
        hub.update_document(&me, rd, edit.clone()),
        Err(HubError::NotEditable { .. })
    ));
    // Rejecting the bundle is no verdict on the document: it is a draft again.
    set_status(&hub, &Caller::Operator, p, BundleStatus::TwilioRejected);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Draft);
    // Edited while the bundle is editable; resubmitted and approved with it.
    hub.update_document(&me, rd, edit).unwrap();
    set_status(&hub, &me, p, BundleStatus::PendingReview);
    set_status(&hub, &Caller::Operator, p, BundleStatus::TwilioApproved);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
    // A rebuild from the store takes the documents and their links.
    assert_eq!(
        hub.trust().load().snapshot(),
        hub.rebuilt().unwrap().snapshot()
    );
}

#[test]
fn the_operator_reviews_a_document_and_only_the_operator() {
    let (hub, _) = hub_and_clock();
    let me = account(QUICKDIAL);
    let rd = address(&hub, &me);
    let p = profile_with(&hub, &me, rd);
    let reject = DocumentUpdate {
        status: Some(DocumentStatus::Rejected),
        ..DocumentUpdate::default()
    };
    assert_eq!(
        hub.update_document(&me, rd, reject.clone()),
        Err(HubError::OperatorOnly("set a supporting document's Status"))
    );
    let expire = DocumentUpdate {
        status: Some(DocumentStatus::Expired),
        ..DocumentUpdate::default()
    };
    assert!(matches!(
        hub.update_document(&Caller::Operator, rd, expire),
        Err(HubError::Value(_))
    ));
    hub.update_document(&Caller::Operator, rd, reject).unwrap();
    // A rejected document is not evidence: the profile cannot be submitted on it.
    let e = evaluation(&hub, &me, p);
    assert_eq!(e.status, "noncompliant");
    assert_eq!(e.results[2]["invalid"][0]["object_sid"], rd.to_string());
    assert!(matches!(
        hub.update_bundle(
            &me,
            BundleKind::CustomerProfile,
            p,
            BundleUpdate {
                status: Some(BundleStatus::PendingReview),
                ..BundleUpdate::default()
            }
        ),
        Err(HubError::Noncompliant { .. })
    ));
    // New content is new evidence: a draft again, and the profile can go.
    let edit = DocumentUpdate {
        attributes: Some(json!({"address_sids": ["AD00000000000000000000000000000002"]})),
        ..DocumentUpdate::default()
    };
    let doc = hub.update_document(&me, rd, edit).unwrap();
    assert_eq!(doc.status, DocumentStatus::Draft);
    set_status(&hub, &me, p, BundleStatus::PendingReview);
}

#[test]
fn a_document_expires_when_the_clock_passes_valid_until() {
    let (hub, clock) = hub_and_clock();
    let me = account(QUICKDIAL);
    let rd = address(&hub, &me);
    let p = profile_with(&hub, &me, rd);
    let until = OffsetDateTime::from_unix_timestamp(NOW + 3600).unwrap();
    let update = DocumentUpdate {
        valid_until: Some(Some(until)),
        ..DocumentUpdate::default()
    };
    assert_eq!(
        hub.update_document(&me, rd, update.clone()),
        Err(HubError::OperatorOnly("set ValidUntil"))
    );
    hub.update_document(&Caller::Operator, rd, update).unwrap();
    set_status(&hub, &me, p, BundleStatus::PendingReview);
    set_status(&hub, &Caller::Operator, p, BundleStatus::TwilioApproved);
    assert_eq!(evaluation(&hub, &me, p).status, "compliant");

    clock.advance(3599);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
    clock.advance(1);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Expired);
    let e = evaluation(&hub, &me, p);
    assert_eq!(e.status, "noncompliant");
    assert!(
        e.results[2]["failure_reason"]
            .as_str()
            .unwrap()
            .contains("has expired"),
        "{}",
        e.results
    );
    // The operator extends it: evidence again, with the status it had.
    let extend = DocumentUpdate {
        valid_until: Some(None),
        ..DocumentUpdate::default()
    };
    hub.update_document(&Caller::Operator, rd, extend).unwrap();
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
    assert_eq!(evaluation(&hub, &me, p).status, "compliant");
}

#[test]
fn a_document_on_a_bundle_cannot_be_deleted_and_its_file_goes_with_it() {
    let (hub, _) = hub_and_clock();
    let me = account(QUICKDIAL);
    let upload = Upload {
        content: b"%PDF-1.7 proof".to_vec(),
        declared_type: Some("application/pdf".into()),
    };
    let new = NewDocument {
        friendly_name: "ID".into(),
        document_type: "government_issued_proof_of_authorized_representative".into(),
        attributes: json!({"first_name": "Ada", "last_name": "L", "business_name": "Q"}),
        file: Some(upload),
    };
    let doc = hub.create_document(&me, new).unwrap();
    assert_eq!(doc.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(doc.file_size, Some(14));
    let (_, bytes) = hub.document_file(&me, doc.sid).unwrap();
    assert_eq!(bytes, b"%PDF-1.7 proof");
    let p = profile_with(&hub, &me, doc.sid);
    assert_eq!(
        hub.delete_document(&me, doc.sid),
        Err(HubError::DocumentAssigned {
            document: doc.sid,
            bundle: p
        })
    );
    let link = hub
        .entity_assignments(&me, BundleKind::CustomerProfile, p, None, Page::ALL)
        .unwrap()
        .into_iter()
        .find(|a| a.object_sid == doc.sid)
        .unwrap();
    hub.unlink(&me, BundleKind::CustomerProfile, p, link.sid)
        .unwrap();
    hub.delete_document(&me, doc.sid).unwrap();
    assert!(hub.store().document_file(doc.sid).unwrap().is_none());
    assert_eq!(
        hub.document(&me, doc.sid),
        Err(HubError::NotFound(Missing::SupportingDocument(doc.sid)))
    );
    // The index still equals a rebuild of the store.
    assert_eq!(
        hub.trust().load().snapshot(),
        hub.rebuilt().unwrap().snapshot()
    );
}

#[test]
fn a_document_on_two_bundles_keeps_the_status_the_other_holds() {
    let (hub, _) = hub_and_clock();
    let me = account(QUICKDIAL);
    let op = Caller::Operator;
    let rd = address(&hub, &me);
    let (a, b) = (profile_with(&hub, &me, rd), profile_with(&hub, &me, rd));
    set_status(&hub, &me, a, BundleStatus::PendingReview);
    set_status(&hub, &me, b, BundleStatus::PendingReview);
    // Rejected with A, still under review with B.
    set_status(&hub, &op, a, BundleStatus::TwilioRejected);
    assert_eq!(status_of(&hub, rd), DocumentStatus::PendingReview);
    set_status(&hub, &op, b, BundleStatus::TwilioApproved);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
    // A's resubmission and rejection leave B's approval standing.
    set_status(&hub, &me, a, BundleStatus::PendingReview);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
    set_status(&hub, &op, a, BundleStatus::TwilioRejected);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
    // Revoking B's approval, the last one, makes it a draft.
    set_status(&hub, &op, b, BundleStatus::TwilioRejected);
    assert_eq!(status_of(&hub, rd), DocumentStatus::Draft);
}

#[test]
fn a_bundle_is_not_approved_on_a_rejected_or_expired_document() {
    let (hub, clock) = hub_and_clock();
    let me = account(QUICKDIAL);
    let op = Caller::Operator;
    let rd = address(&hub, &me);
    let p = profile_with(&hub, &me, rd);
    set_status(&hub, &me, p, BundleStatus::PendingReview);
    let approve = BundleUpdate {
        status: Some(BundleStatus::TwilioApproved),
        ..BundleUpdate::default()
    };
    let reject = DocumentUpdate {
        status: Some(DocumentStatus::Rejected),
        ..DocumentUpdate::default()
    };
    hub.update_document(&op, rd, reject).unwrap();
    let refused = hub.update_bundle(&op, BundleKind::CustomerProfile, p, approve.clone());
    assert!(
        matches!(&refused, Err(HubError::Noncompliant { missing, .. }) if missing[0].contains("rejected")),
        "{refused:?}"
    );
    // Approved by the operator again, but expiring before the decision.
    let until = OffsetDateTime::from_unix_timestamp(NOW + 60).unwrap();
    let update = DocumentUpdate {
        status: Some(DocumentStatus::Approved),
        valid_until: Some(Some(until)),
        ..DocumentUpdate::default()
    };
    hub.update_document(&op, rd, update).unwrap();
    clock.advance(60);
    let refused = hub.update_bundle(&op, BundleKind::CustomerProfile, p, approve.clone());
    assert!(
        matches!(&refused, Err(HubError::Noncompliant { missing, .. }) if missing[0].contains("expired")),
        "{refused:?}"
    );
    assert_eq!(
        hub.bundle(&op, BundleKind::CustomerProfile, p)
            .unwrap()
            .status,
        BundleStatus::PendingReview
    );
    // Rejected, the customer sends new content: a draft with no expiry, and it goes.
    set_status(&hub, &op, p, BundleStatus::TwilioRejected);
    let edit = DocumentUpdate {
        attributes: Some(json!({"address_sids": "AD00000000000000000000000000000003"})),
        ..DocumentUpdate::default()
    };
    let doc = hub.update_document(&me, rd, edit).unwrap();
    assert_eq!((doc.status, doc.valid_until), (DocumentStatus::Draft, None));
    set_status(&hub, &me, p, BundleStatus::PendingReview);
    hub.update_bundle(&op, BundleKind::CustomerProfile, p, approve)
        .unwrap();
    assert_eq!(status_of(&hub, rd), DocumentStatus::Approved);
}

#[test]
fn an_account_holds_a_bounded_number_of_documents() {
    let (hub, _) = hub_and_clock();
    let me = account(QUICKDIAL);
    for _ in 0..crate::trusthub::documents::MAX_DOCUMENTS {
        address(&hub, &me);
    }
    let new = NewDocument {
        friendly_name: "one too many".into(),
        document_type: "customer_profile_address".into(),
        attributes: json!({}),
        file: None,
    };
    assert_eq!(
        hub.create_document(&me, new),
        Err(HubError::TooMany {
            what: "supporting documents per account",
            max: crate::trusthub::documents::MAX_DOCUMENTS
        })
    );
}
