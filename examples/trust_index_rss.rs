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
use callsign::trust::{
    Account, AccountStatus, Bundle, BundleStatus, ChannelEndpointAssignment, EntityAssignment,
    Index, PhoneNumber, Policy, Sid, TrustData,
};

const NUMBERS: u64 = 1_000_000;
const ACCOUNTS: u64 = 1_000;
const FIRST: u64 = 2_000_000_000;

fn sid(prefix: &str, n: u64) -> Sid {
    Sid::from_u128(prefix, u128::from(n)).expect("valid prefix")
}

fn bundle(sid: Sid, account: Sid, policy: Policy) -> Bundle {
    Bundle {
        sid,
        account_sid: account,
        policy_sid: Sid::parse_any(policy.sid_str()).expect("policy sid"),
        status: BundleStatus::TwilioApproved,
        valid_until: None,
        friendly_name: None,
        email: None,
        status_callback: None,
        errors: None,
        date_created: None,
        date_updated: None,
        url: None,
        links: None,
    }
}

fn phone(i: u64) -> PhoneNumber {
    PhoneNumber {
        sid: sid("PN", i),
        account_sid: sid("AC", i % ACCOUNTS),
        phone_number: format!("+1{}", FIRST + i),
        friendly_name: None,
        date_created: None,
        date_updated: None,
        uri: None,
    }
}

fn profile_and_product(i: u64) -> [Sid; 2] {
    let a = i % ACCOUNTS;
    [sid("BU", 2 * a), sid("BU", 2 * a + 1)]
}

/// Accounts with an approved primary and product each; numbers only if `with_numbers`.
fn synthetic(with_numbers: bool) -> TrustData {
    let mut data = TrustData::default();
    for a in 0..ACCOUNTS {
        let account = sid("AC", a);
        data.accounts.push(Account {
            sid: account,
            parent_sid: None,
            friendly_name: None,
            auth_token: None,
            status: AccountStatus::Active,
            account_type: None,
            date_created: None,
            date_updated: None,
            uri: None,
            subresource_uris: None,
        });
        let [profile, product] = profile_and_product(a);
        data.customer_profiles
            .push(bundle(profile, account, Policy::PrimaryCustomerProfile));
        data.trust_products
            .push(bundle(product, account, Policy::ShakenStir));
        data.entity_assignments.push(EntityAssignment {
            sid: sid("BV", a),
            bundle_sid: product,
            object_sid: profile,
            account_sid: None,
            date_created: None,
            url: None,
        });
    }
    if with_numbers {
        for i in 0..NUMBERS {
            data.phone_numbers.push(phone(i));
            for (k, bundle) in profile_and_product(i).into_iter().enumerate() {
                data.channel_endpoint_assignments
                    .push(ChannelEndpointAssignment {
                        sid: sid("RA", 2 * i + k as u64),
                        bundle_sid: bundle,
                        channel_endpoint_sid: sid("PN", i),
                        channel_endpoint_type: "phone-number".to_owned(),
                        account_sid: None,
                        date_created: None,
                        url: None,
                    });
            }
        }
    }
    data
}

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .unwrap_or_else(|| format!("{field} unavailable"))
}

/// `store PATH`: writes a store of the synthetic data when PATH does not exist, else
/// rebuilds the index from it, as `callsign serve` does at start-up.
fn from_store(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    use callsign::store::{self, SqliteStore, Store};
    let existed = path.exists();
    let st = SqliteStore::open(path, callsign::config::Durability::Normal)?;
    let started = Instant::now();
    if !existed {
        let mut data = synthetic(true);
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
        let index = Index::build(&synthetic(false))?;
        let plan = Numbering::default();
        for i in 0..NUMBERS {
            let number = phone(i);
            index.upsert_number(&number)?;
            let tn = canonicalize(&number.phone_number, &plan)?;
            for bundle in profile_and_product(i) {
                index.assign_number(tn, bundle)?;
            }
        }
        index
    } else {
        let data = synthetic(true);
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
