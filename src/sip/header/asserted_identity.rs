//! P-Asserted-Identity (RFC 3325 section 9.1): the identity a trusted network asserts for
//! the caller. It holds one or two values, over one line or several: at most one `sip:` or
//! `sips:` URI and at most one `tel:` URI. More would let the signed number and the shown
//! number differ, so they are refused.

use std::fmt;

use super::NameAddr;
use crate::sip::error::ParseError;
use crate::sip::grammar::split_list;

/// The asserted identities of a request, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssertedIdentity<'a> {
    /// The `sip:` or `sips:` value.
    pub sip: Option<NameAddr<'a>>,
    /// The `tel:` value.
    pub tel: Option<NameAddr<'a>>,
}

impl<'a> AssertedIdentity<'a> {
    /// Reads every P-Asserted-Identity line of a message (`values`, in order); `None`
    /// when there is none.
    pub fn parse_lines(
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<AssertedIdentity<'a>>, ParseError> {
        let mut out = AssertedIdentity {
            sip: None,
            tel: None,
        };
        let mut any = false;
        for value in values {
            let mut elements = 0;
            for element in split_list(value) {
                elements += 1;
                any = true;
                let na =
                    NameAddr::parse(element).map_err(|_| ParseError::MalformedAssertedIdentity)?;
                let scheme = na.uri.split_once(':').map_or("", |(s, _)| s);
                let slot = if scheme.eq_ignore_ascii_case("tel") {
                    &mut out.tel
                } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips")
                {
                    &mut out.sip
                } else {
                    return Err(ParseError::MalformedAssertedIdentity);
                };
                if slot.replace(na).is_some() {
                    return Err(ParseError::AmbiguousAssertedIdentity);
                }
            }
            if elements == 0 {
                return Err(ParseError::MalformedAssertedIdentity);
            }
        }
        Ok(any.then_some(out))
    }

    /// The values, sip first.
    pub fn values(&self) -> impl Iterator<Item = &NameAddr<'a>> {
        self.sip.iter().chain(self.tel.iter())
    }
}

/// Prints one line's value: `<sip:...>, <tel:...>`.
impl fmt::Display for AssertedIdentity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, na) in self.values().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{na}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&'static str]) -> Result<Option<AssertedIdentity<'static>>, ParseError> {
        AssertedIdentity::parse_lines(lines.iter().copied())
    }

    #[test]
    fn one_sip_and_one_tel_over_one_line_or_two() {
        let one =
            parse(&["\"Alice\" <sip:+12155550121@example.com;user=phone>, <tel:+12155550121>"])
                .unwrap()
                .unwrap();
        assert_eq!(
            one.sip.unwrap().uri,
            "sip:+12155550121@example.com;user=phone"
        );
        assert_eq!(one.tel.unwrap().uri, "tel:+12155550121");
        let two = parse(&["<tel:+12155550121>", "<sip:+12155550121@example.com>"]).unwrap();
        assert_eq!(
            two.unwrap().sip.unwrap().uri,
            "sip:+12155550121@example.com"
        );
        assert_eq!(parse(&[]), Ok(None));
    }

    #[test]
    fn two_of_a_kind_are_ambiguous_however_written() {
        let cases: [&[&'static str]; 4] = [
            &["<sip:+12155550121@a>, <sip:+12155550199@a>"],
            &["<sip:+12155550121@a>", "<sips:+12155550199@a>"],
            &["<tel:+12155550121>, <tel:+12155550199>"],
            &["<tel:+12155550121>,\r\n <sip:x@a>,<tel:+12155550199>"],
        ];
        for lines in cases {
            assert_eq!(
                parse(lines),
                Err(ParseError::AmbiguousAssertedIdentity),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn broken_or_foreign_values_are_malformed() {
        for bad in [
            "",
            " , ",
            "<sip:+12155550121@a",
            "<mailto:a@b>",
            "<http://x/>",
            "\"unterminated <sip:a@b>",
        ] {
            assert_eq!(
                parse(&[bad]),
                Err(ParseError::MalformedAssertedIdentity),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn printing_then_parsing_gives_the_same_value() {
        for line in [
            "<sip:+12155550121@example.com;user=phone>",
            "\"Alice\" <sip:+12155550121@example.com>, <tel:+12155550121;verstat=TN-Validation-Passed>",
            "Bob <tel:+12155550121>",
        ] {
            let value = parse(&[line]).unwrap().unwrap();
            let printed = value.to_string();
            let again = AssertedIdentity::parse_lines([printed.as_str()])
                .unwrap()
                .unwrap();
            assert_eq!(again, value);
        }
    }
}
