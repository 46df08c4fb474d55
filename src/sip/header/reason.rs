//! The Reason header value (RFC 3326): why a request was sent or a call goes on as it
//! does, `SIP;cause=438;text="Invalid Identity Header"`. The verifying role adds one to a
//! call it forwards despite a failed verification (RFC 8224 section 6.2.2), and reports
//! each failed Identity header to the caller's side in a response with the `STIR`
//! protocol (RFC 9410): `STIR;cause=438;text="Invalid Identity Header";ppi="..sig"`,
//! where `ppi` names the PASSporT that failed.
//!
//! ```text
//! reason-value   = protocol *( SEMI reason-params )
//! protocol       = "SIP" / "Q.850" / "STIR" / token
//! reason-params  = protocol-cause / reason-text / reason-extension
//! protocol-cause = "cause" EQUAL cause          ; cause = 1*DIGIT
//! reason-text    = "text" EQUAL quoted-string
//! ppi            = "ppi" EQUAL quoted-string    ; RFC 9410: a PASSporT, full or compact
//! ```

use std::fmt;

use crate::sip::error::ParseError;
use crate::sip::grammar::{params, parse_digits, quoted_string, trim_lws};
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
    /// RFC 9410's `ppi`: the PASSporT a `STIR` reason is about, inside the quotes as
    /// written.
    pub ppi: Option<&'a str>,
}

impl<'a> Reason<'a> {
    /// A SIP status as the reason: `SIP;cause=<status>;text="<phrase>"`.
    pub fn sip(status: u16, phrase: &'a str) -> Reason<'a> {
        Reason {
            protocol: "SIP",
            cause: Some(status),
            text: Some(phrase),
            ppi: None,
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
            ppi: None,
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
            } else if name.eq_ignore_ascii_case("text") || name.eq_ignore_ascii_case("ppi") {
                let quoted = v
                    .and_then(|q| q.strip_prefix('"'))
                    .and_then(|q| q.strip_suffix('"'))
                    .ok_or(bad)?;
                let slot = if name.eq_ignore_ascii_case("text") {
                    &mut reason.text
                } else {
                    &mut reason.ppi
                };
                if slot.replace(quoted).is_some() {
                    return Err(bad);
                }
            } else if !name.bytes().all(is_token) {
                return Err(bad);
            }
        }
        Ok(reason)
    }
}

/// Prints `<protocol>[;cause=<cause>][;text="<text>"][;ppi="<ppi>"]`.
impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.protocol)?;
        if let Some(cause) = self.cause {
            write!(f, ";cause={cause}")?;
        }
        if let Some(text) = self.text {
            write!(f, ";text=\"{text}\"")?;
        }
        if let Some(ppi) = self.ppi {
            write!(f, ";ppi=\"{ppi}\"")?;
        }
        Ok(())
    }
}

/// A `STIR` reason-value (RFC 9410) for one failed Identity header:
/// `STIR;cause=<status>;text="<phrase>"`, and `;ppi="<passport>"` when given. `text` and
/// `ppi` are taken as plain text and written as quoted-strings (RFC 3261 section 25.1):
/// `"` and `\` escaped, control characters dropped, so that nothing from a received
/// Identity header can end the parameter or the header line.
pub fn stir_value(cause: u16, text: &str, ppi: Option<&str>) -> String {
    let mut out = format!("STIR;cause={cause};text={}", quoted_string(text));
    if let Some(ppi) = ppi {
        out.push_str(";ppi=");
        out.push_str(&quoted_string(ppi));
    }
    out
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
                ppi: None,
            },
            Reason {
                protocol: "SIP",
                cause: None,
                text: Some(r#"a \"quoted\" word; and a comma,"#),
                ppi: None,
            },
            Reason {
                protocol: "X-Vendor",
                cause: None,
                text: None,
                ppi: None,
            },
            Reason {
                protocol: "STIR",
                cause: Some(436),
                text: Some("Bad Identity Info"),
                ppi: Some("..c2lnbmF0dXJl"),
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
                ppi: None,
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
            "STIR;cause=438;ppi=..unquoted",
            "STIR;cause=438;ppi=\"..a\";ppi=\"..b\"",
            "SIP;a b=1",
        ] {
            assert_eq!(
                Reason::parse(bad),
                Err(ParseError::MalformedReason),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_stir_value_is_rfc_9410s() {
        assert_eq!(
            stir_value(438, "Invalid Identity Header", None),
            "STIR;cause=438;text=\"Invalid Identity Header\""
        );
        assert_eq!(
            stir_value(436, "Bad Identity Info", Some("..c2ln")),
            "STIR;cause=436;text=\"Bad Identity Info\";ppi=\"..c2ln\""
        );
    }

    #[test]
    fn a_stir_value_escapes_what_would_end_its_quotes_or_its_line() {
        let value = stir_value(438, r#"say "no" \ twice"#, Some("..a\"b\\c\r\nVia: x"));
        assert_eq!(
            value,
            r#"STIR;cause=438;text="say \"no\" \\ twice";ppi="..a\"b\\cVia: x""#
        );
        assert!(!value.contains(['\r', '\n']));
        // It reads back as one reason-value whose parameters hold the escapes.
        let parsed = Reason::parse(&value).unwrap();
        assert_eq!(parsed.protocol, "STIR");
        assert_eq!(parsed.cause, Some(438));
        assert_eq!(parsed.text, Some(r#"say \"no\" \\ twice"#));
        assert_eq!(parsed.ppi, Some(r#"..a\"b\\cVia: x"#));
        // A ppi that tries to open a parameter of its own stays inside its quotes.
        let sneaky = stir_value(438, "Invalid Identity Header", Some("\";cause=200;x=\""));
        let parsed = Reason::parse(&sneaky).unwrap();
        assert_eq!(parsed.cause, Some(438));
        assert_eq!(parsed.ppi, Some(r#"\";cause=200;x=\""#));
    }
}
