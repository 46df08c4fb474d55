//! `/v1/CustomerProfiles` and `/v1/TrustProducts`: create, fetch, list, update (status
//! transitions and, for the operator, review decisions) and delete, plus the automatic
//! SHAKEN/STIR trust product of an approved Primary profile.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::callbacks::StatusChange;
use super::error::ApiError;
use super::hub::{Caller, Hub, IndexOp, Write, new_sid};
use super::numbers::e164;
use super::render::{self, Kind};
use super::request::{ApiRequest, parse_sid};
use super::review::{self, Attached, TransitionError};
use super::routes::{Reply, run};
use crate::store::{BundleQuery, Change, Page};
use crate::tn::Tn;
use crate::trust::{
    Bundle, BundleStatus, ChannelEndpointAssignment, EntityAssignment, Policy, Sid,
};

/// The policy of a stored bundle.
pub fn policy_of(b: &Bundle) -> Result<Policy, ApiError> {
    Policy::from_sid(b.policy_sid)
        .ok_or_else(|| ApiError::Internal(format!("bundle {} has an unknown policy", b.sid)))
}

/// The bundle named by a path, if it is of `kind` and the caller may see it.
pub fn visible(hub: &Hub, caller: &Caller, kind: Kind, sid: &str) -> Result<Bundle, ApiError> {
    let parsed = parse_sid("Sid", sid, "BU")?;
    let not_found = || ApiError::NotFound(format!("/v1/{}/{sid}", kind.collection()));
    let b = hub.store.bundle(parsed)?.ok_or_else(not_found)?;
    if !hub.sees(caller, b.account_sid) || !kind.holds(policy_of(&b)?) {
        return Err(not_found());
    }
    Ok(b)
}

/// A 60711 unless the bundle's contents may change.
pub fn require_editable(b: &Bundle) -> Result<(), ApiError> {
    if review::editable(b.status) {
        Ok(())
    } else {
        Err(ApiError::NotEditable {
            sid: b.sid.to_string(),
            status: status_text(b.status),
        })
    }
}

pub fn status_text(s: BundleStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_status(s: &str) -> Result<BundleStatus, ApiError> {
    serde_json::from_value(json!(s)).map_err(|_| {
        ApiError::invalid(format!(
            "Status must be draft, pending-review, in-review, twilio-approved or twilio-rejected, got {s:?}"
        ))
    })
}

/// The canonical number of a `PN…`, for index updates.
pub fn number_tn(hub: &Hub, pn: Sid) -> Result<Tn, ApiError> {
    let n = hub
        .store
        .number(pn)?
        .ok_or_else(|| ApiError::invalid(format!("Unknown phone number {pn}")))?;
    Ok(e164(&n.phone_number)?.0)
}

/// What is attached to a bundle, for its evaluation.
pub fn attached(hub: &Hub, b: &Bundle) -> Result<Attached, ApiError> {
    let mut out = Attached::default();
    for a in hub.store.entity_assignments(Some(b.sid), None, Page::ALL)? {
        if a.object_sid.is("IT") {
            if let Some(u) = hub.store.end_user(a.object_sid)? {
                out.end_users.push((u.sid, u.end_user_type));
            }
        } else if let Some(linked) = hub.store.bundle(a.object_sid)? {
            out.bundles.push((linked.sid, policy_of(&linked)?));
        }
    }
    Ok(out)
}

fn index_op(b: &Bundle, policy: Policy) -> IndexOp {
    IndexOp::Bundle {
        sid: b.sid,
        account: b.account_sid,
        policy,
        status: b.status,
        valid_until: b.valid_until.map(|t| t.unix_timestamp()),
    }
}

fn callback(b: &Bundle) -> Option<StatusChange> {
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

pub(super) async fn create(State(hub): State<Arc<Hub>>, req: ApiRequest, kind: Kind) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(
            &["FriendlyName", "Email", "PolicySid", "StatusCallback"],
            false,
        )?;
        let account = caller.account()?;
        let friendly_name = p.required("FriendlyName")?.to_owned();
        let email = p.required("Email")?.to_owned();
        let policy_sid = p
            .sid("PolicySid", "RN")?
            .ok_or_else(|| ApiError::invalid("Required parameter PolicySid is missing"))?;
        let policy = Policy::from_sid(policy_sid)
            .filter(|p| kind.holds(*p))
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "PolicySid {policy_sid} is not a {} policy; see /v1/Policies",
                    match kind {
                        Kind::Profile => "customer profile",
                        Kind::Product => "trust product",
                    }
                ))
            })?;
        let now = render::iso(hub.now_unix());
        let bundle = Bundle {
            sid: new_sid("BU")?,
            account_sid: account,
            policy_sid,
            status: BundleStatus::Draft,
            valid_until: None,
            friendly_name: Some(friendly_name),
            email: Some(email),
            status_callback: p.get("StatusCallback").map(str::to_owned),
            errors: None,
            date_created: Some(now.clone()),
            date_updated: Some(now),
            url: None,
            links: None,
        };
        let guard = hub.lock();
        hub.commit(
            &guard,
            Write {
                changes: vec![Change::PutBundle(bundle.clone())],
                ops: vec![index_op(&bundle, policy)],
                callbacks: Vec::new(),
            },
        )?;
        Ok(Reply::Created(render::bundle(&req.base_url, kind, &bundle)))
    })
    .await
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, req: ApiRequest, kind: Kind) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["Status", "FriendlyName", "PolicySid"], true)?;
        let page = p.page()?;
        if let Some(s) = p.get("Status") {
            parse_status(s)?;
        }
        let query = BundleQuery {
            accounts: hub.list_scope(caller),
            profiles: kind == Kind::Profile,
            status: p.get("Status").map(str::to_owned),
            friendly_name: p.get("FriendlyName").map(str::to_owned),
            policy_sid: p.sid("PolicySid", "RN")?,
        };
        let rows = hub.store.bundles(&query, render::store_page(page))?;
        let path = format!("/v1/{}", kind.collection());
        Ok(Reply::Ok(render::v1_list(
            req,
            &path,
            page,
            &rows,
            |base, b| render::bundle(base, kind, b),
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let b = visible(hub, caller, kind, &sid)?;
        Ok(Reply::Ok(render::bundle(&req.base_url, kind, &b)))
    })
    .await
}

