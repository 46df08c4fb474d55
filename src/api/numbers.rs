//! `/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers`: the operator's own numbers,
//! assigned to an account.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, json_sid, parse_sid};
use crate::trusthub::numbers::{NumberFilter, NumberUpdate};

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

/// `FriendlyName` and `TrunkSid` (empty takes the number off its trunk), the fields of
/// Twilio's update callsign keeps; the voice and messaging webhooks it has no use for
/// are refused by name rather than dropped.
pub(super) async fn update(
    State(state): State<ApiState>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(&["FriendlyName", "TrunkSid"], false)?;
        p.some()?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let trunk = match p.get("TrunkSid") {
            None => None,
            Some("") => Some(None),
            Some(sid) => Some(Some(parse_sid("TrunkSid", sid, "TK")?)),
        };
        let update = NumberUpdate {
            friendly_name: p.owned("FriendlyName"),
            trunk,
        };
        let n = hub.update_number(caller, account, json_sid("Sid", &segment, "PN")?, update)?;
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
