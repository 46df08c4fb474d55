//! `/v1/Policies`: the three policies callsign knows (read-only), with their
//! requirements.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trust::Policy;
use crate::trusthub::{HubError, Missing};

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |_, _, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let start = page.page.saturating_mul(page.size).min(Policy::ALL.len());
        let rows = Policy::ALL.get(start..).unwrap_or_default();
        Ok(Reply::Ok(render::v1_list(
            req,
            "/v1/Policies",
            page,
            rows,
            |base, p| render::policy(base, *p),
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
        let sid = parse_sid("Sid", &sid, "RN")?;
        let p = Policy::from_sid(sid).ok_or(HubError::NotFound(Missing::Policy(sid)))?;
        Ok(Reply::Ok(render::policy(&req.base_url, p)))
    })
    .await
}
