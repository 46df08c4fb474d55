//! name-addr / addr-spec values (From, To, P-Asserted-Identity, Contact, Route,
//! Record-Route): optional display name, the URI, and the header parameters after it.

use super::error::ParseError;
use super::grammar::{find_param, quoted_end, trim_lws};
use super::lines::is_lws;

/// One address value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name: the text inside the quotes for a quoted name (escapes left as
    /// written), or the bare tokens before `<`. `None` when there is none.
    pub display: Option<&'a str>,
    /// The URI without angle brackets: `sip:alice@example.com;user=phone`.
    pub uri: &'a str,
    /// Header parameters from the first `;` after the URI on (empty when none).
    pub params: &'a str,
}

impl<'a> NameAddr<'a> {
    /// Parses `"Alice" <sip:a@b>;tag=1`, `Alice <sip:a@b>` or the addr-spec form
    /// `sip:a@b;tag=1`, where (RFC 3261 20.10) everything from the first `;` is a header
    /// parameter rather than part of the URI.
    pub fn parse(v: &'a str) -> Result<Self, ParseError> {
        let bad = ParseError::MalformedNameAddr;
        let v = trim_lws(v);
        let b = v.as_bytes();
        let (display, open) = if b.first() == Some(&b'"') {
            let close = quoted_end(b, 0).ok_or(bad)?;
            let mut i = close + 1;
            while b.get(i).is_some_and(|&c| is_lws(c)) {
                i += 1;
            }
            if b.get(i) != Some(&b'<') {
                return Err(bad);
            }
            (Some(v.get(1..close).ok_or(bad)?), Some(i))
        } else {
            match v.find('<') {
                Some(i) => {
                    let name = trim_lws(v.get(..i).ok_or(bad)?);
                    (Some(name).filter(|n| !n.is_empty()), Some(i))
                }
                None => (None, None),
            }
        };

        let (uri, params) = match open {
            Some(open) => {
                let rest = v.get(open + 1..).ok_or(bad)?;
                let close = rest.find('>').ok_or(bad)?;
                let uri = trim_lws(rest.get(..close).ok_or(bad)?);
                let params = trim_lws(rest.get(close + 1..).ok_or(bad)?);
                if !params.is_empty() && !params.starts_with(';') {
                    return Err(bad);
                }
                (uri, params)
            }
            None => {
                let end = v.find(';').unwrap_or(v.len());
                let uri = trim_lws(v.get(..end).ok_or(bad)?);
                (uri, v.get(end..).ok_or(bad)?)
            }
        };
        let scheme_ok = uri
            .split_once(':')
            .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
        if !scheme_ok || uri.bytes().any(is_lws) {
            return Err(bad);
        }
        Ok(NameAddr {
            display,
            uri,
            params,
        })
    }

    /// The `tag` parameter's value, if present with a value.
    pub fn tag(&self) -> Option<&'a str> {
        self.param("tag").flatten().filter(|t| !t.is_empty())
    }

    /// Looks up a header parameter (case-insensitive): `None` when absent, `Some(None)` for
    /// a flag.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        find_param(self.params, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_display_name_uri_and_tag() {
        let n = NameAddr::parse(
            r#""Alice \"A\" Smith" <sip:alice@example.com;user=phone>;tag=1928301774"#,
        )
        .unwrap();
        assert_eq!(n.display, Some(r#"Alice \"A\" Smith"#));
        assert_eq!(n.uri, "sip:alice@example.com;user=phone");
        assert_eq!(n.params, ";tag=1928301774");
        assert_eq!(n.tag(), Some("1928301774"));
        assert_eq!(
            n.param("user"),
            None,
            "URI parameters are not header parameters"
        );
    }

    #[test]
    fn parses_token_display_name_and_bare_brackets() {
        let n = NameAddr::parse("Bob Jones <tel:+12155550131> ; tag = abc").unwrap();
        assert_eq!(n.display, Some("Bob Jones"));
        assert_eq!(n.uri, "tel:+12155550131");
        assert_eq!(n.tag(), Some("abc"));
        let n = NameAddr::parse("<sip:+12155550121@carrier.example;user=phone>").unwrap();
        assert_eq!(n.display, None);
        assert_eq!(n.params, "");
        assert_eq!(n.tag(), None);
    }

    #[test]
    fn addr_spec_params_are_header_params() {
        let n = NameAddr::parse("sip:bob@biloxi.example.com;tag=a6c85cf;lr").unwrap();
        assert_eq!(n.display, None);
        assert_eq!(n.uri, "sip:bob@biloxi.example.com");
        assert_eq!(n.tag(), Some("a6c85cf"));
        assert_eq!(n.param("lr"), Some(None));
    }

    #[test]
    fn a_comma_in_a_quoted_name_does_not_matter() {
        let n = NameAddr::parse(r#""Doe, John" <sip:j@d>"#).unwrap();
        assert_eq!((n.display, n.uri), (Some("Doe, John"), "sip:j@d"));
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "alice",
            "<sip:a@b",
            r#""Alice <sip:a@b>"#,
            r#""Alice" sip:a@b"#,
            "<sip:a@b> junk",
            "<>",
            "<:x>",
            "Alice sip:a@b",
            "<sip:a @b>",
        ] {
            assert_eq!(
                NameAddr::parse(bad),
                Err(ParseError::MalformedNameAddr),
                "{bad:?}"
            );
        }
    }
}
