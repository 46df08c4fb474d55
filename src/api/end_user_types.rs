//! `/v1/EndUserTypes`: the end-user types bundles use (read-only), with the attributes
//! an end user of each holds, as Twilio's catalogue lists them.

use axum::extract::{Path, State};
use axum::response::Response;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, parse_sid};
use crate::trust::rules::{END_USER_TYPE_CATALOGUE, EndUserType};
use crate::trusthub::{HubError, Missing};

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |_, _, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        Ok(Reply::Ok(render::catalogue_page(
            req,
            "/v1/EndUserTypes",
            "end_user_types",
            page,
            END_USER_TYPE_CATALOGUE,
            render::end_user_type,
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |_, _, req| {
        req.params.allow(&[], false)?;
        // By SID, or by machine name as the policies' requirements link to it.
        let by_name = END_USER_TYPE_CATALOGUE
            .iter()
            .find(|t| t.machine_name == sid);
        let t = match by_name {
            Some(t) => t,
            None => {
                let sid = parse_sid("Sid", &sid, "OY")?;
                EndUserType::by_sid(sid).ok_or(HubError::NotFound(Missing::EndUserType(sid)))?
            }
        };
        Ok(Reply::Ok(render::end_user_type(&req.base_url, t)))
    })
    .await
}
