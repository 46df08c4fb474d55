//! The attestation decision (DESIGN.md "Attestation rules"): which level a call from an
//! account with a calling number gets, the reason why, and the bundles that decided it.
//!
//! A is tried first, then the B basis, else C. Inside each rule the checks run in a fixed
//! order, and the reason names the first check that failed. When several candidates exist
//! (several trust products linked to a profile, several primaries of the parent account, a
//! secondary linked to several primaries), the candidate that got furthest is reported;
//! ties go to the first one in data order. From least to most progress:
//!
//! - A: number not owned < not on a profile in X or R < profile not approved < profile
//!   expired < (secondary) no approved linked primary of R < no linked trust product in X
//!   or R < product not approved < product expired < number not on the approved product.
//! - B basis (R's primaries): no primary < primary not approved < primary expired < no
//!   linked trust product in R < product not approved < product expired.

use std::fmt;

use super::Sid;
use super::graph::{AccountId, Approval, BundleId, BundleNode, Graph, NumberEntry};
use super::index::Index;
use super::model::Policy;
use crate::passport::Attest;
use crate::tn::Tn;

/// Machine-readable reason for a decision. `b_*` say why A failed when B held; `c_*` say
/// why the B basis failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    AFull,
    BNumberNotOwned,
    BNumberNotOnProfile,
    BProfileNotApproved,
    BNoTrustProduct,
    BTrustProductNotApproved,
    BNumberNotOnProduct,
    BExpired,
    CUnknownAccount,
    /// The account, or its parent, is suspended or closed.
    CAccountSuspended,
    CNoPrimaryProfile,
    CPrimaryNotApproved,
    CNoTrustProduct,
    CTrustProductNotApproved,
    CExpired,
}

impl Reason {
    /// Every reason, for metrics.
    pub const ALL: &'static [Reason] = &[
        Reason::AFull,
        Reason::BNumberNotOwned,
        Reason::BNumberNotOnProfile,
        Reason::BProfileNotApproved,
        Reason::BNoTrustProduct,
        Reason::BTrustProductNotApproved,
        Reason::BNumberNotOnProduct,
        Reason::BExpired,
        Reason::CUnknownAccount,
        Reason::CAccountSuspended,
        Reason::CNoPrimaryProfile,
        Reason::CPrimaryNotApproved,
        Reason::CNoTrustProduct,
        Reason::CTrustProductNotApproved,
        Reason::CExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AFull => "a_full",
            Reason::BNumberNotOwned => "b_number_not_owned",
            Reason::BNumberNotOnProfile => "b_number_not_on_profile",
            Reason::BProfileNotApproved => "b_profile_not_approved",
            Reason::BNoTrustProduct => "b_no_trust_product",
            Reason::BTrustProductNotApproved => "b_trust_product_not_approved",
            Reason::BNumberNotOnProduct => "b_number_not_on_product",
            Reason::BExpired => "b_expired",
            Reason::CUnknownAccount => "c_unknown_account",
            Reason::CAccountSuspended => "c_account_suspended",
            Reason::CNoPrimaryProfile => "c_no_primary_profile",
            Reason::CPrimaryNotApproved => "c_primary_not_approved",
            Reason::CNoTrustProduct => "c_no_trust_product",
            Reason::CTrustProductNotApproved => "c_trust_product_not_approved",
            Reason::CExpired => "c_expired",
        }
    }

    /// The level this reason goes with.
    pub fn level(self) -> Attest {
        match self {
            Reason::AFull => Attest::A,
            Reason::BNumberNotOwned
            | Reason::BNumberNotOnProfile
            | Reason::BProfileNotApproved
            | Reason::BNoTrustProduct
            | Reason::BTrustProductNotApproved
            | Reason::BNumberNotOnProduct
            | Reason::BExpired => Attest::B,
            Reason::CUnknownAccount
            | Reason::CAccountSuspended
            | Reason::CNoPrimaryProfile
            | Reason::CPrimaryNotApproved
            | Reason::CNoTrustProduct
            | Reason::CTrustProductNotApproved
            | Reason::CExpired => Attest::C,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision for one call. `profile`/`product` name the bundles that decided it: for A
/// the number's profile and product, for B the parent's primary and its product, for C the
/// furthest B-basis candidate, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attestation {
    pub level: Attest,
    pub reason: Reason,
    pub profile: Option<Sid>,
    pub product: Option<Sid>,
}

/// Progress through rule A, least first; the failure with the most progress is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AFail {
    NotOwned,
    NotOnProfile,
    ProfileNotApproved,
    ProfileExpired,
    NoTrustProduct,
    ProductNotApproved,
    ProductExpired,
    NotOnProduct,
}

impl AFail {
    fn reason(self) -> Reason {
        match self {
            AFail::NotOwned => Reason::BNumberNotOwned,
            AFail::NotOnProfile => Reason::BNumberNotOnProfile,
            AFail::ProfileNotApproved => Reason::BProfileNotApproved,
            AFail::ProfileExpired | AFail::ProductExpired => Reason::BExpired,
            AFail::NoTrustProduct => Reason::BNoTrustProduct,
            AFail::ProductNotApproved => Reason::BTrustProductNotApproved,
            AFail::NotOnProduct => Reason::BNumberNotOnProduct,
        }
    }
}

/// Progress through the B basis, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum CFail {
    NoPrimary,
    PrimaryNotApproved,
    PrimaryExpired,
    NoTrustProduct,
    ProductNotApproved,
    ProductExpired,
}

impl CFail {
    fn reason(self) -> Reason {
        match self {
            CFail::NoPrimary => Reason::CNoPrimaryProfile,
            CFail::PrimaryNotApproved => Reason::CPrimaryNotApproved,
            CFail::PrimaryExpired | CFail::ProductExpired => Reason::CExpired,
            CFail::NoTrustProduct => Reason::CNoTrustProduct,
            CFail::ProductNotApproved => Reason::CTrustProductNotApproved,
        }
    }
}

