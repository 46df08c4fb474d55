//! Store tests: the sample data round-trips, lists filter and page, writes survive a
//! reopen, and an index rebuilt from the store decides as one built from the file.

use super::*;
use crate::passport::Attest;
use crate::tn::{Numbering, canonicalize};
use crate::trust::{AccountStatus, BundleKind, BundleStatus};

const SAMPLE: &str = include_str!("../../config/trust.json");
const NOW: &str = "2026-01-01T00:00:00Z";

fn sample() -> TrustData {
    let mut data = TrustData::from_json(SAMPLE).unwrap();
    prepare_import(&mut data, NOW);
    data
}

fn sid(s: &str) -> Sid {
    Sid::parse_any(s).unwrap()
}

fn seeded() -> SqliteStore {
    seeded_with(&sample())
}

fn seeded_with(data: &TrustData) -> SqliteStore {
    let store = SqliteStore::in_memory().unwrap();
    assert!(store.seed(data).unwrap());
    store
}

#[test]
fn seeding_happens_once_and_export_round_trips() {
    let mut expected = sample();
    let store = seeded_with(&expected);
    assert!(!store.is_empty().unwrap());
    assert!(!store.seed(&TrustData::default()).unwrap());
    let mut exported = store.export().unwrap();
    for d in [&mut exported, &mut expected] {
        d.accounts.sort_by_key(|a| a.sid);
    }
    assert_eq!(exported, expected);
    store.replace_all(&TrustData::default()).unwrap();
    assert!(store.is_empty().unwrap());
}

#[test]
fn import_gives_every_account_a_token_and_dates() {
    let data = sample();
    assert_eq!(
        data.accounts.len(),
        4,
        "the sample's accounts are all checked"
    );
    for a in &data.accounts {
        assert_eq!(a.auth_token.as_ref().map(String::len), Some(32));
        assert_eq!(a.date_created.as_deref(), Some(NOW));
    }
}

#[test]
fn rebuilt_index_decides_like_the_file() {
    let store = seeded();
    let rebuilt = rebuild_index(&store).unwrap();
    let built = Index::build(&TrustData::from_json(SAMPLE).unwrap()).unwrap();
    assert_eq!(rebuilt.len_numbers(), built.len_numbers());
    let plan = Numbering::default();
    for account in [
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f802",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f803",
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f804",
    ] {
        for n in [
            "+12155550121",
            "+12155550123",
            "+12155550141",
            "+12155550151",
            "+12675550100",
        ] {
            let tn = canonicalize(n, &plan).unwrap();
            assert_eq!(
                rebuilt.attest(sid(account), tn, 1_700_000_000),
                built.attest(sid(account), tn, 1_700_000_000),
                "{account} {n}"
            );
        }
    }
    let bluebird = sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801");
    let main_line = canonicalize("+12155550121", &plan).unwrap();
    assert_eq!(
        rebuilt.attest(bluebird, main_line, 1_700_000_000).level,
        Attest::A
    );
}

#[test]
fn lists_filter_and_page_in_insertion_order() {
    let store = seeded();
    let all = store
        .bundles(&BundleQuery::of(BundleKind::CustomerProfile), Page::ALL)
        .unwrap();
    assert_eq!(all.len(), 3);
    let approved = store
        .bundles(
            &BundleQuery {
                status: Some(BundleStatus::TwilioApproved),
                ..BundleQuery::of(BundleKind::CustomerProfile)
            },
            Page::ALL,
        )
        .unwrap();
    assert_eq!(approved.len(), 2);
    let second = store
        .bundles(
            &BundleQuery::of(BundleKind::CustomerProfile),
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!(second[0].sid, all[1].sid);
    let products = store
        .bundles(
            &BundleQuery {
                accounts: Some(vec![sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f803")]),
                ..BundleQuery::of(BundleKind::TrustProduct)
            },
            Page::ALL,
        )
        .unwrap();
    assert_eq!(products.len(), 1);
    let subs = store
        .accounts(
            &AccountQuery {
                parent: Some(sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801")),
                ..AccountQuery::default()
            },
            Page::ALL,
        )
        .unwrap();
    assert_eq!(subs.len(), 2);
    let numbers = store
        .numbers(
            &NumberQuery {
                account: sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801"),
                pattern: Some("555012*".into()),
                friendly_name: None,
            },
            Page::ALL,
        )
        .unwrap();
    assert_eq!(numbers.len(), 3);
    let on_main_line = store
        .channel_endpoint_assignments(
            None,
            &[sid("PN3c4d5e6f708192a3b4c5d6e7f80a1b01")],
            Page::ALL,
        )
        .unwrap();
    assert_eq!(on_main_line.len(), 2);
}

#[test]
fn committed_writes_survive_a_reopen_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/callsign.db");
    let bundle_sid = sid("BU2b3c4d5e6f708192a3b4c5d6e7f80401");
    {
        let store = open_seeded(
            &path,
            Some(Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/config/trust.json"
            ))),
            Durability::Normal,
            NOW,
        )
        .unwrap();
        let mut b = store.bundle(bundle_sid).unwrap().unwrap();
        b.status = BundleStatus::TwilioApproved;
        let mut a = store
            .account(sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f804"))
            .unwrap()
            .unwrap();
        a.status = AccountStatus::Suspended;
        store
            .apply(&[Change::PutBundle(b), Change::PutAccount(a)])
            .unwrap();
        // Dropped without a checkpoint: the write lives in the WAL.
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let store = open_seeded(&path, None, Durability::Full, NOW).unwrap();
    assert_eq!(
        store.bundle(bundle_sid).unwrap().map(|b| b.status),
        Some(BundleStatus::TwilioApproved)
    );
    assert_eq!(
        store
            .account(sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f804"))
            .unwrap()
            .map(|a| a.status),
        Some(AccountStatus::Suspended)
    );
}

#[test]
fn deleting_a_bundle_removes_what_hangs_off_it() {
    let store = seeded();
    let primary = sid("BU2b3c4d5e6f708192a3b4c5d6e7f80401");
    let bundle = store.bundle(primary).unwrap().unwrap();
    assert!(
        !store
            .channel_endpoint_assignments(Some(primary), &[], Page::ALL)
            .unwrap()
            .is_empty(),
        "the bundle holds numbers before"
    );
    store.apply(&[Change::DeleteBundle(bundle)]).unwrap();
    assert_eq!(store.bundle(primary).unwrap(), None);
    assert!(
        store
            .channel_endpoint_assignments(Some(primary), &[], Page::ALL)
            .unwrap()
            .is_empty()
    );
    let number = sid("PN3c4d5e6f708192a3b4c5d6e7f80a1b51");
    let record = store.number(number).unwrap().unwrap();
    store.apply(&[Change::DeleteNumber(record)]).unwrap();
    assert_eq!(store.number(number).unwrap(), None);
    assert_eq!(store.number_by_e164("+12155550151").unwrap(), None);
}

#[test]
fn load_file_names_the_path_it_could_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    match load_file(&missing) {
        Err(StoreError::ReadFile { path, .. }) => assert!(path.ends_with("missing.json")),
        other => panic!("{other:?}"),
    }
    let file = dir.path().join("trust.json");
    std::fs::write(&file, "{}").unwrap();
    assert_eq!(load_file(&file), Ok(TrustData::default()));
    std::fs::write(&file, r#"{"numbers":[]}"#).unwrap();
    assert!(matches!(
        load_file(&file),
        Err(StoreError::Trust(TrustError::Json(m))) if m.contains("numbers")
    ));
}