pub(super) async fn update(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(
            &[
                "Status",
                "StatusCallback",
                "FriendlyName",
                "Email",
                "ValidUntil",
                "Errors",
            ],
            false,
        )?;
        let guard = hub.lock();
        let mut b = visible(hub, caller, kind, &sid)?;
        let policy = policy_of(&b)?;
        let operator = caller.is_operator();
        if !operator && (p.get("ValidUntil").is_some() || p.get("Errors").is_some()) {
            return Err(ApiError::Forbidden(
                "Only the operator may set ValidUntil or Errors".into(),
            ));
        }
        let edits = [
            ("FriendlyName", &mut b.friendly_name),
            ("Email", &mut b.email),
            ("StatusCallback", &mut b.status_callback),
        ];
        let mut edited = false;
        for (name, field) in edits {
            if let Some(v) = p.get(name)
                && field.as_deref() != Some(v)
            {
                *field = Some(v.to_owned());
                edited = true;
            }
        }
        if edited {
            require_editable(&b)?;
        }
        let from = b.status;
        let to = p
            .get("Status")
            .map(parse_status)
            .transpose()?
            .unwrap_or(from);
        if to != from {
            transition(hub, &b, policy, to, operator)?;
            b.status = to;
        }
        if p.get("ValidUntil").is_some() {
            b.valid_until = p.datetime("ValidUntil")?;
        }
        if let Some(errors) = p.get("Errors") {
            b.errors = if errors.is_empty() {
                None
            } else {
                Some(
                    serde_json::from_str(errors)
                        .map_err(|e| ApiError::invalid(format!("Errors must be JSON: {e}")))?,
                )
            };
        }
        b.date_updated = Some(render::iso(hub.now_unix()));
        let mut write = Write {
            changes: vec![Change::PutBundle(b.clone())],
            ops: vec![index_op(&b, policy)],
            callbacks: Vec::new(),
        };
        if to != from {
            write.callbacks.extend(callback(&b));
        }
        if policy == Policy::PrimaryCustomerProfile {
            automatic_product(hub, &b, &mut write)?;
        }
        hub.commit(&guard, write)?;
        Ok(Reply::Ok(render::bundle(&req.base_url, kind, &b)))
    })
    .await
}

/// Checks a status change of `b` to `to`; a submission must also be compliant.
fn transition(
    hub: &Hub,
    b: &Bundle,
    policy: Policy,
    to: BundleStatus,
    operator: bool,
) -> Result<(), ApiError> {
    review::check_transition(b.status, to, operator).map_err(|e| match e {
        TransitionError::OperatorOnly(s) => ApiError::Forbidden(format!(
            "Only the operator may set status {}",
            status_text(s)
        )),
        TransitionError::Illegal(f, t) => ApiError::invalid(format!(
            "Status: bundle {} cannot go from {} to {}",
            b.sid,
            status_text(f),
            status_text(t)
        )),
    })?;
    if to == BundleStatus::PendingReview {
        let (compliant, results) = review::evaluate(policy, &attached(hub, b)?);
        if !compliant {
            let missing: Vec<&str> = results
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["failure_reason"].as_str())
                .collect();
            return Err(ApiError::invalid(format!(
                "Bundle {} is noncompliant and cannot be submitted: {}",
                b.sid,
                missing.join("; ")
            )));
        }
    }
    Ok(())
}

