//! Trunks and their IP access control lists, in Twilio's Elastic SIP Trunking shapes:
//! an account's trunks (trunking v1), its access lists and their addresses (2010
//! `SIP/IpAccessControlLists`), and which lists a trunk admits calls from.
//!
//! Every write is checked against the whole trunking data before it is committed
//! ([`crate::trust::Index::prepare_trunking`]): an address must be a range with a sane
//! prefix, and no source address may reach two trunks. The write reaches the live index
//! with the commit, so the next INVITE from a newly admitted address is signed for the
//! trunk's account, and one from an address just removed is refused.

use super::{Caller, Hub, HubError, Missing, new_sid};
use crate::passport::Attest;
use crate::store::{Page, StoreError};
use crate::trust::{
    CallLimit, Change, IpAccessControlList, IpAddress, LevelGate, RequestedLevel, Sid, SignPolicy,
    SigningFailure, TableError, Trunk, TrunkAcl, TrunkIdentityPolicy, TrunkRole, TrustError,
    trunking,
};

/// Twilio's limits on names: 64 characters for a trunk, 255 for lists and addresses.
pub const TRUNK_NAME_MAX: usize = 64;
pub const LIST_NAME_MAX: usize = 255;
/// Addresses one list may hold.
pub const ADDRESSES_PER_LIST: usize = 1000;

/// What a new trunk is given, and what an update may change (`None`: unchanged; a
/// domain of `Some("")` clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrunkFields {
    pub friendly_name: Option<String>,
    pub domain_name: Option<String>,
    /// Calls a second; `Some(0)` removes the limit.
    pub calls_per_second: Option<u32>,
    /// Calls at once after a quiet spell (the rate when not given).
    pub calls_burst: Option<u32>,
    /// `A`, `B` or `C`; empty removes the floor.
    pub minimum_attestation: Option<String>,
    /// 403 (the default) or 603 for calls below the floor.
    pub below_minimum_status: Option<u16>,
    /// `strip`, `keep` or `reject`; empty returns to the proxy's default.
    pub identity_policy: Option<String>,
    /// `sign`, `verify` or `redirect`; empty returns to `sign`.
    pub role: Option<String>,
    /// A UUID; empty returns to the one derived from the SID.
    pub origid: Option<String>,
    /// `ceiling` or `ignore`: what its SBC's requested level counts for when signing
    /// through the REST API; empty returns to `ceiling`.
    pub requested_level: Option<String>,
    /// `true` or `false` (empty: `false`): a redirect trunk's 302 embeds the Identity
    /// in its Contact too.
    pub contact_identity: Option<String>,
    /// `true` or `false` (empty: `false`): signed calls carry `P-Attestation-Indicator`
    /// and `P-Origination-ID`.
    pub attestation_headers: Option<String>,
    /// `unsigned` or a status from 400 to 699 (empty: the default).
    pub signing_failure: Option<String>,
    /// `all`, `unsigned`, `never` or `required` (empty: `all`).
    pub sign_policy: Option<String>,
    /// What an INVITE without Identity gets under `required`: 400 to 699 (0: 403).
    pub unsigned_status: Option<u16>,
}

/// The highest call rate and burst a trunk may be given.
pub const MAX_CALLS_PER_SECOND: u32 = 10_000;

/// What a new address is given, and what an update may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressFields {
    pub friendly_name: Option<String>,
    pub ip_address: Option<String>,
    /// The whole address when absent on create.
    pub cidr_prefix_length: Option<u8>,
}

pub(super) fn check_name(field: &'static str, name: &str, max: usize) -> Result<(), HubError> {
    if name.chars().count() > max {
        return Err(HubError::TooLong { field, max });
    }
    Ok(())
}

/// A host name: dot-separated labels of letters, digits and hyphens, at most 253
/// characters, compared without case.
fn domain(name: &str) -> Result<String, HubError> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(HubError::DomainName(name));
    }
    Ok(name)
}

