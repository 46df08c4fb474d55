//! Byte-level message editing: the output is the received bytes with header lines
//! inserted, replaced or removed, and at most the start line rewritten. Untouched lines,
//! header order, unknown headers and the body are copied byte for byte, and an existing
//! Content-Length is never rewritten (the body never changes).

use std::borrow::Cow;

use super::framing::Framing;
use super::grammar::split_list;
use super::header::{HeaderName, write_line};
use super::message::{Message, write_status_line};

/// A set of edits for one message, applied in a single copy by [`Edits::apply`]. Line
/// numbers are indices into [`Message::headers`]; new lines are written under the
/// canonical name of their [`HeaderName`].
///
/// Each existing line takes one edit: a later `remove` or `replace_value` for the same line
/// supersedes an earlier one, while repeated `remove_first_value` calls accumulate (two
/// calls drop the first two elements). Values are written as given; they must not contain
/// line breaks.
#[derive(Debug, Clone, Default)]
pub struct Edits<'e> {
    status: Option<(u16, &'e str)>,
    prepend: Vec<(HeaderName, Cow<'e, str>)>,
    append: Vec<(HeaderName, Cow<'e, str>)>,
    /// Lines of headers `HeaderName` does not know, after `append`'s.
    append_named: Vec<(&'static str, Cow<'e, str>)>,
    lines: Vec<(usize, LineEdit<'e>)>,
}

#[derive(Debug, Clone)]
enum LineEdit<'e> {
    Remove,
    Replace(Cow<'e, str>),
    DropFirst(usize),
}

impl<'e> Edits<'e> {
    pub fn new() -> Self {
        Edits::default()
    }

    /// True when applying would copy the message unchanged.
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.prepend.is_empty()
            && self.append.is_empty()
            && self.append_named.is_empty()
            && self.lines.is_empty()
    }

    /// Replaces the start line of a response with `SIP/2.0 <status> <reason>`.
    pub fn replace_status(&mut self, status: u16, reason: &'e str) {
        self.status = Some((status, reason));
    }

    /// Adds a line right after the start line; several prepends keep their call order.
    pub fn prepend(&mut self, name: HeaderName, value: impl Into<Cow<'e, str>>) {
        self.prepend.push((name, value.into()));
    }

    /// Adds a line just before the blank line; several appends keep their call order.
    pub fn append(&mut self, name: HeaderName, value: impl Into<Cow<'e, str>>) {
        self.append.push((name, value.into()));
    }

    /// Adds a line of a header `HeaderName` does not know (`P-Attestation-Indicator`)
    /// just before the blank line, after every [`Edits::append`].
    pub fn append_named(&mut self, name: &'static str, value: impl Into<Cow<'e, str>>) {
        self.append_named.push((name, value.into()));
    }

    /// Adds the Content-Length a message needs on a stream (RFC 3261 18.3, 16.6 item 9)
    /// when it has none. A datagram needs none.
    pub fn frame_for(&mut self, msg: &Message, framing: Framing) {
        if framing == Framing::Stream && msg.header(HeaderName::ContentLength).is_none() {
            self.append(HeaderName::ContentLength, msg.body().len().to_string());
        }
    }

    /// Removes a header line (with its continuation lines).
    pub fn remove(&mut self, line: usize) {
        self.set(line, LineEdit::Remove);
    }

    /// Rewrites a line as `<name as written>: <value>\r\n`.
    pub fn replace_value(&mut self, line: usize, value: impl Into<Cow<'e, str>>) {
        self.set(line, LineEdit::Replace(value.into()));
    }

    /// Drops the first element of a comma-list line (e.g. our own Via when it shares a line
    /// with others); the line goes away when no element is left. The remaining text is
    /// kept as written.
    pub fn remove_first_value(&mut self, line: usize) {
        match self.lines.iter_mut().find(|(l, _)| *l == line) {
            Some((_, LineEdit::DropFirst(n))) => *n += 1,
            Some((_, edit)) => *edit = LineEdit::DropFirst(1),
            None => self.lines.push((line, LineEdit::DropFirst(1))),
        }
    }

    fn set(&mut self, line: usize, edit: LineEdit<'e>) {
        match self.lines.iter_mut().find(|(l, _)| *l == line) {
            Some((_, existing)) => *existing = edit,
            None => self.lines.push((line, edit)),
        }
    }

    /// Appends the edited message to `out`. Line numbers that do not exist in `msg` are
    /// ignored.
    pub fn apply(&self, msg: &Message, out: &mut Vec<u8>) {
        let buf = msg.buf();
        let added: usize = self
            .prepend
            .iter()
            .chain(&self.append)
            .map(|(name, value)| name.canonical().map_or(0, str::len) + value.len() + 4)
            .chain((self.append_named.iter()).map(|(name, value)| name.len() + value.len() + 4))
            .chain(self.lines.iter().map(|(_, edit)| match edit {
                LineEdit::Replace(value) => value.len() + 32,
                _ => 0,
            }))
            .sum();
        out.reserve(buf.len() + added);

        let headers_start = msg.headers_start();
        match self.status {
            Some((status, reason)) => write_status_line(out, status, reason),
            None => out.extend_from_slice(buf.get(..headers_start).unwrap_or_default()),
        }
        for (name, value) in &self.prepend {
            write_line(out, *name, value);
        }

        let mut copied = headers_start;
        for (index, line) in msg.headers().iter().enumerate() {
            let Some((_, edit)) = self.lines.iter().find(|(l, _)| *l == index) else {
                continue;
            };
            let range = line.line_range();
            out.extend_from_slice(buf.get(copied..range.start).unwrap_or_default());
            copied = range.end;
            match edit {
                LineEdit::Remove => {}
                LineEdit::Replace(value) => {
                    for part in [msg.name_of(line), ": ", value, "\r\n"] {
                        out.extend_from_slice(part.as_bytes());
                    }
                }
                LineEdit::DropFirst(n) => {
                    let mut elements = split_list(msg.value_of(line));
                    let kept = (0..*n).try_for_each(|_| elements.next_range().map(drop));
                    if let Some((next, _)) = kept.and_then(|()| elements.next_range()) {
                        let value_start = line.value_range().start;
                        out.extend_from_slice(
                            buf.get(range.start..value_start).unwrap_or_default(),
                        );
                        out.extend_from_slice(
                            buf.get(value_start + next..range.end).unwrap_or_default(),
                        );
                    }
                }
            }
        }
        let blank_line = msg.blank_line();
        out.extend_from_slice(buf.get(copied..blank_line).unwrap_or_default());
        for (name, value) in &self.append {
            write_line(out, *name, value);
        }
        for (name, value) in &self.append_named {
            for part in [name, ": ", value.as_ref(), "\r\n"] {
                out.extend_from_slice(part.as_bytes());
            }
        }
        out.extend_from_slice(buf.get(blank_line..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:+12155550131@carrier.example SIP/2.0\r\n\
v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKpbx1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKinner\r\n\
Max-Forwards: 70\r\n\
X-Weird-Header :   keep   this  \r\n\
From: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
To: <sip:+12155550131@carrier.example>\r\n\
Identity: untrusted;info=<https://evil.example/cert.pem>\r\n\
Call-ID: call-1@pbx.example\r\n\
CSeq: 1 INVITE\r\n\
Subject: folded\r\n  continuation\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 25\r\n\
\r\n\
v=0\r\no=- 1 1 IN IP4 x\r\n\r\n";

    fn edited(edits: &Edits) -> String {
        let msg = Message::parse(INVITE).unwrap();
        let mut out = Vec::new();
        edits.apply(&msg, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn line(name: HeaderName) -> usize {
        Message::parse(INVITE)
            .unwrap()
            .find_lines(name)
            .next()
            .unwrap()
    }

    #[test]
    fn no_edits_copy_the_message_byte_for_byte() {
        let edits = Edits::new();
        assert!(edits.is_empty());
        assert_eq!(edited(&edits).as_bytes(), INVITE);
    }

    #[test]
    fn bytes_beyond_content_length_are_not_copied() {
        let mut datagram = INVITE.to_vec();
        datagram.extend_from_slice(b"garbage");
        let msg = Message::parse(&datagram).unwrap();
        let mut out = Vec::new();
        Edits::new().apply(&msg, &mut out);
        assert_eq!(out, INVITE);
    }

    #[test]
    fn typical_forwarding_edits_touch_only_their_lines() {
        let mut edits = Edits::new();
        edits.prepend(
            HeaderName::Via,
            "SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy",
        );
        edits.prepend(HeaderName::RecordRoute, "<sip:203.0.113.1;lr>");
        edits.replace_value(line(HeaderName::MaxForwards), "69");
        edits.remove(line(HeaderName::Identity));
        edits.append(
            HeaderName::Identity,
            String::from("jws;info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken"),
        );
        edits.append(HeaderName::Date, "Thu, 01 Jan 2026 00:00:00 GMT");

        let expected = String::from_utf8(INVITE.to_vec())
            .unwrap()
            .replacen(
                "SIP/2.0\r\n",
                "SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy\r\n\
                 Record-Route: <sip:203.0.113.1;lr>\r\n",
                1,
            )
            .replace("Max-Forwards: 70\r\n", "Max-Forwards: 69\r\n")
            .replace(
                "Identity: untrusted;info=<https://evil.example/cert.pem>\r\n",
                "",
            )
            .replace(
                "Content-Length: 25\r\n\r\n",
                "Content-Length: 25\r\n\
                 Identity: jws;info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken\r\n\
                 Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n",
            );
        assert_eq!(edited(&edits), expected);
        let out = expected.as_bytes();
        assert!(
            out.ends_with(b"\r\n\r\nv=0\r\no=- 1 1 IN IP4 x\r\n\r\n"),
            "body intact"
        );
        assert!(Message::parse(out).is_ok());
    }

    #[test]
    fn replace_keeps_the_name_as_written_and_drops_folding() {
        let mut edits = Edits::new();
        edits.replace_value(line(HeaderName::From), "superseded");
        edits.remove(line(HeaderName::From));
        let subject = Message::parse(INVITE).unwrap().headers().len() - 3;
        edits.replace_value(subject, "plain");
        let out = edited(&edits);
        assert!(!out.contains("From:") && !out.contains("superseded"));
        assert!(out.contains("\r\nSubject: plain\r\nContent-Type"));
        assert!(!out.contains("continuation"));
    }

    #[test]
    fn remove_first_value_drops_one_element_and_keeps_the_rest_as_written() {
        let mut edits = Edits::new();
        edits.remove_first_value(line(HeaderName::Via));
        let out = edited(&edits);
        assert!(
            out.contains("SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKinner\r\nMax-Forwards")
        );
        assert!(!out.contains("z9hG4bKpbx1"));

        edits.remove_first_value(line(HeaderName::Via));
        let out = edited(&edits);
        assert!(
            out.contains("SIP/2.0\r\nMax-Forwards"),
            "line goes with its last element"
        );
        assert!(!out.contains("z9hG4bKinner"));
    }

    #[test]
    fn remove_first_value_on_a_single_valued_line_removes_it() {
        let msg = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP proxy;branch=z9hG4bKp\r\n\
Via: SIP/2.0/UDP pbx;branch=z9hG4bKq\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let parsed = Message::parse(msg).unwrap();
        let mut edits = Edits::new();
        edits.remove_first_value(0);
        let mut out = Vec::new();
        edits.apply(&parsed, &mut out);
        assert_eq!(
            out,
            b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP pbx;branch=z9hG4bKq\r\n\
Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn the_status_line_is_replaced_and_the_rest_kept() {
        let msg = b"SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/UDP p;branch=z9hG4bKp\r\n\
Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let parsed = Message::parse(msg).unwrap();
        let mut edits = Edits::new();
        edits.replace_status(500, "Server Internal Error");
        assert!(!edits.is_empty());
        let mut out = Vec::new();
        edits.apply(&parsed, &mut out);
        assert_eq!(
            out,
            b"SIP/2.0 500 Server Internal Error\r\nVia: SIP/2.0/UDP p;branch=z9hG4bKp\r\n\
Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn only_a_stream_gets_a_missing_content_length() {
        let text = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP p;branch=z9hG4bKp\r\n\
Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\nbody";
        let msg = Message::parse(text.as_bytes()).unwrap();
        let framed = |framing| {
            let mut edits = Edits::new();
            edits.frame_for(&msg, framing);
            let mut out = Vec::new();
            edits.apply(&msg, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(framed(Framing::Datagram), text);
        assert_eq!(
            framed(Framing::Stream),
            text.replace("\r\n\r\n", "\r\nContent-Length: 4\r\n\r\n")
        );
        // One already there is left alone.
        let msg = Message::parse(INVITE).unwrap();
        let mut edits = Edits::new();
        edits.frame_for(&msg, Framing::Stream);
        assert!(edits.is_empty());
    }

    #[test]
    fn out_of_range_lines_are_ignored_and_output_is_appended() {
        let mut edits = Edits::new();
        edits.remove(999);
        let msg = Message::parse(INVITE).unwrap();
        let mut out = b"prefix".to_vec();
        edits.apply(&msg, &mut out);
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(&out[6..], INVITE);
    }
}
