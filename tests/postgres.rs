//! PostgreSQL as the store: `callsign serve` on a PostgreSQL URL serves the Trust Hub API
//! and signs from it, `callsign trust export` and `import` move an installation from
//! SQLite to PostgreSQL and back unchanged, and the schema refuses a newer version.
//!
//! Each test makes its own database on the server `CALLSIGN_TEST_POSTGRES` names;
//! `scripts/test.sh` starts a throwaway cluster for them. Plain `cargo test` leaves them
//! out.

mod common;

use std::path::{Path, PathBuf};

use common::api::*;
use common::binary::{assert_fails_saying, callsign, text};
use common::*;

const SAMPLE: &str = include_str!("../config/trust.json");

/// A config in `dir` for the dev PKI and the store at `store`, seeded from the sample.
fn config(dir: &Path, store: &str) -> PathBuf {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    std::fs::create_dir_all(dir).unwrap();
    TestServer::new()
        .pki(&dev)
        .trunks(Vec::new())
        .store(SAMPLE)
        .store_db(store)
        .write_config(dir)
}

fn export(cfg: &Path, out: &Path) -> serde_json::Value {
    let o = callsign(&[
        "trust",
        "export",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
async fn a_server_on_postgres_serves_the_api_and_signs_from_it() {
    let url = fresh_database();
    let h = TestServer::new().store("{}").store_db(&url).start().await;
    let api = Api::new(h.http);
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let pn = api.number(&newco.sid, "+12155550177").await;
    // The write is in the database: another store on it reads it back.
    let store = callsign::store::open(Path::new(&url), Default::default()).unwrap();
    let number = store
        .number(callsign::trust::Sid::parse_any(&pn).unwrap())
        .unwrap()
        .expect("committed to PostgreSQL");
    assert_eq!(number.phone_number, "+12155550177");
    // Vetted through the API, the account's trunk's calls are signed A from the index.
    let ip = "127.0.0.17";
    api.trunk_at(&newco, ip).await;
    let claims = signed_call(&h, ip, "2155550177", "2155550199", "pg-1").await;
    assert_eq!(claims["attest"], "C", "not vetted yet");
    let p = api.compliant_profile(&newco, PRIMARY).await;
    api.assign(&newco, PROFILES, &p, &pn).await;
    let t = api.bundle(&newco, PRODUCTS, SHAKEN, None).await;
    api.link(&newco, PRODUCTS, &t, &p).await;
    api.assign(&newco, PRODUCTS, &t, &pn).await;
    api.approve(&newco, PROFILES, &p).await;
    api.approve(&newco, PRODUCTS, &t).await;
    let claims = signed_call(&h, ip, "2155550177", "2155550199", "pg-2").await;
    assert_eq!(claims["attest"], "A");
    // Every write reached the change log, in order, for the other nodes.
    let log = callsign::store::PostgresStore::connect(&url).unwrap();
    let entries = log.changes_after(0).unwrap();
    assert!(entries.len() >= 10, "{} entries", entries.len());
    assert!(entries.windows(2).all(|w| w[0].0 < w[1].0), "in seq order");
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn export_and_import_move_an_installation_between_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_cfg = config(&dir.path().join("sqlite"), "data/callsign.db");
    let url = fresh_database();
    let pg_cfg = config(&dir.path().join("pg"), &url);
    let back_cfg = config(&dir.path().join("back"), "data/again.db");

    let from_sqlite = export(&sqlite_cfg, &dir.path().join("a.json"));
    let file = dir.path().join("a.json");
    let import = |cfg: &Path| {
        callsign(&[
            "trust",
            "import",
            "--replace",
            "--config",
            cfg.to_str().unwrap(),
            file.to_str().unwrap(),
        ])
    };
    let o = import(&pg_cfg);
    assert!(o.status.success(), "{}", text(&o));
    let from_pg = export(&pg_cfg, &dir.path().join("b.json"));
    assert_eq!(from_pg, from_sqlite, "SQLite to PostgreSQL changes nothing");
    let o = import(&back_cfg);
    assert!(o.status.success(), "{}", text(&o));
    let again = export(&back_cfg, &dir.path().join("c.json"));
    assert_eq!(again, from_sqlite, "and back again");

    // The password of the database never shows in an error.
    let wrong = url.replacen("://callsign@", "://callsign:hunter2@", 1);
    let wrong = wrong.replacen("127.0.0.1:", "127.0.0.1:1", 1);
    let bad_cfg = config(&dir.path().join("bad"), &wrong);
    let o = callsign(&["trust", "export", "--config", bad_cfg.to_str().unwrap()]);
    assert_fails_saying(&o, "cannot open the store");
    assert!(!text(&o).contains("hunter2"), "{}", text(&o));
}
