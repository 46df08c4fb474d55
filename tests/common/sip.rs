//! The SIP side of the tests: a UAC and a UAS on real UDP sockets, the messages they
//! send (INVITEs and responses), reading what arrives, and checking the Identity header
//! with an independent JWT decoder.

use std::net::SocketAddr;

use callsign::sip::{HeaderName, Message};
use tokio::net::UdpSocket;

use super::server::PLACEHOLDER_X5U;
use super::{Harness, WAIT};

/// A UDP user agent bound on `ip`.
pub async fn uac(ip: &str) -> UdpSocket {
    UdpSocket::bind(format!("{ip}:0")).await.unwrap()
}

pub async fn recv(sock: &UdpSocket) -> String {
    let mut buf = vec![0u8; 65536];
    let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
        .await
        .expect("timed out waiting for a SIP message")
        .unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

pub async fn recv_from(sock: &UdpSocket) -> (String, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (n, from) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
        .await
        .expect("timed out waiting for a SIP message")
        .unwrap();
    (String::from_utf8(buf[..n].to_vec()).unwrap(), from)
}

/// Receives until a message satisfies `pred`, skipping others (bounded by WAIT each).
pub async fn recv_until(sock: &UdpSocket, pred: impl Fn(&str) -> bool) -> (String, SocketAddr) {
    for _ in 0..50 {
        let (m, from) = recv_from(sock).await;
        if pred(&m) {
            return (m, from);
        }
    }
    panic!("no matching message within 50 messages");
}

/// The status code of a response, read from its status line alone (a 400 may echo the
/// malformed header that caused it).
pub fn status(msg: &str) -> u16 {
    let line = msg.lines().next().unwrap_or_default();
    assert!(line.starts_with("SIP/2.0 "), "not a response: {line}");
    line[8..11].parse().expect("status code")
}

pub fn header(msg: &str, name: HeaderName) -> Option<String> {
    Message::parse(msg.as_bytes())
        .unwrap()
        .header(name)
        .map(str::to_string)
}

pub fn method(msg: &str) -> Option<String> {
    Message::parse(msg.as_bytes())
        .unwrap()
        .method_str()
        .map(str::to_string)
}

/// An INVITE from `local` (the UAC's address) calling `from` -> `to`.
pub fn invite(
    local: SocketAddr,
    transport: &str,
    call_id: &str,
    branch: &str,
    from: &str,
    to: &str,
    extra: &str,
) -> String {
    let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    format!(
        "INVITE sip:{to}@carrier.example SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{from}@127.0.0.1>;tag=uac-{call_id}\r\n\
         To: <sip:{to}@carrier.example>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:{from}@{local};transport={tl}>\r\n\
         X-Custom-Header: keep me exactly  as is\r\n\
         {extra}\
         Content-Type: application/sdp\r\n\
         Content-Length: {len}\r\n\r\n{body}",
        tl = transport.to_ascii_lowercase(),
        len = body.len()
    )
}

/// The From line of [`call`].
pub const CALL_FROM: &str = "From: <sip:2155550121@127.0.0.1>";

/// Ways to give a call a second caller identity, each with the From line of [`call`] it
/// replaces, a Call-ID, and the status line callsign must answer.
pub fn second_caller_identities() -> [(&'static str, String, &'static str); 3] {
    let from = CALL_FROM;
    [
        (
            "two-from",
            format!("{from};tag=x\r\nf: <sip:2155550199@127.0.0.1>"),
            "SIP/2.0 400 Duplicate From",
        ),
        (
            "two-pai-sip",
            format!(
                "P-Asserted-Identity: <sip:+12155550121@a>\r\nP-Asserted-Identity: <sip:+12155550199@a>\r\n{from}"
            ),
            "SIP/2.0 400 Ambiguous P-Asserted-Identity",
        ),
        (
            "pai-conflict",
            format!("P-Asserted-Identity: <sip:+12155550121@a>, <tel:+12155550199>\r\n{from}"),
            "SIP/2.0 400 Conflicting P-Asserted-Identity",
        ),
    ]
}

/// An INVITE from the vetted customer's number +1 215 555 0121 to +1 215 555 0131, with
/// branch `z9hG4bK-<call_id>`.
pub fn call(local: SocketAddr, transport: &str, call_id: &str) -> String {
    let branch = format!("z9hG4bK-{call_id}");
    invite(
        local,
        transport,
        call_id,
        &branch,
        "2155550121",
        "2155550131",
        "",
    )
}

/// A response from the UAS to `req`, copying Via, From, To (adding a tag), Call-ID and CSeq.
pub fn respond(req: &str, status: u16, reason: &str, extra: &str) -> String {
    let msg = Message::parse(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let extras: Vec<(HeaderName, &str)> = extra
        .split("\r\n")
        .filter_map(|l| l.split_once(": "))
        .map(|(name, value)| (HeaderName::parse(name), value))
        .collect();
    let tag = if status > 100 { Some("uas-tag") } else { None };
    callsign::sip::build_response(&msg, status, reason, tag, &extras, &mut out);
    String::from_utf8(out).unwrap()
}

/// Verifies an Identity header value with jsonwebtoken (an independent decoder) and
/// returns its claims.
pub fn verify_identity(value: &str, public_key: &[u8]) -> serde_json::Value {
    let jws = value.split(';').next().unwrap().trim();
    assert!(value.contains(";alg=ES256"), "{value}");
    assert!(value.contains(";ppt=shaken"), "{value}");
    assert!(
        value.contains(&format!(";info=<{PLACEHOLDER_X5U}>")),
        "{value}"
    );
    let key = jsonwebtoken::DecodingKey::from_ec_der(public_key);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(jws, &key, &validation)
        .expect("Identity verifies with the leaf key");
    assert_eq!(data.header.x5u.as_deref(), Some(PLACEHOLDER_X5U));
    data.claims
}

/// Relays datagrams between the signing instance and the verifying one (`to`),
/// flipping one character of the first Identity header's PASSporT signature on the way.
/// Bounded: it stops after `max` datagrams.
pub async fn tampering_relay(to: SocketAddr, max: usize) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        let mut back = None;
        for _ in 0..max {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if from == to {
                if let Some(back) = back {
                    let _ = sock.send_to(text.as_bytes(), back).await;
                }
            } else {
                back = Some(from);
                let _ = sock.send_to(tamper(&text).as_bytes(), to).await;
            }
        }
    });
    addr
}

