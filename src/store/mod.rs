//! Persistence of the trust data, the system of record behind the Trust Hub API: the
//! [`RecordStore`] (what a write commits, records by SID, bulk import, export and the
//! rebuild scan) and the [`Queries`] the API's lists and the Trust Hub rules ask; their
//! embedded SQLite implementation [`SqliteStore`]; and rebuilding the in-memory [`Index`]
//! from a store.
//!
//! The trust-data file streams in and out through [`import_file`] and [`export_to`],
//! never whole in memory.
//!
//! A write is a list of [`Change`]s applied in one transaction: when
//! [`RecordStore::apply`] returns `Ok`, the write is committed. Reads return the model
//! types of [`crate::trust::model`] (the JSON file's shape), so import and export are
//! lossless. A second backend implements the two traits and nothing else.

mod file;
pub mod postgres;
mod sql;
mod sqlite;

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::info;

use crate::trust::{
    Account, AccountStatus, Bundle, BundleKind, BundleStatus, Change, ChannelEndpointAssignment,
    DocumentFile, EndUser, EntityAssignment, Evaluation, Index, IpAccessControlList, IpAddress,
    PhoneNumber, Policy, ReviewEntry, Sid, SupportingDocument, Trunk, TrunkAcl, TrustData,
    TrustError,
};

pub use file::{Counts, Progress, export_to, import_file};
pub use postgres::{Postgres, PostgresStore};
pub use sql::SqlStore;
pub use sqlite::{Sqlite, SqliteStore, backup as backup_sqlite, beside, restore as restore_sqlite};

/// SQLite's `synchronous` setting for the store (WAL mode either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Survives a killed process.
    #[default]
    Normal,
    /// Also survives power loss, at the cost of an fsync per write.
    Full,
}

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error("cannot open the store {path}: {message}")]
    Open { path: String, message: String },
    #[error("store: {0}")]
    Backend(String),
    /// The database cannot be reached now; the write was not made. Worth retrying.
    #[error("the store's database is unreachable: {0}")]
    Unavailable(String),
    #[error("store holds a malformed {what}: {message}")]
    Corrupt { what: &'static str, message: String },
    #[error("the store already holds trust data; import replaces it only with --replace")]
    NotEmpty,
    #[error("cannot read trust data {path}: {reason}")]
    ReadFile { path: String, reason: String },
    #[error("cannot write the trust data: {0}")]
    Write(String),
    #[error("{0}")]
    Trust(#[from] TrustError),
}

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
}

impl Page {
    pub const ALL: Page = Page {
        offset: 0,
        limit: usize::MAX,
    };
}

/// Filters for bundle lists of one kind. `accounts: None` lists every account's bundles.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleQuery {
    pub accounts: Option<Vec<Sid>>,
    pub kind: BundleKind,
    pub status: Option<BundleStatus>,
    pub friendly_name: Option<String>,
    pub policy_sid: Option<Sid>,
}

impl BundleQuery {
    /// Every bundle of `kind`.
    pub fn of(kind: BundleKind) -> BundleQuery {
        BundleQuery {
            accounts: None,
            kind,
            status: None,
            friendly_name: None,
            policy_sid: None,
        }
    }
}

/// Filters for account lists. `accounts: None` lists every account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountQuery {
    pub accounts: Option<Vec<Sid>>,
    /// Only sub-accounts of this account.
    pub parent: Option<Sid>,
    pub friendly_name: Option<String>,
    pub status: Option<AccountStatus>,
}

/// Filters for phone-number lists of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberQuery {
    pub account: Sid,
    /// Digits that must appear in the number; `*` matches any one digit.
    pub pattern: Option<String>,
    pub friendly_name: Option<String>,
}

/// One row of a number scan: the number and the bundles it is assigned to.
#[derive(Debug, Clone, Copy)]
pub struct NumberRow<'a> {
    pub sid: Sid,
    pub account_sid: Sid,
    pub phone_number: &'a str,
    pub bundles: &'a [Sid],
}

