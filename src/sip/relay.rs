//! The byte work of relaying a message through a proxy: stamping the sender's Via with
//! where the request really came from (RFC 3261 18.2.1, RFC 3581 section 4), and taking
//! the proxy's own Via off a response for the previous hop (RFC 3261 16.7 item 9). When to
//! do either, and whether to change a response's status, the proxy decides.

use std::net::SocketAddr;

use super::edit::Edits;
use super::error::ParseError;
use super::framing::Framing;
use super::grammar::split_list;
use super::header::HeaderName;
use super::message::Message;

/// Edits the top Via of a received request as [`Via::stamped`](super::Via::stamped)
/// says. When the top Via shares its line with others, it moves to a line of its own
/// above them; the others stay as written. An error is the reason to refuse the request.
pub fn stamp_top_via(
    msg: &Message<'_>,
    src: SocketAddr,
    edits: &mut Edits,
) -> Result<(), ParseError> {
    let via = msg.top_via()?;
    let Some(stamped) = via.stamped(src) else {
        return Ok(());
    };
    let line = msg
        .find_lines(HeaderName::Via)
        .next()
        .ok_or(ParseError::MissingVia)?;
    let shared = msg
        .headers()
        .get(line)
        .is_some_and(|h| split_list(msg.value_of(h)).nth(1).is_some());
    if shared {
        edits.prepend(HeaderName::Via, stamped);
        edits.remove_first_value(line);
    } else {
        edits.replace_value(line, stamped);
    }
    Ok(())
}

/// A response as relayed to the previous hop: its top Via (the relaying proxy's own)
/// removed, framed for the transport it goes onto, with its status line replaced by
/// `status` when one is given, and the header lines `add` after its own (which stay as
/// they are).
pub fn pop_via(
    resp: &Message<'_>,
    framing: Framing,
    status: Option<(u16, &str)>,
    add: &[(HeaderName, &str)],
) -> Vec<u8> {
    let mut edits = Edits::new();
    if let Some(line) = resp.find_lines(HeaderName::Via).next() {
        edits.remove_first_value(line);
    }
    for (name, value) in add {
        edits.append(*name, *value);
    }
    edits.frame_for(resp, framing);
    if let Some((code, reason)) = status {
        edits.replace_status(code, reason);
    }
    let mut out = Vec::with_capacity(resp.buf().len() + 24);
    edits.apply(resp, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:+12155550131@carrier.example SIP/2.0\r\n\
Via: SIP/2.0/UDP pbx.example;rport;branch=z9hG4bKpbx\r\n\
Max-Forwards: 70\r\n\
From: <sip:+12155550121@pbx.example>;tag=a1\r\n\
To: <sip:+12155550131@carrier.example>\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    fn stamped(text: &str, src: &str) -> Result<String, ParseError> {
        let msg = Message::parse(text.as_bytes()).unwrap();
        let mut edits = Edits::new();
        stamp_top_via(&msg, src.parse().unwrap(), &mut edits)?;
        let mut out = Vec::new();
        edits.apply(&msg, &mut out);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_single_via_line_is_rewritten_in_place() {
        let out = stamped(INVITE, "192.0.2.10:40000").unwrap();
        assert_eq!(
            out,
            INVITE.replace(
                "Via: SIP/2.0/UDP pbx.example;rport;branch=z9hG4bKpbx",
                "Via: SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx;rport=40000;received=192.0.2.10"
            )
        );
    }

    #[test]
    fn a_top_via_sharing_its_line_moves_to_its_own() {
        let text = INVITE.replace(
            "Via: SIP/2.0/UDP pbx.example;rport;branch=z9hG4bKpbx",
            "v: SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx ,SIP/2.0/TCP inner;branch=z9hG4bKin",
        );
        let out = stamped(&text, "192.0.2.10:5060").unwrap();
        assert!(
            out.contains(
                "SIP/2.0\r\nVia: SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx;received=192.0.2.10\r\n\
                 v: SIP/2.0/TCP inner;branch=z9hG4bKin\r\nMax-Forwards"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_via_naming_its_source_is_untouched_and_a_bad_one_is_an_error() {
        let text = INVITE.replace("pbx.example;rport;", "192.0.2.10:5062;");
        assert_eq!(stamped(&text, "192.0.2.10:5062").unwrap(), text);
        // A request with a broken Via does not parse at all now; the stamp still refuses
        // one on a message that got past parsing (a response).
        let text = INVITE.replace("SIP/2.0/UDP pbx.example", "SIP/2.0/UDP [::1");
        assert_eq!(
            Message::parse(text.as_bytes()).err(),
            Some(ParseError::MalformedVia)
        );
        let response = text.replacen(
            "INVITE sip:+12155550131@carrier.example SIP/2.0",
            "SIP/2.0 200 OK",
            1,
        );
        assert_eq!(
            stamped(&response, "192.0.2.10:5062"),
            Err(ParseError::MalformedVia)
        );
    }

    const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKcs1, SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\n";

    fn popped(text: &str, framing: Framing, status: Option<(u16, &str)>) -> String {
        let msg = Message::parse(text.as_bytes()).unwrap();
        String::from_utf8(pop_via(&msg, framing, status, &[])).unwrap()
    }

    #[test]
    fn pop_via_removes_only_the_top_value() {
        assert_eq!(
            popped(OK, Framing::Datagram, None),
            "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\n"
        );
    }

    #[test]
    fn pop_via_frames_for_a_stream_and_replaces_the_status() {
        let out = popped(OK, Framing::Stream, Some((500, "Server Internal Error")));
        assert_eq!(
            out,
            "SIP/2.0 500 Server Internal Error\r\n\
Via: SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nv=0\r\n"
        );
    }

    #[test]
    fn pop_via_adds_lines_after_the_responses_own() {
        let text = OK.replace(
            "CSeq: 1 INVITE\r\n",
            "CSeq: 1 INVITE\r\nReason: Q.850;cause=16\r\n",
        );
        let msg = Message::parse(text.as_bytes()).unwrap();
        let add = [(
            HeaderName::Reason,
            "STIR;cause=438;text=\"Invalid Identity Header\"",
        )];
        let out = String::from_utf8(pop_via(&msg, Framing::Datagram, None, &add)).unwrap();
        assert_eq!(
            out,
            "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP pbx.example;branch=z9hG4bKpbx\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\nReason: Q.850;cause=16\r\n\
Reason: STIR;cause=438;text=\"Invalid Identity Header\"\r\n\r\nv=0\r\n"
        );
    }
}
