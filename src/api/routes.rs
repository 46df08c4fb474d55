//! The Trust Hub routes (Twilio's Trust Hub v1 and 2010 paths) and the plumbing every
//! handler shares: authenticate, run the work off the async threads, and answer with
//! JSON or a Twilio error body.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use serde_json::Value;

use super::error::ApiError;
use super::hub::{Caller, Hub};
use super::render::Kind;
use super::request::ApiRequest;
use super::subresources::{self, Subresource};
use super::{
    accounts, assignments, attestation, bundles, end_users, evaluations, numbers, policies,
};
use crate::store::Evaluation;
use crate::trust::{ChannelEndpointAssignment, EntityAssignment};

/// A successful answer.
#[derive(Debug)]
pub enum Reply {
    Ok(Value),
    Created(Value),
    NoContent,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
            Reply::Created(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
            Reply::NoContent => StatusCode::NO_CONTENT.into_response(),
        }
    }
}

/// Authenticates the request and runs `work` on a blocking thread (store I/O).
pub async fn run<F>(hub: Arc<Hub>, req: ApiRequest, work: F) -> Response
where
    F: FnOnce(&Hub, &Caller, &ApiRequest) -> Result<Reply, ApiError> + Send + 'static,
{
    let done = tokio::task::spawn_blocking(move || {
        let caller = hub.authenticate(req.credentials.as_ref())?;
        work(&hub, &caller, &req)
    })
    .await;
    match done {
        Ok(Ok(reply)) => reply.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// Every Trust Hub route, on `hub`.
pub fn router(hub: Arc<Hub>) -> Router {
    let mut r = Router::new()
        .route(
            "/2010-04-01/Accounts.json",
            get(accounts::list).post(accounts::create),
        )
        .route(
            "/2010-04-01/Accounts/{sid}",
            get(accounts::fetch).post(accounts::update),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            get(numbers::list).post(numbers::create),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{sid}",
            get(numbers::fetch).delete(numbers::delete),
        )
        .route("/v1/EndUsers", get(end_users::list).post(end_users::create))
        .route(
            "/v1/EndUsers/{sid}",
            get(end_users::fetch)
                .post(end_users::update)
                .delete(end_users::delete),
        )
        .route("/v1/Policies", get(policies::list))
        .route("/v1/Policies/{sid}", get(policies::fetch))
        .route("/v1/Attestation", get(attestation::get));
    for kind in [Kind::Profile, Kind::Product] {
        r = bundle_routes(r, kind);
    }
    r.method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .with_state(hub)
}

type HubRoute = MethodRouter<Arc<Hub>>;

/// A bundle kind's routes: the collection, one bundle, and each sub-resource's collection
/// and item under it.
fn bundle_routes(r: Router<Arc<Hub>>, kind: Kind) -> Router<Arc<Hub>> {
    let base = format!("/v1/{}", kind.collection());
    let children: [(&str, HubRoute, HubRoute); 3] = [
        (
            EntityAssignment::SEGMENT,
            get(move |s, p, q| assignments::list_entities(s, p, q, kind))
                .post(move |s, p, q| assignments::create_entity(s, p, q, kind)),
            get(move |s, p, q| subresources::fetch::<EntityAssignment>(s, p, q, kind))
                .delete(move |s, p, q| assignments::delete_entity(s, p, q, kind)),
        ),
        (
            ChannelEndpointAssignment::SEGMENT,
            get(move |s, p, q| assignments::list_endpoints(s, p, q, kind))
                .post(move |s, p, q| assignments::create_endpoint(s, p, q, kind)),
            get(move |s, p, q| subresources::fetch::<ChannelEndpointAssignment>(s, p, q, kind))
                .delete(move |s, p, q| assignments::delete_endpoint(s, p, q, kind)),
        ),
        (
            Evaluation::SEGMENT,
            get(move |s, p, q| evaluations::list(s, p, q, kind))
                .post(move |s, p, q| evaluations::create(s, p, q, kind)),
            get(move |s, p, q| subresources::fetch::<Evaluation>(s, p, q, kind)),
        ),
    ];
    let mut r = r
        .route(
            &base,
            get(move |s, q| bundles::list(s, q, kind))
                .post(move |s, q| bundles::create(s, q, kind)),
        )
        .route(
            &format!("{base}/{{sid}}"),
            get(move |s, p, q| bundles::fetch(s, p, q, kind))
                .post(move |s, p, q| bundles::update(s, p, q, kind))
                .delete(move |s, p, q| bundles::delete(s, p, q, kind)),
        );
    for (segment, collection, item) in children {
        r = r
            .route(&format!("{base}/{{bundle}}/{segment}"), collection)
            .route(&format!("{base}/{{bundle}}/{segment}/{{sid}}"), item);
    }
    r
}

/// In read-only file mode the Trust Hub paths answer 503 with the reason.
pub fn unavailable() -> Router {
    let answer = || async {
        ApiError::Unavailable(
            "The Trust Hub API needs [trust] store; this server reads its trust data from a file"
                .into(),
        )
        .into_response()
    };
    Router::new()
        .route("/v1/{*rest}", any(answer))
        .route("/2010-04-01/{*rest}", any(answer))
}
