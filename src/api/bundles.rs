//! `/v1/CustomerProfiles` and `/v1/TrustProducts`: Twilio's parameters in, the service's
//! bundles out as Twilio's JSON.

use axum::extract::{Path, State};
use axum::response::Response;

use super::error::ParamError;
use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trust::BundleKind;
use crate::trusthub::bundles::{BundleFilter, BundleUpdate, NewBundle};

pub(super) async fn create(
    State(state): State<ApiState>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(
            &["FriendlyName", "Email", "PolicySid", "StatusCallback"],
            false,
        )?;
        let new = NewBundle {
            friendly_name: p.required("FriendlyName")?.to_owned(),
            email: p.required("Email")?.to_owned(),
            policy_sid: p.required_sid("PolicySid", "RN")?,
            status_callback: p.owned("StatusCallback"),
        };
        let bundle = hub.create_bundle(caller, kind, new)?;
        Ok(Reply::Created(render::bundle(&req.base_url, kind, &bundle)))
    })
    .await
}

pub(super) async fn list(
    State(state): State<ApiState>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["Status", "FriendlyName", "PolicySid"], true)?;
        let page = p.page()?;
        let filter = BundleFilter {
            status: p.bundle_status()?,
            friendly_name: p.owned("FriendlyName"),
            policy_sid: p.sid("PolicySid", "RN")?,
        };
        let rows = hub.bundles(caller, kind, &filter, render::store_page(page))?;
        let path = format!("/v1/{}", render::collection(kind));
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
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let b = hub.bundle(caller, kind, parse_sid("Sid", &sid, "BU")?)?;
        Ok(Reply::Ok(render::bundle(&req.base_url, kind, &b)))
    })
    .await
}

pub(super) async fn update(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(
            &[
                "Status",
                "StatusCallback",
                "FriendlyName",
                "Email",
                "ValidUntil",
                "Errors",
                "Reason",
            ],
            false,
        )?;
        p.some()?;
        let sid = parse_sid("Sid", &sid, "BU")?;
        let errors = match p.get("Errors") {
            None => None,
            Some("") => Some(None),
            Some(text) => Some(Some(
                serde_json::from_str(text).map_err(|e| ParamError::ErrorsNotJson(e.to_string()))?,
            )),
        };
        let update = BundleUpdate {
            status: p.bundle_status()?,
            friendly_name: p.owned("FriendlyName"),
            email: p.owned("Email"),
            status_callback: p.owned("StatusCallback"),
            valid_until: p.clearable_datetime("ValidUntil")?,
            errors,
            reason: p.owned("Reason"),
        };
        let b = hub.update_bundle(caller, kind, sid, update)?;
        Ok(Reply::Ok(render::bundle(&req.base_url, kind, &b)))
    })
    .await
}

pub(super) async fn delete(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        hub.delete_bundle(caller, kind, parse_sid("Sid", &sid, "BU")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
