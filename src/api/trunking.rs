//! Elastic SIP Trunking in Twilio's shapes: `/v1/Trunks` and a trunk's
//! `IpAccessControlLists` (trunking v1), and an account's
//! `/2010-04-01/Accounts/{AccountSid}/SIP/IpAccessControlLists` with their `IpAddresses`.
//!
//! Trunk settings callsign does not act on (disaster recovery, transfer, recording,
//! secure media, CNAM lookup) are answered with Twilio's defaults and refused as unknown
//! parameters on writes, rather than stored and ignored.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::{ApiError, ParamError};
use super::render::{self, rfc2822};
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, Params, json_sid, parse_sid};
use crate::store::Page;
use crate::trust::{IpAccessControlList, IpAddress, Sid, Trunk, TrunkAcl};
use crate::trusthub::trunks::{AddressFields, TrunkFields};
use crate::trusthub::{Caller, Hub};

fn trunk_url(base: &str, trunk: &Trunk) -> String {
    format!("{base}/v1/Trunks/{}", trunk.sid)
}

/// A trunk; `auth` names how it admits calls: `IP_ACL`, `CREDENTIAL_LIST`.
fn trunk(base: &str, t: &Trunk, auth: &[&str]) -> Value {
    let url = trunk_url(base, t);
    json!({
        "sid": t.sid,
        "account_sid": t.account_sid,
        "domain_name": t.domain_name,
        "disaster_recovery_method": null,
        "disaster_recovery_url": null,
        "friendly_name": t.friendly_name,
        "secure": false,
        "cnam_lookup_enabled": false,
        "symmetric_rtp_enabled": false,
        "recording": {"mode": "do-not-record", "trim": "do-not-trim"},
        "transfer_mode": "disable-all",
        "transfer_caller_id": "from-transferee",
        "auth_type": auth.join(","),
        "auth_type_set": auth,
        "calls_per_second": t.call_limit.map(|l| l.per_second),
        "calls_burst": t.call_limit.map(|l| l.burst),
        "minimum_attestation": t.level_gate.map(|g| g.minimum.as_str()),
        "below_minimum_status": t.level_gate.map(|g| g.status),
        "identity_policy": t.identity_policy.map(|p| p.as_str()),
        "role": t.role().as_str(),
        "origid": t.origid().hyphenated().to_string(),
        "requested_level": t.requested_level.unwrap_or_default().as_str(),
        "contact_identity": t.contact_identity.unwrap_or(false),
        "attestation_headers": t.attestation_headers.unwrap_or(false),
        "signing_failure": t.signing_failure.map(|f| f.to_string()),
        "sign_policy": t.sign_policy.unwrap_or_default().as_str(),
        "unsigned_status": t.unsigned_status.unwrap_or(403),
        "date_created": t.date_created,
        "date_updated": t.date_updated,
        "url": url,
        "links": {
            "origination_urls": format!("{url}/OriginationUrls"),
            "credential_lists": format!("{url}/CredentialLists"),
            "ip_access_control_lists": format!("{url}/IpAccessControlLists"),
            "phone_numbers": format!("{url}/PhoneNumbers"),
        },
    })
}

/// A list as a trunk uses it.
fn trunk_list(base: &str, link: &TrunkAcl, list: &IpAccessControlList) -> Value {
    json!({
        "account_sid": link.account_sid,
        "sid": list.sid,
        "trunk_sid": link.trunk_sid,
        "friendly_name": list.friendly_name,
        "date_created": link.date_created,
        "date_updated": link.date_created,
        "url": format!("{base}/v1/Trunks/{}/IpAccessControlLists/{}", link.trunk_sid, list.sid),
    })
}

fn list_uri(l: &IpAccessControlList) -> String {
    format!(
        "/2010-04-01/Accounts/{}/SIP/IpAccessControlLists/{}",
        l.account_sid, l.sid
    )
}

fn list(l: &IpAccessControlList) -> Value {
    let uri = list_uri(l);
    json!({
        "sid": l.sid,
        "account_sid": l.account_sid,
        "friendly_name": l.friendly_name,
        "date_created": rfc2822(&l.date_created),
        "date_updated": rfc2822(&l.date_updated),
        "subresource_uris": {"ip_addresses": format!("{uri}/IpAddresses.json")},
        "uri": format!("{uri}.json"),
    })
}

