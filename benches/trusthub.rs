//! Trust Hub costs: API write throughput over real HTTP, the time from a write's
//! response to the index answering the next call with the new level (checked on every
//! iteration: it must already be visible), and rebuilding the index from a store holding
//! 1,000,000 numbers.
//!
//! Run with `cargo bench --bench trusthub`. Set `CALLSIGN_BENCH_NUMBERS` to bench the
//! rebuild with fewer numbers, and `CALLSIGN_TEST_POSTGRES` (a PostgreSQL server, as
//! `scripts/test.sh` starts one) to bench the writes, and the rebuild from a database of
//! the same numbers, on PostgreSQL beside SQLite.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callsign::api::ApiState;
use callsign::clock::SystemClock;
use callsign::passport::Attest;
use callsign::store::Durability;
use callsign::store::{self, SqliteStore, Store};
use callsign::tn::{Numbering, canonicalize};
use callsign::trust::{Policy, Sid, Trust};
use callsign::trusthub::Hub;
use criterion::{Criterion, criterion_group, criterion_main};
use synthetic::{postgres_database, synthetic};

mod synthetic;
use serde_json::Value;

const OPERATOR: &str = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
const TOKEN: &str = "bench-operator-token";
const NOW: i64 = 1_700_000_000;

struct Server {
    base: String,
    trust: Arc<Trust>,
    hub: Arc<Hub>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(durability: Durability) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = SqliteStore::open(&dir.path().join("bench.db"), durability).expect("store");
        Server::on(Box::new(st), dir).await
    }

    /// On a new database of the PostgreSQL server `CALLSIGN_TEST_POSTGRES` names, if set.
    async fn postgres() -> Option<Server> {
        Some(Server::on_database(postgres_database()?).await)
    }

    /// On the PostgreSQL database `url`.
    async fn on_database(url: String) -> Server {
        let st = tokio::task::spawn_blocking(move || store::PostgresStore::connect(&url))
            .await
            .expect("connect")
            .expect("store");
        Server::on(Box::new(st), tempfile::tempdir().expect("tempdir")).await
    }

    async fn on(st: Box<dyn Store>, dir: tempfile::TempDir) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let trust = Arc::new(Trust::new(
            store::rebuild_index(st.as_ref()).expect("index"),
        ));
        let operator = Some((Sid::parse(OPERATOR, "AC").expect("sid"), TOKEN.to_owned()));
        let hub = Hub::new(
            Arc::from(st),
            Arc::clone(&trust),
            Arc::new(SystemClock),
            Numbering::default(),
            operator,
            None,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let hub = Arc::new(hub);
        let app = callsign::api::routes::router(ApiState::new(Arc::clone(&hub), 65_536, 1 << 20));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server {
            base,
            trust,
            hub,
            client: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: (&str, &str),
        form: &[(&str, &str)],
    ) -> Value {
        let resp = self
            .client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(auth.0, Some(auth.1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("form"))
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn post(&self, path: &str, auth: (&str, &str), form: &[(&str, &str)]) -> Value {
        self.call(reqwest::Method::POST, path, auth, form).await
    }
}

/// A new database on the server `CALLSIGN_TEST_POSTGRES` names, if it is set.
fn sid_of(v: &Value) -> String {
    v["sid"].as_str().expect("sid").to_owned()
}

/// A vetted account (approved primary with its automatic trust product) and one number.
async fn vetted(s: &Server) -> (String, String, String, String) {
    let op = (OPERATOR, TOKEN);
    let account = s.post("/2010-04-01/Accounts.json", op, &[]).await;
    let (sid, token) = (
        sid_of(&account),
        account["auth_token"].as_str().expect("token").to_owned(),
    );
    let a = (sid.as_str(), token.as_str());
    let pn = sid_of(
        &s.post(
            &format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"),
            op,
            &[("PhoneNumber", "+12155550121")],
        )
        .await,
    );
    let p = sid_of(
        &s.post(
            "/v1/CustomerProfiles",
            a,
            &[
                ("FriendlyName", "p"),
                ("Email", "bench@example.com"),
                ("PolicySid", Policy::PrimaryCustomerProfile.sid_str()),
            ],
        )
        .await,
    );
    for t in [
        "customer_profile_business_information",
        "authorized_representative_1",
    ] {
        let it = sid_of(
            &s.post("/v1/EndUsers", a, &[("FriendlyName", t), ("Type", t)])
                .await,
        );
        s.post(
            &format!("/v1/CustomerProfiles/{p}/EntityAssignments"),
            a,
            &[("ObjectSid", &it)],
        )
        .await;
    }
    let address = sid_of(
        &s.post(
            "/v1/SupportingDocuments",
            a,
            &[
                ("FriendlyName", "hq"),
                ("Type", "customer_profile_address"),
                (
                    "Attributes",
                    r#"{"address_sids":"AD0123456789abcdef0123456789abcdef"}"#,
                ),
            ],
        )
        .await,
    );
    s.post(
        &format!("/v1/CustomerProfiles/{p}/EntityAssignments"),
        a,
        &[("ObjectSid", &address)],
    )
    .await;
    s.post(
        &format!("/v1/CustomerProfiles/{p}"),
        a,
        &[("Status", "pending-review")],
    )
    .await;
    s.post(
        &format!("/v1/CustomerProfiles/{p}"),
        op,
        &[("Status", "twilio-approved")],
    )
    .await;
    (sid, token, p, pn)
}

fn api(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("trusthub");
    group.measurement_time(Duration::from_secs(5));
    let mut servers = vec![
        ("normal", rt.block_on(Server::start(Durability::Normal))),
        ("full", rt.block_on(Server::start(Durability::Full))),
    ];
    match rt.block_on(Server::postgres()) {
        Some(s) => servers.push(("postgres", s)),
        None => println!("write_end_user_postgres left out: CALLSIGN_TEST_POSTGRES is not set"),
    }
    for (name, s) in &servers {
        let (sid, token, _, _) = rt.block_on(vetted(s));
        if *name == "normal" {
            // An account is also a graph write: the index copies its (small) graph.
            group.bench_function("write_account_normal", |b| {
                b.iter(|| rt.block_on(s.post("/2010-04-01/Accounts.json", (OPERATOR, TOKEN), &[])))
            });
        }
        let form = [
            ("FriendlyName", "bench"),
            ("Type", "authorized_representative_2"),
        ];
        group.bench_function(format!("write_end_user_{name}"), |b| {
            b.iter(|| rt.block_on(s.post("/v1/EndUsers", (&sid, &token), &form)))
        });
        if *name != "full" {
            // Sixteen clients at once: one iteration is sixteen committed writes.
            let body = serde_urlencoded::to_string(form).expect("form");
            group.bench_function(format!("write_end_user_{name}_x16"), |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut clients = tokio::task::JoinSet::new();
                        for _ in 0..16 {
                            let request = (s.client)
                                .post(format!("{}/v1/EndUsers", s.base))
                                .basic_auth(&sid, Some(&token))
                                .header("content-type", "application/x-www-form-urlencoded")
                                .body(body.clone());
                            clients.spawn(async move {
                                let resp = request.send().await.expect("request");
                                assert!(resp.status().is_success(), "{}", resp.status());
                            });
                        }
                        clients.join_all().await
                    })
                })
            });
        }
    }

    // Assign a number to a vetted profile (and so to its automatic trust product), then
    // take it off; after each response the index must already give the new level.
    let s = rt.block_on(Server::start(Durability::Normal));
    let (sid, token, p, pn) = rt.block_on(vetted(&s));
    let account = Sid::parse(&sid, "AC").expect("sid");
    let tn = canonicalize("+12155550121", &Numbering::default()).expect("tn");
    let path = format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments");
    let mut worst_after_response = Duration::ZERO;
    group.bench_function("write_then_visible", |b| {
        b.iter(|| {
            let ra = rt.block_on(s.post(
                &path,
                (&sid, &token),
                &[
                    ("ChannelEndpointType", "phone-number"),
                    ("ChannelEndpointSid", &pn),
                ],
            ));
            let seen = Instant::now();
            let level = s.trust.load().attest(account, tn, NOW).level;
            worst_after_response = worst_after_response.max(seen.elapsed());
            assert_eq!(
                level,
                Attest::A,
                "the write is visible when its response arrives"
            );
            rt.block_on(s.call(
                reqwest::Method::DELETE,
                &format!("{path}/{}", sid_of(&ra)),
                (&sid, &token),
                &[],
            ));
            assert_eq!(s.trust.load().attest(account, tn, NOW).level, Attest::B);
        })
    });
    println!(
        "write_then_visible: the new level was visible at every check; the slowest check took {worst_after_response:?}"
    );
    group.finish();
}

