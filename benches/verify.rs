//! Verification with a warm certificate cache: `Verifier::verify` on a valid Identity
//! header whose x5u chain and the STI-PA CRL are already cached (all eleven steps, CRL lookups
//! included), next to the pure token steps alone and the signature check alone. The
//! clock is pinned. Compare with `passport/identity` from `--bench sign` in the same run.

use std::hint::black_box;

use callsign::certs::{SigningKey, dev};
use callsign::passport::{Attest, Claims, Signer};
use callsign::verify::{CrlMode, Expected, Token, Verifier, VerifySettings};
use criterion::{Criterion, criterion_group, criterion_main};

const NOW: i64 = 1_750_000_000;
const X5U: &str = "https://cert.example.org/passport.pem";
const CRL_URL: &str = "https://cert.example.org/crl/";

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

fn bench_verify(c: &mut Criterion) {
    let pki = ok(dev::generate_with("1234", CRL_URL, NOW), "dev PKI");
    let key = ok(SigningKey::from_pem(&pki.leaf_key_pem), "leaf key");
    let identity = ok(
        ok(Signer::new(&key, X5U), "signer").identity(&Claims {
            attest: Attest::A,
            dest: &["12155550131"],
            iat: NOW,
            orig: "12155550121",
            origid: "123e4567-e89b-12d3-a456-426655440000",
        }),
        "sign",
    );
    let mut settings = VerifySettings::new(pki.root_pem.clone());
    settings.crl = CrlMode::Require;
    settings.crl_signers_pem = pki.crl_signer_pem.clone();
    let verifier = ok(Verifier::new(settings), "verifier");
    verifier.insert_x5u(X5U, pki.chain_pem().as_bytes(), NOW);
    ok(
        verifier.insert_crl(
            &pki.crl_url,
            pki.crl_pem.as_bytes(),
            &pki.crl_signer_der,
            NOW,
        ),
        "STI-PA CRL",
    );
    let expected = Expected {
        orig: Some("12155550121".into()),
        dest: vec!["12155550131".into()],
        date: None,
    };
    let runtime = ok(
        tokio::runtime::Builder::new_current_thread().build(),
        "runtime",
    );
    let report = runtime.block_on(verifier.verify(&identity, &expected, NOW));
    assert!(report.passed(), "{report}");

    let mut group = c.benchmark_group("verify");
    group.bench_function("identity_warm_cache", |b| {
        b.iter(|| runtime.block_on(verifier.verify(black_box(&identity), &expected, NOW)))
    });
    group.bench_function("token_steps", |b| {
        b.iter(|| {
            let token = ok(Token::parse(black_box(&identity)), "parse");
            let _ = black_box(token.check_header());
            black_box(token.claims())
        })
    });
    let point = key.public_key_sec1();
    let token = ok(Token::parse(&identity), "parse");
    group.bench_function("signature_only", |b| {
        b.iter(|| black_box(token.check_signature(black_box(&point))))
    });
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
