//! The Trust Hub service without HTTP: authentication, visibility, the rules on each
//! write, the clock, and the index kept equal to the store ([`model`]).

mod documents;
mod model;
mod trunks;
mod vetting;

use std::sync::Arc;

use super::*;
use crate::clock::FixedClock;
use crate::passport::Attest;
use crate::store::{RecordStore as _, SqliteStore};
use crate::tn::canonicalize;
use crate::trust::{
    Account, AssignError, BundleKind, BundleStatus, LinkError, PhoneNumber, Policy, TrustData,
};
use crate::trusthub::bundles::{BundleUpdate, NewBundle};

const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";
const SUPPORT: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f802";
const HARBOR: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f803";
const QUICKDIAL: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f804";
const OPERATOR: &str = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
/// Unix time of the fixed clock: 2027-01-15T08:00:00Z.
const NOW: i64 = 1_800_000_000;

fn sid(s: &str) -> Sid {
    Sid::parse_any(s).unwrap()
}

fn account(s: &str) -> Caller {
    let parent = match s {
        SUPPORT | HARBOR => Some(sid(BLUEBIRD)),
        _ => None,
    };
    Caller::Account {
        sid: sid(s),
        parent,
    }
}

fn hub_with(data: TrustData) -> Hub {
    let store = SqliteStore::in_memory().unwrap();
    store.seed(&data).unwrap();
    let trust = Arc::new(Trust::new(crate::trust::Index::build(&data).unwrap()));
    let operator = Some((sid(OPERATOR), "operator-secret".to_owned()));
    Hub::new(
        Arc::new(store),
        trust,
        Arc::new(FixedClock::at(NOW)),
        Numbering::default(),
        operator,
        None,
    )
}

/// The sample data, every account's token `t-<last digit>`, Quickdial suspended.
fn hub() -> Hub {
    let mut data = TrustData::from_json(include_str!("../../../config/trust.json")).unwrap();
    for a in &mut data.accounts {
        let last = a.sid.to_string().chars().last().unwrap();
        a.auth_token = Some(format!("t-{last}"));
    }
    data.accounts[3].status = AccountStatus::Suspended;
    hub_with(data)
}

fn creds(user: &str, password: &str) -> Option<(String, String)> {
    Some((user.to_owned(), password.to_owned()))
}

#[test]
fn authenticates_the_operator_and_active_accounts_only() {
    let hub = hub();
    let auth = |u: &str, p: &str| hub.authenticate(creds(u, p).as_ref());
    assert_eq!(auth(OPERATOR, "operator-secret"), Ok(Caller::Operator));
    assert_eq!(auth(OPERATOR, "t-1"), Err(HubError::Unauthenticated));
    assert_eq!(auth(SUPPORT, "t-2"), Ok(account(SUPPORT)));
    assert_eq!(auth(SUPPORT, "t-1"), Err(HubError::Unauthenticated));
    assert_eq!(auth("not-a-sid", "t-1"), Err(HubError::Unauthenticated));
    assert_eq!(
        auth("AC00000000000000000000000000000077", "t-7"),
        Err(HubError::Unauthenticated)
    );
    assert_eq!(
        auth(QUICKDIAL, "t-4"),
        Err(HubError::AccountInactive(sid(QUICKDIAL)))
    );
    assert_eq!(hub.authenticate(None), Err(HubError::Unauthenticated));
}

#[test]
fn accounts_see_themselves_and_their_sub_accounts() {
    let hub = hub();
    let (parent, sub) = (account(BLUEBIRD), account(SUPPORT));
    assert!(hub.sees(&parent, sid(BLUEBIRD)) && hub.sees(&parent, sid(SUPPORT)));
    assert!(!hub.sees(&parent, sid(QUICKDIAL)));
    assert!(hub.sees(&sub, sid(SUPPORT)) && !hub.sees(&sub, sid(BLUEBIRD)));
    assert!(hub.sees(&Caller::Operator, sid(QUICKDIAL)));
    assert_eq!(hub.list_scope(&Caller::Operator), None);
    assert_eq!(hub.list_scope(&sub), Some(vec![sid(SUPPORT)]));
    assert_eq!(
        hub.account(&sub, sid(BLUEBIRD)),
        Err(HubError::NotFound(Missing::Account(sid(BLUEBIRD))))
    );
}