impl Hub {
    /// Commits `changes` after checking the trunking data they leave.
    pub(super) fn commit_trunking(
        &self,
        caller: &Caller,
        guard: &super::WriteGuard<'_>,
        changes: Vec<Change>,
    ) -> Result<(), HubError> {
        let index = self.trust.load_full();
        let prepared = index.prepare_trunking(&changes);
        let prepared = prepared.map_err(|e| self.trunking_refusal(caller, e))?;
        self.store().apply(&changes)?;
        if !index.install_trunking(prepared) {
            // The index changed under us (it cannot while the guard is held, but the
            // store is the system of record): apply the committed changes as usual.
            let _ = guard;
            for change in &changes {
                if let Err(e) = self.trust.load().apply(change) {
                    tracing::error!(error = %e, "trunking update failed after commit; rebuilding from the store");
                    return Ok(self.rebuild_locked().map(drop)?);
                }
            }
        }
        Ok(())
    }

    /// A refused trunking write as the caller may hear of it: an overlap with a trunk of
    /// an account it does not see names only the caller's own range (that a range is
    /// taken is what one source address per trunk means; whose it is, is not).
    fn trunking_refusal(&self, caller: &Caller, e: TrustError) -> HubError {
        let TrustError::Trunking(TableError::Overlap {
            net,
            list,
            other_net,
            other_list,
            ..
        }) = &e
        else {
            return HubError::Trunking(Box::new(e));
        };
        let records = self.trust.load().trunking();
        let seen = |l: &Sid| {
            (records.ip_access_control_lists.iter())
                .find(|x| x.sid == *l)
                .is_some_and(|x| self.sees(caller, x.account_sid))
        };
        match (seen(list), seen(other_list)) {
            (true, true) => HubError::Trunking(Box::new(e)),
            (true, false) => HubError::RangeTaken { net: *net },
            (false, _) => HubError::RangeTaken { net: *other_net },
        }
    }

    /// Refuses a domain another trunk has.
    fn require_free_domain(&self, domain: &str, trunk: Sid) -> Result<(), HubError> {
        let taken = self.trust.load().with_trunking(|records| {
            (records.trunks.iter())
                .any(|t| t.sid != trunk && t.domain_name.as_deref().is_some_and(|d| d == domain))
        });
        if taken {
            return Err(HubError::DomainTaken(domain.to_owned()));
        }
        Ok(())
    }

    pub fn create_trunk(&self, caller: &Caller, fields: TrunkFields) -> Result<Trunk, HubError> {
        let account = caller.account()?;
        let now = self.now_text();
        let mut trunk = Trunk {
            date_created: Some(now.clone()),
            date_updated: Some(now),
            ..Trunk::new(new_sid(*b"TK"), account)
        };
        let guard = self.lock()?;
        self.edit_trunk(&mut trunk, fields)?;
        self.commit_trunking(caller, &guard, vec![Change::PutTrunk(trunk.clone())])?;
        Ok(trunk)
    }

