//! What every Trust Hub handler shares: the router state, the successful answer, and
//! [`run`], which authenticates the request and runs the handler's work off the async
//! threads (the store is blocking I/O).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::request::{ApiRequest, BodyLimit};
use crate::trusthub::{Caller, Hub, HubError};

/// The Trust Hub routes' state: the service and the request size limits.
#[derive(Clone)]
pub struct ApiState {
    pub hub: Arc<Hub>,
    /// Larger request bodies get 413.
    pub body_limit: usize,
    /// Larger supporting-document files get 413.
    pub document_limit: usize,
}

impl BodyLimit for ApiState {
    fn body_limit(&self) -> usize {
        self.body_limit
    }
}

/// A successful answer.
#[derive(Debug)]
pub enum Reply {
    Ok(Value),
    Created(Value),
    NoContent,
    /// A stored file, for download only: never rendered by the browser.
    File {
        mime_type: String,
        name: String,
        content: Vec<u8>,
    },
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
            Reply::Created(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
            Reply::NoContent => StatusCode::NO_CONTENT.into_response(),
            Reply::File {
                mime_type,
                name,
                content,
            } => {
                use axum::http::header;
                let headers = [
                    (header::CONTENT_TYPE, mime_type),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'none'; sandbox".to_owned(),
                    ),
                    (header::CACHE_CONTROL, "private, no-store".to_owned()),
                ];
                (StatusCode::OK, headers, content).into_response()
            }
        }
    }
}

/// Authenticates the request and runs `work` on a blocking thread. A resource the
/// service cannot find, or will not show the caller, is answered 404 naming the path
/// asked for.
pub async fn run<F>(state: ApiState, req: ApiRequest, work: F) -> Response
where
    F: FnOnce(&Hub, &Caller, &ApiRequest) -> Result<Reply, ApiError> + Send + 'static,
{
    let hub = state.hub;
    let done = tokio::task::spawn_blocking(move || {
        let caller = hub.authenticate(req.credentials.as_ref())?;
        work(&hub, &caller, &req).map_err(|e| match e {
            ApiError::Hub(HubError::NotFound(_)) => ApiError::NotFound(req.path.clone()),
            other => other,
        })
    })
    .await;
    match done {
        Ok(Ok(reply)) => reply.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::Task(e.to_string()).into_response(),
    }
}
