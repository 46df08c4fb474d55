//! The resolved trust graph (accounts, bundles and their links, by dense ids) and its
//! construction from [`TrustData`]: the validation rules, which [`Checker`] applies in
//! order.

use std::collections::{HashMap, HashSet};

use super::check::Checker;
use super::model::{Bundle, BundleKind, BundleStatus, Policy, TrustData};
use super::rules::{self, BundleFacts, LinkTarget};
use super::{Sid, TrustError};
use crate::tn::{self, Tn};

/// Dense id of an account in [`Graph::accounts`].
pub(super) type AccountId = u32;
/// Dense id of a bundle in [`Graph::bundles`]; [`NO_BUNDLE`] means none.
pub(super) type BundleId = u32;
pub(super) const NO_BUNDLE: BundleId = BundleId::MAX;

#[derive(Debug, Clone)]
pub(super) struct AccountNode {
    pub sid: Sid,
    pub parent: Option<AccountId>,
    /// This account's Primary customer profiles, in data order.
    pub primaries: Vec<BundleId>,
    /// Not `active` (suspended or closed): its calls, and its sub-accounts', are C.
    pub inactive: bool,
}

#[derive(Debug, Clone)]
pub(super) struct BundleNode {
    pub sid: Sid,
    pub account: AccountId,
    pub policy: Policy,
    pub status: BundleStatus,
    /// Unix seconds.
    pub valid_until: Option<i64>,
    /// For a customer profile: the trust products linked to it.
    pub products: Vec<BundleId>,
    /// For a Secondary profile: the Primary profiles it is linked to.
    pub primaries: Vec<BundleId>,
}

/// Where a bundle stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Approval {
    Approved,
    /// `twilio-approved`, but `valid_until` has passed.
    Expired,
    NotApproved,
}

impl BundleNode {
    pub fn approval(&self, now: i64) -> Approval {
        match (self.status, self.valid_until) {
            (BundleStatus::TwilioApproved, Some(until)) if until <= now => Approval::Expired,
            (BundleStatus::TwilioApproved, _) => Approval::Approved,
            _ => Approval::NotApproved,
        }
    }
}

/// Accounts and bundles. Small next to the numbers; replaced as a whole on writes.
#[derive(Debug, Clone, Default)]
pub(super) struct Graph {
    pub accounts: Vec<AccountNode>,
    pub account_ids: HashMap<Sid, AccountId>,
    pub bundles: Vec<BundleNode>,
    pub bundle_ids: HashMap<Sid, BundleId>,
}

impl Graph {
    pub fn account(&self, id: AccountId) -> Option<&AccountNode> {
        self.accounts.get(id as usize)
    }

    pub fn bundle(&self, id: BundleId) -> Option<&BundleNode> {
        self.bundles.get(id as usize)
    }
}

/// What the number map holds per number: 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NumberEntry {
    pub pn: Sid,
    pub account: AccountId,
    /// The customer profile the number is assigned to, or [`NO_BUNDLE`].
    pub profile: BundleId,
    /// The trust product the number is assigned to, or [`NO_BUNDLE`].
    pub product: BundleId,
}

/// A validated data set: the graph and the numbers keyed by [`Tn::as_u64`].
pub(super) struct Resolved {
    pub graph: Graph,
    pub numbers: Vec<(u64, NumberEntry)>,
}

pub(super) fn dense_id(len: usize, what: &'static str) -> Result<u32, TrustError> {
    u32::try_from(len)
        .ok()
        .filter(|id| *id != NO_BUNDLE)
        .ok_or(TrustError::TooMany(what))
}

pub(super) fn expect_kind(
    sid: Sid,
    field: &'static str,
    found: Sid,
    kind: &'static str,
) -> Result<(), TrustError> {
    if found.is(kind) {
        Ok(())
    } else {
        Err(TrustError::WrongSidKind {
            sid,
            field,
            expected: kind,
            found,
        })
    }
}

impl TrustData {
    /// Parses and validates trust data. Every reference must resolve and every rule of
    /// [`rules`] hold; see [`TrustError`].
    pub fn from_json(json: &str) -> Result<TrustData, TrustError> {
        let data: TrustData =
            serde_json::from_str(json).map_err(|e| TrustError::Json(e.to_string()))?;
        data.validate()?;
        Ok(data)
    }

