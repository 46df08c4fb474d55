//! Identity Match costs: one Lookup Identity Match against 1,000,000 subscriber records
//! in memory (`best(&query, &records.records(e164)?)`: the index probe, decoding the
//! number's records, grading every field), which must stay well under 1 ms; the probe and
//! the grade apart, for the ratio; and loading 100,000 rows of CSV.
//!
//! Run with `cargo bench --bench identity`. Set `CALLSIGN_BENCH_RECORDS` to bench with
//! fewer records. The records are synthetic and deterministic (the same on every run),
//! built before any timing starts.

use std::hint::black_box;
use std::time::Instant;

use callsign::vetting::identity::{Provider, Query, Record, Records, best};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const FIRST: &[&str] = &[
    "Robert",
    "Mary Ann",
    "José",
    "Jürgen",
    "Siobhán",
    "Charlotte",
    "Luis",
    "Giuseppe",
    "Lotte",
    "William",
    "Elizabeth",
    "Michael",
    "Nguyễn Văn",
    "Aoife",
    "Zoë",
    "François",
    "Katherine",
    "Ahmed",
    "Priya",
    "Olga",
    "Kwame",
    "Hiroshi",
    "Ana",
    "Søren",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Müller",
    "O'Brien",
    "Carlos Teixeira Brito Junior",
    "Verdi",
    "de Vries",
    "Nguyen",
    "García Márquez",
    "Kowalski",
    "Papadopoulos",
    "Okafor",
    "Tanaka",
    "Ivanova",
    "Fitzgerald-Hughes",
    "Larsen",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Elm",
    "Baker",
    "Immermann",
    "Garibaldi",
    "Jaarbeurs",
    "Costa Esmeralda",
    "Market",
    "Mission",
    "King",
    "Queen",
    "Victoria",
    "Lake Shore",
    "Sunset",
    "Park",
];
const TYPES: &[&str] = &["St", "Street", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Pl"];
const CITIES: &[(&str, &str)] = &[
    ("San Francisco", "CA"),
    ("New York", "NY"),
    ("Chicago", "IL"),
    ("Austin", "TX"),
    ("Seattle", "WA"),
    ("Miami", "FL"),
    ("Denver", "CO"),
    ("Boston", "MA"),
];

/// A deterministic mix of `i` (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], h: u64, shift: u32) -> &'a str {
    list[((h >> shift) as usize) % list.len()]
}

/// The E.164 number of the `i`th synthetic subscriber: distinct for every `i`.
fn number(i: u64) -> String {
    format!("+1{}", 2_012_000_000 + i * 7)
}

/// The `i`th synthetic record; every 50th number has a second record (a household).
fn synthetic(i: u64, second: bool) -> Record {
    let h = mix(i * 2 + u64::from(second));
    let (city, state) = CITIES[(h as usize >> 40) % CITIES.len()];
    Record {
        phone_number: number(i),
        first_name: Some(pick(FIRST, h, 0).to_owned()),
        last_name: Some(pick(LAST, h, 8).to_owned()),
        address_line1: Some(format!(
            "{} {} {}",
            1 + (h >> 16) % 9999,
            pick(STREETS, h, 24),
            pick(TYPES, h, 32)
        )),
        address_line2: (h >> 44)
            .is_multiple_of(3)
            .then(|| format!("Apt {}", 1 + (h >> 48) % 40)),
        city: Some(city.to_owned()),
        state: Some(state.to_owned()),
        postal_code: Some(format!("{:05}", 10_000 + (h >> 20) % 89_999)),
        address_country_code: Some("US".to_owned()),
        national_id: (h >> 52)
            .is_multiple_of(2)
            .then(|| format!("{:09}", h % 1_000_000_000)),
        date_of_birth: Some(format!(
            "{}{:02}{:02}",
            1940 + (h >> 12) % 65,
            1 + (h >> 4) % 12,
            1 + (h >> 6) % 28
        )),
    }
}

