//! Where messages go: request targets from Route and Request-URI (RFC 3261 16.4-16.6),
//! response targets from Via (RFC 3261 18.2.2, RFC 3581 rport), and how each transport
//! frames what it carries.

use std::net::{IpAddr, SocketAddr};

use super::{Dest, Peer, Transport};
use crate::sip::{Framing, Rport, Via};

/// The parts of a SIP URI that routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTarget {
    pub host: String,
    pub port: Option<u16>,
    pub transport: Option<Transport>,
    pub lr: bool,
}

impl UriTarget {
    /// Parses `sip:`/`sips:` URIs, with or without `<>`. Returns None for anything else
    /// (tel: URIs and garbage cannot be routed to).
    pub fn parse(uri: &str) -> Option<UriTarget> {
        let uri = uri.trim();
        let uri = uri
            .strip_prefix('<')
            .and_then(|u| u.split('>').next())
            .unwrap_or(uri);
        let parsed = rsip::Uri::try_from(uri).ok()?;
        let sips = match parsed.scheme {
            Some(rsip::Scheme::Sip) => false,
            Some(rsip::Scheme::Sips) => true,
            _ => return None,
        };
        // A sips: URI is reached over TLS whatever its transport says (RFC 5630
        // section 3.1.1: `transport=tcp` there means TLS over TCP); UDP cannot carry it.
        let transport = match (parsed.transport(), sips) {
            (None, false) => None,
            (None | Some(rsip::Transport::Tcp | rsip::Transport::Tls), true) => {
                Some(Transport::Tls)
            }
            (Some(rsip::Transport::Udp), false) => Some(Transport::Udp),
            (Some(rsip::Transport::Tcp), false) => Some(Transport::Tcp),
            (Some(rsip::Transport::Tls), false) => Some(Transport::Tls),
            _ => return None,
        };
        let lr = parsed.params.iter().any(|p| matches!(p, rsip::Param::Lr));
        let host = match parsed.host() {
            rsip::Host::IpAddr(ip) => ip.to_string(),
            rsip::Host::Domain(d) => d.to_string(),
        };
        Some(UriTarget {
            host,
            port: parsed.port().map(|p| *p.value()),
            transport,
            lr,
        })
    }

    /// The destination, defaulting the transport to UDP and the port to the transport's
    /// (5060, or 5061 for TLS).
    pub fn dest(&self) -> Dest {
        let transport = self.transport.unwrap_or(Transport::Udp);
        let port = self.port.unwrap_or(transport.default_port());
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<IpAddr>() {
            Ok(ip) => Dest::Peer(Peer {
                transport,
                addr: SocketAddr::new(ip, port),
            }),
            Err(_) => Dest::Name {
                host: host.to_string(),
                port,
                transport,
            },
        }
    }
}

/// How messages sent over `transport` are delimited: UDP carries one per datagram, TCP
/// and TLS are streams.
pub fn framing(transport: Transport) -> Framing {
    if transport.is_stream() {
        Framing::Stream
    } else {
        Framing::Datagram
    }
}

/// Where a response goes according to a Via (RFC 3261 18.2.2 with RFC 3581): the
/// `received` address (else the sent-by host), the `rport` value (else the sent-by port,
/// else 5060). Hosts that are names are not resolved: None.
pub fn via_peer(via: &Via<'_>) -> Option<Peer> {
    let transport = match via.transport.to_ascii_uppercase().as_str() {
        "UDP" => Transport::Udp,
        "TCP" => Transport::Tcp,
        "TLS" => Transport::Tls,
        _ => return None,
    };
    let host = via.received.unwrap_or(via.host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    let port = match via.rport {
        Rport::Value(p) => p,
        _ => via.port.unwrap_or(transport.default_port()),
    };
    Some(Peer {
        transport,
        addr: SocketAddr::new(ip, port),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_targets() {
        let t = UriTarget::parse("<sip:10.0.0.1:5070;transport=tcp;lr>").unwrap();
        assert_eq!(t.host, "10.0.0.1");
        assert_eq!(t.port, Some(5070));
        assert_eq!(t.transport, Some(Transport::Tcp));
        assert!(t.lr);
        assert_eq!(
            t.dest(),
            Dest::Peer(Peer {
                transport: Transport::Tcp,
                addr: "10.0.0.1:5070".parse().unwrap()
            })
        );
        let t = UriTarget::parse("sip:bob@carrier.example").unwrap();
        assert_eq!(
            t.dest(),
            Dest::Name {
                host: "carrier.example".into(),
                port: 5060,
                transport: Transport::Udp
            }
        );
        assert!(UriTarget::parse("tel:+12155550121").is_none());
        let tls = |uri: &str| UriTarget::parse(uri).map(|t| t.dest());
        let named = |host: &str, port| Dest::Name {
            host: host.into(),
            port,
            transport: Transport::Tls,
        };
        assert_eq!(
            tls("<sips:carrier.example>"),
            Some(named("carrier.example", 5061))
        );
        assert_eq!(
            tls("sips:bob@carrier.example;transport=tcp"),
            Some(named("carrier.example", 5061))
        );
        assert_eq!(
            tls("sip:c.example:5071;transport=tls"),
            Some(named("c.example", 5071))
        );
        assert_eq!(
            tls("sips:192.0.2.4"),
            Some(Dest::Peer(Peer {
                transport: Transport::Tls,
                addr: "192.0.2.4:5061".parse().unwrap()
            }))
        );
        // TLS cannot run over UDP.
        assert!(UriTarget::parse("sips:carrier.example;transport=udp").is_none());
        assert!(UriTarget::parse("not a uri").is_none());
    }
}
