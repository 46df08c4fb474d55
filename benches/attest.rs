//! Attestation cost with 1,000,000 numbers loaded, plus the index build time.
//!
//! Needs `[[bench]] name = "attest" harness = false` in Cargo.toml. Run with
//! `cargo bench --bench attest`. The clock is pinned: every call uses the same `now`.

use std::hint::black_box;
use std::time::Instant;

use callsign::tn::{Numbering, Tn, canonicalize};
use callsign::trust::{
    Account, AccountStatus, Bundle, BundleStatus, ChannelEndpointAssignment, EntityAssignment,
    Index, PhoneNumber, Policy, Sid, TrustData,
};
use criterion::{Criterion, criterion_group, criterion_main};

const NUMBERS: u64 = 1_000_000;
const ACCOUNTS: u64 = 1_000;
const NOW: i64 = 1_700_000_000;
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

/// `ACCOUNTS` vetted accounts (approved primary + product); every number on both.
fn synthetic() -> TrustData {
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
        let (profile, product) = (sid("BU", 2 * a), sid("BU", 2 * a + 1));
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
    for i in 0..NUMBERS {
        let a = i % ACCOUNTS;
        let pn = sid("PN", i);
        data.phone_numbers.push(PhoneNumber {
            sid: pn,
            account_sid: sid("AC", a),
            phone_number: format!("+1{}", FIRST + i),
            friendly_name: None,
            date_created: None,
            date_updated: None,
            uri: None,
        });
        for (k, bundle) in [sid("BU", 2 * a), sid("BU", 2 * a + 1)]
            .into_iter()
            .enumerate()
        {
            data.channel_endpoint_assignments
                .push(ChannelEndpointAssignment {
                    sid: sid("RA", 2 * i + k as u64),
                    bundle_sid: bundle,
                    channel_endpoint_sid: pn,
                    channel_endpoint_type: "phone-number".to_owned(),
                    account_sid: None,
                    date_created: None,
                    url: None,
                });
        }
    }
    data
}

fn tn(i: u64) -> Tn {
    canonicalize(&format!("+1{}", FIRST + i), &Numbering::default()).expect("number")
}

fn bench(c: &mut Criterion) {
    let data = synthetic();
    let started = Instant::now();
    let index = Index::build(&data).expect("synthetic data is valid");
    println!(
        "index build: {} numbers in {:.2?}",
        index.len_numbers(),
        started.elapsed()
    );
    drop(data);

    // A spread of owned numbers so lookups do not all hit one cache line.
    let calls: Vec<(Sid, Tn)> = (0..1024)
        .map(|k| {
            let i = (k * 7919) % NUMBERS;
            (sid("AC", i % ACCOUNTS), tn(i))
        })
        .collect();
    let mut group = c.benchmark_group("attest");
    group.bench_function("a_full", |b| {
        let mut k = 0;
        b.iter(|| {
            k = (k + 1) & 1023;
            let (account, number) = calls[k];
            black_box(index.attest(black_box(account), black_box(number), NOW))
        })
    });
    group.bench_function("b_number_not_owned", |b| {
        let number = tn(NUMBERS + 5);
        b.iter(|| black_box(index.attest(black_box(sid("AC", 7)), black_box(number), NOW)))
    });
    group.bench_function("c_unknown_account", |b| {
        let number = tn(5);
        b.iter(|| {
            black_box(index.attest(black_box(sid("AC", ACCOUNTS + 1)), black_box(number), NOW))
        })
    });
    group.finish();

    c.bench_function("tn/from_uri", |b| {
        let plan = Numbering::default();
        b.iter(|| {
            black_box(callsign::tn::from_uri(
                black_box("<sip:+1-215-555-0121@example.com;user=phone>"),
                &plan,
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
