//! Credential lists and their credentials (2010 `SIP/CredentialLists`), and which lists a
//! trunk takes credentials from (trunking v1). A password is checked against Twilio's
//! rules and kept only as its MD5 and SHA-256 digests in `[sip] digest_realm`; it is never
//! stored or returned.

use super::{Caller, Hub, HubError, Missing, new_sid};
use crate::sip::digest::{Algorithm, ha1};
use crate::store::Page;
use crate::trust::{Change, Credential, CredentialList, Sid, TrunkCredentialList};

/// Twilio's limits: 64 characters for a list's name, 32 for a username.
pub const CREDENTIAL_LIST_NAME_MAX: usize = 64;
pub const USERNAME_MAX: usize = 32;
/// Credentials one list may hold.
pub const CREDENTIALS_PER_LIST: usize = 1000;

/// Twilio's password rules: at least 12 characters, a digit, a lowercase and an
/// uppercase letter.
fn check_password(password: &str) -> Result<(), HubError> {
    let ok = password.chars().count() >= 12
        && password.chars().any(|c| c.is_ascii_digit())
        && password.chars().any(|c| c.is_lowercase())
        && password.chars().any(|c| c.is_uppercase());
    if ok {
        Ok(())
    } else {
        Err(HubError::WeakPassword)
    }
}

/// A username: 1 to 32 characters that digest credentials carry unescaped.
fn check_username(username: &str) -> Result<(), HubError> {
    let ok = !username.is_empty()
        && username.chars().count() <= USERNAME_MAX
        && username
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b':'));
    if ok {
        Ok(())
    } else {
        Err(HubError::Username(username.to_owned()))
    }
}

fn check_name(name: &str) -> Result<(), HubError> {
    if name.chars().count() > CREDENTIAL_LIST_NAME_MAX {
        return Err(HubError::TooLong {
            field: "FriendlyName",
            max: CREDENTIAL_LIST_NAME_MAX,
        });
    }
    Ok(())
}

