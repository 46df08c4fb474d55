//! `/v1/EndUserTypes`: the end-user types bundles use (read-only), with the attributes
//! an end user of each holds, as Twilio's catalogue lists them.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trust::rules::{END_USER_TYPE_CATALOGUE, EndUserType};
use crate::trusthub::{HubError, Missing};

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |_, _, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let all = END_USER_TYPE_CATALOGUE;
        let start = page.page.saturating_mul(page.size).min(all.len());
        let rows = all[start..]
            .iter()
            .map(|t| render::end_user_type(&req.base_url, t))
            .collect();
        let path = "/v1/EndUserTypes";
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            path,
            "end_user_types",
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
    run(state, req, move |_, _, req| {
        req.params.allow(&[], false)?;
        let sid = parse_sid("Sid", &sid, "OY")?;
        let t = EndUserType::by_sid(sid).ok_or(HubError::NotFound(Missing::EndUserType(sid)))?;
        Ok(Reply::Ok(render::end_user_type(&req.base_url, t)))
    })
    .await
}
