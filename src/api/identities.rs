//! Signing identities, callsign's own resource in the shape of trunking v1
//! (operator-only): `/v1/SigningIdentities` and their `Assignments`, the trunks and
//! accounts each signs for. The private key reference is shown without its PIN.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::render::{self, rfc2822};
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::identities::keyref::redacted;
use crate::trust::SigningAssignment;
use crate::trusthub::identities::{IdentityFields, IdentityView};

const FIELDS: &[&str] = &["FriendlyName", "CertificateChain", "PrivateKey", "X5u"];

fn identity(base: &str, v: &IdentityView) -> Value {
    let r = &v.record;
    let url = format!("{base}/v1/SigningIdentities/{}", r.sid);
    let info = v.loaded.as_ref().map(|l| &l.check.info);
    json!({
        "sid": r.sid,
        "friendly_name": r.friendly_name,
        "x5u": v.x5u,
        "private_key": redacted(&r.private_key),
        "certificate_chain": r.certificate_chain,
        "subject": info.map(|i| &i.subject),
        "spc": info.and_then(|i| i.spc.as_ref()),
        "not_before": info.map(|i| crate::clock::rfc3339(i.not_before)),
        "not_after": info.map(|i| crate::clock::rfc3339(i.not_after)),
        "status": if v.loaded.is_some() { "active" } else { "failed" },
        "date_created": rfc2822(&r.date_created),
        "date_updated": rfc2822(&r.date_updated),
        "url": url,
        "links": {"assignments": format!("{url}/Assignments")},
    })
}

fn assignment(base: &str, a: &SigningAssignment) -> Value {
    json!({
        "signing_identity_sid": a.signing_identity_sid,
        "sid": a.assigned_sid,
        "date_created": a.date_created,
        "url": format!(
            "{base}/v1/SigningIdentities/{}/Assignments/{}",
            a.signing_identity_sid, a.assigned_sid
        ),
    })
}

fn fields(req: &ApiRequest) -> IdentityFields {
    let get = |name| req.params.get(name).map(str::to_owned);
    IdentityFields {
        friendly_name: get("FriendlyName"),
        certificate_chain: get("CertificateChain"),
        private_key: get("PrivateKey"),
        x5u: get("X5u"),
    }
}

pub(super) async fn create(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(FIELDS, false)?;
        let v = hub.create_identity(caller, fields(req))?;
        Ok(Reply::Created(identity(&req.base_url, &v)))
    })
    .await
}

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let rows = hub
            .identities_list(caller, render::store_page(page))?
            .iter()
            .map(|v| identity(&req.base_url, v))
            .collect();
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            "/v1/SigningIdentities",
            "signing_identities",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let v = hub.identity(caller, parse_sid("Sid", &sid, "SI")?)?;
        Ok(Reply::Ok(identity(&req.base_url, &v)))
    })
    .await
}

pub(super) async fn update(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(FIELDS, false)?;
        req.params.some()?;
        let sid = parse_sid("Sid", &sid, "SI")?;
        let v = hub.update_identity(caller, sid, fields(req))?;
        Ok(Reply::Ok(identity(&req.base_url, &v)))
    })
    .await
}

pub(super) async fn delete(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        hub.delete_identity(caller, parse_sid("Sid", &sid, "SI")?)?;
        Ok(Reply::NoContent)
    })
    .await
}

pub(super) async fn assign(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["Sid"], false)?;
        let sid = parse_sid("SigningIdentitySid", &sid, "SI")?;
        let target = req.params.required("Sid")?;
        let a = hub.assign_identity(caller, sid, target)?;
        Ok(Reply::Created(assignment(&req.base_url, &a)))
    })
    .await
}

pub(super) async fn assignments(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let sid = parse_sid("SigningIdentitySid", &sid, "SI")?;
        let page = req.params.page()?;
        let rows = hub
            .identity_assignments(caller, sid, render::store_page(page))?
            .iter()
            .map(|a| assignment(&req.base_url, a))
            .collect();
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            &format!("/v1/SigningIdentities/{sid}/Assignments"),
            "assignments",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch_assignment(
    State(state): State<ApiState>,
    Path((sid, target)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let sid = parse_sid("SigningIdentitySid", &sid, "SI")?;
        let target = parse_sid("Sid", &target, "")?;
        let a = hub.identity_assignment(caller, sid, target)?;
        Ok(Reply::Ok(assignment(&req.base_url, &a)))
    })
    .await
}

pub(super) async fn unassign(
    State(state): State<ApiState>,
    Path((sid, target)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let sid = parse_sid("SigningIdentitySid", &sid, "SI")?;
        let target = parse_sid("Sid", &target, "")?;
        hub.unassign_identity(caller, sid, target)?;
        Ok(Reply::NoContent)
    })
    .await
}
