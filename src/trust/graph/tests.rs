//! Validation tests: load the shipped sample, then corrupt it one way per validation rule.

use serde_json::{Value, json};

use super::*;
use crate::tn::TnError;
use crate::trust::{AssignError, LinkError};

const SAMPLE: &str = include_str!("../../../config/trust.json");
const PRIMARY: &str = "RN6433641899984f951173ef1738c3bdd0";
const SECONDARY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
const SHAKEN: &str = "RN7a97559effdf62d00f4298208492a5ea";

fn corrupt(change: impl FnOnce(&mut Value)) -> Result<TrustData, TrustError> {
    let mut doc: Value = serde_json::from_str(SAMPLE).unwrap();
    change(&mut doc);
    TrustData::from_json(&doc.to_string())
}

fn sid_at(doc: &Value, list: &str, i: usize, field: &str) -> Sid {
    Sid::parse_any(doc[list][i][field].as_str().unwrap()).unwrap()
}

fn sid(s: &str) -> Sid {
    Sid::parse_any(s).unwrap()
}

fn doc() -> Value {
    serde_json::from_str(SAMPLE).unwrap()
}

const NOBODY: &str = "AC0000000000000000000000000000dead";

#[test]
fn the_sample_loads() {
    let data = corrupt(|_| {}).unwrap();
    let resolved = resolve(&data).unwrap();
    assert_eq!(resolved.numbers.len(), data.phone_numbers.len());
    assert_eq!(resolved.graph.bundles.len(), 5);
}

#[test]
fn sids_must_be_well_formed_and_of_the_right_kind() {
    let err = corrupt(|d| d["accounts"][0]["sid"] = json!("AC123")).unwrap_err();
    assert!(
        matches!(&err, TrustError::Json(m) if m.contains("AC123")),
        "{err}"
    );
    let pn = sid_at(&doc(), "phone_numbers", 0, "sid");
    assert_eq!(
        corrupt(|d| d["accounts"][0]["sid"] = json!(pn.to_string())),
        Err(TrustError::WrongSidKind {
            sid: pn,
            field: "sid",
            expected: "AC",
            found: pn
        })
    );
    let bu = sid_at(&doc(), "customer_profiles", 0, "sid");
    let pn1 = sid_at(&doc(), "phone_numbers", 1, "sid");
    assert_eq!(
        corrupt(|d| d["phone_numbers"][1]["account_sid"] = json!(bu.to_string())),
        Err(TrustError::WrongSidKind {
            sid: pn1,
            field: "account_sid",
            expected: "AC",
            found: bu
        })
    );
}

#[test]
fn sids_are_unique() {
    let d = doc();
    let first = d["phone_numbers"][0]["sid"].clone();
    assert_eq!(
        corrupt(|d| d["phone_numbers"][1]["sid"] = first),
        Err(TrustError::DuplicateSid(sid_at(
            &d,
            "phone_numbers",
            0,
            "sid"
        )))
    );
}

#[test]
fn references_to_accounts_must_resolve() {
    let d = doc();
    assert_eq!(
        corrupt(|d| d["phone_numbers"][0]["account_sid"] = json!(NOBODY)),
        Err(TrustError::UnknownAccount {
            sid: sid_at(&d, "phone_numbers", 0, "sid"),
            field: "account_sid",
            account: sid(NOBODY)
        })
    );
    assert_eq!(
        corrupt(|d| d["accounts"][1]["parent_sid"] = json!(NOBODY)),
        Err(TrustError::UnknownAccount {
            sid: sid_at(&d, "accounts", 1, "sid"),
            field: "parent_sid",
            account: sid(NOBODY)
        })
    );
    assert!(matches!(
        corrupt(|d| d["trust_products"][0]["account_sid"] = json!(NOBODY)),
        Err(TrustError::UnknownAccount { .. })
    ));
    assert!(matches!(
        corrupt(|d| d["end_users"][0]["account_sid"] = json!(NOBODY)),
        Err(TrustError::UnknownAccount { .. })
    ));
}

