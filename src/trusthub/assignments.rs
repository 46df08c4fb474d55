//! Entity assignments (a bundle linked to an end user or another bundle) and channel
//! endpoint assignments (a phone number on a bundle), with the rules of
//! [`crate::trust::rules`]: what may link to what, whose numbers a bundle holds, one
//! profile and one product per number, and a number goes on a trust product only after
//! it is on a linked profile.

use super::bundles::policy_of;
use super::{Caller, Hub, HubError, Missing, Write, new_sid};
use crate::store::{Page, Store, StoreError};
use crate::trust::rules::{self, AssignError, LinkTarget};
use crate::trust::{
    Bundle, BundleKind, Change, ChannelEndpointAssignment, EntityAssignment, Evaluation, Policy,
    Sid,
};

/// A record that hangs off one bundle.
pub trait BundleChild: Sized {
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError>;
    fn bundle_sid(&self) -> Sid;
}

impl BundleChild for EntityAssignment {
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError> {
        store.entity_assignment(sid)
    }
    fn bundle_sid(&self) -> Sid {
        self.bundle_sid
    }
}

impl BundleChild for ChannelEndpointAssignment {
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError> {
        store.channel_endpoint_assignment(sid)
    }
    fn bundle_sid(&self) -> Sid {
        self.bundle_sid
    }
}

impl BundleChild for Evaluation {
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError> {
        store.evaluation(sid)
    }
    fn bundle_sid(&self) -> Sid {
        self.bundle_sid
    }
}

/// Whether `object` is of `object_type`: an end-user type's machine name (Twilio's
/// values, e.g. `authorized_representative_1`) matches end users of that type; callsign
/// also takes a kind (`end_user`, `customer_profile`, `trust_product`, `bundle`,
/// `supporting_document`) for every object of it.
fn object_type_matches(
    store: &dyn Store,
    object: Sid,
    object_type: &str,
) -> Result<bool, StoreError> {
    Ok(match object_type {
        "end_user" => object.is("IT"),
        "customer_profile" | "trust_product" | "bundle" => object.is("BU"),
        "supporting_document" => object.is("RD"),
        end_user_type if object.is("IT") => store
            .end_user(object)?
            .is_some_and(|u| u.end_user_type == end_user_type),
        _ => false,
    })
}

impl Hub {
    /// Record `sid` of visible bundle `bundle`, with the bundle; not found unless it hangs
    /// off that bundle.
    pub fn bundle_child<T: BundleChild>(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        sid: Sid,
    ) -> Result<(Bundle, T), HubError> {
        let b = self.bundle(caller, kind, bundle)?;
        let child = T::read(self.store(), sid)?
            .filter(|c| c.bundle_sid() == b.sid)
            .ok_or(HubError::NotFound(Missing::BundleChild { bundle, sid }))?;
        Ok((b, child))
    }

    /// The bundles `object` (an end user or a supporting document) is linked to.
    pub(crate) fn bundles_holding(&self, object: Sid) -> Result<Vec<Sid>, HubError> {
        let assigned = self
            .store()
            .entity_assignments(None, Some(object), Page::ALL)?;
        Ok(assigned.into_iter().map(|a| a.bundle_sid).collect())
    }

    /// Refused (60711) if `object` is on a bundle whose contents cannot change: what a
    /// bundle under review or approved rests on cannot change under it.
    pub(crate) fn require_unlocked(&self, object: Sid) -> Result<(), HubError> {
        for bundle in self.bundles_holding(object)? {
            if let Some(b) = self.store().bundle(bundle)? {
                Self::require_editable(&b)?;
            }
        }
        Ok(())
    }