/// Creates (on first approval) or keeps in step the automatic SHAKEN/STIR trust product
/// of Primary profile `primary`.
fn automatic_product(hub: &Hub, primary: &Bundle, write: &mut Write) -> Result<(), ApiError> {
    let auto = review::automatic_product_sid(primary.sid);
    if let Some(mut product) = hub.store.bundle(auto)? {
        if product.status != primary.status || product.valid_until != primary.valid_until {
            product.status = primary.status;
            product.valid_until = primary.valid_until;
            product.date_updated = primary.date_updated.clone();
            write.ops.push(index_op(&product, Policy::ShakenStir));
            write.changes.push(Change::PutBundle(product));
        }
        return Ok(());
    }
    if primary.status != BundleStatus::TwilioApproved {
        return Ok(());
    }
    for link in hub
        .store
        .entity_assignments(None, Some(primary.sid), Page::ALL)?
    {
        let linked = hub.store.bundle(link.bundle_sid)?;
        if linked.is_some_and(|b| Policy::from_sid(b.policy_sid) == Some(Policy::ShakenStir)) {
            return Ok(());
        }
    }
    let product = Bundle {
        sid: auto,
        account_sid: primary.account_sid,
        policy_sid: Sid::parse_any(Policy::ShakenStir.sid_str())
            .map_err(|e| ApiError::Internal(e.to_string()))?,
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
        sid: new_sid("BV")?,
        bundle_sid: auto,
        object_sid: primary.sid,
        account_sid: Some(primary.account_sid),
        date_created: primary.date_updated.clone(),
        url: None,
    };
    write.ops.push(index_op(&product, Policy::ShakenStir));
    write.ops.push(IndexOp::Link {
        assignment: link.sid,
        bundle: auto,
        object: primary.sid,
    });
    write.changes.push(Change::PutBundle(product));
    write.changes.push(Change::PutEntityAssignment(link));
    for a in hub
        .store
        .channel_endpoint_assignments(Some(primary.sid), &[], Page::ALL)?
    {
        if on_a_product(hub, a.channel_endpoint_sid)? {
            continue;
        }
        let copy = ChannelEndpointAssignment {
            sid: new_sid("RA")?,
            bundle_sid: auto,
            date_created: primary.date_updated.clone(),
            ..a
        };
        write.ops.push(IndexOp::Assign(
            number_tn(hub, copy.channel_endpoint_sid)?,
            auto,
        ));
        write
            .changes
            .push(Change::PutChannelEndpointAssignment(copy));
    }
    Ok(())
}

/// Whether a number is already assigned to some trust product.
pub fn on_a_product(hub: &Hub, pn: Sid) -> Result<bool, ApiError> {
    for a in hub
        .store
        .channel_endpoint_assignments(None, &[pn], Page::ALL)?
    {
        if let Some(b) = hub.store.bundle(a.bundle_sid)?
            && policy_of(&b)? == Policy::ShakenStir
        {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) async fn delete(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let guard = hub.lock();
        let b = visible(hub, caller, kind, &sid)?;
        if !caller.is_operator() {
            require_editable(&b)?;
        }
        let mut write = Write::default();
        for a in hub
            .store
            .channel_endpoint_assignments(Some(b.sid), &[], Page::ALL)?
        {
            write.ops.push(IndexOp::Unassign(
                number_tn(hub, a.channel_endpoint_sid)?,
                b.sid,
            ));
            write
                .changes
                .push(Change::DeleteChannelEndpointAssignment(a.sid));
        }
        let links = hub
            .store
            .entity_assignments(Some(b.sid), None, Page::ALL)?
            .into_iter()
            .chain(hub.store.entity_assignments(None, Some(b.sid), Page::ALL)?);
        for a in links {
            write.ops.push(IndexOp::Unlink {
                bundle: a.bundle_sid,
                object: a.object_sid,
            });
            write.changes.push(Change::DeleteEntityAssignment(a.sid));
        }
        write.changes.push(Change::DeleteBundle(b.sid));
        write.ops.push(IndexOp::RemoveBundle(b.sid));
        hub.commit(&guard, write)?;
        Ok(Reply::NoContent)
    })
    .await
}
