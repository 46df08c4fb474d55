//! What a SIP request says a PASSporT must carry (step 10): the calling number from
//! P-Asserted-Identity or From, the called number from To or the Request-URI, all
//! canonicalized with [`crate::tn`]; the request's Date (step 7); and the request's
//! Identity header values.

use std::borrow::Cow;

use crate::sip::{Date, HeaderName, Message, NameAddr};
use crate::tn::{self, Numbering, Tn};

/// The canonical numbers (digits only, country code first) a PASSporT must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// The calling number; `None` skips the `orig` comparison.
    pub orig: Option<String>,
    /// Acceptable called numbers (To and Request-URI): the `dest` claim must include one.
    /// Empty skips the `dest` comparison.
    pub dest: Vec<String>,
    /// The request's Date header, in Unix seconds: it must be fresh (RFC 8224 section
    /// 6.2, step 4). `None` (no Date, or a bare Identity value) skips that check.
    pub date: Option<i64>,
}

/// P-Asserted-Identity's sip and tel values are both telephone numbers, and not the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("P-Asserted-Identity names two numbers: {sip} and {tel}")]
pub struct ConflictingCaller {
    pub sip: Tn,
    pub tel: Tn,
}

/// The calling number of a request, for signing and verifying alike: P-Asserted-Identity
/// when the request has one (its sip or tel value that is a telephone number), else From.
/// `None` when that header holds no telephone number. A parsed request has one From and at
/// most one sip and one tel asserted identity; when both of those are numbers they must
/// be the same, or a device that shows the other would show a number nobody vouched for.
pub fn calling_number(
    msg: &Message<'_>,
    numbering: &Numbering,
) -> Result<Option<Tn>, ConflictingCaller> {
    let number = |na: Option<NameAddr<'_>>| na.and_then(|na| tn::from_uri(na.uri, numbering).ok());
    match msg.asserted_identity() {
        Ok(Some(pai)) => match (number(pai.sip), number(pai.tel)) {
            (Some(sip), Some(tel)) if sip != tel => Err(ConflictingCaller { sip, tel }),
            (sip, tel) => Ok(sip.or(tel)),
        },
        Ok(None) => Ok(number(msg.from().ok())),
        Err(_) => Ok(None),
    }
}

/// The expected numbers of a request: `orig` is [`calling_number`] (none when it
/// conflicts: the proxy refuses such a request before it gets here); `dest` from To and the
/// Request-URI. A header that holds no telephone number contributes nothing.
pub fn expected_from_message(msg: &Message<'_>, numbering: &Numbering) -> Expected {
    let orig = calling_number(msg, numbering).ok().flatten();
    let mut dest = Vec::new();
    let to = msg
        .to()
        .ok()
        .and_then(|t| tn::from_uri(t.uri, numbering).ok());
    let request_uri = msg
        .request_uri()
        .and_then(|uri| tn::from_uri(uri, numbering).ok());
    for number in [to, request_uri].into_iter().flatten() {
        let number = number.as_str().to_owned();
        if !dest.contains(&number) {
            dest.push(number);
        }
    }
    let date = msg
        .header(HeaderName::Date)
        .and_then(|d| Date::parse(d).ok())
        .and_then(|Date(t)| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    Expected {
        orig: orig.map(|n| n.as_str().to_owned()),
        dest,
        date,
    }
}

/// Every Identity header value of a request, in order, unfolded. Identity values are
/// never comma-joined here: their `info` URI may itself contain commas, so each
/// header line is one value (as RFC 8224 senders write them).
pub fn identity_values<'a>(msg: &Message<'a>) -> Vec<Cow<'a, str>> {
    msg.header_values(HeaderName::Identity)
        .map(unfold)
        .collect()
}

/// Replaces each line fold (CRLF or LF followed by spaces or tabs) with nothing when it
/// sits inside a token, and the fold's whitespace otherwise collapses to nothing too:
/// Identity values carry no meaningful whitespace.
fn unfold(value: &str) -> Cow<'_, str> {
    if !value.contains('\n') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' || c == '\n' {
            while chars
                .peek()
                .is_some_and(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Vec<u8> {
        text.replace('\n', "\r\n").into_bytes()
    }

    const INVITE: &str = "INVITE sip:+12155550131@carrier.example SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1
From: <sip:2155550121@pbx.example>;tag=a
To: <sip:+1-215-555-0132@carrier.example>
Call-ID: c1
CSeq: 1 INVITE
Identity: aGVhZA.cGF5bG9hZA.c2ln;
 info=<https://cert.example.org/a.pem>;alg=ES256;ppt=shaken
Identity: b.c.d;info=<https://x.example/b,c.pem>
Content-Length: 0

";

    #[test]
    fn from_to_and_request_uri() {
        let bytes = message(INVITE);
        let msg = Message::parse(&bytes).unwrap();
        let e = expected_from_message(&msg, &Numbering::default());
        assert_eq!(e.orig.as_deref(), Some("12155550121"));
        assert_eq!(e.dest, ["12155550132", "12155550131"]);
    }

    #[test]
    fn p_asserted_identity_wins_over_from() {
        let text = INVITE.replace(
            "Call-ID: c1",
            "P-Asserted-Identity: \"Desk\" <sip:desk@pbx.example>, <tel:+12155550199>\nCall-ID: c1",
        );
        let bytes = message(&text);
        let msg = Message::parse(&bytes).unwrap();
        let e = expected_from_message(&msg, &Numbering::default());
        assert_eq!(e.orig.as_deref(), Some("12155550199"));
    }

    #[test]
    fn no_numbers_means_nothing_expected() {
        let text = INVITE
            .replace("sip:2155550121@pbx.example", "sip:alice@pbx.example")
            .replace(
                "sip:+1-215-555-0132@carrier.example",
                "sip:bob@carrier.example",
            )
            .replace("sip:+12155550131@carrier.example", "sip:carrier.example");
        let bytes = message(&text);
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(
            expected_from_message(&msg, &Numbering::default()),
            Expected::default()
        );
    }

    #[test]
    fn identity_values_are_unfolded_one_per_line() {
        let bytes = message(INVITE);
        let msg = Message::parse(&bytes).unwrap();
        let values = identity_values(&msg);
        assert_eq!(
            values,
            [
                "aGVhZA.cGF5bG9hZA.c2ln;info=<https://cert.example.org/a.pem>;alg=ES256;ppt=shaken",
                "b.c.d;info=<https://x.example/b,c.pem>",
            ]
        );
        assert!(matches!(values[1], Cow::Borrowed(_)));
    }
}
