//! Telephone-number canonicalization (RFC 8224 section 8.3): raw dial strings and
//! `sip:`/`sips:`/`tel:` URIs become the form used in PASSporTs and the trust index:
//! digits, and the `*` and `#` a TelephoneNumber may hold (RFC 8226 section 9).

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest number E.164 allows.
const MAX_DIGITS: usize = 15;
/// Room for digits before an international prefix is stripped.
const SCRATCH_DIGITS: usize = 32;

/// A canonical telephone number: 1..=15 of `0`-`9`, `*` and `#`, no `+`, never starting
/// with `0`. A number with `*` or `#` is a service code (`*67...`), never an E.164 number.
///
/// Stored inline (16 bytes). For digits-only numbers the derived ordering (length first,
/// then characters) is the numeric order of [`Tn::as_u64`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tn {
    len: u8,
    /// Digits in `..len`; the rest are zero so the derived traits see equal values as equal.
    digits: [u8; MAX_DIGITS],
}

impl Tn {
    /// The digits, e.g. `"12155550121"`.
    pub fn as_str(&self) -> &str {
        let digits = self.digits.get(..usize::from(self.len)).unwrap_or(&[]);
        // Only ASCII digits are ever stored, so this never falls back.
        std::str::from_utf8(digits).unwrap_or("")
    }

    /// The number as one integer key, exact both ways ([`Tn::from_u64`]): a digits-only
    /// number is its value (under 10^15, as canonical numbers never start with 0); one
    /// with `*` or `#` is 10^15 plus its characters in base 13, so no key is two numbers'.
    pub fn as_u64(&self) -> u64 {
        let chars = self.digits.iter().take(usize::from(self.len));
        if self.is_digits() {
            return chars.fold(0, |acc, d| acc * 10 + u64::from(d - b'0'));
        }
        // Base 13 with no zero digit, first character lowest, so that length is kept.
        let encoded = chars
            .rev()
            .fold(0, |acc, &c| acc * 13 + u64::from(base13(c)));
        SERVICE_CODE_KEYS + encoded
    }

    /// Whether the number is digits only (an E.164 number), with no `*` or `#`.
    pub fn is_digits(&self) -> bool {
        all_digits(self.digits.get(..usize::from(self.len)).unwrap_or(&[]))
    }

