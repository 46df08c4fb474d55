//! The store through the binary: a killed `callsign serve` loses no committed write,
//! `callsign trust export`/`import` keep the JSON trust-data format, and `callsign
//! attest` answers from the store.

mod common;

use std::path::{Path, PathBuf};

use common::api::{Api, Creds, sids};
use common::binary::{assert_fails_saying, callsign, serve, serve_with, text};
use common::*;

const BLUEBIRD: &str = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";
/// The sample trust data the store is seeded from.
const SAMPLE: &str = include_str!("../config/trust.json");

/// A config in `dir` for the checked-in dev PKI and a store (in a folder the store
/// creates) seeded from the sample trust data.
fn config(dir: &Path) -> PathBuf {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    TestServer::new()
        .pki(&dev)
        .trunks(Vec::new())
        .store(SAMPLE)
        .store_db("data/callsign.db")
        .write_config(dir)
}

fn attest_bluebird(cfg: &str) -> std::process::Output {
    callsign(&[
        "attest",
        "--config",
        cfg,
        "--account",
        BLUEBIRD,
        "--number",
        "+12155550121",
    ])
}

#[tokio::test]
async fn a_killed_server_loses_no_committed_write() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let server = serve(&cfg);
    let api = Api::new(server.http);
    let mut created = Vec::new();
    for i in 0..20 {
        let name = format!("account {i}");
        let form = [("FriendlyName", name.as_str())];
        let (s, body) = api
            .post("/2010-04-01/Accounts.json", &Creds::operator(), &form)
            .await;
        assert_eq!(s, 201, "{body}");
        created.push(body["sid"].as_str().unwrap().to_owned());
    }
    // SIGKILL right after the last response: no shutdown, no checkpoint.
    server.kill();

    let exported = callsign(&["trust", "export", "--config", cfg.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    let data: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    let exported = sids(&data, "accounts");
    for sid in &created {
        assert!(exported.contains(sid), "{sid} lost");
    }

    // And a restarted server serves them (a fresh client: the old one pooled a
    // connection to the killed server).
    let server = serve(&cfg);
    let path = format!("/2010-04-01/Accounts/{}.json", created.last().unwrap());
    let (s, body) = Api::new(server.http)
        .get(&path, &Creds::operator(), &[])
        .await;
    assert_eq!(s, 200, "{body}");
    server.kill();
}

#[test]
fn export_import_round_trip_and_attest_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let cfg = cfg.to_str().unwrap();

    // The first use creates and seeds the store; attest reads it.
    let o = attest_bluebird(cfg);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("level:   A"), "{}", text(&o));
    assert!(text(&o).contains("product: BU2b3c4d5e6f708192a3b4c5d6e7f80102"));

    let out = dir.path().join("export.json");
    let out_path = out.to_str().unwrap();
    let o = callsign(&["trust", "export", "--config", cfg, "--out", out_path]);
    assert!(o.status.success(), "{}", text(&o));
    let exported = callsign::store::load_file(&out).expect("the export is valid trust data");
    assert_eq!(exported.phone_numbers.len(), 7);
    assert_eq!(exported.accounts.len(), 4, "every sample account");
    assert!(exported.accounts.iter().all(|a| a.auth_token.is_some()));

    // Importing into a store that holds data needs --replace.
    let o = callsign(&["trust", "import", "--config", cfg, out_path]);
    assert_fails_saying(&o, "--replace");
    let mut data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    data["trust_products"] = serde_json::json!([]);
    data["entity_assignments"] = serde_json::json!([]);
    data["channel_endpoint_assignments"] = serde_json::json!([]);
    std::fs::write(&out, data.to_string()).unwrap();
    let replace = ["trust", "import", "--replace", "--config", cfg, out_path];
    let o = callsign(&replace);
    assert!(o.status.success(), "{}", text(&o));
    let o = attest_bluebird(cfg);
    assert!(
        text(&o).contains("reason:  c_no_trust_product"),
        "{}",
        text(&o)
    );

    // A file that is not valid trust data is refused and the store is left alone.
    std::fs::write(&out, r#"{"accounts": [{"sid": "ACnope"}]}"#).unwrap();
    let o = callsign(&replace);
    assert_fails_saying(&o, "ACnope");
    let o = attest_bluebird(cfg);
    assert!(text(&o).contains("c_no_trust_product"), "{}", text(&o));
}

