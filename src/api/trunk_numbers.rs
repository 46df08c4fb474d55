//! A trunk's phone numbers in Twilio's shape (trunking v1):
//! `/v1/Trunks/{TrunkSid}/PhoneNumbers[/{PhoneNumberSid}]`. The record is the number's,
//! as the 2010 API has it, seen from the trunk.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trust::{PhoneNumber, TrunkPhoneNumber};

fn number(base: &str, link: &TrunkPhoneNumber, n: &PhoneNumber) -> Value {
    json!({
        "sid": n.sid,
        "account_sid": n.account_sid,
        "trunk_sid": link.trunk_sid,
        "phone_number": n.phone_number,
        "friendly_name": n.friendly_name.as_deref().unwrap_or(&n.phone_number),
        "date_created": link.date_created,
        "date_updated": link.date_created,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": false,
        "capabilities": {"voice": true, "sms": false, "mms": false, "fax": false},
        "status_callback": null,
        "status_callback_method": "POST",
        "voice_application_sid": null,
        "voice_caller_id_lookup": false,
        "voice_url": null,
        "voice_method": "POST",
        "voice_fallback_url": null,
        "voice_fallback_method": "POST",
        "sms_application_sid": null,
        "sms_url": null,
        "sms_method": "POST",
        "sms_fallback_url": null,
        "sms_fallback_method": "POST",
        "url": format!("{base}/v1/Trunks/{}/PhoneNumbers/{}", link.trunk_sid, n.sid),
        "links": {
            "phone_number": format!(
                "{base}/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
                n.account_sid, n.sid
            ),
        },
    })
}

pub(super) async fn add(
    State(state): State<ApiState>,
    Path(trunk): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["PhoneNumberSid"], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let pn = parse_sid(
            "PhoneNumberSid",
            req.params.required("PhoneNumberSid")?,
            "PN",
        )?;
        let (link, n) = hub.add_trunk_number(caller, trunk, pn)?;
        Ok(Reply::Created(number(&req.base_url, &link, &n)))
    })
    .await
}

pub(super) async fn list(
    State(state): State<ApiState>,
    Path(trunk): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let page = req.params.page()?;
        let rows = hub
            .trunk_numbers(caller, trunk, render::store_page(page))?
            .iter()
            .map(|(link, n)| number(&req.base_url, link, n))
            .collect();
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            &format!("/v1/Trunks/{trunk}/PhoneNumbers"),
            "phone_numbers",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path((trunk, sid)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let (link, n) = hub.trunk_number(caller, trunk, parse_sid("Sid", &sid, "PN")?)?;
        Ok(Reply::Ok(number(&req.base_url, &link, &n)))
    })
    .await
}

pub(super) async fn remove(
    State(state): State<ApiState>,
    Path((trunk, sid)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        hub.remove_trunk_number(caller, trunk, parse_sid("Sid", &sid, "PN")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
