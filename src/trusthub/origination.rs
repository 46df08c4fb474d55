//! A trunk's origination URLs (trunking v1 `OriginationUrls`): where its calls go. The
//! proxy tries the enabled ones by priority, lowest first, spreading calls by weight
//! among equal priorities, and moves to the next when one answers 503 or not at all.
//!
//! A URL is a `sip:` URI with the carrier's IP address. An account may name only
//! addresses the server's policy allows: no loopback, private or other special-purpose
//! address (RFC 6890) unless `[api] origination_allow_loopback` or
//! `origination_allow_private` say so, so that no account can point the proxy at the
//! operator's internal network.

use super::{Caller, Hub, HubError, Missing, new_sid};
use crate::store::Page;
use crate::trust::{Change, OriginationUrl, Sid, trunking};
use crate::verify::check_address;

/// Origination URLs one trunk may have.
pub const URLS_PER_TRUNK: usize = 10;
/// Twilio's limit on their friendly names.
pub const NAME_MAX: usize = 64;

/// What a new URL is given (all required, as at Twilio), and what an update may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginationFields {
    pub friendly_name: Option<String>,
    pub sip_url: Option<String>,
    pub priority: Option<u16>,
    pub weight: Option<u16>,
    pub enabled: Option<bool>,
}

impl Hub {
    fn trunk_urls(&self, trunk: Sid) -> Vec<OriginationUrl> {
        self.trust.load().with_trunking(|t| {
            (t.origination_urls.iter())
                .filter(|u| u.trunk_sid == trunk)
                .cloned()
                .collect()
        })
    }

    pub fn create_origination_url(
        &self,
        caller: &Caller,
        trunk: Sid,
        fields: OriginationFields,
    ) -> Result<OriginationUrl, HubError> {
        let guard = self.lock()?;
        let trunk = self.trunk(caller, trunk)?;
        for (field, given) in [
            ("FriendlyName", fields.friendly_name.is_some()),
            ("SipUrl", fields.sip_url.is_some()),
            ("Priority", fields.priority.is_some()),
            ("Weight", fields.weight.is_some()),
            ("Enabled", fields.enabled.is_some()),
        ] {
            if !given {
                return Err(HubError::Required { field });
            }
        }
        if self.trunk_urls(trunk.sid).len() >= URLS_PER_TRUNK {
            return Err(HubError::TooMany {
                what: "origination URLs on one trunk",
                max: URLS_PER_TRUNK,
            });
        }
        let now = self.now_text();
        let mut url = OriginationUrl {
            sid: new_sid(*b"OU"),
            account_sid: trunk.account_sid,
            trunk_sid: trunk.sid,
            friendly_name: None,
            sip_url: String::new(),
            priority: 0,
            weight: 1,
            enabled: true,
            date_created: Some(now.clone()),
            date_updated: Some(now),
        };
        self.edit_url(&mut url, fields)?;
        let change = Change::PutOriginationUrl(url.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(url)
    }

    pub fn origination_urls(
        &self,
        caller: &Caller,
        trunk: Sid,
        page: Page,
    ) -> Result<Vec<OriginationUrl>, HubError> {
        let trunk = self.trunk(caller, trunk)?;
        let urls = self.trunk_urls(trunk.sid);
        Ok(super::credentials::paged(urls.into_iter(), page))
    }

    pub fn origination_url(
        &self,
        caller: &Caller,
        trunk: Sid,
        sid: Sid,
    ) -> Result<OriginationUrl, HubError> {
        let trunk = self.trunk(caller, trunk)?;
        (self.trunk_urls(trunk.sid).into_iter())
            .find(|u| u.sid == sid)
            .ok_or(HubError::NotFound(Missing::Child {
                parent: trunk.sid,
                sid,
            }))
    }

    pub fn update_origination_url(
        &self,
        caller: &Caller,
        trunk: Sid,
        sid: Sid,
        fields: OriginationFields,
    ) -> Result<OriginationUrl, HubError> {
        let guard = self.lock()?;
        let mut url = self.origination_url(caller, trunk, sid)?;
        self.edit_url(&mut url, fields)?;
        url.date_updated = Some(self.now_text());
        let change = Change::PutOriginationUrl(url.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(url)
    }

    pub fn delete_origination_url(
        &self,
        caller: &Caller,
        trunk: Sid,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let url = self.origination_url(caller, trunk, sid)?;
        self.commit_trunking(caller, &guard, vec![Change::DeleteOriginationUrl(url)])
    }

    fn edit_url(&self, url: &mut OriginationUrl, f: OriginationFields) -> Result<(), HubError> {
        if let Some(name) = f.friendly_name {
            if name.chars().count() > NAME_MAX {
                return Err(HubError::TooLong {
                    field: "FriendlyName",
                    max: NAME_MAX,
                });
            }
            url.friendly_name = Some(name);
        }
        if let Some(sip_url) = f.sip_url {
            let sip_url = sip_url.trim().to_owned();
            let (addr, _) = trunking::sip_url_target(&sip_url)
                .map_err(|e| HubError::Trunking(Box::new(e.into())))?;
            check_address(addr.ip(), &self.origination_policy)
                .map_err(|_| HubError::OriginationAddress(addr.ip()))?;
            url.sip_url = sip_url;
        }
        if let Some(priority) = f.priority {
            url.priority = priority;
        }
        if let Some(weight) = f.weight {
            if weight == 0 {
                return Err(HubError::OutOfRange {
                    field: "Weight",
                    max: u32::from(u16::MAX),
                });
            }
            url.weight = weight;
        }
        if let Some(enabled) = f.enabled {
            url.enabled = enabled;
        }
        Ok(())
    }
}
