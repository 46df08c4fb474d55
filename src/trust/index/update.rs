//! Incremental updates: [`Index::apply`] derives the update of each committed
//! [`Change`] (accounts, bundles, entity links, numbers and their assignments), plus the
//! bulk number loader used when the index is rebuilt from the store.
//!
//! Each graph write copies the (small) graph, edits the copy and swaps it in, so a call
//! in flight finishes on the snapshot it started with and the next call sees the change.

use std::collections::HashMap;
use std::sync::Arc;

use super::super::graph::{self, AccountNode, BundleNode, Graph, NO_BUNDLE, NumberEntry, dense_id};
use super::super::model::{AccountStatus, BundleStatus, Policy};
use super::super::{Change, Sid, TrustError};
use super::Index;

impl Index {
    /// Applies a committed change. Records the index does not hold (end users,
    /// evaluations) change nothing. An error means the change does not fit the index
    /// (it broke a rule the writer should have checked): rebuild from the store.
    pub fn apply(&self, change: &Change) -> Result<(), TrustError> {
        match change {
            Change::PutAccount(a) => {
                self.upsert_account(a.sid, a.parent(), a.status != AccountStatus::Active)
            }
            Change::PutNumber(n) => self.upsert_number(n),
            Change::DeleteNumber(n) => self.remove_number(graph::e164(n.sid, &n.phone_number)?),
            Change::PutBundle(b) => {
                let policy = Policy::from_sid(b.policy_sid).ok_or(TrustError::UnknownPolicy {
                    sid: b.sid,
                    policy: b.policy_sid,
                })?;
                let valid_until = b.valid_until.map(|t| t.unix_timestamp());
                self.upsert_bundle(b.sid, b.account_sid, policy, b.status, valid_until)
            }
            Change::DeleteBundle(b) => self.remove_bundle(b.sid),
            Change::PutEntityAssignment(a) => self.link(a.sid, a.bundle_sid, a.object_sid),
            Change::DeleteEntityAssignment(a) => self.unlink(a.bundle_sid, a.object_sid),
            Change::PutChannelEndpointAssignment(a, tn) => self.assign_number(*tn, a.bundle_sid),
            Change::DeleteChannelEndpointAssignment(a, tn) => {
                self.unassign_number(*tn, a.bundle_sid)
            }
            Change::PutEndUser(_)
            | Change::DeleteEndUser(_)
            | Change::PutEvaluation(_)
            | Change::AppendReview(_)
            | Change::PutSupportingDocument(_)
            | Change::DeleteSupportingDocument(_) => Ok(()),
            Change::PutTrunk(_)
            | Change::DeleteTrunk(_)
            | Change::PutIpAccessControlList(_)
            | Change::DeleteIpAccessControlList(_)
            | Change::PutIpAddress(_)
            | Change::DeleteIpAddress(_)
            | Change::PutTrunkAcl(_)
            | Change::DeleteTrunkAcl(_)
            | Change::PutCredentialList(_)
            | Change::DeleteCredentialList(_)
            | Change::PutCredential(_)
            | Change::DeleteCredential(_)
            | Change::PutTrunkCredentialList(_)
            | Change::DeleteTrunkCredentialList(_)
            | Change::PutOriginationUrl(_)
            | Change::DeleteOriginationUrl(_)
            | Change::PutTrunkPhoneNumber(_)
            | Change::DeleteTrunkPhoneNumber(_)
            | Change::PutSigningIdentity(_)
            | Change::DeleteSigningIdentity(_)
            | Change::PutSigningAssignment(_)
            | Change::DeleteSigningAssignment(_) => self.apply_trunking(change),
        }
    }

    /// Copies the graph, lets `edit` change the copy, and publishes it if `edit` succeeds.
    fn edit_graph<T>(
        &self,
        edit: impl FnOnce(&mut Graph) -> Result<T, TrustError>,
    ) -> Result<T, TrustError> {
        let _writer = self.lock_writer();
        let mut next = Graph::clone(&self.graph());
        let out = edit(&mut next)?;
        self.graph.store(Arc::new(next));
        Ok(out)
    }

    /// Adds an account; an existing account keeps its place (its parent cannot change).
    fn upsert_account(
        &self,
        sid: Sid,
        parent: Option<Sid>,
        inactive: bool,
    ) -> Result<(), TrustError> {
        if let Some(&id) = self.graph().account_ids.get(&sid) {
            if self
                .graph()
                .account(id)
                .is_some_and(|a| a.inactive == inactive)
            {
                return Ok(());
            }
            return self.edit_graph(|g| {
                if let Some(node) = g.accounts.get_mut(id as usize) {
                    node.inactive = inactive;
                }
                Ok(())
            });
        }
        self.edit_graph(|g| {
            if g.account_ids.contains_key(&sid) {
                return Ok(());
            }
            let parent = match parent {
                Some(p) => {
                    let id = *g.account_ids.get(&p).ok_or(TrustError::UnknownAccount {
                        sid,
                        field: "parent_sid",
                        account: p,
                    })?;
                    if g.account(id).is_some_and(|a| a.parent.is_some()) {
                        return Err(TrustError::NestedSubAccount {
                            account: sid,
                            parent: p,
                        });
                    }
                    Some(id)
                }
                None => None,
            };
            let id = dense_id(g.accounts.len(), "accounts")?;
            g.account_ids.insert(sid, id);
            g.accounts.push(AccountNode {
                sid,
                parent,
                primaries: Vec::new(),
                inactive,
            });
            Ok(())
        })
    }

