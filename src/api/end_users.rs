//! `/v1/EndUsers`: the businesses and people attached to bundles. An end user attached
//! to a bundle under review or approved cannot change (60711) or be deleted.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;

use super::bundles::require_editable;
use super::error::ApiError;
use super::hub::{Caller, Hub, Write, new_sid};
use super::render;
use super::request::{ApiRequest, parse_sid};
use super::routes::{Reply, run};
use crate::store::{Change, Page};
use crate::trust::EndUser;

fn attributes(raw: Option<&str>) -> Result<Option<serde_json::Value>, ApiError> {
    raw.map(|a| {
        serde_json::from_str::<serde_json::Value>(a)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| ApiError::invalid("Attributes must be a JSON object"))
    })
    .transpose()
}

pub(super) async fn create(State(hub): State<Arc<Hub>>, req: ApiRequest) -> Response {
    run(hub, req, |hub, caller, req| {
        let p = &req.params;
        p.allow(&["FriendlyName", "Type", "Attributes"], false)?;
        let account = caller.account()?;
        let now = render::iso(hub.now_unix());
        let user = EndUser {
            sid: new_sid("IT")?,
            account_sid: account,
            friendly_name: Some(p.required("FriendlyName")?.to_owned()),
            end_user_type: p.required("Type")?.to_owned(),
            attributes: attributes(p.get("Attributes"))?.unwrap_or(serde_json::json!({})),
            date_created: Some(now.clone()),
            date_updated: Some(now),
            url: None,
        };
        let guard = hub.lock();
        hub.commit(&guard, Write::store_only(Change::PutEndUser(user.clone())))?;
        Ok(Reply::Created(render::end_user(&req.base_url, &user)))
    })
    .await
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, req: ApiRequest) -> Response {
    run(hub, req, |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let scope = hub.list_scope(caller);
        let rows = hub
            .store
            .end_users(scope.as_deref(), render::store_page(page))?;
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

fn visible(hub: &Hub, caller: &Caller, sid: &str) -> Result<EndUser, ApiError> {
    let parsed = parse_sid("Sid", sid, "IT")?;
    hub.store
        .end_user(parsed)?
        .filter(|u| hub.sees(caller, u.account_sid))
        .ok_or_else(|| ApiError::NotFound(format!("/v1/EndUsers/{sid}")))
}

/// A 60711 if the end user is on a bundle that cannot change.
fn require_unlocked(hub: &Hub, user: &EndUser) -> Result<(), ApiError> {
    for a in hub
        .store
        .entity_assignments(None, Some(user.sid), Page::ALL)?
    {
        if let Some(b) = hub.store.bundle(a.bundle_sid)? {
            require_editable(&b)?;
        }
    }
    Ok(())
}

pub(super) async fn fetch(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        Ok(Reply::Ok(render::end_user(
            &req.base_url,
            &visible(hub, caller, &sid)?,
        )))
    })
    .await
}

pub(super) async fn update(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["FriendlyName", "Attributes"], false)?;
        let guard = hub.lock();
        let mut user = visible(hub, caller, &sid)?;
        require_unlocked(hub, &user)?;
        if let Some(name) = p.get("FriendlyName") {
            user.friendly_name = Some(name.to_owned());
        }
        if let Some(attrs) = attributes(p.get("Attributes"))? {
            user.attributes = attrs;
        }
        user.date_updated = Some(render::iso(hub.now_unix()));
        hub.commit(&guard, Write::store_only(Change::PutEndUser(user.clone())))?;
        Ok(Reply::Ok(render::end_user(&req.base_url, &user)))
    })
    .await
}

pub(super) async fn delete(
    State(hub): State<Arc<Hub>>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let guard = hub.lock();
        let user = visible(hub, caller, &sid)?;
        let assigned = hub
            .store
            .entity_assignments(None, Some(user.sid), Page::ALL)?;
        if let Some(a) = assigned.first() {
            return Err(ApiError::invalid(format!(
                "End user {} is assigned to {}; remove the entity assignment first",
                user.sid, a.bundle_sid
            )));
        }
        hub.commit(&guard, Write::store_only(Change::DeleteEndUser(user.sid)))?;
        Ok(Reply::NoContent)
    })
    .await
}
