//! The header-section lexer: splits the bytes after the start line into header lines
//! (folded continuations included) and finds the blank line. Shared by message parsing,
//! Via iteration and stream framing, so all three agree on where a line ends.

/// One header line as byte offsets into the buffer it was lexed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawLine {
    /// First byte of the name.
    pub start: usize,
    /// End of the name (whitespace before the colon excluded).
    pub name_end: usize,
    /// First byte of the value (leading whitespace skipped).
    pub value_start: usize,
    /// End of the value (trailing whitespace and the line ending excluded).
    pub value_end: usize,
    /// One past the final LF, continuation lines included.
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lexed {
    Header(RawLine),
    /// The empty line that ends the header section; `end` is where the body starts.
    Blank {
        end: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LexError {
    /// The buffer ends before the header section does.
    Unterminated,
    /// The line is not `name: value`; `end` is one past its last LF, so a lenient caller
    /// can skip it.
    Malformed { end: usize },
}

pub(crate) fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Linear whitespace inside a header value: folding leaves CR and LF in place.
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Lexes the line starting at `pos`, which must be the start of a header line or of the
/// blank line. Bare LF line endings are accepted as well as CRLF.
pub(crate) fn lex(buf: &[u8], pos: usize) -> Result<Lexed, LexError> {
    let rest = buf.get(pos..).unwrap_or_default();
    match rest {
        [] | [b'\r'] => return Err(LexError::Unterminated),
        [b'\n', ..] => return Ok(Lexed::Blank { end: pos + 1 }),
        [b'\r', b'\n', ..] => return Ok(Lexed::Blank { end: pos + 2 }),
        _ => {}
    }
    let first_lf = pos + find_byte(rest, b'\n').ok_or(LexError::Unterminated)?;
    let mut lf = first_lf;
    // A following line that starts with SP or HT continues this one (RFC 3261 7.3.1). The
    // header section must still end with a blank line, so running out of bytes here means
    // the section is unterminated.
    loop {
        let next = lf + 1;
        match buf.get(next) {
            Some(b' ' | b'\t') => {
                let tail = buf.get(next..).unwrap_or_default();
                lf = next + find_byte(tail, b'\n').ok_or(LexError::Unterminated)?;
            }
            Some(_) => break,
            None => return Err(LexError::Unterminated),
        }
    }
    let end = lf + 1;
    let malformed = LexError::Malformed { end };
    let content_end = strip_cr(buf, pos, lf);
    let first_content_end = strip_cr(buf, pos, first_lf);

    let first_line = buf.get(pos..first_content_end).unwrap_or_default();
    let colon = pos + find_byte(first_line, b':').ok_or(malformed)?;
    let mut name_end = colon;
    while name_end > pos && matches!(buf.get(name_end - 1), Some(b' ' | b'\t')) {
        name_end -= 1;
    }
    let name = buf.get(pos..name_end).unwrap_or_default();
    if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
        return Err(malformed);
    }
    let mut value_start = colon + 1;
    while value_start < content_end && buf.get(value_start).is_some_and(|&b| is_lws(b)) {
        value_start += 1;
    }
    let mut value_end = content_end;
    while value_end > value_start && buf.get(value_end - 1).is_some_and(|&b| is_lws(b)) {
        value_end -= 1;
    }
    Ok(Lexed::Header(RawLine {
        start: pos,
        name_end,
        value_start,
        value_end,
        end,
    }))
}

/// The end of a line's content given the offset of its LF: a preceding CR is excluded.
fn strip_cr(buf: &[u8], line_start: usize, lf: usize) -> usize {
    if lf > line_start && buf.get(lf - 1) == Some(&b'\r') {
        lf - 1
    } else {
        lf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(buf: &[u8], pos: usize) -> (String, String, usize) {
        match lex(buf, pos) {
            Ok(Lexed::Header(l)) => (
                String::from_utf8(buf[l.start..l.name_end].to_vec()).unwrap(),
                String::from_utf8(buf[l.value_start..l.value_end].to_vec()).unwrap(),
                l.end,
            ),
            other => panic!("expected a header, got {other:?}"),
        }
    }

    #[test]
    fn lexes_name_value_and_line_end() {
        let buf = b"Via :  SIP/2.0/UDP a  \r\nX: y\r\n\r\n";
        assert_eq!(header(buf, 0), ("Via".into(), "SIP/2.0/UDP a".into(), 24));
        assert_eq!(header(buf, 24), ("X".into(), "y".into(), 30));
        assert_eq!(lex(buf, 30), Ok(Lexed::Blank { end: 32 }));
    }

    #[test]
    fn folded_lines_belong_to_the_header_they_continue() {
        let buf = b"Subject: first\r\n  second\r\n\tthird\r\nX: y\r\n\r\n";
        let (name, value, end) = header(buf, 0);
        assert_eq!(name, "Subject");
        assert_eq!(value, "first\r\n  second\r\n\tthird");
        assert_eq!(&buf[end..end + 4], b"X: y");
    }

    #[test]
    fn bare_lf_is_a_line_ending() {
        let buf = b"A: 1\nB: 2\n\nbody";
        assert_eq!(header(buf, 0), ("A".into(), "1".into(), 5));
        assert_eq!(header(buf, 5), ("B".into(), "2".into(), 10));
        assert_eq!(lex(buf, 10), Ok(Lexed::Blank { end: 11 }));
    }

    #[test]
    fn empty_values_are_allowed() {
        let buf = b"Subject:\r\n\r\n";
        assert_eq!(header(buf, 0), ("Subject".into(), "".into(), 10));
    }

    #[test]
    fn lines_without_a_token_name_are_malformed() {
        for buf in [
            &b"no colon\r\n\r\n"[..],
            b": v\r\n\r\n",
            b"a b: v\r\n\r\n",
            b" x: v\r\n\r\n",
        ] {
            assert!(
                matches!(lex(buf, 0), Err(LexError::Malformed { .. })),
                "{buf:?}"
            );
        }
        assert_eq!(
            lex(b"bad\r\nA: b\r\n\r\n", 0),
            Err(LexError::Malformed { end: 5 })
        );
    }

    #[test]
    fn a_section_without_blank_line_is_unterminated() {
        for buf in [&b""[..], b"\r", b"A: 1", b"A: 1\r\n", b"A: 1\r\n fold"] {
            assert_eq!(lex(buf, 0), Err(LexError::Unterminated), "{buf:?}");
        }
    }
}
