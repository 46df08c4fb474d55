//! The review rules: the bundle status transitions and who may make them, what may
//! change in which status, what each policy requires before submission (evaluations and
//! the `Policies` resource), and the SID of the automatic SHAKEN/STIR trust product of an
//! approved Primary profile.

use serde_json::{Value, json};
use thiserror::Error;
use uuid::Uuid;

use super::super::Sid;
use super::super::documents::DocumentStatus;
use super::super::model::{BundleStatus, Policy};

/// Whether a bundle's contents (fields, entity assignments) may change in this status.
pub fn editable(status: BundleStatus) -> bool {
    matches!(status, BundleStatus::Draft | BundleStatus::TwilioRejected)
}

/// Why a status change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// The target status is the operator's to set.
    #[error("Only the operator may set status {}", .0.as_str())]
    OperatorOnly(BundleStatus),
    /// No one may go from the first status to the second.
    #[error("cannot go from {} to {}", .0.as_str(), .1.as_str())]
    Illegal(BundleStatus, BundleStatus),
}

/// Checks a status change. Customers submit (`draft` or `twilio-rejected` to
/// `pending-review`); the operator reviews (`pending-review` to `in-review`, either of
/// those to `twilio-approved` or `twilio-rejected`) and may revoke an approval.
pub fn check_transition(
    from: BundleStatus,
    to: BundleStatus,
    operator: bool,
) -> Result<(), TransitionError> {
    use BundleStatus::*;
    let customer_move = matches!((from, to), (Draft | TwilioRejected, PendingReview));
    let operator_move = matches!(
        (from, to),
        (PendingReview, InReview)
            | (PendingReview | InReview, TwilioApproved | TwilioRejected)
            | (TwilioApproved, TwilioRejected)
    );
    if customer_move || (operator && operator_move) {
        Ok(())
    } else if !operator && matches!(to, InReview | TwilioApproved | TwilioRejected) {
        Err(TransitionError::OperatorOnly(to))
    } else {
        Err(TransitionError::Illegal(from, to))
    }
}

/// One requirement of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub name: &'static str,
    pub friendly_name: &'static str,
    pub kind: RequirementKind,
}

/// What satisfies a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementKind {
    /// An attached end user of this type.
    EndUser(&'static str),
    /// A linked Primary customer profile (of the parent account).
    PrimaryProfile,
    /// A linked customer profile, Primary or Secondary.
    CustomerProfile,
    /// An attached supporting document of one of these types, still evidence (not
    /// rejected, not expired) and with the fields its type needs.
    Document(&'static [&'static str]),
}

const BUSINESS: Requirement = Requirement {
    name: "business_information",
    friendly_name: "Business Information",
    kind: RequirementKind::EndUser("customer_profile_business_information"),
};
const REPRESENTATIVE: Requirement = Requirement {
    name: "authorized_representative_1",
    friendly_name: "Authorized Representative",
    kind: RequirementKind::EndUser("authorized_representative_1"),
};

/// Twilio's customer profiles need the business's physical address as a supporting
/// document.
const ADDRESS: Requirement = Requirement {
    name: "customer_profile_address",
    friendly_name: "Physical Business Address",
    kind: RequirementKind::Document(&["customer_profile_address"]),
};

/// What a bundle with `policy` needs before it can be submitted.
pub fn requirements(policy: Policy) -> &'static [Requirement] {
    match policy {
        Policy::PrimaryCustomerProfile => &[BUSINESS, REPRESENTATIVE, ADDRESS],
        Policy::SecondaryCustomerProfile => &[
            BUSINESS,
            REPRESENTATIVE,
            ADDRESS,
            Requirement {
                name: "primary_customer_profile",
                friendly_name: "Primary Customer Profile of the parent account",
                kind: RequirementKind::PrimaryProfile,
            },
        ],
        Policy::ShakenStir => &[Requirement {
            name: "customer_profile",
            friendly_name: "Customer Profile",
            kind: RequirementKind::CustomerProfile,
        }],
    }
}

/// What is attached to a bundle, as evaluations see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attached {
    /// End users: SID and type.
    pub end_users: Vec<(Sid, String)>,
    /// Linked bundles: SID and policy.
    pub bundles: Vec<(Sid, Policy)>,
    /// Supporting documents.
    pub documents: Vec<AttachedDocument>,
}

/// A supporting document attached to a bundle, as of the evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedDocument {
    pub sid: Sid,
    pub document_type: String,
    /// Its status at the time of the evaluation.
    pub status: DocumentStatus,
    /// Why its attributes are not evidence of its type, if they are not.
    pub problem: Option<String>,
}

impl AttachedDocument {
    /// Why it does not count as evidence, if it does not.
    pub fn refusal(&self) -> Option<String> {
        match self.status {
            DocumentStatus::Expired => {
                Some(format!("Supporting document {} has expired", self.sid))
            }
            DocumentStatus::Rejected => {
                Some(format!("Supporting document {} was rejected", self.sid))
            }
            _ => self
                .problem
                .as_ref()
                .map(|p| format!("Supporting document {}: {p}", self.sid)),
        }
    }
}

