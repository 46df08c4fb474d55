//! The business's registration: its `business_registration_number` has the form its
//! `business_registration_identifier` (EIN, DUNS, CBN, VAT, …) gives, and the key the
//! duplicate check compares registrations by.

use super::{Finding, Party, Text, businesses, not_text, plain};

const IDENTIFIER: &str = "business_registration_identifier";
const NUMBER: &str = "business_registration_number";

/// Longest registration number read.
const MAX_NUMBER: usize = 64;

/// The `business_registration_identifier` values accepted, as Trust Hub spells them: the
/// Secondary Customer Profile table (EIN, CBN, CN, ACN, CIN, VAT, VATRN, RN, Other) and
/// the SHAKEN/STIR onboarding table (DUNS). They compare case-insensitively.
pub const REGISTRATION_IDENTIFIERS: &[&str] = &[
    "EIN", "DUNS", "CBN", "CN", "ACN", "CIN", "VAT", "VATRN", "RN", "Other",
];

/// The two-digit prefixes the IRS never assigns to an EIN. The IRS page "How EINs are
/// assigned and valid EIN prefixes"
/// (<https://www.irs.gov/businesses/small-businesses-self-employed/how-eins-are-assigned-and-valid-ein-prefixes>,
/// as copied in python-stdnum's `stdnum/us/ein.dat`) lists 83 valid prefixes by campus;
/// these 17 are the rest. A prefix check filters typos and made-up numbers; it does not
/// prove that a number was issued.
const EIN_UNASSIGNED_PREFIXES: &[&str] = &[
    "00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96",
    "97",
];

/// The business's registration number matches its `business_registration_identifier`:
///
/// - `EIN`: 9 digits, `NN-NNNNNNN` or `NNNNNNNNN`, with a prefix the IRS assigns.
/// - `DUNS`: 9 digits, `NNNNNNNNN` or `NN-NNN-NNNN`.
/// - `CBN` (Canada's Business Number): 9 digits whose last is their Luhn check digit,
///   optionally followed by a program account (two letters and four digits: `RT0001`);
///   spaces and hyphens are ignored.
/// - `VAT`, `VATRN`: a two-letter country prefix and 2 to 13 letters or digits; spaces,
///   hyphens and dots are ignored.
/// - `CN`, `ACN`, `CIN`, `RN`, `Other`: 1 to 64 printable ASCII characters, at least one
///   a letter or digit.
///
/// An unknown identifier fails on `business_registration_identifier`; a missing
/// identifier or number fails on the attribute that is missing.
pub fn registration_number(parties: &[Party<'_>]) -> Finding {
    let mut finding = Finding::default();
    for party in businesses(parties) {
        let identifier = match party.text(IDENTIFIER) {
            Text::Missing => Err("is missing".to_owned()),
            Text::Wrong(kind) => Err(not_text(kind)),
            Text::Some(raw) => Identifier::parse(raw)
                .ok_or_else(|| format!("must be one of {}", REGISTRATION_IDENTIFIERS.join(", "))),
        };
        let number = match party.text(NUMBER) {
            Text::Missing => Err("is missing".to_owned()),
            Text::Wrong(kind) => Err(not_text(kind)),
            Text::Some(raw) => plain(raw, MAX_NUMBER),
        };
        if let Err(reason) = &identifier {
            finding.failures.push(party.failure(IDENTIFIER, reason));
        }
        let reason = match (identifier, number) {
            (_, Err(reason)) => reason,
            (Ok(identifier), Ok(number)) => match identifier.check(number) {
                Ok(()) => continue,
                Err(reason) => reason,
            },
            // The identifier failed; the number cannot be judged without it.
            (Err(_), Ok(_)) => continue,
        };
        finding.failures.push(party.failure(NUMBER, reason));
    }
    finding
}

/// A registration in the form the duplicate check compares: the identifier in upper
/// case, and the number in upper case without spaces and hyphens. A Canadian BN15 (a
/// program account) compares as its 9-digit business number, as every program account
/// of one business shares it. `None` for a blank or over-long number.
pub(super) fn registration_key(identifier: &str, number: &str) -> Option<(String, String)> {
    let identifier = identifier.trim();
    let number = number.trim();
    if identifier.is_empty() || number.is_empty() || number.len() > 4 * MAX_NUMBER {
        return None;
    }
    let mut compact: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .flat_map(char::to_uppercase)
        .collect();
    if identifier.eq_ignore_ascii_case("CBN")
        && compact.len() == 15
        && compact.bytes().take(9).all(|b| b.is_ascii_digit())
    {
        compact.truncate(9);
    }
    Some((identifier.to_ascii_uppercase(), compact))
}

/// A `business_registration_identifier` this check knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identifier {
    Ein,
    Duns,
    Cbn,
    Vat,
    /// CN, ACN, CIN, RN and Other: no common form beyond printable text.
    Free,
}

