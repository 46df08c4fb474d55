//! Phone numbers: the operator's own numbers, each owned by an account. Only the operator
//! creates them; the account (or its parent) lists, fetches and releases them. Numbers
//! are stored in E.164; releasing one removes its assignments too.

use super::{Caller, Hub, HubError, Missing, Write, new_sid};
use crate::store::{NumberQuery, Page};
use crate::tn::{self, Tn};
use crate::trust::{BundleKind, Change, PhoneNumber, Policy, Sid, TrunkPhoneNumber};

/// The longest `FriendlyName` of a number, in characters (Twilio's limit).
pub const NUMBER_NAME_MAX: usize = 64;

/// What an update of a number changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberUpdate {
    pub friendly_name: Option<String>,
    /// `Some(None)` takes the number off its trunk.
    pub trunk: Option<Option<Sid>>,
}

/// Filters of the number list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberFilter {
    /// Digits that must appear in the number; `*` matches any one digit.
    pub pattern: Option<String>,
    pub friendly_name: Option<String>,
}

/// Canonical E.164 (`+` and digits) for an owned number, which must be given with `+`.
pub fn e164(raw: &str) -> Result<(Tn, String), HubError> {
    let invalid = || HubError::InvalidPhoneNumber(raw.to_owned());
    // Strict E.164: `+`, a non-zero country code digit, nothing but digits after it.
    let digits = raw.strip_prefix('+').ok_or_else(invalid)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err(invalid());
    }
    let tn = tn::canonicalize(raw, &tn::Numbering::default()).map_err(|_| invalid())?;
    let digits = tn.as_str();
    // E.164 numbers in use have 8 to 15 digits; North American ones exactly 11.
    let plausible =
        (8..=15).contains(&digits.len()) && (!digits.starts_with('1') || digits.len() == 11);
    if !plausible {
        return Err(invalid());
    }
    Ok((tn, format!("+{tn}")))
}

impl Hub {
    /// Account `account`'s SID, if the caller sees it and it exists.
    fn visible_account(&self, caller: &Caller, account: Sid) -> Result<Sid, HubError> {
        if !self.sees(caller, account) || self.store().account(account)?.is_none() {
            return Err(HubError::NotFound(Missing::Account(account)));
        }
        Ok(account)
    }

    /// Refuses to give a closed account anything new: closing is final.
    pub(super) fn require_open(&self, account: Sid) -> Result<(), HubError> {
        let closed = (self.store().account(account)?)
            .is_some_and(|a| a.status == crate::trust::AccountStatus::Closed);
        match closed {
            true => Err(HubError::AccountClosed(account)),
            false => Ok(()),
        }
    }

    /// The canonical number of a stored `PN…`.
    pub(crate) fn number_tn(&self, number: &PhoneNumber) -> Result<Tn, HubError> {
        Ok(e164(&number.phone_number)?.0)
    }

    /// The number `pn` with its canonical form, for an assignment change.
    pub(crate) fn number_record(&self, pn: Sid) -> Result<(PhoneNumber, Tn), HubError> {
        let number = self
            .store()
            .number(pn)?
            .ok_or(HubError::UnknownNumber(pn))?;
        let tn = self.number_tn(&number)?;
        Ok((number, tn))
    }

    /// The customer profile a number is assigned to (the 2010 API's `bundle_sid`), when
    /// the caller sees it: a sub-account's number may be on its parent's profile, whose
    /// SID is not the sub-account's to learn.
    pub fn profile_of(
        &self,
        caller: &Caller,
        number: &PhoneNumber,
    ) -> Result<Option<Sid>, HubError> {
        let assignments =
            self.store()
                .channel_endpoint_assignments(None, &[number.sid], Page::ALL)?;
        for a in assignments {
            if let Some(b) = self.store().bundle(a.bundle_sid)?
                && Policy::from_sid(b.policy_sid).map(Policy::kind)
                    == Some(BundleKind::CustomerProfile)
            {
                return Ok(self.sees(caller, b.account_sid).then_some(b.sid));
            }
        }
        Ok(None)
    }

    /// Gives number `raw` (E.164 with `+`) to `account`. Operator only.
    pub fn create_number(
        &self,
        caller: &Caller,
        account: Sid,
        raw: &str,
        friendly_name: Option<String>,
    ) -> Result<PhoneNumber, HubError> {
        let account = self.visible_account(caller, account)?;
        caller.require_operator("create phone numbers")?;
        let (_, e164) = e164(raw)?;
        let guard = self.lock()?;
        self.require_open(account)?;
        if self.store().number_by_e164(&e164)?.is_some() {
            return Err(HubError::PhoneNumberExists(e164));
        }
        let now = self.now_text();
        let number = PhoneNumber {
            sid: new_sid(*b"PN"),
            account_sid: account,
            phone_number: e164,
            friendly_name,
            date_created: Some(now.clone()),
            date_updated: Some(now),
            uri: None,
        };
        self.commit(&guard, Write::of(Change::PutNumber(number.clone())))?;
        Ok(number)
    }