/// The trust data's records: what a write commits, each record by its SID, and the bulk
/// paths. Implementations serialize their own writes; the Trust Hub service additionally
/// serializes whole read-check-write sequences.
pub trait RecordStore: Send + Sync {
    /// Applies `changes` in one transaction; `Ok` means committed.
    fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        self.apply_with(changes, &[])
    }
    /// Applies `changes` and writes `files` (documents' uploads) in one transaction. The
    /// files are not in the change log: another node reads them from the store.
    fn apply_with(&self, changes: &[Change], files: &[DocumentFile]) -> Result<(), StoreError>;
    /// Whether the store holds no accounts and no numbers.
    fn is_empty(&self) -> Result<bool, StoreError>;
    /// Replaces everything with `data` (validated by the caller) in one transaction.
    fn replace_all(&self, data: &TrustData) -> Result<(), StoreError>;
    /// Imports `data` only when the store is empty, atomically with that check; returns
    /// whether it did.
    fn seed(&self, data: &TrustData) -> Result<bool, StoreError>;
    /// Replaces everything, in one transaction, with what `fill` writes: the bulk lists
    /// in batches through the [`BulkWriter`] it is given, then the rest, which it
    /// returns (validated). Nothing is written unless `fill` returns `Ok`. With
    /// `replace` false the store must be empty ([`StoreError::NotEmpty`], before `fill`
    /// is called).
    fn import(&self, replace: bool, fill: Box<Fill<'_>>) -> Result<(), StoreError>;
    /// Everything, in the JSON file's shape.
    fn export(&self) -> Result<TrustData, StoreError>;
    /// Visits every number, in the order [`RecordStore::export`] lists them.
    fn each_number(
        &self,
        visit: &mut dyn FnMut(PhoneNumber) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Visits every channel endpoint assignment, in the order [`RecordStore::export`]
    /// lists them.
    fn each_channel_endpoint_assignment(
        &self,
        visit: &mut dyn FnMut(ChannelEndpointAssignment) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// How many numbers and channel endpoint assignments there are.
    fn bulk_counts(&self) -> Result<(u64, u64), StoreError>;
    /// The documents' uploaded files, in the order [`RecordStore::export`] lists them.
    fn document_files(&self) -> Result<Vec<DocumentFile>, StoreError>;
    /// Accounts, bundles, end users and entity assignments: everything but the numbers.
    fn graph_data(&self) -> Result<TrustData, StoreError>;
    /// Visits every number with its assigned bundles.
    fn scan_numbers(
        &self,
        visit: &mut dyn FnMut(NumberRow<'_>) -> Result<(), TrustError>,
    ) -> Result<usize, StoreError>;

    fn account(&self, sid: Sid) -> Result<Option<Account>, StoreError>;
    fn number(&self, sid: Sid) -> Result<Option<PhoneNumber>, StoreError>;
    fn number_by_e164(&self, e164: &str) -> Result<Option<PhoneNumber>, StoreError>;
    fn bundle(&self, sid: Sid) -> Result<Option<Bundle>, StoreError>;
    fn end_user(&self, sid: Sid) -> Result<Option<EndUser>, StoreError>;
    fn entity_assignment(&self, sid: Sid) -> Result<Option<EntityAssignment>, StoreError>;
    fn channel_endpoint_assignment(
        &self,
        sid: Sid,
    ) -> Result<Option<ChannelEndpointAssignment>, StoreError>;
    fn evaluation(&self, sid: Sid) -> Result<Option<Evaluation>, StoreError>;
    fn supporting_document(&self, sid: Sid) -> Result<Option<SupportingDocument>, StoreError>;
    /// The file uploaded with document `sid`, if any.
    fn document_file(&self, sid: Sid) -> Result<Option<DocumentFile>, StoreError>;
    fn trunk(&self, sid: Sid) -> Result<Option<Trunk>, StoreError>;
    fn ip_access_control_list(&self, sid: Sid) -> Result<Option<IpAccessControlList>, StoreError>;
    fn ip_address(&self, sid: Sid) -> Result<Option<IpAddress>, StoreError>;
    /// The change feed, when other processes write this store too.
    fn feed(&self) -> Option<&dyn Feed> {
        None
    }
    /// Records accounts' last calls (Unix seconds), keeping the later of the stored and
    /// the given time. Not a trust-data change: not logged, not announced.
    fn record_activity(&self, entries: &[(Sid, i64)]) -> Result<(), StoreError>;
    /// An account's last call, as recorded.
    fn last_activity(&self, account: Sid) -> Result<Option<i64>, StoreError>;
}

/// What [`RecordStore::import`] runs inside its transaction.
pub type Fill<'a> = dyn FnOnce(&mut dyn BulkWriter) -> Result<TrustData, StoreError> + 'a;

/// Where [`RecordStore::import`] takes the two lists that run to millions of rows, a
/// batch at a time, inside its transaction.
pub trait BulkWriter {
    fn numbers(&mut self, batch: &[PhoneNumber]) -> Result<(), StoreError>;
    fn channel_endpoint_assignments(
        &mut self,
        batch: &[ChannelEndpointAssignment],
    ) -> Result<(), StoreError>;
}

/// The change feed of a store that several nodes share: how one node keeps its index
/// current with the writes the others commit.
pub trait Feed: Send + Sync {
    /// Takes the lock every node's Trust Hub writes hold from their first read to their
    /// commit, so that writes are ordered across nodes and each checks its rules on an
    /// index that has caught up. Released when the guard drops.
    fn lock_writes(&self) -> Result<Box<dyn Send>, StoreError>;
    /// The last committed write's `seq` (0 when there is none).
    fn head(&self) -> Result<i64, StoreError>;
    /// Whether the log still holds entry `seq` (entries are never deleted: one that is
    /// gone means the log lost writes, e.g. in a failover or a restore).
    fn holds(&self, seq: i64) -> Result<bool, StoreError>;
    /// Forgets which entries this process wrote, before the index is rebuilt from the
    /// store (a lost write of its own must not hide another's that reuses its `seq`).
    fn reset(&self);
    /// The committed writes after `seq`, in order: `(seq, changes)`, `None` when the
    /// whole data set was replaced; writes this process committed come with no changes
    /// (they are in its index already).
    #[allow(clippy::type_complexity)]
    fn changes_after(&self, seq: i64) -> Result<Vec<(i64, Option<Vec<Change>>)>, StoreError>;
    /// Wakes the receiver when another write may have been committed (and after each
    /// reconnection, when some may have been missed); `reconnects` counts those.
    fn subscribe(&self, reconnects: Box<dyn Fn() + Send + Sync>)
    -> tokio::sync::mpsc::Receiver<()>;
}

/// The questions the Trust Hub asks besides "the record with this SID": the filters of
/// the API's lists, and the relations its rules follow (what is assigned to a bundle,
/// which bundles hold a number or link to an object). Rows come in the order they were
/// first written.
pub trait Queries: Send + Sync {
    fn accounts(&self, query: &AccountQuery, page: Page) -> Result<Vec<Account>, StoreError>;
    fn numbers(&self, query: &NumberQuery, page: Page) -> Result<Vec<PhoneNumber>, StoreError>;
    fn bundles(&self, query: &BundleQuery, page: Page) -> Result<Vec<Bundle>, StoreError>;
    fn end_users(&self, accounts: Option<&[Sid]>, page: Page) -> Result<Vec<EndUser>, StoreError>;
    fn supporting_documents(
        &self,
        accounts: Option<&[Sid]>,
        page: Page,
    ) -> Result<Vec<SupportingDocument>, StoreError>;
    /// Entity assignments of `bundle` (or naming `object`, when `bundle` is `None`).
    fn entity_assignments(
        &self,
        bundle: Option<Sid>,
        object: Option<Sid>,
        page: Page,
    ) -> Result<Vec<EntityAssignment>, StoreError>;
    /// Assignments on `bundle` (any bundle when `None`), restricted to `endpoints` when
    /// that is not empty.
    fn channel_endpoint_assignments(
        &self,
        bundle: Option<Sid>,
        endpoints: &[Sid],
        page: Page,
    ) -> Result<Vec<ChannelEndpointAssignment>, StoreError>;
    fn evaluations(&self, bundle: Sid, page: Page) -> Result<Vec<Evaluation>, StoreError>;
    /// The review log, oldest first: one bundle's entries, or everyone's.
    fn review_log(&self, bundle: Option<Sid>, page: Page) -> Result<Vec<ReviewEntry>, StoreError>;
    fn trunks(&self, accounts: Option<&[Sid]>, page: Page) -> Result<Vec<Trunk>, StoreError>;
    fn ip_access_control_lists(
        &self,
        accounts: Option<&[Sid]>,
        page: Page,
    ) -> Result<Vec<IpAccessControlList>, StoreError>;
    /// The addresses of list `list`.
    fn ip_addresses(&self, list: Sid, page: Page) -> Result<Vec<IpAddress>, StoreError>;
    /// The lists trunk `trunk` uses.
    fn trunk_acls(&self, trunk: Sid, page: Page) -> Result<Vec<TrunkAcl>, StoreError>;
}

/// A whole backend: records and queries.
pub trait Store: RecordStore + Queries {}

impl<T: RecordStore + Queries> Store for T {}

/// Reads, parses and validates a trust-data JSON file (the format `callsign trust
/// import` and `export` use, and the file mode serves from).
pub fn load_file(path: &Path) -> Result<TrustData, StoreError> {
    let json = std::fs::read_to_string(path).map_err(|e| StoreError::ReadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(TrustData::from_json(&json)?)
}

/// The PostgreSQL URL `location` is, when it is one (`postgres://` or `postgresql://`)
/// rather than a SQLite file's path.
pub fn database_url(location: &Path) -> Option<&str> {
    let text = location.to_str()?;
    (text.starts_with("postgres://") || text.starts_with("postgresql://")).then_some(text)
}

/// Where a store is.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file (created on first run).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<postgres::Target>),
}

impl Location {
    /// `path` as a location: a PostgreSQL URL (see [`database_url`]) or a SQLite file.
    pub fn parse(path: &Path) -> Result<Location, StoreError> {
        match database_url(path) {
            Some(url) => Ok(Location::Postgres(Box::new(postgres::Target::from_url(
                url,
            )?))),
            None => Ok(Location::Sqlite(path.to_owned())),
        }
    }

    /// The location for messages, without any password.
    pub fn name(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(target) => target.name(),
        }
    }
}

/// Opens the store at `location`: a PostgreSQL URL, or a SQLite file (created on first
/// run, with `durability`).
pub fn open(location: &Path, durability: Durability) -> Result<Box<dyn Store>, StoreError> {
    open_at(&Location::parse(location)?, durability)
}

/// Opens the store at `location` (a SQLite file with `durability`, created on first
/// run).
pub fn open_at(location: &Location, durability: Durability) -> Result<Box<dyn Store>, StoreError> {
    match location {
        Location::Postgres(target) => Ok(Box::new(PostgresStore::connect_to(target)?)),
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open(path, durability)?)),
    }
}

