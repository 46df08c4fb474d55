//! `EntityAssignments` and `ChannelEndpointAssignments` under a customer profile or trust
//! product, with the assignment rules: a trust product links to a customer profile, a
//! Secondary profile to its parent account's Primary, a bundle to its account's end
//! users; a number goes on a trust product only after it is on a linked profile.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;

use super::bundles::{number_tn, on_a_product, policy_of, require_editable, visible};
use super::error::ApiError;
use super::hub::{Hub, IndexOp, Write, new_sid};
use super::render::{self, Kind};
use super::request::{ApiRequest, parse_sid};
use super::review;
use super::routes::{Reply, run};
use super::subresources::{self, Subresource, list_reply};
use crate::store::{Change, Page};
use crate::trust::{Bundle, ChannelEndpointAssignment, EntityAssignment, Policy, Sid};

/// Why `object` cannot be linked to `bundle`, if it cannot.
fn check_link(hub: &Hub, bundle: &Bundle, object: Sid) -> Result<(), ApiError> {
    let policy = policy_of(bundle)?;
    if object.is("IT") {
        let user = hub
            .store
            .end_user(object)?
            .ok_or_else(|| ApiError::invalid(format!("ObjectSid: unknown end user {object}")))?;
        if user.account_sid != bundle.account_sid {
            return Err(ApiError::invalid(format!(
                "ObjectSid: end user {object} belongs to another account"
            )));
        }
        return Ok(());
    }
    if !object.is("BU") {
        return Err(ApiError::invalid(format!(
            "ObjectSid: {object} is neither an end user (IT…) nor a bundle (BU…)"
        )));
    }
    let target = hub
        .store
        .bundle(object)?
        .ok_or_else(|| ApiError::invalid(format!("ObjectSid: unknown bundle {object}")))?;
    let parent = hub.parent_of(bundle.account_sid);
    let target_policy = policy_of(&target)?;
    match policy {
        Policy::ShakenStir => {
            let same_or_parent =
                target.account_sid == bundle.account_sid || Some(target.account_sid) == parent;
            if !target_policy.is_customer_profile() || !same_or_parent {
                return Err(ApiError::invalid(
                    "ObjectSid: a trust product links to a customer profile of its own account or its parent account",
                ));
            }
        }
        Policy::SecondaryCustomerProfile => {
            if parent.is_none() {
                return Err(ApiError::invalid(
                    "ObjectSid: a Secondary profile belongs to a sub-account and links to its parent account's Primary profile",
                ));
            }
            if target_policy != Policy::PrimaryCustomerProfile || Some(target.account_sid) != parent
            {
                return Err(ApiError::invalid(
                    "ObjectSid: a Secondary profile links only to its parent account's Primary profile",
                ));
            }
        }
        Policy::PrimaryCustomerProfile => {
            return Err(ApiError::invalid(
                "ObjectSid: a Primary profile links to end users, not to other bundles",
            ));
        }
    }
    Ok(())
}

pub(super) async fn create_entity(
    State(hub): State<Arc<Hub>>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&["ObjectSid"], false)?;
        let object = Sid::parse_any(req.params.required("ObjectSid")?)
            .map_err(|e| ApiError::invalid(format!("ObjectSid: {e}")))?;
        let guard = hub.lock();
        let b = visible(hub, caller, kind, &bundle)?;
        require_editable(&b)?;
        check_link(hub, &b, object)?;
        if !hub
            .store
            .entity_assignments(Some(b.sid), Some(object), Page::ALL)?
            .is_empty()
        {
            return Err(ApiError::invalid(format!(
                "ObjectSid: {object} is already assigned to {}",
                b.sid
            )));
        }
        let a = EntityAssignment {
            sid: new_sid("BV")?,
            bundle_sid: b.sid,
            object_sid: object,
            account_sid: Some(b.account_sid),
            date_created: Some(render::iso(hub.now_unix())),
            url: None,
        };
        hub.commit(
            &guard,
            Write {
                changes: vec![Change::PutEntityAssignment(a.clone())],
                ops: vec![IndexOp::Link {
                    assignment: a.sid,
                    bundle: b.sid,
                    object,
                }],
                callbacks: Vec::new(),
            },
        )?;
        Ok(Reply::Created(a.render(&req.base_url, kind)))
    })
    .await
}

