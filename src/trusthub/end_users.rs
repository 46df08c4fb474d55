//! End users: the businesses and people attached to bundles. An end user attached to a
//! bundle under review or approved cannot change (60711), and one still attached cannot
//! be deleted.

use serde_json::Value;

use super::{Caller, Hub, HubError, Missing, Write, new_sid};
use crate::store::Page;
use crate::trust::{Change, EndUser, Sid, rules};

/// What a new end user is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndUser {
    pub friendly_name: String,
    /// e.g. `customer_profile_business_information`, `authorized_representative_1`.
    pub end_user_type: String,
    /// A JSON object.
    pub attributes: Value,
}

/// The fields an end-user update may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndUserUpdate {
    pub friendly_name: Option<String>,
    pub attributes: Option<Value>,
}

impl Hub {
    pub fn create_end_user(&self, caller: &Caller, new: NewEndUser) -> Result<EndUser, HubError> {
        let account = caller.account()?;
        rules::check_end_user_type(&new.end_user_type)?;
        let now = self.now_text();
        let user = EndUser {
            sid: new_sid(*b"IT"),
            account_sid: account,
            friendly_name: Some(new.friendly_name),
            end_user_type: new.end_user_type,
            attributes: new.attributes,
            date_created: Some(now.clone()),
            date_updated: Some(now),
            url: None,
        };
        let guard = self.lock()?;
        self.commit(&guard, Write::of(Change::PutEndUser(user.clone())))?;
        Ok(user)
    }

    /// The caller's end users (every account's for the operator).
    pub fn end_users(&self, caller: &Caller, page: Page) -> Result<Vec<EndUser>, HubError> {
        let scope = self.list_scope(caller);
        Ok(self.store().end_users(scope.as_deref(), page)?)
    }

    /// End user `sid`, if the caller sees it.
    pub fn end_user(&self, caller: &Caller, sid: Sid) -> Result<EndUser, HubError> {
        self.store()
            .end_user(sid)?
            .filter(|u| self.sees(caller, u.account_sid))
            .ok_or(HubError::NotFound(Missing::EndUser(sid)))
    }

    pub fn update_end_user(
        &self,
        caller: &Caller,
        sid: Sid,
        update: EndUserUpdate,
    ) -> Result<EndUser, HubError> {
        let guard = self.lock()?;
        let mut user = self.end_user(caller, sid)?;
        self.require_unlocked(user.sid)?;
        if let Some(name) = update.friendly_name {
            user.friendly_name = Some(name);
        }
        if let Some(attributes) = update.attributes {
            user.attributes = attributes;
        }
        user.date_updated = Some(self.now_text());
        self.commit(&guard, Write::of(Change::PutEndUser(user.clone())))?;
        Ok(user)
    }

    pub fn delete_end_user(&self, caller: &Caller, sid: Sid) -> Result<(), HubError> {
        let guard = self.lock()?;
        let user = self.end_user(caller, sid)?;
        if let Some(bundle) = self.bundles_holding(user.sid)?.first() {
            return Err(HubError::EndUserAssigned {
                user: user.sid,
                bundle: *bundle,
            });
        }
        self.commit(&guard, Write::of(Change::DeleteEndUser(user)))
    }
}