    /// Adds a bundle, or updates the status and `valid_until` (Unix seconds) of an
    /// existing one. Its account and policy cannot change.
    fn upsert_bundle(
        &self,
        sid: Sid,
        account: Sid,
        policy: Policy,
        status: BundleStatus,
        valid_until: Option<i64>,
    ) -> Result<(), TrustError> {
        // A bundle written with what the index already holds (an edit of its name or
        // email) needs no copy of the graph.
        let unchanged = {
            let g = self.graph();
            (g.bundle_ids.get(&sid))
                .and_then(|&id| g.bundle(id))
                .is_some_and(|n| n.status == status && n.valid_until == valid_until)
        };
        if unchanged {
            return Ok(());
        }
        self.edit_graph(|g| {
            if let Some(node) = g
                .bundle_ids
                .get(&sid)
                .copied()
                .and_then(|id| g.bundles.get_mut(id as usize))
            {
                node.status = status;
                node.valid_until = valid_until;
                return Ok(());
            }
            let owner = *g
                .account_ids
                .get(&account)
                .ok_or(TrustError::UnknownAccount {
                    sid,
                    field: "account_sid",
                    account,
                })?;
            let id = dense_id(g.bundles.len(), "bundles")?;
            if policy == Policy::PrimaryCustomerProfile
                && let Some(node) = g.accounts.get_mut(owner as usize)
            {
                node.primaries.push(id);
            }
            g.bundle_ids.insert(sid, id);
            g.bundles.push(BundleNode {
                sid,
                account: owner,
                policy,
                status,
                valid_until,
                products: Vec::new(),
                primaries: Vec::new(),
            });
            Ok(())
        })
    }

    /// Removes a bundle and every link to or from it. Numbers assigned to it must be
    /// unassigned first ([`Index::unassign_number`]); the node stays behind as an
    /// unreachable, never-approved tombstone until the next rebuild.
    fn remove_bundle(&self, sid: Sid) -> Result<(), TrustError> {
        self.edit_graph(|g| {
            let id = g.bundle_ids.remove(&sid).ok_or(TrustError::NotFound {
                kind: "bundle",
                sid,
            })?;
            for account in &mut g.accounts {
                account.primaries.retain(|&b| b != id);
            }
            for node in &mut g.bundles {
                node.products.retain(|&b| b != id);
                node.primaries.retain(|&b| b != id);
            }
            if let Some(node) = g.bundles.get_mut(id as usize) {
                node.status = BundleStatus::Draft;
                node.valid_until = None;
                node.products.clear();
                node.primaries.clear();
            }
            Ok(())
        })
    }

    /// Records an entity assignment between two bundles (trust product → customer
    /// profile, or secondary → primary profile). Links to end users are not indexed.
    fn link(&self, assignment: Sid, bundle: Sid, object: Sid) -> Result<(), TrustError> {
        if !object.is("BU") {
            return Ok(());
        }
        self.edit_graph(|g| graph::link(g, assignment, bundle, object, &HashMap::new()))
    }

    /// Removes an entity assignment between two bundles (a no-op for other objects).
    fn unlink(&self, bundle: Sid, object: Sid) -> Result<(), TrustError> {
        if !object.is("BU") {
            return Ok(());
        }
        self.edit_graph(|g| {
            let id = |sid: Sid| {
                g.bundle_ids.get(&sid).copied().ok_or(TrustError::NotFound {
                    kind: "bundle",
                    sid,
                })
            };
            let (from, to) = (id(bundle)?, id(object)?);
            for (on, other) in [(from, to), (to, from)] {
                if let Some(node) = g.bundles.get_mut(on as usize) {
                    node.products.retain(|&b| b != other);
                    node.primaries.retain(|&b| b != other);
                }
            }
            Ok(())
        })
    }

