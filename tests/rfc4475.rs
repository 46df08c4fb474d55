//! The parser tests of RFC 4475 section 3.1, sent from a customer trunk over UDP and
//! over TCP. The valid messages of 3.1.1 reach the carrier with their odd but legal
//! syntax intact; the invalid ones of 3.1.2 get their status and nothing goes upstream;
//! responses that match no transaction of ours are dropped. The messages are in
//! `tests/data/rfc4475/`, in the RFC's own notation.

mod common;

use std::net::SocketAddr;

use callsign::sip::Message;
use common::rfc4475::{decode, message};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// What callsign does with a message.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Sent to the carrier with its syntax intact.
    Forwarded,
    /// Answered with this status and reason; nothing goes upstream.
    Refused(u16, &'static str),
    /// A response matching no transaction of ours: dropped, counted, unanswered.
    Dropped,
}
use Outcome::*;

struct Case {
    name: &'static str,
    section: &'static str,
    outcome: Outcome,
}

const fn case(name: &'static str, section: &'static str, outcome: Outcome) -> Case {
    Case {
        name,
        section,
        outcome,
    }
}

const CASES: &[Case] = &[
    // 3.1.1, valid messages.
    //
    // `wsinv` carries a To tag: it is a request inside a dialog that was not set up
    // through callsign, and a trunk may not send those past our Record-Route (routing
    // policy, not syntax: it parses, see below).
    case(
        "wsinv",
        "3.1.1.1",
        Refused(403, "Not In A Dialog Through This Proxy"),
    ),
    case("intmeth", "3.1.1.2", Forwarded),
    case("esc01", "3.1.1.3", Forwarded),
    case("escnull", "3.1.1.4", Forwarded),
    case("esc02", "3.1.1.5", Forwarded),
    case("lwsdisp", "3.1.1.6", Forwarded),
    case("longreq", "3.1.1.7", Forwarded),
    case("dblreq", "3.1.1.8", Forwarded),
    case("semiuri", "3.1.1.9", Forwarded),
    case("transports", "3.1.1.10", Forwarded),
    case("mpart01", "3.1.1.11", Forwarded),
    case("unreason", "3.1.1.12", Dropped),
    case("noreason", "3.1.1.13", Dropped),
    // 3.1.2, invalid messages.
    case("badinv01", "3.1.2.1", Refused(400, "Malformed Via")),
    case("clerr", "3.1.2.2", Refused(400, "Truncated Body")),
    case("ncl", "3.1.2.3", Refused(400, "Bad Content-Length")),
    case("scalar02", "3.1.2.4", Refused(400, "Bad CSeq")),
    case("scalarlg", "3.1.2.5", Dropped),
    case("quotbal", "3.1.2.6", Refused(400, "Malformed To")),
    case("ltgtruri", "3.1.2.7", Refused(400, "Bad Request-URI")),
    case("lwsruri", "3.1.2.8", Refused(400, "Malformed Request Line")),
    case(
        "lwsstart",
        "3.1.2.9",
        Refused(400, "Malformed Request Line"),
    ),
    case("trws", "3.1.2.10", Refused(400, "Malformed Request Line")),
    case("escruri", "3.1.2.11", Refused(400, "Bad Request-URI")),
    // An unknown time zone in Date: a proxy passes the header on (RFC 4475 3.1.2.12).
    case("baddate", "3.1.2.12", Forwarded),
    case("regbadct", "3.1.2.13", Refused(400, "Malformed Contact")),
    case("badaspec", "3.1.2.14", Refused(400, "Malformed To")),
    case("baddn", "3.1.2.15", Refused(400, "Malformed From")),
    case("badvers", "3.1.2.16", Refused(505, "Version Not Supported")),
    case(
        "mismatch01",
        "3.1.2.17",
        Refused(400, "CSeq Method Mismatch"),
    ),
    case(
        "mismatch02",
        "3.1.2.18",
        Refused(400, "CSeq Method Mismatch"),
    ),
    case("bigcode", "3.1.2.19", Dropped),
];

