//! Route and Record-Route header values (RFC 3261 20.30, 20.34): comma-separated
//! name-addr entries, each with its rr-params. Which entries name this proxy, and where the
//! next one leads, is routing policy and stays with the proxy.

use std::fmt;

use super::name_addr::NameAddr;
use crate::sip::error::ParseError;
use crate::sip::grammar::{ListElements, split_list, trim_lws};

/// A Route or Record-Route value: its entries, first to last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub entries: Vec<NameAddr<'a>>,
}

impl<'a> Route<'a> {
    /// Parses every entry of a value; one that does not parse, or a value with no entry,
    /// is an error.
    pub fn parse(value: &'a str) -> Result<Route<'a>, ParseError> {
        let entries = Route::entries(value).collect::<Result<Vec<_>, _>>()?;
        if entries.is_empty() {
            return Err(ParseError::MalformedRoute);
        }
        Ok(Route { entries })
    }

    /// The entries of a value one by one, each parsed on its own, so that a caller can
    /// act on the first few without reading (or rejecting) the rest.
    ///
    /// The grammar allows only the name-addr form here. An addr-spec entry is read with
    /// its `;` parameters as URI parameters (`sip:p.example;lr` is `<sip:p.example;lr>`),
    /// since `lr` is one.
    pub fn entries(value: &'a str) -> RouteEntries<'a> {
        RouteEntries(split_list(value))
    }
}

/// Iterator returned by [`Route::entries`].
#[derive(Debug, Clone)]
pub struct RouteEntries<'a>(ListElements<'a>);

impl<'a> Iterator for RouteEntries<'a> {
    type Item = Result<NameAddr<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(entry)
    }
}

fn entry(element: &str) -> Result<NameAddr<'_>, ParseError> {
    let na = NameAddr::parse(element).map_err(|_| ParseError::MalformedRoute)?;
    if element.contains('<') {
        return Ok(na);
    }
    Ok(NameAddr {
        uri: trim_lws(element),
        params: "",
        ..na
    })
}

/// Prints the entries in name-addr form, separated by `, `.
impl fmt::Display for Route<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_with_display_names_and_rr_params() {
        let r = Route::parse(
            r#"<sip:p1.example.com;lr>, "Edge, West" <sip:p2.example.com;lr>;x=1 ,<sip:p3>"#,
        )
        .unwrap();
        let uris: Vec<_> = r.entries.iter().map(|e| e.uri).collect();
        assert_eq!(
            uris,
            ["sip:p1.example.com;lr", "sip:p2.example.com;lr", "sip:p3"]
        );
        assert_eq!(r.entries[1].display, Some("Edge, West"));
        assert_eq!(r.entries[1].param("x"), Some(Some("1")));
    }

    #[test]
    fn an_addr_spec_entry_keeps_its_parameters_in_the_uri() {
        let r = Route::parse("sip:10.0.0.1:5070;transport=tcp;lr").unwrap();
        assert_eq!(r.entries[0].uri, "sip:10.0.0.1:5070;transport=tcp;lr");
        assert_eq!(r.entries[0].params, "");
        assert_eq!(r.to_string(), "<sip:10.0.0.1:5070;transport=tcp;lr>");
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        for text in [
            "<sip:p1.example.com;lr>",
            "<sip:p1.example.com;lr>, <sip:p2.example.com;transport=tcp;lr>",
            r#""Edge" <sip:[2001:db8::1]:5060;lr>;x=1, Core <sip:c.example>"#,
        ] {
            let r = Route::parse(text).unwrap();
            let printed = r.to_string();
            assert_eq!(printed, text);
            assert_eq!(Route::parse(&printed), Ok(r));
        }
    }

    #[test]
    fn entries_are_read_one_at_a_time() {
        let mut entries = Route::entries("<sip:a;lr>, junk, <sip:c;lr>");
        assert_eq!(
            entries.next().map(|e| e.map(|e| e.uri)),
            Some(Ok("sip:a;lr"))
        );
        assert_eq!(entries.next(), Some(Err(ParseError::MalformedRoute)));
        assert_eq!(
            entries.next().map(|e| e.map(|e| e.uri)),
            Some(Ok("sip:c;lr"))
        );
        assert_eq!(entries.next(), None);
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            " , ",
            "<sip:a;lr",
            "<sip:a;lr>, junk",
            "<sip:a> junk",
            "<>",
            "\"Edge <sip:a>",
        ] {
            assert_eq!(
                Route::parse(bad),
                Err(ParseError::MalformedRoute),
                "{bad:?}"
            );
        }
    }
}