#[test]
fn trunks_lists_and_credentials_travel_through_import_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let cfg = cfg.to_str().unwrap();
    // The first use seeds the store with the sample accounts.
    assert!(attest_bluebird(cfg).status.success());
    let out = dir.path().join("export.json");
    let out_path = out.to_str().unwrap();
    assert!(
        callsign(&["trust", "export", "--config", cfg, "--out", out_path])
            .status
            .success()
    );
    let mut data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let account = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801";
    let (trunk, acl, cl) = (
        "TK00000000000000000000000000000001",
        "AL00000000000000000000000000000001",
        "CL00000000000000000000000000000001",
    );
    data["trunking"] = serde_json::json!({
        "trunks": [{"sid": trunk, "account_sid": account, "friendly_name": "PBX",
                    "domain_name": "pbx.bluebird.example",
                    "call_limit": {"per_second": 5, "burst": 10}}],
        "ip_access_control_lists": [{"sid": acl, "account_sid": account}],
        "ip_addresses": [{"sid": "IP00000000000000000000000000000001", "account_sid": account,
                          "ip_access_control_list_sid": acl, "ip_address": "192.0.2.10",
                          "cidr_prefix_length": 32}],
        "trunk_ip_access_control_lists": [{"trunk_sid": trunk, "ip_access_control_list_sid": acl,
                                           "account_sid": account}],
        "credential_lists": [{"sid": cl, "account_sid": account}],
        "credentials": [{"sid": "CR00000000000000000000000000000001", "account_sid": account,
                         "credential_list_sid": cl, "username": "pbx", "realm": "callsign",
                         "ha1_md5": "0123", "ha1_sha256": "4567"}],
        "trunk_credential_lists": [{"trunk_sid": trunk, "credential_list_sid": cl,
                                    "account_sid": account}],
        "origination_urls": [{"sid": "OU00000000000000000000000000000001",
                              "account_sid": account, "trunk_sid": trunk,
                              "friendly_name": "carrier", "sip_url": "sip:198.51.100.7",
                              "priority": 1, "weight": 2, "enabled": false}],
        "signing_identities": [{"sid": "SI00000000000000000000000000000001",
                                "certificate_chain": "PEM",
                                "private_key": "pkcs11:object=bluebird?pin-source=/etc/pin"}],
        "signing_assignments": [{"signing_identity_sid": "SI00000000000000000000000000000001",
                                 "assigned_sid": account}]
    });
    std::fs::write(&out, data.to_string()).unwrap();
    let replace = ["trust", "import", "--replace", "--config", cfg, out_path];
    let o = callsign(&replace);
    assert!(o.status.success(), "{}", text(&o));
    let again = dir.path().join("again.json");
    let again_path = again.to_str().unwrap();
    let o = callsign(&["trust", "export", "--config", cfg, "--out", again_path]);
    assert!(o.status.success(), "{}", text(&o));
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    for list in [
        "trunks",
        "ip_access_control_lists",
        "ip_addresses",
        "trunk_ip_access_control_lists",
        "credential_lists",
        "credentials",
        "trunk_credential_lists",
        "origination_urls",
        "signing_identities",
        "signing_assignments",
    ] {
        let sent = &data["trunking"][list];
        let got = &back["trunking"][list];
        assert_eq!(got.as_array().map(Vec::len), Some(1), "{list}: {got}");
        for (key, value) in sent[0].as_object().unwrap() {
            assert_eq!(&got[0][key], value, "{list}.{key}");
        }
    }
    // Lists of two trunks that overlap are refused, and the store is left alone.
    let mut bad = data.clone();
    let mut second = bad["trunking"]["trunks"][0].clone();
    second["sid"] = "TK00000000000000000000000000000002".into();
    second["domain_name"] = serde_json::Value::Null;
    bad["trunking"]["trunks"][0]["domain_name"] = serde_json::Value::Null;
    bad["trunking"]["trunks"]
        .as_array_mut()
        .unwrap()
        .push(second);
    let mut use_too = bad["trunking"]["trunk_ip_access_control_lists"][0].clone();
    use_too["trunk_sid"] = "TK00000000000000000000000000000002".into();
    bad["trunking"]["trunk_ip_access_control_lists"]
        .as_array_mut()
        .unwrap()
        .push(use_too);
    std::fs::write(&out, bad.to_string()).unwrap();
    assert_fails_saying(&callsign(&replace), "overlaps");
    let o = callsign(&["trust", "export", "--config", cfg, "--out", again_path]);
    assert!(o.status.success(), "{}", text(&o));
    let still: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(
        still["trunking"]["trunks"].as_array().map(Vec::len),
        Some(1)
    );

    // A verifying trunk with one of the account's numbers on it travels too; another
    // account's number on it is refused.
    let mut inbound = data.clone();
    let pn = "PN3c4d5e6f708192a3b4c5d6e7f80a1b01";
    inbound["trunking"]["trunks"].as_array_mut().unwrap().push(
        serde_json::json!({"sid": "TK00000000000000000000000000000003",
                                 "account_sid": account, "role": "verify"}),
    );
    inbound["trunking"]["trunk_phone_numbers"] = serde_json::json!([{
        "trunk_sid": "TK00000000000000000000000000000003",
        "phone_number_sid": pn, "account_sid": account}]);
    std::fs::write(&out, inbound.to_string()).unwrap();
    let o = callsign(&replace);
    assert!(o.status.success(), "{}", text(&o));
    let o = callsign(&["trust", "export", "--config", cfg, "--out", again_path]);
    assert!(o.status.success(), "{}", text(&o));
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(
        back["trunking"]["trunk_phone_numbers"][0]["phone_number_sid"],
        pn
    );
    inbound["trunking"]["trunk_phone_numbers"][0]["phone_number_sid"] =
        "PN3c4d5e6f708192a3b4c5d6e7f80a1b31".into();
    std::fs::write(&out, inbound.to_string()).unwrap();
    assert_fails_saying(&callsign(&replace), "phone number");
}

