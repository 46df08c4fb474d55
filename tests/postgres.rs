//! PostgreSQL as the store: `callsign serve` on a PostgreSQL URL serves the Trust Hub API
//! and signs from it, `callsign trust export` and `import` move an installation from
//! SQLite to PostgreSQL and back unchanged, and the schema refuses a newer version.
//!
//! Each test makes its own database on the server `CALLSIGN_TEST_POSTGRES` names;
//! `scripts/test.sh` starts a throwaway cluster for them. Plain `cargo test` leaves them
//! out.

mod common;

use std::path::{Path, PathBuf};

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use callsign::store::{PostgresStore, RecordStore};
use common::api::*;
use common::binary::{Served, assert_fails_saying, callsign, serve, text};
use common::sipp::{Target, calls_to, free_udp_port};
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

/// Gives `who` an approved Primary profile and SHAKEN trust product, both holding `pn`;
/// returns the profile's SID.
async fn vet(api: &Api, who: &Creds, pn: &str) -> String {
    let p = api.compliant_profile(who, PRIMARY).await;
    api.assign(who, PROFILES, &p, pn).await;
    let t = api.bundle(who, PRODUCTS, SHAKEN, None).await;
    api.link(who, PRODUCTS, &t, &p).await;
    api.assign(who, PRODUCTS, &t, pn).await;
    api.approve(who, PROFILES, &p).await;
    api.approve(who, PRODUCTS, &t).await;
    p
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
    vet(&api, &newco, &pn).await;
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

/// Tries `attempt` every 20 ms until it returns true, for at most `limit`: how long it
/// took, or `None`.
async fn within(
    limit: std::time::Duration,
    mut attempt: impl AsyncFnMut() -> bool,
) -> Option<std::time::Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if attempt().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
async fn two_nodes_on_one_database_see_each_others_writes_on_their_calls() {
    let url = fresh_database();
    let one = TestServer::new().store("{}").store_db(&url).start().await;
    let two = TestServer::new().store("{}").store_db(&url).start().await;
    let (api1, api2) = (Api::new(one.http), Api::new(two.http));
    let op = Creds::operator();

    // Built and vetted through node 1.
    let newco = api1.account(&op, "Newco").await;
    let pn = api1.number(&newco.sid, "+12155550178").await;
    let ip = "127.0.0.18";
    let trunk = api1.trunk_at(&newco, ip).await;
    vet(&api1, &newco, &pn).await;
    let at_one = signed_call(&one, ip, "2155550178", "2155550199", "n1-a").await;
    assert_eq!(at_one["attest"], "A");
    // Node 2 signs the same call A, from its own index, once the feed brings it.
    let mut n = 0;
    let seen = within(std::time::Duration::from_secs(5), async || {
        n += 1;
        let call = format!("n2-{n}");
        let uac = send_invite(two.udp, ip, &call, ("2155550178", "2155550199"), None, "").await;
        let (m, _) = recv_until_any(&uac, two.uas_udp(), &call).await;
        m.starts_with("INVITE ")
            && verify_identity(
                &header(&m, callsign::sip::HeaderName::Identity).unwrap_or_default(),
                &two.leaf_public_key,
            )["attest"]
                == "A"
    })
    .await;
    let took = seen.expect("node 2 signs A within 5 s of node 1's writes");
    eprintln!("node 1's writes reached node 2's calls in {took:?}");
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");

    // Taken off the trunk through node 2, the source is refused by node 1 too.
    let uses = format!("/v1/Trunks/{trunk}/IpAccessControlLists");
    let (_, lists) = api2.get(&uses, &newco, &[]).await;
    let list = lists["ip_access_control_lists"][0]["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = api2.delete(&format!("{uses}/{list}"), &newco).await;
    assert_eq!(s, 204);
    let mut n = 0;
    let refused = within(std::time::Duration::from_secs(5), async || {
        n += 1;
        let call = format!("n1-off-{n}");
        let uac = send_invite(one.udp, ip, &call, ("2155550178", "2155550199"), None, "").await;
        let (m, _) = recv_until_any(&uac, one.uas_udp(), &call).await;
        m.starts_with("SIP/2.0 403")
    })
    .await;
    refused.expect("node 1 refuses the source within 5 s of node 2's write");
    one.assert_metric("callsign_trust_feed_lag 0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
async fn a_document_uploaded_through_one_node_is_served_by_the_other() {
    let url = fresh_database();
    let one = TestServer::new().store("{}").store_db(&url).start().await;
    let two = TestServer::new().store("{}").store_db(&url).start().await;
    let (api1, api2) = (Api::new(one.http), Api::new(two.http));
    let op = Creds::operator();
    let newco = api1.account(&op, "Newco").await;
    let rival = api1.account(&op, "Rival").await;
    let pdf = b"%PDF-1.4\n% Newco's proof of address\n%%EOF\n";
    let attributes = serde_json::json!({"address_sids": ADDRESS}).to_string();
    let (s, doc) = api1
        .upload(
            "/v1/SupportingDocuments",
            Some(&newco),
            &[
                ("FriendlyName", "hq"),
                ("Type", "customer_profile_address"),
                ("Attributes", &attributes),
            ],
            Some(("hq.pdf", "application/pdf", pdf)),
        )
        .await;
    assert_eq!(s, 201, "{doc}");
    let file = format!(
        "/v1/SupportingDocuments/{}/File",
        doc["sid"].as_str().unwrap()
    );
    let (s, headers, bytes) = api2.download(&file, &newco).await;
    assert_eq!((s, bytes.as_slice()), (200, &pdf[..]));
    assert_eq!(headers["content-type"], "application/pdf");
    let (s, _, _) = api2.download(&file, &rival).await;
    assert_eq!(s, 404);
    // The change log carries the record, never the file.
    let log = PostgresStore::connect(&url).unwrap();
    let logged = log.feed().unwrap().changes_after(0).unwrap();
    let text = serde_json::to_string(&logged).unwrap();
    assert!(text.contains(doc["sid"].as_str().unwrap()), "{text}");
    assert!(
        !text.contains("proof of address") && !text.contains("JVBERi"),
        "{text}"
    );
}

/// GET `path` of the HTTP listener at `http`: the status and the JSON body.
async fn probe(http: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::get(format!("http://{http}{path}")).await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// The first of: call `call`'s INVITE reaching `uas` (answered 486), or a final
/// answer reaching `uac`.
async fn recv_until_any(
    uac: &tokio::net::UdpSocket,
    uas: &tokio::net::UdpSocket,
    call: &str,
) -> (String, std::net::SocketAddr) {
    let id = format!("Call-ID: {call}\r\n");
    let at_uas = recv_until(uas, |m| m.starts_with("INVITE ") && m.contains(&id));
    let at_uac = recv_until(uac, |m| {
        m.starts_with("SIP/2.0 ") && !m.starts_with("SIP/2.0 100")
    });
    tokio::select! {
        (m, from) = at_uas => {
            let busy = respond(&m, 486, "Busy Here", "");
            uas.send_to(busy.as_bytes(), from).await.unwrap();
            (m, from)
        }
        got = at_uac => got,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
async fn while_postgres_is_down_calls_keep_their_level_and_writes_get_503() {
    let pg = common::postgres::Cluster::start();
    let h = TestServer::new()
        .store("{}")
        .store_db(&pg.url())
        .start()
        .await;
    let api = Api::new(h.http);
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let pn = api.number(&newco.sid, "+12155550179").await;
    let ip = "127.0.0.19";
    let trunk = api.trunk_at(&newco, ip).await;
    vet(&api, &newco, &pn).await;
    assert_eq!(
        signed_call(&h, ip, "2155550179", "2155550199", "down-0").await["attest"],
        "A"
    );
    // What the index holds whole: trunks, access lists and their addresses.
    let (_, lists) = api
        .get(
            &format!("/v1/Trunks/{trunk}/IpAccessControlLists"),
            &newco,
            &[],
        )
        .await;
    let list = lists["ip_access_control_lists"][0]["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let sip = format!("/2010-04-01/Accounts/{}/SIP", newco.sid);
    let readable = [
        "/v1/Trunks".to_owned(),
        format!("/v1/Trunks/{trunk}"),
        format!("/v1/Trunks/{trunk}/IpAccessControlLists"),
        format!("/v1/Trunks/{trunk}/IpAccessControlLists/{list}"),
        format!("{sip}/IpAccessControlLists.json"),
        format!("{sip}/IpAccessControlLists/{list}.json"),
        format!("{sip}/IpAccessControlLists/{list}/IpAddresses.json"),
        format!("{sip}/CredentialLists.json"),
    ];
    let mut before = Vec::new();
    for path in &readable {
        for who in [&newco, &op] {
            let (status, body) = api.get(path, who, &[]).await;
            assert_eq!(status, 200, "{path}: {body}");
            before.push(body);
        }
    }
    // An account that has not been seen since it was made, and one suspended since.
    let stranger = api.account(&op, "Stranger").await;
    let gone = api.account(&op, "Gone").await;
    assert_eq!(api.get("/v1/Trunks", &gone, &[]).await.0, 200);
    let suspend = [("Status", "suspended")];
    let path = format!("/2010-04-01/Accounts/{}.json", gone.sid);
    assert_eq!(api.post(&path, &op, &suspend).await.0, 200);

    pg.stop();
    // Reads the index can answer are answered from it, the same as before, for the
    // operator and for an account this node has seen; the rest are 503.
    let mut after = Vec::new();
    for path in &readable {
        for who in [&newco, &op] {
            let (status, body) = api.get(path, who, &[]).await;
            assert_eq!(status, 200, "{path} while PostgreSQL is down: {body}");
            after.push(body);
        }
    }
    assert_eq!(after, before, "read from the index as from the database");
    let wrong = Creds::new(&newco.sid, "not-the-token");
    assert_eq!(api.get("/v1/Trunks", &wrong, &[]).await.0, 401);
    for who in [&stranger, &gone] {
        let (status, body) = api.get("/v1/Trunks", who, &[]).await;
        assert_eq!(
            (status, &body["code"]),
            (503, &serde_json::json!(20503)),
            "{body}"
        );
    }
    let numbers = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        newco.sid
    );
    let (status, body) = api.get(&numbers, &newco, &[]).await;
    assert_eq!(
        (status, &body["code"]),
        (503, &serde_json::json!(20503)),
        "{body}"
    );
    // Calls are signed from the index, at the level they had.
    for n in 1..=3 {
        let call = format!("down-{n}");
        assert_eq!(
            signed_call(&h, ip, "2155550179", "2155550199", &call).await["attest"],
            "A"
        );
    }
    // A write is refused as Twilio refuses when it cannot serve: 503, code 20503.
    let accounts = "/2010-04-01/Accounts.json";
    let (status, body) = api.post(accounts, &op, &[("FriendlyName", "Later")]).await;
    assert_eq!(
        (status, &body["code"]),
        (503, &serde_json::json!(20503)),
        "{body}"
    );
    assert_eq!(body["status"], 503);

    // Back up, writes go through again (the pool reconnects), and the listener too.
    pg.start_again();
    let mut made = None;
    within(std::time::Duration::from_secs(15), async || {
        let (status, body) = api.post(accounts, &op, &[("FriendlyName", "Later")]).await;
        if status == 201 {
            made = Some(body);
        }
        status == 201
    })
    .await
    .expect("writes work again once PostgreSQL is back");
    assert_eq!(made.unwrap()["friendly_name"], "Later");
    let reconnected = within(std::time::Duration::from_secs(15), async || {
        let metrics = h.http_get("/metrics").await;
        metrics
            .lines()
            .any(|l| l.starts_with("callsign_trust_feed_reconnects_total ") && !l.ends_with(" 0"))
    })
    .await;
    reconnected.expect("the change listener reconnected");
    assert_eq!(
        signed_call(&h, ip, "2155550179", "2155550199", "up-1").await["attest"],
        "A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
async fn a_node_killed_mid_stream_loses_no_acknowledged_write() {
    let url = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let cfg = TestServer::new()
        .store("{}")
        .store_db(&url)
        .write_config(dir.path());
    let one = common::binary::serve(&cfg);
    let two = TestServer::new().store("{}").store_db(&url).start().await;
    let api2 = Api::new(two.http);
    let op = Creds::operator();
    // A vetted account with a trunk: its own numbers on no bundle are signed B.
    let newco = api2.account(&op, "Newco").await;
    let ip = "127.0.0.20";
    api2.trunk_at(&newco, ip).await;
    let p = api2.compliant_profile(&newco, PRIMARY).await;
    api2.approve(&newco, PROFILES, &p).await;

    // Numbers written through node 1, one after another, until it is killed.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stream = {
        let (acked, account) = (std::sync::Arc::clone(&acked), newco.sid.clone());
        let url = format!(
            "http://{}/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            one.http
        );
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..500 {
                let e164 = format!("+1215556{i:04}");
                let sent = client
                    .post(&url)
                    .basic_auth(OPERATOR_SID, Some(OPERATOR_TOKEN))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("PhoneNumber=%2B{}", &e164[1..]))
                    .send()
                    .await;
                // The kill ends the stream: a refused or cut request was not acknowledged.
                match sent {
                    Ok(r) if r.status().as_u16() == 201 => {
                        acked.lock().unwrap().push(e164[2..].to_owned())
                    }
                    _ => break,
                }
            }
        })
    };
    within(std::time::Duration::from_secs(20), async || {
        acked.lock().unwrap().len() >= 20
    })
    .await
    .expect("node 1 takes writes");
    one.kill();
    stream.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 20 && acked.len() < 500,
        "{} writes",
        acked.len()
    );

    // Every acknowledged number is in the database, and node 2 signs for it as the
    // account's (B), not as a stranger's (C).
    let store = callsign::store::open(Path::new(&url), Default::default()).unwrap();
    for number in &acked {
        assert!(
            store
                .number_by_e164(&format!("+1{number}"))
                .unwrap()
                .is_some(),
            "{number} lost"
        );
    }
    for number in &acked {
        let mut n = 0;
        let signed_b = within(std::time::Duration::from_secs(5), async || {
            n += 1;
            let call = format!("kill-{number}-{n}");
            signed_call(&two, ip, number, "2155550199", &call).await["attest"] == "B"
        })
        .await;
        signed_b.unwrap_or_else(|| panic!("node 2 does not know {number}"));
    }
}

/// The dev PKI's folder, which every node of a multi-node test signs with.
fn dev_pki_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/dev")
}

/// A `callsign serve` process on the store `url` with its config in `dir`, signing with
/// the dev PKI, whose calls go to a UAS on `uas_port`.
fn node(dir: &Path, url: &str, uas_port: u16) -> Served {
    std::fs::create_dir_all(dir).unwrap();
    let uas: SocketAddr = format!("127.0.0.1:{uas_port}").parse().unwrap();
    let cfg = TestServer::new()
        .pki(&dev_pki_dir())
        .trunks(Vec::new())
        .store("{}")
        .store_db(url)
        .upstream_at(uas)
        .write_config(dir);
    serve(&cfg)
}

/// Places `n` SIPp calls from `ip` with calling number `caller` through `node`, whose
/// upstream is a SIPp UAS on `uas_port`: every call must complete; the level of each.
async fn levels(
    node: &Served,
    dir: &Path,
    uas_port: u16,
    caller: &str,
    ip: &str,
    n: u32,
    tag: &str,
) -> Vec<String> {
    let chain = std::fs::read_to_string(dev_pki_dir().join("chain.pem")).unwrap();
    let key = common::harness::leaf_public_key(&chain);
    let at = Target {
        sip: node.udp,
        dir,
        leaf_public_key: &key,
    };
    let claims = calls_to(&at, uas_port, caller, ip, n, tag).await;
    claims
        .iter()
        .map(|c| c["attest"].as_str().unwrap().to_owned())
        .collect()
}

/// How long after `since` each of `nodes` applied `log`'s change log up to its head now.
async fn seen_by(log: &PostgresStore, nodes: &[&Served], since: Instant) -> Vec<Duration> {
    let nodes: Vec<SocketAddr> = nodes.iter().map(|n| n.http).collect();
    applied_everywhere(log.feed().unwrap().head().unwrap(), &nodes, since).await
}

/// Asserts that the writes made up to `written` reached each of `nodes` (numbered) within
/// a second, and that five SIPp calls through each (`calls`: the trace folder, the UAS's
/// port, the trunk's address) are then signed `level`. How long each took.
async fn reaches(
    log: &PostgresStore,
    nodes: &[(usize, &Served)],
    written: Instant,
    (dir, uas_port, ip): (&Path, u16, &str),
    level: &str,
) -> Vec<Duration> {
    let served: Vec<&Served> = nodes.iter().map(|(_, n)| *n).collect();
    let took = seen_by(log, &served, written).await;
    assert!(took.iter().all(|t| *t < Duration::from_secs(1)), "{took:?}");
    for (n, node) in nodes {
        let tag = format!("{level}{n}");
        let got = levels(node, dir, uas_port, "2155550181", ip, 5, &tag).await;
        assert_eq!(got, [level; 5], "node {n}");
    }
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql) and SIPp; run by scripts/test.sh"]
async fn three_nodes_sign_from_one_database_and_follow_each_others_writes() {
    let url = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let uas_port = free_udp_port();
    let nodes: Vec<Served> = (1..=3)
        .map(|n| node(&dir.path().join(format!("node{n}")), &url, uas_port))
        .collect();
    let [one, two, three] = [&nodes[0], &nodes[1], &nodes[2]];
    let log = PostgresStore::connect(&url).unwrap();
    let op = Creds::operator();
    let (api1, api3) = (Api::new(one.http), Api::new(three.http));

    // Through node 1: an account, its number, a trunk, an approved profile and product.
    let newco = api1.account(&op, "Newco").await;
    let pn = api1.number(&newco.sid, "+12155550181").await;
    let ip = "127.0.0.21";
    api1.trunk_at(&newco, ip).await;
    let profile = vet(&api1, &newco, &pn).await;
    let calls = (dir.path(), uas_port, ip);
    // Nodes 2 and 3 sign A, from their own indexes.
    let took = reaches(&log, &[(2, two), (3, three)], Instant::now(), calls, "A").await;
    eprintln!("node 1's last write reached nodes 2 and 3 in {took:?}");

    // The operator rejects the profile through node 3: nodes 1 and 2 sign C.
    let written = Instant::now();
    api3.move_to(&op, PROFILES, &profile, "twilio-rejected")
        .await;
    let took = reaches(&log, &[(1, one), (2, two)], written, calls, "C").await;
    eprintln!("node 3's rejection reached nodes 1 and 2 in {took:?}");
    for node in &nodes {
        assert_eq!(
            metric(node.http, "callsign_trust_feed_lag").await,
            Some(0.0)
        );
        assert_eq!(
            metric(node.http, "callsign_trust_store_up").await,
            Some(1.0)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql) and SIPp; run by scripts/test.sh"]
async fn with_postgres_stopped_mid_stream_two_nodes_fail_no_call_and_converge_after() {
    let pg = std::sync::Arc::new(common::postgres::Cluster::start());
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let uas = [free_udp_port(), free_udp_port()];
    let nodes = [
        node(&dir.path().join("node1"), &url, uas[0]),
        node(&dir.path().join("node2"), &url, uas[1]),
    ];
    let apis = [Api::new(nodes[0].http), Api::new(nodes[1].http)];
    let op = Creds::operator();
    let newco = apis[0].account(&op, "Newco").await;
    let pn = apis[0].number(&newco.sid, "+12155550182").await;
    let ip = "127.0.0.22";
    apis[0].trunk_at(&newco, ip).await;
    vet(&apis[0], &newco, &pn).await;
    seen_by(
        &PostgresStore::connect(&url).unwrap(),
        &[&nodes[1]],
        Instant::now(),
    )
    .await;

    // 100 calls through each node at 25 a second; PostgreSQL stops a second in.
    let (d1, d2) = (dir.path().join("node1"), dir.path().join("node2"));
    let first = levels(&nodes[0], &d1, uas[0], "2155550182", ip, 100, "during");
    let second = levels(&nodes[1], &d2, uas[1], "2155550182", ip, 100, "during");
    let stop = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let pg = std::sync::Arc::clone(&pg);
        tokio::task::spawn_blocking(move || pg.stop())
            .await
            .unwrap()
    };
    let (first, second, ()) = tokio::join!(first, second, stop);
    assert_eq!(first, vec!["A"; 100], "node 1 while PostgreSQL stopped");
    assert_eq!(second, vec!["A"; 100], "node 2 while PostgreSQL stopped");

    // Writes are refused cleanly on both, and the metrics say why.
    for (n, api) in apis.iter().enumerate() {
        let path = format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
            newco.sid
        );
        let (status, body) = api
            .post(&path, &op, &[("PhoneNumber", "+12155550183")])
            .await;
        assert_eq!(
            (status, &body["code"]),
            (503, &serde_json::json!(20503)),
            "node {n}: {body}"
        );
    }
    for node in &nodes {
        let down = async || metric(node.http, "callsign_trust_store_up").await == Some(0.0);
        within(Duration::from_secs(10), down)
            .await
            .expect("callsign_trust_store_up says the store is down");
        let stale = metric(node.http, "callsign_trust_feed_lag_seconds").await;
        assert!(stale > Some(0.0), "{stale:?}");
        // Not ready (a load balancer takes it out), still alive.
        let (status, body) = probe(node.http, "/ready").await;
        assert_eq!(
            (status, &body["checks"]["store"]),
            (503, &serde_json::json!(false))
        );
        assert_eq!(probe(node.http, "/health").await.0, 200);
    }

    // Back up: a write through each node, and both indexes converge on the same data.
    pg.start_again();
    for (api, e164) in apis.iter().zip(["+12155550184", "+12155550185"]) {
        let path = format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
            newco.sid
        );
        within(Duration::from_secs(15), async || {
            api.post(&path, &op, &[("PhoneNumber", e164)]).await.0 == 201
        })
        .await
        .expect("writes work again once PostgreSQL is back");
    }
    let log = PostgresStore::connect(&url).unwrap();
    seen_by(&log, &[&nodes[0], &nodes[1]], Instant::now()).await;
    for node in &nodes {
        let ready = async || probe(node.http, "/ready").await.0 == 200;
        within(Duration::from_secs(10), ready)
            .await
            .expect("ready again once PostgreSQL is back");
    }
    let expected = [
        ("+12155550182", "A"),
        ("+12155550184", "B"),
        ("+12155550185", "B"),
    ];
    for (number, level) in expected {
        for api in &apis {
            let (attest, reason) = api.preview(&newco.sid, number).await;
            assert_eq!(attest, level, "{number}: {reason}");
        }
    }
    for (i, d) in [(0, &d1), (1, &d2)] {
        let got = levels(&nodes[i], d, uas[i], "2155550185", ip, 3, "after").await;
        assert_eq!(got, ["B"; 3], "node {} after the outage", i + 1);
    }
}

/// The SID of number `e164` of `account` in the index of the server `api` talks to
/// (empty when the index has no such number), from the attestation preview.
async fn indexed(api: &Api, account: &Creds, e164: &str) -> String {
    let query = [("AccountSid", account.sid.as_str()), ("PhoneNumber", e164)];
    let (status, body) = api.get("/v1/Attestation", &Creds::operator(), &query).await;
    assert_eq!(status, 200, "{body}");
    body["phone_number_sid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
async fn a_node_whose_change_log_went_back_rebuilds_from_the_store() {
    let url = fresh_database();
    let h = TestServer::new().store("{}").store_db(&url).start().await;
    let api = Api::new(h.http);
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let store = PostgresStore::connect(&url).unwrap();
    let before = store.feed().unwrap().head().unwrap();
    let pn = api.number(&newco.sid, "+12155550186").await;
    applied_everywhere(
        store.feed().unwrap().head().unwrap(),
        &[h.http],
        Instant::now(),
    )
    .await;
    assert_eq!(indexed(&api, &newco, "+12155550186").await, pn);

    // The database goes back to before the number, as a restored backup or a failover
    // that lost the last writes would: the number and its log entries are gone.
    let number = store
        .number(callsign::trust::Sid::parse_any(&pn).unwrap())
        .unwrap()
        .unwrap();
    store
        .apply(&[callsign::trust::Change::DeleteNumber(number)])
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rewind = format!(
        "DELETE FROM change_log WHERE seq > {before}; \
         SELECT setval(pg_get_serial_sequence('change_log', 'seq'), {before});"
    );
    client.batch_execute(&rewind).await.unwrap();
    drop(client);

    // The node sees the log behind its index and rebuilds from what the store holds.
    let rebuilt = within(Duration::from_secs(5), async || {
        metric(h.http, "callsign_trust_index_seq").await == Some(before as f64)
    })
    .await;
    rebuilt.expect("the node went back to the log's head");
    assert_eq!(
        indexed(&api, &newco, "+12155550186").await,
        "",
        "still indexed"
    );
    // And follows the log from there.
    api.number(&newco.sid, "+12155550187").await;
    let other = TestServer::new().store("{}").store_db(&url).start().await;
    let head = store.feed().unwrap().head().unwrap();
    assert_eq!(head, before + 1);
    applied_everywhere(head, &[h.http, other.http], Instant::now()).await;
    for server in [&h, &other] {
        let api = Api::new(server.http);
        assert_ne!(indexed(&api, &newco, "+12155550187").await, "");
        assert_eq!(indexed(&api, &newco, "+12155550186").await, "");
    }
}
