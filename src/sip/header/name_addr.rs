//! name-addr / addr-spec values (From, To, P-Asserted-Identity, Contact, and the entries
//! of Route and Record-Route): optional display name, the URI, and the header parameters
//! after it; and the telephone-number parameter edit of a URI ([`set_number_param`]).

use std::fmt;

use crate::sip::error::ParseError;
use crate::sip::grammar::{
    find_param, params_well_formed, push_without_params, quoted_end, trim_lws,
};
use crate::sip::lines::{is_lws, is_token};

/// One address value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name: the text inside the quotes for a quoted name (escapes left as
    /// written), or the bare tokens before `<`. `None` when there is none.
    pub display: Option<&'a str>,
    /// Whether the display name is a quoted string (and is printed as one).
    pub quoted: bool,
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
                    // An unquoted display name is tokens and whitespace (RFC 3261 25.1):
                    // `Bell, Alexander <sip:...>` must be quoted.
                    if !name.bytes().all(|c| is_token(c) || is_lws(c)) {
                        return Err(bad);
                    }
                    (Some(name).filter(|n| !n.is_empty()), Some(i))
                }
                None => (None, None),
            }
        };

        let (uri, params) = match open {
            Some(open) => {
                let rest = v.get(open + 1..).ok_or(bad)?;
                let close = rest.find('>').ok_or(bad)?;
                // LAQUOT and RAQUOT hold the URI tight (RFC 3261 25.1): `< sip:a@b >` is
                // an addr-spec with spaces in it (RFC 4475 `badaspec`).
                let uri = rest.get(..close).ok_or(bad)?;
                let params = trim_lws(rest.get(close + 1..).ok_or(bad)?);
                if !params_well_formed(params) {
                    return Err(bad);
                }
                (uri, params)
            }
            None => {
                let end = v.find(';').unwrap_or(v.len());
                let uri = trim_lws(v.get(..end).ok_or(bad)?);
                // RFC 3261 20.10: a URI with a comma, question mark or semicolon must be
                // in angle brackets; bare, its headers would be read as the address's
                // own (RFC 4475 `regbadct`).
                if uri.contains([',', '?']) {
                    return Err(bad);
                }
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
            quoted: b.first() == Some(&b'"'),
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

/// Prints the name-addr form, `"Alice" <sip:a@b>;tag=1` (an addr-spec value gains its
/// angle brackets): the display name as it was written, quoted or not, and the header
/// parameters as written.
impl fmt::Display for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.display, self.quoted) {
            (Some(name), true) => write!(f, "\"{name}\" ")?,
            (Some(name), false) => write!(f, "{name} ")?,
            (None, _) => {}
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// Sets the parameter `name` of the telephone number in `uri` (RFC 3966 `par`), replacing
/// any parameter of that name already there: in a `tel:` URI it is a URI parameter
/// (`tel:+12155550121;name=value`); in a `sip:` or `sips:` URI, a parameter of the user
/// part (`sip:+12155550121;name=value@host`), where 3GPP TS 24.229 puts `verstat`. Other
/// URIs, and a sip URI without a user part, give `None`.
pub fn set_number_param(uri: &str, name: &str, value: &str) -> Option<String> {
    let (scheme, _) = uri.split_once(':')?;
    let (number, rest) = if scheme.eq_ignore_ascii_case("tel") {
        (uri, "")
    } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        uri.split_at(uri.find('@')?)
    } else {
        return None;
    };
    let mut out = String::with_capacity(uri.len() + name.len() + value.len() + 2);
    push_without_params(&mut out, number, &[name]);
    out.push(';');
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out.push_str(rest);
    Some(out)
}

/// Removes every parameter `name` from `uri`: from its telephone number (where
/// [`set_number_param`] puts it) and, in a `sip:` or `sips:` URI, from the URI parameters
/// after the host as well, where some senders put `verstat`. `None` when there was none to
/// remove (or the URI is neither tel nor sip).
pub fn remove_number_param(uri: &str, name: &str) -> Option<String> {
    let (scheme, _) = uri.split_once(':')?;
    let mut out = String::with_capacity(uri.len());
    if scheme.eq_ignore_ascii_case("tel") {
        push_without_params(&mut out, uri, &[name]);
    } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        let (user, host) = uri.split_at(uri.find('@').unwrap_or(0));
        push_without_params(&mut out, user, &[name]);
        push_without_params(&mut out, host, &[name]);
    } else {
        return None;
    }
    (out != uri).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_number_param_strips_the_user_part_and_sip_uri_parameters() {
        let remove = |uri| remove_number_param(uri, "verstat");
        assert_eq!(
            remove("sip:+1215;verstat=x;cpc=a@h;user=phone;Verstat=y").as_deref(),
            Some("sip:+1215;cpc=a@h;user=phone")
        );
        assert_eq!(remove("tel:+1215;verstat=x").as_deref(), Some("tel:+1215"));
        assert_eq!(remove("sip:+1215@h"), None);
        assert_eq!(remove("mailto:a@b;verstat=x"), None);
    }

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
    fn the_uri_sits_tight_in_its_brackets_and_a_bare_one_has_no_headers() {
        for bad in [
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "<sip:a@b >",
            "< sip:a@b>",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "sip:a@b,sip:c@d",
        ] {
            assert_eq!(
                NameAddr::parse(bad),
                Err(ParseError::MalformedNameAddr),
                "{bad}"
            );
        }
        let n = NameAddr::parse("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>").unwrap();
        assert_eq!(
            n.uri,
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E"
        );
    }

    #[test]
    fn a_comma_in_a_quoted_name_does_not_matter() {
        let n = NameAddr::parse(r#""Doe, John" <sip:j@d>"#).unwrap();
        assert_eq!((n.display, n.uri), (Some("Doe, John"), "sip:j@d"));
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        for text in [
            r#""Alice \"A\" Smith" <sip:alice@example.com;user=phone>;tag=1928301774"#,
            "Bob Jones <tel:+12155550131>; tag = abc",
            "<sip:+12155550121@carrier.example;user=phone>",
            r#""" <sip:anonymous@anonymous.invalid>"#,
        ] {
            let n = NameAddr::parse(text).unwrap();
            let printed = n.to_string();
            assert_eq!(printed, text);
            assert_eq!(NameAddr::parse(&printed), Ok(n));
        }
        // An addr-spec is printed in name-addr form, and parses back to the same value.
        let n = NameAddr::parse("sip:bob@biloxi.example.com;tag=a6c85cf").unwrap();
        assert_eq!(n.to_string(), "<sip:bob@biloxi.example.com>;tag=a6c85cf");
        assert_eq!(NameAddr::parse(&n.to_string()), Ok(n));
    }

    #[test]
    fn a_number_param_goes_into_the_user_part_or_the_tel_uri() {
        let set = |uri| set_number_param(uri, "verstat", "TN-Validation-Passed");
        assert_eq!(
            set("sip:+12155550121@example.com;user=phone").as_deref(),
            Some("sip:+12155550121;verstat=TN-Validation-Passed@example.com;user=phone")
        );
        assert_eq!(
            set("TEL:+12155550121;phone-context=x").as_deref(),
            Some("TEL:+12155550121;phone-context=x;verstat=TN-Validation-Passed")
        );
        // One already there is replaced, not kept beside the new one.
        assert_eq!(
            set("sips:+12155550121;VERSTAT=TN-Validation-Failed;cpc=x@h").as_deref(),
            Some("sips:+12155550121;cpc=x;verstat=TN-Validation-Passed@h")
        );
        assert_eq!(
            set("tel:+1;verstat=No-TN-Validation").as_deref(),
            Some("tel:+1;verstat=TN-Validation-Passed")
        );
        for other in ["sip:example.com", "mailto:a@b", "urn:x", "", "tel"] {
            assert_eq!(set(other), None, "{other:?}");
        }
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
