use super::*;
use crate::sip::{Edits, Rport, frame};

const INVITE: &str = "INVITE sip:+12155550131@carrier.example;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:+12155550121@pbx.example;user=phone>;tag=9fxced76sl\r\n\
To: <sip:+12155550131@carrier.example;user=phone>\r\n\
Call-ID: 3848276298220188511@pbx.example\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5060>\r\n\
P-Asserted-Identity: <sip:+12155550121@pbx.example;user=phone>\r\n\
X-Account: acme\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 8\r\n\
\r\n\
v=0\r\nx\r\n";

fn parse(text: &str) -> Result<Message<'_>, ParseError> {
    Message::parse(text.as_bytes())
}

#[test]
fn parses_a_typical_invite() {
    let m = parse(INVITE).unwrap();
    assert!(m.is_request());
    assert_eq!(m.method(), Some(Method::Invite));
    assert_eq!(m.method_str(), Some("INVITE"));
    assert_eq!(
        m.request_uri(),
        Some("sip:+12155550131@carrier.example;user=phone")
    );
    assert_eq!(
        m.start_line(),
        "INVITE sip:+12155550131@carrier.example;user=phone SIP/2.0"
    );
    assert_eq!((m.status(), m.reason()), (None, None));
    assert_eq!(m.call_id(), "3848276298220188511@pbx.example");
    assert_eq!(m.cseq(), (1, Method::Invite));
    assert_eq!(m.cseq_method_str(), "INVITE");
    assert_eq!(m.max_forwards(), Ok(Some(MaxForwards(70))));
    assert_eq!(m.from().unwrap().tag(), Some("9fxced76sl"));
    assert_eq!(m.from().unwrap().display, Some("Alice"));
    assert_eq!(
        m.to().unwrap().uri,
        "sip:+12155550131@carrier.example;user=phone"
    );
    assert_eq!(m.to_tag(), None);
    assert_eq!(
        m.header(HeaderName::PAssertedIdentity),
        Some("<sip:+12155550121@pbx.example;user=phone>")
    );
    assert_eq!(m.header(HeaderName::Identity), None);
    assert_eq!(m.body(), b"v=0\r\nx\r\n");
    assert_eq!(m.buf(), INVITE.as_bytes());
    assert_eq!(m.headers().len(), 11);
    let via = m.top_via().unwrap();
    assert_eq!(
        (via.host, via.port, via.rport),
        ("192.0.2.10", Some(5060), Rport::Requested)
    );
}

#[test]
fn header_lines_expose_ranges_names_and_values() {
    let m = parse(INVITE).unwrap();
    let x = m
        .headers()
        .iter()
        .find(|h| h.name == HeaderName::Other)
        .unwrap();
    assert_eq!(x.name_str(m.buf()), "X-Account");
    assert_eq!(x.value(m.buf()), "acme");
    assert_eq!(m.name_of(x), "X-Account");
    assert_eq!(m.value_of(x), "acme");
    assert_eq!(&m.buf()[x.line_range()], b"X-Account: acme\r\n");
    assert_eq!(&m.buf()[x.value_range()], b"acme");
    assert_eq!(m.find_lines(HeaderName::CSeq).collect::<Vec<_>>(), [5]);
}

#[test]
fn compact_forms_and_any_case_are_recognised() {
    let msg = "BYE sip:b@carrier.example SIP/2.0\r\n\
v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
f: <sip:a@pbx.example>;tag=1\r\n\
t: <sip:b@carrier.example>;tag=2\r\n\
i: bye-1\r\n\
cseq: 2 BYE\r\n\
MAX-FORWARDS: 10\r\n\
m: <sip:a@h>\r\n\
c: text/plain\r\n\
k: 100rel\r\n\
l: 2\r\n\r\nhi";
    let m = parse(msg).unwrap();
    assert_eq!(m.call_id(), "bye-1");
    assert_eq!(m.cseq(), (2, Method::Bye));
    assert_eq!(m.to_tag(), Some("2"));
    assert_eq!(m.max_forwards(), Ok(Some(MaxForwards(10))));
    assert_eq!(m.header(HeaderName::Contact), Some("<sip:a@h>"));
    assert_eq!(m.header(HeaderName::ContentType), Some("text/plain"));
    assert_eq!(m.header(HeaderName::Supported), Some("100rel"));
    assert_eq!(m.body(), b"hi");
    assert_eq!(m.top_via().unwrap().branch, Some("z9hG4bK1"));
}

