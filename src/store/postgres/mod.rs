//! The PostgreSQL backend: the system of record several callsign nodes share.
//!
//! Connections come from a `deadpool-postgres` pool of `tokio-postgres` clients, driven by
//! a small runtime the store owns, so that the store's synchronous calls (the Trust Hub
//! runs its read-check-write sequences on blocking threads, the CLI has no runtime) work
//! from any thread. Each write is one transaction that also appends its changes to
//! `change_log` (`seq bigserial`) and calls `pg_notify('callsign_changes', seq)`, so that
//! other nodes learn of it.
//!
//! The schema is versioned: [`MIGRATIONS`] run at open, in order, each in its own
//! transaction under an advisory lock (several nodes may start at once), and a database
//! whose schema is newer than this build knows is refused.

mod feed;
mod target;
mod tls;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::sql::{Arg, Backend, Dialect, Exec, SqlRow, SqlStore};
use super::{Feed, StoreError};
use crate::trust::Change;

pub use target::{Settings, Target, reason, redact};
pub use tls::SslMode;

/// The store on PostgreSQL.
pub type PostgresStore = SqlStore<Postgres>;

/// The channel `pg_notify` announces committed changes on; the payload is the `seq`.
pub const CHANNEL: &str = "callsign_changes";

/// The schema, one step per version (version `i + 1` is `MIGRATIONS[i]`). Tables mirror
/// the SQLite schema with an explicit `rowid` for insertion order. Never edit a step
/// that has shipped: add one.
pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE accounts (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, parent_sid text, friendly_name text,
    auth_token text, status text NOT NULL, type text, date_created text, date_updated text);
CREATE INDEX accounts_parent ON accounts(parent_sid);
CREATE TABLE phone_numbers (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, account_sid text NOT NULL,
    phone_number text NOT NULL UNIQUE, friendly_name text, date_created text,
    date_updated text);
CREATE INDEX phone_numbers_account ON phone_numbers(account_sid);
CREATE TABLE bundles (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, account_sid text NOT NULL,
    policy_sid text NOT NULL, status text NOT NULL, valid_until text, friendly_name text,
    email text, status_callback text, errors text, date_created text, date_updated text);
CREATE INDEX bundles_account ON bundles(account_sid);
CREATE TABLE end_users (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, account_sid text NOT NULL,
    friendly_name text, type text NOT NULL, attributes text, date_created text,
    date_updated text);
CREATE INDEX end_users_account ON end_users(account_sid);
CREATE TABLE entity_assignments (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, bundle_sid text NOT NULL,
    object_sid text NOT NULL, account_sid text, date_created text);
CREATE INDEX entity_assignments_bundle ON entity_assignments(bundle_sid);
CREATE INDEX entity_assignments_object ON entity_assignments(object_sid);
CREATE TABLE channel_endpoint_assignments (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, bundle_sid text NOT NULL,
    channel_endpoint_sid text NOT NULL, channel_endpoint_type text NOT NULL,
    account_sid text, date_created text);
CREATE INDEX cea_bundle ON channel_endpoint_assignments(bundle_sid);
CREATE INDEX cea_endpoint ON channel_endpoint_assignments(channel_endpoint_sid);
CREATE TABLE evaluations (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, account_sid text NOT NULL,
    policy_sid text NOT NULL, bundle_sid text NOT NULL, status text NOT NULL,
    results text NOT NULL, date_created text NOT NULL);
CREATE INDEX evaluations_bundle ON evaluations(bundle_sid);
CREATE TABLE trunking (
    rowid bigserial UNIQUE, key text PRIMARY KEY, kind text NOT NULL,
    account_sid text NOT NULL, parent_sid text, doc text NOT NULL);
CREATE INDEX trunking_kind_account ON trunking(kind, account_sid);
CREATE INDEX trunking_kind_parent ON trunking(kind, parent_sid);
CREATE TABLE change_log (
    seq bigserial PRIMARY KEY, committed_at timestamptz NOT NULL DEFAULT now(),
    changes jsonb NOT NULL);
",
    "
CREATE TABLE supporting_documents (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, account_sid text NOT NULL,
    doc text NOT NULL);
CREATE INDEX supporting_documents_account ON supporting_documents(account_sid);
CREATE TABLE document_files (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, content text NOT NULL);
",
    "
CREATE TABLE IF NOT EXISTS review_log (
    rowid bigserial UNIQUE, sid text PRIMARY KEY, bundle_sid text NOT NULL,
    account_sid text NOT NULL, doc text NOT NULL);
CREATE INDEX IF NOT EXISTS review_log_bundle ON review_log(bundle_sid);
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS suspension_cause text;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS secondary_auth_token text;
CREATE TABLE IF NOT EXISTS account_activity (
    account_sid text PRIMARY KEY, last_call_at bigint NOT NULL);