/// Evaluates a bundle: `(compliant, results)`, one result per requirement with the SIDs
/// that satisfy it and, when none does, what is missing.
pub fn evaluate(policy: Policy, attached: &Attached) -> (bool, Value) {
    let mut compliant = true;
    let results: Vec<Value> = requirements(policy)
        .iter()
        .map(|r| {
            let mut invalid = Vec::new();
            let (object_type, valid): (&str, Vec<String>) = match r.kind {
                RequirementKind::Document(types) => {
                    let mut valid = Vec::new();
                    for d in &attached.documents {
                        if !types.contains(&d.document_type.as_str()) {
                            continue;
                        }
                        match d.refusal() {
                            None => valid.push(d.sid.to_string()),
                            Some(reason) => invalid.push(json!({
                                "object_sid": d.sid,
                                "status": d.status.as_str(),
                                "failure_reason": reason,
                                "error_code": 22214,
                            })),
                        }
                    }
                    (
                        types.first().copied().unwrap_or("supporting_document"),
                        valid,
                    )
                }
                RequirementKind::EndUser(t) => (
                    t,
                    (attached.end_users.iter())
                        .filter(|(_, ty)| ty == t)
                        .map(|(s, _)| s.to_string())
                        .collect(),
                ),
                RequirementKind::PrimaryProfile => (
                    "customer_profile",
                    (attached.bundles.iter())
                        .filter(|(_, p)| *p == Policy::PrimaryCustomerProfile)
                        .map(|(s, _)| s.to_string())
                        .collect(),
                ),
                RequirementKind::CustomerProfile => (
                    "customer_profile",
                    (attached.bundles.iter())
                        .filter(|(_, p)| p.is_customer_profile())
                        .map(|(s, _)| s.to_string())
                        .collect(),
                ),
            };
            let passed = !valid.is_empty();
            compliant &= passed;
            let failure = (!passed).then(|| match r.kind {
                RequirementKind::EndUser(t) => {
                    format!("No end user of type {t} is assigned to the bundle")
                }
                RequirementKind::PrimaryProfile => {
                    "No Primary Customer Profile of the parent account is assigned".to_owned()
                }
                RequirementKind::CustomerProfile => {
                    "No Customer Profile is assigned to the trust product".to_owned()
                }
                RequirementKind::Document(types) => match invalid.first() {
                    Some(first) => first["failure_reason"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    None => format!(
                        "No supporting document of type {} is assigned to the bundle",
                        types.join(" or ")
                    ),
                },
            });
            json!({
                "requirement_name": r.name,
                "requirement_friendly_name": r.friendly_name,
                "object_type": object_type,
                "passed": passed,
                "failure_reason": failure,
                "error_code": if passed { Value::Null } else { json!(22214) },
                "valid": valid,
                "invalid": invalid,
            })
        })
        .collect();
    (compliant, Value::Array(results))
}

/// Namespace of the automatic trust products' SIDs (a fixed random UUID).
const AUTOMATIC_PRODUCT: Uuid = Uuid::from_u128(0x3c1e_55a0_8d4b_4f0e_a1b7_6c2d_9e84_f7a3);

/// The SID of the automatic SHAKEN/STIR trust product of a Primary profile: derived from
/// the profile's SID, so it is recognised after a restart or an export and import.
pub fn automatic_product_sid(primary: Sid) -> Sid {
    let id = Uuid::new_v5(&AUTOMATIC_PRODUCT, primary.to_string().as_bytes());
    Sid::from_u128("BU", id.as_u128()).unwrap_or(primary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use BundleStatus::*;

    #[test]
    fn customers_submit_and_operators_review() {
        assert_eq!(check_transition(Draft, PendingReview, false), Ok(()));
        assert_eq!(
            check_transition(TwilioRejected, PendingReview, false),
            Ok(())
        );
        for to in [InReview, TwilioApproved, TwilioRejected] {
            assert_eq!(
                check_transition(PendingReview, to, false),
                Err(TransitionError::OperatorOnly(to))
            );
            assert_eq!(check_transition(PendingReview, to, true), Ok(()));
        }
        assert_eq!(check_transition(InReview, TwilioApproved, true), Ok(()));
        assert_eq!(
            check_transition(TwilioApproved, TwilioRejected, true),
            Ok(())
        );
    }

    #[test]
    fn illegal_moves_are_refused_for_everyone() {
        for (from, to) in [
            (Draft, TwilioApproved),
            (Draft, InReview),
            (PendingReview, Draft),
            (TwilioApproved, PendingReview),
            (TwilioApproved, Draft),
            (TwilioRejected, TwilioApproved),
            (InReview, PendingReview),
        ] {
            assert_eq!(
                check_transition(from, to, true),
                Err(TransitionError::Illegal(from, to)),
                "{from:?} -> {to:?}"
            );
        }
        assert_eq!(
            check_transition(TwilioApproved, Draft, false),
            Err(TransitionError::Illegal(TwilioApproved, Draft))
        );
    }

    #[test]
    fn only_draft_and_rejected_bundles_are_editable() {
        assert!(editable(Draft) && editable(TwilioRejected));
        assert!(!editable(PendingReview) && !editable(InReview) && !editable(TwilioApproved));
    }

    fn address(n: u128, status: DocumentStatus, problem: Option<&str>) -> AttachedDocument {
        AttachedDocument {
            sid: Sid::from_u128("RD", n).unwrap(),
            document_type: "customer_profile_address".into(),
            status,
            problem: problem.map(str::to_owned),
        }
    }

    #[test]
    fn a_primary_needs_business_information_a_representative_and_an_address() {
        let it = |n| Sid::from_u128("IT", n).unwrap();
        let mut attached = Attached::default();
        let (ok, results) = evaluate(Policy::PrimaryCustomerProfile, &attached);
        assert!(!ok);
        assert_eq!(results.as_array().unwrap().len(), 3);
        assert_eq!(results[0]["passed"], false);
        assert!(
            results[0]["failure_reason"]
                .as_str()
                .unwrap()
                .contains("customer_profile_business_information")
        );
        attached
            .end_users
            .push((it(1), "customer_profile_business_information".into()));
        let (ok, results) = evaluate(Policy::PrimaryCustomerProfile, &attached);
        assert!(!ok);
        assert_eq!(results[0]["passed"], true);
        assert_eq!(results[0]["valid"][0], it(1).to_string());
        assert_eq!(
            results[1]["requirement_name"],
            "authorized_representative_1"
        );
        attached
            .end_users
            .push((it(2), "authorized_representative_1".into()));
        let (ok, results) = evaluate(Policy::PrimaryCustomerProfile, &attached);
        assert!(!ok);
        assert_eq!(results[2]["requirement_name"], "customer_profile_address");
        assert!(
            results[2]["failure_reason"]
                .as_str()
                .unwrap()
                .contains("customer_profile_address")
        );
        attached
            .documents
            .push(address(1, DocumentStatus::Draft, None));
        let (ok, results) = evaluate(Policy::PrimaryCustomerProfile, &attached);
        assert!(ok);
        assert_eq!(
            results[2]["valid"][0],
            attached.documents[0].sid.to_string()
        );
    }

    #[test]
    fn expired_rejected_and_incomplete_documents_are_not_evidence() {
        let base = Attached {
            end_users: vec![
                (
                    Sid::from_u128("IT", 1).unwrap(),
                    "customer_profile_business_information".into(),
                ),
                (
                    Sid::from_u128("IT", 2).unwrap(),
                    "authorized_representative_1".into(),
                ),
            ],
            ..Attached::default()
        };
        for (doc, reason) in [
            (address(1, DocumentStatus::Expired, None), "has expired"),
            (address(1, DocumentStatus::Rejected, None), "was rejected"),
            (
                address(1, DocumentStatus::Approved, Some("address_sids is missing")),
                "address_sids is missing",
            ),
        ] {
            let mut attached = base.clone();
            attached.documents.push(doc.clone());
            let (ok, results) = evaluate(Policy::PrimaryCustomerProfile, &attached);
            assert!(!ok, "{doc:?}");
            let r = &results[2];
            assert_eq!(r["passed"], false);
            assert_eq!(r["valid"], json!([]));
            assert_eq!(r["invalid"][0]["object_sid"], doc.sid.to_string());
            assert!(
                r["failure_reason"].as_str().unwrap().contains(reason),
                "{r}"
            );
            // One good document among bad ones satisfies the requirement.
            attached
                .documents
                .push(address(2, DocumentStatus::ProvisionallyApproved, None));
            let (ok, results) = evaluate(Policy::PrimaryCustomerProfile, &attached);
            assert!(ok);
            assert_eq!(results[2]["invalid"].as_array().unwrap().len(), 1);
        }
        // A document of another type does not count.
        let mut attached = base;
        attached.documents.push(AttachedDocument {
            document_type: "government_issued_proof_of_authorized_representative".into(),
            ..address(3, DocumentStatus::Approved, None)
        });
        assert!(!evaluate(Policy::PrimaryCustomerProfile, &attached).0);
    }

    #[test]
    fn a_trust_product_needs_a_customer_profile_and_a_secondary_a_primary() {
        let bu = |n| Sid::from_u128("BU", n).unwrap();
        let mut attached = Attached::default();
        assert!(!evaluate(Policy::ShakenStir, &attached).0);
        attached
            .bundles
            .push((bu(1), Policy::SecondaryCustomerProfile));
        assert!(evaluate(Policy::ShakenStir, &attached).0);
        let (ok, results) = evaluate(Policy::SecondaryCustomerProfile, &attached);
        assert!(!ok);
        assert_eq!(results[2]["passed"], false);
    }

    #[test]
    fn automatic_product_sid_is_stable_per_primary() {
        let p = Sid::from_u128("BU", 7).unwrap();
        let t = automatic_product_sid(p);
        assert!(t.is("BU"));
        assert_eq!(t, automatic_product_sid(p));
        assert_ne!(t, automatic_product_sid(Sid::from_u128("BU", 8).unwrap()));
    }
}
