//! Via header values (RFC 3261 20.42, RFC 3581 rport): sent-protocol, sent-by (IPv6
//! references included) and parameters; the `received`/`rport` stamp a server adds to
//! the sender's Via (RFC 3261 18.2.1, RFC 3581 section 4); and iteration over every Via
//! of a message.

use std::fmt::{self, Write as _};
use std::net::SocketAddr;

use crate::sip::error::ParseError;
use crate::sip::grammar::{
    ListElements, find_param, params_well_formed, push_without_params, split_list, trim_lws,
};
use crate::sip::lines::{is_lws, is_token};

/// One Via value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// The whole value, trimmed: `SIP/2.0/UDP host:port;branch=...`.
    pub raw: &'a str,
    /// `SIP/2.0/UDP` as written.
    pub protocol: &'a str,
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`... as written.
    pub transport: &'a str,
    /// The sent-by host; an IPv6 reference is given without its brackets (`2001:db8::1`).
    pub host: &'a str,
    pub port: Option<u16>,
    pub branch: Option<&'a str>,
    pub received: Option<&'a str>,
    pub rport: Rport,
    /// The parameter text from the first `;` on (empty when there are none).
    pub params: &'a str,
}

/// The `rport` parameter (RFC 3581).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rport {
    Absent,
    /// `;rport` with no value: the client asks for the source port to be filled in.
    Requested,
    Value(u16),
}

impl<'a> Via<'a> {
    /// Parses a single Via value (one element of a comma list).
    pub fn parse(value: &'a str) -> Result<Via<'a>, ParseError> {
        let raw = trim_lws(value);
        let b = raw.as_bytes();
        let bad = ParseError::MalformedVia;

        // sent-protocol: name / version / transport, LWS allowed around the slashes.
        let mut i = 0;
        let name = take_token(b, &mut i);
        expect_slash(b, &mut i)?;
        let version = take_token(b, &mut i);
        expect_slash(b, &mut i)?;
        let transport_start = i;
        let transport = take_token(b, &mut i);
        if !name.eq_ignore_ascii_case(b"SIP") || version != b"2.0" || transport.is_empty() {
            return Err(bad);
        }
        let protocol = raw.get(..i).ok_or(bad)?;
        let transport = raw.get(transport_start..i).ok_or(bad)?;

        // LWS, then sent-by = host [ ":" port ].
        let ws_start = i;
        skip_lws(b, &mut i);
        if i == ws_start {
            return Err(bad);
        }
        let host = if b.get(i) == Some(&b'[') {
            let close = i + b
                .get(i..)
                .and_then(|r| r.iter().position(|&c| c == b']'))
                .ok_or(bad)?;
            let inner = raw.get(i + 1..close).ok_or(bad)?;
            if inner.is_empty()
                || !inner
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            {
                return Err(bad);
            }
            i = close + 1;
            inner
        } else {
            let start = i;
            while b
                .get(i)
                .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
            {
                i += 1;
            }
            raw.get(start..i).filter(|h| !h.is_empty()).ok_or(bad)?
        };
        skip_lws(b, &mut i);
        let mut port = None;
        if b.get(i) == Some(&b':') {
            i += 1;
            skip_lws(b, &mut i);
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            port = Some(
                raw.get(start..i)
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or(bad)?,
            );
            skip_lws(b, &mut i);
        }
        let params = raw.get(i..).ok_or(bad)?;
        if !params_well_formed(params) {
            return Err(bad);
        }

        let valued = |name: &str| match find_param(params, name) {
            None => Ok(None),
            Some(Some(v)) if !v.is_empty() => Ok(Some(v)),
            Some(_) => Err(bad),
        };
        let branch = valued("branch")?;
        let received = valued("received")?;
        let rport = match find_param(params, "rport") {
            None => Rport::Absent,
            Some(None | Some("")) => Rport::Requested,
            Some(Some(v)) => Rport::Value(v.parse().map_err(|_| bad)?),
        };
        Ok(Via {
            raw,
            protocol,
            transport,
            host,
            port,
            branch,
            received,
            rport,
            params,
        })
    }

    /// Looks up a parameter (case-insensitive): `None` when absent, `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        find_param(self.params, name)
    }

    /// This Via as the server that received it over `src` must pass it on (RFC 3261
    /// 18.2.1, RFC 3581 section 4): `;received=<source address>` added unless the sent-by
    /// host already is that address, and `;rport=<source port>` when the sender asked for
    /// it. Any `received` or `rport` the sender wrote itself is dropped first; the rest is
    /// kept as written. `None` when nothing needs to change.
    pub fn stamped(&self, src: SocketAddr) -> Option<String> {
        let ip = src.ip();
        if self.received.is_none() && self.rport == Rport::Absent && prints_as(ip, self.host) {
            return None;
        }
        let mut out = String::with_capacity(self.raw.len() + 40);
        let before_params = self.raw.len() - self.params.len();
        out.push_str(self.raw.get(..before_params).unwrap_or(self.raw));
        push_without_params(&mut out, self.params, &["rport", "received"]);
        // Writing to a String cannot fail.
        if self.rport != Rport::Absent {
            let _ = write!(out, ";rport={}", src.port());
        }
        let _ = write!(out, ";received={ip}");
        Some(out)
    }
}

