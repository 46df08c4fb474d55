//! Which attributes must be filled in: by end user type, and more for a business type or
//! a region of operation, as the operator's workflow file says.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use super::{Failure, Finding, Party, Text, businesses};
use crate::trust::rules::{END_USER_TYPE_CATALOGUE, END_USER_TYPES};

/// The attribute that selects [`RequiredAttributes::business_type`] rules.
const BUSINESS_TYPE: &str = "business_type";
/// The attribute that selects [`RequiredAttributes::region`] rules: a comma-separated
/// string or a list of strings.
const REGIONS: &str = "business_regions_of_operation";

/// Which attributes must be present and non-empty, by end user type, by business type
/// and by region of operation. A workflow file's `required_attributes` check:
///
/// ```toml
/// [workflow.check.always]
/// customer_profile_business_information = ["business_name", "business_type"]
/// authorized_representative_1 = ["first_name", "last_name", "email", "phone_number"]
/// [workflow.check.when_attached]
/// authorized_representative_2 = ["first_name", "last_name", "email", "phone_number"]
/// [workflow.check.business_type."Non-profit Corporation"]
/// customer_profile_business_information = ["social_media_profile_urls"]
/// [workflow.check.region.EUROPE]
/// customer_profile_business_information = ["business_registration_number"]
/// ```
///
/// Business type and region values compare case-insensitively, without surrounding
/// whitespace. An end user type that [`always`](Self::always), a business type rule or a
/// region rule names must be attached: when none is, each of its required attributes
/// fails with a reason saying the end user is not attached, so every failure still
/// names one attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredAttributes {
    /// End user type → the attributes it must have.
    #[serde(default)]
    pub always: BTreeMap<String, Vec<String>>,
    /// End user type → the attributes it must have when one is attached; none need be
    /// (Trust Hub's second representative is optional).
    #[serde(default)]
    pub when_attached: BTreeMap<String, Vec<String>>,
    /// `business_type` value → end user type → the attributes also required of a
    /// business of that type.
    #[serde(default)]
    pub business_type: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// `business_regions_of_operation` value → end user type → the attributes also
    /// required of a business operating there.
    #[serde(default)]
    pub region: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl RequiredAttributes {
    /// Checks the rule itself: every end user type is one Trust Hub knows
    /// (`customer_profile_business_information`, `authorized_representative_1`,
    /// `authorized_representative_2`), every attribute is one of that type's attributes
    /// (which rejects empty names), and no business type or region value is blank.
    pub fn validate(&self) -> Result<(), String> {
        check_types("always", &self.always)?;
        check_types("when_attached", &self.when_attached)?;
        for (section, rules) in [
            ("business_type", &self.business_type),
            ("region", &self.region),
        ] {
            for (value, types) in rules {
                if value.trim().is_empty() {
                    return Err(format!("{section}: a value is blank"));
                }
                check_types(&format!("{section}.{value:?}"), types)?;
            }
        }
        Ok(())
    }
}

