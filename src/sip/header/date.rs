//! The Date header value (RFC 3261 20.17): an RFC 1123 date in GMT,
//! `Sat, 13 Nov 2010 23:29:00 GMT`. RFC 8224 section 4.1 has the signer check it against
//! the PASSporT's `iat`.

use std::fmt;
use std::time::SystemTime;

use crate::sip::error::ParseError;
use crate::sip::grammar::trim_lws;

/// A Date value, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub SystemTime);

impl Date {
    /// Parses an RFC 1123 date. The two older HTTP forms (RFC 850 and asctime) are accepted
    /// too, as HTTP readers do.
    pub fn parse(value: &str) -> Result<Date, ParseError> {
        httpdate::parse_http_date(trim_lws(value))
            .map(Date)
            .map_err(|_| ParseError::BadDate)
    }
}

/// Prints the RFC 1123 form; fractions of a second are dropped.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", httpdate::HttpDate::from(self.0))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn at(secs: u64) -> Date {
        Date(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn prints_rfc1123_in_gmt() {
        assert_eq!(
            at(1_289_690_940).to_string(),
            "Sat, 13 Nov 2010 23:29:00 GMT"
        );
        assert_eq!(at(0).to_string(), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        for secs in [0, 1_289_690_940, 1_790_000_000, 253_402_300_799] {
            let printed = at(secs).to_string();
            assert_eq!(Date::parse(&printed), Ok(at(secs)), "{printed}");
        }
        let fraction = Date(UNIX_EPOCH + Duration::from_millis(1_500));
        assert_eq!(Date::parse(&fraction.to_string()), Ok(at(1)));
    }

    #[test]
    fn parses_the_older_forms_and_surrounding_whitespace() {
        let expected = Ok(at(784_111_777));
        assert_eq!(Date::parse(" Sun, 06 Nov 1994 08:49:37 GMT "), expected);
        assert_eq!(Date::parse("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
        assert_eq!(Date::parse("Sun Nov  6 08:49:37 1994"), expected);
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(Date::parse(bad), Err(ParseError::BadDate), "{bad:?}");
        }
    }
}