#[test]
fn the_store_and_its_exports_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = dir.path().join("export.json");
    let o = callsign(&[
        "trust",
        "export",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for file in [dir.path().join("data/callsign.db"), out] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{}: {mode:o}", file.display());
    }
}

#[test]
fn a_trunk_of_an_account_the_trust_data_lacks_is_warned_of_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let ghost = "AC0000000000000000000000000000beef";
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev");
    let cfg = TestServer::new()
        .pki(&dev)
        .trunks(vec![common::signing_trunk("typo", ghost, "127.0.0.44")])
        .store(SAMPLE)
        .store_db("data/callsign.db")
        .write_config(dir.path());
    let server = serve(&cfg);
    // The warning comes before the listeners' lines the helper waited for.
    let warnings = server.warnings.lock().unwrap().join("\n");
    assert!(
        warnings.contains("names an account the trust data does not have")
            && warnings.contains(ghost)
            && warnings.contains("typo"),
        "{warnings}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tells_systemd_when_it_is_ready_and_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let path = dir.path().join("notify.sock");
    let systemd = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    systemd.set_read_timeout(Some(common::WAIT)).unwrap();
    let server = serve_with(&cfg, &[("NOTIFY_SOCKET", path.to_str().unwrap())]);
    let mut buf = [0u8; 256];
    let n = systemd.recv(&mut buf).expect("READY=1 within the wait");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    // It is ready when it says so: its API answers.
    let api = Api::new(server.http);
    let (status, _) = api
        .get("/2010-04-01/Accounts.json", &Creds::operator(), &[])
        .await;
    assert_eq!(status, 200);
    let exit = server.terminate();
    let n = systemd.recv(&mut buf).expect("STOPPING=1 on SIGTERM");
    assert_eq!(&buf[..n], b"STOPPING=1");
    assert!(exit.success(), "{exit:?}");
    // A socket that is not there is said once and changes nothing else.
    let nowhere = dir.path().join("gone/notify.sock");
    let server = serve_with(&cfg, &[("NOTIFY_SOCKET", nowhere.to_str().unwrap())]);
    let (status, _) = Api::new(server.http)
        .get("/2010-04-01/Accounts.json", &Creds::operator(), &[])
        .await;
    assert_eq!(status, 200);
    let warnings = server.warnings.lock().unwrap().join("\n");
    assert!(warnings.contains("cannot notify systemd"), "{warnings}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trust_hub_write_and_refused_login_is_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&config(dir.path()));
    let api = Api::new(server.http);
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let lists = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists.json",
        newco.sid
    );
    let list = api.ok(&lists, &newco, &[("FriendlyName", "pbx")]).await;
    let creds = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists/{}/Credentials.json",
        newco.sid,
        list["sid"].as_str().unwrap()
    );
    let secret = "Sup3rSecretPassw0rd";
    api.ok(
        &creds,
        &newco,
        &[("Username", "pbx1"), ("Password", secret)],
    )
    .await;
    let wrong = Creds::new(&newco.sid, "not-the-token");
    let (s, _) = api
        .post("/v1/Trunks", &wrong, &[("FriendlyName", "x")])
        .await;
    assert_eq!(s, 401);
    let (s, _) = api.get("/v1/Trunks", &newco, &[]).await;
    assert_eq!(s, 200);
    // Lines are read on a thread: wait (bounded) for the last one to be in.
    let mut log = String::new();
    for _ in 0..100 {
        log = server.lines.lock().unwrap().join("\n");
        if log.contains("login refused") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let audit: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("callsign::audit"))
        .collect();
    let created = audit
        .iter()
        .find(|l| l.contains("who=operator") && l.contains("path=/2010-04-01/Accounts.json"))
        .unwrap_or_else(|| panic!("the account's creation: {log}"));
    assert!(
        created.contains("method=POST") && created.contains("status=201"),
        "{created}"
    );
    let credential = audit
        .iter()
        .find(|l| l.contains("Credentials.json"))
        .unwrap_or_else(|| panic!("the credential's creation: {log}"));
    assert!(
        credential.contains(&format!("who={}", newco.sid)),
        "{credential}"
    );
    assert!(
        credential.contains("params=Username,Password"),
        "{credential}"
    );
    let refused = audit
        .iter()
        .find(|l| l.contains("login refused"))
        .unwrap_or_else(|| panic!("the refused login: {log}"));
    assert!(
        refused.contains(&format!("user={}", newco.sid)),
        "{refused}"
    );
    assert!(
        !log.contains(secret) && !log.contains("not-the-token"),
        "{log}"
    );
    assert!(
        !audit.iter().any(|l| l.contains("method=GET")),
        "reads are not writes"
    );
    // Values print as an operator reads them, not as Rust's debug output.
    let serving = log
        .lines()
        .find(|l| l.contains("callsign serving"))
        .unwrap();
    assert!(
        serving.contains(&format!("udp={}", server.udp)),
        "{serving}"
    );
    assert!(!log.contains("Some("), "{log}");
    let loaded = log
        .lines()
        .find(|l| l.contains("signing certificate loaded"))
        .unwrap();
    assert!(
        loaded.contains("spc=") && loaded.contains("not_after=20"),
        "{loaded}"
    );
}