impl Hub {
    pub fn create_credential_list(
        &self,
        caller: &Caller,
        account: Sid,
        friendly_name: String,
    ) -> Result<CredentialList, HubError> {
        let account = self.acting_for(caller, account)?;
        check_name(&friendly_name)?;
        let now = self.now_text();
        let list = CredentialList {
            sid: new_sid(*b"CL"),
            account_sid: account,
            friendly_name: Some(friendly_name),
            date_created: Some(now.clone()),
            date_updated: Some(now),
        };
        let guard = self.lock()?;
        let change = Change::PutCredentialList(list.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(list)
    }

    pub fn credential_lists(
        &self,
        caller: &Caller,
        account: Sid,
        page: Page,
    ) -> Result<Vec<CredentialList>, HubError> {
        let account = self.acting_for(caller, account)?;
        Ok(self.trust.load().with_trunking(|t| {
            let mine = t
                .credential_lists
                .iter()
                .filter(|l| l.account_sid == account);
            paged(mine.cloned(), page)
        }))
    }

    pub fn credential_list(
        &self,
        caller: &Caller,
        account: Sid,
        sid: Sid,
    ) -> Result<CredentialList, HubError> {
        let account = self.acting_for(caller, account)?;
        let found = self.trust.load().with_trunking(|t| {
            (t.credential_lists.iter())
                .find(|l| l.sid == sid && l.account_sid == account)
                .cloned()
        });
        found.ok_or(HubError::NotFound(Missing::CredentialList(sid)))
    }

    pub fn rename_credential_list(
        &self,
        caller: &Caller,
        account: Sid,
        sid: Sid,
        friendly_name: String,
    ) -> Result<CredentialList, HubError> {
        check_name(&friendly_name)?;
        let guard = self.lock()?;
        let mut list = self.credential_list(caller, account, sid)?;
        list.friendly_name = Some(friendly_name);
        list.date_updated = Some(self.now_text());
        let change = Change::PutCredentialList(list.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(list)
    }

    /// Deletes a list, its credentials and the trunks' uses of it.
    pub fn delete_credential_list(
        &self,
        caller: &Caller,
        account: Sid,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let list = self.credential_list(caller, account, sid)?;
        let records = self.trust.load().trunking();
        let uses = (records.trunk_credential_lists.into_iter())
            .filter(|u| u.credential_list_sid == sid)
            .map(Change::DeleteTrunkCredentialList);
        let held = (records.credentials.into_iter())
            .filter(|c| c.credential_list_sid == sid)
            .map(Change::DeleteCredential);
        let mut changes: Vec<Change> = uses.chain(held).collect();
        changes.push(Change::DeleteCredentialList(list));
        self.commit_trunking(caller, &guard, changes)
    }

    pub fn create_credential(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        username: String,
        password: &str,
    ) -> Result<Credential, HubError> {
        check_username(&username)?;
        check_password(password)?;
        let guard = self.lock()?;
        let list = self.credential_list(caller, account, list)?;
        let held = self.credentials(caller, account, list.sid, Page::ALL)?;
        if held.len() >= CREDENTIALS_PER_LIST {
            return Err(HubError::CredentialListFull {
                list: list.sid,
                max: CREDENTIALS_PER_LIST,
            });
        }
        if held.iter().any(|c| c.username == username) {
            return Err(HubError::UsernameTaken {
                list: list.sid,
                username,
            });
        }
        let now = self.now_text();
        let credential = Credential {
            sid: new_sid(*b"CR"),
            account_sid: list.account_sid,
            credential_list_sid: list.sid,
            ha1_md5: ha1(Algorithm::Md5, &username, &self.digest_realm, password),
            ha1_sha256: ha1(Algorithm::Sha256, &username, &self.digest_realm, password),
            username,
            realm: self.digest_realm.clone(),
            date_created: Some(now.clone()),
            date_updated: Some(now),
        };
        self.commit_trunking(
            caller,
            &guard,
            vec![Change::PutCredential(credential.clone())],
        )?;
        Ok(credential)
    }

    pub fn credentials(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        page: Page,
    ) -> Result<Vec<Credential>, HubError> {
        let list = self.credential_list(caller, account, list)?;
        Ok(self.trust.load().with_trunking(|t| {
            let held = t
                .credentials
                .iter()
                .filter(|c| c.credential_list_sid == list.sid);
            paged(held.cloned(), page)
        }))
    }

    pub fn credential(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        sid: Sid,
    ) -> Result<Credential, HubError> {
        (self
            .credentials(caller, account, list, Page::ALL)?
            .into_iter())
        .find(|c| c.sid == sid)
        .ok_or(HubError::NotFound(Missing::Child { parent: list, sid }))
    }

    /// Sets a credential's password (Twilio lets nothing else change).
    pub fn set_password(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        sid: Sid,
        password: &str,
    ) -> Result<Credential, HubError> {
        check_password(password)?;
        let guard = self.lock()?;
        let mut c = self.credential(caller, account, list, sid)?;
        c.ha1_md5 = ha1(Algorithm::Md5, &c.username, &self.digest_realm, password);
        c.ha1_sha256 = ha1(Algorithm::Sha256, &c.username, &self.digest_realm, password);
        c.realm = self.digest_realm.clone();
        c.date_updated = Some(self.now_text());
        self.commit_trunking(caller, &guard, vec![Change::PutCredential(c.clone())])?;
        Ok(c)
    }

    pub fn delete_credential(
        &self,
        caller: &Caller,
        account: Sid,
        list: Sid,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let c = self.credential(caller, account, list, sid)?;
        self.commit_trunking(caller, &guard, vec![Change::DeleteCredential(c)])
    }

    /// The credential lists trunk `trunk` takes credentials from.
    pub fn trunk_credential_lists(
        &self,
        caller: &Caller,
        trunk: Sid,
        page: Page,
    ) -> Result<Vec<(TrunkCredentialList, CredentialList)>, HubError> {
        let trunk = self.trunk(caller, trunk)?;
        Ok(self.trust.load().with_trunking(|records| {
            let rows = (records.trunk_credential_lists.iter())
                .filter(|u| u.trunk_sid == trunk.sid)
                .filter_map(|u| {
                    let list = (records.credential_lists.iter())
                        .find(|l| l.sid == u.credential_list_sid)?
                        .clone();
                    Some((u.clone(), list))
                });
            paged(rows, page)
        }))
    }

    pub fn trunk_credential_list(
        &self,
        caller: &Caller,
        trunk: Sid,
        list: Sid,
    ) -> Result<(TrunkCredentialList, CredentialList), HubError> {
        (self
            .trunk_credential_lists(caller, trunk, Page::ALL)?
            .into_iter())
        .find(|(u, _)| u.credential_list_sid == list)
        .ok_or(HubError::NotFound(Missing::Child {
            parent: trunk,
            sid: list,
        }))
    }

    /// Lets trunk `trunk` take the credentials of list `list`, a list of the trunk's own
    /// account.
    pub fn add_trunk_credential_list(
        &self,
        caller: &Caller,
        trunk: Sid,
        list: Sid,
    ) -> Result<(TrunkCredentialList, CredentialList), HubError> {
        let guard = self.lock()?;
        let trunk = self.trunk(caller, trunk)?;
        let acl = self.trust.load().with_trunking(|t| {
            (t.credential_lists.iter())
                .find(|l| l.sid == list && l.account_sid == trunk.account_sid)
                .cloned()
        });
        let acl = acl.ok_or(HubError::UnknownCredentialList(list))?;
        if self.trunk_credential_list(caller, trunk.sid, list).is_ok() {
            return Err(HubError::CredentialListOnTrunk {
                list,
                trunk: trunk.sid,
            });
        }
        let usage = TrunkCredentialList {
            trunk_sid: trunk.sid,
            credential_list_sid: list,
            account_sid: trunk.account_sid,
            date_created: Some(self.now_text()),
        };
        let change = Change::PutTrunkCredentialList(usage.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok((usage, acl))
    }

    pub fn remove_trunk_credential_list(
        &self,
        caller: &Caller,
        trunk: Sid,
        list: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let (usage, _) = self.trunk_credential_list(caller, trunk, list)?;
        let change = Change::DeleteTrunkCredentialList(usage);
        self.commit_trunking(caller, &guard, vec![change])
    }
}

/// One page of `rows`, in write order.
pub(super) fn paged<T>(rows: impl Iterator<Item = T>, page: Page) -> Vec<T> {
    rows.skip(page.offset).take(page.limit).collect()
}
