//! The Trust Hub routes (Twilio's Trust Hub v1 and 2010 paths) and the plumbing every
//! handler shares: authenticate, run the work off the async threads, and answer with
//! JSON or a Twilio error body.

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any, get};

use super::error::ApiError;
use super::render;
use super::reply::ApiState;
use super::subresources::{self, Subresource};
use super::{
    accounts, assignments, attestation, bundles, end_users, evaluations, numbers, policies,
};
use crate::trust::{BundleKind, ChannelEndpointAssignment, EntityAssignment, Evaluation};

/// Every Trust Hub route, on `state`.
pub fn router(state: ApiState) -> Router {
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
    for kind in [BundleKind::CustomerProfile, BundleKind::TrustProduct] {
        r = bundle_routes(r, kind);
    }
    r.method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .with_state(state)
}

type HubRoute = MethodRouter<ApiState>;

/// A bundle kind's routes: the collection, one bundle, and each sub-resource's collection
/// and item under it.
fn bundle_routes(r: Router<ApiState>, kind: BundleKind) -> Router<ApiState> {
    let base = format!("/v1/{}", render::collection(kind));
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
    let answer = || async { ApiError::FileMode.into_response() };
    Router::new()
        .route("/v1/{*rest}", any(answer))
        .route("/2010-04-01/{*rest}", any(answer))
}
