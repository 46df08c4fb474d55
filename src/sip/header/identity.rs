//! The SIP Identity header value (RFC 8224 section 4): printing what we sign and parsing
//! what we receive.
//!
//! ```text
//! Identity = "Identity" HCOLON signed-identity-digest SEMI ident-info *( SEMI ident-info-params )
//! ident-info = "info" EQUAL ident-info-uri
//! ident-info-uri = LAQUOT absoluteURI RAQUOT
//! ident-info-params = ident-info-alg / ident-type / ident-info-extension
//! ```

use std::fmt;

use crate::sip::lines::is_token;

/// The parameters we append after the JWS, before the x5u.
const INFO_PREFIX: &str = ";info=<";
/// The parameters we append after the x5u.
const PARAMS_SUFFIX: &str = ">;alg=ES256;ppt=shaken";

/// One Identity header value, borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity<'a> {
    /// The full-form compact JWS (`header.payload.signature`).
    pub jws: &'a str,
    /// The `info` URI without its angle brackets.
    pub info: &'a str,
    /// The `alg` parameter, unquoted, if present.
    pub alg: Option<&'a str>,
    /// The `ppt` parameter, unquoted, if present.
    pub ppt: Option<&'a str>,
    /// Any other parameters in order: name and unquoted value (`None` for a bare name).
    pub params: Vec<(&'a str, Option<&'a str>)>,
}

/// Why an Identity header value could not be parsed. Each maps to SIP 438 Invalid
/// Identity Header (RFC 8224 section 6.2.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("Identity header is empty")]
    Empty,
    #[error(
        "Identity header carries a compact-form PASSporT (empty payload); only the full form is supported"
    )]
    CompactForm,
    #[error("Identity header JWS is malformed: {0}")]
    MalformedJws(&'static str),
    #[error("Identity header has no info parameter")]
    MissingInfo,
    #[error("Identity header info parameter must be a URI in angle brackets")]
    InfoNotBracketed,
    #[error("Identity header has an unterminated {0}")]
    Unterminated(&'static str),
    #[error("Identity header has a malformed parameter near byte {0}")]
    MalformedParam(usize),
    #[error("Identity header repeats the {0} parameter")]
    DuplicateParam(&'static str),
}

impl<'a> Identity<'a> {
    /// What a SHAKEN signer writes: `<jws>;info=<x5u>;alg=ES256;ppt=shaken`.
    pub fn shaken(jws: &'a str, x5u: &'a str) -> Identity<'a> {
        Identity {
            jws,
            info: x5u,
            alg: Some("ES256"),
            ppt: Some("shaken"),
            params: Vec::new(),
        }
    }

    /// Length of what [`Identity::push_shaken_params`] appends.
    pub fn shaken_params_len(x5u: &str) -> usize {
        INFO_PREFIX.len() + x5u.len() + PARAMS_SUFFIX.len()
    }

    /// Appends `;info=<x5u>;alg=ES256;ppt=shaken`, the part of [`Identity::shaken`] after
    /// the JWS: the signer writes the JWS and these into one buffer.
    pub fn push_shaken_params(out: &mut String, x5u: &str) {
        out.push_str(INFO_PREFIX);
        out.push_str(x5u);
        out.push_str(PARAMS_SUFFIX);
    }

    /// Parses an Identity header value (the part after `Identity:`, unfolded).
    ///
    /// Tolerates whitespace around `;` and `=`, parameters in any order, names in any
    /// case, and quoted parameter values (`ppt="shaken"`).
    pub fn parse(value: &'a str) -> Result<Identity<'a>, IdentityError> {
        let value = value.trim_matches(is_lws);
        if value.is_empty() {
            return Err(IdentityError::Empty);
        }
        let (jws, mut rest) = match value.find(';') {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        };
        let jws = jws.trim_end_matches(is_lws);
        check_jws(jws)?;

        let mut header = Identity {
            jws,
            info: "",
            alg: None,
            ppt: None,
            params: Vec::new(),
        };
        let mut info = None;
        while let Some(after_semi) = rest.strip_prefix(';') {
            let offset = value.len() - after_semi.len();
            let (param, next) = parse_param(after_semi, offset)?;
            rest = next;
            match param {
                Param::Info(uri) => set_once(&mut info, uri, "info")?,
                // `info=uri` without brackets, a quoted URI, or a bare `info`.
                Param::Other(name, _) if name.eq_ignore_ascii_case("info") => {
                    return Err(IdentityError::InfoNotBracketed);
                }
                Param::Other(name, Some(v)) if name.eq_ignore_ascii_case("alg") => {
                    set_once(&mut header.alg, v, "alg")?;
                }
                Param::Other(name, Some(v)) if name.eq_ignore_ascii_case("ppt") => {
                    set_once(&mut header.ppt, v, "ppt")?;
                }
                Param::Other(name, v) => header.params.push((name, v)),
            }
        }
        header.info = info.ok_or(IdentityError::MissingInfo)?;
        Ok(header)
    }
}

/// Prints `<jws>;info=<uri>`, then `alg`, `ppt` and the other parameters in order. A
/// value that is not a token is printed as a quoted string.
impl fmt::Display for Identity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{INFO_PREFIX}{}>", self.jws, self.info)?;
        let named = [("alg", self.alg), ("ppt", self.ppt)];
        let named = named.iter().filter_map(|(n, v)| v.map(|v| (*n, Some(v))));
        for (name, value) in named.chain(self.params.iter().copied()) {
            match value {
                None => write!(f, ";{name}")?,
                Some(v) if !v.is_empty() && v.bytes().all(is_token) => write!(f, ";{name}={v}")?,
                Some(v) => write!(f, ";{name}=\"{v}\"")?,
            }
        }
        Ok(())
    }
}