#[test]
fn folded_header_lines_are_joined() {
    let msg = "OPTIONS sip:carrier.example SIP/2.0\r\n\
Via: SIP/2.0/UDP h;branch=z9hG4bK1,\r\n SIP/2.0/TCP g;branch=z9hG4bK2\r\n\
From: \"Folded\r\n\tName\" <sip:a@pbx.example>\r\n \
;tag=f1\r\n\
To: <sip:carrier.example>\r\n\
Call-ID: fold-1\r\n\
CSeq:\r\n 7\r\n OPTIONS\r\n\
Content-Length: 0\r\n\r\n";
    let m = parse(msg).unwrap();
    assert_eq!(m.cseq(), (7, Method::Options));
    assert_eq!(m.from().unwrap().tag(), Some("f1"));
    let branches: Vec<_> = m.vias().map(|v| v.unwrap().branch.unwrap()).collect();
    assert_eq!(branches, ["z9hG4bK1", "z9hG4bK2"]);
    assert_eq!(m.headers().len(), 6);
}

#[test]
fn vias_split_comma_joined_values_across_lines_top_first() {
    let msg = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKa, SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKb\r\n\
X-Between: x\r\n\
v: SIP/2.0/TLS pbx.example;branch=z9hG4bKc;received=198.51.100.4;rport=33333\r\n\
Via: SIP/2.0/UDP last;branch=z9hG4bKd\r\n\
Call-ID: r1\r\n\
CSeq: 1 INVITE\r\n\r\n";
    let m = parse(msg).unwrap();
    assert_eq!((m.status(), m.reason()), (Some(200), Some("OK")));
    let vias: Vec<_> = m.vias().collect::<Result<_, _>>().unwrap();
    assert_eq!(vias.len(), 4);
    assert_eq!(vias[0].host, "proxy.example");
    assert_eq!(
        (vias[1].transport, vias[1].host, vias[1].port),
        ("TCP", "2001:db8::1", Some(5070))
    );
    assert_eq!(vias[2].received, Some("198.51.100.4"));
    assert_eq!(vias[2].rport, Rport::Value(33333));
    assert_eq!(vias[3].branch, Some("z9hG4bKd"));
    assert_eq!(m.top_via().unwrap(), vias[0]);
    assert_eq!(m.header_values(HeaderName::Via).count(), 3);
    assert_eq!(m.find_lines(HeaderName::Via).collect::<Vec<_>>(), [0, 2, 3]);
}

#[test]
fn bad_via_values_are_reported_lazily() {
    let msg = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=1, junk\r\nVia:\r\nCall-ID: r\r\nCSeq: 1 BYE\r\n\r\n";
    let m = parse(msg).unwrap();
    let vias: Vec<_> = m.vias().collect();
    assert!(vias[0].is_ok());
    assert_eq!(
        vias[1..],
        [Err(ParseError::MalformedVia), Err(ParseError::MalformedVia)]
    );
    let bad_top = "SIP/2.0 200 OK\r\nVia: ,\r\nCall-ID: r\r\nCSeq: 1 BYE\r\n\r\n";
    assert_eq!(
        parse(bad_top).unwrap().top_via(),
        Err(ParseError::MalformedVia)
    );
}

#[test]
fn udp_body_rules_follow_content_length() {
    let base = INVITE.replace("Content-Length: 8\r\n", "");
    // No Content-Length: the body is the rest of the datagram.
    assert_eq!(parse(&base).unwrap().body(), b"v=0\r\nx\r\n");
    // Extra bytes beyond Content-Length are dropped from buf() and body().
    let long = format!("{INVITE}trailing junk");
    let m = parse(&long).unwrap();
    assert_eq!(m.body(), b"v=0\r\nx\r\n");
    assert_eq!(m.buf(), INVITE.as_bytes());
    // Zero length with bytes after it.
    let zero = INVITE.replace("Content-Length: 8", "Content-Length: 0");
    assert_eq!(parse(&zero).unwrap().body(), b"");
}

#[test]
fn leading_crlfs_and_bare_lf_are_tolerated() {
    let lf = INVITE
        .replace("\r\n", "\n")
        .replace("Content-Length: 8", "Content-Length: 6");
    let padded = format!("\r\n\r\n{lf}");
    let m = parse(&padded).unwrap();
    assert_eq!(m.buf(), lf.as_bytes());
    assert_eq!(m.call_id(), "3848276298220188511@pbx.example");
    assert_eq!(m.body(), b"v=0\nx\n");
}

