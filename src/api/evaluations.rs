//! `Evaluations` under a customer profile or trust product.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use super::subresources::{Subresource, list_reply};
use crate::trust::BundleKind;

pub(super) async fn create(
    State(state): State<ApiState>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["PolicySid"], false)?;
        let policy = req.params.required_sid("PolicySid", "RN")?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let evaluation = hub.evaluate(caller, kind, bundle, policy)?;
        Ok(Reply::Created(evaluation.render(&req.base_url, kind)))
    })
    .await
}

pub(super) async fn list(
    State(state): State<ApiState>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let rows = hub.evaluations(caller, kind, bundle, render::store_page(page))?;
        Ok(list_reply(req, kind, bundle, page, &rows))
    })
    .await
}
