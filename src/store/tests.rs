//! Store tests: the sample data round-trips, lists filter and page, writes survive a
//! reopen, and an index rebuilt from the store decides as one built from the file.

use super::sql::Backend as _;
use super::*;
use crate::passport::Attest;
use crate::tn::{Numbering, canonicalize};
use crate::trust::{AccountStatus, BundleKind, BundleStatus, DocumentFile, SupportingDocument};

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

/// A new, empty store of the backend under test.
type Fresh = fn() -> Box<dyn Store>;

fn seeded(fresh: Fresh) -> Box<dyn Store> {
    seeded_with(fresh, &sample())
}

fn seeded_with(fresh: Fresh, data: &TrustData) -> Box<dyn Store> {
    let store = fresh();
    assert!(store.seed(data).unwrap());
    store
}

fn seeding_happens_once_and_export_round_trips(fresh: Fresh) {
    let mut expected = sample();
    let store = seeded_with(fresh, &expected);
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

fn rebuilt_index_decides_like_the_file(fresh: Fresh) {
    let store = seeded(fresh);
    let rebuilt = rebuild_index(store.as_ref()).unwrap();
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

fn lists_filter_and_page_in_insertion_order(fresh: Fresh) {
    let store = seeded(fresh);
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
    let location = Location::Sqlite(path.clone());
    let bundle_sid = sid("BU2b3c4d5e6f708192a3b4c5d6e7f80401");
    {
        let store = open_seeded(
            &location,
            Some(Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/config/trust.json"
            ))),
            Durability::Normal,
            NOW,
            |_| {},
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
    let store = open_seeded(&location, None, Durability::Full, NOW, |_| {}).unwrap();
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

fn deleting_a_bundle_removes_what_hangs_off_it(fresh: Fresh) {
    let store = seeded(fresh);
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

/// The sample with a trunk of Bluebird's admitting 192.0.2.0/24 through one list, and a
/// verifying trunk its main line is on.
fn with_trunk() -> TrustData {
    let mut data = sample();
    let account = sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801");
    let trunking = serde_json::json!({
        "trunks": [{"sid": "TK00000000000000000000000000000001", "account_sid": account,
                    "friendly_name": "Bluebird PBX"},
                   {"sid": "TK00000000000000000000000000000002", "account_sid": account,
                    "friendly_name": "Bluebird inbound", "role": "verify"}],
        "ip_access_control_lists": [{"sid": "AL00000000000000000000000000000001",
                                     "account_sid": account, "friendly_name": "office"}],
        "ip_addresses": [{"sid": "IP00000000000000000000000000000001", "account_sid": account,
                          "ip_access_control_list_sid": "AL00000000000000000000000000000001",
                          "ip_address": "192.0.2.10", "cidr_prefix_length": 24}],
        "trunk_ip_access_control_lists": [{"trunk_sid": "TK00000000000000000000000000000001",
                                           "ip_access_control_list_sid": "AL00000000000000000000000000000001",
                                           "account_sid": account}],
        "credential_lists": [{"sid": "CL00000000000000000000000000000001", "account_sid": account}],
        "credentials": [{"sid": "CR00000000000000000000000000000001", "account_sid": account,
                         "credential_list_sid": "CL00000000000000000000000000000001",
                         "username": "pbx", "realm": "callsign",
                         "ha1_md5": "00", "ha1_sha256": "00"}],
        "trunk_credential_lists": [{"trunk_sid": "TK00000000000000000000000000000001",
                                    "credential_list_sid": "CL00000000000000000000000000000001",
                                    "account_sid": account}],
        "origination_urls": [{"sid": "OU00000000000000000000000000000001", "account_sid": account,
                              "trunk_sid": "TK00000000000000000000000000000001",
                              "sip_url": "sip:198.51.100.7:5060", "priority": 10,
                              "weight": 10, "enabled": true}],
        "trunk_phone_numbers": [{"trunk_sid": "TK00000000000000000000000000000002",
                                 "phone_number_sid": "PN3c4d5e6f708192a3b4c5d6e7f80a1b01",
                                 "account_sid": account}],
        "signing_identities": [{"sid": "SI00000000000000000000000000000001",
                                "certificate_chain": "PEM", "private_key": "bluebird.pem"}],
        "signing_assignments": [{"signing_identity_sid": "SI00000000000000000000000000000001",
                                 "assigned_sid": "TK00000000000000000000000000000001"}]
    });
    data.trunking = serde_json::from_value(trunking).unwrap();
    prepare_import(&mut data, NOW);
    data.validate().unwrap();
    data
}

fn trunking_round_trips_lists_and_reaches_a_rebuilt_index(fresh: Fresh) {
    let expected = with_trunk();
    let store = seeded_with(fresh, &expected);
    assert_eq!(store.export().unwrap().trunking, expected.trunking);
    let account = sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801");
    let list = sid("AL00000000000000000000000000000001");
    let trunk = sid("TK00000000000000000000000000000001");
    assert_eq!(store.trunks(Some(&[account]), Page::ALL).unwrap().len(), 2);
    assert!(
        store
            .trunks(
                Some(&[sid("AC00000000000000000000000000000009")]),
                Page::ALL
            )
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .ip_access_control_lists(None, Page::ALL)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.ip_addresses(list, Page::ALL).unwrap()[0].cidr_prefix_length,
        24
    );
    assert_eq!(store.trunk_acls(trunk, Page::ALL).unwrap().len(), 1);
    assert_eq!(
        store
            .trunk(trunk)
            .unwrap()
            .unwrap()
            .friendly_name
            .as_deref(),
        Some("Bluebird PBX")
    );

    let index = rebuild_index(store.as_ref()).unwrap();
    let numbers = index.with_trunking(|t| t.trunk_phone_numbers.clone());
    assert_eq!(numbers, expected.trunking.trunk_phone_numbers);
    let hit = index
        .trunk_admitting("192.0.2.200".parse().unwrap())
        .unwrap();
    assert_eq!((hit.sid, hit.account), (trunk, account));
    assert!(
        index
            .trunk_admitting("192.0.3.1".parse().unwrap())
            .is_none()
    );

    // Deleting the use of the list takes the trunk off the table, in the store and the
    // index alike.
    let link = store.trunk_acls(trunk, Page::ALL).unwrap().remove(0);
    let change = Change::DeleteTrunkAcl(link);
    store.apply(std::slice::from_ref(&change)).unwrap();
    index.apply(&change).unwrap();
    assert!(
        index
            .trunk_admitting("192.0.2.200".parse().unwrap())
            .is_none()
    );
    assert!(
        rebuild_index(store.as_ref())
            .unwrap()
            .trunk_admitting("192.0.2.200".parse().unwrap())
            .is_none()
    );
}

#[test]
fn trunking_that_does_not_hold_together_is_refused() {
    let good = with_trunk();
    let mut bad = good.clone();
    bad.trunking.ip_addresses[0].cidr_prefix_length = 4;
    assert!(bad.validate().is_err(), "a /4");
    let mut bad = good.clone();
    bad.trunking.ip_addresses[0].account_sid = sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f802");
    assert!(
        bad.validate().is_err(),
        "an address in another account's list"
    );
    let mut bad = good.clone();
    bad.trunking.trunks[0].account_sid = sid("AC00000000000000000000000000000009");
    assert!(bad.validate().is_err(), "an unknown account");
    let mut bad = good.clone();
    let mut twin = bad.trunking.credentials[0].clone();
    twin.sid = sid("CR00000000000000000000000000000002");
    bad.trunking.credentials.push(twin);
    assert!(bad.validate().is_err(), "a username twice in a list");
    let mut bad = good;
    let mut twin = bad.trunking.ip_addresses[0].clone();
    twin.sid = sid("IP00000000000000000000000000000002");
    bad.trunking.ip_addresses.push(twin.clone());
    bad.trunking.ip_addresses.push(twin);
    assert!(bad.validate().is_err(), "a duplicate SID");
}

fn sqlite() -> Box<dyn Store> {
    Box::new(SqliteStore::in_memory().unwrap())
}

/// A new database on the PostgreSQL server that `CALLSIGN_TEST_POSTGRES` names (the
/// throwaway cluster `scripts/test.sh` starts).
pub(crate) fn postgres() -> Box<dyn Store> {
    Box::new(PostgresStore::connect(&postgres_database()).unwrap())
}

/// The URL of a new database on the test server.
fn postgres_database() -> String {
    let server = std::env::var("CALLSIGN_TEST_POSTGRES")
        .expect("CALLSIGN_TEST_POSTGRES names a PostgreSQL server (scripts/test.sh starts one)");
    let name = format!("store_{}", uuid::Uuid::new_v4().simple());
    postgres::create_database(&server, &name).unwrap()
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn postgres_migrates_once_logs_every_write_and_refuses_a_newer_schema() {
    let url = postgres_database();
    // Nodes starting together: one migrates, the others wait for it and find it done.
    let nodes: Vec<PostgresStore> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..4)
            .map(|_| s.spawn(|| PostgresStore::connect(&url)))
            .collect();
        starts
            .into_iter()
            .map(|t| t.join().unwrap().unwrap())
            .collect()
    });
    let (first, second) = (&nodes[0], &nodes[1]);
    assert!(first.seed(&sample()).unwrap());
    assert!(!second.seed(&sample()).unwrap(), "seeded once");
    assert!(!second.is_empty().unwrap());

    // A write through one node is in the log another reads, in order, whole.
    let mut account = second
        .account(sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f804"))
        .unwrap()
        .unwrap();
    account.status = AccountStatus::Suspended;
    let write = vec![Change::PutAccount(account)];
    first.apply(&write).unwrap();
    let log = second.changes_after(0).unwrap();
    assert_eq!(log.len(), 2, "the seed and the write: {log:?}");
    assert_eq!(log[0].1, None, "a whole import says: reload");
    assert_eq!(log[1].1.as_ref(), Some(&write));
    assert!(log[0].0 < log[1].0);
    assert_eq!(second.changes_after(log[0].0).unwrap().len(), 1);
    assert!(second.changes_after(log[1].0).unwrap().is_empty());
    // Through the feed, the writer's own entries come back empty: its index has them,
    // and its reader moves past them rather than replaying them after later writes.
    let own = first.feed().unwrap().changes_after(0).unwrap();
    let seqs = (log[0].0, log[1].0);
    assert_eq!(own, [(seqs.0, Some(vec![])), (seqs.1, Some(vec![]))]);
    let theirs = second.feed().unwrap().changes_after(0).unwrap();
    assert_eq!(theirs, log, "another node's reader gets them whole");
    // A write that fails commits nothing and logs nothing.
    let clash = PhoneNumber {
        sid: sid("PN00000000000000000000000000000009"),
        ..first
            .number(sid("PN3c4d5e6f708192a3b4c5d6e7f80a1b01"))
            .unwrap()
            .unwrap()
    };
    assert!(
        first.apply(&[Change::PutNumber(clash)]).is_err(),
        "one E.164 per number"
    );
    assert_eq!(second.changes_after(0).unwrap().len(), 2);

    // A database a newer callsign migrated is refused, not written.
    first
        .backend()
        .write(None, |tx| {
            tx.execute("UPDATE callsign_schema SET version = 99", &[])?;
            Ok(((), false))
        })
        .unwrap();
    let refused = PostgresStore::connect(&url)
        .err()
        .expect("refused")
        .to_string();
    assert!(refused.contains("version 99"), "{refused}");
    assert!(refused.contains("newer"), "{refused}");
}

/// A supporting document of the sample's first account with `content` as its file.
fn document(content: &[u8]) -> (SupportingDocument, DocumentFile) {
    let doc = SupportingDocument {
        sid: sid("RD000000000000000000000000000000d1"),
        account_sid: sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801"),
        friendly_name: Some("HQ".into()),
        document_type: "customer_profile_address".into(),
        attributes: serde_json::json!({"address_sids": "AD0123456789abcdef0123456789abcdef"}),
        status: crate::trust::DocumentStatus::Draft,
        valid_until: None,
        mime_type: Some("application/pdf".into()),
        file_size: Some(content.len() as u64),
        file_sha256: Some(crate::trust::documents::sha256_hex(content)),
        date_created: Some("2026-12-03T00:00:00Z".into()),
        date_updated: Some("2026-12-03T00:00:00Z".into()),
        url: None,
    };
    let file = DocumentFile {
        sid: doc.sid,
        content: content.to_vec(),
    };
    (doc, file)
}

fn documents_and_their_files_round_trip(make: fn() -> Box<dyn Store>) {
    let store = make();
    store.seed(&sample()).unwrap();
    // Every byte value survives, not only text.
    let content: Vec<u8> = b"%PDF-".iter().copied().chain(0..=255).collect();
    let (doc, file) = document(&content);
    (store.apply_with(
        &[Change::PutSupportingDocument(doc.clone())],
        std::slice::from_ref(&file),
    ))
    .unwrap();
    assert_eq!(
        store.supporting_document(doc.sid).unwrap(),
        Some(doc.clone())
    );
    assert_eq!(store.document_file(doc.sid).unwrap(), Some(file.clone()));
    let mine = [doc.account_sid];
    let listed = store.supporting_documents(Some(&mine), Page::ALL).unwrap();
    assert_eq!(listed, std::slice::from_ref(&doc));
    let others = [sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f803")];
    assert!(
        store
            .supporting_documents(Some(&others), Page::ALL)
            .unwrap()
            .is_empty()
    );
    // Exported with its file, imported whole into another store.
    let exported = store.export().unwrap();
    assert_eq!(exported.supporting_documents, std::slice::from_ref(&doc));
    assert_eq!(exported.document_files, std::slice::from_ref(&file));
    let again = make();
    again.replace_all(&exported).unwrap();
    assert_eq!(again.export().unwrap(), exported);
    // Deleted, its file goes with it.
    store
        .apply(&[Change::DeleteSupportingDocument(doc.clone())])
        .unwrap();
    assert_eq!(store.supporting_document(doc.sid).unwrap(), None);
    assert_eq!(store.document_file(doc.sid).unwrap(), None);
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn postgres_brings_a_version_1_database_with_data_up_to_date() {
    let url = postgres_database();
    let store = PostgresStore::connect(&url).unwrap();
    assert!(store.seed(&sample()).unwrap());
    let before = store.export().unwrap();
    // Back to what version 1 made, with its data.
    (store.backend())
        .write(None, |tx| {
            tx.execute(
                "DROP TABLE supporting_documents, document_files, review_log, account_activity",
                &[],
            )?;
            tx.execute(
                "ALTER TABLE accounts DROP COLUMN suspension_cause, DROP COLUMN secondary_auth_token",
                &[],
            )?;
            tx.execute("UPDATE callsign_schema SET version = 1", &[])?;
            Ok(((), false))
        })
        .unwrap();
    drop(store);
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(store.export().unwrap(), before, "the data is kept");
    let (doc, file) = document(b"%PDF-1.4");
    (store.apply_with(&[Change::PutSupportingDocument(doc.clone())], &[file])).unwrap();
    assert_eq!(store.supporting_document(doc.sid).unwrap(), Some(doc));
    // Version 3's: the review log, accounts' new columns, their last calls.
    let account = before.accounts[0].sid;
    store.record_activity(&[(account, 1_800_000_000)]).unwrap();
    assert_eq!(store.last_activity(account).unwrap(), Some(1_800_000_000));
    assert_eq!(store.review_log(None, Page::ALL).unwrap(), Vec::new());
    let version = (store.backend())
        .read(|exec| super::sql::scalar(exec, "SELECT version::bigint FROM callsign_schema", &[]))
        .unwrap();
    assert_eq!(version, Some(postgres::MIGRATIONS.len() as i64));
    // A change log entry this build cannot read (a newer node's, during a rolling
    // upgrade) reads as a whole new data set: the follower rebuilds, it does not stop.
    (store.backend())
        .write(None, |tx| {
            let sql = "INSERT INTO change_log (changes) VALUES ('[{\"PutHologram\":{}}]'::jsonb)";
            tx.execute(sql, &[])?;
            Ok(((), false))
        })
        .unwrap();
    let log = store.changes_after(0).unwrap();
    assert_eq!(log.last().map(|(_, c)| c.clone()), Some(None), "{log:?}");
}

/// Each test of `$name`s, once on SQLite and once on PostgreSQL (left out of plain
/// `cargo test`).
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[test]
            fn $name() {
                super::$name(super::sqlite)
            })*
        }
        mod on_postgres {
            $(#[test]
            #[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
            fn $name() {
                super::$name(super::postgres)
            })*
        }
    };
}

on_every_backend!(
    seeding_happens_once_and_export_round_trips,
    rebuilt_index_decides_like_the_file,
    lists_filter_and_page_in_insertion_order,
    deleting_a_bundle_removes_what_hangs_off_it,
    trunking_round_trips_lists_and_reaches_a_rebuilt_index,
    documents_and_their_files_round_trip,
);

/// The `PRAGMA user_version` of the SQLite file at `path`.
fn user_version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// A store as callsign 0.1.0 left it: the same tables, holding `sample()`, and no
/// schema version (0.1.0 never set one). What it holds.
fn store_of_0_1_0(path: &std::path::Path) -> TrustData {
    let store = sqlite::SqliteStore::open(path, Durability::Normal).unwrap();
    store.replace_all(&sample()).unwrap();
    let held = store.export().unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "user_version", 0).unwrap();
    held
}