#[test]
fn binary_bodies_are_opaque() {
    let mut msg = INVITE
        .replace("Content-Length: 8", "Content-Length: 4")
        .into_bytes();
    let body_at = msg.len() - 8;
    msg.truncate(body_at);
    msg.extend_from_slice(&[0xff, 0x00, 0xfe, 0x0a]);
    assert_eq!(
        Message::parse(&msg).unwrap().body(),
        [0xff, 0x00, 0xfe, 0x0a]
    );
}

#[test]
fn responses_need_only_via_call_id_and_cseq() {
    let m = parse("SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 9 INVITE\r\n\r\n").unwrap();
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.method(), None);
    assert_eq!(m.cseq(), (9, Method::Invite));
    assert_eq!(m.from(), Err(ParseError::MissingFrom));
    assert_eq!(m.to(), Err(ParseError::MissingTo));
    let no_reason =
        parse("SIP/2.0 183\r\nVia: SIP/2.0/UDP a\r\nCall-ID: x\r\nCSeq: 9 INVITE\r\n\r\n").unwrap();
    assert_eq!(
        (no_reason.status(), no_reason.reason()),
        (Some(183), Some(""))
    );
}

#[test]
fn unknown_methods_are_other_but_kept_as_strings() {
    let msg = INVITE.replace("INVITE", "FOO");
    let m = parse(&msg).unwrap();
    assert_eq!(m.method(), Some(Method::Other));
    assert_eq!(m.method_str(), Some("FOO"));
    assert_eq!(m.cseq(), (1, Method::Other));
}

#[test]
fn lazy_accessors_report_their_own_errors() {
    // A response: in a request these are refused by `parse` itself.
    let msg = INVITE
        .replacen(
            "INVITE sip:+12155550131@carrier.example;user=phone SIP/2.0",
            "SIP/2.0 180 Ringing",
            1,
        )
        .replace("Max-Forwards: 70", "Max-Forwards: seventy")
        .replace("From: \"Alice\" <", "From: \"Alice <")
        .replace(
            "To: <sip:+12155550131@carrier.example;user=phone>",
            "To: nobody",
        );
    let m = parse(&msg).unwrap();
    assert_eq!(m.max_forwards(), Err(ParseError::BadMaxForwards));
    assert_eq!(m.from(), Err(ParseError::MalformedFrom));
    assert_eq!(m.to(), Err(ParseError::MalformedTo));
    assert_eq!(m.to_tag(), None);
    let none = INVITE.replace("Max-Forwards: 70\r\n", "");
    assert_eq!(parse(&none).unwrap().max_forwards(), Ok(None));
}