enum Param<'a> {
    Info(&'a str),
    Other(&'a str, Option<&'a str>),
}

/// Parses one `name[=value]` after a `;`, returning it and the rest of the input,
/// which is empty or starts with the next `;`. `offset` locates `s` in the value.
fn parse_param(s: &str, offset: usize) -> Result<(Param<'_>, &str), IdentityError> {
    let s = s.trim_start_matches(is_lws);
    let name_end = s.find(['=', ';']).unwrap_or(s.len());
    let name = s[..name_end].trim_end_matches(is_lws);
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(IdentityError::MalformedParam(offset));
    }
    let Some(after_eq) = s[name_end..].strip_prefix('=') else {
        return Ok((Param::Other(name, None), &s[name_end..]));
    };
    let v = after_eq.trim_start_matches(is_lws);
    let (param, rest) = if let Some(inner) = v.strip_prefix('<') {
        let close = inner
            .find('>')
            .ok_or(IdentityError::Unterminated("<...>"))?;
        let uri = &inner[..close];
        let param = if name.eq_ignore_ascii_case("info") {
            if uri.trim().is_empty() {
                return Err(IdentityError::InfoNotBracketed);
            }
            Param::Info(uri)
        } else {
            Param::Other(name, Some(uri))
        };
        (param, &inner[close + 1..])
    } else if let Some(inner) = v.strip_prefix('"') {
        let close = closing_quote(inner).ok_or(IdentityError::Unterminated("quoted string"))?;
        (
            Param::Other(name, Some(&inner[..close])),
            &inner[close + 1..],
        )
    } else if name.eq_ignore_ascii_case("info") {
        return Err(IdentityError::InfoNotBracketed);
    } else {
        let end = v.find(';').unwrap_or(v.len());
        let token = v[..end].trim_end_matches(is_lws);
        if token.is_empty() || !token.bytes().all(is_token) {
            return Err(IdentityError::MalformedParam(offset));
        }
        (Param::Other(name, Some(token)), &v[end..])
    };
    let rest = rest.trim_start_matches(is_lws);
    if !rest.is_empty() && !rest.starts_with(';') {
        return Err(IdentityError::MalformedParam(offset));
    }
    Ok((param, rest))
}

/// Index of the `"` that ends a quoted string whose opening quote was just consumed.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

fn set_once<'a>(
    slot: &mut Option<&'a str>,
    value: &'a str,
    name: &'static str,
) -> Result<(), IdentityError> {
    if slot.replace(value).is_some() {
        return Err(IdentityError::DuplicateParam(name));
    }
    Ok(())
}

/// Full form only: three base64url parts, header and payload non-empty.
fn check_jws(jws: &str) -> Result<(), IdentityError> {
    if jws.is_empty() {
        return Err(IdentityError::MalformedJws("no JWS before the parameters"));
    }
    if !jws.bytes().all(|b| b == b'.' || is_base64url_byte(b)) {
        return Err(IdentityError::MalformedJws(
            "characters outside base64url and '.'",
        ));
    }
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdentityError::MalformedJws(
            "expected three dot-separated parts",
        ));
    };
    if header.is_empty() {
        return Err(IdentityError::MalformedJws("empty protected header"));
    }
    if signature.is_empty() {
        return Err(IdentityError::MalformedJws("empty signature"));
    }
    if payload.is_empty() {
        return Err(IdentityError::CompactForm);
    }
    Ok(())
}