    /// The number whose [`Tn::as_u64`] is `value`; `None` for 0, more than 15 digits, or
    /// a key no number has.
    pub fn from_u64(value: u64) -> Option<Tn> {
        if let Some(mut rest) = value.checked_sub(SERVICE_CODE_KEYS) {
            let mut chars = Vec::with_capacity(MAX_DIGITS);
            while rest > 0 {
                chars.push(match rest % 13 {
                    d @ 1..=10 => b'0' + (d as u8 - 1),
                    11 => b'*',
                    12 => b'#',
                    _ => return None,
                });
                rest /= 13;
            }
            return Tn::from_global(&chars).ok().filter(|tn| !tn.is_digits());
        }
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        let mut rest = value;
        while rest > 0 {
            start -= 1;
            let slot = buf.get_mut(start)?;
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        Tn::from_global(buf.get(start..)?).ok()
    }

    /// Builds a number from already-global digits (country code first, no `+`).
    fn from_global(digits: &[u8]) -> Result<Tn, TnError> {
        match digits.first() {
            None => return Err(TnError::Empty),
            Some(b'0') => return Err(TnError::LeadingZero),
            Some(_) => {}
        }
        if digits.len() > MAX_DIGITS {
            return Err(TnError::TooLong);
        }
        if !digits.iter().copied().all(is_tn_char) {
            return Err(TnError::NotANumber);
        }
        let mut tn = Tn {
            len: 0,
            digits: [0; MAX_DIGITS],
        };
        for (slot, d) in tn.digits.iter_mut().zip(digits) {
            *slot = *d;
        }
        tn.len = digits.len() as u8;
        Ok(tn)
    }
}

impl fmt::Display for Tn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As its digits, country code first: `"12155550121"`.
impl Serialize for Tn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Stored numbers are E.164: digits only.
impl<'de> Deserialize<'de> for Tn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tn, D::Error> {
        let digits = String::deserialize(d)?;
        if !all_digits(digits.as_bytes()) {
            return Err(serde::de::Error::custom(TnError::NotANumber));
        }
        Tn::from_global(digits.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// Where the keys of numbers with `*` or `#` begin: above every 15-digit number.
const SERVICE_CODE_KEYS: u64 = 1_000_000_000_000_000;

/// A character of a TelephoneNumber (RFC 8226 section 9: `0123456789#*`).
fn is_tn_char(c: u8) -> bool {
    c.is_ascii_digit() || c == b'*' || c == b'#'
}

/// `c` as a base-13 digit other than 0: `0`-`9` are 1-10, `*` 11, `#` 12.
fn base13(c: u8) -> u8 {
    match c {
        b'*' => 11,
        b'#' => 12,
        d => d - b'0' + 1,
    }
}

impl fmt::Debug for Tn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tn({})", self.as_str())
    }
}

/// How national numbers are completed (the lead's config embeds this as `[numbering]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    /// Prepended to national numbers, e.g. `"1"` for NANP.
    #[serde(default = "default_country_code")]
    pub default_country_code: String,
    /// Trunk prefix stripped from national numbers (`"0"` in most of Europe, empty for NANP).
    #[serde(default = "default_national_prefix")]
    pub national_prefix: String,
    /// Dialled before a country code (`"011"` for NANP, `"00"` in most of Europe).
    #[serde(default = "default_international_prefix")]
    pub international_prefix: String,
    /// Length of a national significant number; `None` accepts any length.
    #[serde(default = "default_national_number_digits")]
    pub national_number_digits: Option<u8>,
}

fn default_country_code() -> String {
    "1".to_owned()
}

fn default_national_prefix() -> String {
    String::new()
}

fn default_international_prefix() -> String {
    "011".to_owned()
}

fn default_national_number_digits() -> Option<u8> {
    Some(10)
}

impl Default for Numbering {
    fn default() -> Self {
        Numbering {
            default_country_code: default_country_code(),
            national_prefix: default_national_prefix(),
            international_prefix: default_international_prefix(),
            national_number_digits: default_national_number_digits(),
        }
    }
}

impl Numbering {
    /// Checks the plan itself: a 1..=3 digit country code not starting with 0, and digit-only
    /// prefixes. [`canonicalize`] also rejects numbers built from a bad plan.
    pub fn validate(&self) -> Result<(), TnError> {
        let cc = self.default_country_code.as_bytes();
        if cc.is_empty() || cc.len() > 3 || cc.first() == Some(&b'0') || !all_digits(cc) {
            return Err(TnError::InvalidNumbering("default_country_code"));
        }
        if !all_digits(self.national_prefix.as_bytes()) {
            return Err(TnError::InvalidNumbering("national_prefix"));
        }
        if !all_digits(self.international_prefix.as_bytes()) {
            return Err(TnError::InvalidNumbering("international_prefix"));
        }
        if matches!(self.national_number_digits, Some(0)) {
            return Err(TnError::InvalidNumbering("national_number_digits"));
        }
        Ok(())
    }
}

fn all_digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

/// Why a string is not a usable telephone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TnError {
    #[error("no digits in telephone number")]
    Empty,
    #[error(
        "telephone number contains characters other than digits, `*`, `#` and visual separators"
    )]
    NotANumber,
    #[error("telephone number has more than 15 digits")]
    TooLong,
    #[error("global telephone number starts with 0")]
    LeadingZero,
    #[error("national number does not fit the numbering plan, or carries an extension")]
    Ambiguous,
    #[error("URI is not a sip:, sips: or tel: URI with a telephone number")]
    UnsupportedUri,
    #[error("numbering plan field `{0}` is invalid")]
    InvalidNumbering(&'static str),
}