    /// Checks references, kinds, policies, numbers and the rules, as
    /// [`super::Index::build`] does, and that each number on a trunk is one of the
    /// trunk's account's numbers (not part of the build, which a rebuild gives no
    /// numbers: they stream in after it; the Trust Hub keeps this rule on every write).
    pub fn validate(&self) -> Result<(), TrustError> {
        checker(self)?.finish(&self.trunking)
    }
}

/// A [`Checker`] that has seen all of `data` but its trunking.
fn checker(data: &TrustData) -> Result<Checker, TrustError> {
    let mut checker = Checker::new(data)?;
    for p in &data.phone_numbers {
        checker.number(p)?;
    }
    for cea in &data.channel_endpoint_assignments {
        checker.channel_endpoint_assignment(cea)?;
    }
    Ok(checker)
}

/// Checks everything in `data` but its trunking and resolves references to dense ids.
pub(super) fn resolve(data: &TrustData) -> Result<Resolved, TrustError> {
    checker(data)?.resolved()
}

pub(super) fn account_of(
    graph: &Graph,
    sid: Sid,
    field: &'static str,
    account: Sid,
) -> Result<AccountId, TrustError> {
    expect_kind(sid, field, account, "AC")?;
    graph
        .account_ids
        .get(&account)
        .copied()
        .ok_or(TrustError::UnknownAccount {
            sid,
            field,
            account,
        })
}

pub(super) fn bundle_node(
    graph: &Graph,
    b: &Bundle,
    listed_as_profile: bool,
) -> Result<BundleNode, TrustError> {
    expect_kind(b.sid, "sid", b.sid, "BU")?;
    let account = account_of(graph, b.sid, "account_sid", b.account_sid)?;
    expect_kind(b.sid, "policy_sid", b.policy_sid, "RN")?;
    let policy = Policy::from_sid(b.policy_sid).ok_or(TrustError::UnknownPolicy {
        sid: b.sid,
        policy: b.policy_sid,
    })?;
    if policy.is_customer_profile() != listed_as_profile {
        return Err(TrustError::WrongPolicy {
            sid: b.sid,
            listed: if listed_as_profile {
                "customer profile"
            } else {
                "trust product"
            },
            policy,
        });
    }
    Ok(BundleNode {
        sid: b.sid,
        account,
        policy,
        status: b.status,
        valid_until: b.valid_until.map(|t| t.unix_timestamp()),
        products: Vec::new(),
        primaries: Vec::new(),
    })
}

pub(super) fn bundle_of(
    graph: &Graph,
    assignment: Sid,
    bundle: Sid,
) -> Result<BundleId, TrustError> {
    expect_kind(assignment, "bundle_sid", bundle, "BU")?;
    graph
        .bundle_ids
        .get(&bundle)
        .copied()
        .ok_or(TrustError::UnknownBundle { assignment, bundle })
}

/// Canonicalizes an owned number, which must be E.164 with its `+`.
pub(super) fn e164(pn: Sid, number: &str) -> Result<Tn, TrustError> {
    if !number.starts_with('+') {
        return Err(TrustError::NotE164 {
            sid: pn,
            number: number.to_owned(),
        });
    }
    tn::canonicalize(number, &tn::Numbering::default()).map_err(|error| TrustError::InvalidNumber {
        sid: pn,
        number: number.to_owned(),
        error,
    })
}

/// What the rules know of bundle `id`.
fn facts(graph: &Graph, id: BundleId) -> Option<BundleFacts> {
    let node = graph.bundle(id)?;
    let account = graph.account(node.account)?;
    Some(BundleFacts {
        sid: node.sid,
        account: account.sid,
        parent: account.parent.and_then(|p| graph.account(p)).map(|p| p.sid),
        policy: node.policy,
    })
}

