//! Automated vetting through Twilio's own client: the official `twilio` Python package
//! (tests/python/vetting_compat.py) builds and submits customer profiles that callsign's
//! default workflow approves, rejects (a bad EIN, with Twilio's code) and queues for the
//! operator (a representative the subscriber records do not hold), reads the evaluation
//! with its identity match, has its SHAKEN/STIR trust product approved, and asks Lookup
//! v2 for Identity Match. SIPp calls from the customer's trunk show the `attest` claim
//! go from C to A once the workflow has approved the trust product.
//!
//! Needs SIPp and a virtualenv with `twilio` (`scripts/test.sh` creates
//! `target/twilio-venv` and installs it), so plain `cargo test` ignores it. The
//! interpreter can be overridden with `CALLSIGN_TWILIO_PYTHON`.

mod common;

use std::net::SocketAddr;

use common::sipp::{calls, free_udp_port};
use common::vetting::calling_server;
use common::*;

/// The operator's subscriber records: the approved customer's representative, the
/// rejected one's, the one the queued customer's representative is not, and a UK
/// subscriber for Lookup.
const RECORDS: &str = "\
phone_number,first_name,last_name,address_line1,city,state,postal_code,address_country_code
+12155550111,Dana,Whitfield,200 Commerce Street,Philadelphia,PA,19103,US
+12155550112,Avery,Stone,12 Pine Street,Philadelphia,PA,19106,US
+12155550113,Morgan,Reyes,45 Harbor Road,Philadelphia,PA,19147,US
+442071838750,Oliver,Bennett,10 Downing St,London,,SW1A 2AA,GB
";

/// The calling number the script gives the customer's account, as SIPp sends it.
const CALLING: &str = "2155550121";
/// The source address of the customer's trunk.
const TRUNK_IP: &str = "127.0.0.5";
/// The file in the harness directory that carries SIDs and tokens between phases.
const STATE: &str = "vetting-state.json";

/// Runs one phase of tests/python/vetting_compat.py against `h`.
async fn phase(h: &Harness, name: &str) {
    common::python::run_phase("vetting_compat.py", name, h.http, h.path(STATE)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SIPp and the twilio Python package; run by scripts/test.sh"]
async fn the_twilio_python_client_is_vetted_automatically_and_calls_reach_a() {
    let uas_port = free_udp_port();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("subscribers.csv");
    std::fs::write(&records, RECORDS).unwrap();
    let h = calling_server(uas, &records).start_in(dir).await;

    // 1. The customer's account and its numbers, made by the operator through the client.
    phase(&h, "accounts").await;
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(h.path(STATE)).unwrap()).unwrap();
    let account = s["whitfield_sid"]
        .as_str()
        .expect("the accounts phase saved the account's SID")
        .to_owned();
    // Trunks name accounts in config, so the proxy restarts with a trunk for the new
    // account, vetting as before; the store keeps everything the client wrote.
    let next = calling_server(uas, &records).trunk(signing_trunk("whitfield", &account, TRUNK_IP));
    let h = h.restart(next).await;
    for claims in calls(&h, uas_port, CALLING, TRUNK_IP, 2, "unvetted").await {
        assert_eq!(claims["attest"], "C", "no customer profile yet");
    }

    // 2. The profiles, decided by the workflow (and the queued one by the operator); the
    // trust product is linked but not submitted, so the calls stay C.
    phase(&h, "vet").await;
    for claims in calls(&h, uas_port, CALLING, TRUNK_IP, 2, "profile").await {
        assert_eq!(
            claims["attest"], "C",
            "the profile is approved but its trust product is not"
        );
    }

    // 3. The trust product, approved by the workflow: the very next calls are A.
    phase(&h, "product").await;
    for claims in calls(&h, uas_port, CALLING, TRUNK_IP, 3, "vetted").await {
        assert_eq!(
            claims["attest"], "A",
            "the workflow approved the trust product"
        );
        assert_eq!(claims["orig"]["tn"], format!("1{CALLING}"));
    }

    // 4. Lookup v2 Identity Match through the client.
    phase(&h, "lookup").await;
}
