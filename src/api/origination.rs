//! A trunk's origination URLs in Twilio's shape (trunking v1):
//! `/v1/Trunks/{TrunkSid}/OriginationUrls[/{Sid}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ParamError;
use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, Params, parse_sid};
use crate::trust::OriginationUrl;
use crate::trusthub::origination::OriginationFields;

fn url(base: &str, u: &OriginationUrl) -> Value {
    json!({
        "sid": u.sid,
        "account_sid": u.account_sid,
        "trunk_sid": u.trunk_sid,
        "friendly_name": u.friendly_name,
        "sip_url": u.sip_url,
        "priority": u.priority,
        "weight": u.weight,
        "enabled": u.enabled,
        "date_created": u.date_created,
        "date_updated": u.date_updated,
        "url": format!("{base}/v1/Trunks/{}/OriginationUrls/{}", u.trunk_sid, u.sid),
    })
}

fn fields(p: &Params) -> Result<OriginationFields, ParamError> {
    p.allow(
        &["FriendlyName", "SipUrl", "Priority", "Weight", "Enabled"],
        false,
    )?;
    let number = |name: &'static str| {
        p.get(name)
            .map(|v| {
                v.trim()
                    .parse::<u16>()
                    .map_err(|_| ParamError::NotANumber(name))
            })
            .transpose()
    };
    let enabled = match p.get("Enabled").map(|v| v.trim().to_ascii_lowercase()) {
        None => None,
        Some(v) if v == "true" => Some(true),
        Some(v) if v == "false" => Some(false),
        Some(_) => return Err(ParamError::NotABool("Enabled")),
    };
    Ok(OriginationFields {
        friendly_name: p.owned("FriendlyName"),
        sip_url: p.owned("SipUrl"),
        priority: number("Priority")?,
        weight: number("Weight")?,
        enabled,
    })
}

pub(super) async fn create(
    State(state): State<ApiState>,
    Path(trunk): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let f = fields(&req.params)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let u = hub.create_origination_url(caller, trunk, f)?;
        Ok(Reply::Created(url(&req.base_url, &u)))
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
            .origination_urls(caller, trunk, render::store_page(page))?
            .iter()
            .map(|u| url(&req.base_url, u))
            .collect();
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            &format!("/v1/Trunks/{trunk}/OriginationUrls"),
            "origination_urls",
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
        let u = hub.origination_url(caller, trunk, parse_sid("Sid", &sid, "OU")?)?;
        Ok(Reply::Ok(url(&req.base_url, &u)))
    })
    .await
}

pub(super) async fn update(
    State(state): State<ApiState>,
    Path((trunk, sid)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let f = fields(&req.params)?;
        req.params.some()?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let sid = parse_sid("Sid", &sid, "OU")?;
        let u = hub.update_origination_url(caller, trunk, sid, f)?;
        Ok(Reply::Ok(url(&req.base_url, &u)))
    })
    .await
}

pub(super) async fn delete(
    State(state): State<ApiState>,
    Path((trunk, sid)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        hub.delete_origination_url(caller, trunk, parse_sid("Sid", &sid, "OU")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