    fn edit_trunk(&self, trunk: &mut Trunk, fields: TrunkFields) -> Result<(), HubError> {
        if let Some(name) = fields.friendly_name {
            check_name("FriendlyName", &name, TRUNK_NAME_MAX)?;
            trunk.friendly_name = Some(name);
        }
        match (fields.calls_per_second, fields.calls_burst) {
            (Some(0), None) => trunk.call_limit = None,
            (None, None) => {}
            (rate, burst) => {
                let rate =
                    rate.or(trunk.call_limit.map(|l| l.per_second))
                        .ok_or(HubError::Required {
                            field: "CallsPerSecond",
                        })?;
                let burst = burst.unwrap_or(rate);
                for (field, value) in [("CallsPerSecond", rate), ("CallsBurst", burst)] {
                    if !(1..=MAX_CALLS_PER_SECOND).contains(&value) {
                        return Err(HubError::OutOfRange {
                            field,
                            max: MAX_CALLS_PER_SECOND,
                        });
                    }
                }
                trunk.call_limit = Some(CallLimit {
                    per_second: rate,
                    burst,
                });
            }
        }
        match fields.identity_policy.as_deref() {
            None => {}
            Some("") => trunk.identity_policy = None,
            Some(p) => {
                trunk.identity_policy = Some(
                    TrunkIdentityPolicy::parse(p)
                        .ok_or_else(|| HubError::IdentityPolicy(p.to_owned()))?,
                );
            }
        }
        match (
            fields.minimum_attestation.as_deref(),
            fields.below_minimum_status,
        ) {
            (Some(""), None) => trunk.level_gate = None,
            (None, None) => {}
            (level, status) => {
                let minimum = match level {
                    Some("A") => Attest::A,
                    Some("B") => Attest::B,
                    Some("C") => Attest::C,
                    None => (trunk.level_gate.map(|g| g.minimum)).ok_or(HubError::Required {
                        field: "MinimumAttestation",
                    })?,
                    Some(other) => return Err(HubError::MinimumAttestation(other.to_owned())),
                };
                let status = status.or(trunk.level_gate.map(|g| g.status)).unwrap_or(403);
                if !matches!(status, 403 | 603) {
                    return Err(HubError::BelowMinimumStatus(status));
                }
                trunk.level_gate = Some(LevelGate { minimum, status });
            }
        }
        match fields.role.as_deref() {
            None => {}
            Some("") | Some("sign") => trunk.role = None,
            Some("verify") if self.verifies => trunk.role = Some(TrunkRole::Verify),
            Some("verify") => {
                return Err(HubError::Role(
                    "verify needs a [verify] table in the server's config".into(),
                ));
            }
            Some("redirect") => trunk.role = Some(TrunkRole::Redirect),
            Some(other) => {
                return Err(HubError::Role(format!(
                    "must be sign, verify or redirect, got {other:?}"
                )));
            }
        }
        let flag = |name: &'static str, v: Option<&str>, at: &mut Option<bool>| {
            match v.map(str::trim) {
                None => {}
                Some("") => *at = None,
                Some(v) if v.eq_ignore_ascii_case("true") => *at = Some(true),
                Some(v) if v.eq_ignore_ascii_case("false") => *at = None,
                Some(v) => {
                    return Err(HubError::Flag {
                        field: name,
                        value: v.to_owned(),
                    });
                }
            }
            Ok(())
        };
        flag(
            "ContactIdentity",
            fields.contact_identity.as_deref(),
            &mut trunk.contact_identity,
        )?;
        flag(
            "AttestationHeaders",
            fields.attestation_headers.as_deref(),
            &mut trunk.attestation_headers,
        )?;
        match fields.signing_failure.as_deref().map(str::trim) {
            None => {}
            Some("") => trunk.signing_failure = None,
            Some(f) => {
                trunk.signing_failure = Some(
                    SigningFailure::parse(f)
                        .ok_or_else(|| HubError::SigningFailure(f.to_owned()))?,
                );
            }
        }
        match fields.sign_policy.as_deref().map(str::trim) {
            None => {}
            Some("") => trunk.sign_policy = None,
            Some(p) => {
                let policy =
                    SignPolicy::parse(p).ok_or_else(|| HubError::SignPolicy(p.to_owned()))?;
                if policy.verifies() && !self.verifies {
                    return Err(HubError::SignPolicy(format!(
                        "{p} verifies Identity headers, which needs a [verify] table in the server's config"
                    )));
                }
                trunk.sign_policy = (policy != SignPolicy::All).then_some(policy);
            }
        }
        match fields.unsigned_status {
            None => {}
            Some(0) => trunk.unsigned_status = None,
            Some(code) if (400..700).contains(&code) => trunk.unsigned_status = Some(code),
            Some(code) => return Err(HubError::UnsignedStatus(code)),
        }
        match fields.requested_level.as_deref() {
            None => {}
            Some("") => trunk.requested_level = None,
            Some(r) => {
                trunk.requested_level = Some(
                    RequestedLevel::parse(r)
                        .ok_or_else(|| HubError::RequestedLevel(r.to_owned()))?,
                );
            }
        }
        match fields.origid.as_deref() {
            None => {}
            Some("") => trunk.origid = None,
            Some(text) => {
                let id = uuid::Uuid::try_parse(text.trim())
                    .map_err(|_| HubError::Origid(text.to_owned()))?;
                trunk.origid = Some(id);
            }
        }
        if let Some(name) = fields.domain_name {
            trunk.domain_name = if name.is_empty() {
                None
            } else {
                let name = domain(&name)?;
                self.require_free_domain(&name, trunk.sid)?;
                Some(name)
            };
        }
        Ok(())
    }

    /// The caller's trunks (every account's for the operator).
    pub fn trunks(&self, caller: &Caller, page: Page) -> Result<Vec<Trunk>, HubError> {
        let scope = self.list_scope(caller);
        let read = self.store().trunks(scope.as_deref(), page);
        self.or_index(read, |records| {
            let theirs = |t: &&Trunk| scope.as_ref().is_none_or(|s| s.contains(&t.account_sid));
            paged(records.trunks.iter().filter(theirs), page)
        })
    }

    /// Trunk `sid`, if the caller sees it.
    pub fn trunk(&self, caller: &Caller, sid: Sid) -> Result<Trunk, HubError> {
        let read = self.store().trunk(sid);
        self.or_index(read, |records| {
            records.trunks.iter().find(|t| t.sid == sid).cloned()
        })?
        .filter(|t| self.sees(caller, t.account_sid))
        .ok_or(HubError::NotFound(Missing::Trunk(sid)))
    }

    pub fn update_trunk(
        &self,
        caller: &Caller,
        sid: Sid,
        fields: TrunkFields,
    ) -> Result<Trunk, HubError> {
        let guard = self.lock()?;
        let mut trunk = self.trunk(caller, sid)?;
        self.edit_trunk(&mut trunk, fields)?;
        trunk.date_updated = Some(self.now_text());
        self.commit_trunking(caller, &guard, vec![Change::PutTrunk(trunk.clone())])?;
        Ok(trunk)
    }

    /// Deletes a trunk, its uses of access and credential lists (the lists stay), its
    /// origination URLs, its numbers (they stay the account's) and its signing identity
    /// assignment.
    pub fn delete_trunk(&self, caller: &Caller, sid: Sid) -> Result<(), HubError> {
        let guard = self.lock()?;
        let trunk = self.trunk(caller, sid)?;
        let changes = self.trunk_removal(trunk)?;
        self.commit_trunking(caller, &guard, changes)
    }

    /// The changes that delete `trunk` and everything that hangs off it.
    pub(super) fn trunk_removal(&self, trunk: Trunk) -> Result<Vec<Change>, HubError> {
        let sid = trunk.sid;
        let mut changes: Vec<Change> = (self.store().trunk_acls(sid, Page::ALL)?)
            .into_iter()
            .map(Change::DeleteTrunkAcl)
            .collect();
        self.trust.load().with_trunking(|records| {
            let uses = (records.trunk_credential_lists.iter())
                .filter(|u| u.trunk_sid == sid)
                .cloned()
                .map(Change::DeleteTrunkCredentialList);
            let signs = (records.signing_assignments.iter())
                .filter(|a| a.assigned_sid == sid)
                .cloned()
                .map(Change::DeleteSigningAssignment);
            let urls = (records.origination_urls.iter())
                .filter(|u| u.trunk_sid == sid)
                .cloned()
                .map(Change::DeleteOriginationUrl);
            let numbers = (records.trunk_phone_numbers.iter())
                .filter(|n| n.trunk_sid == sid)
                .cloned()
                .map(Change::DeleteTrunkPhoneNumber);
            changes.extend(uses.chain(signs).chain(urls).chain(numbers));
        });
        changes.push(Change::DeleteTrunk(trunk));
        Ok(changes)
    }

    /// The lists trunk `trunk` admits calls from.
    pub fn trunk_lists(
        &self,
        caller: &Caller,
        trunk: Sid,
        page: Page,
    ) -> Result<Vec<(TrunkAcl, IpAccessControlList)>, HubError> {
        let trunk = self.trunk(caller, trunk)?;
        let mut out = Vec::new();
        let read = self.store().trunk_acls(trunk.sid, page);
        let links = self.or_index(read, |records| {
            let uses = |l: &&TrunkAcl| l.trunk_sid == trunk.sid;
            paged(
                records.trunk_ip_access_control_lists.iter().filter(uses),
                page,
            )
        })?;
        for link in links {
            if let Some(list) = self.ip_list(link.ip_access_control_list_sid)? {
                out.push((link, list));
            }
        }
        Ok(out)
    }

    /// List `list` as trunk `trunk` uses it.
    pub fn trunk_list(
        &self,
        caller: &Caller,
        trunk: Sid,
        list: Sid,
    ) -> Result<(TrunkAcl, IpAccessControlList), HubError> {
        let missing = HubError::NotFound(Missing::Child {
            parent: trunk,
            sid: list,
        });
        self.trunk_lists(caller, trunk, Page::ALL)?
            .into_iter()
            .find(|(link, _)| link.ip_access_control_list_sid == list)
            .ok_or(missing)
    }

    /// Lets trunk `trunk` admit calls from the addresses of list `list`, a list of the
    /// trunk's own account (another's is as unknown as one that does not exist).
    pub fn add_trunk_list(
        &self,
        caller: &Caller,
        trunk: Sid,
        list: Sid,
    ) -> Result<(TrunkAcl, IpAccessControlList), HubError> {
        let guard = self.lock()?;
        let trunk = self.trunk(caller, trunk)?;
        let acl = (self.store().ip_access_control_list(list)?)
            .filter(|l| l.account_sid == trunk.account_sid)
            .ok_or(HubError::UnknownList(list))?;
        let used = self.store().trunk_acls(trunk.sid, Page::ALL)?;
        if used.iter().any(|l| l.ip_access_control_list_sid == list) {
            return Err(HubError::ListOnTrunk {
                list,
                trunk: trunk.sid,
            });
        }
        let link = TrunkAcl {
            trunk_sid: trunk.sid,
            ip_access_control_list_sid: list,
            account_sid: trunk.account_sid,
            date_created: Some(self.now_text()),
        };
        self.commit_trunking(caller, &guard, vec![Change::PutTrunkAcl(link.clone())])?;
        Ok((link, acl))
    }

    pub fn remove_trunk_list(
        &self,
        caller: &Caller,
        trunk: Sid,
        list: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let (link, _) = self.trunk_list(caller, trunk, list)?;
        self.commit_trunking(caller, &guard, vec![Change::DeleteTrunkAcl(link)])
    }

    /// Account `account`, when the caller may act on its resources.
    pub(super) fn acting_for(&self, caller: &Caller, account: Sid) -> Result<Sid, HubError> {
        let exists = match self.store().account(account) {
            Ok(found) => found.is_some(),
            // The database is down: the index knows the account, or does not.
            Err(StoreError::Unavailable(_)) => self.trust.load().account(account).is_some(),
            Err(e) => return Err(e.into()),
        };
        if !self.sees(caller, account) || !exists {
            return Err(HubError::NotFound(Missing::Account(account)));
        }
        Ok(account)
    }

    /// IP access control list `sid`, from the store or, while it is down, the index.
    fn ip_list(&self, sid: Sid) -> Result<Option<IpAccessControlList>, HubError> {
        let read = self.store().ip_access_control_list(sid);
        self.or_index(read, |records| {
            let this = |l: &&IpAccessControlList| l.sid == sid;
            records.ip_access_control_lists.iter().find(this).cloned()
        })
    }

    pub fn create_list(
        &self,
        caller: &Caller,
        account: Sid,
        friendly_name: String,
    ) -> Result<IpAccessControlList, HubError> {
        let account = self.acting_for(caller, account)?;
        check_name("FriendlyName", &friendly_name, LIST_NAME_MAX)?;
        let now = self.now_text();
        let list = IpAccessControlList {
            sid: new_sid(*b"AL"),
            account_sid: account,
            friendly_name: Some(friendly_name),
            date_created: Some(now.clone()),
            date_updated: Some(now),
        };
        let guard = self.lock()?;
        let change = Change::PutIpAccessControlList(list.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(list)
    }

    /// Account `account`'s lists.
    pub fn lists(
        &self,
        caller: &Caller,
        account: Sid,
        page: Page,
    ) -> Result<Vec<IpAccessControlList>, HubError> {
        let account = self.acting_for(caller, account)?;
        let read = self.store().ip_access_control_lists(Some(&[account]), page);
        self.or_index(read, |records| {
            let theirs = |l: &&IpAccessControlList| l.account_sid == account;
            paged(records.ip_access_control_lists.iter().filter(theirs), page)
        })
    }

    /// List `sid` of account `account`.
    pub fn list(
        &self,
        caller: &Caller,
        account: Sid,
        sid: Sid,
    ) -> Result<IpAccessControlList, HubError> {
        let account = self.acting_for(caller, account)?;
        self.ip_list(sid)?
            .filter(|l| l.account_sid == account)
            .ok_or(HubError::NotFound(Missing::IpAccessControlList(sid)))
    }

    pub fn rename_list(
        &self,
        caller: &Caller,
        account: Sid,
        sid: Sid,
        friendly_name: String,
    ) -> Result<IpAccessControlList, HubError> {
        check_name("FriendlyName", &friendly_name, LIST_NAME_MAX)?;
        let guard = self.lock()?;
        let mut list = self.list(caller, account, sid)?;
        list.friendly_name = Some(friendly_name);
        list.date_updated = Some(self.now_text());
        let change = Change::PutIpAccessControlList(list.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(list)
    }

    /// Deletes a list, its addresses and the trunks' uses of it.
    pub fn delete_list(&self, caller: &Caller, account: Sid, sid: Sid) -> Result<(), HubError> {
        let guard = self.lock()?;
        let list = self.list(caller, account, sid)?;
        let records = self.trust.load().trunking();
        let uses = (records.trunk_ip_access_control_lists.into_iter())
            .filter(|l| l.ip_access_control_list_sid == sid)
            .map(Change::DeleteTrunkAcl);
        let addresses = (self.store().ip_addresses(sid, Page::ALL)?)
            .into_iter()
            .map(Change::DeleteIpAddress);
        let mut changes: Vec<Change> = uses.chain(addresses).collect();
        changes.push(Change::DeleteIpAccessControlList(list));
        self.commit_trunking(caller, &guard, changes)
    }

    pub fn create_address(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        fields: AddressFields,
    ) -> Result<IpAddress, HubError> {
        let guard = self.lock()?;
        let acl = self.list(caller, account, list)?;
        let held = self.store().ip_addresses(acl.sid, Page::ALL)?;
        if held.len() >= ADDRESSES_PER_LIST {
            return Err(HubError::ListFull {
                list: acl.sid,
                max: ADDRESSES_PER_LIST,
            });
        }
        let friendly_name = (fields.friendly_name.clone()).ok_or(HubError::Required {
            field: "FriendlyName",
        })?;
        let ip_address =
            (fields.ip_address.clone()).ok_or(HubError::Required { field: "IpAddress" })?;
        let now = self.now_text();
        let mut address = IpAddress {
            sid: new_sid(*b"IP"),
            account_sid: acl.account_sid,
            ip_access_control_list_sid: acl.sid,
            friendly_name: Some(friendly_name),
            ip_address,
            cidr_prefix_length: fields.cidr_prefix_length.unwrap_or(0),
            date_created: Some(now.clone()),
            date_updated: Some(now),
        };
        let fields = AddressFields {
            friendly_name: None,
            ip_address: None,
            ..fields
        };
        edit_address(&mut address, fields, &held)?;
        self.commit_trunking(caller, &guard, vec![Change::PutIpAddress(address.clone())])?;
        Ok(address)
    }

    /// The addresses of list `list` of account `account`.
    pub fn addresses(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        page: Page,
    ) -> Result<Vec<IpAddress>, HubError> {
        let acl = self.list(caller, account, list)?;
        let read = self.store().ip_addresses(acl.sid, page);
        self.or_index(read, |records| {
            let held = |a: &&IpAddress| a.ip_access_control_list_sid == acl.sid;
            paged(records.ip_addresses.iter().filter(held), page)
        })
    }

    pub fn address(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        sid: Sid,
    ) -> Result<IpAddress, HubError> {
        let acl = self.list(caller, account, list)?;
        let read = self.store().ip_address(sid);
        self.or_index(read, |records| {
            records.ip_addresses.iter().find(|a| a.sid == sid).cloned()
        })?
        .filter(|a| a.ip_access_control_list_sid == acl.sid)
        .ok_or(HubError::NotFound(Missing::Child { parent: list, sid }))
    }

    pub fn update_address(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        sid: Sid,
        fields: AddressFields,
    ) -> Result<IpAddress, HubError> {
        let guard = self.lock()?;
        let mut address = self.address(caller, account, list, sid)?;
        let held = self.store().ip_addresses(list, Page::ALL)?;
        edit_address(&mut address, fields, &held)?;
        address.date_updated = Some(self.now_text());
        self.commit_trunking(caller, &guard, vec![Change::PutIpAddress(address.clone())])?;
        Ok(address)
    }

    pub fn delete_address(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let address = self.address(caller, account, list, sid)?;
        self.commit_trunking(caller, &guard, vec![Change::DeleteIpAddress(address)])
    }
}

/// Applies `fields` to `address` and checks it: a range (the whole address when the
/// prefix is 0, Twilio's default), and not already in its list (`held`).
fn edit_address(
    address: &mut IpAddress,
    fields: AddressFields,
    held: &[IpAddress],
) -> Result<(), HubError> {
    if let Some(name) = fields.friendly_name {
        check_name("FriendlyName", &name, LIST_NAME_MAX)?;
        address.friendly_name = Some(name);
    }
    if let Some(ip) = fields.ip_address {
        address.ip_address = ip.trim().to_owned();
    }
    if let Some(length) = fields.cidr_prefix_length {
        address.cidr_prefix_length = length;
    }
    if address.cidr_prefix_length == 0 {
        address.cidr_prefix_length = match address.ip_address.parse::<std::net::IpAddr>() {
            Ok(ip) if trunking::canonical(ip).is_ipv6() => 128,
            _ => 32,
        };
    }
    let net = address
        .net()
        .map_err(|e| HubError::Trunking(Box::new(e.into())))?;
    let same = |a: &IpAddress| a.sid != address.sid && a.net().is_ok_and(|n| n == net);
    if held.iter().any(same) {
        return Err(HubError::AddressInList {
            list: address.ip_access_control_list_sid,
            address: address.ip_address.clone(),
            length: address.cidr_prefix_length,
        });
    }
    Ok(())
}

/// The `page` of `items`, as a store list would return it.
fn paged<'a, T: Clone + 'a>(items: impl Iterator<Item = &'a T>, page: Page) -> Vec<T> {
    items.skip(page.offset).take(page.limit).cloned().collect()
}
