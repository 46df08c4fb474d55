//! Duplicates across accounts: a business registration, or a representative's email or
//! phone number, already on another account's approved customer profile.

use std::collections::HashMap;

use super::contact::{MAX_EMAIL, canonical_phone, stored_number};
use super::registration::registration_key;
use super::{ApprovedProfile, Finding, Party, Text, businesses, representatives};
use crate::tn::Tn;
use crate::trust::Sid;

/// Most bundle SIDs a reason names.
const MAX_NAMED: usize = 3;

/// The business's registration (identifier and number, compared without spaces, hyphens
/// and case; a Canadian BN15 as its 9-digit BN) is not on another account's approved
/// profile. Profiles of `account`, the submitting account, are never duplicates; the
/// caller leaves out any others it does not count (its family's, say). The reason names
/// the other bundles.
pub fn duplicate_registration(
    parties: &[Party<'_>],
    account: Sid,
    approved: &[ApprovedProfile],
) -> Finding {
    let mut finding = Finding::default();
    for party in businesses(parties) {
        let (Text::Some(identifier), Text::Some(number)) = (
            party.text("business_registration_identifier"),
            party.text("business_registration_number"),
        ) else {
            continue;
        };
        let Some(key) = registration_key(identifier, number) else {
            continue;
        };
        let bundles: Vec<Sid> = others(approved, account)
            .filter(|p| {
                (p.registration.as_ref())
                    .and_then(|(identifier, number)| registration_key(identifier, number))
                    .is_some_and(|theirs| theirs == key)
            })
            .map(|p| p.bundle)
            .collect();
        if !bundles.is_empty() {
            let reason = format!("is already registered on {}", approved_profiles(&bundles));
            (finding.failures).push(party.failure("business_registration_number", reason));
        }
    }
    finding
}

/// No representative's email (case-insensitive) or phone number (E.164, canonical) is on
/// another account's approved profile. As for [`duplicate_registration`], profiles of
/// `account` are never duplicates.
pub fn duplicate_representative(
    parties: &[Party<'_>],
    account: Sid,
    approved: &[ApprovedProfile],
) -> Finding {
    let mut by_email: HashMap<String, Vec<Sid>> = HashMap::new();
    let mut by_phone: HashMap<Tn, Vec<Sid>> = HashMap::new();
    for profile in others(approved, account) {
        for (email, phone) in &profile.representatives {
            if let Some(email) = email.as_deref().and_then(email_key) {
                add(by_email.entry(email).or_default(), profile.bundle);
            }
            if let Some(phone) = phone.as_deref().and_then(stored_number) {
                add(by_phone.entry(phone).or_default(), profile.bundle);
            }
        }
    }
    let mut finding = Finding::default();
    for party in representatives(parties) {
        let email = match party.text("email") {
            Text::Some(email) => email_key(email).and_then(|e| by_email.get(&e)),
            Text::Missing | Text::Wrong(_) => None,
        };
        let phone = match party.text("phone_number") {
            Text::Some(phone) => canonical_phone(phone).and_then(|p| by_phone.get(&p)),
            Text::Missing | Text::Wrong(_) => None,
        };
        for (field, bundles) in [("email", email), ("phone_number", phone)] {
            if let Some(bundles) = bundles {
                let reason = format!(
                    "is already used by a representative on {}",
                    approved_profiles(bundles)
                );
                finding.failures.push(party.failure(field, reason));
            }
        }
    }
    finding
}

/// One thing the duplicate checks compare, in the form they compare it: two profiles
/// with an equal key are duplicates of each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DuplicateKey {
    /// A registration: the identifier and the number, normalized the way the
    /// registration check compares them.
    Registration(String, String),
    /// A representative's email, trimmed, in lower case.
    Email(String),
    /// A representative's phone number, canonical.
    Phone(Tn),
}

impl ApprovedProfile {
    /// The approved profile `bundle` of `account`, as its end users `parties` describe it.
    pub fn of(account: Sid, bundle: Sid, parties: &[Party<'_>]) -> ApprovedProfile {
        let owned = |t: Text<'_>| t.some().map(str::to_owned);
        ApprovedProfile {
            account,
            bundle,
            registration: businesses(parties).find_map(|p| {
                owned(p.text("business_registration_identifier"))
                    .zip(owned(p.text("business_registration_number")))
            }),
            representatives: representatives(parties)
                .map(|p| (owned(p.text("email")), owned(p.text("phone_number"))))
                .collect(),
        }
    }

    /// What the duplicate checks compare of it.
    pub fn keys(&self) -> Vec<DuplicateKey> {
        let mut keys: Vec<DuplicateKey> = (self.registration.as_ref())
            .and_then(|(identifier, number)| registration_key(identifier, number))
            .map(|(i, n)| DuplicateKey::Registration(i, n))
            .into_iter()
            .collect();
        for (email, phone) in &self.representatives {
            keys.extend(
                email
                    .as_deref()
                    .and_then(email_key)
                    .map(DuplicateKey::Email),
            );
            keys.extend(
                phone
                    .as_deref()
                    .and_then(stored_number)
                    .map(DuplicateKey::Phone),
            );
        }
        keys
    }
}

/// What the duplicate checks compare of a submission: only approved profiles with one
/// of these keys can be its duplicates.
pub fn duplicate_keys(parties: &[Party<'_>]) -> Vec<DuplicateKey> {
    let mut keys = Vec::new();
    for p in businesses(parties) {
        if let (Some(i), Some(n)) = (
            p.text("business_registration_identifier").some(),
            p.text("business_registration_number").some(),
        ) && let Some((i, n)) = registration_key(i, n)
        {
            keys.push(DuplicateKey::Registration(i, n));
        }
    }
    for p in representatives(parties) {
        keys.extend(
            p.text("email")
                .some()
                .and_then(email_key)
                .map(DuplicateKey::Email),
        );
        keys.extend(
            p.text("phone_number")
                .some()
                .and_then(canonical_phone)
                .map(DuplicateKey::Phone),
        );
    }
    keys
}

/// The approved profiles of accounts other than `account`.
fn others(approved: &[ApprovedProfile], account: Sid) -> impl Iterator<Item = &ApprovedProfile> {
    approved.iter().filter(move |p| p.account != account)
}

/// An email as the duplicate check compares it: trimmed, in lower case.
fn email_key(email: &str) -> Option<String> {
    let email = email.trim();
    (!email.is_empty() && email.len() <= MAX_EMAIL).then(|| email.to_lowercase())
}

/// Adds `bundle` once: a profile's representatives come together, so a repeat is last.
fn add(bundles: &mut Vec<Sid>, bundle: Sid) {
    if bundles.last() != Some(&bundle) {
        bundles.push(bundle);
    }
}

/// "the approved customer profile BU… of another account", or "the approved customer
/// profiles BU…, BU…, BU… and 2 more of other accounts".
fn approved_profiles(bundles: &[Sid]) -> String {
    let named: Vec<String> = bundles.iter().take(MAX_NAMED).map(Sid::to_string).collect();
    let named = named.join(", ");
    match bundles.len() {
        1 => format!("the approved customer profile {named} of another account"),
        n if n <= MAX_NAMED => format!("the approved customer profiles {named} of other accounts"),
        n => format!(
            "the approved customer profiles {named} and {} more of other accounts",
            n - MAX_NAMED
        ),
    }
}