/// Canonicalizes a dial string: `+1 (215) 555-0121`, `011 44 20 7946 0000`, `2155550121`.
///
/// Visual separators (`-` `.` `(` `)` and spaces) are dropped; `*` and `#` are kept
/// (RFC 8224 section 8.3, RFC 8226 section 9). A leading `+`, or the international
/// prefix, marks a global number. Anything else is national and is completed with the
/// default country code only when it fits the plan: nothing is guessed. A national
/// number with `*` or `#` is a service code, not a number of the plan, and stays as
/// dialed.
pub fn canonicalize(raw: &str, n: &Numbering) -> Result<Tn, TnError> {
    canonicalize_as(raw, n, false)
}

/// `global` says a `+` was already seen (escaped as `%2B` in a URI).
fn canonicalize_as(raw: &str, n: &Numbering, mut global: bool) -> Result<Tn, TnError> {
    let mut buf = [0u8; SCRATCH_DIGITS];
    let mut len = 0;
    for &b in raw.as_bytes() {
        match b {
            b'0'..=b'9' | b'*' | b'#' => {
                let slot = buf.get_mut(len).ok_or(TnError::TooLong)?;
                *slot = b;
                len += 1;
            }
            b'-' | b'.' | b'(' | b')' | b' ' => {}
            b'+' if len == 0 && !global => global = true,
            _ => return Err(TnError::NotANumber),
        }
    }
    let digits = buf.get(..len).unwrap_or(&[]);
    if digits.is_empty() {
        return Err(TnError::Empty);
    }
    if global {
        return Tn::from_global(digits);
    }
    let intl = n.international_prefix.as_bytes();
    if !intl.is_empty()
        && let Some(rest) = digits.strip_prefix(intl)
    {
        return Tn::from_global(rest);
    }
    if !all_digits(digits) {
        return Tn::from_global(digits);
    }
    let national = match n.national_prefix.as_bytes() {
        [] => digits,
        prefix => digits.strip_prefix(prefix).unwrap_or(digits),
    };
    if national.is_empty() {
        return Err(TnError::Empty);
    }
    let cc = n.default_country_code.as_bytes();
    if cc.is_empty() || !all_digits(cc) {
        return Err(TnError::InvalidNumbering("default_country_code"));
    }
    match n.national_number_digits.map(usize::from) {
        Some(nsn) if national.len() == nsn => with_country_code(cc, national),
        Some(nsn) if national.len() == cc.len() + nsn && national.starts_with(cc) => {
            Tn::from_global(national)
        }
        Some(_) => Err(TnError::Ambiguous),
        None => with_country_code(cc, national),
    }
}

fn with_country_code(cc: &[u8], national: &[u8]) -> Result<Tn, TnError> {
    let mut buf = [0u8; SCRATCH_DIGITS];
    let total = cc.len() + national.len();
    let out = buf.get_mut(..total).ok_or(TnError::TooLong)?;
    let (head, tail) = out.split_at_mut(cc.len());
    head.copy_from_slice(cc);
    tail.copy_from_slice(national);
    Tn::from_global(out)
}