fn check_types(at: &str, types: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
    for (end_user_type, attributes) in types {
        let Some(known) =
            (END_USER_TYPE_CATALOGUE.iter()).find(|t| t.machine_name == end_user_type)
        else {
            return Err(format!(
                "{at}: unknown end user type {end_user_type:?}; expected one of {}",
                END_USER_TYPES.join(", ")
            ));
        };
        for attribute in attributes {
            if attribute.is_empty() {
                return Err(format!("{at}.{end_user_type}: an attribute name is empty"));
            }
            if !known.fields.iter().any(|(name, _)| name == attribute) {
                let names: Vec<&str> = known.fields.iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "{at}.{end_user_type}: unknown attribute {attribute:?}; expected one of {}",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// Why an attribute is required, for the reason.
#[derive(Debug, Clone, Copy)]
enum Why<'r> {
    Always,
    BusinessType(&'r str),
    Region(&'r str),
}

/// One required attribute.
struct Requirement<'r> {
    end_user_type: &'r str,
    attribute: &'r str,
    why: Why<'r>,
    /// Whether an end user of the type must be attached.
    attach: bool,
}

/// Attributes that must be present and non-empty: strings not blank, lists and objects
/// not empty; `null` is absent. Numbers and booleans are present (the format checks
/// judge them).
pub fn required_attributes(parties: &[Party<'_>], rules: &RequiredAttributes) -> Finding {
    let mut required = Vec::new();
    add(&mut required, &rules.always, Why::Always, true);
    for (value, types) in matching(&rules.business_type, business_types(parties)) {
        add(&mut required, types, Why::BusinessType(value), true);
    }
    for (value, types) in matching(&rules.region, regions(parties)) {
        add(&mut required, types, Why::Region(value), true);
    }
    add(&mut required, &rules.when_attached, Why::Always, false);

    let mut finding = Finding::default();
    for r in &required {
        let because = match r.why {
            Why::Always => String::new(),
            Why::BusinessType(value) => format!(" for a business of type {value}"),
            Why::Region(value) => format!(" for a business operating in {value}"),
        };
        let mut any = false;
        for party in parties
            .iter()
            .filter(|p| p.end_user_type == r.end_user_type)
        {
            any = true;
            if !present(party.attributes.get(r.attribute)) {
                (finding.failures)
                    .push(party.failure(r.attribute, format!("is required{because}")));
            }
        }
        if !any && r.attach {
            finding.failures.push(Failure::new(
                r.end_user_type,
                r.attribute,
                format!(
                    "is required{because}, and no {} end user is attached",
                    r.end_user_type
                ),
            ));
        }
    }
    finding
}

/// Adds the attributes of `types` not already required. An earlier requirement wins,
/// so [`RequiredAttributes::when_attached`] goes last.
fn add<'r>(
    required: &mut Vec<Requirement<'r>>,
    types: &'r BTreeMap<String, Vec<String>>,
    why: Why<'r>,
    attach: bool,
) {
    for (end_user_type, attributes) in types {
        for attribute in attributes {
            let seen = (required.iter())
                .any(|r| r.end_user_type == end_user_type && r.attribute == attribute);
            if !seen {
                required.push(Requirement {
                    end_user_type,
                    attribute,
                    why,
                    attach,
                });
            }
        }
    }
}

/// Whether a value counts as filled in.
fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Bool(_) | Value::Number(_)) => true,
    }
}

/// The rules whose value is one of `values` (case-insensitive), each once.
fn matching<'r, 'v>(
    rules: &'r BTreeMap<String, BTreeMap<String, Vec<String>>>,
    values: impl Iterator<Item = &'v str>,
) -> Vec<(&'r str, &'r BTreeMap<String, Vec<String>>)> {
    let mut hit = BTreeSet::new();
    for value in values {
        if let Some(key) = rules.keys().find(|k| k.trim().eq_ignore_ascii_case(value)) {
            hit.insert(key.as_str());
        }
        if hit.len() == rules.len() {
            break;
        }
    }
    (rules.iter())
        .filter(|(key, _)| hit.contains(key.as_str()))
        .map(|(key, types)| (key.as_str(), types))
        .collect()
}

/// The business's `business_type` values.
fn business_types<'a>(parties: &'a [Party<'_>]) -> impl Iterator<Item = &'a str> {
    businesses(parties).filter_map(|p| match p.text(BUSINESS_TYPE) {
        Text::Some(value) => Some(value),
        Text::Missing | Text::Wrong(_) => None,
    })
}

/// The business's regions of operation: a comma-separated string, or a list whose
/// strings may themselves be comma-separated. Other values name no region.
fn regions<'a>(parties: &'a [Party<'_>]) -> impl Iterator<Item = &'a str> {
    let strings = businesses(parties).flat_map(|p| match p.attributes.get(REGIONS) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    });
    strings
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