impl Identifier {
    fn parse(raw: &str) -> Option<Identifier> {
        let known = REGISTRATION_IDENTIFIERS
            .iter()
            .find(|name| name.eq_ignore_ascii_case(raw))?;
        Some(match *known {
            "EIN" => Identifier::Ein,
            "DUNS" => Identifier::Duns,
            "CBN" => Identifier::Cbn,
            "VAT" | "VATRN" => Identifier::Vat,
            _ => Identifier::Free,
        })
    }

    /// Whether `number` (trimmed, at most 64 characters, no control characters) has this
    /// identifier's form; why not, for a person.
    fn check(self, number: &str) -> Result<(), String> {
        match self {
            Identifier::Ein => ein(number),
            Identifier::Duns => duns(number),
            Identifier::Cbn => cbn(number),
            Identifier::Vat => vat(number),
            Identifier::Free => free(number),
        }
    }
}

fn ein(number: &str) -> Result<(), String> {
    let digits = grouped_digits(number, &[&[9], &[2, 7]])
        .ok_or("must be an EIN: 9 digits written NN-NNNNNNN or NNNNNNNNN")?;
    let prefix = digits.get(..2).unwrap_or_default();
    if EIN_UNASSIGNED_PREFIXES.contains(&prefix) {
        return Err(format!(
            "starts with {prefix}, a prefix the IRS does not assign to EINs"
        ));
    }
    Ok(())
}

fn duns(number: &str) -> Result<(), String> {
    grouped_digits(number, &[&[9], &[2, 3, 4]])
        .map(drop)
        .ok_or_else(|| "must be a D-U-N-S number: 9 digits written NNNNNNNNN or NN-NNN-NNNN".into())
}

/// Canada's Business Number: the Canada Revenue Agency's 9-digit number, whose ninth
/// digit is a Luhn check digit (as python-stdnum's `stdnum/ca/bn.py` checks), and an
/// optional program account: a two-letter program identifier (RT, RP, RC, RM, RR, RZ, …)
/// and a 4-digit reference number.
fn cbn(number: &str) -> Result<(), String> {
    let compact: Vec<u8> = (number.bytes())
        .filter(|b| !matches!(b, b' ' | b'-'))
        .collect();
    let (bn, program) = compact.split_at(compact.len().min(9));
    let program_ok = match program {
        [] => true,
        [a, b, rest @ ..] => {
            a.is_ascii_alphabetic()
                && b.is_ascii_alphabetic()
                && rest.len() == 4
                && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    if bn.len() != 9 || !bn.iter().all(u8::is_ascii_digit) || !program_ok {
        return Err(
            "must be a Business Number: 9 digits, optionally followed by a program \
                    account such as RT0001"
                .to_owned(),
        );
    }
    if !luhn(bn) {
        return Err("is not a Business Number: its check digit (the ninth) is wrong".to_owned());
    }
    Ok(())
}

fn vat(number: &str) -> Result<(), String> {
    let compact: Vec<u8> = (number.bytes())
        .filter(|b| !matches!(b, b' ' | b'-' | b'.'))
        .collect();
    let ok = match compact.as_slice() {
        [a, b, rest @ ..] => {
            a.is_ascii_alphabetic()
                && b.is_ascii_alphabetic()
                && (2..=13).contains(&rest.len())
                && rest.iter().all(u8::is_ascii_alphanumeric)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(
            "must be a VAT number: a 2-letter country code and 2 to 13 letters or digits, \
             e.g. GB123456789"
                .to_owned(),
        )
    }
}

fn free(number: &str) -> Result<(), String> {
    let printable = number.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    if printable && number.bytes().any(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "must be 1 to {MAX_NUMBER} printable ASCII characters, at least one a letter or digit"
        ))
    }
}

/// The digits of `number` when it is all digits in one of the `layouts`: the lengths of
/// its hyphen-separated groups (`[2, 7]` is `NN-NNNNNNN`).
fn grouped_digits<'a>(number: &'a str, layouts: &[&[usize]]) -> Option<String> {
    let groups: Vec<&'a str> = number.split('-').collect();
    let fits = layouts.iter().any(|layout| {
        layout.len() == groups.len()
            && layout.iter().zip(&groups).all(|(&len, group)| {
                group.len() == len && group.bytes().all(|b| b.is_ascii_digit())
            })
    });
    fits.then(|| groups.concat())
}

/// The Luhn checksum over ASCII digits: doubling every second digit from the right.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = (digits.iter().rev().enumerate())
        .map(|(i, d)| {
            let d = u32::from(d.saturating_sub(b'0'));
            if i % 2 == 1 {
                let twice = d * 2;
                twice / 10 + twice % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}
