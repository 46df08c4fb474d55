//! `GET /v1/Attestation`: the level and reason a call would get now.

use axum::extract::State;
use axum::response::Response;

use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};

pub(super) async fn get(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&["AccountSid", "PhoneNumber"], false)?;
        let account = parse_sid("AccountSid", req.params.required("AccountSid")?, "AC")?;
        let raw_number = req.params.required("PhoneNumber")?;
        let p = hub.preview(caller, account, raw_number)?;
        // A struct of strings and numbers always serializes.
        let mut body = serde_json::to_value(&p).unwrap_or_default();
        body["url"] = serde_json::json!(format!(
            "{}/v1/Attestation?AccountSid={account}&PhoneNumber=%2B{}",
            req.base_url,
            p.phone_number.trim_start_matches('+')
        ));
        Ok(Reply::Ok(body))
    })
    .await
}