fn is_base64url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Linear white space inside an unfolded header value.
fn is_lws(c: char) -> bool {
    c == ' ' || c == '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJhdHRlc3QiOiJBIn0.c2lnbmF0dXJl";
    const X5U: &str = "https://cert.example.org/passport.cer";

    fn parse(value: &str) -> Result<Identity<'_>, IdentityError> {
        Identity::parse(value)
    }

    #[test]
    fn shaken_prints_the_rfc8224_full_form() {
        let expected = format!("{JWS};info=<{X5U}>;alg=ES256;ppt=shaken");
        assert_eq!(Identity::shaken(JWS, X5U).to_string(), expected);
        let mut pushed = JWS.to_string();
        Identity::push_shaken_params(&mut pushed, X5U);
        assert_eq!(pushed, expected);
        assert_eq!(pushed.len(), JWS.len() + Identity::shaken_params_len(X5U));
    }

    #[test]
    fn print_then_parse_gives_the_same_value() {
        let value = Identity::shaken(JWS, X5U).to_string();
        assert_eq!(parse(&value), Ok(Identity::shaken(JWS, X5U)));

        let odd = format!("{JWS};info=<{X5U}>;ppt=\"div\";x-flag;x-uri=<sip:a@b>;x=\"a;b\"");
        let parsed = parse(&odd).unwrap();
        let printed = parsed.to_string();
        assert_eq!(
            printed,
            format!("{JWS};info=<{X5U}>;ppt=div;x-flag;x-uri=\"sip:a@b\";x=\"a;b\"")
        );
        assert_eq!(parse(&printed), Ok(parsed));
    }

    #[test]
    fn tolerates_whitespace_order_case_and_quotes() {
        let value = format!(
            "  {JWS} ;\tppt = \"shaken\" ; X-Foo ; ALG=ES256;  Info = <{X5U}> ;x-bar=\"a;b\"  "
        );
        let parsed = parse(&value).unwrap();
        assert_eq!(parsed.jws, JWS);
        assert_eq!(parsed.info, X5U);
        assert_eq!(parsed.alg, Some("ES256"));
        assert_eq!(parsed.ppt, Some("shaken"));
        assert_eq!(parsed.params, vec![("X-Foo", None), ("x-bar", Some("a;b"))]);
    }

    #[test]
    fn info_uri_may_contain_semicolons() {
        let uri = "https://cert.example.org/c;v=1?a=b";
        let value = Identity::shaken(JWS, uri).to_string();
        let parsed = parse(&value).unwrap();
        assert_eq!(parsed.info, uri);
        assert_eq!(parsed.ppt, Some("shaken"));
    }

    #[test]
    fn compact_form_is_detected() {
        let value = format!("eyJhbGciOiJFUzI1NiJ9..c2lnbmF0dXJl;info=<{X5U}>");
        assert_eq!(parse(&value), Err(IdentityError::CompactForm));
    }

    #[test]
    fn malformed_jws_is_rejected() {
        for jws in [
            "a.b", "a.b.c.d", ".b.c", "a.b.", "a.b+.c", "a.b=.c", "a b.c.d",
        ] {
            let value = format!("{jws};info=<{X5U}>");
            assert!(
                matches!(parse(&value), Err(IdentityError::MalformedJws(_))),
                "{jws}: {:?}",
                parse(&value)
            );
        }
        assert!(matches!(
            parse(&format!(";info=<{X5U}>")),
            Err(IdentityError::MalformedJws(_))
        ));
    }

    #[test]
    fn info_problems_are_reported() {
        assert_eq!(parse(JWS), Err(IdentityError::MissingInfo));
        assert_eq!(
            parse(&format!("{JWS};alg=ES256")),
            Err(IdentityError::MissingInfo)
        );
        assert_eq!(
            parse(&format!("{JWS};info={X5U}")),
            Err(IdentityError::InfoNotBracketed)
        );
        assert_eq!(
            parse(&format!("{JWS};info=<>")),
            Err(IdentityError::InfoNotBracketed)
        );
        assert_eq!(
            parse(&format!("{JWS};info=<{X5U}")),
            Err(IdentityError::Unterminated("<...>"))
        );
        assert_eq!(
            parse(&format!("{JWS};info=<{X5U}>;info=<{X5U}>")),
            Err(IdentityError::DuplicateParam("info"))
        );
    }

    #[test]
    fn malformed_params_are_reported() {
        assert_eq!(parse(""), Err(IdentityError::Empty));
        assert_eq!(parse("  \t "), Err(IdentityError::Empty));
        assert!(matches!(
            parse(&format!("{JWS};info=<{X5U}>;;alg=ES256")),
            Err(IdentityError::MalformedParam(_))
        ));
        assert!(matches!(
            parse(&format!("{JWS};info=<{X5U}> junk")),
            Err(IdentityError::MalformedParam(_))
        ));
        assert!(matches!(
            parse(&format!("{JWS};info=<{X5U}>;alg=")),
            Err(IdentityError::MalformedParam(_))
        ));
        assert_eq!(
            parse(&format!("{JWS};info=<{X5U}>;ppt=\"shaken")),
            Err(IdentityError::Unterminated("quoted string"))
        );
        assert_eq!(
            parse(&format!("{JWS};info=<{X5U}>;ppt=shaken;ppt=div")),
            Err(IdentityError::DuplicateParam("ppt"))
        );
    }

    #[test]
    fn never_panics_on_truncations() {
        let value = format!("{JWS} ; info = <{X5U}> ; alg=ES256 ; ppt=\"shaken\"");
        for end in 0..=value.len() {
            let _ = parse(&value[..end]);
            let _ = parse(&value[end..]);
        }
    }
}
