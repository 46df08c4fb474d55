//! Vetting workflows as data: the operator's rules file, validated at load, and the
//! decision a workflow makes from its checks' findings.
//!
//! A rules file holds a `version` and one `[[workflow]]` per policy. A workflow lists its
//! checks (`[[workflow.check]]`), each with a unique `name`, the `check` it runs and that
//! check's parameters, what a failure does (`on_fail`: `reject` is a hard failure,
//! `review` sends the bundle to the manual queue, `score` only costs the check's weight)
//! and the `weight` its pass adds to the score. A bundle is approved when no `reject` or
//! `review` check failed and its score (the passed weight, out of 100) reaches the
//! workflow's `approve_at`; otherwise it goes to the manual queue.
//!
//! ```toml
//! version = "2026-12-05.1"
//!
//! [[workflow]]
//! policy = "primary_customer_profile"
//! approve_at = 100
//!
//! [[workflow.check]]
//! name = "registration"
//! check = "registration_number"
//! on_fail = "reject"
//! weight = 1
//! ```
//!
//! Loading refuses what the operator would not mean, naming the workflow and the check:
//! an unknown policy or check, an unknown key, a duplicate policy or check name, weights
//! that add up to nothing, a threshold over 100.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::checks::{EmailDomain, RequiredAttributes};
use crate::trust::Policy;

/// The rules file callsign runs when the operator names none.
pub const DEFAULT: &str = include_str!("default-workflows.toml");

/// What a failed check does to the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFail {
    /// A hard failure: the bundle is rejected, the failed fields named in its errors.
    Reject,
    /// The bundle goes to the manual review queue.
    Review,
    /// A soft check: a failure only withholds its weight from the score.
    Score,
}

impl OnFail {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFail::Reject => "reject",
            OnFail::Review => "review",
            OnFail::Score => "score",
        }
    }
}

/// The parameters of the `identity_match` check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityMatch {
    /// The lowest `summary_score` (0 to 100) each representative's match must reach.
    pub min_score: u8,
}

/// The check a workflow step runs, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Attributes that must be present, by end user type, business type and region.
    RequiredAttributes(RequiredAttributes),
    /// The registration number has its identifier's form (EIN prefixes and so on).
    RegistrationNumber,
    /// The representatives' phone numbers are E.164.
    PhoneNumbers,
    /// The representatives' emails are well formed.
    Emails,
    /// The website and social media URLs are public http(s) URLs.
    Website,
    /// The representatives' email domains belong to the website.
    EmailDomain(EmailDomain),
    /// Each representative's phone number is one of the account's numbers.
    RepresentativePhone,
    /// The registration number is not on another account's approved profile.
    DuplicateRegistration,
    /// No representative is on another account's approved profile.
    DuplicateRepresentative,
    /// Each representative matches the subscriber records of their phone number.
    IdentityMatch(IdentityMatch),
    /// The customer profile the bundle rests on (a trust product's profile, a secondary
    /// profile's primary) is approved.
    LinkedProfileApproved,
}

impl Check {
    /// Whether the check takes parameters in the rules file.
    fn has_parameters(&self) -> bool {
        matches!(
            self,
            Check::RequiredAttributes(_) | Check::EmailDomain(_) | Check::IdentityMatch(_)
        )
    }

    /// The name in the rules file, as results and metrics show it.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::RequiredAttributes(_) => "required_attributes",
            Check::RegistrationNumber => "registration_number",
            Check::PhoneNumbers => "phone_numbers",
            Check::Emails => "emails",
            Check::Website => "website",
            Check::EmailDomain(_) => "email_domain",
            Check::RepresentativePhone => "representative_phone",
            Check::DuplicateRegistration => "duplicate_registration",
            Check::DuplicateRepresentative => "duplicate_representative",
            Check::IdentityMatch(_) => "identity_match",
            Check::LinkedProfileApproved => "linked_profile_approved",
        }
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub check: Check,
    pub on_fail: OnFail,
    pub weight: u32,
}