/// `callsign trust <command> --config <cfg>` with `rest`.
fn trust(command: &str, cfg: &str, rest: &[&str]) -> std::process::Output {
    let args: Vec<&str> = ["trust", command, "--config", cfg]
        .into_iter()
        .chain(rest.iter().copied())
        .collect();
    callsign(&args)
}

/// How many phone numbers the SQLite file at `path` holds, after checking it is whole.
fn numbers_in(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{}", path.display());
    // Consistent: no number without its account.
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM phone_numbers WHERE account_sid NOT IN (SELECT sid FROM accounts)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    conn.query_row("SELECT count(*) FROM phone_numbers", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_writes_restores_to_that_moment() {
    const WRITES: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let store = dir.path().join("data/callsign.db");
    let server = serve(&cfg);
    let api = Api::new(server.http);
    let loadco = api.account(&Creds::operator(), "Loadco").await;
    let sample = numbers_in(&store);
    // The API writes numbers, one after another, while the backup is taken.
    let writer = tokio::spawn({
        let (api, account) = (Api::new(server.http), loadco.sid.clone());
        async move {
            for i in 0..WRITES {
                api.number(&account, &format!("+1215556{i:04}")).await;
            }
        }
    });
    let deadline = std::time::Instant::now() + common::WAIT;
    while numbers_in(&store) < sample + 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let backup = dir.path().join("backup.db");
    let taken = {
        let (cfg, backup) = (cfg.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            trust(
                "backup",
                cfg.to_str().unwrap(),
                &["--out", backup.to_str().unwrap()],
            )
        })
        .await
        .unwrap()
    };
    assert!(taken.status.success(), "{}", text(&taken));
    writer.await.unwrap();
    let all = sample + WRITES as i64;
    assert_eq!(numbers_in(&store), all);
    // The backup is whole and holds the store as it was at one moment of the writes.
    let backed_up = numbers_in(&backup);
    assert!(
        (sample + 10..=all).contains(&backed_up),
        "{backed_up} numbers"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&backup).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // A backup never replaces a file.
    let again = trust(
        "backup",
        cfg.to_str().unwrap(),
        &["--out", backup.to_str().unwrap()],
    );
    assert_fails_saying(&again, "exists: move it away or name another file");
    // Restored while serving, the store is the backup's, and the store as it was is kept.
    let restored = trust(
        "restore",
        cfg.to_str().unwrap(),
        &[backup.to_str().unwrap()],
    );
    assert!(restored.status.success(), "{}", text(&restored));
    assert_eq!(numbers_in(&store), backed_up);
    let kept: Vec<PathBuf> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(numbers_in(&kept[0]), all);
    assert!(
        text(&restored).contains(kept[0].to_str().unwrap()),
        "{}",
        text(&restored)
    );
    // After SIGHUP the server answers from the restored data.
    server.signal("HUP");
    let path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        loadco.sid
    );
    let want = (backed_up - sample) as usize;
    let deadline = std::time::Instant::now() + common::WAIT;
    loop {
        let (status, page) = api
            .get(&path, &Creds::operator(), &[("PageSize", "1000")])
            .await;
        assert_eq!(status, 200);
        let listed = page["incoming_phone_numbers"].as_array().unwrap().len();
        if listed == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{listed} numbers listed, want {want}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[test]
fn restore_refuses_what_is_not_a_callsign_store_and_leaves_the_store_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let cfg = cfg.to_str().unwrap();
    // The store exists once something has opened it.
    assert!(
        trust(
            "export",
            cfg,
            &["--out", dir.path().join("x.json").to_str().unwrap()]
        )
        .status
        .success()
    );
    let store = dir.path().join("data/callsign.db");
    let before = numbers_in(&store);
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just bytes").unwrap();
    let o = trust("restore", cfg, &[junk.to_str().unwrap()]);
    assert_fails_saying(&o, "junk.db");
    let empty = dir.path().join("empty.db");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let o = trust("restore", cfg, &[empty.to_str().unwrap()]);
    assert_fails_saying(&o, "not a callsign store");
    let newer = dir.path().join("newer.db");
    std::fs::copy(&store, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let o = trust("restore", cfg, &[newer.to_str().unwrap()]);
    assert_fails_saying(&o, "schema version 99 is newer than this callsign knows");
    let o = trust("restore", cfg, &["/nonexistent/backup.db"]);
    assert_fails_saying(&o, "no such file");
    assert_eq!(numbers_in(&store), before);
    let kept = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("before-restore")
        })
        .count();
    assert_eq!(kept, 0, "nothing was restored, so nothing was set aside");
}

