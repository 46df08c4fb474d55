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
    /// One permit per document file in transfer (an upload being read and stored, a
    /// download being sent): files are held in memory whole, so their number is
    /// bounded; past it, 429.
    pub file_transfers: Arc<tokio::sync::Semaphore>,
}

/// How many document files may be in transfer at once.
pub const FILE_TRANSFERS: usize = 4;

impl ApiState {
    pub fn new(hub: Arc<Hub>, body_limit: usize, document_limit: usize) -> ApiState {
        ApiState {
            hub,
            body_limit,
            document_limit,
            file_transfers: Arc::new(tokio::sync::Semaphore::new(FILE_TRANSFERS)),
        }
    }

    /// A permit for one file in transfer, or 429.
    pub fn file_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        (self.file_transfers.clone())
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy)
    }
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
    /// A stored file, for download only: never rendered by the browser. `permit` is
    /// held until the body has been sent.
    File {
        mime_type: String,
        name: String,
        content: Vec<u8>,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    },
}

impl Reply {
    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Reply::Ok(_) | Reply::File { .. } => StatusCode::OK,
            Reply::Created(_) => StatusCode::CREATED,
            Reply::NoContent => StatusCode::NO_CONTENT,
        }
    }
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
                permit,
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
                // Sent in 64 KiB pieces; the permit goes when the last one has been
                // taken by the connection.
                let content = axum::body::Bytes::from(content);
                let pieces: Vec<axum::body::Bytes> = (0..content.len())
                    .step_by(64 * 1024)
                    .map(|at| content.slice(at..content.len().min(at + 64 * 1024)))
                    .collect();
                let body = futures_util::stream::unfold(
                    (pieces.into_iter(), permit),
                    |(mut pieces, permit)| async move {
                        let piece = pieces.next()?;
                        Some((Ok::<_, std::io::Error>(piece), (pieces, permit)))
                    },
                );
                (StatusCode::OK, headers, axum::body::Body::from_stream(body)).into_response()
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
        let caller = match hub.authenticate(req.credentials.as_ref()) {
            Ok(caller) => caller,
            Err(e) => {
                audit_refused(&req, &e);
                return Err(e.into());
            }
        };
        let result = work(&hub, &caller, &req).map_err(|e| match e {
            ApiError::Hub(HubError::NotFound(_)) => ApiError::NotFound(req.path.clone()),
            other => other,
        });
        if req.method != axum::http::Method::GET {
            audit_write(&req, &caller, &result);
        }
        result
    })
    .await;
    match done {
        Ok(Ok(reply)) => reply.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::Task(e.to_string()).into_response(),
    }
}

/// The audit log (target `callsign::audit`): every Trust Hub write attempted, with who
/// asked, what (method, path, the names of the parameters, never their values, which
/// may be passwords or keys) and the answer's status; the time is the log line's.
fn audit_write(req: &ApiRequest, caller: &Caller, result: &Result<Reply, ApiError>) {
    let who = match caller {
        Caller::Operator => "operator".to_owned(),
        Caller::Account { sid, .. } => sid.to_string(),
    };
    let status = match result {
        Ok(reply) => reply.status().as_u16(),
        Err(e) => e.status_and_code().0.as_u16(),
    };
    tracing::info!(
        target: "callsign::audit",
        who = %who,
        method = %req.method,
        path = %req.path,
        params = %req.params.names().join(","),
        status,
        "Trust Hub write"
    );
}

/// A request refused before any work: who it claimed to be (the user name, never the
/// password) and why.
fn audit_refused(req: &ApiRequest, e: &HubError) {
    let user = req
        .credentials
        .as_ref()
        .map_or("", |(user, _)| user.as_str());
    tracing::warn!(
        target: "callsign::audit",
        user = %user,
        method = %req.method,
        path = %req.path,
        reason = %e,
        "Trust Hub login refused"
    );
}