#[test]
fn a_sqlite_store_of_the_previous_release_is_backed_up_then_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsign.db");
    let held = store_of_0_1_0(&path);
    let before = sqlite::SqliteStore::open(&path, Durability::Normal).unwrap();
    // Opening it migrated it: the current version, the same data.
    assert_eq!(user_version(&path), sqlite::SCHEMA_VERSION);
    assert!(
        before.export().unwrap() == held,
        "the data survives the migration"
    );
    // The copy made first is the store as it was, version and data.
    let copy = sqlite::pre_migration_backup(&path, 0);
    assert_eq!(copy, dir.path().join("callsign.db.v0.bak"));
    assert_eq!(user_version(&copy), 0);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "it holds auth tokens");
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let numbers: i64 = conn
        .query_row("SELECT count(*) FROM phone_numbers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(numbers as usize, sample().phone_numbers.len());
    // Opening it again changes nothing and copies nothing.
    drop(before);
    std::fs::remove_file(&copy).unwrap();
    drop(sqlite::SqliteStore::open(&path, Durability::Normal).unwrap());
    assert!(!copy.exists());
}

#[test]
fn a_new_sqlite_store_starts_at_the_current_version_without_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsign.db");
    drop(sqlite::SqliteStore::open(&path, Durability::Normal).unwrap());
    assert_eq!(user_version(&path), sqlite::SCHEMA_VERSION);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(files.iter().all(|f| {
        !f.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".bak")
    }));
}

#[test]
fn a_sqlite_store_of_a_newer_callsign_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsign.db");
    drop(sqlite::SqliteStore::open(&path, Durability::Normal).unwrap());
    let newer = sqlite::SCHEMA_VERSION + 1;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let refused = sqlite::SqliteStore::open(&path, Durability::Normal)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        refused.contains(&format!(
            "schema is version {newer}, newer than this callsign knows"
        )),
        "{refused}"
    );
    assert!(refused.contains(&path.display().to_string()), "{refused}");
    assert_eq!(user_version(&path), newer);
}

#[test]
fn a_backup_never_overwrites_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsign.db");
    drop(sqlite::SqliteStore::open(&path, Durability::Normal).unwrap());
    let target = dir.path().join("taken");
    std::fs::write(&target, b"keep me").unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let refused = sqlite::backup_to(&conn, &target).unwrap_err();
    assert!(refused.contains("exists"), "{refused}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
}