/// `callsign trust review-log` writes the log as `GET /v1/ReviewLog` shows it, one JSON
/// object a line, from the store a server is serving; a bad `--bundle` or an `--out`
/// that cannot be written fails saying so and leaves no file behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_log_is_exported_as_json_lines_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let server = serve(cfg.as_ref());
    let api = Api::new(server.http);
    let op = Creds::operator();
    // The sample's profile waiting for review.
    let quickdial = "BU2b3c4d5e6f708192a3b4c5d6e7f80401";
    let reason = "Called back on the number on file; \"Zoë\" confirmed by phone";
    api.ok(
        &format!("/v1/CustomerProfiles/{quickdial}"),
        &op,
        &[("Status", "twilio-approved"), ("Reason", reason)],
    )
    .await;
    let (_, listed) = api.get("/v1/ReviewLog", &op, &[]).await;

    let out = dir.path().join("review.jsonl");
    let o = trust("review-log", cfg, &["--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("exported 1 review log entries"),
        "{}",
        text(&o)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> = (written.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(serde_json::Value::from(lines.clone()), listed["results"]);
    assert_eq!(lines.len(), 1, "{written}");
    assert_eq!(lines[0]["bundle_sid"], quickdial);
    assert_eq!(lines[0]["decided_by"], "operator");
    assert_eq!(lines[0]["to_status"], "twilio-approved");
    assert_eq!(lines[0]["reason"], reason);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // Another bundle's entries: none, on stdout.
    let other = trust(
        "review-log",
        cfg,
        &["--bundle", "BU2b3c4d5e6f708192a3b4c5d6e7f80499"],
    );
    assert!(other.status.success(), "{}", text(&other));
    assert!(other.stdout.is_empty(), "{}", text(&other));
    let one = trust("review-log", cfg, &["--bundle", quickdial]);
    assert_eq!(String::from_utf8(one.stdout).unwrap(), written);

    // Refused: not a bundle SID, or an --out in a folder that is not there.
    for bad in [
        "AC1a2b3c4d5e6f708192a3b4c5d6e7f801",
        "BU",
        "../../etc/passwd",
    ] {
        assert_fails_saying(&trust("review-log", cfg, &["--bundle", bad]), "--bundle");
    }
    let nowhere = dir.path().join("missing/review.jsonl");
    let o = trust("review-log", cfg, &["--out", nowhere.to_str().unwrap()]);
    assert_fails_saying(&o, "missing/review.jsonl");
    assert!(!dir.path().join("missing").exists());
    server.kill();
}