    /// Adds one number with its bundles, for a rebuild: `e164` is validated, and the
    /// account and bundles must already be in the graph.
    pub fn load_number(
        &self,
        pn: Sid,
        account: Sid,
        e164: &str,
        bundles: &[Sid],
    ) -> Result<(), TrustError> {
        let tn = graph::e164(pn, e164)?;
        let graph = self.graph();
        let account = *graph
            .account_ids
            .get(&account)
            .ok_or(TrustError::UnknownAccount {
                sid: pn,
                field: "account_sid",
                account,
            })?;
        let mut entry = NumberEntry {
            pn,
            account,
            profile: NO_BUNDLE,
            product: NO_BUNDLE,
        };
        for bundle in bundles {
            let id = *graph.bundle_ids.get(bundle).ok_or(TrustError::NotFound {
                kind: "bundle",
                sid: *bundle,
            })?;
            graph::assign(&graph, &mut entry, id)?;
        }
        let previous = self.numbers.insert(tn.as_u64(), entry);
        match previous {
            Some(first) if first.pn != pn => Err(TrustError::NumberOwnedTwice {
                number: tn,
                first: first.pn,
                second: pn,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passport::Attest;
    use crate::tn::{Numbering, Tn, canonicalize};
    use crate::trust::Reason;

    const NOW: i64 = 1_700_000_000;

    fn sid(prefix: &str, n: u128) -> Sid {
        Sid::from_u128(prefix, n).unwrap()
    }

    fn tn(s: &str) -> Tn {
        canonicalize(s, &Numbering::default()).unwrap()
    }

    /// A vetted account built only through the incremental operations.
    fn vetted() -> Index {
        let index = Index::default();
        index.upsert_account(sid("AC", 1), None, false).unwrap();
        index
            .upsert_account(sid("AC", 2), Some(sid("AC", 1)), false)
            .unwrap();
        let (p, t) = (sid("BU", 1), sid("BU", 2));
        index
            .upsert_bundle(
                p,
                sid("AC", 1),
                Policy::PrimaryCustomerProfile,
                BundleStatus::Draft,
                None,
            )
            .unwrap();
        index
            .upsert_bundle(
                t,
                sid("AC", 1),
                Policy::ShakenStir,
                BundleStatus::Draft,
                None,
            )
            .unwrap();
        index.link(sid("BV", 1), t, p).unwrap();
        index
            .load_number(sid("PN", 1), sid("AC", 1), "+12155550121", &[p, t])
            .unwrap();
        index
    }

    #[test]
    fn approvals_through_updates_change_the_next_attestation() {
        let index = vetted();
        let (a, n) = (sid("AC", 1), tn("+12155550121"));
        assert_eq!(index.attest(a, n, NOW).reason, Reason::CPrimaryNotApproved);
        for b in [sid("BU", 1), sid("BU", 2)] {
            index
                .upsert_bundle(b, a, Policy::ShakenStir, BundleStatus::TwilioApproved, None)
                .unwrap();
        }
        assert_eq!(index.attest(a, n, NOW).level, Attest::A);
        assert_eq!(index.attest(sid("AC", 2), n, NOW).level, Attest::B);
        index.unlink(sid("BU", 2), sid("BU", 1)).unwrap();
        assert_eq!(index.attest(a, n, NOW).reason, Reason::CNoTrustProduct);
        index
            .link(sid("BV", 2), sid("BU", 2), sid("BU", 1))
            .unwrap();
        assert_eq!(index.attest(a, n, NOW).level, Attest::A);
    }

    #[test]
    fn removing_a_bundle_drops_its_links() {
        let index = vetted();
        let n = tn("+12155550121");
        index.unassign_number(n, sid("BU", 2)).unwrap();
        index.remove_bundle(sid("BU", 2)).unwrap();
        assert_eq!(index.bundle(sid("BU", 2)), None);
        assert_eq!(
            index.attest(sid("AC", 1), n, NOW).reason,
            Reason::CPrimaryNotApproved
        );
        assert!(index.remove_bundle(sid("BU", 2)).is_err());
        assert!(index.unlink(sid("BU", 2), sid("BU", 1)).is_err());
    }

    #[test]
    fn refuses_what_the_model_forbids() {
        let index = vetted();
        assert!(matches!(
            index.upsert_account(sid("AC", 3), Some(sid("AC", 2)), false),
            Err(TrustError::NestedSubAccount { .. })
        ));
        assert!(matches!(
            index.upsert_account(sid("AC", 3), Some(sid("AC", 9)), false),
            Err(TrustError::UnknownAccount { .. })
        ));
        assert!(matches!(
            index.upsert_bundle(
                sid("BU", 9),
                sid("AC", 9),
                Policy::ShakenStir,
                BundleStatus::Draft,
                None
            ),
            Err(TrustError::UnknownAccount { .. })
        ));
        assert!(matches!(
            index.link(sid("BV", 3), sid("BU", 1), sid("BU", 2)),
            Err(TrustError::InvalidLink { .. })
        ));
        assert!(matches!(
            index.load_number(sid("PN", 2), sid("AC", 1), "+12155550121", &[]),
            Err(TrustError::NumberOwnedTwice { .. })
        ));
        assert!(matches!(
            index.load_number(sid("PN", 3), sid("AC", 1), "2155550123", &[]),
            Err(TrustError::NotE164 { .. })
        ));
        // Links to end users are accepted and not indexed.
        index
            .link(sid("BV", 4), sid("BU", 1), sid("IT", 1))
            .unwrap();
    }
}
