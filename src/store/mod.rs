//! Persistence of the trust data: the [`Store`] trait (the system of record behind the
//! Trust Hub API), its embedded SQLite implementation [`SqliteStore`], and rebuilding the
//! in-memory [`Index`] from a store.
//!
//! A write is a list of [`Change`]s applied in one transaction: when [`Store::apply`]
//! returns `Ok`, the write is committed. Reads return the model types of
//! [`crate::trust::model`] (the JSON file's shape), so import and export are lossless.

mod sqlite;

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::info;

use crate::trust::{
    Account, Bundle, ChannelEndpointAssignment, EndUser, EntityAssignment, Index, PhoneNumber,
    Policy, Sid, TrustData, TrustError,
};

pub use sqlite::SqliteStore;

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
    #[error("store holds a malformed {what}: {message}")]
    Corrupt { what: &'static str, message: String },
    #[error("the store already holds trust data; import replaces it only with --replace")]
    NotEmpty,
    #[error("{0}")]
    Trust(#[from] TrustError),
}

/// One mutation in a write. `Put*` inserts or replaces by SID.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    PutAccount(Account),
    PutNumber(PhoneNumber),
    DeleteNumber(Sid),
    PutBundle(Bundle),
    DeleteBundle(Sid),
    PutEndUser(EndUser),
    DeleteEndUser(Sid),
    PutEntityAssignment(EntityAssignment),
    DeleteEntityAssignment(Sid),
    PutChannelEndpointAssignment(ChannelEndpointAssignment),
    DeleteChannelEndpointAssignment(Sid),
    PutEvaluation(Evaluation),
}

/// A stored Trust Hub evaluation (`EL…`) of a bundle against its policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub sid: Sid,
    pub account_sid: Sid,
    pub policy_sid: Sid,
    pub bundle_sid: Sid,
    /// `compliant` or `noncompliant`.
    pub status: String,
    pub results: serde_json::Value,
    pub date_created: String,
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

/// Filters for bundle lists. `accounts: None` lists every account's bundles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundleQuery {
    pub accounts: Option<Vec<Sid>>,
    /// `true`: customer profiles (Primary and Secondary); `false`: trust products.
    pub profiles: bool,
    pub status: Option<String>,
    pub friendly_name: Option<String>,
    pub policy_sid: Option<Sid>,
}

/// Filters for account lists. `accounts: None` lists every account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountQuery {
    pub accounts: Option<Vec<Sid>>,
    /// Only sub-accounts of this account.
    pub parent: Option<Sid>,
    pub friendly_name: Option<String>,
    pub status: Option<String>,
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