#[test]
fn the_set_is_sections_3_1_1_and_3_1_2_whole() {
    let files: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc4475"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|f| f.strip_suffix(".txt").map(str::to_owned))
            .collect();
    assert_eq!(files.len(), CASES.len(), "{files:?}");
    for (i, c) in CASES.iter().enumerate() {
        assert!(files.iter().any(|f| f == c.name), "{} has no file", c.name);
        let (part, n) = c.section.rsplit_once('.').unwrap();
        let first_of_part = CASES
            .iter()
            .position(|d| d.section.starts_with(part))
            .unwrap();
        assert_eq!(
            n.parse::<usize>().unwrap(),
            i - first_of_part + 1,
            "{}",
            c.name
        );
    }
}

#[test]
fn the_rfc_notation_decodes() {
    let text =
        "A <b>\n<allOneLine>\nx<hex>0D\n0A</hex>y\n</allOneLine>\n<repeat count=3>ab</repeat>\n";
    assert_eq!(decode(text), b"A <b>\r\nx\r\ny\r\nababab\r\n");
    let long = message("longreq");
    assert!(
        long.windows(70)
            .any(|w| w == "extreme".repeat(10).as_bytes())
    );
    assert!(!contains(&long, b"<repeat"));
}

/// What the parser makes of the valid messages, field by field where the RFC calls out
/// something odd.
#[test]
fn valid_messages_parse_with_their_odd_fields_read_right() {
    let wsinv = message("wsinv");
    let m = Message::parse(&wsinv).unwrap();
    assert_eq!(m.to_tag(), Some("1918181833n"));
    assert_eq!(m.from().unwrap().tag(), Some("98asjd8"));
    assert_eq!(
        m.max_forwards()
            .unwrap()
            .map(|mf| mf.to_string())
            .as_deref(),
        Some("68")
    );
    assert_eq!(m.cseq().0, 9);
    let vias: Vec<_> = m.vias().map(|v| v.unwrap().host.to_owned()).collect();
    assert_eq!(
        vias,
        ["192.0.2.2", "spindle.example.com", "192.168.255.111"]
    );
    assert_eq!(m.body().len(), 150);

    let intmeth = message("intmeth");
    let m = Message::parse(&intmeth).unwrap();
    assert_eq!(
        m.method_str(),
        Some("!interesting-Method0123456789_*+`.%indeed'~")
    );
    assert_eq!(m.cseq_method_str(), m.method_str().unwrap());

    for (name, status, reason) in [
        (
            "unreason",
            200,
            "= 2**3 * 5**2 но сто девяносто девять - простое",
        ),
        ("noreason", 100, ""),
    ] {
        let bytes = message(name);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(
            (m.status(), m.reason()),
            (Some(status), Some(reason)),
            "{name}"
        );
    }
}

/// Sends each message from the trunk, then a well-formed call as a marker: whatever the
/// message caused reaches the UAC and the UAS before the marker's own traffic does.
#[tokio::test]
async fn each_message_gets_its_outcome_over_udp() {
    let h = TestServer::new().start().await;
    let uac = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = uac.local_addr().unwrap();
    for c in CASES {
        let bytes = message(c.name);
        let before = rejected_total(&h).await;
        uac.send_to(&bytes, h.udp).await.unwrap();
        let marker = format!("marker-udp-{}", c.name);
        uac.send_to(call(local, "UDP", &marker).as_bytes(), h.udp)
            .await
            .unwrap();
        let answers = until_marker(&marker, Source::Udp(&uac)).await;
        let upstream = until_marker(&marker, Source::Udp(h.uas_udp())).await;
        // A request that parses is answered where its Via says (RFC 3261 18.2.2: here a
        // port we do not hold); one that does not, at its source.
        let parses = Message::parse(&bytes).is_ok();
        judge(c, &bytes, &upstream, &answers, !parses);
        if parses && matches!(c.outcome, Refused(..)) {
            assert_eq!(rejected_total(&h).await, before + 1, "{}", c.name);
        }
        if c.name == "dblreq" {
            // Over UDP, what follows the first message's body is not a message.
            let second = b"dblreq.0ha0isnda977644900765@192.0.2.15";
            assert!(
                !upstream.iter().any(|m| contains(m, second)),
                "the trailing INVITE went on"
            );
        }
    }
    h.assert_metric("callsign_parse_errors_total{cause=\"response_not_ours\"} 2")
        .await;
    h.assert_metric("callsign_parse_errors_total{cause=\"response\"} 2")
        .await;
}

