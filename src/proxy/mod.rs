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
pub mod resolve;
pub mod route;
pub mod settings;
pub mod table;
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

pub use context::{Context, IdentitySigners, PeerClass, Trunk};
pub use endpoint::{Endpoint, Status, Verify};
pub use settings::{
    Fallback, Feedback, IdentityPolicy, OnFailure, Role, Settings, Timers, TrunkSettings, Upstream,
};

/// A SIP transport callsign speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// The Via transport token: `UDP`, `TCP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// The `transport=` URI parameter value: `udp`, `tcp`.
    pub fn param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
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
