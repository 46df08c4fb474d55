//! A trunk's phone numbers (trunking v1 `PhoneNumbers`): the inbound side. A number of
//! the trunk's account is put on one verifying trunk at most; a call to it that arrives
//! on any verifying trunk is verified and delivered to that trunk's origination URLs
//! (the customer's), not to the arriving trunk's. A signing trunk takes no numbers: its
//! origination URLs lead to carriers.

use super::{Caller, Hub, HubError, Missing, Write};
use crate::store::Page;
use crate::trust::{Change, PhoneNumber, Sid, TrunkPhoneNumber};

impl Hub {
    /// Every number on trunk `trunk` (which the caller must see), with its record.
    pub fn trunk_numbers(
        &self,
        caller: &Caller,
        trunk: Sid,
        page: Page,
    ) -> Result<Vec<(TrunkPhoneNumber, PhoneNumber)>, HubError> {
        let trunk = self.trunk(caller, trunk)?;
        let on_trunk: Vec<TrunkPhoneNumber> = self.trust.load().with_trunking(|t| {
            (t.trunk_phone_numbers.iter())
                .filter(|n| n.trunk_sid == trunk.sid)
                .cloned()
                .collect()
        });
        let mut out = Vec::with_capacity(on_trunk.len());
        for link in super::credentials::paged(on_trunk.into_iter(), page) {
            if let Some(number) = self.store().number(link.phone_number_sid)? {
                out.push((link, number));
            }
        }
        Ok(out)
    }

    /// Number `pn` as trunk `trunk` has it.
    pub fn trunk_number(
        &self,
        caller: &Caller,
        trunk: Sid,
        pn: Sid,
    ) -> Result<(TrunkPhoneNumber, PhoneNumber), HubError> {
        let trunk = self.trunk(caller, trunk)?;
        let link = self.trust.load().with_trunking(|t| {
            (t.trunk_phone_numbers.iter())
                .find(|n| n.trunk_sid == trunk.sid && n.phone_number_sid == pn)
                .cloned()
        });
        let missing = || {
            HubError::NotFound(Missing::Child {
                parent: trunk.sid,
                sid: pn,
            })
        };
        let link = link.ok_or_else(missing)?;
        let number = self.store().number(pn)?.ok_or_else(missing)?;
        Ok((link, number))
    }

    /// Puts number `pn`, one of the trunk's account's numbers (another account's is as
    /// unknown as one that does not exist), on trunk `trunk`.
    pub fn add_trunk_number(
        &self,
        caller: &Caller,
        trunk: Sid,
        pn: Sid,
    ) -> Result<(TrunkPhoneNumber, PhoneNumber), HubError> {
        let guard = self.lock()?;
        let trunk = self.trunk(caller, trunk)?;
        let number = (self.store().number(pn)?)
            .filter(|n| n.account_sid == trunk.account_sid)
            .ok_or(HubError::UnknownTrunkNumber(pn))?;
        if let Some(on) = self.trunk_of_number(pn) {
            return Err(HubError::NumberOnTrunk {
                number: pn,
                trunk: on,
            });
        }
        let link = TrunkPhoneNumber {
            trunk_sid: trunk.sid,
            phone_number_sid: pn,
            account_sid: trunk.account_sid,
            date_created: Some(self.now_text()),
        };
        let change = Change::PutTrunkPhoneNumber(link.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok((link, number))
    }

    /// Takes number `pn` off trunk `trunk`; the number stays the account's.
    pub fn remove_trunk_number(
        &self,
        caller: &Caller,
        trunk: Sid,
        pn: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let (link, _) = self.trunk_number(caller, trunk, pn)?;
        let change = Change::DeleteTrunkPhoneNumber(link);
        self.commit_trunking(caller, &guard, vec![change])
    }

    /// The trunk number `pn` is on (the 2010 API's `trunk_sid`).
    pub fn trunk_of_number(&self, pn: Sid) -> Option<Sid> {
        self.trust.load().with_trunking(|t| {
            (t.trunk_phone_numbers.iter())
                .find(|n| n.phone_number_sid == pn)
                .map(|n| n.trunk_sid)
        })
    }

    /// The changes that take number `pn` off its trunk, if it is on one.
    pub(super) fn unroute_number(&self, pn: Sid, write: &mut Write) {
        self.trust.load().with_trunking(|t| {
            let links = (t.trunk_phone_numbers.iter()).filter(|n| n.phone_number_sid == pn);
            (write.changes).extend(links.cloned().map(Change::DeleteTrunkPhoneNumber));
        });
    }
}
