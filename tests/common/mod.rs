//! What the integration tests share. Every test talks to real callsign code over real
//! sockets on 127.0.0.1:0.
//!
//! - [`server`]: [`TestServer`], the typed builder of a test server's config, which
//!   starts it in-process or writes it for the binary.
//! - [`harness`]: [`Harness`], a running in-process server and its test UAS.
//! - [`sip`]: the test UAC and UAS, SIP messages, and Identity checks.
//! - [`api`]: a Trust Hub API client and the usual vetting steps.
//! - [`binary`]: the `callsign` binary (and other programs) as child processes.
//! - [`pki_server`]: a dev PKI published over HTTP, for verification.
//! - [`rfc4475`]: the RFC 4475 torture messages of `tests/data/rfc4475/`.
//! - [`sipp`]: SIPp as UAC and UAS.
// Each test binary uses only part of this module.
#![allow(dead_code, unused_imports)]

pub mod api;
pub mod binary;
pub mod harness;
pub mod pki_server;
pub mod postgres;
pub mod python;
pub mod rfc4475;
pub mod server;
pub mod sip;
pub mod sipp;
pub mod sti_rest;
pub mod vetting;

use std::time::Duration;

pub use callsign::clock::now_unix;
pub use harness::{Harness, Upstream};
pub use server::{
    PLACEHOLDER_X5U, TestServer, dev_pki, identity_key_dir, shared_pki, signing_trunk,
    verifying_trunk,
};
pub use sip::*;

/// The account of the `acme` trunk (127.0.0.1) in `tests/data/trust.json`.
pub const ACME: &str = "AC00000000000000000000000000000001";
/// Its sub-account, the account of the `acme-branch` trunk (127.0.0.2).
pub const ACME_BRANCH: &str = "AC00000000000000000000000000000002";
/// The operator credential of store-mode servers.
pub const OPERATOR_SID: &str = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";
/// The trust data of file-mode servers.
pub const TRUST: &str = include_str!("../data/trust.json");
/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(5);

/// A new, empty database on the PostgreSQL server `CALLSIGN_TEST_POSTGRES` names (the
/// throwaway cluster `scripts/test.sh` starts): its URL.
pub fn fresh_database() -> String {
    let server = std::env::var("CALLSIGN_TEST_POSTGRES")
        .expect("CALLSIGN_TEST_POSTGRES names a PostgreSQL server (scripts/test.sh starts one)");
    let name = format!("it_{}", uuid::Uuid::new_v4().simple());
    callsign::store::postgres::create_database(&server, &name).unwrap()
}

/// An HTTP client, with the TLS provider reqwest needs installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A metric's value on the server whose HTTP address is `http`, when it answers.
pub async fn metric(http: std::net::SocketAddr, name: &str) -> Option<f64> {
    let text = http_client()
        .get(format!("http://{http}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// How long after `since` each server at `nodes` (HTTP addresses) had applied a shared
/// store's change log up to `seq`: write-to-visibility, read from
/// `callsign_trust_index_seq` every 2 ms. Fails after 5 s.
pub async fn applied_everywhere(
    seq: i64,
    nodes: &[std::net::SocketAddr],
    since: std::time::Instant,
) -> Vec<Duration> {
    let mut took = Vec::new();
    for &node in nodes {
        loop {
            if metric(node, "callsign_trust_index_seq").await >= Some(seq as f64) {
                took.push(since.elapsed());
                break;
            }
            assert!(
                since.elapsed() < WAIT,
                "{node} has not applied seq {seq} after {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    took
}
