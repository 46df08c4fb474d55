//! `Evaluations` under a customer profile or trust product: check the bundle against its
//! policy's requirements now, store the result, and read past results back.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;

use super::bundles::{attached, policy_of, visible};
use super::error::ApiError;
use super::hub::{Hub, Write, new_sid};
use super::render::{self, Kind};
use super::request::ApiRequest;
use super::review;
use super::routes::{Reply, run};
use super::subresources::{Subresource, list_reply};
use crate::store::{Change, Evaluation};

pub(super) async fn create(
    State(hub): State<Arc<Hub>>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub: &Hub, caller, req| {
        req.params.allow(&["PolicySid"], false)?;
        let policy_sid = req
            .params
            .sid("PolicySid", "RN")?
            .ok_or_else(|| ApiError::invalid("Required parameter PolicySid is missing"))?;
        let guard = hub.lock();
        let b = visible(hub, caller, kind, &bundle)?;
        if policy_sid != b.policy_sid {
            return Err(ApiError::invalid(format!(
                "PolicySid {policy_sid} is not the policy of {}",
                b.sid
            )));
        }
        let (compliant, results) = review::evaluate(policy_of(&b)?, &attached(hub, &b)?);
        let evaluation = Evaluation {
            sid: new_sid("EL")?,
            account_sid: b.account_sid,
            policy_sid,
            bundle_sid: b.sid,
            status: if compliant {
                "compliant"
            } else {
                "noncompliant"
            }
            .into(),
            results,
            date_created: render::iso(hub.now_unix()),
        };
        hub.commit(
            &guard,
            Write::store_only(Change::PutEvaluation(evaluation.clone())),
        )?;
        Ok(Reply::Created(evaluation.render(&req.base_url, kind)))
    })
    .await
}

pub(super) async fn list(
    State(hub): State<Arc<Hub>>,
    Path(bundle): Path<String>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let b = visible(hub, caller, kind, &bundle)?;
        let rows = hub.store.evaluations(b.sid, render::store_page(page))?;
        Ok(list_reply(req, kind, b.sid, page, &rows))
    })
    .await
}
