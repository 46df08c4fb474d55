//! Headers that may appear once (RFC 3261 section 7.3.1: a header may repeat only when
//! its whole value is a comma-separated list). A request that repeats one is refused with
//! a reason naming it, so that nothing downstream can read a different value from the one
//! callsign read: a second From, for example, would let a device show a number other
//! than the one that was signed.

use super::error::ParseError;
use super::grammar::split_list;
use super::header::{HeaderName, NameAddr};
use super::message::HeaderLine;

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

/// The place in [`SINGLE`] of a header line's name, whatever its case or form. Names
/// outside [`HeaderName`] are matched on length and first letter before the bytes are
/// compared, as [`HeaderName`] itself is: this runs on every request.
fn single_index(line: &HeaderLine, head: &str) -> Option<usize> {
    match line.name {
        HeaderName::From => Some(0),
        HeaderName::To => Some(1),
        HeaderName::CallId => Some(2),
        HeaderName::CSeq => Some(3),
        HeaderName::MaxForwards => Some(4),
        HeaderName::ContentLength => Some(5),
        HeaderName::ContentType => Some(6),
        HeaderName::Date => Some(7),
        HeaderName::RetryAfter => Some(8),
        HeaderName::Other => other_index(head.as_bytes().get(line.name_range())?),
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
/// comma-separated list of addresses (two identities on one line). `head` is the
/// message's start line and headers, which the header lines index.
pub(crate) fn check(headers: &[HeaderLine], head: &str) -> Result<(), ParseError> {
    let mut seen = 0u32;
    for line in headers {
        let Some(i) = single_index(line, head) else {
            continue;
        };
        let bit = 1u32 << i;
        let repeated = seen & bit != 0
            || (matches!(line.name, HeaderName::From | HeaderName::To)
                && is_list(head.get(line.value_range()).unwrap_or_default()));
        if repeated {
            // `Bell, Alexander <sip:...>` is one broken address, not two (RFC 4475 `baddn`).
            let value = head.get(line.value_range()).unwrap_or_default();
            let broken = split_list(value).any(|e| NameAddr::parse(e).is_err());
            return Err(match line.name {
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
mod tests {
    use super::*;
    use crate::sip::Message;

    fn parse(headers: &str) -> Result<(), ParseError> {
        let text = format!(
            "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n{headers}Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(text.as_bytes()).map(|_| ())
    }

    const FROM_TO: &str = "From: <sip:+12155550121@h>;tag=1\r\nTo: <sip:+12155550131@h>\r\n";

    #[test]
    fn every_single_instance_header_refuses_a_second_line_in_either_form() {
        assert_eq!(parse(FROM_TO), Ok(()));
        for (full, compact, phrase) in SINGLE {
            let value = match *full {
                "From" | "To" => "<sip:+12155550199@h>",
                "Call-ID" => "c2",
                "CSeq" => "1 OPTIONS",
                "Content-Length" => "0",
                _ => "1",
            };
            let second = if compact.is_empty() {
                full.to_lowercase()
            } else {
                compact.to_string()
            };
            let repeat = format!("{FROM_TO}{full}: {value}\r\n{second}: {value}\r\n");
            assert_eq!(parse(&repeat), Err(ParseError::Duplicate(phrase)), "{full}");
            assert_eq!(ParseError::Duplicate(phrase).reason_phrase(), *phrase);
        }
    }

    #[test]
    fn two_addresses_on_one_from_or_to_line_are_a_repeat() {
        let two_from = "From: <sip:+12155550121@h>;tag=1, <sip:+12155550199@h>\r\nTo: <sip:+12155550131@h>\r\n";
        assert_eq!(
            parse(two_from),
            Err(ParseError::Duplicate("Duplicate From"))
        );
        let two_to =
            "From: <sip:+12155550121@h>;tag=1\r\nTo: <sip:+12155550131@h>,<sip:+12155550199@h>\r\n";
        assert_eq!(parse(two_to), Err(ParseError::Duplicate("Duplicate To")));
        // A comma inside a quoted display name is not a list.
        let quoted =
            "From: \"Smith, J\" <sip:+12155550121@h>;tag=1\r\nTo: <sip:+12155550131@h>\r\n";
        assert_eq!(parse(quoted), Ok(()));
    }

    #[test]
    fn list_headers_may_repeat() {
        let lists = format!(
            "{FROM_TO}Route: <sip:a@h;lr>\r\nRoute: <sip:b@h;lr>\r\nSupported: timer\r\nk: 100rel\r\nIdentity: x\r\nIdentity: y\r\n"
        );
        assert_eq!(parse(&lists), Ok(()));
    }
}
