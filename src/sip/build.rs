//! Messages the proxy writes itself: stateless responses (RFC 3261 8.2.6, 16.7), including
//! one to a request too broken to parse, the ACK for a non-2xx final response (17.1.1.3)
//! and CANCEL (9.1). Header lines taken from the original message are copied as written,
//! with CRLF line endings; new ones are written under their canonical [`HeaderName`].

use std::fmt::Display;
use std::io::Write;

use super::grammar::split_list;
use super::header::{CSeq, HeaderName, MaxForwards};
use super::lines::{LexError, Lexed, RawLine, find_byte, lex};
use super::message::{HeaderLine, Message, write_status_line};

/// Writes a response to `req`: every Via line in order, From, To (with `;tag=<to_tag>`
/// added when the request's To has none, `status > 100` and `to_tag` is given), Call-ID
/// and CSeq, then `extra` in order, then `Content-Length: 0`.
pub fn build_response(
    req: &Message,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(HeaderName, &str)],
    out: &mut Vec<u8>,
) {
    response_head(req, status, reason, to_tag, out);
    for (name, value) in extra {
        write_header(out, *name, value);
    }
    end_without_body(out);
}

/// [`build_response`] with extra lines named by text, for headers [`HeaderName`] does
/// not know (`P-Attestation-Indicator`). Names and values are written as given: the
/// caller makes them.
pub fn build_response_lines(
    req: &Message,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    lines: &[(&str, &str)],
    out: &mut Vec<u8>,
) {
    response_head(req, status, reason, to_tag, out);
    for (name, value) in lines {
        for part in [name, ": ", value, "\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
    }
    end_without_body(out);
}

/// A response's status line, Vias, From, To, Call-ID and CSeq.
fn response_head(
    req: &Message,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    out: &mut Vec<u8>,
) {
    out.reserve(req.buf().len().min(1024) + 64);
    write_status_line(out, status, reason);
    for line in req.headers().iter().filter(|h| h.name == HeaderName::Via) {
        copy_line(out, req, line);
    }
    copy_first(out, req, HeaderName::From);
    match (first(req, HeaderName::To), to_tag) {
        (Some(to), Some(tag)) if status > 100 && req.to_tag().is_none() => {
            let _ = write!(
                out,
                "{}: {};tag={tag}\r\n",
                req.name_of(to),
                req.value_of(to)
            );
        }
        (Some(to), _) => copy_line(out, req, to),
        (None, _) => {}
    }
    copy_first(out, req, HeaderName::CallId);
    copy_first(out, req, HeaderName::CSeq);
}

/// A response to a request that could not be parsed (or is too large to process), built
/// from its Via, From, To, Call-ID and CSeq lines, copied as written (lines that are not
/// UTF-8 are left out). `None` for a response or an ACK, which are never answered, and
/// when no Via line can be found, since then the response could not be routed.
pub fn bare_response(bytes: &[u8], status: u16, reason: &str) -> Option<Vec<u8>> {
    if bytes.starts_with(b"SIP/") || bytes.starts_with(b"ACK ") {
        return None;
    }
    let mut out = Vec::with_capacity(512);
    write_status_line(&mut out, status, reason);
    let mut have_via = false;
    let mut pos = find_byte(bytes, b'\n')? + 1;
    loop {
        match lex(bytes, pos) {
            Ok(Lexed::Header(line)) => {
                have_via |= copy_dialog_line(&mut out, bytes, &line) == Some(HeaderName::Via);
                pos = line.end;
            }
            Err(LexError::Malformed { end }) => pos = end,
            Ok(Lexed::Blank { .. }) => break,
            Err(LexError::Unterminated) => {
                // No blank line: what is left is the last header line.
                let mut last = bytes.get(pos..)?.to_vec();
                last.extend_from_slice(b"\r\n\r\n");
                if let Ok(Lexed::Header(line)) = lex(&last, 0) {
                    have_via |= copy_dialog_line(&mut out, &last, &line) == Some(HeaderName::Via);
                }
                break;
            }
        }
    }
    if !have_via {
        return None;
    }
    end_without_body(&mut out);
    Some(out)
}

/// Copies `line` of `buf` when it is a Via, From, To, Call-ID or CSeq line in UTF-8, and
/// says which it was.
fn copy_dialog_line(out: &mut Vec<u8>, buf: &[u8], line: &RawLine) -> Option<HeaderName> {
    let name = HeaderName::from_bytes(buf.get(line.start..line.name_end)?);
    let dialog = matches!(
        name,
        HeaderName::Via | HeaderName::From | HeaderName::To | HeaderName::CallId | HeaderName::CSeq
    );
    let bytes = buf.get(line.start..line.end)?;
    if !dialog || std::str::from_utf8(bytes).is_err() {
        return None;
    }
    copy_bytes(out, bytes);
    Some(name)
}

/// Writes the ACK for a non-2xx final `response` to `invite`, the INVITE as this proxy sent
/// it: same Request-URI, only its top Via, its Route lines, From and Call-ID, the To of the
/// response (carrying the remote tag), `CSeq: <n> ACK`.
pub fn build_ack(invite: &Message, response: &Message, out: &mut Vec<u8>) {
    let to = first(response, HeaderName::To).map(|line| (response, line));
    build_in_dialog(invite, "ACK", to, out);
}

/// Writes a CANCEL for `invite`, the INVITE as this proxy sent it: same Request-URI, only
/// its top Via, its Route lines, From, To and Call-ID, `CSeq: <n> CANCEL`.
pub fn build_cancel(invite: &Message, out: &mut Vec<u8>) {
    build_in_dialog(invite, "CANCEL", None, out);
}

/// The shared shape of ACK and CANCEL; `to` overrides the INVITE's To line.
fn build_in_dialog(
    invite: &Message,
    method: &str,
    to: Option<(&Message, &HeaderLine)>,
    out: &mut Vec<u8>,
) {
    out.reserve(512);
    let uri = invite.request_uri().unwrap_or_default();
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{method} {uri} SIP/2.0\r\n");
    let top_via =
        first(invite, HeaderName::Via).and_then(|line| split_list(invite.value_of(line)).next());
    if let Some(via) = top_via {
        write_header(out, HeaderName::Via, via);
    }
    for line in invite
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::Route)
    {
        copy_line(out, invite, line);
    }
    write_header(out, HeaderName::MaxForwards, MaxForwards::DEFAULT);
    copy_first(out, invite, HeaderName::From);
    match to {
        Some((msg, line)) => copy_line(out, msg, line),
        None => copy_first(out, invite, HeaderName::To),
    }
    copy_first(out, invite, HeaderName::CallId);
    let cseq = CSeq {
        seq: invite.cseq().0,
        method,
    };
    write_header(out, HeaderName::CSeq, cseq);
    end_without_body(out);
}

