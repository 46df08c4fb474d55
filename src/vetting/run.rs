//! One run of a workflow over a submission: each step's finding, the decision, and the
//! Evaluation results and rejection errors in Twilio's shapes.

use serde_json::{Value, json};

use super::checks::{self, ApprovedProfile, Failure, Finding, Party};
use super::identity::MatchResult;
use super::workflow::{self, Check, OnFail, Outcome, Workflow, Workflows};
use crate::trust::Sid;

/// Everything the checks look at, gathered by the Trust Hub service.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    /// The submitting account.
    pub account: Sid,
    /// The end users the bundle holds (a trust product: those of its customer profile).
    pub parties: Vec<Party<'a>>,
    /// The E.164 numbers of the account and its family.
    pub account_numbers: Vec<String>,
    /// Other accounts' approved customer profiles (not the submitter's family's).
    pub approved: Vec<ApprovedProfile>,
    /// Each representative's identity match (by end user type): `Err` when the records
    /// could not be read, `Ok(None)` when the representative has no phone number.
    pub identity: Vec<(String, Result<Option<MatchResult>, String>)>,
    /// The customer profile the bundle rests on, and whether it is approved.
    pub linked_profile: Option<(Sid, bool)>,
}

/// How a step came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    Failed,
    /// The check could not run (the subscriber records were unreachable): the bundle
    /// goes to the manual queue rather than be decided on a guess.
    Unavailable,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Unavailable => "unavailable",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    pub name: String,
    pub check: &'static str,
    pub on_fail: OnFail,
    pub weight: u32,
    pub status: StepStatus,
    pub failures: Vec<Failure>,
    /// What the check saw, when there is more to show (the identity matches).
    pub detail: Option<Value>,
}

/// A workflow's verdict on a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The rules file's version.
    pub version: String,
    pub outcome: Outcome,
    pub score: u8,
    pub approve_at: u8,
    pub steps: Vec<StepResult>,
}

/// Runs `workflow` (from `rules`) over `submission`.
pub fn run(rules: &Workflows, workflow: &Workflow, submission: &Submission<'_>) -> Verdict {
    let steps: Vec<StepResult> = (workflow.steps.iter())
        .map(|step| {
            let (status, failures, detail) = match run_check(&step.check, submission) {
                Ok((finding, detail)) if finding.passed() => {
                    (StepStatus::Passed, Vec::new(), detail)
                }
                Ok((finding, detail)) => (StepStatus::Failed, finding.failures, detail),
                Err(why) => (
                    StepStatus::Unavailable,
                    vec![Failure {
                        object_type: "identity_match".into(),
                        field: "*".into(),
                        reason: why,
                    }],
                    None,
                ),
            };
            StepResult {
                name: step.name.clone(),
                check: step.check.kind(),
                on_fail: step.on_fail,
                weight: step.weight,
                status,
                failures,
                detail,
            }
        })
        .collect();
    let passed: Vec<bool> = steps
        .iter()
        .map(|s| s.status == StepStatus::Passed)
        .collect();
    let (mut outcome, score) = workflow::decide(workflow, &passed);
    if outcome == Outcome::Approve && steps.iter().any(|s| s.status == StepStatus::Unavailable) {
        outcome = Outcome::Review;
    }
    Verdict {
        version: rules.version.clone(),
        outcome,
        score,
        approve_at: workflow.approve_at,
        steps,
    }
}

type Found = Result<(Finding, Option<Value>), String>;

fn run_check(check: &Check, s: &Submission<'_>) -> Found {
    let plain = |f: Finding| Ok((f, None));
    match check {
        Check::RequiredAttributes(rules) => plain(checks::required_attributes(&s.parties, rules)),
        Check::RegistrationNumber => plain(checks::registration_number(&s.parties)),
        Check::PhoneNumbers => plain(checks::phone_numbers(&s.parties)),
        Check::Emails => plain(checks::emails(&s.parties)),
        Check::Website => plain(checks::website(&s.parties)),
        Check::EmailDomain(params) => plain(checks::email_domain(&s.parties, params)),
        Check::RepresentativePhone => plain(checks::representative_phone_on_account(
            &s.parties,
            &s.account_numbers,
        )),
        Check::DuplicateRegistration => plain(checks::duplicate_registration(
            &s.parties,
            s.account,
            &s.approved,
        )),
        Check::DuplicateRepresentative => plain(checks::duplicate_representative(
            &s.parties,
            s.account,
            &s.approved,
        )),
        Check::IdentityMatch(params) => identity_match(&s.identity, params.min_score),
        Check::LinkedProfileApproved => plain(linked_profile(s.linked_profile)),
    }
}

/// Reads one field's level from a match.
type LevelOf = fn(&MatchResult) -> super::identity::MatchLevel;

/// The fields the summary score rests on, with the match attribute that grades each.
const SCORED: [(&str, LevelOf); 3] = [
    ("first_name", |m| m.first_name_match),
    ("last_name", |m| m.last_name_match),
    ("address_line1", |m| m.address_lines_match),
];

