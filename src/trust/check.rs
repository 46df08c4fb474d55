//! Validation of trust data a list at a time: [`Checker`] takes the small lists whole and
//! then the numbers and their channel endpoint assignments one by one, so that a file too
//! large to hold in memory is checked as it streams past. [`TrustData::validate`] and
//! [`super::Index::build`] go through it too: there is one set of rules and messages.

use std::collections::{HashMap, HashSet};

use super::graph::{
    AccountNode, Graph, NO_BUNDLE, NumberEntry, Resolved, account_of, assign, bundle_node,
    bundle_of, check_files, dense_id, e164, expect_kind, link,
};
use super::model::{ChannelEndpointAssignment, PhoneNumber, Policy, TrustData};
use super::trunking::Trunking;
use super::{Sid, TrustError, rules};
use crate::tn::Tn;

/// Checks trust data in three steps: [`Checker::new`] with everything but the numbers
/// and channel endpoint assignments, then [`Checker::number`] for each number, then
/// [`Checker::channel_endpoint_assignment`] for each assignment, then
/// [`Checker::finish`]. Every reference must resolve and every rule of [`rules`] hold;
/// see [`TrustError`].
///
/// Per number it keeps 64 bytes and per assignment 18, so a million numbers with two
/// assignments each are checked in about 100 MB.
pub struct Checker {
    graph: Graph,
    /// The numbers in data order, keyed by [`Tn::as_u64`].
    numbers: Vec<(u64, NumberEntry)>,
    /// Positions in `numbers` by SID, once the assignments start (`None` before, and
    /// again after a number is added).
    by_pn: Option<Vec<(Sid, u32)>>,
    /// The SIDs of the assignments checked so far.
    assignments: Vec<Sid>,
}

impl Checker {
    /// Checks accounts, bundles, end users, supporting documents and their files, and
    /// entity assignments: everything in `data` but its numbers and channel endpoint
    /// assignments, which it ignores.
    pub fn new(data: &TrustData) -> Result<Checker, TrustError> {
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
                inactive: a.status != super::model::AccountStatus::Active,
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
        Ok(Checker {
            graph,
            numbers: Vec::new(),
            by_pn: None,
            assignments: Vec::new(),
        })
    }

    /// Checks one number: its SID, its account, its E.164 form. (That no number is owned
    /// twice is checked by [`Checker::finish`], and that no SID is given twice partly
    /// there: a SID given twice is named by the first error it causes, or there.)
    pub fn number(&mut self, p: &PhoneNumber) -> Result<(), TrustError> {
        self.number_alone(p).map_err(|e| {
            // A repeated number fails its own checks; its SID is what is wrong with it.
            match self.numbers.iter().any(|(_, n)| n.pn == p.sid) {
                true => TrustError::DuplicateSid(p.sid),
                false => e,
            }
        })
    }

    fn number_alone(&mut self, p: &PhoneNumber) -> Result<(), TrustError> {
        expect_kind(p.sid, "sid", p.sid, "PN")?;
        let account = account_of(&self.graph, p.sid, "account_sid", p.account_sid)?;
        let tn = e164(p.sid, &p.phone_number)?;
        if u32::try_from(self.numbers.len()).is_err() {
            return Err(TrustError::TooMany("numbers"));
        }
        self.by_pn = None;
        self.numbers.push((
            tn.as_u64(),
            NumberEntry {
                pn: p.sid,
                account,
                profile: NO_BUNDLE,
                product: NO_BUNDLE,
            },
        ));
        Ok(())
    }

    /// Checks one channel endpoint assignment and puts its number on its bundle: both
    /// must exist, and the number may be on one customer profile and one trust product
    /// of its account or its account's parent. Comes after every number.
    pub fn channel_endpoint_assignment(
        &mut self,
        cea: &ChannelEndpointAssignment,
    ) -> Result<(), TrustError> {
        self.index_numbers()?;
        self.assignment_alone(cea).map_err(|e| {
            match cea.sid.is("RA") && self.assignments.contains(&cea.sid) {
                true => TrustError::DuplicateSid(cea.sid),
                false => e,
            }
        })
    }

    fn assignment_alone(&mut self, cea: &ChannelEndpointAssignment) -> Result<(), TrustError> {
        expect_kind(cea.sid, "sid", cea.sid, "RA")?;
        if rules::check_channel_type(&cea.channel_endpoint_type).is_err() {
            return Err(TrustError::UnsupportedChannelEndpoint {
                assignment: cea.sid,
                found: cea.channel_endpoint_type.clone(),
            });
        }
        let bundle = bundle_of(&self.graph, cea.sid, cea.bundle_sid)?;
        let pn = cea.channel_endpoint_sid;
        expect_kind(cea.sid, "channel_endpoint_sid", pn, "PN")?;
        let unknown = TrustError::UnknownObject {
            assignment: cea.sid,
            object: pn,
        };
        let at = self.position(pn).ok_or(unknown.clone())?;
        let (_, entry) = self.numbers.get_mut(at).ok_or(unknown)?;
        assign(&self.graph, entry, bundle)?;
        self.assignments.push(cea.sid);
        Ok(())
    }

