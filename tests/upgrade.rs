//! Upgrading a store the previous release made. `tests/data/store/callsign-0.1.0.db` was
//! written by callsign 0.1.0 itself (commit 574f259, before the schema was versioned and
//! before supporting documents had tables); its README says how to make it again. This
//! build, started on a copy, keeps the store as it was beside it, migrates it to the
//! current schema, serves every record 0.1.0 wrote, attests every number as 0.1.0 did,
//! takes new writes into the tables 0.1.0 lacked, and exports what 0.1.0 exported.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use common::api::{ADDRESS, Api, Creds, PRODUCTS, PROFILES};
use common::binary::{callsign, serve, text};
use common::*;

/// The store callsign 0.1.0 wrote, checkpointed into one file.
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/store/callsign-0.1.0.db"
);
/// `callsign trust export` of 0.1.0 on that store.
const OLD_EXPORT: &str = include_str!("data/store/callsign-0.1.0.export.json");
/// `callsign attest` of 0.1.0 for every number of that store: a `$ callsign attest
/// --account AC… --number +1…` line, what it printed, and a blank line.
const OLD_ATTEST: &str = include_str!("data/store/callsign-0.1.0.attest.txt");

/// A config in `dir` whose store, `dir/callsign.db`, is a copy of the fixture; no
/// `[[trunk]]` tables, so the trunks 0.1.0 stored are the ones in force.
fn upgrade_in(dir: &Path) -> PathBuf {
    let cfg = config_in(dir);
    std::fs::copy(FIXTURE, dir.join("callsign.db")).unwrap();
    cfg
}

fn config_in(dir: &Path) -> PathBuf {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    TestServer::new()
        .pki(&dev)
        .trunks(Vec::new())
        .store("{}")
        .write_config(dir)
}

/// The fixture, opened so that nothing is written beside it (no `-wal`, no `-shm`).
fn fixture() -> rusqlite::Connection {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    rusqlite::Connection::open_with_flags(format!("file:{FIXTURE}?immutable=1"), flags).unwrap()
}

fn user_version(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// Every table and index of the store at `db`, with the SQL that made it.
fn schema(db: &Path) -> BTreeSet<(String, String, Option<String>)> {
    schema_of(&rusqlite::Connection::open(db).unwrap())
}

fn schema_of(conn: &rusqlite::Connection) -> BTreeSet<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The schema version and the schema this build gives a new store.
fn current_schema() -> (i64, BTreeSet<(String, String, Option<String>)>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path());
    let made = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made));
    let db = dir.path().join("callsign.db");
    (user_version(&db), schema(&db))
}

/// The evaluations 0.1.0 stored (its export leaves them out): SID, bundle, status.
fn old_evaluations() -> Vec<(String, String, String)> {
    let conn = fixture();
    let mut stmt = conn
        .prepare("SELECT sid, bundle_sid, status FROM evaluations ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The header fields of the pre-migration copy that may differ from the store it copies:
/// SQLite's online backup writes them, and so does callsign's switch of the copy to a
/// rollback journal (one self-contained file). They are the file format versions (18,
/// 19: 2 for WAL in the store, 1 in the copy), the change counter (24..28), the schema
/// cookie (40..44, which the backup sets), and the version-valid-for number and library
/// version (92..100). Today only 18, 19 and the schema cookie differ. The others may
/// differ under another SQLite.
const BACKUP_HEADER: [std::ops::Range<usize>; 4] = [18..20, 24..28, 40..44, 92..100];

/// `(account, number, what 0.1.0 printed)` for each `callsign attest` of [`OLD_ATTEST`].
fn old_attestations() -> Vec<(String, String, String)> {
    OLD_ATTEST
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let (command, printed) = block.split_once('\n').unwrap();
            let words: Vec<&str> = command.split_whitespace().collect();
            assert_eq!(
                words[..4],
                ["$", "callsign", "attest", "--account"],
                "{block}"
            );
            assert_eq!(words[5], "--number", "{block}");
            let printed = format!("{}\n", printed.trim_end());
            (words[4].to_owned(), words[6].to_owned(), printed)
        })
        .collect()
}

fn old_export() -> Value {
    serde_json::from_str(OLD_EXPORT).unwrap()
}

fn str_of<'v>(v: &'v Value, field: &str) -> &'v str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
}

/// GETs `path` as the operator and asserts that the answer has each of `fields` as
/// `old` (a record of 0.1.0's export) has it.
async fn served_as(api: &Api, path: &str, old: &Value, fields: &[&str]) -> Value {
    let (status, body) = api.get(path, &Creds::operator(), &[]).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    for field in fields {
        assert_eq!(
            body[field], old[field],
            "{field} of {path}: {body}\nwas {old}"
        );
    }
    body
}

