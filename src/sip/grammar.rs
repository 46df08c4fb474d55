//! Header value syntax shared by the typed views: top-level comma lists (Via, Route,
//! Record-Route), `;name=value` parameter lists, quoted strings and linear whitespace.

use super::lines::{is_lws, is_token};

/// Trims SP, HT and the CR/LF that folding leaves inside a value.
pub(crate) fn trim_lws(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// A decimal number of at most 9 digits (so it fits any counter we keep); anything else,
/// signs and spaces included, is rejected.
pub(crate) fn parse_digits(v: &str) -> Option<u32> {
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Index of the `"` that closes the quoted string opening at `open`, honouring `\` escapes.
pub(crate) fn quoted_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `s` as a quoted-string (RFC 3261 section 25.1): between `"`, with `"` and `\` written
/// as quoted-pairs, and the control characters but HTAB left out (CR and LF can be in
/// no quoted-string, and the others only escaped, which peers parse poorly).
pub(crate) fn quoted_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits a header value on top-level commas (not inside quotes or `<>`).
pub fn split_list(value: &str) -> ListElements<'_> {
    ListElements { s: value, pos: 0 }
}

/// Iterator returned by [`split_list`]: trimmed, non-empty elements, first to last.
#[derive(Debug, Clone)]
pub struct ListElements<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> ListElements<'a> {
    /// The next element as a trimmed byte range of the value.
    pub(crate) fn next_range(&mut self) -> Option<(usize, usize)> {
        let b = self.s.as_bytes();
        while self.pos < b.len() {
            let start = self.pos;
            let end = element_end(b, start);
            self.pos = end + 1;
            let (mut s, mut e) = (start, end);
            while s < e && b.get(s).is_some_and(|&c| is_lws(c)) {
                s += 1;
            }
            while e > s && b.get(e - 1).is_some_and(|&c| is_lws(c)) {
                e -= 1;
            }
            if s < e {
                return Some((s, e));
            }
        }
        None
    }
}

impl<'a> Iterator for ListElements<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (s, e) = self.next_range()?;
        self.s.get(s..e)
    }
}

/// Index of the top-level comma ending the element that starts at `i`, or `b.len()`.
fn element_end(b: &[u8], mut i: usize) -> usize {
    let mut in_angle = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' if !in_angle => match quoted_end(b, i) {
                Some(close) => i = close,
                None => return b.len(),
            },
            b'<' => in_angle = true,
            b'>' => in_angle = false,
            b',' if !in_angle => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Iterates `;name[=value]` parameters: names and values trimmed, quoted values returned
/// with their quotes. Text before the first `;` is skipped.
pub(crate) fn params(s: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let b = s.as_bytes();
    let mut pos = find_semicolon(b, 0);
    std::iter::from_fn(move || {
        loop {
            let start = pos?.checked_add(1)?;
            let end = find_semicolon(b, start);
            pos = end;
            let segment = s.get(start..end.unwrap_or(b.len()))?;
            let (name, value) = match segment.split_once('=') {
                Some((n, v)) => (trim_lws(n), Some(trim_lws(v))),
                None => (trim_lws(segment), None),
            };
            if !name.is_empty() {
                return Some((name, value));
            }
        }
    })
}

/// Whether `s`, the parameters after a header value's main part, is empty or a run of
/// `;name[=value]` with a token name and a token, host (`[v6]`, `a:b`) or terminated
/// quoted-string value (RFC 3261 25.1 `generic-param`). Empty parameters (`;;`), an
/// empty value (`;x=`) and an unterminated quote are not.
pub(crate) fn params_well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let skip = |i: &mut usize| {
        while b.get(*i).is_some_and(|&c| is_lws(c)) {
            *i += 1;
        }
    };
    skip(&mut i);
    while i < b.len() {
        if b[i] != b';' {
            return false;
        }
        i += 1;
        skip(&mut i);
        let name = i;
        while b.get(i).is_some_and(|&c| is_token(c)) {
            i += 1;
        }
        if i == name {
            return false;
        }
        skip(&mut i);
        if b.get(i) == Some(&b'=') {
            i += 1;
            skip(&mut i);
            if b.get(i) == Some(&b'"') {
                match quoted_end(b, i) {
                    Some(close) => i = close + 1,
                    None => return false,
                }
            } else {
                let value = i;
                while b
                    .get(i)
                    .is_some_and(|&c| is_token(c) || matches!(c, b':' | b'[' | b']'))
                {
                    i += 1;
                }
                if i == value {
                    return false;
                }
            }
            skip(&mut i);
        }
    }
    true
}

/// Looks up a parameter by name (case-insensitive): `None` when absent, `Some(None)` when
/// present without `=value`.
pub(crate) fn find_param<'a>(s: &'a str, name: &str) -> Option<Option<&'a str>> {
    params(s)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Appends `s` to `out` without its `;name[=value]` parameters whose name is one of
/// `names` (case-insensitive). Everything else, the text before the first `;` included, is
/// copied as written.
pub(crate) fn push_without_params(out: &mut String, s: &str, names: &[&str]) {
    let b = s.as_bytes();
    let mut next = find_semicolon(b, 0);
    out.push_str(s.get(..next.unwrap_or(b.len())).unwrap_or_default());
    while let Some(start) = next {
        next = find_semicolon(b, start + 1);
        let segment = s.get(start..next.unwrap_or(b.len())).unwrap_or_default();
        let name = segment.get(1..).unwrap_or_default();
        let name = trim_lws(name.split_once('=').map_or(name, |(n, _)| n));
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push_str(segment);
        }
    }
}

fn find_semicolon(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => i = quoted_end(b, i)?,
            b';' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_escape_quotes_and_backslashes_and_drop_control_characters() {
        assert_eq!(quoted_string("plain text"), r#""plain text""#);
        assert_eq!(quoted_string(""), r#""""#);
        assert_eq!(quoted_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(quoted_string("a\r\n b\tc\u{7}\u{0}"), "\"a b\tc\"");
        assert_eq!(quoted_string("caf\u{e9}"), "\"caf\u{e9}\"");
        // Whatever goes in, the result is one quoted-string, closed where it ends.
        for s in ["\\", "\"", "\\\"", "x\\", "\r\n\"\r\n"] {
            let q = quoted_string(s);
            assert_eq!(
                quoted_end(q.as_bytes(), 0),
                Some(q.len() - 1),
                "{s:?} -> {q}"
            );
        }
    }

    #[test]
    fn split_list_ignores_commas_in_quotes_and_angle_brackets() {
        let v = r#"SIP/2.0/UDP a;branch=1 ,SIP/2.0/TCP b;x="p,q" , <sip:c;lr,x>, "A, B" <sip:d>"#;
        let parts: Vec<_> = split_list(v).collect();
        assert_eq!(
            parts,
            [
                "SIP/2.0/UDP a;branch=1",
                r#"SIP/2.0/TCP b;x="p,q""#,
                "<sip:c;lr,x>",
                r#""A, B" <sip:d>"#
            ]
        );
    }

    #[test]
    fn split_list_skips_empty_elements_and_folding() {
        let parts: Vec<_> = split_list(" , a,\r\n b ,, ").collect();
        assert_eq!(parts, ["a", "b"]);
        assert_eq!(split_list("").count(), 0);
    }

    #[test]
    fn split_list_survives_unbalanced_quotes() {
        let parts: Vec<_> = split_list(r#"a, "b, c"#).collect();
        assert_eq!(parts, ["a", r#""b, c"#]);
        let parts: Vec<_> = split_list(r#"a, "b\"#).collect();
        assert_eq!(parts, ["a", r#""b\"#]);
    }

    #[test]
    fn push_without_params_drops_only_the_named_ones() {
        let without = |s: &str, names: &[&str]| {
            let mut out = String::from(">");
            push_without_params(&mut out, s, names);
            out
        };
        assert_eq!(
            without("sip:+1;verstat=x;Verstat ;cpc=a", &["verstat"]),
            ">sip:+1;cpc=a"
        );
        assert_eq!(
            without(
                "h ;rport;x=\"a;rport\";;received = 1",
                &["rport", "received"]
            ),
            ">h ;x=\"a;rport\";"
        );
        assert_eq!(without("plain", &["x"]), ">plain");
        assert_eq!(without("", &["x"]), ">");
        assert_eq!(without("a;x=\"open", &["y"]), ">a;x=\"open");
    }

    #[test]
    fn params_finds_flags_values_and_quoted_values() {
        let p = r#"sip:x ; branch = z9hG4bK1 ;rport;received=10.0.0.1;q="a;b";lr"#;
        assert_eq!(find_param(p, "BRANCH"), Some(Some("z9hG4bK1")));
        assert_eq!(find_param(p, "rport"), Some(None));
        assert_eq!(find_param(p, "received"), Some(Some("10.0.0.1")));
        assert_eq!(find_param(p, "q"), Some(Some(r#""a;b""#)));
        assert_eq!(find_param(p, "lr"), Some(None));
        assert_eq!(find_param(p, "sip:x"), None);
        assert_eq!(find_param(p, "b\""), None);
        assert_eq!(find_param("", "x"), None);
        assert_eq!(find_param(";;x=", "x"), Some(Some("")));
    }
}