/// The workflow of one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub policy: Policy,
    /// The score (0 to 100) at or above which a bundle with no failed check is approved.
    pub approve_at: u8,
    pub steps: Vec<Step>,
}

/// A loaded rules file: its version and a workflow per policy it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflows {
    pub version: String,
    workflows: Vec<Workflow>,
}

/// Why a rules file was refused. Each names where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkflowError {
    #[error("{0}")]
    Syntax(String),
    #[error("version must be 1 to 64 characters of letters, digits, '.', '-', '_' or ':'")]
    Version,
    #[error(
        "workflow {index}: unknown policy {policy:?} (use primary_customer_profile, secondary_customer_profile, shaken_stir_trust_product or a policy SID)"
    )]
    Policy { index: usize, policy: String },
    #[error("workflow {policy}: a second workflow for the same policy")]
    DuplicatePolicy { policy: &'static str },
    #[error("workflow {policy}: approve_at {value} is over 100")]
    Threshold { policy: &'static str, value: u8 },
    #[error(
        "workflow {policy}: the weights of its checks add up to 0, so no bundle could reach approve_at {approve_at}"
    )]
    NoWeight {
        policy: &'static str,
        approve_at: u8,
    },
    #[error("workflow {policy}, check {check}: {message}")]
    Check {
        policy: &'static str,
        check: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: String,
    #[serde(default, rename = "workflow")]
    workflows: Vec<RawWorkflow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    policy: String,
    approve_at: u8,
    #[serde(default, rename = "check")]
    checks: Vec<toml::Table>,
}

/// The policy a rules file names: its snake_case name or its SID.
fn policy_named(name: &str) -> Option<Policy> {
    match name {
        "primary_customer_profile" => Some(Policy::PrimaryCustomerProfile),
        "secondary_customer_profile" => Some(Policy::SecondaryCustomerProfile),
        "shaken_stir_trust_product" => Some(Policy::ShakenStir),
        sid => Policy::ALL.iter().copied().find(|p| p.sid_str() == sid),
    }
}

/// The rules file's name of a policy.
pub fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::PrimaryCustomerProfile => "primary_customer_profile",
        Policy::SecondaryCustomerProfile => "secondary_customer_profile",
        Policy::ShakenStir => "shaken_stir_trust_product",
    }
}

impl Workflows {
    /// Parses and validates a rules file.
    pub fn parse(text: &str) -> Result<Workflows, WorkflowError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| WorkflowError::Syntax(e.to_string()))?;
        let version_ok = (1..=64).contains(&raw.version.len())
            && (raw.version.bytes()).all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
        if !version_ok {
            return Err(WorkflowError::Version);
        }
        let mut workflows: Vec<Workflow> = Vec::new();
        for (index, w) in raw.workflows.into_iter().enumerate() {
            let policy = policy_named(&w.policy).ok_or_else(|| WorkflowError::Policy {
                index: index + 1,
                policy: w.policy.clone(),
            })?;
            let name = policy_name(policy);
            if workflows.iter().any(|o| o.policy == policy) {
                return Err(WorkflowError::DuplicatePolicy { policy: name });
            }
            if w.approve_at > 100 {
                return Err(WorkflowError::Threshold {
                    policy: name,
                    value: w.approve_at,
                });
            }
            let mut steps: Vec<Step> = Vec::new();
            for (n, table) in w.checks.into_iter().enumerate() {
                let step = step(table, n + 1).map_err(|(check, message)| WorkflowError::Check {
                    policy: name,
                    check,
                    message,
                })?;
                if steps.iter().any(|s| s.name == step.name) {
                    return Err(WorkflowError::Check {
                        policy: name,
                        check: step.name,
                        message: "a second check with the same name".into(),
                    });
                }
                steps.push(step);
            }
            if w.approve_at > 0 && steps.iter().all(|s| s.weight == 0) {
                return Err(WorkflowError::NoWeight {
                    policy: name,
                    approve_at: w.approve_at,
                });
            }
            workflows.push(Workflow {
                policy,
                approve_at: w.approve_at,
                steps,
            });
        }
        Ok(Workflows {
            version: raw.version,
            workflows,
        })
    }

    /// The embedded default rules.
    pub fn embedded() -> Workflows {
        // The embedded file is tested to parse (`the_default_rules_parse`).
        Workflows::parse(DEFAULT).unwrap_or_else(|_| Workflows {
            version: "none".into(),
            workflows: Vec::new(),
        })
    }

    /// The workflow of `policy`, if the file has one. Bundles of a policy without one
    /// go to the manual queue.
    pub fn of(&self, policy: Policy) -> Option<&Workflow> {
        self.workflows.iter().find(|w| w.policy == policy)
    }

    pub fn workflows(&self) -> &[Workflow] {
        &self.workflows
    }
}

