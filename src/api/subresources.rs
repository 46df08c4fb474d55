//! What the three sub-resources of a bundle share over HTTP (`EntityAssignments`,
//! `ChannelEndpointAssignments`, `Evaluations`): their path segment and SID prefix, their
//! JSON, the fetch handler and the list reply, for either kind of bundle.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, PageRequest, parse_sid};
use crate::trust::{BundleKind, ChannelEndpointAssignment, EntityAssignment, Evaluation, Sid};
use crate::trusthub::assignments::BundleChild;

/// A record served at `/v1/{Kind}/{bundle}/{SEGMENT}/{sid}`.
pub trait Subresource: BundleChild + Send + 'static {
    /// The path segment under the bundle.
    const SEGMENT: &'static str;
    /// The prefix of its SIDs.
    const PREFIX: &'static str;
    /// Its Twilio JSON shape under a bundle of `kind`.
    fn render(&self, base: &str, kind: BundleKind) -> Value;
}

impl Subresource for EntityAssignment {
    const SEGMENT: &'static str = render::ENTITY_ASSIGNMENTS;
    const PREFIX: &'static str = "BV";
    fn render(&self, base: &str, kind: BundleKind) -> Value {
        render::entity_assignment(base, kind, self)
    }
}

impl Subresource for ChannelEndpointAssignment {
    const SEGMENT: &'static str = render::CHANNEL_ENDPOINT_ASSIGNMENTS;
    const PREFIX: &'static str = "RA";
    fn render(&self, base: &str, kind: BundleKind) -> Value {
        render::channel_endpoint_assignment(base, kind, self)
    }
}

impl Subresource for Evaluation {
    const SEGMENT: &'static str = render::EVALUATIONS;
    const PREFIX: &'static str = "EL";
    fn render(&self, base: &str, kind: BundleKind) -> Value {
        render::evaluation(base, kind, self)
    }
}

/// The v1 list envelope of `rows`, sub-resources of bundle `bundle`.
pub fn list_reply<T: Subresource>(
    req: &ApiRequest,
    kind: BundleKind,
    bundle: Sid,
    page: PageRequest,
    rows: &[T],
) -> Reply {
    let path = format!("/v1/{}/{bundle}/{}", render::collection(kind), T::SEGMENT);
    Reply::Ok(render::v1_list(req, &path, page, rows, |base, item| {
        item.render(base, kind)
    }))
}

/// `GET /v1/{Kind}/{bundle}/{SEGMENT}/{sid}`.
pub async fn fetch<T: Subresource>(
    State(state): State<ApiState>,
    Path((bundle, sid)): Path<(String, String)>,
    req: ApiRequest,
    kind: BundleKind,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let bundle = parse_sid("Sid", &bundle, "BU")?;
        let sid = parse_sid("Sid", &sid, T::PREFIX)?;
        let (_, item) = hub.bundle_child::<T>(caller, kind, bundle, sid)?;
        Ok(Reply::Ok(item.render(&req.base_url, kind)))
    })
    .await
}
