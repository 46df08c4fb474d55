//! `/2010-04-01/Accounts`: create (a top-level account as the operator, a sub-account as
//! an account), fetch, list and update. Responses carry the account's `auth_token`.

use axum::extract::{Path, State};
use axum::response::Response;
use std::sync::Arc;

use super::error::ApiError;
use super::hub::{Caller, Hub, IndexOp, Write, new_sid, new_token};
use super::render;
use super::request::{ApiRequest, json_sid};
use super::routes::{Reply, run};
use crate::store::{AccountQuery, Change};
use crate::trust::{Account, AccountStatus};

const PATH: &str = "/2010-04-01/Accounts.json";

pub(super) async fn create(State(hub): State<Arc<Hub>>, req: ApiRequest) -> Response {
    run(hub, req, |hub, caller, req| {
        req.params.allow(&["FriendlyName"], false)?;
        let parent = match caller {
            Caller::Operator => None,
            Caller::Account { sid, parent: None } => Some(*sid),
            Caller::Account {
                parent: Some(_), ..
            } => {
                return Err(ApiError::Forbidden(
                    "A sub-account cannot create sub-accounts".into(),
                ));
            }
        };
        let now = render::iso(hub.now_unix());
        let sid = new_sid("AC")?;
        let account = Account {
            sid,
            parent_sid: parent,
            friendly_name: Some(
                req.params
                    .get("FriendlyName")
                    .map_or_else(|| format!("SubAccount Created at {now}"), str::to_owned),
            ),
            auth_token: Some(new_token()),
            status: AccountStatus::Active,
            account_type: Some("Full".into()),
            date_created: Some(now.clone()),
            date_updated: Some(now),
            uri: None,
            subresource_uris: None,
        };
        let guard = hub.lock();
        hub.commit(
            &guard,
            Write {
                changes: vec![Change::PutAccount(account.clone())],
                ops: vec![IndexOp::Account { sid, parent }],
                callbacks: Vec::new(),
            },
        )?;
        Ok(Reply::Created(render::account(&account)))
    })
    .await
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, req: ApiRequest) -> Response {
    run(hub, req, |hub, caller, req| {
        req.params.allow(&["FriendlyName", "Status"], true)?;
        let page = req.params.page()?;
        let accounts = match caller {
            Caller::Operator => None,
            Caller::Account { sid, .. } => {
                let family = hub.store.accounts(
                    &AccountQuery {
                        parent: Some(*sid),
                        ..AccountQuery::default()
                    },
                    crate::store::Page::ALL,
                )?;
                Some(
                    std::iter::once(*sid)
                        .chain(family.into_iter().map(|a| a.sid))
                        .collect(),
                )
            }
        };
        let query = AccountQuery {
            accounts,
            parent: None,
            friendly_name: req.params.get("FriendlyName").map(str::to_owned),
            status: req.params.get("Status").map(str::to_owned),
        };
        let rows = hub.store.accounts(&query, render::store_page(page))?;
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

/// The account named by a `{Sid}.json` segment, if the caller may see it.
fn visible(hub: &Hub, caller: &Caller, segment: &str) -> Result<Account, ApiError> {
    let sid = json_sid("Sid", segment, "AC")?;
    let not_found = || ApiError::NotFound(format!("/2010-04-01/Accounts/{segment}"));
    if !hub.sees(caller, sid) {
        return Err(not_found());
    }
    hub.store.account(sid)?.ok_or_else(not_found)
}

pub(super) async fn fetch(
    State(hub): State<Arc<Hub>>,
    Path(segment): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        Ok(Reply::Ok(render::account(&visible(hub, caller, &segment)?)))
    })
    .await
}

pub(super) async fn update(
    State(hub): State<Arc<Hub>>,
    Path(segment): Path<String>,
    req: ApiRequest,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&["FriendlyName", "Status"], false)?;
        let guard = hub.lock();
        let mut account = visible(hub, caller, &segment)?;
        if let Some(name) = req.params.get("FriendlyName") {
            account.friendly_name = Some(name.to_owned());
        }
        if let Some(status) = req.params.get("Status") {
            if matches!(caller, Caller::Account { sid, .. } if *sid == account.sid) {
                return Err(ApiError::Forbidden(
                    "An account cannot change its own status; its parent or the operator can"
                        .into(),
                ));
            }
            account.status = serde_json::from_value(serde_json::json!(status)).map_err(|_| {
                ApiError::invalid(format!(
                    "Status must be active, suspended or closed, got {status:?}"
                ))
            })?;
        }
        account.date_updated = Some(render::iso(hub.now_unix()));
        hub.commit(
            &guard,
            Write::store_only(Change::PutAccount(account.clone())),
        )?;
        Ok(Reply::Ok(render::account(&account)))
    })
    .await
}