/// One `[[workflow.check]]` table: `(check name or position, message)` on error.
fn step(mut table: toml::Table, position: usize) -> Result<Step, (String, String)> {
    let name = match table.remove("name") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err((format!("#{position}"), "name must be a string".into())),
        None => return Err((format!("#{position}"), "missing key `name`".into())),
    };
    let fail = |message: String| (name.clone(), message);
    let name_ok = (1..=64).contains(&name.len())
        && (name.bytes()).all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !name_ok {
        return Err(fail(
            "name must be 1 to 64 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    let on_fail = match table.remove("on_fail") {
        Some(v) => OnFail::deserialize(v).map_err(|e| fail(format!("on_fail: {e}")))?,
        None => {
            return Err(fail(
                "missing key `on_fail` (reject, review or score)".into(),
            ));
        }
    };
    let weight = match table.remove("weight") {
        None => 0,
        Some(toml::Value::Integer(w)) if (0..=1000).contains(&w) => w as u32,
        Some(_) => return Err(fail("weight must be an integer from 0 to 1000".into())),
    };
    let keys: Vec<String> = table.keys().cloned().collect();
    let check = Check::deserialize(toml::Value::Table(table)).map_err(|e| fail(e.to_string()))?;
    // serde lets a unit variant of an internally tagged enum ignore other keys.
    if !check.has_parameters()
        && let Some(extra) = keys.iter().find(|k| *k != "check")
    {
        return Err(fail(format!(
            "unknown field `{extra}`: check {} takes no parameters",
            check.kind()
        )));
    }
    let valid = match &check {
        Check::RequiredAttributes(r) => r.validate(),
        Check::EmailDomain(d) => d.validate(),
        Check::IdentityMatch(m) if m.min_score > 100 => {
            Err(format!("min_score {} is over 100", m.min_score))
        }
        _ => Ok(()),
    };
    valid.map_err(fail)?;
    Ok(Step {
        name,
        check,
        on_fail,
        weight,
    })
}

/// What a workflow decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approve,
    Reject,
    Review,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approve => "approve",
            Outcome::Reject => "reject",
            Outcome::Review => "review",
        }
    }
}

/// The decision from each step's result (`true` when it passed): a failed `reject` step
/// rejects; else a failed `review` step sends to review; else the passed weight, out of
/// 100, approves when it reaches `approve_at`, and sends to review when it does not.
pub fn decide(workflow: &Workflow, passed: &[bool]) -> (Outcome, u8) {
    let total: u64 = workflow.steps.iter().map(|s| u64::from(s.weight)).sum();
    let gained: u64 = (workflow.steps.iter().zip(passed))
        .filter(|(_, ok)| **ok)
        .map(|(s, _)| u64::from(s.weight))
        .sum();
    let score = (gained * 100).checked_div(total).map_or(100, |s| s as u8);
    let failed =
        |on: OnFail| (workflow.steps.iter().zip(passed)).any(|(s, ok)| !ok && s.on_fail == on);
    let outcome = if failed(OnFail::Reject) {
        Outcome::Reject
    } else if failed(OnFail::Review) || score < workflow.approve_at {
        Outcome::Review
    } else {
        Outcome::Approve
    };
    (outcome, score)
}

#[cfg(test)]
mod tests;