/// The same over TCP, one connection per message, where every answer comes back on the
/// connection.
#[tokio::test]
async fn each_message_gets_its_outcome_over_tcp() {
    let h = TestServer::new().start().await;
    for c in CASES {
        let bytes = message(c.name);
        let mut conn = TcpStream::connect(h.tcp).await.unwrap();
        let local = conn.local_addr().unwrap();
        conn.write_all(&bytes).await.unwrap();
        if ["clerr", "dblreq"].contains(&c.name) {
            // Over a stream, a Content-Length past the end means more is coming: `clerr`
            // is incomplete until the peer closes, and then it is discarded. `dblreq`
            // is two messages on a stream, and the five octets the second one's
            // Content-Length leaves over do not start a third: the connection ends.
            conn.shutdown().await.unwrap();
            let mut rest = Vec::new();
            let read = tokio::time::timeout(WAIT, conn.read_to_end(&mut rest)).await;
            assert!(
                matches!(read, Ok(Ok(_))),
                "{}: the connection stays open",
                c.name
            );
            let marker = format!("marker-tcp-{}", c.name);
            let mut probe = TcpStream::connect(h.tcp).await.unwrap();
            let at = probe.local_addr().unwrap();
            probe
                .write_all(call(at, "TCP", &marker).as_bytes())
                .await
                .unwrap();
            let upstream = until_marker(&marker, Source::Udp(h.uas_udp())).await;
            let forwarded = with_call_id(&upstream, &bytes);
            if c.name == "clerr" {
                assert!(rest.is_empty(), "clerr was answered: {rest:?}");
                assert!(forwarded.is_empty(), "clerr went upstream");
            } else {
                assert_intact(c, &bytes, forwarded.first().copied());
                let second = b"dblreq.0ha0isnda977644900765@192.0.2.15";
                assert!(
                    upstream.iter().any(|m| contains(m, second)),
                    "the second request"
                );
            }
            continue;
        }
        let marker = format!("marker-tcp-{}", c.name);
        conn.write_all(call(local, "TCP", &marker).as_bytes())
            .await
            .unwrap();
        let mut buf = Vec::new();
        let answers = until_marker(&marker, Source::Tcp(&mut conn, &mut buf)).await;
        if !answers
            .last()
            .is_some_and(|m| contains(m, marker.as_bytes()))
        {
            // The connection ended (framing is lost after a bad Content-Length): the
            // marker goes on a new one.
            let mut probe = TcpStream::connect(h.tcp).await.unwrap();
            let at = probe.local_addr().unwrap();
            probe
                .write_all(call(at, "TCP", &marker).as_bytes())
                .await
                .unwrap();
        }
        let upstream = until_marker(&marker, Source::Udp(h.uas_udp())).await;
        judge(c, &bytes, &upstream, &answers, true);
    }
}

/// Where a test reads messages.
enum Source<'a> {
    Udp(&'a UdpSocket),
    /// A connection and what was read past the last message.
    Tcp(&'a mut TcpStream, &'a mut Vec<u8>),
}

/// Collects messages up to and including the first that carries `marker`, or up to the
/// end of the connection.
async fn until_marker(marker: &str, mut from: Source<'_>) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        let m = match &mut from {
            Source::Udp(sock) => recv_bytes_udp(sock).await,
            Source::Tcp(conn, buf) => match recv_bytes_tcp(conn, buf).await {
                Some(m) => m,
                None => return seen,
            },
        };
        let done = contains(&m, marker.as_bytes());
        seen.push(m);
        if done {
            return seen;
        }
    }
    panic!("the marker {marker} never came");
}

async fn recv_bytes_udp(sock: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 65536];
    let (n, _): (usize, SocketAddr) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
        .await
        .expect("timed out waiting for a datagram")
        .unwrap();
    buf.truncate(n);
    buf
}

/// One framed message from a stream (`buf` keeps what follows it), or `None` when the
/// server closed the connection.
async fn recv_bytes_tcp(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    use callsign::sip::{Frame, frame};
    let read = async {
        loop {
            match frame(buf, 65_535).unwrap() {
                Frame::Message(n) => return Some(buf.drain(..n).collect()),
                Frame::KeepAlive(n) => {
                    buf.drain(..n);
                }
                Frame::Incomplete => {
                    let mut chunk = [0u8; 8192];
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("timed out reading TCP")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The raw value of the first Call-ID header field of `bytes` (long or compact form),
/// read without the parser: an answer to a broken request may echo what broke it.
fn call_id(bytes: &[u8]) -> Option<Vec<u8>> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    bytes[..end.unwrap_or(bytes.len())]
        .split(|&b| b == b'\n')
        .find_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon])
                .trim()
                .to_ascii_lowercase();
            let value = String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_owned();
            (name == "call-id" || name == "i").then(|| value.into_bytes())
        })
}

