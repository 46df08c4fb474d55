//! Twilio's Accounts v1 auth tokens (`accounts.twilio.com`): `POST` and `DELETE
//! /v1/AuthTokens/Secondary`, and `POST /v1/AuthTokens/Promote`, which makes the second
//! token the only one and refuses the old one at once. An account changes its own; the
//! operator names the account with `AccountSid` (callsign's own parameter), to rotate
//! the credentials of an account whose token was exposed.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trusthub::accounts::TokenAction;

async fn act(state: ApiState, req: ApiRequest, action: TokenAction) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["AccountSid"], false)?;
        let account = (req.params.get("AccountSid"))
            .map(|s| parse_sid("AccountSid", s, "AC"))
            .transpose()?;
        let a = hub.auth_tokens(caller, account, action)?;
        let base = &req.base_url;
        Ok(match action {
            TokenAction::CreateSecondary => Reply::Created(json!({
                "account_sid": a.sid,
                "date_created": a.date_updated,
                "date_updated": a.date_updated,
                "secondary_auth_token": a.secondary_auth_token,
                "url": format!("{base}/v1/AuthTokens/Secondary"),
            })),
            TokenAction::DeleteSecondary => Reply::NoContent,
            TokenAction::Promote => Reply::Ok(json!({
                "account_sid": a.sid,
                "auth_token": a.auth_token,
                "date_created": a.date_created,
                "date_updated": a.date_updated,
                "url": format!("{base}/v1/AuthTokens/Promote"),
            })),
        })
    })
    .await
}

pub(super) async fn create_secondary(State(state): State<ApiState>, req: ApiRequest) -> Response {
    act(state, req, TokenAction::CreateSecondary).await
}

pub(super) async fn delete_secondary(State(state): State<ApiState>, req: ApiRequest) -> Response {
    act(state, req, TokenAction::DeleteSecondary).await
}

pub(super) async fn promote(State(state): State<ApiState>, req: ApiRequest) -> Response {
    act(state, req, TokenAction::Promote).await
}