    /// What `object` is, for the link rules.
    fn link_target(&self, object: Sid) -> Result<LinkTarget, HubError> {
        if object.is("IT") {
            let user = self
                .store()
                .end_user(object)?
                .ok_or(HubError::UnknownObject(object))?;
            return Ok(LinkTarget::EndUser {
                sid: object,
                account: user.account_sid,
            });
        }
        if object.is("RD") {
            let doc = self
                .store()
                .supporting_document(object)?
                .ok_or(HubError::UnknownObject(object))?;
            return Ok(LinkTarget::Document {
                sid: object,
                account: doc.account_sid,
            });
        }
        if object.is("BU") {
            let target = self
                .store()
                .bundle(object)?
                .ok_or(HubError::UnknownObject(object))?;
            return Ok(LinkTarget::Bundle {
                sid: object,
                account: target.account_sid,
                policy: policy_of(&target)?,
            });
        }
        Ok(LinkTarget::Other(object))
    }

    /// Whether the caller sees the account `target` belongs to.
    fn sees_target(&self, caller: &Caller, target: &LinkTarget) -> bool {
        match *target {
            LinkTarget::EndUser { account, .. }
            | LinkTarget::Document { account, .. }
            | LinkTarget::Bundle { account, .. } => self.sees(caller, account),
            LinkTarget::Other(_) => true,
        }
    }

    /// Links bundle `bundle` to `object` (an end user, a supporting document or another
    /// bundle). A refused link
    /// to an object the caller may not see is refused as if the object did not exist, so
    /// that the answer does not tell another account's record from no record; the one
    /// such link the rules allow (to the parent account's profile) is made.
    pub fn link(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        object: Sid,
    ) -> Result<EntityAssignment, HubError> {
        let guard = self.lock()?;
        let b = self.bundle(caller, kind, bundle)?;
        Self::require_editable(&b)?;
        let target = self.link_target(object)?;
        if let Err(refused) = rules::check_link(&self.facts(&b)?, &target) {
            return Err(if self.sees_target(caller, &target) {
                refused.into()
            } else {
                HubError::UnknownObject(object)
            });
        }
        if !self
            .store()
            .entity_assignments(Some(b.sid), Some(object), Page::ALL)?
            .is_empty()
        {
            return Err(HubError::AlreadyLinked {
                object,
                bundle: b.sid,
            });
        }
        let a = EntityAssignment {
            sid: new_sid(*b"BV"),
            bundle_sid: b.sid,
            object_sid: object,
            account_sid: Some(b.account_sid),
            date_created: Some(self.now_text()),
            url: None,
        };
        self.commit(&guard, Write::of(Change::PutEntityAssignment(a.clone())))?;
        Ok(a)
    }

    /// The entity assignments of a bundle, optionally only those whose object is of
    /// Twilio's `object_type`.
    pub fn entity_assignments(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        object_type: Option<&str>,
        page: Page,
    ) -> Result<Vec<EntityAssignment>, HubError> {
        let b = self.bundle(caller, kind, bundle)?;
        let Some(object_type) = object_type else {
            return Ok(self.store().entity_assignments(Some(b.sid), None, page)?);
        };
        let rows = self
            .store()
            .entity_assignments(Some(b.sid), None, Page::ALL)?;
        let mut kept = Vec::with_capacity(rows.len());
        for a in rows {
            if object_type_matches(self.store(), a.object_sid, object_type)? {
                kept.push(a);
            }
        }
        let mut rows = kept;
        let start = page.offset.min(rows.len());
        rows.drain(..start);
        rows.truncate(page.limit);
        Ok(rows)
    }

    pub fn unlink(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let (b, a) = self.bundle_child::<EntityAssignment>(caller, kind, bundle, sid)?;
        Self::require_editable(&b)?;
        self.commit(&guard, Write::of(Change::DeleteEntityAssignment(a)))
    }

