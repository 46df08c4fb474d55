//! The embedded SQLite backend: one file in WAL mode, created on first run, with one
//! connection behind a mutex (SQLite serializes writers anyway, and every statement is
//! short). Tables keep SQLite's implicit `rowid`, the insertion order lists return.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, TransactionBehavior, params_from_iter};
use tracing::info;

use super::sql::{Arg, Backend, Dialect, Exec, SqlRow, SqlStore};
use super::{Durability, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    sid TEXT PRIMARY KEY, parent_sid TEXT, friendly_name TEXT, auth_token TEXT,
    status TEXT NOT NULL, type TEXT, date_created TEXT, date_updated TEXT);
CREATE INDEX IF NOT EXISTS accounts_parent ON accounts(parent_sid);
CREATE TABLE IF NOT EXISTS phone_numbers (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, phone_number TEXT NOT NULL UNIQUE,
    friendly_name TEXT, date_created TEXT, date_updated TEXT);
CREATE INDEX IF NOT EXISTS phone_numbers_account ON phone_numbers(account_sid);
CREATE TABLE IF NOT EXISTS bundles (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, policy_sid TEXT NOT NULL,
    status TEXT NOT NULL, valid_until TEXT, friendly_name TEXT, email TEXT,
    status_callback TEXT, errors TEXT, date_created TEXT, date_updated TEXT);
CREATE INDEX IF NOT EXISTS bundles_account ON bundles(account_sid);
CREATE TABLE IF NOT EXISTS end_users (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, friendly_name TEXT, type TEXT NOT NULL,
    attributes TEXT, date_created TEXT, date_updated TEXT);
CREATE INDEX IF NOT EXISTS end_users_account ON end_users(account_sid);
CREATE TABLE IF NOT EXISTS entity_assignments (
    sid TEXT PRIMARY KEY, bundle_sid TEXT NOT NULL, object_sid TEXT NOT NULL,
    account_sid TEXT, date_created TEXT);
CREATE INDEX IF NOT EXISTS entity_assignments_bundle ON entity_assignments(bundle_sid);
CREATE INDEX IF NOT EXISTS entity_assignments_object ON entity_assignments(object_sid);
CREATE TABLE IF NOT EXISTS channel_endpoint_assignments (
    sid TEXT PRIMARY KEY, bundle_sid TEXT NOT NULL, channel_endpoint_sid TEXT NOT NULL,
    channel_endpoint_type TEXT NOT NULL, account_sid TEXT, date_created TEXT);
CREATE INDEX IF NOT EXISTS cea_bundle ON channel_endpoint_assignments(bundle_sid);
CREATE INDEX IF NOT EXISTS cea_endpoint ON channel_endpoint_assignments(channel_endpoint_sid);
CREATE TABLE IF NOT EXISTS evaluations (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, policy_sid TEXT NOT NULL,
    bundle_sid TEXT NOT NULL, status TEXT NOT NULL, results TEXT NOT NULL,
    date_created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS evaluations_bundle ON evaluations(bundle_sid);
CREATE TABLE IF NOT EXISTS trunking (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, account_sid TEXT NOT NULL, parent_sid TEXT,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trunking_kind_account ON trunking(kind, account_sid);
CREATE INDEX IF NOT EXISTS trunking_kind_parent ON trunking(kind, parent_sid);
CREATE TABLE IF NOT EXISTS supporting_documents (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS supporting_documents_account ON supporting_documents(account_sid);
CREATE TABLE IF NOT EXISTS document_files (sid TEXT PRIMARY KEY, content TEXT NOT NULL);
";

/// The schema version this build writes, kept in `PRAGMA user_version`. Version 1 is
/// [`SCHEMA`]; callsign 0.1.0 made its tables but for the supporting documents' two, and
/// left the version at 0, so the step to 1 is [`SCHEMA`] itself (every table `IF NOT
/// EXISTS`; `tests/upgrade.rs` runs it on a store 0.1.0 wrote). Each later version adds
/// its step to [`MIGRATIONS`].
pub const SCHEMA_VERSION: i64 = 2;

/// Version 2: the review log, appended to and never rewritten (kept out of
/// [`super::sql::TABLES`], so that replacing the trust data keeps it); accounts'
/// suspension cause and second auth token; and each account's last call.
const REVIEW_LOG: &str = "
CREATE TABLE IF NOT EXISTS review_log (
    sid TEXT PRIMARY KEY, bundle_sid TEXT NOT NULL, account_sid TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS review_log_bundle ON review_log(bundle_sid);
ALTER TABLE accounts ADD COLUMN suspension_cause TEXT;
ALTER TABLE accounts ADD COLUMN secondary_auth_token TEXT;
CREATE TABLE IF NOT EXISTS account_activity (
    account_sid TEXT PRIMARY KEY, last_call_at INTEGER NOT NULL);
";

/// The step from version `n` to `n + 1` is `MIGRATIONS[n]`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [SCHEMA, REVIEW_LOG];

/// The SQLite store.
pub type SqliteStore = SqlStore<Sqlite>;

/// Opens the SQLite file at `path` as it is (no migration), after checking that it is a
/// callsign store this build can read: its integrity, its tables, its schema version.
fn open_checked(path: &Path, flags: rusqlite::OpenFlags) -> Result<Connection, String> {
    if !path.is_file() {
        return Err(format!("{}: no such file", path.display()));
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| e.to_string())?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let not_a_store =
        |e: rusqlite::Error| format!("{}: not a callsign store ({e})", path.display());
    let integrity: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(not_a_store)?;
    if integrity != "ok" {
        return Err(format!("{}: damaged: {integrity}", path.display()));
    }
    conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get::<_, i64>(0))
        .map_err(not_a_store)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(not_a_store)?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "{}: schema version {version} is newer than this callsign knows ({SCHEMA_VERSION})",
            path.display()
        ));
    }
    Ok(conn)
}