#[test]
fn sub_accounts_are_one_level_deep() {
    let d = doc();
    let sub = d["accounts"][1]["sid"].clone();
    assert_eq!(
        corrupt(|d| d["accounts"][3]["parent_sid"] = sub),
        Err(TrustError::NestedSubAccount {
            account: sid_at(&d, "accounts", 3, "sid"),
            parent: sid_at(&d, "accounts", 1, "sid"),
        })
    );
    // Twilio's `owner_account_sid` naming the account itself means top-level.
    let data = corrupt(|d| {
        let own = d["accounts"][0]["sid"].clone();
        d["accounts"][0]["owner_account_sid"] = own;
    })
    .unwrap();
    assert_eq!(data.accounts[0].parent(), None);
}

#[test]
fn owned_numbers_are_e164_and_owned_once() {
    let d = doc();
    let pn0 = sid_at(&d, "phone_numbers", 0, "sid");
    let pn1 = sid_at(&d, "phone_numbers", 1, "sid");
    assert_eq!(
        corrupt(|d| d["phone_numbers"][0]["phone_number"] = json!("2155550121")),
        Err(TrustError::NotE164 {
            sid: pn0,
            number: "2155550121".into()
        })
    );
    assert_eq!(
        corrupt(|d| d["phone_numbers"][0]["phone_number"] = json!("+1215555012x")),
        Err(TrustError::InvalidNumber {
            sid: pn0,
            number: "+1215555012x".into(),
            error: TnError::NotANumber
        })
    );
    let err = corrupt(|d| d["phone_numbers"][1]["phone_number"] = json!("+1 (215) 555-0121"));
    match err {
        Err(TrustError::NumberOwnedTwice {
            number,
            first,
            second,
        }) => {
            assert_eq!(number.as_str(), "12155550121");
            assert_eq!((first, second), (pn0, pn1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn policies_must_be_known_and_fit_the_list() {
    let d = doc();
    let profile = sid_at(&d, "customer_profiles", 0, "sid");
    let product = sid_at(&d, "trust_products", 0, "sid");
    let unknown = "RN00000000000000000000000000000001";
    assert_eq!(
        corrupt(|d| d["customer_profiles"][0]["policy_sid"] = json!(unknown)),
        Err(TrustError::UnknownPolicy {
            sid: profile,
            policy: sid(unknown)
        })
    );
    assert_eq!(
        corrupt(|d| d["trust_products"][0]["policy_sid"] = json!(PRIMARY)),
        Err(TrustError::WrongPolicy {
            sid: product,
            listed: "trust product",
            policy: Policy::PrimaryCustomerProfile
        })
    );
    assert_eq!(
        corrupt(|d| d["customer_profiles"][0]["policy_sid"] = json!(SHAKEN)),
        Err(TrustError::WrongPolicy {
            sid: profile,
            listed: "customer profile",
            policy: Policy::ShakenStir
        })
    );
}

#[test]
fn entity_assignments_must_resolve_and_make_sense() {
    let d = doc();
    let ea0 = sid_at(&d, "entity_assignments", 0, "sid");
    let (primary, secondary) = (
        sid_at(&d, "customer_profiles", 0, "sid"),
        sid_at(&d, "customer_profiles", 1, "sid"),
    );
    let (product, isv_product) = (
        sid_at(&d, "trust_products", 0, "sid"),
        sid_at(&d, "trust_products", 1, "sid"),
    );
    let ghost = "BU000000000000000000000000000000ff";
    assert_eq!(
        corrupt(|d| d["entity_assignments"][0]["bundle_sid"] = json!(ghost)),
        Err(TrustError::UnknownBundle {
            assignment: ea0,
            bundle: sid(ghost)
        })
    );
    assert_eq!(
        corrupt(|d| d["entity_assignments"][0]["object_sid"] = json!(ghost)),
        Err(TrustError::UnknownObject {
            assignment: ea0,
            object: sid(ghost)
        })
    );
    for ghost in [
        "IT000000000000000000000000000000ff",
        "RD000000000000000000000000000000ff",
    ] {
        assert!(matches!(
            corrupt(|d| d["entity_assignments"][0]["object_sid"] = json!(ghost)),
            Err(TrustError::UnknownObject { .. })
        ));
    }
    let invalid = |bundle: Sid, object: Sid| {
        corrupt(|d| {
            d["entity_assignments"][0]["bundle_sid"] = json!(bundle.to_string());
            d["entity_assignments"][0]["object_sid"] = json!(object.to_string());
        })
    };
    for (bundle, object, why) in [
        (product, isv_product, LinkError::ProductTarget),
        (secondary, secondary, LinkError::SecondaryTarget),
        (primary, secondary, LinkError::PrimaryTarget),
        (primary, sid(NOBODY), LinkError::ObjectKind(sid(NOBODY))),
    ] {
        assert_eq!(
            invalid(bundle, object),
            Err(TrustError::InvalidLink {
                assignment: ea0,
                bundle,
                object,
                why
            }),
            "{bundle} -> {object}"
        );
    }
}

#[test]
fn channel_endpoint_assignments_must_resolve() {
    let d = doc();
    let ra0 = sid_at(&d, "channel_endpoint_assignments", 0, "sid");
    assert_eq!(
        corrupt(
            |d| d["channel_endpoint_assignments"][0]["channel_endpoint_type"] =
                json!("messaging-service")
        ),
        Err(TrustError::UnsupportedChannelEndpoint {
            assignment: ra0,
            found: "messaging-service".into()
        })
    );
    let ghost = "PN000000000000000000000000000000ff";
    assert_eq!(
        corrupt(|d| d["channel_endpoint_assignments"][0]["channel_endpoint_sid"] = json!(ghost)),
        Err(TrustError::UnknownObject {
            assignment: ra0,
            object: sid(ghost)
        })
    );
    assert!(matches!(
        corrupt(|d| d["channel_endpoint_assignments"][0]["bundle_sid"] =
            json!("BU000000000000000000000000000000ff")),
        Err(TrustError::UnknownBundle { .. })
    ));
}

#[test]
fn a_number_is_on_one_profile_and_one_product() {
    let d = doc();
    let pn0 = sid_at(&d, "phone_numbers", 0, "sid");
    let primary = sid_at(&d, "customer_profiles", 0, "sid");
    let twin = sid("BU000000000000000000000000000000fd");
    let extra = |bundle: Sid, sid_hex: &str| {
        corrupt(|d| {
            let mut profile = d["customer_profiles"][0].clone();
            profile["sid"] = json!(twin.to_string());
            d["customer_profiles"].as_array_mut().unwrap().push(profile);
            let list = d["channel_endpoint_assignments"].as_array_mut().unwrap();
            let mut copy = list[0].clone();
            copy["sid"] = json!(sid_hex);
            copy["bundle_sid"] = json!(bundle.to_string());
            list.push(copy);
        })
    };
    let held = Err(TrustError::Assignment(AssignError::AlreadyAssigned {
        pn: pn0,
        bundle: primary,
    }));
    assert_eq!(extra(twin, "RA000000000000000000000000000000ff"), held);
    // The same assignment twice is refused too, as the Trust Hub API refuses it.
    assert_eq!(extra(primary, "RA000000000000000000000000000000fe"), held);
}

#[test]
fn a_bundle_holds_numbers_of_its_account_and_its_sub_accounts_only() {
    let d = doc();
    let pn0 = sid_at(&d, "phone_numbers", 0, "sid");
    // Harbor Dental's secondary profile may not hold a number of Bluebird, its parent.
    let secondary = sid_at(&d, "customer_profiles", 1, "sid");
    assert_eq!(
        corrupt(|d| {
            let list = d["channel_endpoint_assignments"].as_array_mut().unwrap();
            let mut copy = list[0].clone();
            copy["sid"] = json!("RA000000000000000000000000000000ff");
            copy["bundle_sid"] = json!(secondary.to_string());
            list.push(copy);
        }),
        Err(TrustError::Assignment(AssignError::NumberOfAnotherAccount(
            pn0
        )))
    );
}

#[test]
fn malformed_fields_are_json_errors() {
    for change in [
        (|d: &mut Value| d["extra"] = json!([])) as fn(&mut Value),
        |d| d["accounts"][0]["colour"] = json!("blue"),
        |d| d["customer_profiles"][0]["status"] = json!("approved"),
        |d| d["customer_profiles"][0]["valid_until"] = json!("next tuesday"),
        |d| d["accounts"][0]["status"] = json!("gone"),
    ] {
        assert!(matches!(corrupt(change), Err(TrustError::Json(_))));
    }
}

#[test]
fn secondary_policy_is_a_customer_profile() {
    assert!(corrupt(|d| d["customer_profiles"][2]["policy_sid"] = json!(SECONDARY)).is_ok());
}

/// The sample with one supporting document of `account` carrying `content`, linked to
/// the first customer profile.
fn with_document(d: &mut Value, account: &str, content: &[u8]) -> Sid {
    let rd = "RD000000000000000000000000000000d1";
    d["supporting_documents"] = json!([{
        "sid": rd, "account_sid": account, "type": "customer_profile_address",
        "attributes": {"address_sids": "AD0123456789abcdef0123456789abcdef"},
        "status": "APPROVED", "mime_type": "application/pdf",
        "file_size": content.len(),
        "file_sha256": crate::trust::documents::sha256_hex(content),
    }]);
    let profile = d["customer_profiles"][0]["sid"].clone();
    d["entity_assignments"].as_array_mut().unwrap().push(json!({
        "sid": "BV000000000000000000000000000000d1", "bundle_sid": profile, "object_sid": rd,
    }));
    sid(rd)
}

#[test]
fn documents_and_their_files_must_belong_and_match() {
    use base64::Engine;
    let owner = doc()["customer_profiles"][0]["account_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let pdf = b"%PDF-1.4 proof";
    let encoded = base64::engine::general_purpose::STANDARD.encode(pdf);
    let data = corrupt(|d| {
        let rd = with_document(d, &owner, pdf);
        d["document_files"] = json!([{"sid": rd.to_string(), "content": encoded}]);
    })
    .unwrap();
    assert_eq!(data.document_files[0].content, pdf);
    // Linked to a profile of another account.
    let other = doc()["customer_profiles"][1]["account_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(matches!(
        corrupt(|d| {
            with_document(d, &other, pdf);
        }),
        Err(TrustError::InvalidLink {
            why: LinkError::DocumentOfAnotherAccount(_),
            ..
        })
    ));
    // A file given twice, for no document, or not the document's.
    let bad = |files: Value| {
        corrupt(|d| {
            with_document(d, &owner, pdf);
            d["document_files"] = files;
        })
    };
    let rd = "RD000000000000000000000000000000d1";
    let nobody = "RD000000000000000000000000000000d2";
    let other_bytes = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 forged");
    for (files, why) in [
        (
            json!([{"sid": rd, "content": encoded}, {"sid": rd, "content": encoded}]),
            "twice",
        ),
        (
            json!([{"sid": nobody, "content": encoded}]),
            "no supporting document",
        ),
        (json!([{"sid": rd, "content": other_bytes}]), "file_sha256"),
    ] {
        match bad(files) {
            Err(TrustError::DocumentFile { why: message, .. }) => {
                assert!(message.contains(why), "{message}")
            }
            other => panic!("{why}: {other:?}"),
        }
    }
}