",
];

/// Serializes schema migrations between nodes starting together.
const MIGRATION_LOCK: i64 = 0x6361_6c6c_7369_676e; // "callsign"
/// Held by a Trust Hub write from its first read to its commit, on every node.
const WRITE_LOCK: i64 = MIGRATION_LOCK + 1;
/// Held by a transaction from its change-log row to its commit, so that `seq` order is
/// commit order and a node that has read up to `seq` never meets a smaller one later.
const LOG_LOCK: i64 = MIGRATION_LOCK + 2;

/// Appends a write's entry to the change log and announces it, in one round trip: the
/// lock that keeps `seq` in commit order ([`LOG_LOCK`], held to the end of the
/// transaction), the row, and the notification (sent at commit).
const LOG_WRITE: &str = "WITH locked AS (SELECT pg_advisory_xact_lock($1)), \
     entry AS (INSERT INTO change_log (changes) SELECT $2::text::jsonb FROM locked RETURNING seq) \
     SELECT seq, pg_notify($3, seq::text)::text FROM entry";

/// The PostgreSQL database of a [`PostgresStore`].
pub struct Postgres {
    pool: Pool,
    /// For the listening connection, outside the pool.
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    /// The `seq`s of writes this process committed and has not met in the log yet.
    own: std::sync::Mutex<std::collections::BTreeSet<i64>>,
    /// Drives the connections; shut down without blocking when the store goes.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqlStore<Postgres> {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, with
    /// libpq's `sslmode` and `sslrootcert` when wanted), bringing its schema up to date.
    /// The password never appears in an error.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_to(&Target::from_url(url)?)
    }

    /// Connects to `target`, bringing its schema up to date.
    pub fn connect_to(target: &Target) -> Result<PostgresStore, StoreError> {
        let fail = |message: String| StoreError::Open {
            path: target.name(),
            message,
        };
        let tls = target.connector().map_err(fail)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("callsign-postgres")
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let manager = Manager::from_config(
            target.config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(target.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(target.connect_timeout))
            .create_timeout(Some(target.connect_timeout))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        if !target.ssl_mode.verifies() && !on_this_machine(&target.config) {
            tracing::warn!(
                store = %target.name(),
                "the PostgreSQL server's certificate is not checked: set sslmode verify-full and sslrootcert"
            );
        }
        let pg = Postgres {
            pool,
            config: target.config.clone(),
            tls,
            own: Default::default(),
            runtime: Some(runtime),
        };
        pg.migrate().map_err(|e| fail(e.to_string()))?;
        Ok(SqlStore::new(pg))
    }
}

/// Whether every host of `config` is a Unix socket or a loopback address.
fn on_this_machine(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|h| match h {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    })
}

impl SqlStore<Postgres> {
    /// The committed writes after `seq`, in order (see [`Postgres::changes_after`]).
    #[allow(clippy::type_complexity)]
    pub fn changes_after(&self, seq: i64) -> Result<Vec<(i64, Option<Vec<Change>>)>, StoreError> {
        self.backend().changes_after(seq)
    }
}

/// Creates database `name` (letters, digits and `_`) on the server `url` points at (its
/// own database must exist), and returns the URL of the new one; for set-up scripts and
/// tests.
pub fn create_database(url: &str, name: &str) -> Result<String, StoreError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Backend(format!(
            "not a database name: {name:?}"
        )));
    }
    let target = Target::from_url(url)?;
    let tls = target.connector().map_err(StoreError::Backend)?;
    let config = target.config.clone();
    let sql = format!("CREATE DATABASE {name}");
    // On a thread of its own: the caller may be on a runtime's thread.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(backend)?;
        runtime.block_on(async {
            let (client, connection) = config.connect(tls).await.map_err(backend)?;
            let driver = tokio::spawn(connection);
            let created =
                (client.batch_execute(&sql).await).map_err(|e| StoreError::Backend(describe(&e)));
            drop(client);
            let _ = driver.await;
            created
        })
    })
    .join()
    .map_err(|_| StoreError::Backend("creating the database panicked".into()))??;
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = match base.rfind('/') {
        Some(slash) if slash > base.find("://").map_or(0, |s| s + 2) => &base[..slash],
        _ => base,
    };
    Ok(match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    })
}

