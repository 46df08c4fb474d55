//! The Max-Forwards header value (RFC 3261 20.22): how many more hops a request may take.

use std::fmt;

use crate::sip::error::ParseError;
use crate::sip::grammar::{parse_digits, trim_lws};

/// A Max-Forwards count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxForwards(pub u32);

impl MaxForwards {
    /// The count a request starts with (RFC 3261 8.1.1.6), and the one a proxy writes when
    /// a request arrives without the header.
    pub const DEFAULT: MaxForwards = MaxForwards(70);

    /// Parses `1*DIGIT`. Anything but plain digits is refused, and so is a number of more
    /// than 9 digits (no real count needs one).
    pub fn parse(value: &str) -> Result<MaxForwards, ParseError> {
        parse_digits(trim_lws(value))
            .map(MaxForwards)
            .ok_or(ParseError::BadMaxForwards)
    }

    /// Whether the request may go no further (RFC 3261 16.3 item 2: answer 483).
    pub fn is_exhausted(self) -> bool {
        self.0 == 0
    }

    /// The count for the next hop (RFC 3261 16.6 item 3); zero stays zero.
    pub fn decremented(self) -> MaxForwards {
        MaxForwards(self.0.saturating_sub(1))
    }
}

impl fmt::Display for MaxForwards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts() {
        assert_eq!(MaxForwards::parse("70"), Ok(MaxForwards(70)));
        assert_eq!(MaxForwards::parse(" 0 "), Ok(MaxForwards(0)));
        assert_eq!(MaxForwards::parse("000000007"), Ok(MaxForwards(7)));
        assert!(MaxForwards(0).is_exhausted());
        assert!(!MaxForwards::DEFAULT.is_exhausted());
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        for n in [0, 1, 69, 70, 255, 999_999_999] {
            let printed = MaxForwards(n).to_string();
            assert_eq!(printed, n.to_string());
            assert_eq!(MaxForwards::parse(&printed), Ok(MaxForwards(n)));
        }
        assert_eq!(MaxForwards::DEFAULT.to_string(), "70");
    }

    #[test]
    fn decrementing_stops_at_zero() {
        assert_eq!(MaxForwards(70).decremented(), MaxForwards(69));
        assert_eq!(MaxForwards(1).decremented(), MaxForwards(0));
        assert_eq!(MaxForwards(0).decremented(), MaxForwards(0));
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "-1",
            "+1",
            "7 0",
            "0x10",
            "seventy",
            "1234567890",
            "1.0",
        ] {
            assert_eq!(
                MaxForwards::parse(bad),
                Err(ParseError::BadMaxForwards),
                "{bad:?}"
            );
        }
    }
}