/// The SIDs a list answers, as the operator, all on one page.
async fn listed(api: &Api, path: &str, key: &str) -> BTreeSet<String> {
    let (status, body) = api
        .get(path, &Creds::operator(), &[("PageSize", "1000")])
        .await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {body}"))
        .iter()
        .map(|r| str_of(r, "sid").to_owned())
        .collect()
}

fn sids_of(list: &Value) -> BTreeSet<String> {
    (list.as_array().unwrap().iter())
        .map(|r| str_of(r, "sid").to_owned())
        .collect()
}

/// Asserts that every record of 0.1.0's export, and every evaluation it stored, is
/// served by the server `api` talks to, with what 0.1.0 wrote.
async fn every_old_record_is_served(api: &Api, old: &Value) {
    let accounts = &old["accounts"];
    assert_eq!(
        listed(api, "/2010-04-01/Accounts.json", "accounts").await,
        sids_of(accounts),
        "the operator sees exactly the accounts 0.1.0 wrote"
    );
    for a in accounts.as_array().unwrap() {
        let sid = str_of(a, "sid");
        let path = format!("/2010-04-01/Accounts/{sid}.json");
        let fields = ["sid", "friendly_name", "status", "type", "auth_token"];
        let served = served_as(api, &path, a, &fields).await;
        let owner = a["parent_sid"].as_str().unwrap_or(sid);
        assert_eq!(served["owner_account_sid"], owner, "{served}");
    }

    for n in old["phone_numbers"].as_array().unwrap() {
        let path = format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
            str_of(n, "account_sid"),
            str_of(n, "sid")
        );
        let served = served_as(api, &path, n, &["sid", "account_sid", "phone_number"]).await;
        if !n["friendly_name"].is_null() {
            assert_eq!(served["friendly_name"], n["friendly_name"], "{served}");
        }
    }

    // Bundles with their statuses, reviews' errors included, and what hangs on them.
    // An assignment names its bundle as Twilio does, by the bundle's kind.
    let of = |kind: &str| match kind {
        PROFILES => "customer_profile_sid",
        _ => "trust_product_sid",
    };
    let mut kind_of = std::collections::HashMap::new();
    for (key, kind) in [
        ("customer_profiles", PROFILES),
        ("trust_products", PRODUCTS),
    ] {
        assert_eq!(
            listed(api, &format!("/v1/{kind}"), "results").await,
            sids_of(&old[key]),
            "the operator sees exactly the {kind} 0.1.0 wrote"
        );
        for b in old[key].as_array().unwrap() {
            let sid = str_of(b, "sid");
            kind_of.insert(sid.to_owned(), kind);
            let fields = [
                "sid",
                "account_sid",
                "policy_sid",
                "status",
                "friendly_name",
                "email",
                "errors",
                "valid_until",
            ];
            served_as(api, &format!("/v1/{kind}/{sid}"), b, &fields).await;
        }
    }
    for u in old["end_users"].as_array().unwrap() {
        let path = format!("/v1/EndUsers/{}", str_of(u, "sid"));
        let fields = ["sid", "account_sid", "friendly_name", "type", "attributes"];
        served_as(api, &path, u, &fields).await;
    }
    for e in old["entity_assignments"].as_array().unwrap() {
        let bundle = str_of(e, "bundle_sid");
        let kind = kind_of[bundle];
        let path = format!("/v1/{kind}/{bundle}/EntityAssignments/{}", str_of(e, "sid"));
        let mut e = e.clone();
        e[of(kind)] = e["bundle_sid"].clone();
        served_as(api, &path, &e, &["sid", of(kind), "object_sid"]).await;
    }
    for c in old["channel_endpoint_assignments"].as_array().unwrap() {
        let bundle = str_of(c, "bundle_sid");
        let kind = kind_of[bundle];
        let path = format!(
            "/v1/{kind}/{bundle}/ChannelEndpointAssignments/{}",
            str_of(c, "sid")
        );
        let mut c = c.clone();
        c[of(kind)] = c["bundle_sid"].clone();
        let fields = [
            "sid",
            of(kind),
            "channel_endpoint_sid",
            "channel_endpoint_type",
        ];
        served_as(api, &path, &c, &fields).await;
    }
    let evaluations = old_evaluations();
    assert!(!evaluations.is_empty(), "the fixture holds evaluations");
    for (sid, bundle, status) in evaluations {
        let kind = kind_of[&bundle];
        let path = format!("/v1/{kind}/{bundle}/Evaluations/{sid}");
        let old = json!({"sid": sid, of(kind): bundle, "status": status});
        served_as(api, &path, &old, &["sid", of(kind), "status"]).await;
    }

    // Trunks and what they use.
    let trunking = &old["trunking"];
    for t in trunking["trunks"].as_array().unwrap() {
        let path = format!("/v1/Trunks/{}", str_of(t, "sid"));
        let fields = ["sid", "account_sid", "friendly_name", "domain_name"];
        let served = served_as(api, &path, t, &fields).await;
        if !t["origid"].is_null() {
            assert_eq!(served["origid"], t["origid"], "{served}");
        }
    }
    let sip = |account: &str| format!("/2010-04-01/Accounts/{account}/SIP");
    for l in trunking["ip_access_control_lists"].as_array().unwrap() {
        let path = format!(
            "{}/IpAccessControlLists/{}.json",
            sip(str_of(l, "account_sid")),
            str_of(l, "sid")
        );
        served_as(api, &path, l, &["sid", "friendly_name"]).await;
    }
    for ip in trunking["ip_addresses"].as_array().unwrap() {
        let path = format!(
            "{}/IpAccessControlLists/{}/IpAddresses/{}.json",
            sip(str_of(ip, "account_sid")),
            str_of(ip, "ip_access_control_list_sid"),
            str_of(ip, "sid")
        );
        let fields = ["sid", "friendly_name", "ip_address", "cidr_prefix_length"];
        served_as(api, &path, ip, &fields).await;
    }
    for l in trunking["credential_lists"].as_array().unwrap() {
        let path = format!(
            "{}/CredentialLists/{}.json",
            sip(str_of(l, "account_sid")),
            str_of(l, "sid")
        );
        served_as(api, &path, l, &["sid", "friendly_name"]).await;
    }
    for c in trunking["credentials"].as_array().unwrap() {
        let path = format!(
            "{}/CredentialLists/{}/Credentials/{}.json",
            sip(str_of(c, "account_sid")),
            str_of(c, "credential_list_sid"),
            str_of(c, "sid")
        );
        served_as(api, &path, c, &["sid", "username"]).await;
    }
    for (key, list, field) in [
        (
            "trunk_ip_access_control_lists",
            "IpAccessControlLists",
            "ip_access_control_list_sid",
        ),
        (
            "trunk_credential_lists",
            "CredentialLists",
            "credential_list_sid",
        ),
    ] {
        for u in trunking[key].as_array().unwrap() {
            let path = format!(
                "/v1/Trunks/{}/{list}/{}",
                str_of(u, "trunk_sid"),
                str_of(u, field)
            );
            let served = served_as(api, &path, &json!({}), &[]).await;
            assert_eq!(served["sid"], u[field], "{served}");
        }
    }
}

