//! The CSeq header value (RFC 3261 20.16): `CSeq: 314159 INVITE`, a sequence number
//! below 2^31 and the request's method.

use std::fmt;

use crate::sip::Method;
use crate::sip::error::ParseError;
use crate::sip::grammar::trim_lws;
use crate::sip::lines::{is_lws, is_token};

/// One CSeq value, borrowing the method token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub seq: u32,
    /// The method token as written (methods are case-sensitive, RFC 3261 7.1).
    pub method: &'a str,
}

impl<'a> CSeq<'a> {
    /// Parses `1*DIGIT LWS Method`. The number must be below 2^31 (RFC 3261 8.1.1.5).
    pub fn parse(value: &'a str) -> Result<CSeq<'a>, ParseError> {
        let value = trim_lws(value);
        let b = value.as_bytes();
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let ws = b.iter().skip(digits).take_while(|&&c| is_lws(c)).count();
        let seq = b
            .get(..digits)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<u32>().ok())
            .filter(|&n| n < 1 << 31)
            .ok_or(ParseError::BadCSeq)?;
        let method = value
            .get(digits + ws..)
            .filter(|m| ws > 0 && !m.is_empty() && m.bytes().all(is_token))
            .ok_or(ParseError::BadCSeq)?;
        Ok(CSeq { seq, method })
    }

    /// The method, [`Method::Other`] for one callsign does not know.
    pub fn method_kind(&self) -> Method {
        Method::parse(self.method)
    }
}

/// Prints `<seq> <method>`.
impl fmt::Display for CSeq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_number_and_method() {
        let c = CSeq::parse(" 314159 \t INVITE ").unwrap();
        assert_eq!(
            c,
            CSeq {
                seq: 314159,
                method: "INVITE"
            }
        );
        assert_eq!(c.method_kind(), Method::Invite);
        let c = CSeq::parse("2147483647 FOO").unwrap();
        assert_eq!((c.seq, c.method_kind()), (2_147_483_647, Method::Other));
        assert_eq!(
            CSeq::parse("1 invite").unwrap().method_kind(),
            Method::Other
        );
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        for c in [
            CSeq {
                seq: 0,
                method: "ACK",
            },
            CSeq {
                seq: 314,
                method: "CANCEL",
            },
            CSeq {
                seq: (1 << 31) - 1,
                method: "X-Custom.method",
            },
        ] {
            let printed = c.to_string();
            assert_eq!(CSeq::parse(&printed), Ok(c));
        }
        assert_eq!(
            CSeq {
                seq: 314,
                method: "ACK"
            }
            .to_string(),
            "314 ACK"
        );
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "INVITE",
            "1",
            "1 ",
            "1INVITE",
            "one INVITE",
            "-1 INVITE",
            "+1 INVITE",
            "2147483648 INVITE",
            "99999999999 INVITE",
            "1 INV ITE",
            "1 INVITE;x",
            "1 IN\"VITE",
        ] {
            assert_eq!(CSeq::parse(bad), Err(ParseError::BadCSeq), "{bad:?}");
        }
    }
}