/// One malformed input per error variant that `parse` can return.
#[test]
fn every_parse_error_variant_is_reachable() {
    let r = |from: &str, to: &str| INVITE.replacen(from, to, 1);
    let cases: Vec<(String, ParseError)> = vec![
        ("\r\n\r\n".into(), ParseError::Empty),
        (
            r("INVITE sip", "INVITE  sip"),
            ParseError::MalformedRequestLine,
        ),
        (r("SIP/2.0\r\n", "\r\n"), ParseError::MalformedRequestLine),
        (
            r("INVITE sip:", "INV@ITE sip:"),
            ParseError::MalformedRequestLine,
        ),
        (
            r(
                "sip:+12155550131@carrier.example;user=phone SIP",
                "carrier SIP",
            ),
            ParseError::MalformedRequestLine,
        ),
        (
            r("SIP/2.0\r\n", "HTTP/1.1\r\n"),
            ParseError::MalformedRequestLine,
        ),
        (
            r("SIP/2.0\r\n", "SIP/3.0\r\n"),
            ParseError::UnsupportedVersion,
        ),
        (
            "SIP/2.0 2000 OK\r\n\r\n".into(),
            ParseError::MalformedStatusLine,
        ),
        (
            "SIP/2.0 099 Low\r\n\r\n".into(),
            ParseError::MalformedStatusLine,
        ),
        ("SIP/2.0\r\n\r\n".into(), ParseError::MalformedStatusLine),
        (
            "SIP/1.0 200 OK\r\n\r\n".into(),
            ParseError::UnsupportedVersion,
        ),
        (
            r("X-Account: acme", "X-Account acme"),
            ParseError::MalformedHeader,
        ),
        (
            r("SIP/2.0\r\nVia", "SIP/2.0\r\n\tVia"),
            ParseError::MalformedHeader,
        ),
        (
            INVITE.split("\r\n\r\n").next().unwrap().to_string(),
            ParseError::MissingBlankLine,
        ),
        (
            "INVITE sip:a@b SIP/2.0".into(),
            ParseError::MissingBlankLine,
        ),
        (
            r(
                "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport\r\n",
                "",
            ),
            ParseError::MissingVia,
        ),
        (r("From", "X-From"), ParseError::MissingFrom),
        (r("To:", "X-To:"), ParseError::MissingTo),
        (r("Call-ID", "Call-Id-X"), ParseError::MissingCallId),
        (r("CSeq: 1 INVITE\r\n", ""), ParseError::MissingCSeq),
        (
            r("3848276298220188511@pbx.example", ""),
            ParseError::BadCallId,
        ),
        (
            r("3848276298220188511@pbx.example", "a b"),
            ParseError::BadCallId,
        ),
        (r("CSeq: 1 INVITE", "CSeq: INVITE"), ParseError::BadCSeq),
        (r("CSeq: 1 INVITE", "CSeq: 1INVITE"), ParseError::BadCSeq),
        (r("CSeq: 1 INVITE", "CSeq: 1 "), ParseError::BadCSeq),
        (
            r("CSeq: 1 INVITE", "CSeq: 2147483648 INVITE"),
            ParseError::BadCSeq,
        ),
        (
            r("CSeq: 1 INVITE", "CSeq: 1 INVITE junk"),
            ParseError::BadCSeq,
        ),
        (
            r("CSeq: 1 INVITE", "CSeq: 1 BYE"),
            ParseError::CSeqMethodMismatch,
        ),
        (
            r("CSeq: 1 INVITE", "CSeq: 1 invite"),
            ParseError::CSeqMethodMismatch,
        ),
        (
            r("Content-Length: 8", "Content-Length: eight"),
            ParseError::BadContentLength,
        ),
        (
            r("Content-Length: 8", "Content-Length: -8"),
            ParseError::BadContentLength,
        ),
        (
            r("Content-Length: 8", "Content-Length: 8\r\nl: 9"),
            ParseError::Duplicate("Duplicate Content-Length"),
        ),
        // RFC 4475 `badinv01` (empty Via and Contact parameters), `quotbal`
        // (unterminated quote) and `baddn` (unquoted display name with a comma).
        (
            r("branch=z9hG4bK74bf9;rport", "branch=z9hG4bK74bf9;;rport"),
            ParseError::MalformedVia,
        ),
        (
            r(
                "Contact: <sip:alice@192.0.2.10:5060>",
                "Contact: \"Joe\" <sip:joe@example.org>;;;;",
            ),
            ParseError::MalformedContact,
        ),
        (
            r("To: <sip:", "To: \"Mr. J. User <sip:"),
            ParseError::MalformedTo,
        ),
        (
            r("From: \"Alice\" <", "From: Bell, Alexander <"),
            ParseError::MalformedFrom,
        ),
        (r(";tag=9fxced76sl", ";tag="), ParseError::MalformedFrom),
        // RFC 4475 3.1.2.7 `ltgtruri` and 3.1.2.10 `escruri`.
        (
            INVITE.replacen("INVITE sip:", "INVITE <sip:", 1).replacen(
                "user=phone SIP/2.0",
                "user=phone> SIP/2.0",
                1,
            ),
            ParseError::BadRequestUri,
        ),
        (
            INVITE.replacen(
                "user=phone SIP/2.0",
                "user=phone?Route=%3Csip:example.com%3E SIP/2.0",
                1,
            ),
            ParseError::BadRequestUri,
        ),
        (r("INVITE sip:", "INVITE 1sip:"), ParseError::BadRequestUri),
        (
            r("CSeq: 1 INVITE", "CSeq: 1 INVITE\r\nCSeq: 2 INVITE"),
            ParseError::Duplicate("Duplicate CSeq"),
        ),
        (
            r("To:", "P-Asserted-Identity: <mailto:a@b>\r\nTo:"),
            ParseError::MalformedAssertedIdentity,
        ),
        (
            r("To:", "P-Asserted-Identity: <tel:+1>, <tel:+2>\r\nTo:"),
            ParseError::AmbiguousAssertedIdentity,
        ),
        (
            r("Content-Length: 8", "Content-Length: 9"),
            ParseError::TruncatedBody,
        ),
        (
            r("Content-Length: 8", "Content-Length: 999999999"),
            ParseError::TruncatedBody,
        ),
    ];
    for (msg, expected) in &cases {
        assert_eq!(parse(msg).err(), Some(*expected), "{msg:?}");
    }

    // Not UTF-8, in the start line and in a header (bodies may be anything).
    let mut bad = INVITE.as_bytes().to_vec();
    bad[1] = 0xff;
    assert_eq!(Message::parse(&bad).err(), Some(ParseError::NotUtf8));
    let mut bad = INVITE.as_bytes().to_vec();
    let at = INVITE.find("acme").unwrap();
    bad[at] = 0xc3;
    assert_eq!(Message::parse(&bad).err(), Some(ParseError::NotUtf8));

    // Variants raised by the lazy accessors are covered by `lazy_accessors_report_their_own_errors`,
    // `bad_via_values_are_reported_lazily` and the name_addr/via tests.
}

