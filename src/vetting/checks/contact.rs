//! The representatives' contact details: phone numbers in E.164, well-formed emails, and
//! phone numbers that belong to the submitting account.

use std::collections::HashSet;

use super::{Finding, Party, Text, not_text, plain, representatives};
use crate::tn::{self, Numbering, Tn};
use crate::trust::rules::check_email;

/// Longest phone number value read: E.164's `+` and 15 digits, with room for the visual
/// separators the canonical comparison drops.
const MAX_PHONE: usize = 64;
/// Longest email address (RFC 5321 section 4.5.3.1.3).
pub(super) const MAX_EMAIL: usize = 254;

const E164_REASON: &str =
    "must be an E.164 number: + then 2 to 15 digits, the first not 0, e.g. +12155550121";

/// Every representative's (types starting `authorized_representative_`) `phone_number`
/// is strict E.164: `+`, then 2 to 15 digits, the first not `0`, with no separators.
pub fn phone_numbers(parties: &[Party<'_>]) -> Finding {
    let mut finding = Finding::default();
    for party in representatives(parties) {
        let reason = match party.text("phone_number") {
            Text::Missing => continue,
            Text::Wrong(kind) => not_text(kind),
            Text::Some(raw) => match plain(raw, MAX_PHONE) {
                Err(reason) => reason,
                Ok(phone) if is_e164(phone) => continue,
                Ok(_) => E164_REASON.to_owned(),
            },
        };
        finding.failures.push(party.failure("phone_number", reason));
    }
    finding
}

/// Every representative's `email` is well formed ([`check_email`]: one `@`, a local
/// part, a domain of at least two labels, at most 254 characters, ASCII only).
pub fn emails(parties: &[Party<'_>]) -> Finding {
    let mut finding = Finding::default();
    for party in representatives(parties) {
        let reason = match party.text("email") {
            Text::Missing => continue,
            Text::Wrong(kind) => not_text(kind),
            Text::Some(raw) => match plain(raw, MAX_EMAIL) {
                Err(reason) => reason,
                Ok(email) if check_email(email).is_ok() => continue,
                Ok(_) => "must be an email address such as jane@example.com".to_owned(),
            },
        };
        finding.failures.push(party.failure("email", reason));
    }
    finding
}

/// Each representative's `phone_number` is one of `account_numbers`: the E.164 numbers
/// of the submitting account and its family (with or without `+`). Numbers compare in
/// canonical form, so `+1 (215) 555-0121` is `+12155550121`.
///
/// A missing phone number passes (the required check reports it); one that is not a
/// global number (no `+`) cannot be matched and fails.
pub fn representative_phone_on_account(
    parties: &[Party<'_>],
    account_numbers: &[String],
) -> Finding {
    let numbers: HashSet<Tn> = account_numbers
        .iter()
        .filter_map(|n| stored_number(n))
        .collect();
    let mut finding = Finding::default();
    for party in representatives(parties) {
        let reason = match party.text("phone_number") {
            Text::Missing => continue,
            Text::Wrong(kind) => not_text(kind),
            Text::Some(raw) => match canonical_phone(raw) {
                Some(tn) if numbers.contains(&tn) => continue,
                Some(_) => "must be one of the account's own phone numbers".to_owned(),
                None => format!("cannot be matched with the account's numbers: it {E164_REASON}"),
            },
        };
        finding.failures.push(party.failure("phone_number", reason));
    }
    finding
}

/// Strict E.164: `+`, then 2 to 15 digits, the first not `0`.
fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A submitted phone number in canonical form: a global number (`+` first) of 2 to 15
/// digits, visual separators (`-` `.` `(` `)` and spaces) dropped ([`tn::canonicalize`]).
pub(super) fn canonical_phone(raw: &str) -> Option<Tn> {
    let raw = raw.trim();
    if !raw.starts_with('+') || raw.len() > MAX_PHONE {
        return None;
    }
    // A leading `+` makes the number global, so the numbering plan is never consulted.
    let tn = tn::canonicalize(raw, &Numbering::default()).ok()?;
    (tn.is_digits() && tn.as_str().len() >= 2).then_some(tn)
}

/// A number the crate stores (an account's number, another profile's representative's):
/// E.164 with or without its `+`.
pub(super) fn stored_number(raw: &str) -> Option<Tn> {
    let raw = raw.trim();
    if raw.starts_with('+') {
        canonical_phone(raw)
    } else if raw.len() <= MAX_PHONE {
        canonical_phone(&format!("+{raw}"))
    } else {
        None
    }
}
