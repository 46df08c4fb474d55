//! Signing identities and their assignments (FCC 24-120), operator-only: a provider
//! signing for another obligated provider signs with that provider's certificate.
//!
//! A new or changed identity's key is loaded and checked against its chain before the
//! write is committed ([`crate::identities::Identities::load`]); a refusal names the
//! parameter and the rule, and leaves the store as it was. Once committed, the identity
//! signs the next call of every trunk and account assigned to it.

use std::sync::Arc;

use super::{Caller, Hub, HubError, Missing};
use crate::identities::{Identities, Loaded};
use crate::store::Page;
use crate::trust::{Change, Sid, SigningAssignment, SigningIdentity};

/// The longest friendly name, and the largest chain accepted.
pub const NAME_MAX: usize = 64;
pub const CHAIN_MAX_BYTES: usize = 64 * 1024;
/// Identities one deployment may hold.
pub const MAX_IDENTITIES: usize = 1000;

/// What a new identity is given, and what an update may change (`None`: unchanged; an
/// x5u of `Some("")` returns to the derived one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityFields {
    pub friendly_name: Option<String>,
    pub certificate_chain: Option<String>,
    pub private_key: Option<String>,
    pub x5u: Option<String>,
}

/// An identity as the API shows it: the record and, when its key is loaded, what the
/// check found.
#[derive(Debug, Clone)]
pub struct IdentityView {
    pub record: SigningIdentity,
    pub x5u: String,
    pub loaded: Option<Arc<Loaded>>,
}

const ACTION: &str = "manage signing identities";

impl Hub {
    fn identities(&self) -> Result<&Arc<Identities>, HubError> {
        self.identities.as_ref().ok_or(HubError::OperatorOnly(
            "manage signing identities on this server",
        ))
    }

    fn view(&self, record: SigningIdentity) -> Result<IdentityView, HubError> {
        let identities = self.identities()?;
        Ok(IdentityView {
            x5u: identities.x5u(&record),
            loaded: identities.get(record.sid),
            record,
        })
    }

    fn identity_record(&self, sid: Sid) -> Result<SigningIdentity, HubError> {
        let found = self.trust.load().with_trunking(|t| {
            (t.signing_identities.iter())
                .find(|i| i.sid == sid)
                .cloned()
        });
        found.ok_or(HubError::NotFound(Missing::SigningIdentity(sid)))
    }

    pub fn create_identity(
        &self,
        caller: &Caller,
        fields: IdentityFields,
    ) -> Result<IdentityView, HubError> {
        caller.require_operator(ACTION)?;
        let guard = self.lock()?;
        let count = self
            .trust
            .load()
            .with_trunking(|t| t.signing_identities.len());
        if count >= MAX_IDENTITIES {
            return Err(HubError::TooMany {
                what: "signing identities",
                max: MAX_IDENTITIES,
            });
        }
        let now = self.now_text();
        let mut record = SigningIdentity {
            sid: super::new_sid(*b"SI"),
            friendly_name: None,
            certificate_chain: String::new(),
            private_key: String::new(),
            x5u: None,
            date_created: Some(now.clone()),
            date_updated: Some(now),
        };
        let (Some(_), Some(_)) = (&fields.certificate_chain, &fields.private_key) else {
            let field = if fields.certificate_chain.is_none() {
                "CertificateChain"
            } else {
                "PrivateKey"
            };
            return Err(HubError::Required { field });
        };
        edit(&mut record, fields)?;
        let loaded = self.load_identity(&record)?;
        self.commit_trunking(
            caller,
            &guard,
            vec![Change::PutSigningIdentity(record.clone())],
        )?;
        self.identities()?.add(loaded);
        self.view(record)
    }

    pub fn identities_list(
        &self,
        caller: &Caller,
        page: Page,
    ) -> Result<Vec<IdentityView>, HubError> {
        caller.require_operator(ACTION)?;
        let records = self
            .trust
            .load()
            .with_trunking(|t| t.signing_identities.clone());
        super::credentials::paged(records.into_iter(), page)
            .into_iter()
            .map(|r| self.view(r))
            .collect()
    }

    pub fn identity(&self, caller: &Caller, sid: Sid) -> Result<IdentityView, HubError> {
        caller.require_operator(ACTION)?;
        self.view(self.identity_record(sid)?)
    }

    /// Changes an identity; a new chain, key or x5u is loaded and checked first.
    pub fn update_identity(
        &self,
        caller: &Caller,
        sid: Sid,
        fields: IdentityFields,
    ) -> Result<IdentityView, HubError> {
        caller.require_operator(ACTION)?;
        let guard = self.lock()?;
        let mut record = self.identity_record(sid)?;
        let reload = fields.certificate_chain.is_some()
            || fields.private_key.is_some()
            || fields.x5u.is_some();
        edit(&mut record, fields)?;
        record.date_updated = Some(self.now_text());
        let loaded = if reload {
            Some(self.load_identity(&record)?)
        } else {
            None
        };
        self.commit_trunking(
            caller,
            &guard,
            vec![Change::PutSigningIdentity(record.clone())],
        )?;
        match loaded {
            Some(l) => self.identities()?.add(l),
            None => self.sync_identities(),
        }
        self.view(record)
    }