impl Index {
    /// Decides the attestation for a call on a trunk of `account` from `calling`, at
    /// `now_unix` (seconds). Allocation-free: one number lookup and a graph snapshot.
    pub fn attest(&self, account: Sid, calling: Tn, now_unix: i64) -> Attestation {
        let graph = self.graph();
        decide(&graph, account, self.number_entry(calling), now_unix)
    }
}

fn decide(g: &Graph, account: Sid, number: Option<NumberEntry>, now: i64) -> Attestation {
    let Some(&x) = g.account_ids.get(&account) else {
        return Attestation {
            level: Attest::C,
            reason: Reason::CUnknownAccount,
            profile: None,
            product: None,
        };
    };
    let r = g.account(x).and_then(|node| node.parent).unwrap_or(x);
    // A suspended account's calls, and its sub-accounts' (Twilio suspends them with it),
    // get nothing of its vetting.
    if [x, r]
        .iter()
        .any(|&id| g.account(id).is_some_and(|a| a.inactive))
    {
        return Attestation {
            level: Attest::C,
            reason: Reason::CAccountSuspended,
            profile: None,
            product: None,
        };
    }
    let a_failure = match rule_a(g, x, r, number, now) {
        Ok((p, t)) => {
            return Attestation {
                level: Attest::A,
                reason: Reason::AFull,
                profile: Some(p.sid),
                product: Some(t.sid),
            };
        }
        Err(why) => why,
    };
    match basis_b(g, r, now) {
        Ok((p, t)) => Attestation {
            level: Attest::B,
            reason: a_failure.reason(),
            profile: Some(p.sid),
            product: Some(t.sid),
        },
        Err(best) => Attestation {
            level: Attest::C,
            reason: best.reached.reason(),
            profile: best.profile.map(|b| b.sid),
            product: best.product.map(|b| b.sid),
        },
    }
}

/// Rule A for account `x` with effective parent `r`: returns the deciding P and T.
fn rule_a(
    g: &Graph,
    x: AccountId,
    r: AccountId,
    number: Option<NumberEntry>,
    now: i64,
) -> Result<(&BundleNode, &BundleNode), AFail> {
    let in_xr = |b: &BundleNode| b.account == x || b.account == r;
    let n = number.filter(|n| n.account == x).ok_or(AFail::NotOwned)?;
    let p = g
        .bundle(n.profile)
        .filter(|p| in_xr(p))
        .ok_or(AFail::NotOnProfile)?;
    match p.approval(now) {
        Approval::Approved => {}
        Approval::Expired => return Err(AFail::ProfileExpired),
        Approval::NotApproved => return Err(AFail::ProfileNotApproved),
    }
    if p.policy == Policy::SecondaryCustomerProfile {
        let mut best = AFail::ProfileNotApproved;
        let mut linked = false;
        for primary in bundles(g, &p.primaries).filter(|b| b.account == r) {
            match primary.approval(now) {
                Approval::Approved => linked = true,
                Approval::Expired => best = AFail::ProfileExpired,
                Approval::NotApproved => {}
            }
        }
        if !linked {
            return Err(best);
        }
    }
    let mut best = AFail::NoTrustProduct;
    for (id, t) in p
        .products
        .iter()
        .filter_map(|&id| Some((id, g.bundle(id)?)))
    {
        if !in_xr(t) {
            continue;
        }
        let reached = match t.approval(now) {
            Approval::Approved if id == n.product => return Ok((p, t)),
            Approval::Approved => AFail::NotOnProduct,
            Approval::Expired => AFail::ProductExpired,
            Approval::NotApproved => AFail::ProductNotApproved,
        };
        best = best.max(reached);
    }
    Err(best)
}

/// How far one primary of R got through the B basis.
#[derive(Clone, Copy)]
struct Candidate<'g> {
    reached: CFail,
    profile: Option<&'g BundleNode>,
    product: Option<&'g BundleNode>,
}

/// The B basis: an approved Primary of `r` with an approved trust product of `r` linked to
/// it. On failure, the furthest candidate.
fn basis_b(g: &Graph, r: AccountId, now: i64) -> Result<(&BundleNode, &BundleNode), Candidate<'_>> {
    let mut best = Candidate {
        reached: CFail::NoPrimary,
        profile: None,
        product: None,
    };
    let primaries = g.account(r).map_or(&[][..], |a| &a.primaries[..]);
    for p in bundles(g, primaries) {
        let reached = match p.approval(now) {
            Approval::Approved => CFail::NoTrustProduct,
            Approval::Expired => CFail::PrimaryExpired,
            Approval::NotApproved => CFail::PrimaryNotApproved,
        };
        let mut candidate = Candidate {
            reached,
            profile: Some(p),
            product: None,
        };
        if reached == CFail::NoTrustProduct {
            for t in bundles(g, &p.products).filter(|t| t.account == r) {
                let reached = match t.approval(now) {
                    Approval::Approved => return Ok((p, t)),
                    Approval::Expired => CFail::ProductExpired,
                    Approval::NotApproved => CFail::ProductNotApproved,
                };
                if reached > candidate.reached {
                    candidate = Candidate {
                        reached,
                        profile: Some(p),
                        product: Some(t),
                    };
                }
            }
        }
        if candidate.reached > best.reached {
            best = candidate;
        }
    }
    Err(best)
}

fn bundles<'g>(g: &'g Graph, ids: &'g [BundleId]) -> impl Iterator<Item = &'g BundleNode> {
    ids.iter().filter_map(|&id| g.bundle(id))
}

#[cfg(test)]
mod tests;
