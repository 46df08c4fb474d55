//! Header names and the typed header values callsign reads or writes, one file per
//! header: each parses a value as received and prints one (`Display`), and printing then
//! parsing gives the same value back.
//!
//! - `via`: [`Via`] (RFC 3261 20.42, RFC 3581), and the `received`/`rport` stamp.
//! - `cseq`: [`CSeq`]; `max_forwards`: [`MaxForwards`]; `date`: [`Date`].
//! - `name_addr`: [`NameAddr`] (From, To, P-Asserted-Identity, Contact) and the
//!   telephone-number parameter edit of a URI ([`set_number_param`]).
//! - `asserted_identity`: [`AssertedIdentity`] (P-Asserted-Identity, RFC 3325): one sip
//!   and one tel value at most.
//! - `route`: [`Route`] (Route and Record-Route: comma-separated name-addr entries).
//! - `identity`: [`Identity`] (RFC 8224); `reason`: [`Reason`] (RFC 3326).

mod asserted_identity;
mod cseq;
mod date;
mod identity;
mod max_forwards;
mod name_addr;
mod reason;
mod route;
mod via;

pub use asserted_identity::AssertedIdentity;
pub use cseq::CSeq;
pub use date::Date;
pub use identity::{Identity, IdentityError};
pub use max_forwards::MaxForwards;
pub use name_addr::{NameAddr, remove_number_param, set_number_param};
pub use reason::{Reason, stir_value};
pub use route::{Route, RouteEntries};
pub use via::{Rport, Via, Vias};

/// Canonical names of the headers callsign reads or writes. Parsing is case-insensitive
/// and maps compact forms (`v f t i m l c k`, and `y` for Identity per RFC 8224 section 4)
/// to these. Compact forms of headers outside this enum (`e`, `s`, ...) are
/// [`HeaderName::Other`], which has no printed name and so is never written.
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
    Unsupported,
    Reason,
    RetryAfter,
    ProxyAuthenticate,
    ProxyAuthorization,
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
            (6, _) if is("Reason") => HeaderName::Reason,
            (7, Some(b'c')) if is("Call-ID") => HeaderName::CallId,
            (7, Some(b'c')) if is("Contact") => HeaderName::Contact,
            (7, Some(b'r')) if is("Require") => HeaderName::Require,
            (8, _) if is("Identity") => HeaderName::Identity,
            (9, _) if is("Supported") => HeaderName::Supported,
            (11, Some(b'r')) if is("Retry-After") => HeaderName::RetryAfter,
            (11, Some(b'u')) if is("Unsupported") => HeaderName::Unsupported,
            (12, Some(b'm')) if is("Max-Forwards") => HeaderName::MaxForwards,
            (12, Some(b'c')) if is("Content-Type") => HeaderName::ContentType,
            (12, Some(b'r')) if is("Record-Route") => HeaderName::RecordRoute,
            (13, _) if is("Proxy-Require") => HeaderName::ProxyRequire,
            (14, _) if is("Content-Length") => HeaderName::ContentLength,
            (18, _) if is("Proxy-Authenticate") => HeaderName::ProxyAuthenticate,
            (19, _) if is("P-Asserted-Identity") => HeaderName::PAssertedIdentity,
            (19, _) if is("Proxy-Authorization") => HeaderName::ProxyAuthorization,
            _ => HeaderName::Other,
        }
    }

    /// The canonical (long-form) name, the one callsign writes; `None` for
    /// [`HeaderName::Other`].
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
            HeaderName::Unsupported => "Unsupported",
            HeaderName::Reason => "Reason",
            HeaderName::RetryAfter => "Retry-After",
            HeaderName::ProxyAuthenticate => "Proxy-Authenticate",
            HeaderName::ProxyAuthorization => "Proxy-Authorization",
            HeaderName::Other => return None,
        })
    }
}

/// Appends `<canonical name>: <value>\r\n`. Nothing is written for [`HeaderName::Other`],
/// which has no name to print; callers only ever pass names they know.
pub(crate) fn write_line(out: &mut Vec<u8>, name: HeaderName, value: &str) {
    debug_assert!(
        name.canonical().is_some(),
        "writing a header without a name"
    );
    let Some(name) = name.canonical() else {
        return;
    };
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [HeaderName; 22] = [
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
        HeaderName::Unsupported,
        HeaderName::Reason,
        HeaderName::RetryAfter,
        HeaderName::ProxyAuthenticate,
        HeaderName::ProxyAuthorization,
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
        for other in [
            "e",
            "s",
            "X-Custom",
            "",
            "Vias",
            "Content-Encoding",
            "Reasons",
        ] {
            assert_eq!(HeaderName::parse(other), HeaderName::Other, "{other}");
        }
    }

    #[test]
    fn lines_are_written_with_the_canonical_name() {
        let mut out = Vec::new();
        write_line(&mut out, HeaderName::RetryAfter, "5");
        write_line(&mut out, HeaderName::CallId, "c1");
        assert_eq!(out, b"Retry-After: 5\r\nCall-ID: c1\r\n");
    }
}
