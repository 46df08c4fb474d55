//! The Reason header value (RFC 3326): why a request was sent or a call goes on as it
//! does, `SIP;cause=438;text="Invalid Identity Header"`. The verifying role adds one to a
//! call it forwards despite a failed verification (RFC 8224 section 6.2.2).
//!
//! ```text
//! reason-value   = protocol *( SEMI reason-params )
//! protocol       = "SIP" / "Q.850" / token
//! reason-params  = protocol-cause / reason-text / reason-extension
//! protocol-cause = "cause" EQUAL cause          ; cause = 1*DIGIT
//! reason-text    = "text" EQUAL quoted-string
//! ```

use std::fmt;

use crate::sip::error::ParseError;
use crate::sip::grammar::{params, parse_digits, trim_lws};
use crate::sip::lines::is_token;

/// One reason-value (a Reason header may list several, comma-separated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'a> {
    /// `SIP`, `Q.850` or another protocol token, as written.
    pub protocol: &'a str,
    /// The protocol's cause code: a SIP status for `SIP`.
    pub cause: Option<u16>,
    /// The text inside the quotes, escapes left as written; printed back between quotes
    /// as it is.
    pub text: Option<&'a str>,
}

impl<'a> Reason<'a> {
    /// A SIP status as the reason: `SIP;cause=<status>;text="<phrase>"`.
    pub fn sip(status: u16, phrase: &'a str) -> Reason<'a> {
        Reason {
            protocol: "SIP",
            cause: Some(status),
            text: Some(phrase),
        }
    }

    /// Parses one reason-value. Extension parameters are accepted and not kept; a
    /// `cause` or `text` that is malformed or repeated is an error.
    pub fn parse(value: &'a str) -> Result<Reason<'a>, ParseError> {
        let bad = ParseError::MalformedReason;
        let value = trim_lws(value);
        let protocol = trim_lws(value.split(';').next().unwrap_or_default());
        if protocol.is_empty() || !protocol.bytes().all(is_token) {
            return Err(bad);
        }
        let mut reason = Reason {
            protocol,
            cause: None,
            text: None,
        };
        for (name, v) in params(value) {
            if name.eq_ignore_ascii_case("cause") {
                let cause = v
                    .and_then(parse_digits)
                    .and_then(|c| u16::try_from(c).ok())
                    .ok_or(bad)?;
                if reason.cause.replace(cause).is_some() {
                    return Err(bad);
                }
            } else if name.eq_ignore_ascii_case("text") {
                let text = v
                    .and_then(|q| q.strip_prefix('"'))
                    .and_then(|q| q.strip_suffix('"'))
                    .ok_or(bad)?;
                if reason.text.replace(text).is_some() {
                    return Err(bad);
                }
            } else if !name.bytes().all(is_token) {
                return Err(bad);
            }
        }
        Ok(reason)
    }
}

/// Prints `<protocol>[;cause=<cause>][;text="<text>"]`.
impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.protocol)?;
        if let Some(cause) = self.cause {
            write!(f, ";cause={cause}")?;
        }
        if let Some(text) = self.text {
            write!(f, ";text=\"{text}\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_a_sip_status() {
        assert_eq!(
            Reason::sip(438, "Invalid Identity Header").to_string(),
            "SIP;cause=438;text=\"Invalid Identity Header\""
        );
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        for reason in [
            Reason::sip(438, "Invalid Identity Header"),
            Reason::sip(200, "Call completed elsewhere"),
            Reason {
                protocol: "Q.850",
                cause: Some(16),
                text: None,
            },
            Reason {
                protocol: "SIP",
                cause: None,
                text: Some(r#"a \"quoted\" word; and a comma,"#),
            },
            Reason {
                protocol: "X-Vendor",
                cause: None,
                text: None,
            },
        ] {
            let printed = reason.to_string();
            assert_eq!(Reason::parse(&printed), Ok(reason), "{printed}");
        }
    }

    #[test]
    fn parses_whitespace_case_and_extensions() {
        let r = Reason::parse(" Q.850 ; CAUSE = 16 ; Text = \"Terminated\" ; x-ext=1 ").unwrap();
        assert_eq!(
            r,
            Reason {
                protocol: "Q.850",
                cause: Some(16),
                text: Some("Terminated"),
            }
        );
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            ";cause=1",
            "S I P;cause=1",
            "SIP;cause",
            "SIP;cause=",
            "SIP;cause=abc",
            "SIP;cause=-1",
            "SIP;cause=70000",
            "SIP;cause=1;cause=2",
            "SIP;text=unquoted",
            "SIP;text=\"open",
            "SIP;text",
            "SIP;text=\"a\";text=\"b\"",
            "SIP;a b=1",
        ] {
            assert_eq!(
                Reason::parse(bad),
                Err(ParseError::MalformedReason),
                "{bad:?}"
            );
        }
    }
}
