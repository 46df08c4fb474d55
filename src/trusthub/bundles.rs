//! Customer profiles and trust products: create, list, fetch, update (status transitions
//! and, for the operator, review decisions) and delete, plus the automatic SHAKEN/STIR
//! trust product of an approved Primary profile.

use serde_json::Value;
use time::OffsetDateTime;

use super::callbacks::{Callbacks, StatusChange};
use super::{Caller, Hub, HubError, Missing, Write, new_sid};
use crate::store::{BundleQuery, Page};
use crate::trust::documents;
use crate::trust::rules::{self, Attached, AttachedDocument, BundleFacts, TransitionError};
use crate::trust::{
    Bundle, BundleKind, BundleStatus, Change, ChannelEndpointAssignment, Decider, EntityAssignment,
    Policy, Sid,
};
use crate::verify::{FetchPolicy, check_callback_url};

/// What a new bundle is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBundle {
    pub friendly_name: String,
    pub email: String,
    pub policy_sid: Sid,
    pub status_callback: Option<String>,
}

/// The fields a bundle update may change. `valid_until` and `errors` are the operator's:
/// `Some(None)` clears them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundleUpdate {
    pub status: Option<BundleStatus>,
    pub friendly_name: Option<String>,
    pub email: Option<String>,
    pub status_callback: Option<String>,
    pub valid_until: Option<Option<OffsetDateTime>>,
    pub errors: Option<Option<Value>>,
    /// Why, for the review log (an operator's decision).
    pub reason: Option<String>,
}

/// Filters of a bundle list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleFilter {
    pub status: Option<BundleStatus>,
    pub friendly_name: Option<String>,
    pub policy_sid: Option<Sid>,
}

/// The longest reason, in bytes, an operator's decision may give (`Reason`).
pub const MAX_REASON: usize = 1024;

/// The policy of a stored bundle.
pub(crate) fn policy_of(b: &Bundle) -> Result<Policy, HubError> {
    Policy::from_sid(b.policy_sid).ok_or(HubError::Store(crate::store::StoreError::Corrupt {
        what: "policy_sid",
        message: format!("bundle {} has the unknown policy {}", b.sid, b.policy_sid),
    }))
}

/// The status callback a change of `b`'s status sends, if it has a URL.
pub(super) fn callback(b: &Bundle) -> Option<StatusChange> {
    b.status_callback
        .as_ref()
        .filter(|u| !u.is_empty())
        .map(|url| StatusChange {
            url: url.clone(),
            account_sid: b.account_sid,
            bundle_sid: b.sid,
            status: b.status,
            errors: b.errors.clone(),
        })
}

impl Hub {
    /// Bundle `sid`, if it is of `kind` and the caller sees it.
    pub fn bundle(&self, caller: &Caller, kind: BundleKind, sid: Sid) -> Result<Bundle, HubError> {
        let missing = HubError::NotFound(Missing::Bundle(sid));
        let b = self.store().bundle(sid)?.ok_or(missing.clone())?;
        if !self.sees(caller, b.account_sid) || !kind.holds(policy_of(&b)?) {
            return Err(missing);
        }
        Ok(b)
    }

    /// What the rules need to know of `b`.
    pub(crate) fn facts(&self, b: &Bundle) -> Result<BundleFacts, HubError> {
        Ok(BundleFacts {
            sid: b.sid,
            account: b.account_sid,
            parent: self.parent_of(b.account_sid),
            policy: policy_of(b)?,
        })
    }

    /// Refused (60711) unless `b`'s contents may change.
    pub(crate) fn require_editable(b: &Bundle) -> Result<(), HubError> {
        if rules::editable(b.status) {
            Ok(())
        } else {
            Err(HubError::NotEditable {
                sid: b.sid,
                status: b.status,
            })
        }
    }

