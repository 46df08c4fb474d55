//! Attestation cost with 1,000,000 numbers loaded, plus the index build time.
//!
//! Needs `[[bench]] name = "attest" harness = false` in Cargo.toml. Run with
//! `cargo bench --bench attest`. The clock is pinned: every call uses the same `now`.
//!
//! With `CALLSIGN_TEST_POSTGRES` set, `attest/store` also rebuilds the index from a
//! SQLite store and from a PostgreSQL store of the same data
//! (`CALLSIGN_BENCH_NUMBERS`, 100,000 by default) and times the same lookups on each:
//! no call touches the store, so the two must match within noise.

use std::hint::black_box;
use std::time::Instant;

use callsign::store::{self, Durability, RecordStore, SqliteStore};
use callsign::tn::{Numbering, Tn, canonicalize};
use callsign::trust::{Index, Sid};
use criterion::{Criterion, criterion_group, criterion_main};
use synthetic::{FIRST, postgres_database, sid, synthetic};

mod synthetic;

const NUMBERS: u64 = 1_000_000;
const ACCOUNTS: u64 = 1_000;
const NOW: i64 = 1_700_000_000;

fn tn(i: u64) -> Tn {
    canonicalize(&format!("+1{}", FIRST + i), &Numbering::default()).expect("number")
}

fn bench(c: &mut Criterion) {
    let data = synthetic(NUMBERS, ACCOUNTS);
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

/// The same lookups on indexes rebuilt from a SQLite and a PostgreSQL store.
fn on_stores(c: &mut Criterion) {
    let Some(url) = postgres_database() else {
        return;
    };
    let numbers = std::env::var("CALLSIGN_BENCH_NUMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000u64);
    let mut data = synthetic(numbers, ACCOUNTS);
    store::prepare_import(&mut data, "2026-01-01T00:00:00Z");
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("attest.db"), Durability::Normal);
    let postgres = store::PostgresStore::connect(&url).expect("PostgreSQL");
    let stores: [(&str, Box<dyn RecordStore>); 2] = [
        ("sqlite", Box::new(sqlite.expect("SQLite"))),
        ("postgres", Box::new(postgres)),
    ];
    let calls: Vec<(Sid, Tn)> = (0..1024)
        .map(|k| {
            let i = (k * 7919) % numbers;
            (sid("AC", i % ACCOUNTS), tn(i))
        })
        .collect();
    let mut group = c.benchmark_group("attest/store");
    let mut decided = Vec::new();
    for (name, st) in &stores {
        st.replace_all(&data).expect("import");
        let index = store::rebuild_index(st.as_ref()).expect("rebuild");
        decided.push(
            calls
                .iter()
                .map(|(a, n)| index.attest(*a, *n, NOW).level)
                .collect::<Vec<_>>(),
        );
        group.bench_function(format!("a_full_{name}"), |b| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) & 1023;
                let (account, number) = calls[k];
                black_box(index.attest(black_box(account), black_box(number), NOW))
            })
        });
    }
    group.finish();
    assert_eq!(decided[0], decided[1], "both stores' indexes decide alike");
}

criterion_group!(benches, bench, on_stores);
criterion_main!(benches);
