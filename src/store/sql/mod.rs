//! The relational store, written once for every SQL backend: [`SqlStore`] implements
//! [`super::RecordStore`] and [`super::Queries`] with portable SQL (`?` placeholders,
//! text columns, `ON CONFLICT … DO UPDATE` upserts, `ORDER BY rowid` for insertion
//! order), over a [`Backend`] that runs statements on its database: the embedded SQLite
//! file ([`super::sqlite`]) or PostgreSQL ([`super::postgres`]).
//!
//! One table per resource with SIDs as text keys; the trunking records share one table
//! of JSON documents ([`trunking`]). Rows keep their insertion order (upserts keep the
//! `rowid`), which is the order lists return.

mod queries;
mod rows;
mod store;
mod trunking;

use super::StoreError;

/// The tables, for a wipe before a whole import.
pub(super) const TABLES: &[&str] = &[
    "accounts",
    "phone_numbers",
    "bundles",
    "end_users",
    "entity_assignments",
    "channel_endpoint_assignments",
    "evaluations",
    "trunking",
    "supporting_documents",
    "document_files",
];

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Int(i64),
    Null,
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}

impl From<Option<String>> for Arg {
    fn from(s: Option<String>) -> Arg {
        s.map_or(Arg::Null, Arg::Text)
    }
}

impl From<&Option<String>> for Arg {
    fn from(s: &Option<String>) -> Arg {
        s.clone().into()
    }
}

/// One result row, read by column name or position.
pub trait SqlRow {
    /// A text column (`None` for NULL).
    fn text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// The text column at `index`.
    fn text_at(&self, index: usize) -> Result<Option<String>, StoreError>;
    /// The integer column at `index`.
    fn int_at(&self, index: usize) -> Result<i64, StoreError>;
}

/// Statements on one connection (inside a transaction, for a write).
pub trait Exec {
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, StoreError>;
    /// Runs a query, visiting its rows in order.
    fn each(
        &mut self,
        sql: &str,
        args: &[Arg],
        visit: &mut dyn FnMut(&dyn SqlRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Inserts `rows`, each the values of `columns` in order, into `table`, which holds
    /// none of their keys: a bulk import. One prepared `INSERT` per row, which costs
    /// little on an embedded database; a server backend streams them instead.
    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Arg>>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(","),
            vec!["?"; columns.len()].join(",")
        );
        for row in rows {
            self.execute(&sql, &row)?;
        }
        Ok(())
    }
}

/// What differs between databases in the SQL this module writes.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// Joins a column's values with commas: `{}` is the column.
    pub comma_join: &'static str,
    /// How the rebuild scan finds each number's bundles: `false`, a subquery per number
    /// (an index probe each, cheap in-process); `true`, one join with the assignments
    /// grouped by number (two index scans merged). With 1,000,000 numbers the join
    /// halves PostgreSQL's time for the query, and takes SQLite half as long again.
    pub scan_grouped: bool,
}

/// A database the store runs on: a connection for reads, a transaction for writes.
pub trait Backend: Send + Sync {
    const DIALECT: Dialect;
    /// The change feed, for a database several nodes share.
    fn feed(&self) -> Option<&dyn super::Feed> {
        None
    }
    /// Runs `read` on a connection.
    fn read<T>(
        &self,
        read: impl FnOnce(&mut dyn Exec) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
    /// Runs `write` in one transaction, committed when it returns `Ok((_, changed))`.
    /// When it changed something, the writes are then durable and, on a shared
    /// database, announced to the other nodes as `changes`, or as a whole new data set
    /// when that is `None`.
    fn write<T>(
        &self,
        changes: Option<&[crate::trust::Change]>,
        write: impl FnOnce(&mut dyn Exec) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError>;
}

/// The store on backend `B`.
pub struct SqlStore<B> {
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    pub(super) fn new(backend: B) -> SqlStore<B> {
        SqlStore { backend }
    }

    pub(super) fn backend(&self) -> &B {
        &self.backend
    }
}

/// One query's single value: its first row's integer column 0.
pub(super) fn scalar(
    exec: &mut dyn Exec,
    sql: &str,
    args: &[Arg],
) -> Result<Option<i64>, StoreError> {
    let mut out = None;
    exec.each(sql, args, &mut |row| {
        if out.is_none() {
            out = Some(row.int_at(0)?);
        }
        Ok(())
    })?;
    Ok(out)
}
