//! The resolved trust graph (accounts, bundles and their links, by dense ids) and its
//! construction from [`TrustData`], which is where every validation rule lives.

use std::collections::{HashMap, HashSet};

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

fn expect_kind(
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
    /// Checks that each number on a trunk is one of the trunk's account's numbers. (Not
    /// part of [`super::Index::build`], which a rebuild gives no numbers: they stream in
    /// after it; the Trust Hub keeps this rule on every write.)
    fn validate_trunk_numbers(&self) -> Result<(), TrustError> {
        let owners: HashMap<Sid, Sid> = (self.phone_numbers.iter())
            .map(|n| (n.sid, n.account_sid))
            .collect();
        self.trunking
            .validate_numbers(|pn| owners.get(&pn).copied())
    }

    /// Parses and validates trust data. Every reference must resolve and every rule of
    /// [`rules`] hold; see [`TrustError`].
    pub fn from_json(json: &str) -> Result<TrustData, TrustError> {
        let data: TrustData =
            serde_json::from_str(json).map_err(|e| TrustError::Json(e.to_string()))?;
        data.validate()?;
        Ok(data)
    }

    /// Checks references, kinds, policies, numbers and the rules, as
    /// [`super::Index::build`] does.
    pub fn validate(&self) -> Result<(), TrustError> {
        let resolved = resolve(self)?;
        let accounts = &resolved.graph.account_ids;
        self.trunking.validate(|a| accounts.contains_key(&a))?;
        self.validate_trunk_numbers()?;
        super::TrunkTable::build(&self.trunking)?;
        Ok(())
    }
}

/// Checks everything in `data` and resolves references to dense ids.
pub(super) fn resolve(data: &TrustData) -> Result<Resolved, TrustError> {
    let mut seen = HashSet::new();
    let mut unique = |sid: Sid| {
        if seen.insert(sid) {
            Ok(())
        } else {
            Err(TrustError::DuplicateSid(sid))
        }
    };
    let mut graph = Graph::default();

    for a in &data.accounts {
        expect_kind(a.sid, "sid", a.sid, "AC")?;
        unique(a.sid)?;
        let id = dense_id(graph.accounts.len(), "accounts")?;
        graph.account_ids.insert(a.sid, id);
        graph.accounts.push(AccountNode {
            sid: a.sid,
            parent: None,
            primaries: Vec::new(),
        });
    }
    for a in &data.accounts {
        let Some(parent_sid) = a.parent() else {
            continue;
        };
        let parent = account_of(&graph, a.sid, "parent_sid", parent_sid)?;
        // Account ids are positions in `data.accounts`.
        let grandparent = data.accounts.get(parent as usize).and_then(|p| p.parent());
        if grandparent.is_some() {
            return Err(TrustError::NestedSubAccount {
                account: a.sid,
                parent: parent_sid,
            });
        }
        if let Some(&id) = graph.account_ids.get(&a.sid)
            && let Some(node) = graph.accounts.get_mut(id as usize)
        {
            node.parent = Some(parent);
        }
    }

    let bundles = (data.customer_profiles.iter().map(|b| (b, true)))
        .chain(data.trust_products.iter().map(|b| (b, false)));
    for (b, listed_as_profile) in bundles {
        let node = bundle_node(&graph, b, listed_as_profile)?;
        unique(b.sid)?;
        let id = dense_id(graph.bundles.len(), "bundles")?;
        if node.policy == Policy::PrimaryCustomerProfile
            && let Some(owner) = graph.accounts.get_mut(node.account as usize)
        {
            owner.primaries.push(id);
        }
        graph.bundle_ids.insert(b.sid, id);
        graph.bundles.push(node);
    }

    // End users and supporting documents, by SID: their accounts, for the link rules.
    let mut end_users = HashMap::new();
    for u in &data.end_users {
        expect_kind(u.sid, "sid", u.sid, "IT")?;
        unique(u.sid)?;
        account_of(&graph, u.sid, "account_sid", u.account_sid)?;
        end_users.insert(u.sid, u.account_sid);
    }
    for d in &data.supporting_documents {
        expect_kind(d.sid, "sid", d.sid, "RD")?;
        unique(d.sid)?;
        account_of(&graph, d.sid, "account_sid", d.account_sid)?;
        end_users.insert(d.sid, d.account_sid);
    }
    check_files(data)?;

    for ea in &data.entity_assignments {
        expect_kind(ea.sid, "sid", ea.sid, "BV")?;
        unique(ea.sid)?;
        link(&mut graph, ea.sid, ea.bundle_sid, ea.object_sid, &end_users)?;
    }

    let mut numbers: Vec<(u64, NumberEntry)> = Vec::with_capacity(data.phone_numbers.len());
    for p in &data.phone_numbers {
        expect_kind(p.sid, "sid", p.sid, "PN")?;
        unique(p.sid)?;
        let account = account_of(&graph, p.sid, "account_sid", p.account_sid)?;
        let tn = e164(p.sid, &p.phone_number)?;
        numbers.push((
            tn.as_u64(),
            NumberEntry {
                pn: p.sid,
                account,
                profile: NO_BUNDLE,
                product: NO_BUNDLE,
            },
        ));
    }
    // Sorted lists rather than hash maps keep a million-number load compact.
    let mut by_pn: Vec<(Sid, usize)> = numbers
        .iter()
        .enumerate()
        .map(|(i, (_, entry))| (entry.pn, i))
        .collect();
    by_pn.sort_unstable();

    for cea in &data.channel_endpoint_assignments {
        expect_kind(cea.sid, "sid", cea.sid, "RA")?;
        unique(cea.sid)?;
        if rules::check_channel_type(&cea.channel_endpoint_type).is_err() {
            return Err(TrustError::UnsupportedChannelEndpoint {
                assignment: cea.sid,
                found: cea.channel_endpoint_type.clone(),
            });
        }
        let bundle = bundle_of(&graph, cea.sid, cea.bundle_sid)?;
        let pn = cea.channel_endpoint_sid;
        expect_kind(cea.sid, "channel_endpoint_sid", pn, "PN")?;
        let entry = by_pn
            .binary_search_by_key(&pn, |(sid, _)| *sid)
            .ok()
            .and_then(|at| by_pn.get(at))
            .and_then(|(_, i)| numbers.get_mut(*i))
            .map(|(_, entry)| entry)
            .ok_or(TrustError::UnknownObject {
                assignment: cea.sid,
                object: pn,
            })?;
        assign(&graph, entry, bundle)?;
    }
    drop(by_pn);

    // A stable sort keeps data order among equal numbers, so `first` is listed first.
    numbers.sort_by_key(|(key, _)| *key);
    for pair in numbers.windows(2) {
        if let [(a, first), (b, second)] = pair
            && let Some(number) = Tn::from_u64(*b).filter(|_| a == b)
        {
            return Err(TrustError::NumberOwnedTwice {
                number,
                first: first.pn,
                second: second.pn,
            });
        }
    }

    Ok(Resolved { graph, numbers })
}

fn account_of(
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

fn bundle_node(
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

fn bundle_of(graph: &Graph, assignment: Sid, bundle: Sid) -> Result<BundleId, TrustError> {
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
fn check_files(data: &TrustData) -> Result<(), TrustError> {
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
