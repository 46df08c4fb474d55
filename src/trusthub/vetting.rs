//! Automated vetting in the Trust Hub service. A submitted bundle (`pending-review`) is
//! queued for its policy's workflow ([`crate::vetting`]); a worker gathers what the
//! checks look at, runs the workflow and commits its decision in one write: the
//! Evaluation with one result per check, the new status (`twilio-approved`,
//! `twilio-rejected` with errors naming the failed fields, or `in-review` for the manual
//! queue), the review log entry with the workflow version, and the status callback.
//!
//! Every status change, automated or not, is logged (the review log); the review
//! queue ([`Hub::review_queue`]) lists the bundles waiting for a decision by time left
//! before their deadline.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use super::bundles::{callback, policy_of};
use super::{Caller, Hub, HubError, Write, new_sid};
use crate::clock;
use crate::metrics::Metrics;
use crate::store::{AccountQuery, BundleQuery, Page};
use crate::trust::{
    Bundle, BundleKind, BundleStatus, Change, Decider, Evaluation, Policy, ReviewEntry, Sid,
};
use crate::vetting::checks::{ApprovedProfile, Attributes, DuplicateKey, Party, duplicate_keys};
use crate::vetting::identity::{self, MatchResult, Provider, Query};
use crate::vetting::run::{self, Submission, Verdict};
use crate::vetting::workflow::{Outcome, Workflows};

/// How long a decision may take after submission, in seconds, by kind of bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub customer_profile: i64,
    pub trust_product: i64,
}

impl Default for Deadlines {
    /// Twilio's promises: a day for a customer profile, three for a trust product.
    fn default() -> Deadlines {
        Deadlines {
            customer_profile: 24 * 3600,
            trust_product: 72 * 3600,
        }
    }
}

impl Deadlines {
    pub fn of(&self, policy: Policy) -> i64 {
        match policy.kind() {
            BundleKind::CustomerProfile => self.customer_profile,
            BundleKind::TrustProduct => self.trust_product,
        }
    }
}

/// The vetting side of the service.
pub struct Vetting {
    rules: ArcSwap<Workflows>,
    provider: ArcSwap<Arc<dyn Provider>>,
    deadlines: Deadlines,
    /// Whether submissions run the workflows (`false`: every bundle waits for the
    /// operator, and the queue and log still work).
    automatic: bool,
    metrics: Option<Arc<Metrics>>,
    /// To the worker, once started.
    queue: Mutex<Option<mpsc::UnboundedSender<Sid>>>,
    /// Approved customer profiles as the duplicate checks see them.
    approved: Mutex<ApprovedIndex>,
    /// Seconds without a call after which an account is dormant, and its next approval
    /// goes to the operator.
    dormant_after: Option<i64>,
    /// The minute of calls [`Hub::flush_activity`] last wrote to the store.
    flushed: std::sync::atomic::AtomicI64,
}