/// Canonicalizes the number in a URI: the user part of `sip:`/`sips:` (up to `;`, `:` or
/// `@`), or the number of `tel:`. The scheme is case-insensitive and one pair of
/// surrounding `<>` is removed. Parameters such as `phone-context` and `user=phone` are
/// ignored, but an `ext` parameter makes the number ambiguous. A leading `%2B` is `+`.
pub fn from_uri(uri: &str, n: &Numbering) -> Result<Tn, TnError> {
    let mut uri = uri.trim();
    if let Some(inner) = uri.strip_prefix('<') {
        uri = inner
            .strip_suffix('>')
            .ok_or(TnError::UnsupportedUri)?
            .trim();
    }
    let (scheme, rest) = uri.split_once(':').ok_or(TnError::UnsupportedUri)?;
    let subscriber = if scheme.eq_ignore_ascii_case("tel") {
        rest
    } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        // The user part ends at '@'; without one the URI names only a host.
        let (userinfo, _host) = rest.split_once('@').ok_or(TnError::UnsupportedUri)?;
        // Drop a password ("user:password").
        userinfo.split(':').next().unwrap_or(userinfo)
    } else {
        return Err(TnError::UnsupportedUri);
    };
    let mut parts = subscriber.split(';');
    let number = parts.next().unwrap_or("");
    for param in parts {
        let name = param.split('=').next().unwrap_or(param);
        if name.trim().eq_ignore_ascii_case("ext") {
            return Err(TnError::Ambiguous);
        }
    }
    if !number.contains('%') {
        return canonicalize(number, n);
    }
    // In a URI, `#` is always escaped (`%23`), `*` may be (`%2A`), and so may a leading
    // `+` (`%2B`); any other escape is not part of a number.
    let mut unescaped = String::with_capacity(number.len());
    let mut rest = number;
    while let Some(at) = rest.find('%') {
        unescaped.push_str(rest.get(..at).unwrap_or(""));
        let escape = rest.get(at..at + 3).ok_or(TnError::NotANumber)?;
        unescaped.push(match escape.to_ascii_uppercase().as_str() {
            "%23" => '#',
            "%2A" => '*',
            "%2B" if unescaped.is_empty() => '+',
            _ => return Err(TnError::NotANumber),
        });
        rest = rest.get(at + 3..).unwrap_or("");
    }
    unescaped.push_str(rest);
    canonicalize(&unescaped, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanp() -> Numbering {
        Numbering::default()
    }

    fn uk() -> Numbering {
        Numbering {
            default_country_code: "44".into(),
            national_prefix: "0".into(),
            international_prefix: "00".into(),
            national_number_digits: None,
        }
    }

    #[test]
    fn canonicalize_table() {
        let cases: &[(&str, Result<&str, TnError>)] = &[
            ("+12155550121", Ok("12155550121")),
            ("+1 (215) 555-0121", Ok("12155550121")),
            ("+1.215.555.0121", Ok("12155550121")),
            ("2155550121", Ok("12155550121")),
            ("(215) 555-0121", Ok("12155550121")),
            ("1 215 555 0121", Ok("12155550121")),
            ("12155550121", Ok("12155550121")),
            ("011 44 20 7946 0000", Ok("442079460000")),
            ("+442079460000", Ok("442079460000")),
            ("+999999999999999", Ok("999999999999999")),
            ("", Err(TnError::Empty)),
            ("  ", Err(TnError::Empty)),
            ("+", Err(TnError::Empty)),
            ("011", Err(TnError::Empty)),
            ("abc", Err(TnError::NotANumber)),
            ("215555012a", Err(TnError::NotANumber)),
            ("1+2155550121", Err(TnError::NotANumber)),
            ("++12155550121", Err(TnError::NotANumber)),
            // RFC 8224 section 8.3: `*` and `#` are kept. A national number with them is
            // a service code, kept as dialed; a global one keeps them in place.
            ("2155550121#", Ok("2155550121#")),
            ("*67 215-555-0121", Ok("*672155550121")),
            ("#31#", Ok("#31#")),
            ("+1 215 555 0121#", Ok("12155550121#")),
            ("011 44 20 7946*0000", Ok("44207946*0000")),
            ("*", Ok("*")),
            ("*67 215 555 0121 456", Err(TnError::TooLong)),
            ("+0*1", Err(TnError::LeadingZero)),
            ("215 555 0121 a", Err(TnError::NotANumber)),
            ("911", Err(TnError::Ambiguous)),
            ("5550121", Err(TnError::Ambiguous)),
            ("22155550121", Err(TnError::Ambiguous)),
            ("121555501210", Err(TnError::Ambiguous)),
            ("+1234567890123456", Err(TnError::TooLong)),
            ("0114412345678901234", Err(TnError::TooLong)),
            ("+0215550121", Err(TnError::LeadingZero)),
            ("0110215550121", Err(TnError::LeadingZero)),
        ];
        for (raw, want) in cases {
            let got = canonicalize(raw, &nanp());
            assert_eq!(
                got.as_ref().map(Tn::as_str),
                want.as_ref().map(|s| *s),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn canonicalize_with_national_prefix_and_free_length() {
        let cases: &[(&str, Result<&str, TnError>)] = &[
            ("020 7946 0000", Ok("442079460000")),
            ("0044 20 7946 0000", Ok("442079460000")),
            ("+44 20 7946 0000", Ok("442079460000")),
            ("7946 0000", Ok("4479460000")),
            ("0", Err(TnError::Empty)),
        ];
        for (raw, want) in cases {
            let got = canonicalize(raw, &uk());
            assert_eq!(
                got.as_ref().map(Tn::as_str),
                want.as_ref().map(|s| *s),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn from_uri_table() {
        let cases: &[(&str, Result<&str, TnError>)] = &[
            ("sip:+12155550121@example.com", Ok("12155550121")),
            ("SIP:+12155550121@example.com;user=phone", Ok("12155550121")),
            ("sips:2155550121@example.com", Ok("12155550121")),
            ("<sip:+12155550121@example.com>", Ok("12155550121")),
            (
                " <sip:+12155550121@10.0.0.1:5060;transport=udp> ",
                Ok("12155550121"),
            ),
            ("sip:+1-215-555-0121;isub=12@example.com", Ok("12155550121")),
            ("sip:2155550121:secret@example.com", Ok("12155550121")),
            ("sip:%2B12155550121@example.com", Ok("12155550121")),
            ("sip:%2b442079460000@example.com", Ok("442079460000")),
            ("tel:+1-215-555-0121", Ok("12155550121")),
            (
                "TEL:+12155550121;phone-context=example.com",
                Ok("12155550121"),
            ),
            ("tel:2155550121;phone-context=+1", Ok("12155550121")),
            ("tel:+12155550121;ext=22", Err(TnError::Ambiguous)),
            ("tel:+12155550121;EXT=22", Err(TnError::Ambiguous)),
            (
                "sip:+12155550121;ext=22@example.com",
                Err(TnError::Ambiguous),
            ),
            ("sip:alice@example.com", Err(TnError::NotANumber)),
            ("sip:example.com", Err(TnError::UnsupportedUri)),
            ("mailto:+12155550121", Err(TnError::UnsupportedUri)),
            ("+12155550121", Err(TnError::UnsupportedUri)),
            (
                "<sip:+12155550121@example.com",
                Err(TnError::UnsupportedUri),
            ),
            ("sip:@example.com", Err(TnError::Empty)),
            ("sip:%2B@example.com", Err(TnError::Empty)),
            ("sip:%2B+1215@example.com", Err(TnError::NotANumber)),
            ("sip:%2Babc@example.com", Err(TnError::NotANumber)),
            ("sip:*67%2B1@example.com", Err(TnError::NotANumber)),
            ("sip:*672155550121@example.com", Ok("*672155550121")),
            ("sip:%2A67%232155550121@example.com", Ok("*67#2155550121")),
            ("tel:%2B1-215-555-0121%23", Ok("12155550121#")),
            ("sip:2155550121%2@example.com", Err(TnError::NotANumber)),
            ("sip:2155550121%41@example.com", Err(TnError::NotANumber)),
            ("tel:911", Err(TnError::Ambiguous)),
        ];
        for (uri, want) in cases {
            let got = from_uri(uri, &nanp());
            assert_eq!(
                got.as_ref().map(Tn::as_str),
                want.as_ref().map(|s| *s),
                "{uri:?}"
            );
        }
    }

    /// Every number has its own key, and the key gives the number back: digits-only
    /// numbers are their value, service codes sit above 10^15.
    #[test]
    fn keys_are_one_to_one_with_service_codes_apart() {
        let numbers = [
            "1",
            "12155550121",
            "999999999999999",
            "*",
            "#",
            "*67",
            "#31#",
            "*0",
            "1*",
            "12155550121#",
            "***************",
            "###############",
            "*67215555012",
        ];
        let mut keys = std::collections::HashSet::new();
        for raw in numbers {
            let tn = Tn::from_global(raw.as_bytes()).unwrap();
            let key = tn.as_u64();
            assert!(keys.insert(key), "{raw}: key {key} taken");
            assert_eq!(tn.is_digits(), key < SERVICE_CODE_KEYS, "{raw}");
            assert_eq!(Tn::from_u64(key), Some(tn), "{raw}");
        }
        assert_eq!(
            Tn::from_global(b"12155550121").unwrap().as_u64(),
            12_155_550_121
        );
        // A key between the ranges' codes is no number.
        assert_eq!(Tn::from_u64(SERVICE_CODE_KEYS), None);
        assert_eq!(Tn::from_u64(SERVICE_CODE_KEYS + 13), None);
    }

    #[test]
    fn stored_numbers_are_digits_only() {
        let parsed: Result<Tn, _> = serde_json::from_str("\"*672155550121\"");
        assert!(parsed.is_err());
        let parsed: Tn = serde_json::from_str("\"12155550121\"").unwrap();
        assert_eq!(parsed.as_str(), "12155550121");
    }

    #[test]
    fn without_plan_length_the_country_code_is_always_prepended() {
        let plan = Numbering {
            national_number_digits: None,
            ..Numbering::default()
        };
        assert_eq!(canonicalize("911", &plan).map(|t| t.as_u64()), Ok(1911));
    }

    #[test]
    fn as_u64_display_and_order() {
        let a = canonicalize("+12155550121", &nanp()).unwrap();
        let b = canonicalize("+442079460000", &nanp()).unwrap();
        let c = canonicalize("+12155550122", &nanp()).unwrap();
        assert_eq!(a.as_u64(), 12_155_550_121);
        assert_eq!(a.to_string(), "12155550121");
        assert_eq!(format!("{a:?}"), "Tn(12155550121)");
        assert!(a < c && c < b);
        assert_eq!(a.cmp(&b), a.as_u64().cmp(&b.as_u64()));
        assert_eq!(std::mem::size_of::<Tn>(), 16);
        let max = canonicalize("+999999999999999", &nanp()).unwrap();
        assert_eq!(max.as_u64(), 999_999_999_999_999);
        assert_eq!(Tn::from_u64(max.as_u64()), Some(max));
        assert_eq!(Tn::from_u64(a.as_u64()), Some(a));
        assert_eq!(Tn::from_u64(0), None);
        assert_eq!(Tn::from_u64(1_000_000_000_000_000), None);
    }

    #[test]
    fn numbering_defaults_and_strict_fields() {
        let n: Numbering = toml::from_str("").unwrap();
        assert_eq!(n, Numbering::default());
        assert_eq!(n.default_country_code, "1");
        assert_eq!(n.international_prefix, "011");
        assert_eq!(n.national_number_digits, Some(10));
        let n: Numbering = toml::from_str("default_country_code = \"44\"").unwrap();
        assert_eq!(n.default_country_code, "44");
        assert!(toml::from_str::<Numbering>("country = \"1\"").is_err());
        assert_eq!(n.validate(), Ok(()));
    }

    #[test]
    fn invalid_numbering_is_reported() {
        let bad = Numbering {
            default_country_code: "x1".into(),
            ..Numbering::default()
        };
        assert_eq!(
            bad.validate(),
            Err(TnError::InvalidNumbering("default_country_code"))
        );
        assert_eq!(
            canonicalize("2155550121", &bad),
            Err(TnError::InvalidNumbering("default_country_code"))
        );
        let bad = Numbering {
            national_number_digits: Some(0),
            ..Numbering::default()
        };
        assert_eq!(
            bad.validate(),
            Err(TnError::InvalidNumbering("national_number_digits"))
        );
    }
}
