//! Headers that may appear once (RFC 3261 section 7.3.1: a header may repeat only when
//! its whole value is a comma-separated list). A request that repeats one is refused with
//! a reason naming it, so that nothing downstream can read a different value from the one
//! callsign read: a second From, for example, would let a device show a number other
//! than the one that was signed.

use super::error::ParseError;
use super::grammar::split_list;
use super::header::{HeaderName, NameAddr};

/// Name, compact form (or `""`) and the reason phrase of a repeat, for every header
/// whose RFC 3261 grammar is a single value. Authorization-style headers, which RFC 3261
/// lets repeat for several realms, and Identity (RFC 8224), which repeats, are not here.
const SINGLE: &[(&str, &str, &str)] = &[
    ("From", "f", "Duplicate From"),
    ("To", "t", "Duplicate To"),
    ("Call-ID", "i", "Duplicate Call-ID"),
    ("CSeq", "", "Duplicate CSeq"),
    ("Max-Forwards", "", "Duplicate Max-Forwards"),
    ("Content-Length", "l", "Duplicate Content-Length"),
    ("Content-Type", "c", "Duplicate Content-Type"),
    ("Date", "", "Duplicate Date"),
    ("Retry-After", "", "Duplicate Retry-After"),
    ("Content-Disposition", "", "Duplicate Content-Disposition"),
    ("Expires", "", "Duplicate Expires"),
    ("MIME-Version", "", "Duplicate MIME-Version"),
    ("Min-Expires", "", "Duplicate Min-Expires"),
    ("Organization", "", "Duplicate Organization"),
    ("Priority", "", "Duplicate Priority"),
    ("Reply-To", "", "Duplicate Reply-To"),
    ("Server", "", "Duplicate Server"),
    ("Subject", "s", "Duplicate Subject"),
    ("Timestamp", "", "Duplicate Timestamp"),
    ("User-Agent", "", "Duplicate User-Agent"),
];

/// The place in [`SINGLE`] of a header's name (`name` as written, `class` as classified),
/// whatever its case or form. Names outside [`HeaderName`] are matched on length and first
/// letter before the bytes are compared, as [`HeaderName`] itself is: this runs on every
/// request.
fn single_index(class: HeaderName, name: &str) -> Option<usize> {
    match class {
        HeaderName::From => Some(0),
        HeaderName::To => Some(1),
        HeaderName::CallId => Some(2),
        HeaderName::CSeq => Some(3),
        HeaderName::MaxForwards => Some(4),
        HeaderName::ContentLength => Some(5),
        HeaderName::ContentType => Some(6),
        HeaderName::Date => Some(7),
        HeaderName::RetryAfter => Some(8),
        HeaderName::Other => other_index(name.as_bytes()),
        _ => None,
    }
}

fn other_index(name: &[u8]) -> Option<usize> {
    let is = |canonical: &str| name.eq_ignore_ascii_case(canonical.as_bytes());
    match (name.len(), name.first().map(u8::to_ascii_lowercase)) {
        (1, Some(b's')) => Some(17),
        (6, Some(b's')) if is("Server") => Some(16),
        (7, Some(b'e')) if is("Expires") => Some(10),
        (7, Some(b's')) if is("Subject") => Some(17),
        (8, Some(b'p')) if is("Priority") => Some(14),
        (8, Some(b'r')) if is("Reply-To") => Some(15),
        (9, Some(b't')) if is("Timestamp") => Some(18),
        (10, Some(b'u')) if is("User-Agent") => Some(19),
        (11, Some(b'm')) if is("Min-Expires") => Some(12),
        (12, Some(b'm')) if is("MIME-Version") => Some(11),
        (12, Some(b'o')) if is("Organization") => Some(13),
        (19, Some(b'c')) if is("Content-Disposition") => Some(9),
        _ => None,
    }
}

/// Whether an address value holds more than one element. Most hold no comma at all, and
/// that byte scan is all they cost.
fn is_list(value: &str) -> bool {
    value.as_bytes().contains(&b',') && split_list(value).nth(1).is_some()
}

/// Refuses a second line of a single-instance header, and a From or To value that is a
/// comma-separated list of addresses (two identities on one line). `headers` gives each
/// header line's class, name as written and value, in order.
pub(crate) fn check<'a>(
    headers: impl IntoIterator<Item = (HeaderName, &'a str, &'a str)>,
) -> Result<(), ParseError> {
    let mut seen = 0u32;
    for (class, name, value) in headers {
        let Some(i) = single_index(class, name) else {
            continue;
        };
        let bit = 1u32 << i;
        let repeated = seen & bit != 0
            || (matches!(class, HeaderName::From | HeaderName::To) && is_list(value));
        if repeated {
            // `Bell, Alexander <sip:...>` is one broken address, not two (RFC 4475 `baddn`).
            let broken = split_list(value).any(|e| NameAddr::parse(e).is_err());
            return Err(match class {
                HeaderName::From if broken => ParseError::MalformedFrom,
                HeaderName::To if broken => ParseError::MalformedTo,
                _ => ParseError::Duplicate(SINGLE.get(i).map_or("Duplicate Header", |s| s.2)),
            });
        }
        seen |= bit;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