/// Writes a consistent copy of the SQLite store at `store` to the new file `to`, while
/// a server may be reading and writing it.
pub fn backup(store: &Path, to: &Path) -> Result<(), StoreError> {
    let fail = |message: String| StoreError::Backend(message);
    let conn = open_checked(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(fail)?;
    backup_to(&conn, to).map_err(fail)
}

/// Puts the backup `from` back as the SQLite store at `store`, after copying the store
/// as it is to the new file `keep`. The copy into the store is one SQLite backup: other
/// connections see the old data or the new, never a mix. The restored store is then
/// brought to this build's schema.
pub fn restore(from: &Path, store: &Path, keep: &Path) -> Result<(), StoreError> {
    let fail = |message: String| StoreError::Backend(message);
    let source = open_checked(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(fail)?;
    let mut live =
        open_checked(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(fail)?;
    backup_to(&live, keep).map_err(fail)?;
    let copied = rusqlite::backup::Backup::new(&source, &mut live).and_then(|b| copy_whole(&b));
    copied.map_err(|e| {
        fail(format!(
            "restoring {} into {}: {e}",
            from.display(),
            store.display()
        ))
    })?;
    drop(live);
    SqliteStore::open(store, Durability::Full).map(drop)
}

/// `path` with `suffix` appended to its file name: the copies kept beside a store.
pub fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Where a store at schema version `from` is copied before it is migrated:
/// `callsign.db` -> `callsign.db.v0.bak`.
pub fn pre_migration_backup(path: &Path, from: i64) -> std::path::PathBuf {
    beside(path, &format!(".v{from}.bak"))
}

/// Brings `conn`'s schema to [`SCHEMA_VERSION`]. A store with tables (one an earlier
/// callsign made) is first copied beside itself with SQLite's online backup; a store
/// whose version is newer than this build's is refused, untouched.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "its schema is version {version}, newer than this callsign knows ({SCHEMA_VERSION}); \
             upgrade callsign, or restore the backup made before it was migrated"
        ));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if tables > 0 {
        let copy = pre_migration_backup(path, version);
        backup_to(conn, &copy).map_err(|e| format!("backing it up before migrating: {e}"))?;
        info!(from = version, to = SCHEMA_VERSION, backup = %copy.display(), "migrating the trust store");
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(|e| e.to_string())?;
    for step in &MIGRATIONS[version as usize..] {
        for statement in step.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            // SQLite has no `ADD COLUMN IF NOT EXISTS`: a column already there (a store
            // whose version was lost) is left as it is, as `IF NOT EXISTS` tables are.
            if let Some((table, column)) = added_column(statement)
                && has_column(&tx, table, column)?
            {
                continue;
            }
            tx.execute_batch(statement).map_err(|e| e.to_string())?;
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())
}

/// The table and column of an `ALTER TABLE t ADD COLUMN c …` statement.
fn added_column(statement: &str) -> Option<(&str, &str)> {
    let rest = statement.strip_prefix("ALTER TABLE ")?;
    let (table, rest) = rest.split_once(' ')?;
    let column = rest.strip_prefix("ADD COLUMN ")?.split(' ').next()?;
    Some((table, column))
}

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, String> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
        ))
        .map_err(|e| e.to_string())?;
    stmt.exists([column]).map_err(|e| e.to_string())
}

