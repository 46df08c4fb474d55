//! The embedded SQLite store: one file in WAL mode, created on first run, one table per
//! resource with SIDs as text keys. Rows keep their insertion order (updates are upserts
//! that keep the rowid), which is the order lists return.

mod queries;
mod rows;
mod trunking;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params_from_iter};

use super::{Durability, NumberRow, Page, RecordStore, StoreError};
use crate::trust::{
    Account, Bundle, Change, ChannelEndpointAssignment, EndUser, EntityAssignment, Evaluation,
    IpAccessControlList, IpAddress, PhoneNumber, Sid, Trunk, TrustData, TrustError,
};
use rows::{FromRow, backend, parse_sid, put, put_channel_endpoint_assignment, sql_limit};
use trunking::Kind;

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
";

const TABLES: &[&str] = &[
    "accounts",
    "phone_numbers",
    "bundles",
    "end_users",
    "entity_assignments",
    "channel_endpoint_assignments",
    "evaluations",
    "trunking",
];

/// The SQLite store. One connection behind a mutex: SQLite serializes writers anyway,
/// and every statement here is short.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating the file, its directory and the schema when missing) the store.
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        let fail = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
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
        conn.execute_batch(SCHEMA)
            .map_err(|e| fail(e.to_string()))?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-statement leaves SQLite consistent (the transaction rolls back).
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn one<T: FromRow>(&self, sql: &str, key: &str) -> Result<Option<T>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
        let row = stmt
            .query_row([key], |r| Ok(T::from_row(r)))
            .optional()
            .map_err(backend)?;
        row.transpose()
    }

    fn many<T: FromRow>(
        &self,
        sql: &str,
        args: Vec<String>,
        page: Page,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!("{sql} ORDER BY rowid LIMIT ? OFFSET ?");
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let (limit, offset) = sql_limit(page);
        let args = args
            .into_iter()
            .chain([limit.to_string(), offset.to_string()]);
        let mut rows = stmt.query(params_from_iter(args)).map_err(backend)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(backend)? {
            out.push(T::from_row(row)?);
        }
        Ok(out)
    }

    fn all<T: FromRow>(&self, table: &str) -> Result<Vec<T>, StoreError> {
        self.many(&format!("SELECT * FROM {table}"), Vec::new(), Page::ALL)
    }

    fn insert_all(tx: &rusqlite::Transaction<'_>, data: &TrustData) -> Result<(), StoreError> {
        let changes = data
            .accounts
            .iter()
            .cloned()
            .map(Change::PutAccount)
            .chain(data.phone_numbers.iter().cloned().map(Change::PutNumber))
            .chain(
                (data.customer_profiles.iter().chain(&data.trust_products))
                    .cloned()
                    .map(Change::PutBundle),
            )
            .chain(data.end_users.iter().cloned().map(Change::PutEndUser))
            .chain((data.entity_assignments.iter().cloned()).map(Change::PutEntityAssignment));
        for change in changes {
            put(tx, &change)?;
        }
        for a in &data.channel_endpoint_assignments {
            put_channel_endpoint_assignment(tx, a)?;
        }
        for change in trunking::changes(&data.trunking) {
            put(tx, &change)?;
        }
        Ok(())
    }
}

