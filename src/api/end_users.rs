//! `/v1/EndUsers`: the businesses and people attached to bundles.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trusthub::end_users::{EndUserUpdate, NewEndUser};

pub(super) async fn create(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        let p = &req.params;
        p.allow(&["FriendlyName", "Type", "Attributes"], false)?;
        let new = NewEndUser {
            friendly_name: p.required("FriendlyName")?.to_owned(),
            end_user_type: p.required("Type")?.to_owned(),
            attributes: p.attributes()?.unwrap_or(serde_json::json!({})),
        };
        let user = hub.create_end_user(caller, new)?;
        Ok(Reply::Created(render::end_user(&req.base_url, &user)))
    })
    .await
}

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let rows = hub.end_users(caller, render::store_page(page))?;
        Ok(Reply::Ok(render::v1_list(
            req,
            "/v1/EndUsers",
            page,
            &rows,
            render::end_user,
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
        let user = hub.end_user(caller, parse_sid("Sid", &sid, "IT")?)?;
        Ok(Reply::Ok(render::end_user(&req.base_url, &user)))
    })
    .await
}

pub(super) async fn update(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["FriendlyName", "Attributes"], false)?;
        p.some()?;
        let update = EndUserUpdate {
            friendly_name: p.owned("FriendlyName"),
            attributes: p.attributes()?,
        };
        let user = hub.update_end_user(caller, parse_sid("Sid", &sid, "IT")?, update)?;
        Ok(Reply::Ok(render::end_user(&req.base_url, &user)))
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
        hub.delete_end_user(caller, parse_sid("Sid", &sid, "IT")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
