//! The review log: one record per status change of a customer profile or trust product
//! (a customer's submission, a workflow's or an operator's decision), appended in the same
//! write as the change and never rewritten or deleted, not even with its bundle. The
//! review queue reads submission times from it, and operators export it.

use serde::{Deserialize, Serialize};

use super::Sid;
use super::model::BundleStatus;

/// Who made a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    /// The bundle's account, submitting it.
    Customer,
    /// An automated vetting workflow.
    Workflow,
    /// The operator (the API's operator credential, or a console user).
    Operator,
}

impl Decider {
    pub const ALL: [Decider; 3] = [Decider::Customer, Decider::Workflow, Decider::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Decider::Customer => "customer",
            Decider::Workflow => "workflow",
            Decider::Operator => "operator",
        }
    }
}

/// One entry of the review log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEntry {
    /// `RV` + 32 hex.
    pub sid: Sid,
    pub bundle_sid: Sid,
    pub account_sid: Sid,
    pub policy_sid: Sid,
    pub from_status: BundleStatus,
    pub to_status: BundleStatus,
    pub decided_by: Decider,
    /// Who exactly: the account SID, `workflow <version>`, or the operator's name.
    pub actor: String,
    /// Why, in the decider's words (an operator's reason, a workflow's outcome).
    #[serde(default)]
    pub reason: Option<String>,
    /// The rules file version of a workflow's decision.
    #[serde(default)]
    pub workflow_version: Option<String>,
    /// A workflow's score.
    #[serde(default)]
    pub score: Option<u8>,
    /// The evaluation a workflow's decision wrote.
    #[serde(default)]
    pub evaluation_sid: Option<Sid>,
    /// When the bundle was submitted (RFC 3339), for a decision.
    #[serde(default)]
    pub submitted_at: Option<String>,
    /// When the decision was due (RFC 3339).
    #[serde(default)]
    pub deadline: Option<String>,
    /// Whether the decision came after its deadline.
    #[serde(default)]
    pub late: bool,
    /// RFC 3339.
    pub date_created: String,
}