#[test]
fn writes_are_dated_by_the_service_clock() {
    let hub = hub();
    let user = hub
        .create_end_user(
            &account(BLUEBIRD),
            end_users::NewEndUser {
                friendly_name: "Bluebird".into(),
                end_user_type: "customer_profile_business_information".into(),
                attributes: serde_json::json!({}),
            },
        )
        .unwrap();
    assert_eq!(user.date_created.as_deref(), Some("2027-01-15T08:00:00Z"));
}

#[test]
fn a_review_decision_reaches_the_next_attestation() {
    let hub = hub();
    let number = canonicalize("+12675550100", &Numbering::default()).unwrap();
    let level = |hub: &Hub| hub.trust().load().attest(sid(QUICKDIAL), number, NOW).level;
    assert_eq!(level(&hub), Attest::C);
    let profiles = hub
        .bundles(
            &Caller::Operator,
            BundleKind::CustomerProfile,
            &Default::default(),
            crate::store::Page::ALL,
        )
        .unwrap();
    let pending = profiles
        .iter()
        .find(|b| b.account_sid == sid(QUICKDIAL))
        .expect("Quickdial has a profile under review");
    for to in [BundleStatus::InReview, BundleStatus::TwilioApproved] {
        if pending.status == to {
            continue;
        }
        let update = BundleUpdate {
            status: Some(to),
            ..BundleUpdate::default()
        };
        hub.update_bundle(
            &Caller::Operator,
            BundleKind::CustomerProfile,
            pending.sid,
            update,
        )
        .unwrap();
    }
    // Approving the Primary made its automatic trust product, but Quickdial is
    // suspended: C until the operator reinstates it, then B.
    let attest = hub.trust().load().attest(sid(QUICKDIAL), number, NOW);
    assert_eq!(
        (attest.level, attest.reason),
        (Attest::C, crate::trust::Reason::CAccountSuspended)
    );
    let reinstate = accounts::AccountUpdate {
        status: Some(AccountStatus::Active),
        ..Default::default()
    };
    hub.update_account(&Caller::Operator, sid(QUICKDIAL), reinstate)
        .unwrap();
    assert_eq!(level(&hub), Attest::B);
}

#[test]
fn links_follow_the_one_rule_set() {
    let hub = hub();
    let bluebird = account(BLUEBIRD);
    let new = |policy: Policy| NewBundle {
        friendly_name: "x".into(),
        email: "ops@x.example".into(),
        policy_sid: policy.sid(),
        status_callback: None,
    };
    let top_secondary = hub
        .create_bundle(
            &bluebird,
            BundleKind::CustomerProfile,
            new(Policy::SecondaryCustomerProfile),
        )
        .unwrap();
    let primary = hub
        .create_bundle(
            &bluebird,
            BundleKind::CustomerProfile,
            new(Policy::PrimaryCustomerProfile),
        )
        .unwrap();
    let profile = BundleKind::CustomerProfile;
    assert_eq!(
        hub.link(&bluebird, profile, top_secondary.sid, primary.sid),
        Err(HubError::Link(LinkError::SecondaryOfTopLevel))
    );
    let document = Sid::from_parts(*b"RD", 1);
    assert_eq!(
        hub.link(&bluebird, profile, primary.sid, document),
        Err(HubError::UnknownObject(document))
    );
    let not_an_object = Sid::from_parts(*b"PN", 1);
    assert_eq!(
        hub.link(&bluebird, profile, primary.sid, not_an_object),
        Err(HubError::Link(LinkError::ObjectKind(not_an_object)))
    );
    // Quickdial's profile is another top-level account's: a product may not link to it.
    // Bluebird is told it does not exist, as it may not see it; the operator, who sees
    // everything, is told why.
    let product = hub
        .create_bundle(&bluebird, BundleKind::TrustProduct, new(Policy::ShakenStir))
        .unwrap();
    let stranger = hub
        .create_bundle(
            &account(QUICKDIAL),
            BundleKind::CustomerProfile,
            new(Policy::PrimaryCustomerProfile),
        )
        .unwrap();
    let products = BundleKind::TrustProduct;
    assert_eq!(
        hub.link(&bluebird, products, product.sid, stranger.sid),
        Err(HubError::UnknownObject(stranger.sid))
    );
    assert_eq!(
        hub.link(&Caller::Operator, products, product.sid, stranger.sid),
        Err(HubError::Link(LinkError::ProductTarget))
    );
    // A product of its own is not a customer profile: there the reason is Bluebird's.
    let own_product = hub
        .create_bundle(&bluebird, products, new(Policy::ShakenStir))
        .unwrap();
    assert_eq!(
        hub.link(&bluebird, products, product.sid, own_product.sid),
        Err(HubError::Link(LinkError::ProductTarget))
    );
    // A number goes on the product only once it is on a linked profile.
    let free = hub
        .create_number(&Caller::Operator, sid(BLUEBIRD), "+12155550199", None)
        .unwrap();
    assert_eq!(
        hub.assign_number(
            &bluebird,
            BundleKind::TrustProduct,
            product.sid,
            free.sid,
            "phone-number"
        ),
        Err(HubError::Assign(AssignError::ProfileFirst {
            pn: free.sid,
            product: product.sid
        }))
    );
}