    /// Sorts the numbers by SID for the assignments, which finds a SID given twice.
    fn index_numbers(&mut self) -> Result<(), TrustError> {
        if self.by_pn.is_some() {
            return Ok(());
        }
        // Sorted lists rather than hash maps keep a million-number load compact.
        let mut by_pn: Vec<(Sid, u32)> = Vec::with_capacity(self.numbers.len());
        for (i, (_, entry)) in self.numbers.iter().enumerate() {
            let at = u32::try_from(i).map_err(|_| TrustError::TooMany("numbers"))?;
            by_pn.push((entry.pn, at));
        }
        by_pn.sort_unstable();
        if let Some(pair) = by_pn.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(TrustError::DuplicateSid(pair[0].0));
        }
        self.by_pn = Some(by_pn);
        Ok(())
    }

    /// Where number `pn` is in `numbers`, once they are indexed.
    fn position(&self, pn: Sid) -> Option<usize> {
        let by_pn = self.by_pn.as_ref()?;
        let at = by_pn.binary_search_by_key(&pn, |(sid, _)| *sid).ok()?;
        by_pn.get(at).map(|(_, i)| *i as usize)
    }

    /// The account that owns number `pn`, once the numbers are indexed.
    fn owner(&self, pn: Sid) -> Option<Sid> {
        let (_, entry) = self.numbers.get(self.position(pn)?)?;
        self.graph.account(entry.account).map(|a| a.sid)
    }

    /// The checks that need every number and assignment, on those seen so far: no SID
    /// given twice, no number owned twice. (Also what explains a database's refusal of
    /// a record that repeats another.) More may come after.
    pub fn settle(&mut self) -> Result<(), TrustError> {
        self.index_numbers()?;
        self.by_pn = None;
        let assignments = &mut self.assignments;
        assignments.sort_unstable();
        if let Some(pair) = assignments.windows(2).find(|w| w[0] == w[1]) {
            return Err(TrustError::DuplicateSid(pair[0]));
        }
        // A stable sort keeps data order among equal numbers, so `first` is listed first.
        self.numbers.sort_by_key(|(key, _)| *key);
        for pair in self.numbers.windows(2) {
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
        Ok(())
    }

    /// The graph and the numbers sorted by key, for an index, after the checks of
    /// [`Checker::settle`].
    pub(super) fn resolved(mut self) -> Result<Resolved, TrustError> {
        self.settle()?;
        Ok(Resolved {
            graph: self.graph,
            numbers: self.numbers,
        })
    }

    /// The last checks: no SID given twice, no number owned twice, then `trunking` (given
    /// with the data [`Checker::new`] checked): its accounts, its numbers (each one of
    /// its trunk's account's) and its access lists.
    pub fn finish(mut self, trunking: &Trunking) -> Result<(), TrustError> {
        self.settle()?;
        self.assignments = Vec::new();
        self.index_numbers()?;
        let accounts = &self.graph.account_ids;
        trunking.validate(|a| accounts.contains_key(&a))?;
        trunking.validate_numbers(|pn| self.owner(pn))?;
        super::TrunkTable::build(trunking)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../config/trust.json");

    fn sample() -> TrustData {
        TrustData::from_json(SAMPLE).unwrap()
    }

    /// `data` checked a record at a time, as a streaming import checks it.
    fn streamed(data: &TrustData) -> Result<(), TrustError> {
        let mut c = Checker::new(data)?;
        for p in &data.phone_numbers {
            c.number(p)?;
        }
        for a in &data.channel_endpoint_assignments {
            c.channel_endpoint_assignment(a)?;
        }
        c.finish(&data.trunking)
    }

    #[test]
    fn the_small_lists_are_checked_without_the_numbers() {
        let mut data = sample();
        data.phone_numbers[0].account_sid = Sid::from_parts(*b"AC", 0xdead);
        assert!(Checker::new(&data).is_ok(), "numbers are not looked at");
        assert!(streamed(&data).is_err());
    }

    #[test]
    fn a_record_given_twice_is_named_as_given_twice() {
        // A number repeated whole: its SID, not the number owned twice.
        let mut data = sample();
        data.phone_numbers.push(data.phone_numbers[2].clone());
        let twice = Err(TrustError::DuplicateSid(data.phone_numbers[2].sid));
        assert_eq!(streamed(&data), twice);
        assert_eq!(data.validate(), twice);
        // An assignment repeated whole: its SID, not the number assigned twice.
        let mut data = sample();
        let again = data.channel_endpoint_assignments[0].clone();
        data.channel_endpoint_assignments.push(again.clone());
        assert_eq!(streamed(&data), Err(TrustError::DuplicateSid(again.sid)));
        // An assignment SID reused for another number, which breaks no other rule.
        let mut data = sample();
        let last = data.channel_endpoint_assignments.len() - 1;
        data.channel_endpoint_assignments[last].sid = again.sid;
        assert_eq!(streamed(&data), Err(TrustError::DuplicateSid(again.sid)));
    }
}
