//! The in-memory trust index: a concurrent map from calling number to its phone-number
//! record, and a snapshot of accounts and bundles that writers replace whole.
//!
//! Readers take no lock a writer can hold for long: a number lookup is one `DashMap` shard
//! read, and the graph is loaded through `arc_swap`. Numbers are updated in place; graph
//! writes (rare: a review decision, a new bundle) copy the small graph and swap it in.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use arc_swap::ArcSwap;
use dashmap::DashMap;

use super::graph::{self, Graph, NO_BUNDLE, NumberEntry};
use super::model::{BundleStatus, PhoneNumber, Policy, TrustData};
use super::trunking::{DomainTrunk, Found, TrunkHit, TrunkTable, Trunking};
use super::{Sid, TrustError};
use crate::tn::Tn;

/// Trust lookups for the hot path. Build one with [`Index::build`].
#[derive(Default)]
pub struct Index {
    /// Keyed by [`Tn::as_u64`]: 8 + 32 bytes per number.
    numbers: DashMap<u64, NumberEntry>,
    graph: ArcSwap<Graph>,
    /// Trunks and access lists, and the source-address table built from them.
    trunking: ArcSwap<TrunkingState>,
    /// Serializes writers so a graph copy is never lost; readers never touch it.
    writer: Mutex<()>,
}

/// What [`Index::trunk_for`] found: owned, to outlive the index snapshot.
#[derive(Debug, Clone)]
pub enum TrunkFor {
    Trunk(std::sync::Arc<TrunkHit>),
    /// A trunk's domain from an address its lists do not admit: credentials decide.
    Authenticate(std::sync::Arc<DomainTrunk>),
    Nothing,
}

/// Trunking records and their table built for a write ([`Index::prepare_trunking`]).
pub struct PreparedTrunking {
    /// The state they were built from (held, so its address is not reused).
    base: std::sync::Arc<TrunkingState>,
    state: TrunkingState,
}

/// The trunking records and their table, swapped whole on each write.
#[derive(Debug, Default)]
pub(super) struct TrunkingState {
    pub records: Trunking,
    pub table: TrunkTable,
    /// Trunk or account to the signing identity assigned to it.
    pub signs_for: HashMap<Sid, Sid>,
    /// The addresses of every origination URL: carriers, whose in-dialog requests and
    /// responses are accepted as the upstream's.
    pub origination_sources: std::collections::HashSet<std::net::IpAddr>,
}

impl TrunkingState {
    fn new(records: Trunking, table: TrunkTable) -> TrunkingState {
        let signs_for = super::signing::assigned(&records.signing_assignments);
        let origination_sources = (records.origination_urls.iter())
            .filter_map(|u| super::trunking::sip_url_target(&u.sip_url).ok())
            .map(|(addr, _)| addr.ip())
            .collect();
        TrunkingState {
            records,
            table,
            signs_for,
            origination_sources,
        }
    }
}

/// An index's content by SID ([`Index::snapshot`]), for tests.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// Account: parent, Primary profiles in order.
    pub accounts: std::collections::BTreeMap<Sid, (Option<Sid>, Vec<Sid>)>,
    pub bundles: std::collections::BTreeMap<Sid, SnapshotBundle>,
    /// Number: PN, owner, profile, product.
    #[allow(clippy::type_complexity)]
    pub numbers: std::collections::BTreeMap<u64, (Sid, Option<Sid>, Option<Sid>, Option<Sid>)>,
}

/// One bundle of a [`Snapshot`].
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotBundle {
    pub account: Sid,
    pub policy: Policy,
    pub status: BundleStatus,
    pub valid_until: Option<i64>,
    pub products: Vec<Sid>,
    pub primaries: Vec<Sid>,
}

/// A phone number as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberInfo {
    pub pn: Sid,
    pub account: Sid,
    pub profile: Option<Sid>,
    pub product: Option<Sid>,
}

/// An account as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountInfo {
    pub sid: Sid,
    pub parent: Option<Sid>,
}