#[test]
fn a_refused_index_update_rebuilds_the_index_from_the_store() {
    let hub = hub();
    // The store learns of an account behind the index's back (as an import without a
    // SIGHUP would do) ...
    let newcomer = Sid::from_parts(*b"AC", 0x77);
    let record = Account {
        sid: newcomer,
        parent_sid: None,
        friendly_name: None,
        auth_token: None,
        status: AccountStatus::Active,
        account_type: None,
        date_created: None,
        date_updated: None,
        uri: None,
        subresource_uris: None,
        suspension_cause: None,
        secondary_auth_token: None,
    };
    hub.store().apply(&[Change::PutAccount(record)]).unwrap();
    let before = hub.trust().load_full();
    // ... so the index refuses a number of that account, and is rebuilt from the store.
    let number = PhoneNumber {
        sid: Sid::from_parts(*b"PN", 0x77),
        account_sid: newcomer,
        phone_number: "+12155550177".into(),
        friendly_name: None,
        date_created: None,
        date_updated: None,
        uri: None,
    };
    let guard = hub.lock().unwrap();
    hub.commit(&guard, Write::of(Change::PutNumber(number)))
        .unwrap();
    drop(guard);
    let after = hub.trust().load_full();
    assert!(!Arc::ptr_eq(&before, &after), "the index was replaced");
    let tn = canonicalize("+12155550177", &Numbering::default()).unwrap();
    assert_eq!(after.number(tn).map(|n| n.account), Some(newcomer));
    assert_eq!(after.snapshot(), hub.rebuilt().unwrap().snapshot());
}

#[test]
fn secrets_compare_exactly() {
    assert!(same_secret("abc", "abc"));
    assert!(!same_secret("abc", "abd"));
    assert!(!same_secret("abc", "abcd"));
}

#[test]
fn new_sids_are_of_their_kind_and_distinct() {
    let a = new_sid(*b"AC");
    assert!(a.is("AC"));
    assert_ne!(a, new_sid(*b"AC"));
    assert_eq!(new_token().len(), 32);
}

#[test]
fn only_the_operator_passes_operator_checks() {
    let customer = account(BLUEBIRD);
    assert_eq!(
        customer.require_operator("approve"),
        Err(HubError::OperatorOnly("approve"))
    );
    assert_eq!(Caller::Operator.require_operator("approve"), Ok(()));
    assert_eq!(
        Caller::Operator.account(),
        Err(HubError::OperatorHasNoResources)
    );
    assert_eq!(customer.account(), Ok(sid(BLUEBIRD)));
}