/// Writes `<canonical name>: <value>\r\n`; nothing for [`HeaderName::Other`].
fn write_header(out: &mut Vec<u8>, name: HeaderName, value: impl Display) {
    debug_assert!(
        name.canonical().is_some(),
        "writing a header without a name"
    );
    if let Some(name) = name.canonical() {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{name}: {value}\r\n");
    }
}

/// `Content-Length: 0` and the blank line.
fn end_without_body(out: &mut Vec<u8>) {
    write_header(out, HeaderName::ContentLength, 0);
    out.extend_from_slice(b"\r\n");
}

fn first<'m>(msg: &'m Message, name: HeaderName) -> Option<&'m HeaderLine> {
    msg.headers().iter().find(|h| h.name == name)
}

fn copy_first(out: &mut Vec<u8>, msg: &Message, name: HeaderName) {
    if let Some(line) = first(msg, name) {
        copy_line(out, msg, line);
    }
}

/// Copies a header line as written, ending it with CRLF even if it arrived with bare LF.
fn copy_line(out: &mut Vec<u8>, msg: &Message, line: &HeaderLine) {
    copy_bytes(out, msg.buf().get(line.line_range()).unwrap_or_default());
}

/// Copies the bytes of a header line, ending them with CRLF whatever they ended with.
fn copy_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let content = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:+12155550131@carrier.example;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy1, SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKpbx\n\
v: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKinner;received=10.9.9.9\r\n\
Route: <sip:edge1.carrier.example;lr>\r\n\
Route: <sip:edge2.carrier.example;lr>\r\n\
Max-Forwards: 69\r\n\
f: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
t: <sip:+12155550131@carrier.example>\r\n\
i: call-7@pbx.example\r\n\
CSeq: 314 INVITE\r\n\
Contact: <sip:alice@192.0.2.10>\r\n\
Content-Length: 0\r\n\r\n";

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn response_copies_vias_and_dialog_headers_and_adds_a_to_tag() {
        let req = Message::parse(INVITE).unwrap();
        let mut out = Vec::new();
        build_response(
            &req,
            403,
            "Forbidden",
            Some("px9"),
            &[
                (HeaderName::RetryAfter, "5"),
                (HeaderName::Unsupported, "foo"),
            ],
            &mut out,
        );
        assert_eq!(
            text(out),
            "SIP/2.0 403 Forbidden\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy1, SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKpbx\r\n\
v: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKinner;received=10.9.9.9\r\n\
f: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
t: <sip:+12155550131@carrier.example>;tag=px9\r\n\
i: call-7@pbx.example\r\n\
CSeq: 314 INVITE\r\n\
Retry-After: 5\r\n\
Unsupported: foo\r\n\
Content-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn response_parses_back_with_the_same_transaction_keys() {
        let req = Message::parse(INVITE).unwrap();
        let mut out = Vec::new();
        build_response(&req, 500, "Server Internal Error", Some("t"), &[], &mut out);
        let resp = Message::parse(&out).unwrap();
        assert_eq!(resp.status(), Some(500));
        assert_eq!(resp.reason(), Some("Server Internal Error"));
        assert_eq!(resp.top_via().unwrap().branch, Some("z9hG4bKproxy1"));
        assert_eq!(resp.vias().count(), 3);
        assert_eq!(resp.call_id(), req.call_id());
        assert_eq!(resp.cseq(), req.cseq());
        assert_eq!(resp.to_tag(), Some("t"));
        assert_eq!(resp.body(), b"");
    }

    #[test]
    fn trying_and_tagged_requests_keep_the_to_as_is() {
        let req = Message::parse(INVITE).unwrap();
        let mut out = Vec::new();
        build_response(&req, 100, "Trying", Some("px9"), &[], &mut out);
        assert!(text(out).contains("\r\nt: <sip:+12155550131@carrier.example>\r\n"));

        let tagged = String::from_utf8(INVITE.to_vec()).unwrap().replace(
            "t: <sip:+12155550131@carrier.example>",
            "t: <sip:+12155550131@carrier.example>;tag=remote",
        );
        let req = Message::parse(tagged.as_bytes()).unwrap();
        let mut out = Vec::new();
        build_response(
            &req,
            481,
            "Call/Transaction Does Not Exist",
            Some("px9"),
            &[],
            &mut out,
        );
        let out = text(out);
        assert!(out.contains("\r\nt: <sip:+12155550131@carrier.example>;tag=remote\r\n"));
        assert!(!out.contains("px9"));
    }

    fn bare(bytes: &[u8]) -> Option<String> {
        bare_response(bytes, 400, "Bad CSeq").map(text)
    }

    #[test]
    fn bare_response_copies_the_dialog_lines_of_an_unparseable_request() {
        let broken = String::from_utf8(INVITE.to_vec())
            .unwrap()
            .replace("CSeq: 314 INVITE", "CSeq: one INVITE")
            .replace("Route: <sip:edge1", "Route <sip:edge1");
        assert_eq!(
            bare(broken.as_bytes()).unwrap(),
            "SIP/2.0 400 Bad CSeq\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy1, SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKpbx\r\n\
v: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKinner;received=10.9.9.9\r\n\
f: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
t: <sip:+12155550131@carrier.example>\r\n\
i: call-7@pbx.example\r\n\
CSeq: one INVITE\r\n\
Content-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn bare_response_reads_a_section_without_blank_line_to_its_last_line() {
        let truncated = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
Subject: folded\r\n more\r\nX-Bin: \xff\r\nCall-ID: c9";
        assert_eq!(
            bare(truncated).unwrap(),
            "SIP/2.0 400 Bad CSeq\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
Call-ID: c9\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn bare_response_is_never_sent_to_responses_acks_or_without_a_via() {
        let resp = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
        assert_eq!(bare(resp), None);
        assert_eq!(
            bare(b"ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"),
            None
        );
        assert_eq!(bare(b"INVITE sip:a@b SIP/2.0\r\nCall-ID: c\r\n\r\n"), None);
        assert_eq!(bare(b"\x00\xffgarbage that is not SIP"), None);
        assert_eq!(bare(b""), None);
        let bin = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP \xff\r\n\r\n";
        assert_eq!(bare(bin), None);
    }

    #[test]
    fn ack_uses_top_via_routes_and_the_response_to() {
        let invite = Message::parse(INVITE).unwrap();
        let response = b"SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy1\r\n\
From: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
To: <sip:+12155550131@carrier.example>;tag=carrier-7\r\n\
Call-ID: call-7@pbx.example\r\nCSeq: 314 INVITE\r\nContent-Length: 0\r\n\r\n";
        let response = Message::parse(response).unwrap();
        let mut out = Vec::new();
        build_ack(&invite, &response, &mut out);
        assert_eq!(
            text(out.clone()),
            "ACK sip:+12155550131@carrier.example;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy1\r\n\
Route: <sip:edge1.carrier.example;lr>\r\n\
Route: <sip:edge2.carrier.example;lr>\r\n\
Max-Forwards: 70\r\n\
f: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
To: <sip:+12155550131@carrier.example>;tag=carrier-7\r\n\
i: call-7@pbx.example\r\n\
CSeq: 314 ACK\r\n\
Content-Length: 0\r\n\r\n"
        );
        let ack = Message::parse(&out).unwrap();
        assert_eq!(ack.cseq(), (314, crate::sip::Method::Ack));
    }

    #[test]
    fn cancel_matches_the_invite() {
        let invite = Message::parse(INVITE).unwrap();
        let mut out = Vec::new();
        build_cancel(&invite, &mut out);
        assert_eq!(
            text(out.clone()),
            "CANCEL sip:+12155550131@carrier.example;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKproxy1\r\n\
Route: <sip:edge1.carrier.example;lr>\r\n\
Route: <sip:edge2.carrier.example;lr>\r\n\
Max-Forwards: 70\r\n\
f: \"Alice\" <sip:+12155550121@pbx.example>;tag=a1\r\n\
t: <sip:+12155550131@carrier.example>\r\n\
i: call-7@pbx.example\r\n\
CSeq: 314 CANCEL\r\n\
Content-Length: 0\r\n\r\n"
        );
        let cancel = Message::parse(&out).unwrap();
        assert_eq!(cancel.method(), Some(crate::sip::Method::Cancel));
        assert_eq!(cancel.vias().count(), 1);
    }
}