/// The account 0.1.0's walkthrough made, and its credentials.
fn acme(old: &Value) -> Creds {
    let acme = (old["accounts"].as_array().unwrap().iter())
        .find(|a| a["friendly_name"] == "Acme Telecom (0.1.0)")
        .expect("the fixture holds Acme");
    Creds::new(str_of(acme, "sid"), str_of(acme, "auth_token"))
}

/// Its profile still in draft, which takes new links.
fn acme_draft(old: &Value) -> String {
    let draft = (old["customer_profiles"].as_array().unwrap().iter())
        .find(|b| b["friendly_name"] == "Acme draft")
        .expect("the fixture holds Acme's draft profile");
    assert_eq!(draft["status"], "draft");
    str_of(draft, "sid").to_owned()
}

#[tokio::test]
async fn serve_backs_up_and_migrates_a_store_of_0_1_0_then_serves_it_whole() {
    let old = old_export();
    let (version, current) = current_schema();
    assert!(version > 0, "this build versions its schema");
    let dir = tempfile::tempdir().unwrap();
    let cfg = upgrade_in(dir.path());
    let db = dir.path().join("callsign.db");
    assert_eq!(user_version(&db), 0, "0.1.0 left the version at 0");
    assert_ne!(schema(&db), current, "0.1.0 lacks tables this build has");

    let server = serve(&cfg);
    let api = Api::new(server.http);

    // Migrated: the current version, and every table and index a new store has.
    assert_eq!(user_version(&db), version);
    assert_eq!(schema(&db), current);

    // The store as 0.1.0 left it is beside it, readable by its owner only: every page
    // as it was, apart from the header fields an SQLite backup rewrites.
    let copy = dir.path().join("callsign.db.v0.bak");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "it holds auth tokens");
    let (was, kept) = (
        std::fs::read(FIXTURE).unwrap(),
        std::fs::read(&copy).unwrap(),
    );
    assert_eq!(kept.len(), was.len());
    let differ: Vec<usize> = (0..was.len())
        .filter(|&i| was[i] != kept[i])
        .filter(|i| !BACKUP_HEADER.iter().any(|r| r.contains(i)))
        .collect();
    assert_eq!(differ, Vec::<usize>::new(), "bytes of the copy that differ");
    assert_eq!(user_version(&copy), 0);
    assert_eq!(schema(&copy), schema_of(&fixture()));

    every_old_record_is_served(&api, &old).await;

    // Every number attests as 0.1.0 attested it, from the CLI and the API.
    let attested = old_attestations();
    assert_eq!(
        attested.len(),
        old["phone_numbers"].as_array().unwrap().len()
    );
    let cfg_arg = cfg.to_str().unwrap();
    for (account, number, printed) in &attested {
        let now = callsign(&[
            "attest",
            "--config",
            cfg_arg,
            "--account",
            account,
            "--number",
            number,
        ]);
        assert!(now.status.success(), "{}", text(&now));
        assert_eq!(
            String::from_utf8_lossy(&now.stdout),
            *printed,
            "{account} {number}"
        );
        let (level, reason) = api.preview(account, number).await;
        assert!(printed.starts_with(&format!("level:   {level}\nreason:  {reason}\n")));
    }

    // New writes, into the tables 0.1.0 did not have and the ones it did: a document
    // with its file, linked to Acme's draft profile, and another number.
    let acme = acme(&old);
    let draft = acme_draft(&old);
    let content = b"%PDF-1.4\n% proof of address of Acme\n%%EOF\n";
    let attributes = json!({"address_sids": ADDRESS}).to_string();
    let fields = [
        ("FriendlyName", "Acme HQ"),
        ("Type", "customer_profile_address"),
        ("Attributes", attributes.as_str()),
    ];
    let file = Some(("hq.pdf", "application/pdf", &content[..]));
    let (status, doc) = api
        .upload("/v1/SupportingDocuments", Some(&acme), &fields, file)
        .await;
    assert_eq!(status, 201, "{doc}");
    let rd = str_of(&doc, "sid").to_owned();
    api.link(&acme, PROFILES, &draft, &rd).await;
    let pn = api.number(&acme.sid, "+12155550109").await;

    let download = format!("/v1/SupportingDocuments/{rd}/File");
    let (status, _, bytes) = api.download(&download, &acme).await;
    assert_eq!((status, bytes.as_slice()), (200, &content[..]));
    let number = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
        acme.sid
    );
    let (status, body) = api.get(&number, &acme, &[]).await;
    assert_eq!(
        (status, &body["phone_number"]),
        (200, &json!("+12155550109"))
    );
    assert!(server.terminate().success());

    // They are in the store, with all that was there.
    let exported = callsign(&["trust", "export", "--config", cfg_arg]);
    assert!(exported.status.success(), "{}", text(&exported));
    let now: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(now["supporting_documents"][0]["sid"], rd.as_str(), "{now}");
    assert_eq!(now["document_files"][0]["sid"], rd.as_str());
    let numbers = sids_of(&now["phone_numbers"]);
    assert!(numbers.contains(&pn));
    assert!(numbers.is_superset(&sids_of(&old["phone_numbers"])));
    assert_eq!(user_version(&db), version, "still the current version");
}