#[test]
fn refusals_name_no_record_the_caller_may_not_see() {
    let hub = hub();
    let (bluebird, harbor) = (account(BLUEBIRD), account(HARBOR));
    let profiles = BundleKind::CustomerProfile;
    let primary = sid("BU2b3c4d5e6f708192a3b4c5d6e7f80101");
    let secondary = sid("BU2b3c4d5e6f708192a3b4c5d6e7f80301");
    let assign = |caller: &Caller, bundle: Sid, pn: Sid| {
        hub.assign_number(caller, profiles, bundle, pn, "phone-number")
    };
    // Bluebird's number is as unknown to its sub-account as one that never existed.
    let parents = sid("PN3c4d5e6f708192a3b4c5d6e7f80a1b03");
    assert_eq!(
        assign(&harbor, secondary, parents),
        Err(HubError::UnknownNumber(parents))
    );
    // Bluebird holds Harbor's number on its Primary: Harbor learns that it is taken, not
    // where; Bluebird is told where.
    let harbors = sid("PN3c4d5e6f708192a3b4c5d6e7f80a1b42");
    assign(&bluebird, primary, harbors).unwrap();
    assert_eq!(
        assign(&harbor, secondary, harbors),
        Err(HubError::AssignedElsewhere {
            pn: harbors,
            kind: profiles
        })
    );
    let new = NewBundle {
        friendly_name: "x".into(),
        email: "ops@x.example".into(),
        policy_sid: Policy::PrimaryCustomerProfile.sid(),
        status_callback: None,
    };
    let other_primary = hub.create_bundle(&bluebird, profiles, new).unwrap();
    assert_eq!(
        assign(&bluebird, other_primary.sid, harbors),
        Err(HubError::Assign(AssignError::AlreadyAssigned {
            pn: harbors,
            bundle: primary
        }))
    );
    // The 2010 API's `bundle_sid` of the number, as each of them sees it.
    let number = hub.number(&harbor, sid(HARBOR), harbors).unwrap();
    assert_eq!(hub.profile_of(&harbor, &number), Ok(None));
    assert_eq!(hub.profile_of(&bluebird, &number), Ok(Some(primary)));
    // A draft Secondary of Harbor's: Bluebird's end user is unknown to it, Bluebird's
    // Primary (the one record of its parent's it must link to) is not.
    let new = NewBundle {
        friendly_name: "x".into(),
        email: "ops@x.example".into(),
        policy_sid: Policy::SecondaryCustomerProfile.sid(),
        status_callback: None,
    };
    let draft = hub.create_bundle(&harbor, profiles, new).unwrap();
    let parents_user = sid("IT4d5e6f708192a3b4c5d6e7f80a1b2c01");
    assert_eq!(
        hub.link(&harbor, profiles, draft.sid, parents_user),
        Err(HubError::UnknownObject(parents_user))
    );
    hub.link(&harbor, profiles, draft.sid, primary).unwrap();
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn on_a_shared_store_catching_up_never_replays_the_nodes_own_writes() {
    let store = crate::store::tests::postgres();
    let data = TrustData::from_json(include_str!("../../../config/trust.json")).unwrap();
    store.seed(&data).unwrap();
    let head = store.feed().unwrap().head().unwrap();
    let trust = Arc::new(Trust::new(crate::trust::Index::build(&data).unwrap()));
    let clock = Arc::new(FixedClock::at(NOW));
    let hub = Hub::new(
        Arc::from(store),
        trust,
        clock,
        Numbering::default(),
        None,
        None,
    )
    .with_feed_position(head);
    // A number made, read back by this node's follower, then deleted: catching up
    // again must not bring it back into the index.
    let n = (hub.create_number(&Caller::Operator, sid(BLUEBIRD), "+12155550199", None)).unwrap();
    hub.catch_up().unwrap();
    hub.delete_number(&Caller::Operator, sid(BLUEBIRD), n.sid)
        .unwrap();
    hub.catch_up().unwrap();
    let tn = canonicalize("+12155550199", &Numbering::default()).unwrap();
    assert!(hub.trust().load().number(tn).is_none(), "replayed");
    assert_eq!(
        hub.trust().load().snapshot(),
        hub.rebuilt().unwrap().snapshot()
    );
    assert_eq!(hub.applied_seq(), head + 2, "moved past its own writes");
}