/// The messages among `seen` that belong to the request `sent`.
fn with_call_id<'a>(seen: &'a [Vec<u8>], sent: &[u8]) -> Vec<&'a [u8]> {
    let id = call_id(sent).expect("the message has a Call-ID");
    seen.iter()
        .filter(|m| call_id(m).as_ref() == Some(&id))
        .map(Vec::as_slice)
        .collect()
}

/// The forwarded request re-parses, and every header line of the original is in it
/// unchanged, except the top Via (callsign stamps `received`), Max-Forwards
/// (decremented) and Identity (a trunk's own is removed); the start line and the body
/// are the same bytes.
fn assert_intact(c: &Case, sent: &[u8], forwarded: Option<&[u8]>) {
    let name = c.name;
    let fwd = forwarded.unwrap_or_else(|| panic!("{name} ({}) was not forwarded", c.section));
    let ours = Message::parse(fwd)
        .unwrap_or_else(|e| panic!("{name}: forwarded copy does not parse: {e}"));
    let theirs = Message::parse(sent).unwrap();
    assert_eq!(ours.start_line(), theirs.start_line(), "{name}");
    assert_eq!(ours.body(), theirs.body(), "{name}: the body changed");
    let head_end = sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let mut edited_field = false;
    let mut via_seen = false;
    for line in sent[..head_end].split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let continuation = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
        if !continuation {
            let field = line
                .iter()
                .position(|&b| b == b':')
                .map(|i| {
                    String::from_utf8_lossy(&line[..i])
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            let top_via = (field == "via" || field == "v") && !via_seen;
            via_seen |= field == "via" || field == "v";
            // A customer's own Identity header does not travel: callsign signs.
            let identity = field == "identity" || field == "y";
            edited_field = top_via || identity || field == "max-forwards";
        }
        if !edited_field {
            let mut wanted = line.to_vec();
            wanted.extend_from_slice(b"\r\n");
            assert!(
                contains(fwd, &wanted),
                "{name}: the line {:?} did not travel unchanged",
                String::from_utf8_lossy(line)
            );
        }
    }
}

/// Checks what reached the carrier (`upstream`) and the trunk (`answers`) for `sent`
/// against the case's outcome; `answers_seen` says whether an answer to a refused
/// request comes where the test can see it.
fn judge(c: &Case, sent: &[u8], upstream: &[Vec<u8>], answers: &[Vec<u8>], answers_seen: bool) {
    let forwarded = with_call_id(upstream, sent);
    let answered = with_call_id(answers, sent);
    match c.outcome {
        Forwarded => {
            assert_intact(c, sent, forwarded.first().copied());
            assert_no_error(c, &answered);
        }
        Refused(status, reason) => {
            assert!(forwarded.is_empty(), "{}: went upstream", c.name);
            if answers_seen {
                assert_status(c, &answered, status, reason);
            } else {
                assert!(answered.is_empty(), "{}", c.name);
            }
        }
        Dropped => assert!(forwarded.is_empty() && answered.is_empty(), "{}", c.name),
    }
}

fn assert_no_error(c: &Case, answered: &[&[u8]]) {
    for a in answered {
        let status = Message::parse(a).ok().and_then(|m| m.status());
        assert!(
            status.is_some_and(|s| s < 300),
            "{}: answered {status:?}",
            c.name
        );
    }
}

fn assert_status(c: &Case, answered: &[&[u8]], status: u16, reason: &str) {
    let got: Vec<String> = answered
        .iter()
        .map(|a| {
            String::from_utf8_lossy(a)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        got,
        [format!("SIP/2.0 {status} {reason}")],
        "{} ({})",
        c.name,
        c.section
    );
}

/// Requests refused after parsing, summed over causes.
async fn rejected_total(h: &Harness) -> u64 {
    let text = h.http_get("/metrics").await;
    text.lines()
        .filter(|l| l.starts_with("callsign_requests_rejected_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