pub fn tamper(msg: &str) -> String {
    let Some(start) = msg.find("\r\nIdentity: ") else {
        return msg.to_string();
    };
    let value = start + "\r\nIdentity: ".len();
    // One character of the signature: the claims still read well (a broken claim
    // would be E14, No-TN-Validation), but the signature no longer verifies (E18).
    let jws_end = value + msg[value..].find(';').unwrap();
    let signature = value + msg[value..jws_end].rfind('.').unwrap() + 1;
    let at = signature + 10;
    let flipped = if &msg[at..at + 1] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &msg[..at], &msg[at + 1..])
}

/// Answers `challenge` (a 407 callsign sent) for `uri` as `username` with `password`,
/// nonce count `nc`: a SHA-256 `Proxy-Authorization` value for an INVITE.
pub fn digest_answer(
    challenge: &str,
    uri: &str,
    username: &str,
    password: &str,
    nc: u32,
) -> String {
    use callsign::sip::digest::{Algorithm, Credentials, ha1, response};
    let line = challenge
        .lines()
        .find(|l| l.starts_with("Proxy-Authenticate: ") && l.contains("SHA-256"))
        .expect("a SHA-256 challenge");
    let quoted = |name: &str| {
        let start = format!("{name}=\"");
        line.split(start.as_str())
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    };
    let (nonce, realm) = (quoted("nonce"), quoted("realm"));
    let partial = format!(
        r#"Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="0", algorithm=SHA-256, qop=auth, nc={nc:08x}, cnonce="c0ffee""#
    );
    let creds = Credentials::parse(&partial).unwrap();
    let key = ha1(Algorithm::Sha256, username, realm, password);
    let answer = response(&creds, "INVITE", &key);
    partial.replace(r#"response="0""#, &format!(r#"response="{answer}""#))
}

/// The status of the first final answer to a call from a UAC on `ip`.
pub async fn final_answer(h: &Harness, ip: &str, call_id: &str) -> u16 {
    let uac = uac(ip).await;
    let local = uac.local_addr().unwrap();
    uac.send_to(call(local, "UDP", call_id).as_bytes(), h.udp)
        .await
        .unwrap();
    status(&recv_until(&uac, |m| status(m) >= 200).await.0)
}

/// Places one call from a UAC on `ip` (a trunk's source) calling `from` → `to`, takes
/// the forwarded INVITE at the harness UAS, answers it 486, and returns its Identity
/// header value.
pub async fn signed_invite(h: &Harness, ip: &str, from: &str, to: &str, call_id: &str) -> String {
    let uac = uac(ip).await;
    let local = uac.local_addr().unwrap();
    let branch = format!("z9hG4bK-{call_id}");
    let inv = invite(local, "UDP", call_id, &branch, from, to, "");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let (fwd, proxy) = recv_until(h.uas_udp(), |m| {
        m.starts_with("INVITE ") && m.contains(&format!("Call-ID: {call_id}\r\n"))
    })
    .await;
    let busy = respond(&fwd, 486, "Busy Here", "");
    h.uas_udp().send_to(busy.as_bytes(), proxy).await.unwrap();
    header(&fwd, HeaderName::Identity).expect("the INVITE is signed")
}

/// [`signed_invite`], verified with the server's leaf key: returns the PASSporT claims.
pub async fn signed_call(
    h: &Harness,
    ip: &str,
    from: &str,
    to: &str,
    call_id: &str,
) -> serde_json::Value {
    let identity = signed_invite(h, ip, from, to, call_id).await;
    verify_identity(&identity, &h.leaf_public_key)
}

/// Sends an INVITE from `from` to `to` (numbers), with the header lines `extra`, from a
/// fresh UAC on `ip` to the proxy at `proxy`, addressed to `uri` when given (else
/// `sip:{to}@carrier.example`). Returns the UAC, to read the answers on.
pub async fn send_invite(
    proxy: SocketAddr,
    ip: &str,
    call_id: &str,
    (from, to): (&str, &str),
    uri: Option<&str>,
    extra: &str,
) -> UdpSocket {
    let uac = uac(ip).await;
    let local = uac.local_addr().unwrap();
    let branch = format!("z9hG4bK-{call_id}");
    let mut inv = invite(local, "UDP", call_id, &branch, from, to, extra);
    if let Some(uri) = uri {
        inv = inv.replacen(
            &format!("INVITE sip:{to}@carrier.example"),
            &format!("INVITE {uri}"),
            1,
        );
    }
    uac.send_to(inv.as_bytes(), proxy).await.unwrap();
    uac
}
