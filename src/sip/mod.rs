//! The pure SIP layer: a zero-copy message view, header access (compact forms, comma lists,
//! folding), Via and name-addr values, byte-level editing, TCP framing and stateless responses.
//!
//! A forwarded message is the received bytes with header lines inserted, replaced or removed
//! ([`Edits`]); nothing here re-serializes a parse tree. Map of the files:
//!
//! - `message`: [`Message::parse`] and the view over the bytes.
//! - `lines`: the header-section line lexer shared by parsing, Via iteration and framing.
//! - `grammar`: comma lists ([`split_list`]) and `;name=value` parameter lists.
//! - `via`, `name_addr`: typed views of Via and From/To/Route-style values.
//! - `edit`: [`Edits`]; `framing`: [`frame`] for streams; `build`: responses, ACK, CANCEL.
//! - `error`: [`ParseError`], each variant a SIP reason phrase.

mod build;
mod edit;
mod error;
mod framing;
mod grammar;
mod lines;
mod message;
mod name_addr;
mod via;

pub use build::{build_ack, build_cancel, build_response};
pub use edit::Edits;
pub use error::ParseError;
pub use framing::{Frame, FramingError, frame};
pub use grammar::{ListElements, split_list};
pub use message::{HeaderLine, Message};
pub use name_addr::NameAddr;
pub use via::{Rport, Via, Vias};

/// A request method. Methods are case-sensitive (RFC 3261 7.1): `invite` is [`Method::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Prack,
    Update,
    Info,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other,
}

impl Method {
    /// Maps a method token to its variant; unknown tokens are [`Method::Other`].
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "INFO" => Method::Info,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            _ => Method::Other,
        }
    }

    /// The method token, or `None` for [`Method::Other`] (use the message's own string).
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Info => "INFO",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other => return None,
        })
    }
}

/// Canonical names of the headers the proxy reads or writes. Parsing is case-insensitive and
/// maps compact forms (`v f t i m l c k`, and `y` for Identity per RFC 8224 section 4) to
/// these. Compact forms of headers outside this enum (`e`, `s`, ...) are
/// [`HeaderName::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderName {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    Contact,
    ContentLength,
    ContentType,
    Route,
    RecordRoute,
    Identity,
    Date,
    PAssertedIdentity,
    Supported,
    Require,
    ProxyRequire,
    Other,
}

impl HeaderName {
    /// Classifies a header name as written (case-insensitive, compact forms included).
    pub fn parse(name: &str) -> HeaderName {
        HeaderName::from_bytes(name.as_bytes())
    }

    pub(crate) fn from_bytes(b: &[u8]) -> HeaderName {
        let is = |canonical: &str| b.eq_ignore_ascii_case(canonical.as_bytes());
        match (b.len(), b.first().map(u8::to_ascii_lowercase)) {
            (1, Some(c)) => match c {
                b'v' => HeaderName::Via,
                b'f' => HeaderName::From,
                b't' => HeaderName::To,
                b'i' => HeaderName::CallId,
                b'm' => HeaderName::Contact,
                b'l' => HeaderName::ContentLength,
                b'c' => HeaderName::ContentType,
                b'k' => HeaderName::Supported,
                b'y' => HeaderName::Identity,
                _ => HeaderName::Other,
            },
            (2, _) if is("To") => HeaderName::To,
            (3, _) if is("Via") => HeaderName::Via,
            (4, Some(b'f')) if is("From") => HeaderName::From,
            (4, Some(b'c')) if is("CSeq") => HeaderName::CSeq,
            (4, Some(b'd')) if is("Date") => HeaderName::Date,
            (5, _) if is("Route") => HeaderName::Route,
            (7, Some(b'c')) if is("Call-ID") => HeaderName::CallId,
            (7, Some(b'c')) if is("Contact") => HeaderName::Contact,
            (7, Some(b'r')) if is("Require") => HeaderName::Require,
            (8, _) if is("Identity") => HeaderName::Identity,
            (9, _) if is("Supported") => HeaderName::Supported,
            (12, Some(b'm')) if is("Max-Forwards") => HeaderName::MaxForwards,
            (12, Some(b'c')) if is("Content-Type") => HeaderName::ContentType,
            (12, Some(b'r')) if is("Record-Route") => HeaderName::RecordRoute,
            (13, _) if is("Proxy-Require") => HeaderName::ProxyRequire,
            (14, _) if is("Content-Length") => HeaderName::ContentLength,
            (19, _) if is("P-Asserted-Identity") => HeaderName::PAssertedIdentity,
            _ => HeaderName::Other,
        }
    }

    /// The canonical (long-form) name, or `None` for [`HeaderName::Other`].
    pub fn canonical(self) -> Option<&'static str> {
        Some(match self {
            HeaderName::Via => "Via",
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::CallId => "Call-ID",
            HeaderName::CSeq => "CSeq",
            HeaderName::MaxForwards => "Max-Forwards",
            HeaderName::Contact => "Contact",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::Route => "Route",
            HeaderName::RecordRoute => "Record-Route",
            HeaderName::Identity => "Identity",
            HeaderName::Date => "Date",
            HeaderName::PAssertedIdentity => "P-Asserted-Identity",
            HeaderName::Supported => "Supported",
            HeaderName::Require => "Require",
            HeaderName::ProxyRequire => "Proxy-Require",
            HeaderName::Other => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [HeaderName; 17] = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::MaxForwards,
        HeaderName::Contact,
        HeaderName::ContentLength,
        HeaderName::ContentType,
        HeaderName::Route,
        HeaderName::RecordRoute,
        HeaderName::Identity,
        HeaderName::Date,
        HeaderName::PAssertedIdentity,
        HeaderName::Supported,
        HeaderName::Require,
        HeaderName::ProxyRequire,
    ];

    #[test]
    fn canonical_names_round_trip_in_any_case() {
        for name in ALL {
            let canonical = name.canonical().unwrap();
            assert_eq!(HeaderName::parse(canonical), name);
            assert_eq!(HeaderName::parse(&canonical.to_ascii_lowercase()), name);
            assert_eq!(HeaderName::parse(&canonical.to_ascii_uppercase()), name);
        }
        assert_eq!(HeaderName::Other.canonical(), None);
    }

    #[test]
    fn compact_forms_map_to_canonical_names() {
        let cases = [
            ("v", HeaderName::Via),
            ("F", HeaderName::From),
            ("t", HeaderName::To),
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("L", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("k", HeaderName::Supported),
            ("y", HeaderName::Identity),
            ("Y", HeaderName::Identity),
        ];
        for (compact, name) in cases {
            assert_eq!(HeaderName::parse(compact), name, "{compact}");
        }
    }

    #[test]
    fn unknown_names_are_other() {
        for other in ["e", "s", "X-Custom", "", "Vias", "Content-Encoding"] {
            assert_eq!(HeaderName::parse(other), HeaderName::Other, "{other}");
        }
    }

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::parse("INVITE"), Method::Invite);
        assert_eq!(Method::parse("invite"), Method::Other);
        assert_eq!(Method::parse("PUBLISH"), Method::Publish);
        assert_eq!(Method::parse("FOO"), Method::Other);
        assert_eq!(Method::Cancel.as_str(), Some("CANCEL"));
        assert_eq!(Method::Other.as_str(), None);
    }
}