/// Opens the store at `location` (see [`open_at`]) and, when it is empty, imports the
/// `seed` trust-data file into it, with the trunking records `also` adds to it (the
/// config's trunks). `now` (RFC 3339) dates the seeded records. On a shared database
/// only the first node to start seeds it.
pub fn open_seeded(
    location: &Location,
    seed: Option<&Path>,
    durability: Durability,
    now: &str,
    also: impl FnOnce(&mut TrustData),
) -> Result<Box<dyn Store>, StoreError> {
    let store = open_at(location, durability)?;
    if let Some(seed) = seed
        && store.is_empty()?
    {
        let mut data = load_file(seed)?;
        also(&mut data);
        prepare_import(&mut data, now);
        if store.seed(&data)? {
            let store = location.name();
            info!(%store, seed = %seed.display(), "trust store seeded");
        }
    }
    Ok(store)
}

/// Readies imported data for the API: accounts without an auth token get a fresh one
/// (the operator reads it with `GET /2010-04-01/Accounts/{Sid}.json`), and records
/// without dates are dated `now`.
pub fn prepare_import(data: &mut TrustData, now: &str) {
    let stamp = |d: &mut Option<String>| stamp(d, now);
    for a in &mut data.accounts {
        if a.auth_token.as_deref().is_none_or(str::is_empty) {
            a.auth_token = Some(uuid::Uuid::new_v4().simple().to_string());
        }
        stamp(&mut a.date_created);
        stamp(&mut a.date_updated);
    }
    for n in &mut data.phone_numbers {
        prepare_number(n, now);
    }
    for b in data
        .customer_profiles
        .iter_mut()
        .chain(&mut data.trust_products)
    {
        stamp(&mut b.date_created);
        stamp(&mut b.date_updated);
    }
    for u in &mut data.end_users {
        stamp(&mut u.date_created);
        stamp(&mut u.date_updated);
    }
    for d in &mut data.supporting_documents {
        stamp(&mut d.date_created);
        stamp(&mut d.date_updated);
    }
    for a in &mut data.entity_assignments {
        stamp(&mut a.date_created);
    }
    for a in &mut data.channel_endpoint_assignments {
        prepare_assignment(a, now);
    }
    let t = &mut data.trunking;
    for r in &mut t.trunks {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.ip_access_control_lists {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.ip_addresses {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.trunk_ip_access_control_lists {
        stamp(&mut r.date_created);
    }
    for r in &mut t.credential_lists {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.credentials {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.trunk_credential_lists {
        stamp(&mut r.date_created);
    }
    for r in &mut t.origination_urls {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.trunk_phone_numbers {
        stamp(&mut r.date_created);
    }
    for r in &mut t.signing_identities {
        stamp(&mut r.date_created);
        stamp(&mut r.date_updated);
    }
    for r in &mut t.signing_assignments {
        stamp(&mut r.date_created);
    }
}

fn stamp(date: &mut Option<String>, now: &str) {
    if date.is_none() {
        *date = Some(now.to_owned());
    }
}

/// [`prepare_import`] for one number.
fn prepare_number(n: &mut PhoneNumber, now: &str) {
    stamp(&mut n.date_created, now);
    stamp(&mut n.date_updated, now);
}

/// [`prepare_import`] for one channel endpoint assignment.
fn prepare_assignment(a: &mut ChannelEndpointAssignment, now: &str) {
    stamp(&mut a.date_created, now);
}

/// Builds a fresh index from the store: the graph first, then every number with its
/// assignments, without holding the whole data set in memory.
pub fn rebuild_index(store: &dyn RecordStore) -> Result<Index, StoreError> {
    let started = Instant::now();
    let graph = store.graph_data()?;
    let index = Index::build(&graph)?;
    let numbers = store.scan_numbers(&mut |row| {
        index.load_number(row.sid, row.account_sid, row.phone_number, row.bundles)
    })?;
    info!(
        numbers,
        accounts = graph.accounts.len(),
        bundles = graph.customer_profiles.len() + graph.trust_products.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "trust index rebuilt from the store"
    );
    Ok(index)
}

/// Splits bundles into the file's two lists by policy.
pub(crate) fn split_bundles(bundles: Vec<Bundle>, data: &mut TrustData) {
    for b in bundles {
        let profile = Policy::from_sid(b.policy_sid).is_none_or(Policy::is_customer_profile);
        if profile {
            data.customer_profiles.push(b);
        } else {
            data.trust_products.push(b);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