fn all_records(n: u64) -> impl Iterator<Item = Record> {
    (0..n).flat_map(|i| {
        let second = i.is_multiple_of(50).then(|| synthetic(i, true));
        std::iter::once(synthetic(i, false)).chain(second)
    })
}

/// What a caller submits for a record: a near miss in name and address form (a typo
/// in the first name, the unit in line 1, abbreviations expanded), the rest as held.
fn query_for(r: &Record) -> Query {
    let mut q = r.to_query();
    q.first_name = r.first_name.as_ref().map(|f| {
        let mut f = f.to_uppercase();
        f.push('e');
        f
    });
    q.address_line1 = Some(format!(
        "{}, {}",
        r.address_line2.as_deref().unwrap_or(""),
        r.address_line1
            .as_deref()
            .unwrap_or("")
            .replace(" St", " Street")
    ));
    q.address_line2 = None;
    q.postal_code = r.postal_code.as_ref().map(|p| format!("{p}-1234"));
    q
}

fn bench(c: &mut Criterion) {
    let n: u64 = std::env::var("CALLSIGN_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let records: Records = all_records(n).collect();
    eprintln!(
        "identity: {} records of {} numbers built in {:.2?}",
        records.len(),
        records.numbers(),
        started.elapsed()
    );
    // 1,024 numbers spread over the whole set, each with its query.
    let probes: Vec<(String, Query)> = (0..1024u64)
        .map(|k| {
            let i = mix(k) % n;
            let held = records.records(&number(i)).expect("records");
            (number(i), query_for(&held[0]))
        })
        .collect();

    let mut group = c.benchmark_group("identity");
    let mut k = 0usize;
    group.bench_function(format!("lookup_and_grade_{n}"), |b| {
        b.iter(|| {
            let (e164, query) = &probes[k % probes.len()];
            k += 1;
            let held = records.records(black_box(e164)).expect("records");
            black_box(best(query, &held))
        })
    });
    let mut k = 0usize;
    group.bench_function(format!("lookup_only_{n}"), |b| {
        b.iter(|| {
            let (e164, _) = &probes[k % probes.len()];
            k += 1;
            black_box(records.records(black_box(e164)).expect("records"))
        })
    });
    let fetched: Vec<(Vec<Record>, &Query)> = probes
        .iter()
        .map(|(e164, q)| (records.records(e164).expect("records"), q))
        .collect();
    let mut k = 0usize;
    group.bench_function("grade_only", |b| {
        b.iter(|| {
            let (held, query) = &fetched[k % fetched.len()];
            k += 1;
            black_box(best(query, held))
        })
    });
    group.finish();

    let csv = csv_text(100_000);
    let mut group = c.benchmark_group("identity_csv");
    group.sample_size(10);
    group.bench_function("from_csv_100000_rows", |b| {
        b.iter_batched(
            || csv.as_bytes(),
            |bytes| black_box(Records::from_csv(bytes).expect("csv")),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// `rows` synthetic records as CSV, with a header row.
fn csv_text(rows: u64) -> String {
    let mut out = String::from(
        "phone_number,first_name,last_name,address_line1,address_line2,city,state,postal_code,\
         address_country_code,national_id,date_of_birth\n",
    );
    for r in all_records(rows) {
        let cell = |v: &Option<String>| match v {
            Some(v) if v.contains(',') || v.contains('"') => {
                format!("\"{}\"", v.replace('"', "\"\""))
            }
            Some(v) => v.clone(),
            None => String::new(),
        };
        let cells = [
            Some(r.phone_number.clone()),
            r.first_name,
            r.last_name,
            r.address_line1,
            r.address_line2,
            r.city,
            r.state,
            r.postal_code,
            r.address_country_code,
            r.national_id,
            r.date_of_birth,
        ];
        out.push_str(&cells.iter().map(cell).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