impl Postgres {
    /// Runs `fut` on the store's runtime and waits for it, from any thread.
    fn block<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let rt = self.runtime.as_ref().expect("runtime until drop");
        futures_executor::block_on(rt.spawn(fut)).map_err(backend)
    }

    fn client(&self) -> Result<Object, StoreError> {
        let pool = self.pool.clone();
        self.block(async move { pool.get().await })?.map_err(|e| {
            let why = match &e {
                deadpool_postgres::PoolError::Backend(e) => describe(e),
                other => other.to_string(),
            };
            StoreError::Unavailable(format!("no database connection: {why}"))
        })
    }

    /// The schema version the database is at (0: empty).
    fn version(client: &Object) -> Result<usize, StoreError> {
        let on = On(client);
        on.simple(
            "CREATE TABLE IF NOT EXISTS callsign_schema (version integer NOT NULL);
             INSERT INTO callsign_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM callsign_schema)",
        )?;
        let row = on.wait(client.query_one("SELECT version FROM callsign_schema", &[]))?;
        let version: i32 = row.try_get(0).map_err(backend)?;
        Ok(usize::try_from(version).unwrap_or(0))
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let client = self.client()?;
        let on = On(&client);
        on.wait(client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]))?;
        let result = (|| {
            let at = Self::version(&client)?;
            if at > MIGRATIONS.len() {
                return Err(StoreError::Backend(format!(
                    "the database's schema is version {at}, newer than this callsign knows ({}); upgrade callsign",
                    MIGRATIONS.len()
                )));
            }
            for (i, step) in MIGRATIONS.iter().enumerate().skip(at) {
                let to = i32::try_from(i + 1).unwrap_or(i32::MAX);
                on.simple("BEGIN")?;
                let done = on.simple(step).and_then(|()| {
                    on.wait(client.execute("UPDATE callsign_schema SET version = $1", &[&to]))
                });
                match done {
                    Ok(_) => on.simple("COMMIT")?,
                    Err(e) => {
                        let _ = on.simple("ROLLBACK");
                        return Err(e);
                    }
                }
                tracing::info!(version = to, "PostgreSQL schema migrated");
            }
            Ok(())
        })();
        let _ = on.wait(client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]));
        result
    }

    /// The committed writes after `seq`, in order, as `(seq, changes)` (`None`: the whole
    /// data set was replaced): what a node that has applied up to `seq` has to apply.
    #[allow(clippy::type_complexity)]
    pub fn changes_after(&self, seq: i64) -> Result<Vec<(i64, Option<Vec<Change>>)>, StoreError> {
        let client = self.client()?;
        let rows = On(&client).rows(
            "SELECT seq, changes::text FROM change_log WHERE seq > $1 ORDER BY seq",
            &[&seq],
        )?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get(0).map_err(backend)?;
                let text: String = row.try_get(1).map_err(backend)?;
                // An entry this build cannot read (written by a newer callsign during a
                // rolling upgrade, or damaged) is read as a replacement of the whole
                // data set: the node rebuilds its index from the tables, the system of
                // record, rather than stop following the log.
                let changes = serde_json::from_str(&text).unwrap_or_else(|e| {
                    tracing::warn!(seq, error = %e, "change log entry unreadable; rebuilding from the store");
                    None
                });
                Ok((seq, changes))
            })
            .collect()
    }
}

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect {
        comma_join: "string_agg({}, ',')",
        scan_grouped: true,
    };

    fn feed(&self) -> Option<&dyn Feed> {
        Some(self)
    }

    fn read<T>(
        &self,
        read: impl FnOnce(&mut dyn Exec) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let client = self.client()?;
        read(&mut On(&client))
    }

    fn write<T>(
        &self,
        changes: Option<&[Change]>,
        write: impl FnOnce(&mut dyn Exec) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        let client = self.client()?;
        let mut on = On(&client);
        on.simple("BEGIN ISOLATION LEVEL SERIALIZABLE")?;
        let done = write(&mut on).and_then(|(out, changed)| {
            if !changed {
                on.simple("COMMIT")?;
                return Ok(out);
            }
            // A whole import is logged as `null`: the other nodes reload.
            let logged = serde_json::to_string(&changes).map_err(backend)?;
            let row = on.one(LOG_WRITE, &[&LOG_LOCK, &logged, &CHANNEL])?;
            let seq: i64 = row.try_get(0).map_err(backend)?;
            on.simple("COMMIT")?;
            self.own_set().insert(seq);
            Ok(out)
        });
        if done.is_err() {
            let _ = on.simple("ROLLBACK");
        }
        done
    }
}

/// Statements on one pooled connection.
struct On<'c>(&'c Object);

