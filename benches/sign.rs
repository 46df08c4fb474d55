//! Per-call signing cost: `Signer::identity()` (payload encoding, ES256 signature, Identity
//! header assembly), next to `Signer::sign()` and the payload encoding alone, so the
//! ratios show where the time goes. The clock is pinned: `iat` is a constant.

use std::hint::black_box;

use callsign::certs::{SigningKey, dev};
use callsign::passport::{Attest, Claims, Signer, payload_json};
use criterion::{Criterion, criterion_group, criterion_main};

const NOW: i64 = 1_750_000_000;
const X5U: &str = "https://cert.example.org/passport.cer";

fn claims() -> Claims<'static> {
    Claims {
        attest: Attest::A,
        dest: &["12155550131"],
        iat: NOW,
        orig: "12155550121",
        origid: "123e4567-e89b-12d3-a456-426655440000",
    }
}

fn signer() -> Signer {
    let pki = match dev::generate("1234", NOW) {
        Ok(pki) => pki,
        Err(e) => panic!("dev PKI: {e}"),
    };
    let key = match SigningKey::from_pem(&pki.leaf_key_pem) {
        Ok(key) => key,
        Err(e) => panic!("leaf key: {e}"),
    };
    match Signer::new(&key, X5U) {
        Ok(signer) => signer,
        Err(e) => panic!("signer: {e}"),
    }
}

fn bench_sign(c: &mut Criterion) {
    let signer = signer();
    let claims = claims();
    let mut group = c.benchmark_group("passport");
    group.bench_function("identity", |b| {
        b.iter(|| signer.identity(black_box(&claims)))
    });
    group.bench_function("sign", |b| b.iter(|| signer.sign(black_box(&claims))));
    group.bench_function("payload_json", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(192);
            payload_json(black_box(&claims), &mut out);
            out
        })
    });
    group.finish();
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
