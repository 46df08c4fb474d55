//! Credential lists in Twilio's shapes: an account's
//! `/2010-04-01/Accounts/{AccountSid}/SIP/CredentialLists` with their `Credentials`, and a
//! trunk's `CredentialLists` (trunking v1). Passwords go in and never come out.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ParamError;
use super::render::{self, rfc2822};
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, json_sid, parse_sid};
use crate::trust::{Credential, CredentialList, Sid, TrunkCredentialList};

fn list_uri(l: &CredentialList) -> String {
    format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists/{}",
        l.account_sid, l.sid
    )
}

fn list(l: &CredentialList) -> Value {
    let uri = list_uri(l);
    json!({
        "account_sid": l.account_sid,
        "date_created": rfc2822(&l.date_created),
        "date_updated": rfc2822(&l.date_updated),
        "friendly_name": l.friendly_name,
        "sid": l.sid,
        "subresource_uris": {"credentials": format!("{uri}/Credentials.json")},
        "uri": format!("{uri}.json"),
    })
}

fn credential(c: &Credential) -> Value {
    json!({
        "sid": c.sid,
        "account_sid": c.account_sid,
        "credential_list_sid": c.credential_list_sid,
        "username": c.username,
        "date_created": rfc2822(&c.date_created),
        "date_updated": rfc2822(&c.date_updated),
        "uri": format!(
            "/2010-04-01/Accounts/{}/SIP/CredentialLists/{}/Credentials/{}.json",
            c.account_sid, c.credential_list_sid, c.sid
        ),
    })
}

fn trunk_list(base: &str, usage: &TrunkCredentialList, l: &CredentialList) -> Value {
    json!({
        "account_sid": usage.account_sid,
        "sid": l.sid,
        "trunk_sid": usage.trunk_sid,
        "friendly_name": l.friendly_name,
        "date_created": usage.date_created,
        "date_updated": usage.date_created,
        "url": format!("{base}/v1/Trunks/{}/CredentialLists/{}", usage.trunk_sid, l.sid),
    })
}

/// The account and credential-list SIDs of a 2010 path.
fn account_and_list(account: &str, list: &str) -> Result<(Sid, Sid), ParamError> {
    Ok((
        parse_sid("AccountSid", account, "AC")?,
        parse_sid("CredentialListSid", list, "CL")?,
    ))
}

pub(super) async fn create_list(
    State(state): State<ApiState>,
    Path(account): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["FriendlyName"], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let name = req.params.required("FriendlyName")?.to_owned();
        let l = hub.create_credential_list(caller, account, name)?;
        Ok(Reply::Created(list(&l)))
    })
    .await
}

pub(super) async fn list_lists(
    State(state): State<ApiState>,
    Path(account): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let page = req.params.page()?;
        let rows = hub
            .credential_lists(caller, account, render::store_page(page))?
            .iter()
            .map(list)
            .collect();
        let path = format!("/2010-04-01/Accounts/{account}/SIP/CredentialLists.json");
        Ok(Reply::Ok(render::v2010_page(
            &path,
            "credential_lists",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch_list(
    State(state): State<ApiState>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let l = hub.credential_list(caller, account, json_sid("Sid", &segment, "CL")?)?;
        Ok(Reply::Ok(list(&l)))
    })
    .await
}

pub(super) async fn rename_list(
    State(state): State<ApiState>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["FriendlyName"], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        let name = req.params.required("FriendlyName")?.to_owned();
        let sid = json_sid("Sid", &segment, "CL")?;
        let l = hub.rename_credential_list(caller, account, sid, name)?;
        Ok(Reply::Ok(list(&l)))
    })
    .await
}

pub(super) async fn delete_list(
    State(state): State<ApiState>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let account = parse_sid("AccountSid", &account, "AC")?;
        hub.delete_credential_list(caller, account, json_sid("Sid", &segment, "CL")?)?;
        Ok(Reply::NoContent)
    })
    .await
}

pub(super) async fn create_credential(
    State(state): State<ApiState>,
    Path((account, list)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["Username", "Password"], false)?;
        let (account, list) = account_and_list(&account, &list)?;
        let username = req.params.required("Username")?.to_owned();
        let password = req.params.required("Password")?;
        let c = hub.create_credential(caller, account, list, username, password)?;
        Ok(Reply::Created(credential(&c)))
    })
    .await
}

pub(super) async fn list_credentials(
    State(state): State<ApiState>,
    Path((account, list)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let (account, list) = account_and_list(&account, &list)?;
        let page = req.params.page()?;
        let rows = hub
            .credentials(caller, account, list, render::store_page(page))?
            .iter()
            .map(credential)
            .collect();
        let path =
            format!("/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}/Credentials.json");
        Ok(Reply::Ok(render::v2010_page(
            &path,
            "credentials",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch_credential(
    State(state): State<ApiState>,
    Path((account, list, segment)): Path<(String, String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let (account, list) = account_and_list(&account, &list)?;
        let c = hub.credential(caller, account, list, json_sid("Sid", &segment, "CR")?)?;
        Ok(Reply::Ok(credential(&c)))
    })
    .await
}

pub(super) async fn update_credential(
    State(state): State<ApiState>,
    Path((account, list, segment)): Path<(String, String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["Password"], false)?;
        let (account, list) = account_and_list(&account, &list)?;
        let sid = json_sid("Sid", &segment, "CR")?;
        let password = req.params.required("Password")?;
        let c = hub.set_password(caller, account, list, sid, password)?;
        Ok(Reply::Ok(credential(&c)))
    })
    .await
}

pub(super) async fn delete_credential(
    State(state): State<ApiState>,
    Path((account, list, segment)): Path<(String, String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let (account, list) = account_and_list(&account, &list)?;
        hub.delete_credential(caller, account, list, json_sid("Sid", &segment, "CR")?)?;
        Ok(Reply::NoContent)
    })
    .await
}

pub(super) async fn add_trunk_list(
    State(state): State<ApiState>,
    Path(trunk): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&["CredentialListSid"], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let list = req.params.required_sid("CredentialListSid", "CL")?;
        let (usage, l) = hub.add_trunk_credential_list(caller, trunk, list)?;
        Ok(Reply::Created(trunk_list(&req.base_url, &usage, &l)))
    })
    .await
}

pub(super) async fn list_trunk_lists(
    State(state): State<ApiState>,
    Path(trunk): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let page = req.params.page()?;
        let rows = hub
            .trunk_credential_lists(caller, trunk, render::store_page(page))?
            .iter()
            .map(|(usage, l)| trunk_list(&req.base_url, usage, l))
            .collect();
        let path = format!("/v1/Trunks/{trunk}/CredentialLists");
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            &path,
            "credential_lists",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch_trunk_list(
    State(state): State<ApiState>,
    Path((trunk, sid)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let list = parse_sid("Sid", &sid, "CL")?;
        let (usage, l) = hub.trunk_credential_list(caller, trunk, list)?;
        Ok(Reply::Ok(trunk_list(&req.base_url, &usage, &l)))
    })
    .await
}

pub(super) async fn remove_trunk_list(
    State(state): State<ApiState>,
    Path((trunk, sid)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        hub.remove_trunk_credential_list(caller, trunk, parse_sid("Sid", &sid, "CL")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