/// Twilio's `ObjectType` filter values, by SID kind.
fn object_type_matches(object: Sid, object_type: &str) -> bool {
    match object_type {
        "end_user" | "customer_profile_business_information" | "authorized_representative_1" => {
            object.is("IT")
        }
        "customer_profile" | "trust_product" | "bundle" => object.is("BU"),
        "supporting_document" => object.is("RD"),
        _ => false,
    }
}

pub(super) async fn list_entities(
    State(hub): State<Arc<Hub>>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["ObjectType"], true)?;
        let page = p.page()?;
        let b = visible(hub, caller, kind, &bundle)?;
        let store_page = match p.get("ObjectType") {
            Some(_) => Page::ALL,
            None => render::store_page(page),
        };
        let mut rows = hub
            .store
            .entity_assignments(Some(b.sid), None, store_page)?;
        if let Some(t) = p.get("ObjectType") {
            rows.retain(|a| object_type_matches(a.object_sid, t));
            let start = page.page.saturating_mul(page.size).min(rows.len());
            rows.drain(..start);
            rows.truncate(page.size + 1);
        }
        Ok(list_reply(req, kind, b.sid, page, &rows))
    })
    .await
}

pub(super) async fn delete_entity(
    State(hub): State<Arc<Hub>>,
    Path((bundle, sid)): Path<(String, String)>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let guard = hub.lock();
        let (b, a) = subresources::visible::<EntityAssignment>(hub, caller, kind, &bundle, &sid)?;
        require_editable(&b)?;
        hub.commit(
            &guard,
            Write {
                changes: vec![Change::DeleteEntityAssignment(a.sid)],
                ops: vec![IndexOp::Unlink {
                    bundle: a.bundle_sid,
                    object: a.object_sid,
                }],
                callbacks: Vec::new(),
            },
        )?;
        Ok(Reply::NoContent)
    })
    .await
}

/// Why number `pn` cannot go on `bundle`, if it cannot.
fn check_number(hub: &Hub, bundle: &Bundle, pn: Sid) -> Result<(), ApiError> {
    let number = hub.store.number(pn)?.ok_or_else(|| {
        ApiError::invalid(format!("ChannelEndpointSid: unknown phone number {pn}"))
    })?;
    let owner_ok = number.account_sid == bundle.account_sid
        || hub.parent_of(number.account_sid) == Some(bundle.account_sid);
    if !owner_ok {
        return Err(ApiError::invalid(format!(
            "ChannelEndpointSid: {pn} belongs to another account"
        )));
    }
    let policy = policy_of(bundle)?;
    for existing in hub
        .store
        .channel_endpoint_assignments(None, &[pn], Page::ALL)?
    {
        if let Some(on) = hub.store.bundle(existing.bundle_sid)?
            && policy_of(&on)?.is_customer_profile() == policy.is_customer_profile()
        {
            return Err(ApiError::invalid(format!(
                "ChannelEndpointSid: {pn} is already assigned to {}",
                on.sid
            )));
        }
    }
    if policy == Policy::ShakenStir {
        let profiles: Vec<Sid> = hub
            .store
            .entity_assignments(Some(bundle.sid), None, Page::ALL)?
            .into_iter()
            .map(|a| a.object_sid)
            .filter(|s| s.is("BU"))
            .collect();
        let on_profile = !profiles.is_empty()
            && !hub
                .store
                .channel_endpoint_assignments(None, &[pn], Page::ALL)?
                .iter()
                .all(|a| !profiles.contains(&a.bundle_sid));
        if !on_profile {
            return Err(ApiError::invalid(format!(
                "ChannelEndpointSid: assign {pn} to the customer profile linked to {} first",
                bundle.sid
            )));
        }
    }
    Ok(())
}

