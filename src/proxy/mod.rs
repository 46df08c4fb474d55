//! The proxy: a socket-free [`Endpoint`] (pipeline, transactions and their timers) and
//! the I/O around it: the engine thread of `driver` and the tasks of `transport`. The
//! daemon builds it from [`Settings`].
//!
//! Bytes come in through [`Endpoint::handle`] with their source and the time; what to
//! send comes back as [`Output`]s, and [`Endpoint::poll_timeout`] says when the endpoint
//! next needs the time. Only `driver` and `transport` touch sockets.

pub mod context;
pub mod driver;
pub mod endpoint;
pub mod feedback;
pub mod limiter;
pub mod noise;
pub mod nonce;
pub mod pipeline;
pub mod policy;
pub mod redirect;
pub mod resolve;
pub mod route;
pub mod settings;
pub mod table;
pub mod tls;
pub mod transaction;
pub mod transport;
pub mod verstat;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
pub(crate) mod sim;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
pub(crate) mod testing;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use context::{Context, IdentitySigners, PeerClass, Ports, Trunk};
pub use endpoint::{Endpoint, Status, Verify};
pub use settings::{
    Fallback, Feedback, IdentityPolicy, OnFailure, Role, SbcOptions, Settings, Timers,
    TrunkSettings, Upstream,
};

/// A SIP transport callsign speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
    /// TLS over TCP (RFC 3261 section 26, RFC 5630).
    Tls,
}

impl Transport {
    /// Every transport, in the order of [`Transport::index`].
    pub const ALL: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Tls];

    /// The Via transport token: `UDP`, `TCP`, `TLS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The `transport=` URI parameter value: `udp`, `tcp`, `tls`.
    pub fn param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    /// Its position in [`Transport::ALL`], for tables indexed by transport.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether messages travel on a connection (TCP, TLS) rather than in datagrams.
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The port a URI without one means: 5061 for TLS, 5060 otherwise (RFC 3261 19.1.2).
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tls => 5061,
            _ => 5060,
        }
    }
}

/// A transport-level peer: where a message came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// Where a request is forwarded: an address, or a name the shell must resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Peer(Peer),
    Name {
        host: String,
        port: u16,
        transport: Transport,
    },
}

impl Dest {
    pub fn transport(&self) -> Transport {
        match self {
            Dest::Peer(p) => p.transport,
            Dest::Name { transport, .. } => *transport,
        }
    }
}

/// One message for the shell to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub to: Dest,
    pub bytes: Vec<u8>,
}

impl Output {
    pub fn to_peer(peer: Peer, bytes: Vec<u8>) -> Output {
        Output {
            to: Dest::Peer(peer),
            bytes,
        }
    }
}