    /// Puts number `pn` on bundle `bundle`. A number on a Primary profile follows it onto
    /// the profile's automatic trust product. A number the caller may not see is refused
    /// as unknown (every number a bundle it sees may hold is one it sees: its own, or a
    /// sub-account's), and one already on a bundle the caller may not see (its parent's)
    /// is refused without naming that bundle.
    pub fn assign_number(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        pn: Sid,
        channel_type: &str,
    ) -> Result<ChannelEndpointAssignment, HubError> {
        rules::check_channel_type(channel_type)?;
        let guard = self.lock()?;
        let b = self.bundle(caller, kind, bundle)?;
        let facts = self.facts(&b)?;
        let (number, tn) = self.number_record(pn)?;
        if !self.sees(caller, number.account_sid) {
            return Err(HubError::UnknownNumber(pn));
        }
        let owner_parent = self.parent_of(number.account_sid);
        rules::check_owner(&facts, pn, number.account_sid, owner_parent)?;
        let held = self.holding(pn, facts.policy.kind())?;
        if let Some(holder) = held {
            let holder = self.store().bundle(holder)?;
            if !holder.is_some_and(|h| self.sees(caller, h.account_sid)) {
                let kind = facts.policy.kind();
                return Err(HubError::AssignedElsewhere { pn, kind });
            }
        }
        rules::check_slot(pn, held)?;
        if facts.policy == Policy::ShakenStir && !self.on_linked_profile(b.sid, pn)? {
            return Err(AssignError::ProfileFirst { pn, product: b.sid }.into());
        }
        let a = ChannelEndpointAssignment {
            sid: new_sid(*b"RA"),
            bundle_sid: b.sid,
            channel_endpoint_sid: pn,
            channel_endpoint_type: channel_type.to_owned(),
            account_sid: Some(b.account_sid),
            date_created: Some(self.now_text()),
            url: None,
        };
        let mut write = Write::of(Change::PutChannelEndpointAssignment(a.clone(), tn));
        let auto = rules::automatic_product_sid(b.sid);
        if facts.policy == Policy::PrimaryCustomerProfile
            && self.store().bundle(auto)?.is_some()
            && self.product_holding(pn)?.is_none()
        {
            let copy = ChannelEndpointAssignment {
                sid: new_sid(*b"RA"),
                bundle_sid: auto,
                ..a.clone()
            };
            write
                .changes
                .push(Change::PutChannelEndpointAssignment(copy, tn));
        }
        self.commit(&guard, write)?;
        Ok(a)
    }

    /// Whether number `pn` is on a customer profile that trust product `product` links to.
    fn on_linked_profile(&self, product: Sid, pn: Sid) -> Result<bool, HubError> {
        let profiles: Vec<Sid> = self
            .store()
            .entity_assignments(Some(product), None, Page::ALL)?
            .into_iter()
            .map(|a| a.object_sid)
            .filter(|s| s.is("BU"))
            .collect();
        Ok(self
            .store()
            .channel_endpoint_assignments(None, &[pn], Page::ALL)?
            .iter()
            .any(|a| profiles.contains(&a.bundle_sid)))
    }

    /// The number assignments of a bundle, restricted to `endpoints` when not empty.
    pub fn channel_endpoint_assignments(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        endpoints: &[Sid],
        page: Page,
    ) -> Result<Vec<ChannelEndpointAssignment>, HubError> {
        let b = self.bundle(caller, kind, bundle)?;
        Ok(self
            .store()
            .channel_endpoint_assignments(Some(b.sid), endpoints, page)?)
    }

    /// Takes a number off a bundle (and off the automatic trust product it followed the
    /// bundle onto).
    pub fn unassign_number(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let (b, a) = self.bundle_child::<ChannelEndpointAssignment>(caller, kind, bundle, sid)?;
        let (_, tn) = self.number_record(a.channel_endpoint_sid)?;
        let auto = rules::automatic_product_sid(b.sid);
        let copies = self.store().channel_endpoint_assignments(
            Some(auto),
            &[a.channel_endpoint_sid],
            Page::ALL,
        )?;
        let mut write = Write::of(Change::DeleteChannelEndpointAssignment(a, tn));
        for copy in copies {
            write
                .changes
                .push(Change::DeleteChannelEndpointAssignment(copy, tn));
        }
        self.commit(&guard, write)
    }
}
