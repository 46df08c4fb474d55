//! Attestation cost with 1,000,000 numbers loaded, plus the index build time.
//!
//! Needs `[[bench]] name = "attest" harness = false` in Cargo.toml. Run with
//! `cargo bench --bench attest`. The clock is pinned: every call uses the same `now`.

use std::hint::black_box;
use std::time::Instant;

use callsign::tn::{Numbering, Tn, canonicalize};
use callsign::trust::{Index, Sid};
use criterion::{Criterion, criterion_group, criterion_main};
use synthetic::{FIRST, sid, synthetic};

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

criterion_group!(benches, bench);
criterion_main!(benches);
