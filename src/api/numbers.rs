//! `/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers`: the operator's own numbers,
//! assigned to an account.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, json_sid, parse_sid};
use crate::trusthub::numbers::NumberFilter;

pub(super) async fn create(
    State(state): State<ApiState>,
    Path(account): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["PhoneNumber", "FriendlyName"], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let raw = req.params.required("PhoneNumber")?;
        let number = hub.create_number(caller, account, raw, req.params.owned("FriendlyName"))?;
        Ok(Reply::Created(render::number(&number, None, None)))
    })
    .await
}

pub(super) async fn list(
    State(state): State<ApiState>,
    Path(account): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params
            .allow(&["PhoneNumber", "FriendlyName", "Beta", "Origin"], true)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let page = req.params.page()?;
        let filter = NumberFilter {
            pattern: req.params.owned("PhoneNumber"),
            friendly_name: req.params.owned("FriendlyName"),
        };
        let rows = hub
            .numbers(caller, account, &filter, render::store_page(page))?
            .iter()
            .map(|(n, profile)| render::number(n, *profile, hub.trunk_of_number(n.sid)))
            .collect();
        let path = format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json");
        Ok(Reply::Ok(render::v2010_page(
            &path,
            "incoming_phone_numbers",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let n = hub.number(caller, account, json_sid("Sid", &segment, "PN")?)?;
        Ok(Reply::Ok(render::number(
            &n,
            hub.profile_of(caller, &n)?,
            hub.trunk_of_number(n.sid),
        )))
    })
    .await
}

pub(super) async fn delete(
    State(state): State<ApiState>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        hub.delete_number(caller, account, json_sid("Sid", &segment, "PN")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