/// Runs `backup` in one step, under one read transaction of the source: in WAL mode its
/// writers go on meanwhile, where a copy made batch by batch would start over at each of
/// their writes. Waits out a busy or locked database for up to 10 s.
fn copy_whole(backup: &rusqlite::backup::Backup<'_, '_>) -> Result<(), rusqlite::Error> {
    use rusqlite::backup::StepResult;
    for _ in 0..1000 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("the database stayed busy for 10 s".to_owned()),
    ))
}

/// Copies the database `conn` has open into a new file `to` (mode 0600), consistently,
/// with SQLite's online backup: other connections may read and write meanwhile. An
/// existing `to` is left alone.
pub fn backup_to(conn: &Connection, to: &Path) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{} exists: move it away or name another file", to.display())
            }
            _ => format!("{}: {e}", to.display()),
        })?;
    let copy = || -> Result<(), rusqlite::Error> {
        let mut dst = Connection::open(to)?;
        copy_whole(&rusqlite::backup::Backup::new(conn, &mut dst)?)?;
        // One self-contained file, whatever journal mode the source has.
        dst.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))
    };
    copy().map_err(|e| {
        let _ = std::fs::remove_file(to);
        format!("{}: {e}", to.display())
    })
}

/// Creates `path` empty with mode 0600 unless it exists (an existing file keeps the
/// permissions its owner gave it).
pub fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The SQLite database of a [`SqliteStore`].
pub struct Sqlite {
    conn: Mutex<Connection>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqlStore<Sqlite> {
    /// Opens (creating the file, its directory and the schema when missing) the store.
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        let fail = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        // It holds auth tokens: readable by its owner only. SQLite gives its -wal and
        // -shm files the database file's permissions.
        create_private(path).map_err(|e| fail(e.to_string()))?;
        let mut conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| fail(e.to_string()))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| fail(e.to_string()))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail(format!("journal_mode is {mode}, not wal")));
        }
        conn.execute_batch(&format!("PRAGMA synchronous={sync};"))
            .map_err(|e| fail(e.to_string()))?;
        migrate(&mut conn, path).map_err(fail)?;
        Ok(SqlStore::new(Sqlite {
            conn: Mutex::new(conn),
        }))
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(backend)?;
        migrate(&mut conn, Path::new(":memory:")).map_err(StoreError::Backend)?;
        Ok(SqlStore::new(Sqlite {
            conn: Mutex::new(conn),
        }))
    }
}

impl Sqlite {
    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-statement leaves SQLite consistent (the transaction rolls back).
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect {
        comma_join: "group_concat({})",
        scan_grouped: false,
    };

    fn read<T>(
        &self,
        read: impl FnOnce(&mut dyn Exec) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.conn();
        read(&mut On(&conn))
    }

    fn write<T>(
        &self,
        _changes: Option<&[crate::trust::Change]>,
        write: impl FnOnce(&mut dyn Exec) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let (out, _) = write(&mut On(&tx))?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }
}

/// Statements on one connection (a transaction derefs to its connection).
struct On<'c>(&'c Connection);

fn values(args: &[Arg]) -> impl Iterator<Item = Value> + '_ {
    args.iter().map(|a| match a {
        Arg::Text(s) => Value::Text(s.clone()),
        Arg::Int(i) => Value::Integer(*i),
        Arg::Null => Value::Null,
    })
}

impl Exec for On<'_> {
    fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(backend)?;
        let n = stmt
            .execute(params_from_iter(values(args)))
            .map_err(backend)?;
        Ok(n as u64)
    }

    fn each(
        &mut self,
        sql: &str,
        args: &[Arg],
        visit: &mut dyn FnMut(&dyn SqlRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(backend)?;
        let mut rows = stmt
            .query(params_from_iter(values(args)))
            .map_err(backend)?;
        while let Some(row) = rows.next().map_err(backend)? {
            visit(&Row(row))?;
        }
        Ok(())
    }
}

struct Row<'r, 's>(&'r rusqlite::Row<'s>);

fn text(value: ValueRef<'_>) -> Result<Option<String>, StoreError> {
    match value {
        ValueRef::Null => Ok(None),
        // Not lossy: a malformed value is reported, never read with replacements.
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(|t| Some(t.to_owned()))
            .map_err(|e| StoreError::Corrupt {
                what: "text column",
                message: e.to_string(),
            }),
        other => Err(StoreError::Corrupt {
            what: "text column",
            message: format!("holds {:?}", other.data_type()),
        }),
    }
}

impl SqlRow for Row<'_, '_> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        text(self.0.get_ref(column).map_err(backend)?)
    }

    fn text_at(&self, index: usize) -> Result<Option<String>, StoreError> {
        text(self.0.get_ref(index).map_err(backend)?)
    }

    fn int_at(&self, index: usize) -> Result<i64, StoreError> {
        self.0.get(index).map_err(backend)
    }
}
