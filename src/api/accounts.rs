//! `/2010-04-01/Accounts`: create, fetch, list and update. Responses carry the
//! account's `auth_token`.

use axum::extract::{Path, State};
use axum::response::Response;

use super::error::ParamError;
use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, json_sid};
use crate::trust::SuspensionCause;
use crate::trusthub::accounts::{AccountFilter, AccountUpdate};

const PATH: &str = "/2010-04-01/Accounts.json";

pub(super) async fn create(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&["FriendlyName"], false)?;
        let account = hub.create_account(caller, req.params.owned("FriendlyName"))?;
        Ok(Reply::Created(render::account(&account)))
    })
    .await
}

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&["FriendlyName", "Status"], true)?;
        let page = req.params.page()?;
        let filter = AccountFilter {
            friendly_name: req.params.owned("FriendlyName"),
            status: req.params.account_status()?,
        };
        let rows = hub.accounts(caller, &filter, render::store_page(page))?;
        let rows = rows.iter().map(render::account).collect();
        Ok(Reply::Ok(render::v2010_page(
            PATH,
            "accounts",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path(segment): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let account = hub.account(caller, json_sid("Sid", &segment, "AC")?)?;
        Ok(Reply::Ok(render::account(&account)))
    })
    .await
}

pub(super) async fn update(
    State(state): State<ApiState>,
    Path(segment): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params
            .allow(&["FriendlyName", "Status", "SuspensionCause"], false)?;
        req.params.some()?;
        let sid = json_sid("Sid", &segment, "AC")?;
        let suspension_cause = (req.params.get("SuspensionCause"))
            .map(|c| {
                SuspensionCause::parse(c)
                    .ok_or_else(|| ParamError::SuspensionCause(c.chars().take(64).collect()))
            })
            .transpose()?;
        let update = AccountUpdate {
            friendly_name: req.params.owned("FriendlyName"),
            status: req.params.account_status()?,
            suspension_cause,
        };
        let account = hub.update_account(caller, sid, update)?;
        Ok(Reply::Ok(render::account(&account)))
    })
    .await
}