/// Two nodes on one PostgreSQL database: the time from a write's response on node 1 to
/// node 2's index giving the new level (node 2 follows the change log as `serve` does).
fn visibility(c: &mut Criterion) {
    let Some(url) = postgres_database() else {
        println!("write_visible_on_other_node left out: CALLSIGN_TEST_POSTGRES is not set");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let one = rt.block_on(Server::on_database(url.clone()));
    let (sid, token, p, pn) = rt.block_on(vetted(&one));
    let two = rt.block_on(Server::on_database(url));
    let (tasks, shutdown) = (
        tokio_util::task::TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
    );
    let metrics = Arc::new(callsign::metrics::Metrics::new());
    rt.block_on(async {
        two.hub.follow(
            metrics,
            Duration::from_millis(1000),
            &tasks,
            shutdown.clone(),
        )
    });
    let account = Sid::parse(&sid, "AC").expect("sid");
    let tn = canonicalize("+12155550121", &Numbering::default()).expect("tn");
    let path = format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments");
    let seen_by_two = |level: Attest| {
        let started = Instant::now();
        while two.trust.load().attest(account, tn, NOW).level != level {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "node 2 never saw it"
            );
            std::thread::sleep(Duration::from_micros(100));
        }
        started.elapsed()
    };
    let mut samples = Vec::new();
    let mut group = c.benchmark_group("trusthub");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("write_visible_on_other_node", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let ra = rt.block_on(one.post(
                    &path,
                    (&sid, &token),
                    &[
                        ("ChannelEndpointType", "phone-number"),
                        ("ChannelEndpointSid", &pn),
                    ],
                ));
                let took = seen_by_two(Attest::A);
                samples.push(took);
                total += took;
                rt.block_on(one.call(
                    reqwest::Method::DELETE,
                    &format!("{path}/{}", sid_of(&ra)),
                    (&sid, &token),
                    &[],
                ));
                seen_by_two(Attest::B);
            }
            total
        })
    });
    group.finish();
    shutdown.cancel();
    if samples.is_empty() {
        // Filtered out.
        return;
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "write_visible_on_other_node: {} writes, p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        at(0.5),
        at(0.99),
        samples.last().copied().unwrap_or_default()
    );
}

