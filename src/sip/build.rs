//! Messages the proxy writes itself: stateless responses (RFC 3261 8.2.6, 16.7), the ACK
//! for a non-2xx final response (17.1.1.3) and CANCEL (9.1). Header lines taken from the
//! original message are copied as written, with CRLF line endings.

use std::io::Write;

use super::HeaderName;
use super::grammar::split_list;
use super::message::{HeaderLine, Message};

/// Writes a response to `req`: every Via line in order, From, To (with `;tag=<to_tag>`
/// added when the request's To has none, `status > 100` and `to_tag` is given), Call-ID
/// and CSeq, then `extra` in order, then `Content-Length: 0`.
pub fn build_response(
    req: &Message,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(&str, &str)],
    out: &mut Vec<u8>,
) {
    out.reserve(req.buf().len().min(1024) + 64);
    // Writing to a Vec cannot fail.
    let _ = write!(out, "SIP/2.0 {status} {reason}\r\n");
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
    for (name, value) in extra {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
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
    let _ = write!(out, "{method} {uri} SIP/2.0\r\n");
    let top_via =
        first(invite, HeaderName::Via).and_then(|line| split_list(invite.value_of(line)).next());
    if let Some(via) = top_via {
        let _ = write!(out, "Via: {via}\r\n");
    }
    for line in invite
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::Route)
    {
        copy_line(out, invite, line);
    }
    out.extend_from_slice(b"Max-Forwards: 70\r\n");
    copy_first(out, invite, HeaderName::From);
    match to {
        Some((msg, line)) => copy_line(out, msg, line),
        None => copy_first(out, invite, HeaderName::To),
    }
    copy_first(out, invite, HeaderName::CallId);
    let _ = write!(out, "CSeq: {} {method}\r\n", invite.cseq().0);
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
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
    let bytes = msg.buf().get(line.line_range()).unwrap_or_default();
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
            &[("Warning", "399 callsign \"unknown trunk\"")],
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
Warning: 399 callsign \"unknown trunk\"\r\n\
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