    /// What is attached to `b`, for its evaluation.
    pub(crate) fn attached(&self, b: &Bundle) -> Result<Attached, HubError> {
        let mut out = Attached::default();
        let now = self.now_time();
        for a in self
            .store()
            .entity_assignments(Some(b.sid), None, Page::ALL)?
        {
            if a.object_sid.is("IT") {
                if let Some(u) = self.store().end_user(a.object_sid)? {
                    out.end_users.push((u.sid, u.end_user_type));
                }
            } else if a.object_sid.is("RD") {
                if let Some(d) = self.store().supporting_document(a.object_sid)? {
                    out.documents.push(AttachedDocument {
                        sid: d.sid,
                        status: d.status_at(now),
                        problem: documents::attribute_problem(&d.document_type, &d.attributes),
                        document_type: d.document_type,
                    });
                }
            } else if let Some(linked) = self.store().bundle(a.object_sid)? {
                out.bundles.push((linked.sid, policy_of(&linked)?));
            }
        }
        Ok(out)
    }

    pub fn create_bundle(
        &self,
        caller: &Caller,
        kind: BundleKind,
        new: NewBundle,
    ) -> Result<Bundle, HubError> {
        let account = caller.account()?;
        self.check_status_callback(new.status_callback.as_deref())?;
        rules::check_email(&new.email)?;
        let policy = Policy::from_sid(new.policy_sid)
            .filter(|p| kind.holds(*p))
            .ok_or(HubError::PolicyKind {
                policy: new.policy_sid,
                kind,
            })?;
        let now = self.now_text();
        let bundle = Bundle {
            sid: new_sid(*b"BU"),
            account_sid: account,
            policy_sid: policy.sid(),
            status: BundleStatus::Draft,
            valid_until: None,
            friendly_name: Some(new.friendly_name),
            email: Some(new.email),
            status_callback: new.status_callback,
            errors: None,
            date_created: Some(now.clone()),
            date_updated: Some(now),
            url: None,
            links: None,
        };
        let guard = self.lock()?;
        self.commit(&guard, Write::of(Change::PutBundle(bundle.clone())))?;
        Ok(bundle)
    }

    pub fn bundles(
        &self,
        caller: &Caller,
        kind: BundleKind,
        filter: &BundleFilter,
        page: Page,
    ) -> Result<Vec<Bundle>, HubError> {
        let query = BundleQuery {
            accounts: self.list_scope(caller),
            kind,
            status: filter.status,
            friendly_name: filter.friendly_name.clone(),
            policy_sid: filter.policy_sid,
        };
        Ok(self.store().bundles(&query, page)?)
    }

    pub fn update_bundle(
        &self,
        caller: &Caller,
        kind: BundleKind,
        sid: Sid,
        update: BundleUpdate,
    ) -> Result<Bundle, HubError> {
        self.check_status_callback(update.status_callback.as_deref())?;
        if let Some(email) = &update.email {
            rules::check_email(email)?;
        }
        let guard = self.lock()?;
        let mut b = self.bundle(caller, kind, sid)?;
        let policy = policy_of(&b)?;
        let operator = caller.is_operator();
        if !operator
            && (update.valid_until.is_some() || update.errors.is_some() || update.reason.is_some())
        {
            return Err(HubError::OperatorOnly("set ValidUntil, Errors or Reason"));
        }
        if update.reason.as_ref().is_some_and(|r| r.len() > MAX_REASON) {
            return Err(HubError::TooLong {
                field: "Reason",
                max: MAX_REASON,
            });
        }
        let mut late = None;
        let mut edited = false;
        for (value, field) in [
            (update.friendly_name, &mut b.friendly_name),
            (update.email, &mut b.email),
            (update.status_callback, &mut b.status_callback),
        ] {
            if let Some(v) = value
                && field.as_deref() != Some(v.as_str())
            {
                *field = Some(v);
                edited = true;
            }
        }
        if edited {
            Self::require_editable(&b)?;
        }
        let from = b.status;
        let to = update.status.unwrap_or(from);
        if to != from {
            self.check_submission(&b, policy, to, operator)?;
            b.status = to;
        }
        if let Some(valid_until) = update.valid_until {
            b.valid_until = valid_until;
        }
        if let Some(errors) = update.errors {
            b.errors = errors;
        }
        b.date_updated = Some(self.now_text());
        let mut write = Write::of(Change::PutBundle(b.clone()));
        if to != from {
            write.callbacks.extend(callback(&b));
            self.documents_follow(b.sid, to, &mut write)?;
            let (decided_by, actor) = match caller {
                Caller::Operator => (Decider::Operator, "operator".to_owned()),
                Caller::Account { sid, .. } => (Decider::Customer, sid.to_string()),
            };
            let mut entry = self.review_entry(&b, from, decided_by, actor)?;
            entry.reason = update.reason;
            late = entry.deadline.is_some().then_some(entry.late);
            write.changes.push(Change::AppendReview(entry));
        }
        if policy == Policy::PrimaryCustomerProfile {
            self.automatic_product(&b, &mut write)?;
        }
        self.commit(&guard, write)?;
        drop(guard);
        if to != from {
            if let Some(late) = late {
                self.decided(b.status, Decider::Operator, late);
            }
            if to == BundleStatus::PendingReview {
                self.submitted(b.sid);
            }
        }
        Ok(b)
    }

