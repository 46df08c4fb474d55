//! TLS to a PostgreSQL store: a cluster of the test's own with `ssl = on`, a certificate
//! made here by a CA made here, and TCP connections only over TLS with a password. Each
//! `sslmode` connects or fails as libpq's does, a failure says why without the password,
//! and the `[trust.postgres]` table reaches the same database as a URL.
//!
//! Plain `cargo test` leaves them out; `scripts/test.sh` runs them.

mod common;

use std::path::{Path, PathBuf};

use callsign::config::TrustConfig;
use callsign::store::postgres::{SslMode, Target};
use callsign::store::{self, PostgresStore, RecordStore};
use common::postgres::{Cluster, ServerTls};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

const PASSWORD: &str = "s3cr3t-Pa55word";

/// A CA: its certificate (PEM) and what signs with it.
fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

/// A cluster whose certificate, issued by a CA of its own, names `localhost` only; and
/// a directory holding that CA (`ca.pem`) and another one (`other-ca.pem`).
fn tls_cluster() -> (Cluster, tempfile::TempDir) {
    let (ca_pem, issuer) = ca("callsign test database CA");
    let (other_pem, _) = ca("callsign test other CA");
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let cluster = Cluster::start_tls(&ServerTls {
        cert_pem: &cert.pem(),
        key_pem: &key.serialize_pem(),
        password: PASSWORD,
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.path().join("other-ca.pem"), other_pem).unwrap();
    (cluster, dir)
}

/// The cluster's `postgres` database at `host`, with the password and `query`.
fn url(cluster: &Cluster, host: &str, query: &str) -> String {
    format!(
        "postgres://callsign:{PASSWORD}@{host}:{}/postgres?{query}",
        cluster.port()
    )
}

fn ca_file(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

/// Connects and proves the connection works: the store commits a write and reads.
fn connects(url: &str) {
    let store = PostgresStore::connect(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    store
        .replace_all(&callsign::trust::TrustData::default())
        .unwrap();
    assert!(store.is_empty().unwrap());
}

/// Fails to connect, with a message that names the cause and never the password.
fn refused(url: &str, cause: &[&str]) -> String {
    let e = match PostgresStore::connect(url) {
        Ok(_) => panic!("{url}: connected"),
        Err(e) => e.to_string(),
    };
    eprintln!("refused as expected: {e}");
    assert!(!e.contains(PASSWORD), "the password leaked: {e}");
    assert!(
        cause.iter().any(|c| e.contains(c)),
        "{url}: expected one of {cause:?} in: {e}"
    );
    e
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn verify_full_connects_with_the_right_ca_and_host_only() {
    let (cluster, dir) = tls_cluster();
    let ca = ca_file(dir.path(), "ca.pem");
    let other = ca_file(dir.path(), "other-ca.pem");
    connects(&url(
        &cluster,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    // Another CA: the chain leads nowhere trusted.
    refused(
        &url(
            &cluster,
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={other}"),
        ),
        &["UnknownIssuer"],
    );
    // The right CA, but the certificate does not name 127.0.0.1.
    let e = refused(
        &url(
            &cluster,
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
        &["not valid for name", "NotValidForName"],
    );
    assert!(e.contains("127.0.0.1"), "{e}");
    // verify-ca checks the chain, not the name.
    connects(&url(
        &cluster,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ));
    refused(
        &url(
            &cluster,
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={other}"),
        ),
        &["UnknownIssuer"],
    );
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn unverified_modes_encrypt_and_disable_does_not() {
    let (cluster, dir) = tls_cluster();
    // The server takes TCP connections over TLS only, so these connected encrypted.
    connects(&url(&cluster, "127.0.0.1", "sslmode=require"));
    connects(&url(&cluster, "127.0.0.1", "sslmode=prefer"));
    connects(&url(&cluster, "127.0.0.1", ""));
    refused(
        &url(&cluster, "127.0.0.1", "sslmode=disable"),
        &["no encryption"],
    );
    // require with a CA file checks the chain, as libpq does.
    let other = ca_file(dir.path(), "other-ca.pem");
    refused(
        &url(
            &cluster,
            "127.0.0.1",
            &format!("sslmode=require&sslrootcert={other}"),
        ),
        &["UnknownIssuer"],
    );
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn require_fails_against_a_server_without_tls() {
    let cluster = Cluster::start();
    let plain = cluster.url();
    refused(
        &format!("{plain}?sslmode=require"),
        &["server does not support TLS"],
    );
    // prefer (the default) falls back to plain TCP, as libpq's does.
    connects(&format!("{plain}?sslmode=prefer"));
}

/// `text` read as a `[trust]` table.
fn trust_config(text: &str) -> TrustConfig {
    toml::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
#[ignore = "needs PostgreSQL (Debian package postgresql); run by scripts/test.sh"]
fn the_trust_postgres_table_reaches_the_database_over_verified_tls() {
    let (cluster, dir) = tls_cluster();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let table = |extra: &str| {
        format!(
            "[postgres]\nhost = \"localhost\"\nport = {}\ndbname = \"postgres\"\n\
             user = \"callsign\"\npassword_file = {:?}\nsslmode = \"verify-full\"\n\
             sslrootcert = {:?}\npool_size = 2\nconnect_timeout_s = 3\n{extra}",
            cluster.port(),
            password_file,
            dir.path().join("ca.pem"),
        )
    };
    let config = trust_config(&table(""));
    let Some(store::Location::Postgres(target)) = config.location().unwrap() else {
        panic!("a PostgreSQL location");
    };
    assert_eq!(target.ssl_mode(), SslMode::VerifyFull);
    assert_eq!(target.pool_size(), 2);
    assert!(!format!("{target:?}").contains(PASSWORD));
    let store = PostgresStore::connect_to(&target).unwrap();
    store
        .replace_all(&callsign::trust::TrustData::default())
        .unwrap();

    // A URL in `store` with the table adding to it: one value per setting.
    let both = format!(
        "store = \"postgres://callsign@localhost:{}/postgres?sslmode=verify-full\"\n{}",
        cluster.port(),
        table("")
    );
    assert!(trust_config(&both).location().is_ok());
    let clash = both.replace("sslmode = \"verify-full\"", "sslmode = \"require\"");
    let e = trust_config(&clash).location().unwrap_err().to_string();
    assert!(e.contains("sslmode") && e.contains("give it once"), "{e}");

    // The table's password (in a file) is the one used: a wrong one is refused.
    std::fs::write(&password_file, "not-the-password\n").unwrap();
    let Some(store::Location::Postgres(wrong)) = config.location().unwrap() else {
        panic!("a PostgreSQL location");
    };
    let e = PostgresStore::connect_to(&wrong)
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("password authentication failed"), "{e}");
    assert!(!e.contains("not-the-password"), "{e}");
}

#[test]
fn a_table_that_cannot_work_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing: PathBuf = dir.path().join("missing-ca.pem");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let cases = [
        ("[postgres]\nport = 5432", "no database host"),
        (
            "[postgres]\nhost = \"db\"\npool_size = 0",
            "`pool_size` must be at least 1",
        ),
        (
            "[postgres]\nhost = \"db\"\nconnect_timeout_s = 0",
            "`connect_timeout_s` must be more than 0",
        ),
        (
            "[postgres]\nhost = \"db\"\nsslmode = \"verify-full\"",
            "sslmode verify-full needs sslrootcert",
        ),
        (
            &format!(
                "[postgres]\nhost = \"db\"\nsslmode = \"verify-ca\"\nsslrootcert = {missing:?}"
            ),
            "missing-ca.pem",
        ),
        (
            &format!(
                "[postgres]\nhost = \"db\"\nsslmode = \"verify-ca\"\nsslrootcert = {not_pem:?}"
            ),
            "holds no certificate",
        ),
        (
            "[postgres]\nhost = \"db\"\npassword = \"x\"\npassword_file = \"/x\"",
            "`password` or `password_file`, not both",
        ),
        (
            "[postgres]\nhost = \"db\"\npassword_file = \"/nonexistent/pw\"",
            "/nonexistent/pw",
        ),
        (
            "store = \"var/trust.db\"\n[postgres]\nhost = \"db\"",
            "names a SQLite file",
        ),
        (
            "store = \"postgres://u:secret@a/db\"\n[postgres]\nhost = \"b\"",
            "`host` differs",
        ),
        (
            "store = \"postgres://u:secret@a/db\"\n[postgres]\npassword = \"other\"",
            "`password` differs",
        ),
        (
            "store = \"postgres://u@a/db?sslmode=verify-everything\"",
            "sslmode must be",
        ),
    ];
    for (text, why) in cases {
        let e = match trust_config(text).location() {
            Ok(l) => panic!("{text}: accepted {l:?}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(why), "{text}: {e}");
        assert!(!e.contains("secret") && !e.contains("other"), "{e}");
    }
    assert!(
        Target::from_url("postgres://u@db/x?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .is_err()
    );
}
