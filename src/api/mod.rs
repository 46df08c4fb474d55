//! The HTTP listener: the x5u certificate chain and Prometheus `/metrics`. The Trust Hub
//! API joins these routes in a later issue.

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Metrics;

/// What the HTTP routes read.
#[derive(Clone)]
pub struct HttpState {
    /// The PEM chain served at the x5u path (swappable on certificate rotation).
    pub chain_pem: Arc<ArcSwap<String>>,
    pub x5u_max_age: u64,
    pub metrics: Arc<Metrics>,
}

/// A CRL served over HTTP: its path and DER bytes.
#[derive(Clone)]
pub struct ServedCrl {
    pub path: String,
    pub der: Arc<Vec<u8>>,
}

/// The router: `x5u_path` serves the chain, each CRL its own path, `/metrics` the
/// counters.
pub fn router(x5u_path: &str, crls: &[ServedCrl], state: HttpState) -> Router {
    let mut router = Router::new()
        .route(x5u_path, get(x5u))
        .route("/metrics", get(metrics));
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
    router.fallback(not_found).with_state(state)
}

async fn x5u(State(s): State<HttpState>) -> Response {
    let body = s.chain_pem.load().as_str().to_owned();
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
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        s.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}