    /// Checks a status change of `b` to `to`; a submission must also be compliant, and an
    /// approval must not rest on a rejected or expired document.
    pub(super) fn check_submission(
        &self,
        b: &Bundle,
        policy: Policy,
        to: BundleStatus,
        operator: bool,
    ) -> Result<(), HubError> {
        rules::check_transition(b.status, to, operator).map_err(|e| match e {
            TransitionError::OperatorOnly(s) => HubError::StatusForOperator(s),
            TransitionError::Illegal(from, to) => HubError::IllegalTransition {
                sid: b.sid,
                from,
                to,
            },
        })?;
        // What was evidence at submission may not be by the time of the decision: a
        // bundle is not approved on a document the operator rejected, or that expired.
        if to == BundleStatus::TwilioApproved {
            let missing: Vec<String> = (self.attached(b)?.documents.iter())
                .filter_map(AttachedDocument::refusal)
                .collect();
            if !missing.is_empty() {
                return Err(HubError::Noncompliant {
                    sid: b.sid,
                    missing,
                });
            }
        }
        if to == BundleStatus::PendingReview {
            let (compliant, results) = rules::evaluate(policy, &self.attached(b)?);
            if !compliant {
                let missing = results
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["failure_reason"].as_str().map(str::to_owned))
                    .collect();
                return Err(HubError::Noncompliant {
                    sid: b.sid,
                    missing,
                });
            }
        }
        Ok(())
    }

    /// Creates (on first approval) or keeps in step the automatic SHAKEN/STIR trust
    /// product of Primary profile `primary`.
    pub(super) fn automatic_product(
        &self,
        primary: &Bundle,
        write: &mut Write,
    ) -> Result<(), HubError> {
        let auto = rules::automatic_product_sid(primary.sid);
        if let Some(mut product) = self.store().bundle(auto)? {
            if product.status != primary.status || product.valid_until != primary.valid_until {
                product.status = primary.status;
                product.valid_until = primary.valid_until;
                product.date_updated = primary.date_updated.clone();
                write.changes.push(Change::PutBundle(product));
            }
            return Ok(());
        }
        if primary.status != BundleStatus::TwilioApproved {
            return Ok(());
        }
        for link in self
            .store()
            .entity_assignments(None, Some(primary.sid), Page::ALL)?
        {
            let linked = self.store().bundle(link.bundle_sid)?;
            if linked.is_some_and(|b| Policy::from_sid(b.policy_sid) == Some(Policy::ShakenStir)) {
                return Ok(());
            }
        }
        let product = Bundle {
            sid: auto,
            account_sid: primary.account_sid,
            policy_sid: Policy::ShakenStir.sid(),
            status: BundleStatus::TwilioApproved,
            valid_until: primary.valid_until,
            friendly_name: Some(format!(
                "SHAKEN/STIR Trust Product (automatic) for {}",
                primary
                    .friendly_name
                    .as_deref()
                    .unwrap_or("the Primary profile")
            )),
            email: primary.email.clone(),
            status_callback: None,
            errors: None,
            date_created: primary.date_updated.clone(),
            date_updated: primary.date_updated.clone(),
            url: None,
            links: None,
        };
        let link = EntityAssignment {
            sid: new_sid(*b"BV"),
            bundle_sid: auto,
            object_sid: primary.sid,
            account_sid: Some(primary.account_sid),
            date_created: primary.date_updated.clone(),
            url: None,
        };
        write.changes.push(Change::PutBundle(product));
        write.changes.push(Change::PutEntityAssignment(link));
        for a in self
            .store()
            .channel_endpoint_assignments(Some(primary.sid), &[], Page::ALL)?
        {
            if self.product_holding(a.channel_endpoint_sid)?.is_some() {
                continue;
            }
            let (_, tn) = self.number_record(a.channel_endpoint_sid)?;
            let copy = ChannelEndpointAssignment {
                sid: new_sid(*b"RA"),
                bundle_sid: auto,
                date_created: primary.date_updated.clone(),
                ..a
            };
            write
                .changes
                .push(Change::PutChannelEndpointAssignment(copy, tn));
        }
        Ok(())
    }

    /// The bundle of `kind` that number `pn` is assigned to, if any.
    pub(crate) fn holding(&self, pn: Sid, kind: BundleKind) -> Result<Option<Sid>, HubError> {
        for a in self
            .store()
            .channel_endpoint_assignments(None, &[pn], Page::ALL)?
        {
            if let Some(b) = self.store().bundle(a.bundle_sid)?
                && kind.holds(policy_of(&b)?)
            {
                return Ok(Some(b.sid));
            }
        }
        Ok(None)
    }

    /// The trust product number `pn` is on, if any.
    pub(crate) fn product_holding(&self, pn: Sid) -> Result<Option<Sid>, HubError> {
        self.holding(pn, BundleKind::TrustProduct)
    }

    /// Deletes a bundle with its number assignments and the entity assignments from and
    /// to it. Customers delete only editable bundles; the operator any.
    pub fn delete_bundle(
        &self,
        caller: &Caller,
        kind: BundleKind,
        sid: Sid,
    ) -> Result<(), HubError> {
        let guard = self.lock()?;
        let b = self.bundle(caller, kind, sid)?;
        if !caller.is_operator() {
            Self::require_editable(&b)?;
        }
        let mut write = Write::default();
        for a in self
            .store()
            .channel_endpoint_assignments(Some(b.sid), &[], Page::ALL)?
        {
            let (_, tn) = self.number_record(a.channel_endpoint_sid)?;
            write
                .changes
                .push(Change::DeleteChannelEndpointAssignment(a, tn));
        }
        let links = self
            .store()
            .entity_assignments(Some(b.sid), None, Page::ALL)?
            .into_iter()
            .chain(
                self.store()
                    .entity_assignments(None, Some(b.sid), Page::ALL)?,
            );
        for a in links {
            write.changes.push(Change::DeleteEntityAssignment(a));
        }
        write.changes.push(Change::DeleteBundle(b));
        self.commit(&guard, write)
    }
}

impl Hub {
    /// Refuses a `StatusCallback` the outbound policy would never deliver to (a scheme
    /// other than https, userinfo, an address literal in a special-purpose range, too
    /// long). An empty value clears the callback. Host names are checked again, after
    /// resolution, on every delivery.
    fn check_status_callback(&self, url: Option<&str>) -> Result<(), HubError> {
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            return Ok(());
        };
        let strict = FetchPolicy::default();
        let policy = self.callbacks.as_ref().map_or(&strict, Callbacks::policy);
        check_callback_url(url, policy)
            .map(|_| ())
            .map_err(HubError::StatusCallback)
    }
}
