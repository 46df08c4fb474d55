//! Accounts: the operator creates top-level accounts, an account creates its
//! sub-accounts (one level deep); an account sees itself and its sub-accounts, and the
//! status of an account is set by its parent or the operator, never by itself.

use super::{Caller, Hub, HubError, Missing, Write, new_sid, new_token};
use crate::store::{AccountQuery, NumberQuery, Page};
use crate::trust::{Account, AccountStatus, Change, Sid, SuspensionCause};

/// The fields an account update may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub friendly_name: Option<String>,
    pub status: Option<AccountStatus>,
    /// Why the operator suspends the account (with `status` suspended only).
    pub suspension_cause: Option<SuspensionCause>,
}

/// Filters of the account list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub friendly_name: Option<String>,
    pub status: Option<AccountStatus>,
}

impl Hub {
    /// A new account: top-level when the operator asks, a sub-account of the caller
    /// otherwise.
    pub fn create_account(
        &self,
        caller: &Caller,
        friendly_name: Option<String>,
    ) -> Result<Account, HubError> {
        let parent = match caller {
            Caller::Operator => None,
            Caller::Account { sid, parent: None } => Some(*sid),
            Caller::Account {
                parent: Some(_), ..
            } => return Err(HubError::SubAccountCannotCreate),
        };
        let now = self.now_text();
        let account = Account {
            sid: new_sid(*b"AC"),
            parent_sid: parent,
            friendly_name: Some(
                friendly_name.unwrap_or_else(|| format!("SubAccount Created at {now}")),
            ),
            auth_token: Some(new_token()),
            status: AccountStatus::Active,
            account_type: Some("Full".into()),
            date_created: Some(now.clone()),
            date_updated: Some(now),
            uri: None,
            subresource_uris: None,
            suspension_cause: None,
            secondary_auth_token: None,
        };
        let guard = self.lock()?;
        self.commit(&guard, Write::of(Change::PutAccount(account.clone())))?;
        Ok(account)
    }

    /// The accounts the caller sees: itself and its sub-accounts (every account for the
    /// operator).
    pub fn accounts(
        &self,
        caller: &Caller,
        filter: &AccountFilter,
        page: Page,
    ) -> Result<Vec<Account>, HubError> {
        let accounts = match caller {
            Caller::Operator => None,
            Caller::Account { sid, .. } => {
                let family = self.store().accounts(
                    &AccountQuery {
                        parent: Some(*sid),
                        ..AccountQuery::default()
                    },
                    Page::ALL,
                )?;
                Some(
                    std::iter::once(*sid)
                        .chain(family.into_iter().map(|a| a.sid))
                        .collect(),
                )
            }
        };
        let query = AccountQuery {
            accounts,
            parent: None,
            friendly_name: filter.friendly_name.clone(),
            status: filter.status,
        };
        Ok(self.store().accounts(&query, page)?)
    }

    /// Account `sid`, if the caller sees it.
    pub fn account(&self, caller: &Caller, sid: Sid) -> Result<Account, HubError> {
        let missing = HubError::NotFound(Missing::Account(sid));
        if !self.sees(caller, sid) {
            return Err(missing);
        }
        self.store().account(sid)?.ok_or(missing)
    }