fn address(a: &IpAddress) -> Value {
    json!({
        "sid": a.sid,
        "account_sid": a.account_sid,
        "friendly_name": a.friendly_name,
        "ip_address": a.ip_address,
        "cidr_prefix_length": a.cidr_prefix_length,
        "ip_access_control_list_sid": a.ip_access_control_list_sid,
        "date_created": rfc2822(&a.date_created),
        "date_updated": rfc2822(&a.date_updated),
        "uri": format!(
            "/2010-04-01/Accounts/{}/SIP/IpAccessControlLists/{}/IpAddresses/{}.json",
            a.account_sid, a.ip_access_control_list_sid, a.sid
        ),
    })
}

/// How trunk `t` admits calls: by IP access list, by credential list.
fn auth_types(hub: &Hub, caller: &Caller, t: &Trunk) -> Result<Vec<&'static str>, ApiError> {
    let one = Page {
        offset: 0,
        limit: 1,
    };
    let mut auth = Vec::new();
    if !hub.trunk_lists(caller, t.sid, one)?.is_empty() {
        auth.push("IP_ACL");
    }
    if !hub.trunk_credential_lists(caller, t.sid, one)?.is_empty() {
        auth.push("CREDENTIAL_LIST");
    }
    Ok(auth)
}

/// The account and list SIDs of a 2010 list path.
fn account_and_list(account: &str, list: &str) -> Result<(Sid, Sid), ParamError> {
    Ok((
        parse_sid("AccountSid", account, "AC")?,
        parse_sid("IpAccessControlListSid", list, "AL")?,
    ))
}

fn trunk_fields(p: &Params) -> Result<TrunkFields, ParamError> {
    p.allow(
        &[
            "FriendlyName",
            "DomainName",
            "CallsPerSecond",
            "CallsBurst",
            "MinimumAttestation",
            "BelowMinimumStatus",
            "IdentityPolicy",
            "Role",
            "Origid",
            "RequestedLevel",
            "ContactIdentity",
            "AttestationHeaders",
            "SigningFailure",
            "SignPolicy",
            "UnsignedStatus",
        ],
        false,
    )?;
    let number = |name: &'static str| {
        p.get(name)
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| ParamError::NotANumber(name))
            })
            .transpose()
    };
    Ok(TrunkFields {
        friendly_name: p.owned("FriendlyName"),
        domain_name: p.owned("DomainName"),
        calls_per_second: number("CallsPerSecond")?,
        calls_burst: number("CallsBurst")?,
        minimum_attestation: p.owned("MinimumAttestation"),
        below_minimum_status: number("BelowMinimumStatus")?
            .map(|n| u16::try_from(n).unwrap_or(u16::MAX)),
        identity_policy: p.owned("IdentityPolicy"),
        role: p.owned("Role"),
        origid: p.owned("Origid"),
        requested_level: p.owned("RequestedLevel"),
        contact_identity: p.owned("ContactIdentity"),
        attestation_headers: p.owned("AttestationHeaders"),
        signing_failure: p.owned("SigningFailure"),
        sign_policy: p.owned("SignPolicy"),
        unsigned_status: number("UnsignedStatus")?.map(|n| u16::try_from(n).unwrap_or(u16::MAX)),
    })
}

fn address_fields(p: &Params) -> Result<AddressFields, ParamError> {
    p.allow(&["FriendlyName", "IpAddress", "CidrPrefixLength"], false)?;
    let cidr = p
        .get("CidrPrefixLength")
        .map(|v| {
            v.trim()
                .parse::<u8>()
                .map_err(|_| ParamError::NotANumber("CidrPrefixLength"))
        })
        .transpose()?;
    Ok(AddressFields {
        friendly_name: p.owned("FriendlyName"),
        ip_address: p.owned("IpAddress"),
        cidr_prefix_length: cidr,
    })
}

pub(super) async fn create_trunk(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        let t = hub.create_trunk(caller, trunk_fields(&req.params)?)?;
        Ok(Reply::Created(trunk(&req.base_url, &t, &[])))
    })
    .await
}

pub(super) async fn list_trunks(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let mut rows = Vec::new();
        for t in hub.trunks(caller, render::store_page(page))? {
            rows.push(trunk(&req.base_url, &t, &auth_types(hub, caller, &t)?));
        }
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            "/v1/Trunks",
            "trunks",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch_trunk(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let t = hub.trunk(caller, parse_sid("Sid", &sid, "TK")?)?;
        Ok(Reply::Ok(trunk(
            &req.base_url,
            &t,
            &auth_types(hub, caller, &t)?,
        )))
    })
    .await
}

