//! `EntityAssignments` and `ChannelEndpointAssignments` under a customer profile or
//! trust product: Twilio's parameters in, the service's assignments out.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use super::subresources::{Subresource, list_reply};
use crate::trust::{BundleKind, ChannelEndpointAssignment, EntityAssignment};

pub(super) async fn create_entity(
    State(state): State<ApiState>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["ObjectSid"], false)?;
        let object = parse_sid("ObjectSid", req.params.required("ObjectSid")?, "")?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let a = hub.link(caller, kind, bundle, object)?;
        Ok(Reply::Created(a.render(&req.base_url, kind)))
    })
    .await
}

pub(super) async fn list_entities(
    State(state): State<ApiState>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["ObjectType"], true)?;
        let page = p.page()?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let rows = hub.entity_assignments(
            caller,
            kind,
            bundle,
            p.get("ObjectType"),
            render::store_page(page),
        )?;
        Ok(list_reply(req, kind, bundle, page, &rows))
    })
    .await
}

pub(super) async fn delete_entity(
    State(state): State<ApiState>,
    Path((bundle, sid)): Path<(String, String)>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let sid = parse_sid("Sid", &sid, EntityAssignment::PREFIX)?;
        hub.unlink(caller, kind, bundle, sid)?;
        Ok(Reply::NoContent)
    })
    .await
}

pub(super) async fn create_endpoint(
    State(state): State<ApiState>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["ChannelEndpointType", "ChannelEndpointSid"], false)?;
        let channel_type = p.required("ChannelEndpointType")?;
        let pn = p.required_sid("ChannelEndpointSid", "PN")?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let a = hub.assign_number(caller, kind, bundle, pn, channel_type)?;
        Ok(Reply::Created(a.render(&req.base_url, kind)))
    })
    .await
}

pub(super) async fn list_endpoints(
    State(state): State<ApiState>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["ChannelEndpointSid", "ChannelEndpointSids"], true)?;
        let page = p.page()?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let mut endpoints = Vec::new();
        for v in p.all("ChannelEndpointSid").chain(
            p.all("ChannelEndpointSids")
                .flat_map(|v| v.split(',').map(str::trim)),
        ) {
            endpoints.push(parse_sid("ChannelEndpointSid", v, "PN")?);
        }
        let rows = hub.channel_endpoint_assignments(
            caller,
            kind,
            bundle,
            &endpoints,
            render::store_page(page),
        )?;
        Ok(list_reply(req, kind, bundle, page, &rows))
    })
    .await
}

pub(super) async fn delete_endpoint(
    State(state): State<ApiState>,
    Path((bundle, sid)): Path<(String, String)>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let sid = parse_sid("Sid", &sid, ChannelEndpointAssignment::PREFIX)?;
        hub.unassign_number(caller, kind, bundle, sid)?;
        Ok(Reply::NoContent)
    })
    .await
}
