//! callsign: a SIP proxy that signs outbound calls with STIR/SHAKEN (RFC 8224, 8225, 8588),
//! verifies inbound ones, and serves the Trust Hub vetting behind the signature.
//!
//! # Crate map
//!
//! The modules stand in three rings; a module imports only from its own ring or a lower
//! one, and no two modules import each other.
//!
//! **Pure core**: no sockets, no files, no clock (time comes in as an argument), no
//! tokio, and none of `config`, `api`, `store`:
//!
//! - [`sip`]: SIP syntax. A zero-copy [`sip::Message`] view, byte-level [`sip::Edits`],
//!   TCP framing, the messages a proxy builds or relays, and one file per typed header in
//!   `sip/header/` (Via, CSeq, Max-Forwards, Route, name-addr, Identity, Reason, Date),
//!   each parsing and printing. **A new SIP header goes there**, with a round-trip test,
//!   and its name in [`sip::HeaderName`].
//! - [`tn`]: telephone-number canonicalization.
//! - [`passport`]: PASSporT claims, canonical JSON, ES256 signing, and [`passport::Attest`],
//!   the one attestation-level type.
//! - [`trust`]: the Trust Hub records ([`trust::model`]), their rules, once
//!   ([`trust::rules`]), the store change a write makes ([`trust::Change`]), the in-memory
//!   [`trust::Index`] that applies it, and the A/B/C decision ([`trust::attest`]).
//! - [`certs`]: keys, chains, the STI certificate profile, paths, CRLs, TNAuthList, dev PKI.
//! - [`verify`]: the eleven checks of an Identity header, [`verify::Report`],
//!   [`verify::Verdict`]; its fetcher ([`verify::Verifier`]) is the one shell part.
//! - [`proxy`]'s decision modules: `pipeline` (one request in, one action out),
//!   `transaction` (RFC 3261 state machines), `endpoint` (both over a transaction table
//!   and its timers: bytes and the time in, datagrams and the next wake-up out),
//!   `verstat`, `feedback` (RFC 9410's report of failed Identity headers), `route`, and
//!   `settings`, the proxy's own settings and domain enums.
//! - [`sti_rest`]: the request and response bodies and error objects of ATIS-1000082's
//!   REST API for a signing and a verification server.
//! - [`vetting`]: the automated review of submitted bundles: the operator's rules file
//!   (a workflow of checks per policy), the checks, each a pure function, the decision,
//!   and Lookup's Identity Match of a person against subscriber records.
//! - [`clock`], [`metrics`]: the time conversions, and the typed metric labels.
//!
//! **Shell**: I/O around the core:
//!
//! - [`proxy::driver`]: the engine thread that owns the endpoint and the UDP socket,
//!   and sleeps until the endpoint's next timer; [`proxy::transport`]: the TCP and TLS
//!   connections, resolutions and verifications around it, and the tasks that shutdown
//!   waits for; [`proxy::tls`]: the TLS configurations (`[sip.tls]`, reloaded on
//!   SIGHUP). **A new transport goes there** (beside `run_tcp` and `run_tls`), handing
//!   received messages to the engine, with its variant in [`proxy::Transport`].
//! - [`store`]: the system of record. The [`store::RecordStore`] and [`store::Queries`]
//!   traits, implemented once in portable SQL by [`store::SqlStore`] (`store/sql/`) over
//!   a backend: SQLite (`store/sqlite.rs`, the embedded default) or PostgreSQL
//!   (`store/postgres.rs`, shared by several nodes, with migrations and a change log).
//!   **A new SQL database** implements `store::sql::Backend` (a connection, a
//!   transaction, its dialect); the tests in `store/tests.rs` run on every backend.
//! - [`trusthub`]: the Trust Hub service, with no HTTP: who the caller is, and every read
//!   and write of accounts, numbers, bundles, assignments, end users, evaluations and
//!   status callbacks, committed to the store and applied to the index together.
//! - [`api`]: HTTP only. It parses Twilio's form parameters, calls [`trusthub`], renders
//!   Twilio's JSON, and maps each error to one HTTP status and Twilio code. **A new Trust
//!   Hub resource** is a service file in `trusthub/` (its rules in `trust/rules/` when it
//!   has any), a handler file in `api/` and its paths in `api/routes.rs`.
//! - [`identities`]: signing identities made live: each one's key loaded from a file or
//!   an HSM (PKCS#11), checked against its chain, and its signer published where the
//!   proxy picks it per call ([`proxy::IdentitySigners`]).
//! - [`config`]: the TOML file, validated, with errors that name the key.
//! - [`console`]: the operator's web console at `/console`: server-rendered pages over
//!   [`trusthub`], behind the operator's credential, a session cookie and CSRF tokens.
//!
//! **Composition root**: [`daemon`] is the only library module that knows every other.
//! It turns the config into each layer's settings, loads the signing material and the
//! trust data, wires proxy, verifier, HTTP and Trust Hub together, runs the reloaders,
//! and waits for every task on shutdown.
//!
//! **Binary**: `src/bin/callsign/`, one file per subcommand over the library.

pub mod api;
pub mod certs;
pub mod clock;
pub mod config;
pub mod console;
pub mod daemon;
pub mod identities;
pub mod metrics;
pub mod passport;
pub mod proxy;
pub mod sip;
pub mod sti_rest;
pub mod store;
pub mod tn;
pub mod trust;
pub mod trusthub;
pub mod verify;
pub mod vetting;