/// Prints `sent-protocol SP sent-by *(;via-params)`: the protocol and parameters as
/// written, the host in brackets when it is an IPv6 address.
impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{} [{}]", self.protocol, self.host)?;
        } else {
            write!(f, "{} {}", self.protocol, self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(self.params)
    }
}

/// Whether `value` prints exactly as `text`, without allocating.
fn prints_as(value: impl fmt::Display, text: &str) -> bool {
    struct Compare<'t>(&'t str);
    impl fmt::Write for Compare<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let rest = self.0.strip_prefix(s).ok_or(fmt::Error)?;
            self.0 = rest;
            Ok(())
        }
    }
    let mut rest = Compare(text);
    write!(rest, "{value}").is_ok() && rest.0.is_empty()
}

fn take_token<'b>(b: &'b [u8], i: &mut usize) -> &'b [u8] {
    let start = *i;
    while b.get(*i).is_some_and(|&c| is_token(c)) {
        *i += 1;
    }
    b.get(start..*i).unwrap_or_default()
}

fn skip_lws(b: &[u8], i: &mut usize) {
    while b.get(*i).is_some_and(|&c| is_lws(c)) {
        *i += 1;
    }
}

fn expect_slash(b: &[u8], i: &mut usize) -> Result<(), ParseError> {
    skip_lws(b, i);
    if b.get(*i) != Some(&b'/') {
        return Err(ParseError::MalformedVia);
    }
    *i += 1;
    skip_lws(b, i);
    Ok(())
}

/// Every Via value of a message, top first: comma-joined values are split, and Via lines
/// are visited in order. Created by [`Message::vias`](crate::sip::Message::vias) from
/// the lines the message has already lexed.
#[derive(Debug, Clone)]
pub struct Vias<'a, I> {
    /// The values of the Via lines not yet visited.
    lines: I,
    current: Option<ListElements<'a>>,
}

impl<'a, I: Iterator<Item = &'a str>> Vias<'a, I> {
    /// Iterates the values of a message's Via lines, `lines`, in order.
    pub(crate) fn new(lines: I) -> Self {
        Vias {
            lines,
            current: None,
        }
    }
}