#[test]
fn repeated_content_lengths_are_refused_in_requests_and_must_agree_in_responses() {
    let request = INVITE.replacen("Content-Length: 8", "Content-Length: 8\r\nl: 8", 1);
    assert_eq!(
        parse(&request).err(),
        Some(ParseError::Duplicate("Duplicate Content-Length"))
    );
    let response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 2\r\nl: 2\r\n\r\nab";
    assert_eq!(parse(response).unwrap().body(), b"ab");
    let disagreeing = response.replace("l: 2", "l: 3");
    assert_eq!(
        parse(&disagreeing).err(),
        Some(ParseError::BadContentLength)
    );
}

/// Every prefix, and many single-byte mutations, of valid messages must parse or fail
/// cleanly, and every accessor, edit and framing call on the result must not panic.
#[test]
fn never_panics_on_prefixes_or_mutations() {
    let folded = "SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP [::1]:5;rport=1;received=x, SIP/2.0/TCP b\r\n \
;branch=\"q,;\"\r\nt: \"a\\\"b\" <sip:x>;tag=\"t\r\n\"\r\nf: sip:y;tag=1\r\ni: c\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
    let inputs = [INVITE.as_bytes(), folded.as_bytes()];
    let replacements = [
        b'\r', b'\n', b' ', b'\t', b':', b';', b',', b'"', b'<', b'>', b'[', b']', b'/', b'=',
        b'0', 0xff,
    ];
    let mut checked = 0;
    for input in inputs {
        for end in 0..=input.len() {
            exercise(&input[..end]);
            checked += 1;
        }
        for at in 0..input.len() {
            for &byte in &replacements {
                let mut mutated = input.to_vec();
                mutated[at] = byte;
                exercise(&mutated);
                mutated.remove(at);
                exercise(&mutated);
                checked += 2;
            }
        }
    }
    assert!(checked > 10_000);
}

fn exercise(bytes: &[u8]) {
    let _ = frame(bytes, 4096);
    let Ok(m) = Message::parse(bytes) else { return };
    let _ = (
        m.method(),
        m.request_uri(),
        m.status(),
        m.reason(),
        m.call_id(),
        m.cseq(),
    );
    let _ = (
        m.max_forwards(),
        m.from(),
        m.to(),
        m.to_tag(),
        m.body(),
        m.top_via(),
        m.start_line(),
    );
    for via in m.vias() {
        let _ = via.map(|v| v.param("branch"));
    }
    for h in m.headers() {
        let _ = (h.name_str(m.buf()), h.value(m.buf()), m.value_of(h));
        let _ = NameAddr::parse(m.value_of(h)).map(|n| n.tag());
    }
    let mut edits = Edits::new();
    edits.prepend(HeaderName::Via, "SIP/2.0/UDP p;branch=z9hG4bKx");
    for i in 0..m.headers().len() {
        match i % 3 {
            0 => edits.remove_first_value(i),
            1 => edits.replace_value(i, "v"),
            _ => edits.remove(i),
        }
    }
    let mut out = Vec::new();
    edits.apply(&m, &mut out);
    let mut built = Vec::new();
    crate::sip::build_response(&m, 400, "Bad", Some("t"), &[], &mut built);
    crate::sip::build_cancel(&m, &mut built);
    crate::sip::build_ack(&m, &m, &mut built);
}
