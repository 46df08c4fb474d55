//! Vetting checks: small pure functions over the end users attached to a bundle under
//! review, each answering a [`Finding`] that names every failed field.
//!
//! - [`required_attributes`]: which attributes must be filled in ([`RequiredAttributes`]).
//! - Formats: [`registration_number`], [`phone_numbers`], [`emails`], [`website`].
//! - Consistency: [`email_domain`] (the representatives' email domain is the website's,
//!   [`EmailDomain`]) and [`representative_phone_on_account`].
//! - Duplicates across accounts: [`duplicate_registration`], [`duplicate_representative`].
//!
//! Attribute values come from outside: strings are trimmed, a value of the wrong JSON
//! type is a failure rather than a panic, and every format check caps the length it
//! reads before doing any other work. A format check passes over a missing attribute:
//! reporting that is [`required_attributes`]'s job.

mod contact;
mod duplicate;
mod registration;
mod required;
mod website;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::trust::Sid;

pub use contact::{emails, phone_numbers, representative_phone_on_account};
pub use duplicate::{
    DuplicateKey, duplicate_keys, duplicate_registration, duplicate_representative,
};
pub use registration::{REGISTRATION_IDENTIFIERS, registration_number};
pub use required::{RequiredAttributes, required_attributes};
pub use website::{DEFAULT_FREE_MAIL, EmailDomain, email_domain, website};

/// The end user type of the business a customer profile describes.
pub const BUSINESS: &str = "customer_profile_business_information";

/// The prefix of the authorized representatives' end user types
/// (`authorized_representative_1`, `authorized_representative_2`).
pub const REPRESENTATIVE_PREFIX: &str = "authorized_representative_";

/// An end user's `attributes`.
pub type Attributes = Map<String, Value>;

/// An end user attached to the bundle under review.
#[derive(Debug, Clone, Copy)]
pub struct Party<'a> {
    /// e.g. `customer_profile_business_information`, `authorized_representative_1`.
    pub end_user_type: &'a str,
    /// Its attributes, as submitted.
    pub attributes: &'a Attributes,
}

impl Party<'_> {
    /// Whether this is the business ([`BUSINESS`]).
    pub fn is_business(&self) -> bool {
        self.end_user_type == BUSINESS
    }

    /// Whether this is an authorized representative ([`REPRESENTATIVE_PREFIX`]).
    pub fn is_representative(&self) -> bool {
        self.end_user_type.starts_with(REPRESENTATIVE_PREFIX)
    }

    /// A failure of this party's `field`.
    fn failure(&self, field: &str, reason: impl Into<String>) -> Failure {
        Failure::new(self.end_user_type, field, reason)
    }

    /// Its `name` attribute read as text.
    fn text(&self, name: &str) -> Text<'_> {
        match self.attributes.get(name) {
            None | Some(Value::Null) => Text::Missing,
            Some(Value::String(s)) => match s.trim() {
                "" => Text::Missing,
                s => Text::Some(s),
            },
            Some(other) => Text::Wrong(json_kind(other)),
        }
    }
}

/// One failed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The end user type the field belongs to (`customer_profile_business_information`).
    pub object_type: String,
    /// The attribute (`business_registration_number`).
    pub field: String,
    /// Why, for a person.
    pub reason: String,
}

impl Failure {
    /// A failure of `field` on the end user of type `object_type`.
    pub fn new(object_type: &str, field: &str, reason: impl Into<String>) -> Failure {
        Failure {
            object_type: object_type.to_owned(),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// What a check found: passed when nothing failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Every failed field, in the order the check met them.
    pub failures: Vec<Failure>,
}

impl Finding {
    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl FromIterator<Failure> for Finding {
    fn from_iter<I: IntoIterator<Item = Failure>>(iter: I) -> Finding {
        Finding {
            failures: iter.into_iter().collect(),
        }
    }
}

/// Another account's approved customer profile, for the duplicate checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedProfile {
    /// The account that owns it.
    pub account: Sid,
    /// Its SID (`BU…`).
    pub bundle: Sid,
    /// Its business's `business_registration_identifier` and `business_registration_number`.
    pub registration: Option<(String, String)>,
    /// Its representatives' emails and phone numbers.
    pub representatives: Vec<(Option<String>, Option<String>)>,
}

/// An attribute read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text<'a> {
    /// Absent, `null`, or only whitespace.
    Missing,
    /// Present but not a JSON string: what it is instead (`"a number"`).
    Wrong(&'static str),
    /// The value without surrounding whitespace, never empty.
    Some(&'a str),
}

impl<'a> Text<'a> {
    /// The value, if it is text.
    fn some(self) -> Option<&'a str> {
        match self {
            Text::Some(s) => Some(s),
            Text::Missing | Text::Wrong(_) => None,
        }
    }
}

/// What a JSON value is, for a reason: "must be text, not {kind}".
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The reason for a value that is not text.
fn not_text(kind: &str) -> String {
    format!("must be text, not {kind}")
}

/// Checks what every text format shares: at most `max` characters and no control
/// characters. Reads at most `4 * max` bytes, so a huge value costs nothing more.
fn plain(value: &str, max: usize) -> Result<&str, String> {
    if value.len() > 4 * max || value.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("contains control characters".to_owned());
    }
    Ok(value)
}

/// The parties of the business ([`BUSINESS`]).
fn businesses<'p, 'a>(parties: &'p [Party<'a>]) -> impl Iterator<Item = &'p Party<'a>> {
    parties.iter().filter(|p| p.is_business())
}

/// The authorized representatives ([`REPRESENTATIVE_PREFIX`]).
fn representatives<'p, 'a>(parties: &'p [Party<'a>]) -> impl Iterator<Item = &'p Party<'a>> {
    parties.iter().filter(|p| p.is_representative())
}

#[cfg(test)]
mod tests;
