//! What the sub-resources of a bundle share (`EntityAssignments`,
//! `ChannelEndpointAssignments`, `Evaluations`): their path segment and SID prefix, the
//! visibility check, the fetch handler and the list reply, for either kind of bundle.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::bundles::visible as visible_bundle;
use super::error::ApiError;
use super::hub::{Caller, Hub};
use super::render::{self, Kind};
use super::request::{ApiRequest, PageRequest, parse_sid};
use super::routes::{Reply, run};
use crate::store::{Evaluation, Store, StoreError};
use crate::trust::{Bundle, ChannelEndpointAssignment, EntityAssignment, Sid};

/// A resource that hangs off one bundle, at `/v1/{Kind}/{bundle}/{SEGMENT}/{sid}`.
pub trait Subresource: Sized + Send + 'static {
    /// The path segment under the bundle.
    const SEGMENT: &'static str;
    /// The prefix of its SIDs.
    const PREFIX: &'static str;
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError>;
    fn bundle_sid(&self) -> Sid;
    /// Its Twilio JSON shape under a bundle of `kind`.
    fn render(&self, base: &str, kind: Kind) -> Value;
}

impl Subresource for EntityAssignment {
    const SEGMENT: &'static str = "EntityAssignments";
    const PREFIX: &'static str = "BV";
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError> {
        store.entity_assignment(sid)
    }
    fn bundle_sid(&self) -> Sid {
        self.bundle_sid
    }
    fn render(&self, base: &str, kind: Kind) -> Value {
        render::entity_assignment(base, kind, self)
    }
}

impl Subresource for ChannelEndpointAssignment {
    const SEGMENT: &'static str = "ChannelEndpointAssignments";
    const PREFIX: &'static str = "RA";
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError> {
        store.channel_endpoint_assignment(sid)
    }
    fn bundle_sid(&self) -> Sid {
        self.bundle_sid
    }
    fn render(&self, base: &str, kind: Kind) -> Value {
        render::channel_endpoint_assignment(base, kind, self)
    }
}

impl Subresource for Evaluation {
    const SEGMENT: &'static str = "Evaluations";
    const PREFIX: &'static str = "EL";
    fn read(store: &dyn Store, sid: Sid) -> Result<Option<Self>, StoreError> {
        store.evaluation(sid)
    }
    fn bundle_sid(&self) -> Sid {
        self.bundle_sid
    }
    fn render(&self, base: &str, kind: Kind) -> Value {
        render::evaluation(base, kind, self)
    }
}

/// Sub-resource `sid` of the visible bundle `bundle`; 404 unless it hangs off that bundle.
pub fn visible<T: Subresource>(
    hub: &Hub,
    caller: &Caller,
    kind: Kind,
    bundle: &str,
    sid: &str,
) -> Result<(Bundle, T), ApiError> {
    let b = visible_bundle(hub, caller, kind, bundle)?;
    let parsed = parse_sid("Sid", sid, T::PREFIX)?;
    let child = T::read(hub.store.as_ref(), parsed)?
        .filter(|c| c.bundle_sid() == b.sid)
        .ok_or_else(|| {
            ApiError::NotFound(format!("/v1/{}/{}/…/{sid}", kind.collection(), b.sid))
        })?;
    Ok((b, child))
}

/// The v1 list envelope of `rows`, sub-resources of bundle `bundle`.
pub fn list_reply<T: Subresource>(
    req: &ApiRequest,
    kind: Kind,
    bundle: Sid,
    page: PageRequest,
    rows: &[T],
) -> Reply {
    let path = format!("/v1/{}/{bundle}/{}", kind.collection(), T::SEGMENT);
    Reply::Ok(render::v1_list(req, &path, page, rows, |base, item| {
        item.render(base, kind)
    }))
}

/// `GET /v1/{Kind}/{bundle}/{SEGMENT}/{sid}`.
pub(super) async fn fetch<T: Subresource>(
    State(hub): State<Arc<Hub>>,
    Path((bundle, sid)): Path<(String, String)>,
    req: ApiRequest,
    kind: Kind,
) -> Response {
    run(hub, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let (_, item) = visible::<T>(hub, caller, kind, &bundle, &sid)?;
        Ok(Reply::Ok(item.render(&req.base_url, kind)))
    })
    .await
}