/// Records an entity assignment of `bundle_sid` to `object` once [`rules::check_link`]
/// allows it: a trust product to a customer profile, a Secondary profile to a Primary.
/// `end_users` maps the known end users and supporting documents to their accounts;
/// links to them are checked but not kept.
pub(super) fn link(
    graph: &mut Graph,
    assignment: Sid,
    bundle_sid: Sid,
    object: Sid,
    end_users: &HashMap<Sid, Sid>,
) -> Result<(), TrustError> {
    let bundle = bundle_of(graph, assignment, bundle_sid)?;
    let from = facts(graph, bundle).ok_or(TrustError::UnknownBundle {
        assignment,
        bundle: bundle_sid,
    })?;
    let unknown = || TrustError::UnknownObject { assignment, object };
    let (target, target_id) = if object.is("IT") || object.is("RD") {
        let account = *end_users.get(&object).ok_or_else(unknown)?;
        let target = match object.is("IT") {
            true => LinkTarget::EndUser {
                sid: object,
                account,
            },
            false => LinkTarget::Document {
                sid: object,
                account,
            },
        };
        (target, None)
    } else if object.is("BU") {
        let id = *graph.bundle_ids.get(&object).ok_or_else(unknown)?;
        let to = facts(graph, id).ok_or_else(unknown)?;
        let target = LinkTarget::Bundle {
            sid: object,
            account: to.account,
            policy: to.policy,
        };
        (target, Some(id))
    } else {
        (LinkTarget::Other(object), None)
    };
    rules::check_link(&from, &target).map_err(|why| TrustError::InvalidLink {
        assignment,
        bundle: bundle_sid,
        object,
        why,
    })?;
    if let Some(target) = target_id {
        if from.policy == Policy::ShakenStir {
            push_unique(graph, target, bundle, |b| &mut b.products);
        } else {
            push_unique(graph, bundle, target, |b| &mut b.primaries);
        }
    }
    Ok(())
}

/// Each file belongs to a document of the data, once, and is the file that document
/// describes (its length and SHA-256).
pub(super) fn check_files(data: &TrustData) -> Result<(), TrustError> {
    let mut seen = HashSet::new();
    for f in &data.document_files {
        let bad = |why: &str| TrustError::DocumentFile {
            sid: f.sid,
            why: why.to_owned(),
        };
        if !seen.insert(f.sid) {
            return Err(bad("is given twice"));
        }
        let doc = (data.supporting_documents.iter())
            .find(|d| d.sid == f.sid)
            .ok_or_else(|| bad("names no supporting document"))?;
        let size = u64::try_from(f.content.len()).unwrap_or(u64::MAX);
        if doc.file_size != Some(size)
            || doc.file_sha256.as_deref() != Some(&super::documents::sha256_hex(&f.content))
        {
            return Err(bad(
                "does not match its document's file_size and file_sha256",
            ));
        }
    }
    Ok(())
}

fn push_unique(
    graph: &mut Graph,
    on: BundleId,
    id: BundleId,
    list: impl Fn(&mut BundleNode) -> &mut Vec<BundleId>,
) {
    if let Some(node) = graph.bundles.get_mut(on as usize) {
        let list = list(node);
        if !list.contains(&id) {
            list.push(id);
        }
    }
}

/// Puts a number on a bundle of its account or its account's parent
/// ([`rules::check_owner`]), one customer profile and one trust product at most
/// ([`rules::check_slot`]). File loads, rebuilds and live updates all come through here.
pub(super) fn assign(
    graph: &Graph,
    entry: &mut NumberEntry,
    bundle: BundleId,
) -> Result<(), TrustError> {
    let (Some(node), Some(bundle_facts)) = (graph.bundle(bundle), facts(graph, bundle)) else {
        return Ok(());
    };
    let owner = graph.account(entry.account);
    let owner_parent = owner.and_then(|a| a.parent).and_then(|p| graph.account(p));
    rules::check_owner(
        &bundle_facts,
        entry.pn,
        owner.map_or(entry.pn, |a| a.sid),
        owner_parent.map(|a| a.sid),
    )?;
    let slot = match node.policy.kind() {
        BundleKind::CustomerProfile => &mut entry.profile,
        BundleKind::TrustProduct => &mut entry.product,
    };
    let held = graph.bundle(*slot).map(|b| b.sid);
    rules::check_slot(entry.pn, held)?;
    *slot = bundle;
    Ok(())
}

#[cfg(test)]
mod tests;