impl<'a, I: Iterator<Item = &'a str>> Iterator for Vias<'a, I> {
    type Item = Result<Via<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(elements) = self.current.as_mut() {
            if let Some(element) = elements.next() {
                return Some(Via::parse(element));
            }
            self.current = None;
        }
        let value = self.lines.next()?;
        let mut elements = split_list(value);
        let first = elements.next();
        self.current = Some(elements);
        // A Via line with no value at all is itself malformed.
        Some(first.map_or(Err(ParseError::MalformedVia), Via::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_protocol_host_port_and_branch() {
        let v = Via::parse(" SIP/2.0/UDP pbx.example.com:5062;branch=z9hG4bK776asdhds ").unwrap();
        assert_eq!(
            v.raw,
            "SIP/2.0/UDP pbx.example.com:5062;branch=z9hG4bK776asdhds"
        );
        assert_eq!(v.protocol, "SIP/2.0/UDP");
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "pbx.example.com");
        assert_eq!(v.port, Some(5062));
        assert_eq!(v.branch, Some("z9hG4bK776asdhds"));
        assert_eq!(v.received, None);
        assert_eq!(v.rport, Rport::Absent);
        assert_eq!(v.params, ";branch=z9hG4bK776asdhds");
    }

    #[test]
    fn parses_ipv6_references_with_and_without_port() {
        let v = Via::parse("SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKa").unwrap();
        assert_eq!(
            (v.host, v.port, v.transport),
            ("2001:db8::1", Some(5060), "TCP")
        );
        let v = Via::parse("SIP/2.0/TLS [::ffff:192.0.2.1];branch=z9hG4bKb").unwrap();
        assert_eq!((v.host, v.port), ("::ffff:192.0.2.1", None));
        assert!(v.host.parse::<std::net::IpAddr>().is_ok());
    }

    #[test]
    fn parses_rport_and_received() {
        let v = Via::parse("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKx").unwrap();
        assert_eq!(v.rport, Rport::Requested);
        let v = Via::parse("SIP/2.0/UDP 10.0.0.1;received=192.0.2.7;rport=40000;branch=z9hG4bKx")
            .unwrap();
        assert_eq!(v.rport, Rport::Value(40000));
        assert_eq!(v.received, Some("192.0.2.7"));
        assert_eq!(v.port, None);
        assert_eq!(v.param("RPORT"), Some(Some("40000")));
        assert_eq!(v.param("maddr"), None);
    }

    #[test]
    fn tolerates_whitespace_inside_sent_protocol_and_around_params() {
        let v = Via::parse("sip / 2.0 / udp\r\n host : 5060 ; branch = z9hG4bK1 ; lr").unwrap();
        assert_eq!(v.protocol, "sip / 2.0 / udp");
        assert_eq!((v.transport, v.host, v.port), ("udp", "host", Some(5060)));
        assert_eq!(v.branch, Some("z9hG4bK1"));
        assert_eq!(v.param("lr"), Some(None));
    }

    #[test]
    fn print_then_parse_gives_the_same_via() {
        for text in [
            "SIP/2.0/UDP pbx.example.com:5062;branch=z9hG4bK776asdhds",
            "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKa;rport",
            "SIP/2.0/TLS [::ffff:192.0.2.1];branch=z9hG4bKb",
            "SIP/2.0/UDP 10.0.0.1;received=192.0.2.7;rport=40000;branch=z9hG4bKx",
            "SIP/2.0/WS h",
        ] {
            let via = Via::parse(text).unwrap();
            let printed = via.to_string();
            assert_eq!(printed, text);
            assert_eq!(Via::parse(&printed), Ok(via));
        }
        // Whitespace the sender wrote around sent-by is not printed back.
        let via = Via::parse("SIP/2.0/UDP host : 5060 ;branch=z9hG4bK1").unwrap();
        assert_eq!(via.to_string(), "SIP/2.0/UDP host:5060;branch=z9hG4bK1");
    }

    fn stamped(text: &str, src: &str) -> Option<String> {
        Via::parse(text).unwrap().stamped(src.parse().unwrap())
    }

    #[test]
    fn a_via_that_names_its_source_is_left_alone() {
        assert_eq!(
            stamped(
                "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK1",
                "192.0.2.1:5062"
            ),
            None
        );
        assert_eq!(
            stamped(
                "SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1",
                "[2001:db8::1]:5060"
            ),
            None
        );
    }

    #[test]
    fn received_is_added_when_sent_by_is_not_the_source() {
        assert_eq!(
            stamped("SIP/2.0/UDP pbx.example;branch=z9hG4bK1", "192.0.2.1:5060").as_deref(),
            Some("SIP/2.0/UDP pbx.example;branch=z9hG4bK1;received=192.0.2.1")
        );
        // The source is compared as printed: another spelling of it is not the same.
        assert_eq!(
            stamped(
                "SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK1",
                "[2001:db8::1]:5060"
            )
            .as_deref(),
            Some("SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK1;received=2001:db8::1")
        );
    }

    #[test]
    fn rport_is_filled_in_and_values_from_the_sender_are_replaced() {
        assert_eq!(
            stamped(
                "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport",
                "192.0.2.1:40000"
            )
            .as_deref(),
            Some("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.1")
        );
        // Even from the address it names, a Via asking for rport is stamped.
        assert_eq!(
            stamped(
                "SIP/2.0/UDP 192.0.2.1 ;rport;branch=z9hG4bK1",
                "192.0.2.1:40000"
            )
            .as_deref(),
            Some("SIP/2.0/UDP 192.0.2.1 ;branch=z9hG4bK1;rport=40000;received=192.0.2.1")
        );
        assert_eq!(
            stamped(
                "SIP/2.0/UDP h;RECEIVED=6.6.6.6;x=\"a;b\";rport=1;branch=z9hG4bK1",
                "192.0.2.1:40000"
            )
            .as_deref(),
            Some("SIP/2.0/UDP h;x=\"a;b\";branch=z9hG4bK1;rport=40000;received=192.0.2.1")
        );
    }

    #[test]
    fn prints_as_compares_without_allocating() {
        assert!(prints_as(5060, "5060"));
        assert!(!prints_as(5060, "506"));
        assert!(!prints_as(5060, "50600"));
        assert!(prints_as("", ""));
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP ",
            "SIP/2.0 host",
            "SIP/3.0/UDP host",
            "HTTP/2.0/UDP host",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP host:",
            "SIP/2.0/UDP host:70000",
            "SIP/2.0/UDP [2001:db8::1",
            "SIP/2.0/UDP []",
            "SIP/2.0/UDP [zz::1]",
            "SIP/2.0/UDP host junk",
            "SIP/2.0/UDP host;branch",
            "SIP/2.0/UDP host;branch=",
            "SIP/2.0/UDP host;received",
            "SIP/2.0/UDP host;rport=x",
            "SIP/2.0/UDP host;rport=65536",
        ] {
            assert_eq!(Via::parse(bad), Err(ParseError::MalformedVia), "{bad:?}");
        }
    }
}