/// A bundle as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleInfo {
    pub sid: Sid,
    pub account: Sid,
    pub policy: Policy,
    pub status: BundleStatus,
    /// Unix seconds.
    pub valid_until: Option<i64>,
}

impl Index {
    /// Validates `data` (as [`TrustData::validate`]) and indexes it.
    pub fn build(data: &TrustData) -> Result<Index, TrustError> {
        let resolved = graph::resolve(data)?;
        let numbers = DashMap::with_capacity(resolved.numbers.len());
        for (key, entry) in resolved.numbers {
            numbers.insert(key, entry);
        }
        let accounts = &resolved.graph.account_ids;
        data.trunking.validate(|a| accounts.contains_key(&a))?;
        let table = TrunkTable::build(&data.trunking)?;
        let trunking = TrunkingState::new(data.trunking.clone(), table);
        Ok(Index {
            numbers,
            graph: ArcSwap::from_pointee(resolved.graph),
            trunking: ArcSwap::from_pointee(trunking),
            writer: Mutex::new(()),
        })
    }

    /// The provisioned trunk a request from `ip` to `host` belongs to (see
    /// [`TrunkTable::lookup`]); `host` is asked for only when some trunk has a domain.
    pub fn trunk_for<'h>(
        &self,
        ip: std::net::IpAddr,
        host: impl FnOnce() -> Option<&'h str>,
    ) -> TrunkFor {
        let state = self.trunking.load();
        let host = if state.table.has_domains() {
            host()
        } else {
            None
        };
        match state.table.lookup(ip, host) {
            Found::Trunk(hit) => TrunkFor::Trunk(std::sync::Arc::clone(hit)),
            Found::Authenticate(t) => TrunkFor::Authenticate(std::sync::Arc::clone(t)),
            Found::Nothing => TrunkFor::Nothing,
        }
    }

    /// Whether some trunk takes requests on credentials (a domain and a credential
    /// list), and so from any address.
    pub fn takes_credentials(&self) -> bool {
        self.trunking.load().table.takes_credentials()
    }

    /// A provisioned trunk whose lists admit `ip`, with or without a domain.
    pub fn trunk_admitting(&self, ip: std::net::IpAddr) -> Option<std::sync::Arc<TrunkHit>> {
        self.trunking.load().table.admitting(ip).cloned()
    }

    /// The first trunk with a credential for `username` that `matches` accepts (an SBC's
    /// HTTP basic credentials).
    pub fn trunk_by_credential(
        &self,
        username: &str,
        matches: impl Fn(&super::Credential) -> bool,
    ) -> Option<std::sync::Arc<TrunkHit>> {
        let state = self.trunking.load();
        (state.table.credentials(username).iter())
            .find(|(c, _)| matches(c))
            .map(|(_, hit)| std::sync::Arc::clone(hit))
    }

    /// The trunk whose domain is `name` (an SBC's client certificate name).
    pub fn trunk_by_domain(&self, name: &str) -> Option<std::sync::Arc<TrunkHit>> {
        self.trunking.load().table.domain_trunk(name).cloned()
    }

    /// The trunking records as they are now.
    pub fn trunking(&self) -> Trunking {
        self.trunking.load().records.clone()
    }

    /// The trunk a call to number `tn` is delivered to: the trunk the number is on, when
    /// that trunk has enabled origination URLs. `tn` is asked for only when some number
    /// is on such a trunk.
    pub fn number_trunk(
        &self,
        tn: impl FnOnce() -> Option<Tn>,
    ) -> Option<std::sync::Arc<TrunkHit>> {
        let state = self.trunking.load();
        if !state.table.routes_numbers() {
            return None;
        }
        let entry = self.number_entry(tn()?)?;
        state.table.number_trunk(entry.pn).cloned()
    }

    /// Whether `ip` is the address of an origination URL (a carrier's).
    pub fn is_origination_source(&self, ip: std::net::IpAddr) -> bool {
        let state = self.trunking.load();
        !state.origination_sources.is_empty()
            && state
                .origination_sources
                .contains(&super::trunking::canonical(ip))
    }

    /// `read` of the trunking records as they are now, without copying them.
    pub fn with_trunking<R>(&self, read: impl FnOnce(&Trunking) -> R) -> R {
        read(&self.trunking.load().records)
    }

    /// The signing identity that signs a call of the provisioned trunk `trunk` for
    /// `account`: the trunk's own, else the account's, else its parent's; `None` when
    /// the default identity of `[signing]` signs.
    pub fn signing_identity(&self, trunk: Option<Sid>, account: Option<Sid>) -> Option<Sid> {
        let state = self.trunking.load();
        if state.signs_for.is_empty() {
            return None;
        }
        let of = |sid: Option<Sid>| sid.and_then(|s| state.signs_for.get(&s).copied());
        of(trunk)
            .or_else(|| of(account))
            .or_else(|| of(account.and_then(|a| self.account(a)?.parent)))
    }

    /// Checks that `changes` would leave the trunking records consistent (references,
    /// ranges, no two trunks sharing an address), and keeps what it built:
    /// [`Index::install_trunking`] makes it live once the changes are committed, so that
    /// a write builds the source-address table once, not once per change.
    pub fn prepare_trunking(
        &self,
        changes: &[super::Change],
    ) -> Result<PreparedTrunking, TrustError> {
        let base = self.trunking.load_full();
        let state = self.trunking_after(changes)?;
        Ok(PreparedTrunking { base, state })
    }

    /// Makes prepared trunking records live, if the records they were prepared from are
    /// still the live ones; otherwise (another write came between) applies nothing and
    /// returns false, and the caller applies its changes one by one.
    pub fn install_trunking(&self, prepared: PreparedTrunking) -> bool {
        let _writer = self.lock_writer();
        if !std::sync::Arc::ptr_eq(&self.trunking.load_full(), &prepared.base) {
            return false;
        }
        self.trunking.store(std::sync::Arc::new(prepared.state));
        true
    }

    fn trunking_after(&self, changes: &[super::Change]) -> Result<TrunkingState, TrustError> {
        let mut records = self.trunking.load().records.clone();
        for change in changes {
            records.apply(change);
        }
        let graph = self.graph();
        records.validate(|a| graph.account_ids.contains_key(&a))?;
        let table = TrunkTable::build(&records)?;
        Ok(TrunkingState::new(records, table))
    }

    /// Applies one trunking change (see [`Index::apply`]).
    pub(super) fn apply_trunking(&self, change: &super::Change) -> Result<(), TrustError> {
        let _writer = self.lock_writer();
        let next = self.trunking_after(std::slice::from_ref(change))?;
        self.trunking.store(std::sync::Arc::new(next));
        Ok(())
    }

    /// How many numbers are loaded.
    pub fn len_numbers(&self) -> usize {
        self.numbers.len()
    }

    pub(super) fn graph(&self) -> arc_swap::Guard<std::sync::Arc<Graph>> {
        self.graph.load()
    }

    /// The raw entry for a number: one shard read, copied out.
    pub(super) fn number_entry(&self, tn: Tn) -> Option<NumberEntry> {
        self.numbers.get(&tn.as_u64()).map(|entry| *entry)
    }

    /// The phone number record for `tn`, if the operator owns it.
    pub fn number(&self, tn: Tn) -> Option<NumberInfo> {
        let entry = self.number_entry(tn)?;
        let graph = self.graph();
        let bundle_sid = |id| graph.bundle(id).map(|b| b.sid);
        Some(NumberInfo {
            pn: entry.pn,
            account: graph.account(entry.account)?.sid,
            profile: bundle_sid(entry.profile),
            product: bundle_sid(entry.product),
        })
    }

    /// The account with this SID.
    pub fn account(&self, sid: Sid) -> Option<AccountInfo> {
        let graph = self.graph();
        let node = graph.account(*graph.account_ids.get(&sid)?)?;
        Some(AccountInfo {
            sid: node.sid,
            parent: node.parent.and_then(|p| graph.account(p)).map(|p| p.sid),
        })
    }

    /// The customer profile or trust product with this SID.
    pub fn bundle(&self, sid: Sid) -> Option<BundleInfo> {
        let graph = self.graph();
        let node = graph.bundle(*graph.bundle_ids.get(&sid)?)?;
        Some(BundleInfo {
            sid: node.sid,
            account: graph.account(node.account)?.sid,
            policy: node.policy,
            status: node.status,
            valid_until: node.valid_until,
        })
    }

    /// Everything the index holds, by SID and number, independent of the order and ids it
    /// was built with: two indexes that answer every lookup alike have equal snapshots.
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> Snapshot {
        let graph = self.graph();
        let sids = |ids: &[u32]| -> Vec<Sid> {
            ids.iter()
                .filter_map(|id| graph.bundle(*id).map(|b| b.sid))
                .collect()
        };
        let accounts = graph
            .account_ids
            .iter()
            .filter_map(|(sid, id)| {
                let node = graph.account(*id)?;
                let parent = node.parent.and_then(|p| graph.account(p)).map(|p| p.sid);
                Some((*sid, (parent, sids(&node.primaries))))
            })
            .collect();
        let bundles = graph
            .bundle_ids
            .iter()
            .filter_map(|(sid, id)| {
                let node = graph.bundle(*id)?;
                let account = graph.account(node.account)?.sid;
                let entry = SnapshotBundle {
                    account,
                    policy: node.policy,
                    status: node.status,
                    valid_until: node.valid_until,
                    products: sids(&node.products),
                    primaries: sids(&node.primaries),
                };
                Some((*sid, entry))
            })
            .collect();
        let numbers = self
            .numbers
            .iter()
            .map(|e| {
                let n = *e.value();
                let bundle = |id| graph.bundle(id).map(|b| b.sid);
                let account = graph.account(n.account).map(|a| a.sid);
                (
                    *e.key(),
                    (n.pn, account, bundle(n.profile), bundle(n.product)),
                )
            })
            .collect();
        Snapshot {
            accounts,
            bundles,
            numbers,
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        // The guarded data is `()`, so a poisoned lock holds nothing broken.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a phone number, or moves an existing one (same `sid`) to another account,
    /// keeping its assignments. A number held by a different `PN…` is refused; to renumber
    /// a `PN…`, remove its old number first.
    fn upsert_number(&self, number: &PhoneNumber) -> Result<(), TrustError> {
        let _writer = self.lock_writer();
        let tn = graph::e164(number.sid, &number.phone_number)?;
        let graph = self.graph();
        let account =
            *graph
                .account_ids
                .get(&number.account_sid)
                .ok_or(TrustError::UnknownAccount {
                    sid: number.sid,
                    field: "account_sid",
                    account: number.account_sid,
                })?;
        let mut slot = self.numbers.entry(tn.as_u64()).or_insert(NumberEntry {
            pn: number.sid,
            account,
            profile: NO_BUNDLE,
            product: NO_BUNDLE,
        });
        if slot.pn != number.sid {
            return Err(TrustError::NumberOwnedTwice {
                number: tn,
                first: slot.pn,
                second: number.sid,
            });
        }
        slot.account = account;
        Ok(())
    }

    /// Removes a number and its assignments.
    fn remove_number(&self, tn: Tn) -> Result<(), TrustError> {
        let _writer = self.lock_writer();
        self.numbers
            .remove(&tn.as_u64())
            .map(drop)
            .ok_or(TrustError::NumberNotFound(tn))
    }

    /// Records a channel-endpoint assignment of `tn` to a customer profile or trust
    /// product. A number is on at most one of each.
    fn assign_number(&self, tn: Tn, bundle: Sid) -> Result<(), TrustError> {
        let _writer = self.lock_writer();
        let graph = self.graph();
        let id = *graph.bundle_ids.get(&bundle).ok_or(TrustError::NotFound {
            kind: "bundle",
            sid: bundle,
        })?;
        let mut entry = self
            .numbers
            .get_mut(&tn.as_u64())
            .ok_or(TrustError::NumberNotFound(tn))?;
        graph::assign(&graph, &mut entry, id)
    }

    /// Removes a channel-endpoint assignment of `tn` to `bundle`.
    fn unassign_number(&self, tn: Tn, bundle: Sid) -> Result<(), TrustError> {
        let _writer = self.lock_writer();
        let graph = self.graph();
        let id = *graph.bundle_ids.get(&bundle).ok_or(TrustError::NotFound {
            kind: "bundle",
            sid: bundle,
        })?;
        let mut guard = self
            .numbers
            .get_mut(&tn.as_u64())
            .ok_or(TrustError::NumberNotFound(tn))?;
        let entry: &mut NumberEntry = &mut guard;
        for slot in [&mut entry.profile, &mut entry.product] {
            if *slot == id {
                *slot = NO_BUNDLE;
                return Ok(());
            }
        }
        Err(TrustError::NotFound {
            kind: "channel endpoint assignment to",
            sid: bundle,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tn::{Numbering, canonicalize};
    use crate::trust::AssignError;

    const AC1: &str = "AC00000000000000000000000000000001";
    const AC2: &str = "AC00000000000000000000000000000002";
    const BU_P: &str = "BU000000000000000000000000000000a1";
    const BU_T: &str = "BU000000000000000000000000000000b1";
    const PN1: &str = "PN00000000000000000000000000000001";

    fn sid(s: &str) -> Sid {
        Sid::parse_any(s).unwrap()
    }

    fn tn(s: &str) -> Tn {
        canonicalize(s, &Numbering::default()).unwrap()
    }

    fn data() -> TrustData {
        let json = format!(
            r#"{{
            "accounts": [{{"sid":"{AC1}"}}, {{"sid":"{AC2}","parent_sid":"{AC1}"}}],
            "customer_profiles": [{{"sid":"{BU_P}","account_sid":"{AC1}",
                "policy_sid":"RN6433641899984f951173ef1738c3bdd0","status":"twilio-approved"}}],
            "trust_products": [{{"sid":"{BU_T}","account_sid":"{AC1}",
                "policy_sid":"RN7a97559effdf62d00f4298208492a5ea","status":"in-review"}}],
            "phone_numbers": [{{"sid":"{PN1}","account_sid":"{AC1}","phone_number":"+12155550121"}}],
            "channel_endpoint_assignments": [{{"sid":"RA00000000000000000000000000000001",
                "bundle_sid":"{BU_P}","channel_endpoint_sid":"{PN1}","channel_endpoint_type":"phone-number"}}]
        }}"#
        );
        TrustData::from_json(&json).unwrap()
    }

    fn phone(pn: &str, account: &str, number: &str) -> PhoneNumber {
        PhoneNumber {
            sid: sid(pn),
            account_sid: sid(account),
            phone_number: number.into(),
            friendly_name: None,
            date_created: None,
            date_updated: None,
            uri: None,
        }
    }

    #[test]
    fn lookups_resolve_sids() {
        let index = Index::build(&data()).unwrap();
        assert_eq!(index.len_numbers(), 1);
        assert_eq!(
            index.number(tn("+12155550121")),
            Some(NumberInfo {
                pn: sid(PN1),
                account: sid(AC1),
                profile: Some(sid(BU_P)),
                product: None,
            })
        );
        assert_eq!(index.number(tn("+12155550122")), None);
        assert_eq!(
            index.account(sid(AC2)),
            Some(AccountInfo {
                sid: sid(AC2),
                parent: Some(sid(AC1))
            })
        );
        let t = index.bundle(sid(BU_T)).unwrap();
        assert_eq!(
            (t.policy, t.status),
            (Policy::ShakenStir, BundleStatus::InReview)
        );
        assert_eq!(index.bundle(sid(AC1)), None);
    }

    #[test]
    fn number_updates() {
        let index = Index::build(&data()).unwrap();
        let n2 = tn("+12155550122");
        let pn2 = "PN00000000000000000000000000000002";
        index
            .upsert_number(&phone(pn2, AC2, "+12155550122"))
            .unwrap();
        assert_eq!(index.number(n2).map(|n| n.account), Some(sid(AC2)));
        index.assign_number(n2, sid(BU_T)).unwrap();
        index
            .upsert_number(&phone(pn2, AC1, "+12155550122"))
            .unwrap();
        let info = index.number(n2).unwrap();
        assert_eq!((info.account, info.product), (sid(AC1), Some(sid(BU_T))));
        assert!(matches!(
            index.upsert_number(&phone(PN1, AC1, "+12155550122")),
            Err(TrustError::NumberOwnedTwice { .. })
        ));
        assert!(matches!(
            index.upsert_number(&phone(
                pn2,
                "AC00000000000000000000000000000009",
                "+12155550122"
            )),
            Err(TrustError::UnknownAccount { .. })
        ));
        index.unassign_number(n2, sid(BU_T)).unwrap();
        assert_eq!(index.number(n2).and_then(|n| n.product), None);
        assert!(index.unassign_number(n2, sid(BU_T)).is_err());
        index.remove_number(n2).unwrap();
        assert_eq!(index.number(n2), None);
        assert_eq!(index.remove_number(n2), Err(TrustError::NumberNotFound(n2)));
    }

    #[test]
    fn a_number_is_on_one_profile_at_most() {
        let mut d = data();
        let mut second = d.customer_profiles[0].clone();
        second.sid = sid("BU000000000000000000000000000000a2");
        d.customer_profiles.push(second);
        let index = Index::build(&d).unwrap();
        let n1 = tn("+12155550121");
        let held = Err(TrustError::Assignment(AssignError::AlreadyAssigned {
            pn: sid(PN1),
            bundle: sid(BU_P),
        }));
        assert_eq!(index.assign_number(n1, sid(BU_P)), held);
        assert_eq!(
            index.assign_number(n1, sid("BU000000000000000000000000000000a2")),
            held
        );
        assert_eq!(
            index.assign_number(n1, sid(AC1)),
            Err(TrustError::NotFound {
                kind: "bundle",
                sid: sid(AC1)
            })
        );
    }

    #[test]
    fn a_prepared_trunking_write_goes_live_only_over_what_it_was_built_from() {
        use crate::trust::{Change, Trunk};
        let index = Index::build(&data()).unwrap();
        let trunk = |n: &str| Trunk {
            friendly_name: Some(n.into()),
            ..Trunk::new(
                sid(&format!("TK0000000000000000000000000000000{n}")),
                sid(AC1),
            )
        };
        let first = index
            .prepare_trunking(&[Change::PutTrunk(trunk("1"))])
            .unwrap();
        assert!(index.install_trunking(first));
        assert_eq!(index.with_trunking(|t| t.trunks.len()), 1);
        // Prepared, then overtaken by another write: not installed.
        let late = index
            .prepare_trunking(&[Change::PutTrunk(trunk("2"))])
            .unwrap();
        index.apply(&Change::PutTrunk(trunk("3"))).unwrap();
        assert!(!index.install_trunking(late));
        let names: Vec<_> = index.with_trunking(|t| {
            t.trunks
                .iter()
                .map(|t| t.friendly_name.clone().unwrap())
                .collect()
        });
        assert_eq!(names, ["1", "3"]);
        // A refused write prepares nothing.
        let mut bad = trunk("4");
        bad.account_sid = sid("AC00000000000000000000000000000099");
        assert!(index.prepare_trunking(&[Change::PutTrunk(bad)]).is_err());
    }
}

mod update;