#[test]
fn a_migrated_store_of_0_1_0_exports_what_0_1_0_exported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = upgrade_in(dir.path());
    // The export is the first open of the store: it migrates it, keeping the copy.
    let exported = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    assert!(dir.path().join("callsign.db.v0.bak").is_file());
    let now: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(now, old_export());
}

/// A guard on the fixture itself: it holds what its README says, so a remade fixture
/// that lost records fails here rather than passing the tests above vacuously.
#[test]
fn the_fixture_holds_every_kind_of_record_0_1_0_wrote() {
    let old = old_export();
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    let counts = [
        ("accounts", count(&old["accounts"])),
        ("phone_numbers", count(&old["phone_numbers"])),
        ("customer_profiles", count(&old["customer_profiles"])),
        ("trust_products", count(&old["trust_products"])),
        ("end_users", count(&old["end_users"])),
        ("entity_assignments", count(&old["entity_assignments"])),
        (
            "channel_endpoint_assignments",
            count(&old["channel_endpoint_assignments"]),
        ),
        ("trunks", count(&old["trunking"]["trunks"])),
        ("credentials", count(&old["trunking"]["credentials"])),
        ("evaluations", old_evaluations().len()),
    ];
    assert_eq!(
        counts,
        [
            ("accounts", 6),
            ("phone_numbers", 10),
            ("customer_profiles", 6),
            ("trust_products", 3),
            ("end_users", 7),
            ("entity_assignments", 12),
            ("channel_endpoint_assignments", 10),
            ("trunks", 3),
            ("credentials", 1),
            ("evaluations", 2),
        ]
    );
    let statuses: BTreeSet<&str> = (old["customer_profiles"].as_array().unwrap().iter())
        .map(|b| str_of(b, "status"))
        .collect();
    assert!(
        [
            "draft",
            "twilio-approved",
            "twilio-rejected",
            "pending-review"
        ]
        .iter()
        .all(|s| statuses.contains(s)),
        "{statuses:?}"
    );
}
