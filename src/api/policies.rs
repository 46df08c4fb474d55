//! `/v1/Policies`: the three policies callsign knows (read-only), with their
//! requirements.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ApiError;
use super::hub::Hub;
use super::render;
use super::request::{ApiRequest, parse_sid};
use super::review;
use super::routes::{Reply, run};
use crate::trust::Policy;

fn policy(base: &str, p: Policy) -> Value {
    json!({
        "sid": p.sid_str(),
        "friendly_name": p.to_string(),
        "requirements": review::policy_requirements(p),
        "url": format!("{base}/v1/Policies/{}", p.sid_str()),
    })
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, req: ApiRequest) -> Response {
    run(hub, req, |_, _, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let start = page.page.saturating_mul(page.size).min(Policy::ALL.len());
        let rows = Policy::ALL.get(start..).unwrap_or_default();
        Ok(Reply::Ok(render::v1_list(
            req,
            "/v1/Policies",
            page,
            rows,
            |base, p| policy(base, *p),
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |_, _, req| {
        req.params.allow(&[], false)?;
        let parsed = parse_sid("Sid", &sid, "RN")?;
        let p = Policy::from_sid(parsed)
            .ok_or_else(|| ApiError::NotFound(format!("/v1/Policies/{sid}")))?;
        Ok(Reply::Ok(policy(&req.base_url, p)))
    })
    .await
}