pub(super) async fn update_trunk(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let fields = trunk_fields(&req.params)?;
        req.params.some()?;
        let t = hub.update_trunk(caller, parse_sid("Sid", &sid, "TK")?, fields)?;
        Ok(Reply::Ok(trunk(
            &req.base_url,
            &t,
            &auth_types(hub, caller, &t)?,
        )))
    })
    .await
}

pub(super) async fn delete_trunk(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        hub.delete_trunk(caller, parse_sid("Sid", &sid, "TK")?)?;
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
        req.params.allow(&["IpAccessControlListSid"], false)?;
        let trunk = parse_sid("TrunkSid", &trunk, "TK")?;
        let list = req.params.required_sid("IpAccessControlListSid", "AL")?;
        let (link, acl) = hub.add_trunk_list(caller, trunk, list)?;
        Ok(Reply::Created(trunk_list(&req.base_url, &link, &acl)))
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
            .trunk_lists(caller, trunk, render::store_page(page))?
            .iter()
            .map(|(link, acl)| trunk_list(&req.base_url, link, acl))
            .collect();
        let path = format!("/v1/Trunks/{trunk}/IpAccessControlLists");
        Ok(Reply::Ok(render::v1_page_keyed(
            &req.base_url,
            &path,
            "ip_access_control_lists",
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
        let (link, acl) = hub.trunk_list(caller, trunk, parse_sid("Sid", &sid, "AL")?)?;
        Ok(Reply::Ok(trunk_list(&req.base_url, &link, &acl)))
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
        hub.remove_trunk_list(caller, trunk, parse_sid("Sid", &sid, "AL")?)?;
        Ok(Reply::NoContent)
    })
    .await
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
        let l = hub.create_list(caller, account, name)?;
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
            .lists(caller, account, render::store_page(page))?
            .iter()
            .map(list)
            .collect();
        let path = format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists.json");
        Ok(Reply::Ok(render::v2010_page(
            &path,
            "ip_access_control_lists",
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
        let l = hub.list(caller, account, json_sid("Sid", &segment, "AL")?)?;
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
        let l = hub.rename_list(caller, account, json_sid("Sid", &segment, "AL")?, name)?;
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
        hub.delete_list(caller, account, json_sid("Sid", &segment, "AL")?)?;
        Ok(Reply::NoContent)
    })
    .await
}

pub(super) async fn create_address(
    State(state): State<ApiState>,
    Path((account, list)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let fields = address_fields(&req.params)?;
        req.params.required("FriendlyName")?;
        req.params.required("IpAddress")?;
        let (account, list) = account_and_list(&account, &list)?;
        let a = hub.create_address(caller, account, list, fields)?;
        Ok(Reply::Created(address(&a)))
    })
    .await
}

pub(super) async fn list_addresses(
    State(state): State<ApiState>,
    Path((account, list)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let (account, list) = account_and_list(&account, &list)?;
        let page = req.params.page()?;
        let rows = hub
            .addresses(caller, account, list, render::store_page(page))?
            .iter()
            .map(address)
            .collect();
        let path = format!(
            "/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}/IpAddresses.json"
        );
        Ok(Reply::Ok(render::v2010_page(
            &path,
            "ip_addresses",
            &req.params,
            page,
            rows,
        )))
    })
    .await
}

pub(super) async fn fetch_address(
    State(state): State<ApiState>,
    Path((account, list, segment)): Path<(String, String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let (account, list) = account_and_list(&account, &list)?;
        let a = hub.address(caller, account, list, json_sid("Sid", &segment, "IP")?)?;
        Ok(Reply::Ok(address(&a)))
    })
    .await
}

pub(super) async fn update_address(
    State(state): State<ApiState>,
    Path((account, list, segment)): Path<(String, String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let fields = address_fields(&req.params)?;
        req.params.some()?;
        let (account, list) = account_and_list(&account, &list)?;
        let sid = json_sid("Sid", &segment, "IP")?;
        let a = hub.update_address(caller, account, list, sid, fields)?;
        Ok(Reply::Ok(address(&a)))
    })
    .await
}

pub(super) async fn delete_address(
    State(state): State<ApiState>,
    Path((account, list, segment)): Path<(String, String, String)>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let (account, list) = account_and_list(&account, &list)?;
        hub.delete_address(caller, account, list, json_sid("Sid", &segment, "IP")?)?;
        Ok(Reply::NoContent)
    })
    .await
}