impl RecordStore for SqliteStore {
    fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        for change in changes {
            put(&tx, change)?;
        }
        tx.commit().map_err(backend)
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let conn = self.conn();
        let n: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM phone_numbers)",
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        Ok(n == 0)
    }

    fn replace_all(&self, data: &TrustData) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        for table in TABLES {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(backend)?;
        }
        Self::insert_all(&tx, data)?;
        tx.commit().map_err(backend)
    }

    fn seed(&self, data: &TrustData) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let n: i64 = tx
            .query_row(
                "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM phone_numbers)",
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        if n != 0 {
            return Ok(false);
        }
        Self::insert_all(&tx, data)?;
        tx.commit().map_err(backend)?;
        Ok(true)
    }

    fn export(&self) -> Result<TrustData, StoreError> {
        let mut data = self.graph_data()?;
        data.phone_numbers = self.all("phone_numbers")?;
        data.channel_endpoint_assignments = self.all("channel_endpoint_assignments")?;
        Ok(data)
    }

    fn graph_data(&self) -> Result<TrustData, StoreError> {
        let mut data = TrustData {
            accounts: self.all("accounts")?,
            end_users: self.all("end_users")?,
            entity_assignments: self.all("entity_assignments")?,
            ..TrustData::default()
        };
        // Parents before their sub-accounts, whatever order they were written in.
        data.accounts.sort_by_key(|a| a.parent().is_some());
        data.trunking = self.trunking()?;
        super::split_bundles(self.all("bundles")?, &mut data);
        Ok(data)
    }

    fn scan_numbers(
        &self,
        visit: &mut dyn FnMut(NumberRow<'_>) -> Result<(), TrustError>,
    ) -> Result<usize, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT n.sid, n.account_sid, n.phone_number,
                    (SELECT group_concat(c.bundle_sid) FROM channel_endpoint_assignments c
                     WHERE c.channel_endpoint_sid = n.sid)
                 FROM phone_numbers n",
            )
            .map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        let mut bundles = Vec::with_capacity(2);
        let mut count = 0;
        while let Some(row) = rows.next().map_err(backend)? {
            let column = |i: usize| -> Result<Option<&str>, StoreError> {
                let value = row.get_ref(i).map_err(backend)?;
                value
                    .as_str_or_null()
                    .map_err(|e| StoreError::Backend(e.to_string()))
            };
            let sid = parse_sid(column(0)?.unwrap_or(""))?;
            let account = parse_sid(column(1)?.unwrap_or(""))?;
            let number = column(2)?.unwrap_or("");
            bundles.clear();
            if let Some(list) = column(3)? {
                for b in list.split(',') {
                    bundles.push(parse_sid(b)?);
                }
            }
            visit(NumberRow {
                sid,
                account_sid: account,
                phone_number: number,
                bundles: &bundles,
            })?;
            count += 1;
        }
        Ok(count)
    }

    fn account(&self, sid: Sid) -> Result<Option<Account>, StoreError> {
        self.one("SELECT * FROM accounts WHERE sid = ?", &sid.to_string())
    }

    fn number(&self, sid: Sid) -> Result<Option<PhoneNumber>, StoreError> {
        self.one(
            "SELECT * FROM phone_numbers WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn number_by_e164(&self, e164: &str) -> Result<Option<PhoneNumber>, StoreError> {
        self.one("SELECT * FROM phone_numbers WHERE phone_number = ?", e164)
    }

    fn bundle(&self, sid: Sid) -> Result<Option<Bundle>, StoreError> {
        self.one("SELECT * FROM bundles WHERE sid = ?", &sid.to_string())
    }

    fn end_user(&self, sid: Sid) -> Result<Option<EndUser>, StoreError> {
        self.one("SELECT * FROM end_users WHERE sid = ?", &sid.to_string())
    }

    fn entity_assignment(&self, sid: Sid) -> Result<Option<EntityAssignment>, StoreError> {
        self.one(
            "SELECT * FROM entity_assignments WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn channel_endpoint_assignment(
        &self,
        sid: Sid,
    ) -> Result<Option<ChannelEndpointAssignment>, StoreError> {
        self.one(
            "SELECT * FROM channel_endpoint_assignments WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn evaluation(&self, sid: Sid) -> Result<Option<Evaluation>, StoreError> {
        self.one("SELECT * FROM evaluations WHERE sid = ?", &sid.to_string())
    }

    fn trunk(&self, sid: Sid) -> Result<Option<Trunk>, StoreError> {
        self.doc(Kind::Trunk, &sid.to_string())
    }

    fn ip_access_control_list(&self, sid: Sid) -> Result<Option<IpAccessControlList>, StoreError> {
        self.doc(Kind::List, &sid.to_string())
    }

    fn ip_address(&self, sid: Sid) -> Result<Option<IpAddress>, StoreError> {
        self.doc(Kind::Address, &sid.to_string())
    }
}