/// Each representative's match must reach `min_score`; a failure names the fields that
/// did not match.
fn identity_match(
    matches: &[(String, Result<Option<MatchResult>, String>)],
    min_score: u8,
) -> Found {
    let mut finding = Finding::default();
    let mut detail = serde_json::Map::new();
    for (rep, result) in matches {
        let result = result.as_ref().map_err(|e| format!("{rep}: {e}"))?;
        let Some(m) = result else {
            finding.failures.push(Failure {
                object_type: rep.clone(),
                field: "phone_number".into(),
                reason: "There is no phone number to match the representative against".into(),
            });
            detail.insert(rep.clone(), Value::Null);
            continue;
        };
        detail.insert(rep.clone(), serde_json::to_value(m).unwrap_or(Value::Null));
        if m.summary_score >= min_score {
            continue;
        }
        let mut named = false;
        for (field, level) in SCORED {
            let level = level(m);
            if !level.is_positive() {
                named = true;
                finding.failures.push(Failure {
                    object_type: rep.clone(),
                    field: field.into(),
                    reason: format!(
                        "The subscriber records of the representative's phone number give {} (summary score {}, at least {min_score} needed)",
                        level.as_str(),
                        m.summary_score
                    ),
                });
            }
        }
        if !named {
            finding.failures.push(Failure {
                object_type: rep.clone(),
                field: "*".into(),
                reason: format!(
                    "The representative's identity match scored {}, at least {min_score} needed",
                    m.summary_score
                ),
            });
        }
    }
    Ok((finding, Some(Value::Object(detail))))
}

fn linked_profile(linked: Option<(Sid, bool)>) -> Finding {
    let failure = match linked {
        Some((_, true)) => return Finding::default(),
        Some((sid, false)) => format!("Customer profile {sid} is not approved yet"),
        None => "No customer profile is linked".to_owned(),
    };
    Finding {
        failures: vec![Failure {
            object_type: "customer_profile".into(),
            field: "customer_profile".into(),
            reason: failure,
        }],
    }
}

/// Twilio's error code for a failed field: the 186xx rejection codes of customer
/// profiles, 22215 for a missing end-user field, 22214 for a missing profile.
pub fn error_code(check: &str, failure: &Failure) -> u32 {
    match check {
        "required_attributes" => 22215,
        "registration_number" | "duplicate_registration" => 18602,
        "website" => 18601,
        "email_domain" => 18606,
        "linked_profile_approved" => 22214,
        _ if failure.object_type == "authorized_representative_2" => 18605,
        _ => 18604,
    }
}

fn friendly(check: &str) -> &'static str {
    match check {
        "required_attributes" => "Required attributes",
        "registration_number" => "Business registration number",
        "phone_numbers" => "Representatives' phone numbers",
        "emails" => "Representatives' emails",
        "website" => "Website",
        "email_domain" => "Email domain matches the website",
        "representative_phone" => "Representative's phone number is the account's",
        "duplicate_registration" => "Registration not on another account",
        "duplicate_representative" => "Representatives not on another account",
        "identity_match" => "Identity match of the representatives",
        "linked_profile_approved" => "Customer profile approved",
        _ => "Check",
    }
}

impl Verdict {
    /// The Evaluation's `results`: one entry per step, in Twilio's shape (the step's
    /// name as `requirement_name`; `invalid` lists the failed fields) with the step's
    /// `check`, `on_fail`, `weight`, `status` and `detail`, and a last entry,
    /// `vetting_decision`, with the workflow version, score and outcome.
    pub fn results(&self) -> Value {
        let mut out: Vec<Value> = (self.steps.iter())
            .map(|s| {
                let invalid: Vec<Value> = (s.failures.iter())
                    .map(|f| {
                        json!({
                            "object_type": f.object_type,
                            "object_field": f.field,
                            "failure_reason": f.reason,
                            "error_code": error_code(s.check, f),
                        })
                    })
                    .collect();
                let first = s.failures.first();
                json!({
                    "requirement_name": s.name,
                    "requirement_friendly_name": friendly(s.check),
                    "object_type": first.map_or("bundle", |f| f.object_type.as_str()),
                    "passed": s.status == StepStatus::Passed,
                    "failure_reason": first.map(|f| f.reason.clone()),
                    "error_code": first.map(|f| error_code(s.check, f)),
                    "valid": [],
                    "invalid": invalid,
                    "check": s.check,
                    "on_fail": s.on_fail.as_str(),
                    "weight": s.weight,
                    "status": s.status.as_str(),
                    "detail": s.detail,
                })
            })
            .collect();
        out.push(json!({
            "requirement_name": "vetting_decision",
            "requirement_friendly_name": "Vetting decision",
            "object_type": "bundle",
            "passed": self.outcome == Outcome::Approve,
            "failure_reason": null,
            "error_code": null,
            "valid": [],
            "invalid": [],
            "workflow_version": self.version,
            "outcome": self.outcome.as_str(),
            "score": self.score,
            "approve_at": self.approve_at,
        }));
        Value::Array(out)
    }

    /// A rejected bundle's `errors`: one per failed field of a `reject` step, each with
    /// Twilio's `code` and the field it names.
    pub fn errors(&self) -> Option<Value> {
        if self.outcome != Outcome::Reject {
            return None;
        }
        let errors: Vec<Value> = (self.steps.iter())
            .filter(|s| s.on_fail == OnFail::Reject && s.status == StepStatus::Failed)
            .flat_map(|s| {
                s.failures.iter().map(move |f| {
                    json!({
                        "code": error_code(s.check, f),
                        "message": f.reason,
                        "object_type": f.object_type,
                        "field": f.field,
                        "check": s.name,
                    })
                })
            })
            .collect();
        Some(Value::Array(errors))
    }
}

#[cfg(test)]
mod tests;
