//! The HTTP listener: the x5u certificate chain and the CRLs beside it, Prometheus
//! `/metrics`, and the Trust Hub API in Twilio's Trust Hub v1 and 2010
//! Accounts/IncomingPhoneNumbers shapes. The handlers only parse Twilio's parameters,
//! call the [`crate::trusthub`] service and render Twilio's JSON.
//!
//! - [`routes`]: the Trust Hub paths; [`reply`]: the plumbing every handler shares
//!   (state, authentication, the answer).
//! - One file per resource: [`accounts`], [`numbers`], [`bundles`], [`assignments`],
//!   [`evaluations`], [`end_users`], [`end_user_types`], [`policies`], [`attestation`];
//!   [`subresources`]:
//!   what the three bundle sub-resources share.
//! - [`request`], [`render`], [`error`]: parameters, Twilio JSON shapes, error bodies
//!   and the one mapping of every error to an HTTP status and Twilio code.
//! - [`trunking`]: trunks and their IP access control lists, and [`credentials`]:
//!   credential lists, in Twilio's Elastic SIP Trunking shapes.
//! - [`listener`]: the TCP listener, which gives hyper's own refusals Twilio's body.

pub mod accounts;
pub mod assignments;
pub mod attestation;
pub mod auth_tokens;
pub mod bundles;
pub mod credentials;
pub mod documents;
pub mod end_user_types;
pub mod end_users;
pub mod error;
pub mod evaluations;
pub mod identities;
pub mod listener;
pub mod lookups;
pub mod numbers;
pub mod origination;
pub mod policies;
pub mod render;
pub mod reply;
pub mod request;
pub mod review;
pub mod routes;
pub mod subresources;
pub mod trunk_numbers;
pub mod trunking;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::identities::Identities;
use crate::metrics::Metrics;

pub use error::{ApiError, ParamError};
pub use reply::ApiState;

/// What the HTTP routes read.
#[derive(Clone)]
pub struct HttpState {
    /// The PEM chain served at the x5u path (swappable on certificate rotation).
    pub chain_pem: Arc<ArcSwap<String>>,
    pub x5u_max_age: u64,
    pub metrics: Arc<Metrics>,
    /// The signing identities, whose chains are served under this path (ending in `/`)
    /// as `<SID>.pem`.
    pub identities: Option<(String, Arc<Identities>)>,
    /// Whether the trust data comes from a store other nodes share (PostgreSQL), whose
    /// reachability `/ready` reports (`trust_store_up`, kept by the change feed).
    pub shared_store: bool,
}

/// A CRL served over HTTP: its path and DER bytes.
#[derive(Clone)]
pub struct ServedCrl {
    pub path: String,
    pub der: Arc<Vec<u8>>,
}

/// The router: `x5u_path` serves the chain, each CRL its own path, `/metrics` the
/// counters, and the Trust Hub paths go to `api` (or answer 503 when there is no store).
pub fn router(
    x5u_path: &str,
    crls: &[ServedCrl],
    state: HttpState,
    api: Option<ApiState>,
) -> Router {
    let trust_hub = match api {
        Some(api) => {
            let console = crate::console::ConsoleState::new(api.hub.clone(), state.metrics.clone());
            routes::router(api).merge(crate::console::router(console))
        }
        None => routes::unavailable(),
    };
    let counted = Arc::clone(&state.metrics);
    let mut router = Router::new()
        .route(x5u_path, get(x5u))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/ready", get(ready));
    if let Some((path, _)) = &state.identities
        && path.starts_with('/')
        && path.ends_with('/')
    {
        router = router.route(&format!("{path}{{file}}"), get(identity_chain));
    }
    for crl in crls {
        let der = Arc::clone(&crl.der);
        let max_age = state.x5u_max_age;
        router = router.route(
            &crl.path,
            get(move || async move {
                let cache = HeaderValue::from_str(&format!("public, max-age={max_age}"))
                    .unwrap_or(HeaderValue::from_static("public, max-age=86400"));
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/pkix-crl"),
                        ),
                        (header::CACHE_CONTROL, cache),
                    ],
                    der.as_ref().clone(),
                )
                    .into_response()
            }),
        );
    }
    router
        .fallback(not_found)
        .with_state(state)
        .merge(trust_hub)
        .layer(axum::middleware::from_fn_with_state(counted, count_errors))
}

/// Counts the Trust Hub API's error responses by status (`callsign_api_errors_total`):
/// those to paths under `/v1/` and `/2010-04-01/`, routed or not.
async fn count_errors(
    State(metrics): State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/v1/") || path.starts_with("/2010-04-01/");
    let response = next.run(request).await;
    let status = response.status();
    if api && (status.is_client_error() || status.is_server_error()) {
        metrics.api_error(status.as_u16());
    }
    response
}

/// Liveness: the process answers HTTP.
async fn health() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Readiness: the HTTP listener serves only once every listener is bound and the index
/// is built, so what is left to check is the store: reachable, when other nodes share
/// it (an embedded SQLite file is always there). 503 while it is not, and while the
/// server drains before stopping, so that load balancers send calls elsewhere.
async fn ready(State(s): State<HttpState>) -> Response {
    let store = !s.shared_store || s.metrics.trust_store_up.get() == 1;
    let draining = s.metrics.draining.get() == 1;
    let status = match (store, draining) {
        (_, true) => "draining",
        (false, false) => "unavailable",
        (true, false) => "ready",
    };
    let body = serde_json::json!({
        "status": status,
        "checks": {"listeners": true, "index": true, "store": store, "draining": draining},
    });
    let status = match store && !draining {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, axum::Json(body)).into_response()
}

async fn x5u(State(s): State<HttpState>) -> Response {
    let body = s.chain_pem.load().as_str().to_owned();
    pem_chain(&s, body)
}

/// The chain of the signing identity `<SID>.pem`.
async fn identity_chain(
    State(s): State<HttpState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let loaded = (file.strip_suffix(".pem"))
        .and_then(|sid| crate::trust::Sid::parse(sid, "SI").ok())
        .zip(s.identities.as_ref())
        .and_then(|(sid, (_, identities))| identities.get(sid));
    match loaded {
        Some(l) => pem_chain(&s, l.chain_pem.to_string()),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

fn pem_chain(s: &HttpState, body: String) -> Response {
    let cache = HeaderValue::from_str(&format!("public, max-age={}", s.x5u_max_age))
        .unwrap_or(HeaderValue::from_static("public, max-age=86400"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pem-certificate-chain"),
            ),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

async fn metrics(State(s): State<HttpState>) -> Response {
    // Seconds to expiry are as of this scrape.
    let identities: Vec<(String, i64)> = match &s.identities {
        Some((_, identities)) => (identities.all().iter())
            .map(|l| (l.record.sid.to_string(), l.check.info.not_after))
            .collect(),
        None => Vec::new(),
    };
    let now = crate::clock::now_unix();
    (s.metrics).certificates_expire(&identities, now);
    (s.metrics).trust_list_age(now);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// Unknown paths: a Twilio error body under the Trust Hub prefixes, plain text elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/v1/") || path.starts_with("/2010-04-01/") {
        return ApiError::NotFound(path.to_owned()).into_response();
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}