/// The trust data's system of record. Implementations serialize their own writes; the
/// Trust Hub API additionally serializes whole read-check-write sequences.
pub trait Store: Send + Sync {
    /// Applies `changes` in one transaction; `Ok` means committed.
    fn apply(&self, changes: &[Change]) -> Result<(), StoreError>;
    /// Whether the store holds no accounts and no numbers.
    fn is_empty(&self) -> Result<bool, StoreError>;
    /// Replaces everything with `data` (validated by the caller) in one transaction.
    fn replace_all(&self, data: &TrustData) -> Result<(), StoreError>;
    /// Imports `data` only when the store is empty, atomically with that check; returns
    /// whether it did.
    fn seed(&self, data: &TrustData) -> Result<bool, StoreError>;
    /// Everything, in the JSON file's shape.
    fn export(&self) -> Result<TrustData, StoreError>;
    /// Accounts, bundles, end users and entity assignments: everything but the numbers.
    fn graph_data(&self) -> Result<TrustData, StoreError>;
    /// Visits every number with its assigned bundles.
    fn scan_numbers(
        &self,
        visit: &mut dyn FnMut(NumberRow<'_>) -> Result<(), TrustError>,
    ) -> Result<usize, StoreError>;

    fn account(&self, sid: Sid) -> Result<Option<Account>, StoreError>;
    fn accounts(&self, query: &AccountQuery, page: Page) -> Result<Vec<Account>, StoreError>;
    fn number(&self, sid: Sid) -> Result<Option<PhoneNumber>, StoreError>;
    fn number_by_e164(&self, e164: &str) -> Result<Option<PhoneNumber>, StoreError>;
    fn numbers(&self, query: &NumberQuery, page: Page) -> Result<Vec<PhoneNumber>, StoreError>;
    fn bundle(&self, sid: Sid) -> Result<Option<Bundle>, StoreError>;
    fn bundles(&self, query: &BundleQuery, page: Page) -> Result<Vec<Bundle>, StoreError>;
    fn end_user(&self, sid: Sid) -> Result<Option<EndUser>, StoreError>;
    fn end_users(&self, accounts: Option<&[Sid]>, page: Page) -> Result<Vec<EndUser>, StoreError>;
    fn entity_assignment(&self, sid: Sid) -> Result<Option<EntityAssignment>, StoreError>;
    /// Entity assignments of `bundle` (or naming `object`, when `bundle` is `None`).
    fn entity_assignments(
        &self,
        bundle: Option<Sid>,
        object: Option<Sid>,
        page: Page,
    ) -> Result<Vec<EntityAssignment>, StoreError>;
    fn channel_endpoint_assignment(
        &self,
        sid: Sid,
    ) -> Result<Option<ChannelEndpointAssignment>, StoreError>;
    /// Assignments on `bundle` (any bundle when `None`), restricted to `endpoints` when
    /// that is not empty.
    fn channel_endpoint_assignments(
        &self,
        bundle: Option<Sid>,
        endpoints: &[Sid],
        page: Page,
    ) -> Result<Vec<ChannelEndpointAssignment>, StoreError>;
    fn evaluation(&self, sid: Sid) -> Result<Option<Evaluation>, StoreError>;
    fn evaluations(&self, bundle: Sid, page: Page) -> Result<Vec<Evaluation>, StoreError>;
}

/// Opens the store at `path` (creating it on first run) and, when it is empty, imports
/// the `seed` trust-data file into it. `now` (RFC 3339) dates the seeded records.
pub fn open_seeded(
    path: &Path,
    seed: Option<&Path>,
    durability: Durability,
    now: &str,
) -> Result<SqliteStore, StoreError> {
    let store = SqliteStore::open(path, durability)?;
    if let Some(seed) = seed
        && store.is_empty()?
    {
        let mut data = crate::trust::load_file(seed)?;
        prepare_import(&mut data, now);
        if store.seed(&data)? {
            info!(store = %path.display(), seed = %seed.display(), "trust store seeded");
        }
    }
    Ok(store)
}

/// Readies imported data for the API: accounts without an auth token get a fresh one
/// (the operator reads it with `GET /2010-04-01/Accounts/{Sid}.json`), and records
/// without dates are dated `now`.
pub fn prepare_import(data: &mut TrustData, now: &str) {
    let stamp = |d: &mut Option<String>| {
        if d.is_none() {
            *d = Some(now.to_owned());
        }
    };
    for a in &mut data.accounts {
        if a.auth_token.as_deref().is_none_or(str::is_empty) {
            a.auth_token = Some(uuid::Uuid::new_v4().simple().to_string());
        }
        stamp(&mut a.date_created);
        stamp(&mut a.date_updated);
    }
    for n in &mut data.phone_numbers {
        stamp(&mut n.date_created);
        stamp(&mut n.date_updated);
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
    for a in &mut data.entity_assignments {
        stamp(&mut a.date_created);
    }
    for a in &mut data.channel_endpoint_assignments {
        stamp(&mut a.date_created);
    }
}

/// Builds a fresh index from the store: the graph first, then every number with its
/// assignments, without holding the whole data set in memory.
pub fn rebuild_index(store: &dyn Store) -> Result<Index, StoreError> {
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
mod tests;
