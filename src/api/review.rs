//! The operator's review resources (callsign's own, beside Trust Hub's):
//! `GET /v1/ReviewQueue`, the bundles waiting for a decision, soonest deadline first,
//! with the time left; and `GET /v1/ReviewLog`, the review log in order (a bundle's with
//! `BundleSid`), paged like every v1 list, for export.

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::clock;
use crate::trusthub::vetting::Queued;

fn queued(base: &str, q: &Queued, now: i64) -> Value {
    let kind = q.policy.kind();
    json!({
        "bundle_sid": q.bundle.sid,
        "account_sid": q.bundle.account_sid,
        "policy_sid": q.bundle.policy_sid,
        "friendly_name": q.bundle.friendly_name,
        "status": q.bundle.status.as_str(),
        "submitted_at": clock::rfc3339(q.submitted_at),
        "deadline": clock::rfc3339(q.deadline),
        "seconds_left": q.deadline - now,
        "overdue": now > q.deadline,
        "url": render::bundle_url(base, kind, q.bundle.sid),
    })
}

pub(super) async fn queue(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let all = hub.review_queue(caller)?;
        let now = hub.now_unix();
        Ok(Reply::Ok(render::catalogue_page(
            req,
            "/v1/ReviewQueue",
            "results",
            page,
            &all,
            |base, q| queued(base, q, now),
        )))
    })
    .await
}

pub(super) async fn log(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&["BundleSid"], true)?;
        let page = req.params.page()?;
        let bundle = (req.params.get("BundleSid"))
            .map(|s| parse_sid("BundleSid", s, "BU"))
            .transpose()?;
        let rows = hub.review_log(caller, bundle, render::store_page(page))?;
        Ok(Reply::Ok(render::v1_list(
            req,
            "/v1/ReviewLog",
            page,
            &rows,
            |_, e| serde_json::to_value(e).unwrap_or(Value::Null),
        )))
    })
    .await
}
