//! Builds a trust index with 1,000,000 numbers (each on a profile and a product) and
//! prints the process's resident memory, so the index's footprint can be measured:
//!
//! ```text
//! cargo build --release --example trust_index_rss
//! /usr/bin/time -v target/release/examples/trust_index_rss           # from TrustData
//! /usr/bin/time -v target/release/examples/trust_index_rss updates   # through upserts
//! target/release/examples/trust_index_rss store /tmp/1m.db            # writes the store
//! /usr/bin/time -v target/release/examples/trust_index_rss store /tmp/1m.db  # rebuilds from it
//! ```
//!
//! `VmRSS` after the build is the index alone; `VmHWM` (and time's "Maximum resident
//! set size") includes the transient `TrustData` of the first mode.

use std::time::Instant;

use callsign::tn::{Numbering, canonicalize};
use callsign::trust::{Change, ChannelEndpointAssignment, Index, Sid};

// The benches' synthetic world, so the example measures the data they time.
#[path = "../benches/synthetic/mod.rs"]
mod synthetic;
use synthetic::{phone, profile_and_product, synthetic};

const NUMBERS: u64 = 1_000_000;
const ACCOUNTS: u64 = 1_000;

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .unwrap_or_else(|| format!("{field} unavailable"))
}

/// `store PATH`: writes a store of the synthetic data when PATH does not exist, else
/// rebuilds the index from it, as `callsign serve` does at start-up.
fn from_store(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    use callsign::store::{self, RecordStore, SqliteStore};
    let existed = path.exists();
    let st = SqliteStore::open(path, callsign::store::Durability::Normal)?;
    let started = Instant::now();
    if !existed {
        let mut data = synthetic(NUMBERS, ACCOUNTS);
        store::prepare_import(&mut data, "2026-01-01T00:00:00Z");
        st.replace_all(&data)?;
        println!(
            "store written in {:.2?}; run again to rebuild from it",
            started.elapsed()
        );
        return Ok(());
    }
    println!("before: {}", status("VmRSS"));
    let index = store::rebuild_index(&st)?;
    println!(
        "rebuilt {} numbers from the store in {:.2?}",
        index.len_numbers(),
        started.elapsed()
    );
    println!("after: {}", status("VmRSS"));
    println!("peak:  {}", status("VmHWM"));
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::args().nth(1);
    if mode.as_deref() == Some("store") {
        let path = std::env::args()
            .nth(2)
            .ok_or("usage: trust_index_rss store PATH")?;
        return from_store(std::path::Path::new(&path));
    }
    let updates = mode.as_deref() == Some("updates");
    println!("before: {}", status("VmRSS"));
    let started = Instant::now();
    let index = if updates {
        let index = Index::build(&synthetic(0, ACCOUNTS))?;
        let plan = Numbering::default();
        for i in 0..NUMBERS {
            let number = phone(i, ACCOUNTS);
            let tn = canonicalize(&number.phone_number, &plan)?;
            let pn = number.sid;
            index.apply(&Change::PutNumber(number))?;
            for (k, bundle) in profile_and_product(i, ACCOUNTS).into_iter().enumerate() {
                let assignment = ChannelEndpointAssignment {
                    sid: Sid::from_parts(*b"RA", (i as u128) << 1 | k as u128),
                    bundle_sid: bundle,
                    channel_endpoint_sid: pn,
                    channel_endpoint_type: "phone-number".into(),
                    account_sid: None,
                    date_created: None,
                    url: None,
                };
                index.apply(&Change::PutChannelEndpointAssignment(assignment, tn))?;
            }
        }
        index
    } else {
        let data = synthetic(NUMBERS, ACCOUNTS);
        println!("trust data generated: {}", status("VmRSS"));
        Index::build(&data)?
    };
    println!(
        "built {} numbers in {:.2?} ({})",
        index.len_numbers(),
        started.elapsed(),
        if updates {
            "through upserts"
        } else {
            "from TrustData"
        }
    );
    println!("after: {}", status("VmRSS"));
    println!("peak:  {}", status("VmHWM"));
    Ok(())
}