impl Vetting {
    pub fn new(
        rules: Workflows,
        provider: Arc<dyn Provider>,
        deadlines: Deadlines,
        automatic: bool,
        metrics: Option<Arc<Metrics>>,
    ) -> Vetting {
        Vetting {
            rules: ArcSwap::from_pointee(rules),
            provider: ArcSwap::from_pointee(provider),
            deadlines,
            automatic,
            metrics,
            queue: Mutex::new(None),
            approved: Mutex::new(ApprovedIndex::default()),
            dormant_after: None,
            flushed: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }

    /// Accounts without a call for `secs` are dormant (`None`: never).
    pub fn with_dormancy(mut self, secs: Option<i64>) -> Vetting {
        self.dormant_after = secs;
        self
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<Workflows> {
        self.rules.load_full()
    }

    /// Replaces the rules (SIGHUP); decisions from now on record the new version.
    pub fn replace_rules(&self, rules: Workflows) {
        info!(version = %rules.version, "vetting workflows loaded");
        self.rules.store(Arc::new(rules));
    }

    pub fn deadlines(&self) -> Deadlines {
        self.deadlines
    }

    /// The subscriber records identity matches read.
    pub fn provider(&self) -> Arc<dyn Provider> {
        Arc::clone(&self.provider.load())
    }

    /// Replaces the subscriber records (SIGHUP).
    pub fn replace_provider(&self, provider: Arc<dyn Provider>) {
        self.provider.store(Arc::new(provider));
    }

    fn enqueue(&self, sid: Sid) {
        if !self.automatic {
            return;
        }
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = queue.as_ref() {
            let _ = tx.send(sid);
        }
    }
}

/// A bundle waiting for a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub bundle: Bundle,
    pub policy: Policy,
    /// When it was submitted (Unix seconds), from the review log, else its last update.
    pub submitted_at: i64,
    pub deadline: i64,
}

/// What the checks of one bundle look at, gathered from the store.
struct Gathered {
    parties: Vec<(String, Attributes)>,
    family_numbers: Vec<String>,
    approved: Vec<ApprovedProfile>,
    identity: Vec<(String, Result<Option<MatchResult>, String>)>,
    linked_profile: Option<(Sid, bool)>,
}

fn text(attributes: &Attributes, key: &str) -> Option<String> {
    attributes
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn is_representative(end_user_type: &str) -> bool {
    end_user_type.starts_with(crate::vetting::checks::REPRESENTATIVE_PREFIX)
}

/// A representative's details as an Identity Match query: their name, and the address
/// and date of birth their end user may carry (`address_line1`, `address_line2`, `city`,
/// `state`, `postal_code`, `address_country_code`, `date_of_birth`).
fn identity_query(attributes: &Attributes) -> Query {
    let get = |k| text(attributes, k);
    Query {
        first_name: get("first_name"),
        last_name: get("last_name"),
        address_line1: get("address_line1"),
        address_line2: get("address_line2"),
        city: get("city"),
        state: get("state"),
        postal_code: get("postal_code"),
        address_country_code: get("address_country_code"),
        national_id: None,
        date_of_birth: get("date_of_birth"),
    }
}

impl Hub {
    /// The service with automated vetting.
    pub fn with_vetting(mut self, vetting: Vetting) -> Hub {
        self.vetting = Some(Arc::new(vetting));
        self
    }

    pub fn vetting(&self) -> Option<&Arc<Vetting>> {
        self.vetting.as_ref()
    }

    /// Queues a submitted bundle for its workflow.
    pub(super) fn submitted(&self, sid: Sid) {
        if let Some(v) = &self.vetting {
            v.enqueue(sid);
        }
    }

    /// The review log entry of `b`'s move from `from` to its current status.
    pub(super) fn review_entry(
        &self,
        b: &Bundle,
        from: BundleStatus,
        decided_by: Decider,
        actor: String,
    ) -> Result<ReviewEntry, HubError> {
        let now = self.now_unix();
        let deciding = !matches!(b.status, BundleStatus::PendingReview | BundleStatus::Draft)
            && matches!(from, BundleStatus::PendingReview | BundleStatus::InReview);
        let (submitted_at, deadline) = if deciding {
            let submitted = self.submitted_at(b)?;
            let allowed = self.deadlines().of(policy_of(b)?);
            (Some(submitted), Some(submitted.saturating_add(allowed)))
        } else {
            (None, None)
        };
        Ok(ReviewEntry {
            sid: new_sid(*b"RV"),
            bundle_sid: b.sid,
            account_sid: b.account_sid,
            policy_sid: b.policy_sid,
            from_status: from,
            to_status: b.status,
            decided_by,
            actor,
            reason: None,
            workflow_version: None,
            score: None,
            evaluation_sid: None,
            submitted_at: submitted_at.map(clock::rfc3339),
            deadline: deadline.map(clock::rfc3339),
            late: deadline.is_some_and(|d| now > d),
            date_created: clock::rfc3339(now),
        })
    }

    /// Counts a decision in the metrics.
    pub(super) fn decided(&self, to: BundleStatus, by: Decider, late: bool) {
        if let Some(m) = self.vetting.as_ref().and_then(|v| v.metrics.as_ref()) {
            m.vetting_decided(to, by, late);
        }
    }

    fn deadlines(&self) -> Deadlines {
        self.vetting
            .as_ref()
            .map_or_else(Deadlines::default, |v| v.deadlines)
    }

    /// When `b` was last submitted: its last review log entry into `pending-review`,
    /// else (a bundle submitted before the log existed) its last update.
    fn submitted_at(&self, b: &Bundle) -> Result<i64, HubError> {
        let log = self.store().review_log(Some(b.sid), Page::ALL)?;
        Ok(self.submitted_in(b, &log))
    }

    /// When bundle `b` was submitted, as its review log `log` says.
    fn submitted_in(&self, b: &Bundle, log: &[ReviewEntry]) -> i64 {
        let at = (log.iter().rev())
            .find(|e| e.to_status == BundleStatus::PendingReview)
            .map(|e| e.date_created.clone())
            .or_else(|| b.date_updated.clone());
        at.as_deref()
            .and_then(clock::parse_rfc3339)
            .unwrap_or_else(|| self.now_unix())
    }

    /// The bundles waiting for a decision (`pending-review` and `in-review`), soonest
    /// deadline first. The operator's.
    pub fn review_queue(&self, caller: &Caller) -> Result<Vec<Queued>, HubError> {
        caller.require_operator("read the review queue")?;
        let mut out = Vec::new();
        for kind in [BundleKind::CustomerProfile, BundleKind::TrustProduct] {
            for status in [BundleStatus::PendingReview, BundleStatus::InReview] {
                let query = BundleQuery {
                    status: Some(status),
                    ..BundleQuery::of(kind)
                };
                for bundle in self.store().bundles(&query, Page::ALL)? {
                    let policy = policy_of(&bundle)?;
                    let submitted_at = self.submitted_at(&bundle)?;
                    out.push(Queued {
                        deadline: submitted_at.saturating_add(self.deadlines().of(policy)),
                        submitted_at,
                        policy,
                        bundle,
                    });
                }
            }
        }
        out.sort_by_key(|q| (q.deadline, q.submitted_at));
        Ok(out)
    }

    /// The review log, oldest first: one bundle's, or everyone's. The operator's.
    pub fn review_log(
        &self,
        caller: &Caller,
        bundle: Option<Sid>,
        page: Page,
    ) -> Result<Vec<ReviewEntry>, HubError> {
        caller.require_operator("read the review log")?;
        Ok(self.store().review_log(bundle, page)?)
    }

    /// Runs the workflow of bundle `sid` if it still waits in `pending-review`, and
    /// commits the decision. `None` when there was nothing to decide.
    pub fn vet(&self, sid: Sid) -> Result<Option<Outcome>, HubError> {
        let Some(vetting) = self.vetting.clone() else {
            return Ok(None);
        };
        let Some(b) = self.store().bundle(sid)? else {
            return Ok(None);
        };
        if b.status != BundleStatus::PendingReview {
            return Ok(None);
        }
        let policy = policy_of(&b)?;
        let rules = vetting.rules();
        let verdict = match rules.of(policy) {
            Some(workflow) => {
                let gathered = self.gather(&vetting, &b, policy)?;
                let submission = Submission {
                    account: b.account_sid,
                    parties: as_parties(&gathered.parties),
                    account_numbers: gathered.family_numbers.clone(),
                    approved: gathered.approved.clone(),
                    identity: gathered.identity.clone(),
                    linked_profile: gathered.linked_profile,
                };
                Some(run::run(&rules, workflow, &submission))
            }
            None => None,
        };
        let guard = self.lock()?;
        let Some(mut b) = self.store().bundle(sid)? else {
            return Ok(None);
        };
        if b.status != BundleStatus::PendingReview {
            return Ok(None);
        }
        let mut verdict = verdict;
        if let (Some(v), Some(why)) = (verdict.as_mut(), self.dormant(&vetting, b.account_sid)?) {
            v.steps.push(run::StepResult {
                name: "account-activity".into(),
                check: "account_activity",
                on_fail: crate::vetting::workflow::OnFail::Review,
                weight: 0,
                status: run::StepStatus::Failed,
                failures: vec![crate::vetting::checks::Failure {
                    object_type: "account".into(),
                    field: "last_call".into(),
                    reason: why,
                }],
                detail: None,
            });
            if v.outcome == Outcome::Approve {
                v.outcome = Outcome::Review;
            }
        }
        let (mut outcome, reason) = match &verdict {
            Some(v) => (
                v.outcome,
                format!("workflow outcome {}, score {}", v.outcome.as_str(), v.score),
            ),
            None => (
                Outcome::Review,
                format!("no workflow for policy {}", policy.sid_str()),
            ),
        };
        // An approval never rests on a document refused since submission.
        if outcome == Outcome::Approve
            && self
                .check_submission(&b, policy, BundleStatus::TwilioApproved, true)
                .is_err()
        {
            outcome = Outcome::Review;
        }
        let now = self.now_text();
        let mut write = Write::default();
        let evaluation = verdict.as_ref().map(|v| Evaluation {
            sid: new_sid(*b"EL"),
            account_sid: b.account_sid,
            policy_sid: b.policy_sid,
            bundle_sid: b.sid,
            status: if outcome == Outcome::Approve {
                "compliant"
            } else {
                "noncompliant"
            }
            .into(),
            results: v.results(),
            date_created: now.clone(),
        });
        let from = b.status;
        b.status = match outcome {
            Outcome::Approve => BundleStatus::TwilioApproved,
            Outcome::Reject => BundleStatus::TwilioRejected,
            Outcome::Review => BundleStatus::InReview,
        };
        b.errors = verdict.as_ref().and_then(Verdict::errors);
        b.date_updated = Some(now);
        let mut entry = self.review_entry(
            &b,
            from,
            Decider::Workflow,
            format!("workflow {}", rules.version),
        )?;
        entry.reason = Some(reason);
        entry.workflow_version = Some(rules.version.clone());
        entry.score = verdict.as_ref().map(|v| v.score);
        entry.evaluation_sid = evaluation.as_ref().map(|e| e.sid);
        if let Some(e) = evaluation {
            write.changes.push(Change::PutEvaluation(e));
        }
        write.changes.push(Change::PutBundle(b.clone()));
        write.callbacks.extend(callback(&b));
        self.documents_follow(b.sid, b.status, &mut write)?;
        if policy == Policy::PrimaryCustomerProfile {
            self.automatic_product(&b, &mut write)?;
        }
        let late = entry.late;
        write.changes.push(Change::AppendReview(entry));
        self.commit(&guard, write)?;
        drop(guard);
        self.decided(b.status, Decider::Workflow, late);
        info!(bundle = %b.sid, account = %b.account_sid, outcome = outcome.as_str(), version = %rules.version, "vetting decision");
        Ok(Some(outcome))
    }

    /// Why `account` is dormant, if it is: no call for longer than the dormancy period
    /// since its last call or, without one, since it was created.
    fn dormant(&self, vetting: &Vetting, account: Sid) -> Result<Option<String>, HubError> {
        let Some(after) = vetting.dormant_after else {
            return Ok(None);
        };
        let now = self.now_unix();
        let last_call = self.last_call(account)?;
        let since = match last_call {
            Some(t) => t,
            None => (self.store().account(account)?)
                .and_then(|a| a.date_created)
                .as_deref()
                .and_then(clock::parse_rfc3339)
                .unwrap_or(now),
        };
        if now - since <= after {
            return Ok(None);
        }
        let days = (now - since) / 86_400;
        Ok(Some(match last_call {
            Some(_) => format!(
                "The account has made no call for {days} days: dormant accounts are reviewed by the operator"
            ),
            None => format!(
                "The account has made no call in the {days} days since it was created: dormant accounts are reviewed by the operator"
            ),
        }))
    }

    /// The calls this node counts for the console's charts
    /// ([`crate::metrics::calls::CallStats`]): where the last calls come from.
    fn calls(&self) -> Option<&crate::metrics::calls::CallStats> {
        let metrics = self.vetting.as_ref()?.metrics.as_ref()?;
        Some(&metrics.calls)
    }

    /// The minute of `account`'s last signed call: this node's, or the store's.
    pub fn last_call(&self, account: Sid) -> Result<Option<i64>, HubError> {
        let stored = self.store().last_activity(account)?;
        Ok(stored.max(self.calls().and_then(|c| c.last_call(account))))
    }

    /// Writes the accounts' last calls since the last write to the store (the store
    /// keeps the later time); what the store cannot take is written the next time.
    pub fn flush_activity(&self) -> Result<(), HubError> {
        let (Some(vetting), Some(calls)) = (&self.vetting, self.calls()) else {
            return Ok(());
        };
        // The minute written last may have had more calls since: it is written again.
        let since = vetting.flushed.load(std::sync::atomic::Ordering::Acquire);
        let (last, latest) = calls.last_calls_since(since);
        self.store().record_activity(&last)?;
        if let Some(latest) = latest {
            vetting
                .flushed
                .store(latest, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }

    /// Reads what the checks of `b` look at.
    fn gather(&self, vetting: &Vetting, b: &Bundle, policy: Policy) -> Result<Gathered, HubError> {
        let store = self.store();
        let family = self.family(b.account_sid)?;
        // A trust product's parties are those of the customer profile it rests on.
        let mut linked_profile = None;
        let mut holder = b.sid;
        for a in store.entity_assignments(Some(b.sid), None, Page::ALL)? {
            if let Some(linked) = store.bundle(a.object_sid)?
                && let Some(p) = Policy::from_sid(linked.policy_sid)
                && p.is_customer_profile()
            {
                let approved = linked.status == BundleStatus::TwilioApproved
                    && linked
                        .valid_until
                        .is_none_or(|t| t.unix_timestamp() > self.now_unix());
                linked_profile = Some((linked.sid, approved));
                if policy == Policy::ShakenStir {
                    holder = linked.sid;
                }
            }
        }
        let parties = self.end_users_of(holder)?;
        let mut family_numbers = Vec::new();
        let mut identity = Vec::new();
        for (end_user_type, attributes) in &parties {
            if !is_representative(end_user_type) {
                continue;
            }
            let phone = text(attributes, "phone_number")
                .and_then(|p| crate::tn::canonicalize(&p, self.numbering()).ok())
                .map(|tn| format!("+{tn}"));
            let Some(phone) = phone else {
                identity.push((end_user_type.clone(), Ok(None)));
                continue;
            };
            if let Some(n) = store.number_by_e164(&phone)?
                && family.contains(&n.account_sid)
            {
                family_numbers.push(phone.clone());
            }
            let matched = vetting
                .provider()
                .records(&phone)
                .map(|records| Some(identity::best(&identity_query(attributes), &records)))
                .map_err(|e| e.to_string());
            identity.push((end_user_type.clone(), matched));
        }
        Ok(Gathered {
            approved: self.approved_profiles(vetting, &family, &parties)?,
            parties,
            family_numbers,
            identity,
            linked_profile,
        })
    }

    /// The account and its parent and siblings, or its sub-accounts.
    fn family(&self, account: Sid) -> Result<Vec<Sid>, HubError> {
        let root = self.parent_of(account).unwrap_or(account);
        let subs = AccountQuery {
            parent: Some(root),
            ..AccountQuery::default()
        };
        let mut family = vec![root];
        family.extend(
            self.store()
                .accounts(&subs, Page::ALL)?
                .iter()
                .map(|a| a.sid),
        );
        Ok(family)
    }

    /// The end users attached to bundle `sid`: type and attributes.
    fn end_users_of(&self, sid: Sid) -> Result<Vec<(String, Attributes)>, HubError> {
        let mut out = Vec::new();
        for a in self
            .store()
            .entity_assignments(Some(sid), None, Page::ALL)?
        {
            if a.object_sid.is("IT")
                && let Some(u) = self.store().end_user(a.object_sid)?
            {
                let attributes = match u.attributes {
                    Value::Object(map) => map,
                    _ => Attributes::new(),
                };
                out.push((u.end_user_type, attributes));
            }
        }
        Ok(out)
    }

    /// The approved customer profiles outside `family` that share a registration
    /// number, email or phone number with `parties`: the only ones the duplicate checks
    /// can find.
    fn approved_profiles(
        &self,
        vetting: &Vetting,
        family: &[Sid],
        parties: &[(String, Attributes)],
    ) -> Result<Vec<ApprovedProfile>, HubError> {
        let mut index = vetting.approved.lock().unwrap_or_else(|p| p.into_inner());
        if !index.built {
            let query = BundleQuery {
                status: Some(BundleStatus::TwilioApproved),
                ..BundleQuery::of(BundleKind::CustomerProfile)
            };
            *index = ApprovedIndex::default();
            for b in self.store().bundles(&query, Page::ALL)? {
                let parties = self.end_users_of(b.sid)?;
                index.insert(ApprovedProfile::of(
                    b.account_sid,
                    b.sid,
                    &as_parties(&parties),
                ));
            }
            index.built = true;
        }
        let mut out: Vec<ApprovedProfile> = Vec::new();
        for key in duplicate_keys(&as_parties(parties)) {
            for bundle in index.by_key.get(&key).into_iter().flatten() {
                if let Some(p) = index.profiles.get(bundle)
                    && !family.contains(&p.account)
                    && !out.iter().any(|o| o.bundle == p.bundle)
                {
                    out.push(p.clone());
                }
            }
        }
        Ok(out)
    }

    /// Keeps the index of approved profiles current with a write this node committed,
    /// or marks it for a rebuild (another node's writes, a reload: `changes` `None`).
    pub(super) fn follow_approvals(&self, changes: Option<&[Change]>) {
        let Some(vetting) = &self.vetting else {
            return;
        };
        let mut index = vetting.approved.lock().unwrap_or_else(|p| p.into_inner());
        if !index.built {
            return;
        }
        let Some(changes) = changes else {
            index.built = false;
            return;
        };
        for change in changes {
            match change {
                Change::PutBundle(b)
                    if Policy::from_sid(b.policy_sid).is_some_and(Policy::is_customer_profile) =>
                {
                    index.remove(b.sid);
                    if b.status == BundleStatus::TwilioApproved {
                        match self.end_users_of(b.sid) {
                            Ok(parties) => index.insert(ApprovedProfile::of(
                                b.account_sid,
                                b.sid,
                                &as_parties(&parties),
                            )),
                            Err(_) => index.built = false,
                        }
                    }
                }
                Change::DeleteBundle(b) => index.remove(b.sid),
                // An end user or link of an approved profile changing: read them again.
                // Most are a new profile's, which cannot change an approved one (whose
                // end users are locked, and which cannot be linked to); an end user
                // is deleted only once no bundle holds it.
                Change::DeleteEntityAssignment(a) if index.profiles.contains_key(&a.bundle_sid) => {
                    index.built = false
                }
                Change::PutEndUser(u) => match self.bundles_holding(u.sid) {
                    Ok(held) if !held.iter().any(|b| index.profiles.contains_key(b)) => {}
                    _ => index.built = false,
                },
                _ => {}
            }
        }
    }
}

/// Approved customer profiles, by SID and by the keys the duplicate checks compare.
#[derive(Debug, Default)]
pub(super) struct ApprovedIndex {
    built: bool,
    profiles: std::collections::HashMap<Sid, ApprovedProfile>,
    by_key: std::collections::HashMap<DuplicateKey, std::collections::HashSet<Sid>>,
}

impl ApprovedIndex {
    fn insert(&mut self, p: ApprovedProfile) {
        for key in p.keys() {
            self.by_key.entry(key).or_default().insert(p.bundle);
        }
        self.profiles.insert(p.bundle, p);
    }

    fn remove(&mut self, bundle: Sid) {
        if let Some(p) = self.profiles.remove(&bundle) {
            for key in p.keys() {
                if let Some(set) = self.by_key.get_mut(&key) {
                    set.remove(&bundle);
                    if set.is_empty() {
                        self.by_key.remove(&key);
                    }
                }
            }
        }
    }
}

/// `(type, attributes)` pairs as the checks take them.
fn as_parties(parties: &[(String, Attributes)]) -> Vec<Party<'_>> {
    (parties.iter())
        .map(|(t, a)| Party {
            end_user_type: t,
            attributes: a,
        })
        .collect()
}

/// How often the review queue's gauges are refreshed.
const QUEUE_METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

impl Hub {
    /// Sets the review queue's gauges from the queue as it stands.
    pub fn refresh_queue_metrics(&self) -> Result<(), HubError> {
        let Some(metrics) = self.vetting.as_ref().and_then(|v| v.metrics.clone()) else {
            return Ok(());
        };
        let queue = self.review_queue(&Caller::Operator)?;
        let now = self.now_unix();
        let oldest = queue.iter().map(|q| q.submitted_at).min();
        let overdue = queue.iter().filter(|q| now > q.deadline).count();
        metrics.vetting_queue(queue.len(), oldest.map_or(0, |t| now - t), overdue);
        Ok(())
    }
}

/// Starts the worker that runs the workflows of submitted bundles, one at a time, off
/// the runtime's threads, and keeps the review queue's gauges current. Bundles left in
/// `pending-review` (a restart between a submission and its decision) are queued
/// first.
pub fn start_worker(hub: Arc<Hub>, tasks: &TaskTracker, shutdown: CancellationToken) {
    let Some(vetting) = hub.vetting.clone() else {
        return;
    };
    let (h, stop) = (Arc::clone(&hub), shutdown.clone());
    tasks.spawn(async move {
        let mut every = tokio::time::interval(QUEUE_METRICS_EVERY);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = every.tick() => {}
            }
            let h = Arc::clone(&h);
            let done = tokio::task::spawn_blocking(move || {
                (h.refresh_queue_metrics(), h.flush_activity())
            })
            .await;
            if let Ok((queue, activity)) = done {
                if let Err(e) = queue {
                    warn!(error = %e, "cannot read the review queue for its metrics");
                }
                if let Err(e) = activity {
                    warn!(error = %e, "cannot record accounts' last calls; kept for the next try");
                }
            }
        }
    });
    if !vetting.automatic {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    *vetting.queue.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx.clone());
    for kind in [BundleKind::CustomerProfile, BundleKind::TrustProduct] {
        let query = BundleQuery {
            status: Some(BundleStatus::PendingReview),
            ..BundleQuery::of(kind)
        };
        match hub.store().bundles(&query, Page::ALL) {
            Ok(waiting) => {
                for b in waiting {
                    let _ = tx.send(b.sid);
                }
            }
            Err(e) => warn!(error = %e, "cannot list the bundles waiting for vetting"),
        }
    }
    tasks.spawn(async move {
        loop {
            let sid = tokio::select! {
                _ = shutdown.cancelled() => break,
                sid = rx.recv() => match sid { Some(s) => s, None => break },
            };
            let hub = hub.clone();
            match tokio::task::spawn_blocking(move || hub.vet(sid)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => warn!(bundle = %sid, error = %e, "vetting failed; the bundle stays in pending-review"),
                Err(e) => warn!(bundle = %sid, error = %e, "vetting panicked; the bundle stays in pending-review"),
            }
        }
    });
}

/// What the operator reviews of one bundle.
#[derive(Debug, Clone)]
pub struct ReviewDetail {
    pub bundle: Bundle,
    pub policy: Policy,
    /// Its end users (a trust product: its own, if any).
    pub end_users: Vec<crate::trust::EndUser>,
    /// Its supporting documents.
    pub documents: Vec<crate::trust::SupportingDocument>,
    /// The customer profiles it is linked to.
    pub linked: Vec<Bundle>,
    /// Its latest evaluation.
    pub evaluation: Option<Evaluation>,
    /// Its review log.
    pub log: Vec<ReviewEntry>,
    /// When it was submitted and its deadline (Unix seconds), while it waits.
    pub waiting: Option<(i64, i64)>,
}

impl Hub {
    /// Everything about bundle `sid` the operator reviews. The operator's.
    pub fn review_detail(&self, caller: &Caller, sid: Sid) -> Result<ReviewDetail, HubError> {
        caller.require_operator("review bundles")?;
        let missing = || HubError::NotFound(crate::trusthub::Missing::Bundle(sid));
        let bundle = self.store().bundle(sid)?.ok_or_else(missing)?;
        let policy = policy_of(&bundle)?;
        let mut out = ReviewDetail {
            policy,
            end_users: Vec::new(),
            documents: Vec::new(),
            linked: Vec::new(),
            evaluation: self.store().evaluations(sid, Page::ALL)?.pop(),
            log: self.store().review_log(Some(sid), Page::ALL)?,
            waiting: None,
            bundle,
        };
        for a in self
            .store()
            .entity_assignments(Some(sid), None, Page::ALL)?
        {
            let sid = a.object_sid;
            if sid.is("IT") {
                out.end_users.extend(self.store().end_user(sid)?);
            } else if sid.is("RD") {
                out.documents.extend(self.store().supporting_document(sid)?);
            } else if let Some(b) = self.store().bundle(sid)? {
                out.linked.push(b);
            }
        }
        if matches!(
            out.bundle.status,
            BundleStatus::PendingReview | BundleStatus::InReview
        ) {
            let submitted = self.submitted_in(&out.bundle, &out.log);
            out.waiting = Some((submitted, submitted + self.deadlines().of(policy)));
        }
        Ok(out)
    }
}
