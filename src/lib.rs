//! callsign: a SIP proxy that signs outbound calls with STIR/SHAKEN (RFC 8224, 8225, 8588).
//!
//! The crate is laid out in three rings:
//!
//! - **Pure core** (no sockets, no clock, no files): [`sip`] (zero-copy message view,
//!   header access, byte-level editing, TCP framing), [`tn`] (telephone-number
//!   canonicalization), [`trust`] (the Trust Hub data model, its index and the A/B/C
//!   attestation rules), [`passport`] (canonical claims and ES256 signing), [`sip::Identity`]
//!   (the `Identity` header), [`certs`] (keys, chains, TNAuthList, dev PKI) and the
//!   decision parts of [`proxy`] (`pipeline`, `transaction`, `core`) and [`verify`]
//!   (the eleven verification steps).
//! - **I/O shell**: [`proxy::transport`] and [`proxy::server`] (UDP/TCP, timers, start-up,
//!   trust reload), [`api`] (HTTP: x5u, CRLs, `/metrics` and the Trust Hub API), [`store`]
//!   (the SQLite system of record for trust data), [`config`], [`metrics`], and the
//!   x5u/CRL fetcher of [`verify::Verifier`].
//! - **Binary**: `src/main.rs`, the `callsign` subcommands.

pub mod api;
pub mod certs;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod metrics;
pub mod passport;
pub mod proxy;
pub mod sip;
pub mod store;
pub mod tn;
pub mod trust;
pub mod trusthub;
pub mod verify;
