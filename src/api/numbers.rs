//! `/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers`: the operator's own numbers,
//! assigned to an account. Only the operator creates them; the account (or its parent)
//! may list, fetch and release (delete) them. Numbers are stored in E.164.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;

use super::error::ApiError;
use super::hub::{Caller, Hub, IndexOp, Write, new_sid};
use super::render;
use super::request::{ApiRequest, json_sid, parse_sid};
use super::routes::{Reply, run};
use crate::store::{Change, NumberQuery, Page};
use crate::tn::{self, Tn};
use crate::trust::{PhoneNumber, Policy, Sid};

/// The path's account, if the caller may see it.
fn path_account(hub: &Hub, caller: &Caller, account: &str) -> Result<Sid, ApiError> {
    let sid = parse_sid("AccountSid", account, "AC")?;
    let not_found = || ApiError::NotFound(format!("/2010-04-01/Accounts/{account}"));
    if !hub.sees(caller, sid) || hub.store.account(sid)?.is_none() {
        return Err(not_found());
    }
    Ok(sid)
}

/// Canonical E.164 (`+` and digits) for an owned number, which must be given with `+`.
pub fn e164(raw: &str) -> Result<(Tn, String), ApiError> {
    let invalid = || ApiError::InvalidPhoneNumber(raw.to_owned());
    if !raw.trim_start().starts_with('+') {
        return Err(invalid());
    }
    let tn = tn::canonicalize(raw, &tn::Numbering::default()).map_err(|_| invalid())?;
    let digits = tn.as_str();
    // E.164 numbers in use have 8 to 15 digits; North American ones exactly 11.
    let plausible =
        (8..=15).contains(&digits.len()) && (!digits.starts_with('1') || digits.len() == 11);
    if !plausible {
        return Err(invalid());
    }
    Ok((tn, format!("+{tn}")))
}

/// The customer profile a number is assigned to (the 2010 API's `bundle_sid`).
fn profile_of(hub: &Hub, number: &PhoneNumber) -> Result<Option<Sid>, ApiError> {
    let assignments = hub
        .store
        .channel_endpoint_assignments(None, &[number.sid], Page::ALL)?;
    for a in assignments {
        if let Some(b) = hub.store.bundle(a.bundle_sid)?
            && Policy::from_sid(b.policy_sid).is_some_and(Policy::is_customer_profile)
        {
            return Ok(Some(b.sid));
        }
    }
    Ok(None)
}

pub(super) async fn create(
    State(hub): State<Arc<Hub>>,
    Path(account): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&["PhoneNumber", "FriendlyName"], false)?;
        let account = path_account(hub, caller, &account)?;
        caller.require_operator("create phone numbers")?;
        let (_, e164) = e164(req.params.required("PhoneNumber")?)?;
        let guard = hub.lock();
        if hub.store.number_by_e164(&e164)?.is_some() {
            return Err(ApiError::PhoneNumberExists(e164));
        }
        let now = render::iso(hub.now_unix());
        let number = PhoneNumber {
            sid: new_sid("PN")?,
            account_sid: account,
            phone_number: e164,
            friendly_name: req.params.get("FriendlyName").map(str::to_owned),
            date_created: Some(now.clone()),
            date_updated: Some(now),
            uri: None,
        };
        hub.commit(
            &guard,
            Write {
                changes: vec![Change::PutNumber(number.clone())],
                ops: vec![IndexOp::Number(number.clone())],
                callbacks: Vec::new(),
            },
        )?;
        Ok(Reply::Created(render::number(&number, None)))
    })
    .await
}

pub(super) async fn list(
    State(hub): State<Arc<Hub>>,
    Path(account): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params
            .allow(&["PhoneNumber", "FriendlyName", "Beta", "Origin"], true)?;
        let sid = path_account(hub, caller, &account)?;
        let page = req.params.page()?;
        let query = NumberQuery {
            account: sid,
            pattern: req.params.get("PhoneNumber").map(str::to_owned),
            friendly_name: req.params.get("FriendlyName").map(str::to_owned),
        };
        let mut rows = Vec::new();
        for n in hub.store.numbers(&query, render::store_page(page))? {
            rows.push(render::number(&n, profile_of(hub, &n)?));
        }
        let path = format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
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

/// The number named by the path, if it belongs to the path's visible account.
fn visible(
    hub: &Hub,
    caller: &Caller,
    account: &str,
    segment: &str,
) -> Result<PhoneNumber, ApiError> {
    let account = path_account(hub, caller, account)?;
    let sid = json_sid("Sid", segment, "PN")?;
    hub.store
        .number(sid)?
        .filter(|n| n.account_sid == account)
        .ok_or_else(|| ApiError::NotFound(format!("IncomingPhoneNumbers/{segment}")))
}

pub(super) async fn fetch(
    State(hub): State<Arc<Hub>>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let n = visible(hub, caller, &account, &segment)?;
        Ok(Reply::Ok(render::number(&n, profile_of(hub, &n)?)))
    })
    .await
}

pub(super) async fn delete(
    State(hub): State<Arc<Hub>>,
    Path((account, segment)): Path<(String, String)>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let guard = hub.lock();
        let n = visible(hub, caller, &account, &segment)?;
        let (tn, _) = e164(&n.phone_number)?;
        let mut write = Write::default();
        for a in hub
            .store
            .channel_endpoint_assignments(None, &[n.sid], Page::ALL)?
        {
            write
                .changes
                .push(Change::DeleteChannelEndpointAssignment(a.sid));
        }
        write.changes.push(Change::DeleteNumber(n.sid));
        write.ops.push(IndexOp::RemoveNumber(tn));
        hub.commit(&guard, write)?;
        Ok(Reply::NoContent)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_numbers_must_be_e164() {
        assert_eq!(e164("+1 (215) 555-0121").unwrap().1, "+12155550121");
        assert_eq!(e164("+442071838750").unwrap().1, "+442071838750");
        for bad in [
            "2155550121",
            "+12",
            "+1215555012a",
            "",
            "+0123456",
            "+121555501212",
        ] {
            assert_eq!(
                e164(bad).map(|(_, s)| s),
                Err(ApiError::InvalidPhoneNumber(bad.into())),
                "{bad}"
            );
        }
    }
}