impl On<'_> {
    fn wait<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        // A client's futures only talk to its connection task (on the store's runtime)
        // through channels, so any thread may wait for them.
        futures_executor::block_on(fut).map_err(|e| failure(&e))
    }

    fn simple(&self, sql: &str) -> Result<(), StoreError> {
        self.wait(self.0.batch_execute(sql))
    }

    /// Runs `sql` (with `$n` placeholders), prepared once per connection: one round trip
    /// each time after the first.
    fn run(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let stmt = self.wait(self.0.prepare_cached(sql))?;
        self.wait(self.0.execute(&stmt, params))
    }

    /// The rows of `sql`, prepared as [`On::run`] prepares.
    fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let stmt = self.wait(self.0.prepare_cached(sql))?;
        self.wait(self.0.query(&stmt, params))
    }

    /// The one row of `sql`, prepared as [`On::run`] prepares.
    fn one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<tokio_postgres::Row, StoreError> {
        let stmt = self.wait(self.0.prepare_cached(sql))?;
        self.wait(self.0.query_one(&stmt, params))
    }

    /// `sql` with `?` placeholders numbered for PostgreSQL (`$1`, `$2`, …). The SQL this
    /// store writes has no `?` inside literals.
    fn numbered(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    fn params(args: &[Arg]) -> Vec<Box<dyn ToSql + Sync + Send>> {
        args.iter()
            .map(|a| -> Box<dyn ToSql + Sync + Send> {
                match a {
                    Arg::Text(s) => Box::new(s.clone()),
                    Arg::Int(i) => Box::new(*i),
                    Arg::Null => Box::new(None::<String>),
                }
            })
            .collect()
    }
}

/// A failed statement: unavailable when the connection is gone (the statement did not
/// run, or its transaction was rolled back with it), a backend error otherwise.
fn failure(e: &tokio_postgres::Error) -> StoreError {
    if e.is_closed() || (e.as_db_error().is_none() && e.code().is_none()) {
        StoreError::Unavailable(describe(e))
    } else {
        StoreError::Backend(describe(e))
    }
}

/// A database error with its detail (the plain `Display` says only "db error", or
/// "error performing TLS handshake" without the reason).
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text = format!("{text}: {c}");
                cause = c.source();
            }
            text
        }
    }
}

impl Exec for On<'_> {
    fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, StoreError> {
        let stmt = self.wait(self.0.prepare_cached(&Self::numbered(sql)))?;
        let params = Self::params(args);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
        self.wait(self.0.execute(&stmt, &refs))
    }

    fn each(
        &mut self,
        sql: &str,
        args: &[Arg],
        visit: &mut dyn FnMut(&dyn SqlRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stmt = self.wait(self.0.prepare_cached(&Self::numbered(sql)))?;
        let params = Self::params(args);
        let refs = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync));
        // Rows as the server sends them, never all of them at once (a rebuild reads
        // every number).
        let rows = self.wait(self.0.query_raw(&stmt, refs))?;
        for row in futures_executor::block_on_stream(Box::pin(rows)) {
            visit(&Row(&row.map_err(|e| failure(&e))?))?;
        }
        Ok(())
    }

    /// One `COPY … FROM STDIN (FORMAT binary)`: the rows stream to the server without a
    /// round trip each.
    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Arg>>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            columns.join(",")
        );
        // Every column the store writes is text.
        let types = vec![Type::TEXT; columns.len()];
        let client = self.0;
        futures_executor::block_on(async {
            let sink = client.copy_in(&sql).await.map_err(|e| failure(&e))?;
            let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
            for row in rows {
                let values: Vec<Option<String>> = row
                    .into_iter()
                    .map(|a| match a {
                        Arg::Text(s) => Some(s),
                        Arg::Int(i) => Some(i.to_string()),
                        Arg::Null => None,
                    })
                    .collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                writer
                    .as_mut()
                    .write(&refs)
                    .await
                    .map_err(|e| failure(&e))?;
            }
            writer.finish().await.map_err(|e| failure(&e))?;
            Ok(())
        })
    }
}

struct Row<'r>(&'r tokio_postgres::Row);

impl SqlRow for Row<'_> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.0.try_get(column).map_err(backend)
    }

    fn text_at(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.0.try_get(index).map_err(backend)
    }

    fn int_at(&self, index: usize) -> Result<i64, StoreError> {
        self.0.try_get(index).map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_named_without_its_password() {
        let named = redact("postgres://callsign:s3cr3t@db.example:5432/trust?sslmode=disable");
        assert_eq!(
            named,
            "postgres://callsign:***@db.example:5432/trust?sslmode=disable"
        );
        // An '@' in the password: everything before the last one is hidden.
        assert!(!redact("postgres://u:p@ss@h/db").contains("p@ss"));
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn a_url_that_does_not_parse_is_refused_without_its_password() {
        for url in [
            "postgres://u:s3cr3t@h:notaport/db",
            "postgres://u:s3cr3t@h/db?sslmode=bogus",
            "postgres://u:s3cr3t@h/db?unknown_option=1",
        ] {
            let e = PostgresStore::connect(url)
                .err()
                .expect("refused")
                .to_string();
            assert!(e.contains("cannot open the store"), "{e}");
            assert!(!e.contains("s3cr3t"), "{url}: {e}");
        }
    }
}