    /// `account`'s numbers, each with the customer profile it is on.
    pub fn numbers(
        &self,
        caller: &Caller,
        account: Sid,
        filter: &NumberFilter,
        page: Page,
    ) -> Result<Vec<(PhoneNumber, Option<Sid>)>, HubError> {
        let account = self.visible_account(caller, account)?;
        let query = NumberQuery {
            account,
            pattern: filter.pattern.clone(),
            friendly_name: filter.friendly_name.clone(),
        };
        let mut rows = Vec::new();
        for n in self.store().numbers(&query, page)? {
            let profile = self.profile_of(caller, &n)?;
            rows.push((n, profile));
        }
        Ok(rows)
    }

    /// Number `sid` of `account`, if the caller sees it.
    pub fn number(&self, caller: &Caller, account: Sid, sid: Sid) -> Result<PhoneNumber, HubError> {
        let account = self.visible_account(caller, account)?;
        self.store()
            .number(sid)?
            .filter(|n| n.account_sid == account)
            .ok_or(HubError::NotFound(Missing::Number(sid)))
    }

    /// Renames number `sid` of `account` and puts it on a trunk of its account, or takes
    /// it off its trunk, in one write.
    pub fn update_number(
        &self,
        caller: &Caller,
        account: Sid,
        sid: Sid,
        update: NumberUpdate,
    ) -> Result<PhoneNumber, HubError> {
        let guard = self.lock()?;
        let mut n = self.number(caller, account, sid)?;
        if let Some(name) = update.friendly_name {
            super::trunks::check_name("FriendlyName", &name, NUMBER_NAME_MAX)?;
            n.friendly_name = Some(name);
        }
        n.date_updated = Some(self.now_text());
        let mut write = Write::of(Change::PutNumber(n.clone()));
        if let Some(trunk) = update.trunk
            && trunk != self.trunk_of_number(n.sid)
        {
            self.unroute_number(n.sid, &mut write);
            if let Some(trunk) = trunk {
                // Another account's trunk is as unknown as one that does not exist.
                let found = match self.trunk(caller, trunk) {
                    Ok(t) => Some(t),
                    Err(HubError::NotFound(_)) => None,
                    Err(e) => return Err(e),
                };
                let trunk = (found.filter(|t| t.account_sid == n.account_sid))
                    .ok_or(HubError::UnknownTrunk(trunk))?;
                write
                    .changes
                    .push(Change::PutTrunkPhoneNumber(TrunkPhoneNumber {
                        trunk_sid: trunk.sid,
                        phone_number_sid: n.sid,
                        account_sid: n.account_sid,
                        date_created: Some(self.now_text()),
                    }));
            }
        }
        self.commit(&guard, write)?;
        Ok(n)
    }

    /// Releases a number, its assignments and its place on a trunk.
    pub fn delete_number(&self, caller: &Caller, account: Sid, sid: Sid) -> Result<(), HubError> {
        let guard = self.lock()?;
        let n = self.number(caller, account, sid)?;
        let mut write = Write::default();
        self.release_number(n, &mut write)?;
        self.commit(&guard, write)
    }

    /// The changes that release number `n`: its assignments, its place on a trunk, and
    /// the number.
    pub(super) fn release_number(&self, n: PhoneNumber, write: &mut Write) -> Result<(), HubError> {
        let tn = self.number_tn(&n)?;
        for a in self
            .store()
            .channel_endpoint_assignments(None, &[n.sid], Page::ALL)?
        {
            write
                .changes
                .push(Change::DeleteChannelEndpointAssignment(a, tn));
        }
        self.unroute_number(n.sid, write);
        write.changes.push(Change::DeleteNumber(n));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_numbers_must_be_e164() {
        assert_eq!(e164("+12155550121").unwrap().1, "+12155550121");
        assert_eq!(e164("+442071838750").unwrap().1, "+442071838750");
        for bad in [
            "+1 (215) 555-0121",
            "+1-215-555-0121",
            " +12155550121",
            "2155550121",
            "+12",
            "+1215555012a",
            "",
            "+0123456",
            "+121555501212",
        ] {
            assert_eq!(
                e164(bad).map(|(_, s)| s),
                Err(HubError::InvalidPhoneNumber(bad.into())),
                "{bad}"
            );
        }
    }
}