pub(super) async fn create_endpoint(
    State(hub): State<Arc<Hub>>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["ChannelEndpointType", "ChannelEndpointSid"], false)?;
        let channel_type = p.required("ChannelEndpointType")?;
        if channel_type != "phone-number" {
            return Err(ApiError::invalid(format!(
                "ChannelEndpointType must be phone-number, got {channel_type:?}"
            )));
        }
        let pn = parse_sid(
            "ChannelEndpointSid",
            p.required("ChannelEndpointSid")?,
            "PN",
        )?;
        let guard = hub.lock();
        let b = visible(hub, caller, kind, &bundle)?;
        check_number(hub, &b, pn)?;
        let tn = number_tn(hub, pn)?;
        let now = render::iso(hub.now_unix());
        let a = ChannelEndpointAssignment {
            sid: new_sid("RA")?,
            bundle_sid: b.sid,
            channel_endpoint_sid: pn,
            channel_endpoint_type: channel_type.to_owned(),
            account_sid: Some(b.account_sid),
            date_created: Some(now.clone()),
            url: None,
        };
        let mut write = Write {
            changes: vec![Change::PutChannelEndpointAssignment(a.clone())],
            ops: vec![IndexOp::Assign(tn, b.sid)],
            callbacks: Vec::new(),
        };
        // Numbers on a Primary profile follow it onto its automatic trust product.
        let auto = review::automatic_product_sid(b.sid);
        if policy_of(&b)? == Policy::PrimaryCustomerProfile
            && hub.store.bundle(auto)?.is_some()
            && !on_a_product(hub, pn)?
        {
            let copy = ChannelEndpointAssignment {
                sid: new_sid("RA")?,
                bundle_sid: auto,
                ..a.clone()
            };
            write
                .changes
                .push(Change::PutChannelEndpointAssignment(copy));
            write.ops.push(IndexOp::Assign(tn, auto));
        }
        hub.commit(&guard, write)?;
        Ok(Reply::Created(a.render(&req.base_url, kind)))
    })
    .await
}

pub(super) async fn list_endpoints(
    State(hub): State<Arc<Hub>>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["ChannelEndpointSid", "ChannelEndpointSids"], true)?;
        let page = p.page()?;
        let b = visible(hub, caller, kind, &bundle)?;
        let mut endpoints = Vec::new();
        for v in p.all("ChannelEndpointSid").chain(
            p.all("ChannelEndpointSids")
                .flat_map(|v| v.split(',').map(str::trim)),
        ) {
            endpoints.push(parse_sid("ChannelEndpointSid", v, "PN")?);
        }
        let rows = hub.store.channel_endpoint_assignments(
            Some(b.sid),
            &endpoints,
            render::store_page(page),
        )?;
        Ok(list_reply(req, kind, b.sid, page, &rows))
    })
    .await
}

pub(super) async fn delete_endpoint(
    State(hub): State<Arc<Hub>>,
    Path((bundle, sid)): Path<(String, String)>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let guard = hub.lock();
        let (b, a) =
            subresources::visible::<ChannelEndpointAssignment>(hub, caller, kind, &bundle, &sid)?;
        let tn = number_tn(hub, a.channel_endpoint_sid)?;
        let mut write = Write {
            changes: vec![Change::DeleteChannelEndpointAssignment(a.sid)],
            ops: vec![IndexOp::Unassign(tn, b.sid)],
            callbacks: Vec::new(),
        };
        let auto = review::automatic_product_sid(b.sid);
        for copy in hub.store.channel_endpoint_assignments(
            Some(auto),
            &[a.channel_endpoint_sid],
            Page::ALL,
        )? {
            write
                .changes
                .push(Change::DeleteChannelEndpointAssignment(copy.sid));
            write.ops.push(IndexOp::Unassign(tn, auto));
        }
        hub.commit(&guard, write)?;
        Ok(Reply::NoContent)
    })
    .await
}