fn rebuild(c: &mut Criterion) {
    let numbers = std::env::var("CALLSIGN_BENCH_NUMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000u64);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut data = synthetic(numbers, 1_000);
    store::prepare_import(&mut data, "2026-01-01T00:00:00Z");
    let mut stores: Vec<(&str, Box<dyn Store>)> = vec![(
        "",
        Box::new(SqliteStore::open(&dir.path().join("big.db"), Durability::Normal).expect("store")),
    )];
    match postgres_database() {
        Some(url) => stores.push((
            "_postgres",
            Box::new(store::PostgresStore::connect(&url).expect("store")),
        )),
        None => println!("rebuild_index_postgres left out: CALLSIGN_TEST_POSTGRES is not set"),
    }
    for (name, st) in &stores {
        let started = Instant::now();
        st.replace_all(&data).expect("import");
        println!(
            "store import{name}: {numbers} numbers in {:.2?}",
            started.elapsed()
        );
    }
    drop(data);
    let mut group = c.benchmark_group("trusthub");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    for (name, st) in &stores {
        group.bench_function(format!("rebuild_index_{numbers}_numbers{name}"), |b| {
            b.iter(|| {
                let index = store::rebuild_index(black_box(st.as_ref())).expect("rebuild");
                assert_eq!(index.len_numbers() as u64, numbers);
                index
            })
        });
    }
    group.finish();
}

criterion_group!(benches, api, visibility, rebuild);
criterion_main!(benches);