    /// Deletes an identity no trunk or account is assigned to.
    pub fn delete_identity(&self, caller: &Caller, sid: Sid) -> Result<(), HubError> {
        caller.require_operator(ACTION)?;
        let guard = self.lock()?;
        let record = self.identity_record(sid)?;
        let assigned = self.trust.load().with_trunking(|t| {
            (t.signing_assignments.iter())
                .filter(|a| a.signing_identity_sid == sid)
                .count()
        });
        if assigned > 0 {
            return Err(HubError::IdentityAssigned { sid, assigned });
        }
        self.commit_trunking(caller, &guard, vec![Change::DeleteSigningIdentity(record)])?;
        self.sync_identities();
        Ok(())
    }

    /// Assigns identity `sid` to trunk or account `target`, which must have none.
    pub fn assign_identity(
        &self,
        caller: &Caller,
        sid: Sid,
        target: &str,
    ) -> Result<SigningAssignment, HubError> {
        caller.require_operator(ACTION)?;
        let guard = self.lock()?;
        self.identity_record(sid)?;
        let target = Sid::parse_any(target)
            .ok()
            .filter(|t| t.is("TK") || t.is("AC"))
            .ok_or_else(|| HubError::AssignTarget(target.to_owned()))?;
        let index = self.trust.load();
        let known = if target.is("TK") {
            index.with_trunking(|t| t.trunks.iter().any(|k| k.sid == target))
        } else {
            index.account(target).is_some()
        };
        if !known {
            return Err(HubError::AssignTarget(target.to_string()));
        }
        let taken = index.with_trunking(|t| {
            (t.signing_assignments.iter())
                .find(|a| a.assigned_sid == target)
                .map(|a| a.signing_identity_sid)
        });
        drop(index);
        if let Some(identity) = taken {
            return Err(HubError::AlreadySigned { target, identity });
        }
        let assignment = SigningAssignment {
            signing_identity_sid: sid,
            assigned_sid: target,
            date_created: Some(self.now_text()),
        };
        let change = Change::PutSigningAssignment(assignment.clone());
        self.commit_trunking(caller, &guard, vec![change])?;
        Ok(assignment)
    }

    pub fn identity_assignments(
        &self,
        caller: &Caller,
        sid: Sid,
        page: Page,
    ) -> Result<Vec<SigningAssignment>, HubError> {
        caller.require_operator(ACTION)?;
        self.identity_record(sid)?;
        let all = self.trust.load().with_trunking(|t| {
            (t.signing_assignments.iter())
                .filter(|a| a.signing_identity_sid == sid)
                .cloned()
                .collect::<Vec<_>>()
        });
        Ok(super::credentials::paged(all.into_iter(), page))
    }

    pub fn identity_assignment(
        &self,
        caller: &Caller,
        sid: Sid,
        target: Sid,
    ) -> Result<SigningAssignment, HubError> {
        caller.require_operator(ACTION)?;
        self.identity_record(sid)?;
        let found = self.trust.load().with_trunking(|t| {
            (t.signing_assignments.iter())
                .find(|a| a.signing_identity_sid == sid && a.assigned_sid == target)
                .cloned()
        });
        found.ok_or(HubError::NotFound(Missing::Child {
            parent: sid,
            sid: target,
        }))
    }

    pub fn unassign_identity(
        &self,
        caller: &Caller,
        sid: Sid,
        target: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let assignment = self.identity_assignment(caller, sid, target)?;
        let change = Change::DeleteSigningAssignment(assignment);
        self.commit_trunking(caller, &guard, vec![change])
    }

    fn load_identity(&self, record: &SigningIdentity) -> Result<Loaded, HubError> {
        self.identities()?
            .load(record, self.now_unix())
            .map_err(|e| HubError::Identity(e.to_string()))
    }

    /// Brings the live identities in line with the index (after a delete, or a rebuild).
    pub(super) fn sync_identities(&self) {
        let Some(identities) = &self.identities else {
            return;
        };
        let records = self
            .trust
            .load()
            .with_trunking(|t| t.signing_identities.clone());
        for (sid, e) in identities.sync(&records, self.now_unix()) {
            tracing::error!(identity = %sid, error = %e, "signing identity cannot sign: keeping its last good key, if any");
        }
    }
}

fn edit(record: &mut SigningIdentity, fields: IdentityFields) -> Result<(), HubError> {
    if let Some(name) = fields.friendly_name {
        if name.chars().count() > NAME_MAX {
            return Err(HubError::TooLong {
                field: "FriendlyName",
                max: NAME_MAX,
            });
        }
        record.friendly_name = Some(name).filter(|n| !n.is_empty());
    }
    if let Some(chain) = fields.certificate_chain {
        if chain.len() > CHAIN_MAX_BYTES {
            return Err(HubError::TooLong {
                field: "CertificateChain",
                max: CHAIN_MAX_BYTES,
            });
        }
        record.certificate_chain = chain;
    }
    if let Some(key) = fields.private_key {
        record.private_key = key;
    }
    if let Some(x5u) = fields.x5u {
        record.x5u = Some(x5u).filter(|x| !x.is_empty());
    }
    Ok(())
}