    pub fn update_account(
        &self,
        caller: &Caller,
        sid: Sid,
        update: AccountUpdate,
    ) -> Result<Account, HubError> {
        let guard = self.lock()?;
        let mut account = self.account(caller, sid)?;
        if let Some(name) = update.friendly_name {
            account.friendly_name = Some(name);
        }
        if update.suspension_cause.is_some() {
            caller.require_operator("give a SuspensionCause")?;
            if update.status != Some(AccountStatus::Suspended) {
                return Err(HubError::CauseWithoutSuspension);
            }
        }
        let mut closing = false;
        if let Some(status) = update.status {
            if matches!(caller, Caller::Account { sid, .. } if *sid == account.sid) {
                return Err(HubError::OwnStatus);
            }
            if account.status == AccountStatus::Closed && status != AccountStatus::Closed {
                return Err(HubError::AccountClosed(sid));
            }
            closing = status == AccountStatus::Closed && account.status != AccountStatus::Closed;
            account.status = status;
            // Reinstated or closed: the cause of a suspension no longer stands.
            account.suspension_cause = match status {
                AccountStatus::Suspended => update.suspension_cause.or(account.suspension_cause),
                _ => None,
            };
        }
        account.date_updated = Some(self.now_text());
        let mut write = Write::default();
        if closing {
            // Closed with it: its sub-accounts, which cannot outlive it.
            let subs = AccountQuery {
                parent: Some(sid),
                ..Default::default()
            };
            for mut sub in self.store().accounts(&subs, Page::ALL)? {
                self.close_out(sub.sid, &mut write)?;
                if sub.status != AccountStatus::Closed {
                    sub.status = AccountStatus::Closed;
                    sub.date_updated = account.date_updated.clone();
                    write.changes.push(Change::PutAccount(sub));
                }
            }
            self.close_out(sid, &mut write)?;
        }
        write.changes.push(Change::PutAccount(account.clone()));
        self.commit(&guard, write)?;
        Ok(account)
    }

    /// The changes that shut a closing account down, as Twilio does: its numbers are
    /// released and its trunks deleted, so nothing of it takes traffic again. Its
    /// bundles, end users and lists stay, for the record.
    fn close_out(&self, account: Sid, write: &mut Write) -> Result<(), HubError> {
        let numbers = NumberQuery {
            account,
            pattern: None,
            friendly_name: None,
        };
        for n in self.store().numbers(&numbers, Page::ALL)? {
            self.release_number(n, write)?;
        }
        for trunk in self.store().trunks(Some(&[account]), Page::ALL)? {
            write.changes.extend(self.trunk_removal(trunk)?);
        }
        Ok(())
    }
}

/// What happens to an account's second auth token (Twilio's Accounts v1 `AuthTokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    /// `POST /v1/AuthTokens/Secondary`: make one, accepted beside the first.
    CreateSecondary,
    /// `DELETE /v1/AuthTokens/Secondary`.
    DeleteSecondary,
    /// `POST /v1/AuthTokens/Promote`: the second becomes the only one; the old one is
    /// refused from the next request on, on every node.
    Promote,
}

impl Hub {
    /// Changes the auth tokens of the caller's own account or, for the operator, of
    /// `account` (an account whose credentials were exposed).
    pub fn auth_tokens(
        &self,
        caller: &Caller,
        account: Option<Sid>,
        action: TokenAction,
    ) -> Result<Account, HubError> {
        let sid = match (caller, account) {
            (Caller::Operator, Some(sid)) => sid,
            (Caller::Operator, None) => {
                return Err(HubError::Required {
                    field: "AccountSid",
                });
            }
            (Caller::Account { sid, .. }, None) => *sid,
            (Caller::Account { sid, .. }, Some(other)) if other == *sid => *sid,
            (Caller::Account { .. }, Some(_)) => {
                return Err(HubError::OperatorOnly(
                    "change another account's auth tokens",
                ));
            }
        };
        let guard = self.lock()?;
        let mut a = self.account(caller, sid)?;
        if a.status == AccountStatus::Closed {
            return Err(HubError::AccountClosed(sid));
        }
        match action {
            TokenAction::CreateSecondary => {
                if a.secondary_auth_token.is_some() {
                    return Err(HubError::SecondaryToken(
                        "already has a secondary auth token; delete or promote it first",
                    ));
                }
                a.secondary_auth_token = Some(new_token());
            }
            TokenAction::DeleteSecondary => {
                if a.secondary_auth_token.take().is_none() {
                    return Err(HubError::NotFound(Missing::SecondaryToken(sid)));
                }
            }
            TokenAction::Promote => {
                let Some(token) = a.secondary_auth_token.take() else {
                    return Err(HubError::SecondaryToken(
                        "has no secondary auth token to promote; create one first",
                    ));
                };
                a.auth_token = Some(token);
            }
        }
        a.date_updated = Some(self.now_text());
        self.commit(&guard, Write::of(Change::PutAccount(a.clone())))?;
        tracing::info!(account = %sid, action = ?action, by = if caller.is_operator() { "operator" } else { "account" }, "auth tokens changed");
        Ok(a)
    }
}
