//! The HTTP side of the REST API: the routes, the checks of ATIS-1000082's request
//! headers (method, credentials, `Content-Type`, `Accept`, `Content-Length`, body
//! size), `X-RequestID`, and the listener of `[sti_rest] listen`, with TLS and client
//! certificates.
//!
//! The listener accepts on its own task and finishes each TLS handshake on a task of
//! its own, under a timeout, so a slow or silent client never holds up the others; it
//! holds at most `max_connections` at once, and closes a connection idle for
//! [`IDLE_TIMEOUT`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::service::Service;
use super::{ApiError, signing_request, signing_response, verification_request};
use crate::proxy::tls::{SipTls, certificate_names};

/// A connection with no request for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest `X-RequestID` echoed; a longer (or unprintable) one is replaced.
const MAX_REQUEST_ID: usize = 128;

/// What the routes share.
#[derive(Clone)]
pub struct RestState {
    pub service: Arc<Service>,
    pub max_body: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Signing,
    Verification,
}

impl Endpoint {
    fn as_str(self) -> &'static str {
        match self {
            Endpoint::Signing => "signing",
            Endpoint::Verification => "verification",
        }
    }
}

/// `POST /stir/v1/signing` and `POST /stir/v1/verification`; anything else under
/// `/stir/v1/` is `404 SVC4003`.
pub fn router(state: RestState) -> Router {
    Router::new()
        .route(
            "/stir/v1/signing",
            any(|State(s): State<RestState>, r: Request| handle(s, Endpoint::Signing, r)),
        )
        .route(
            "/stir/v1/verification",
            any(|State(s): State<RestState>, r: Request| handle(s, Endpoint::Verification, r)),
        )
        .route("/stir/v1/{*rest}", any(not_found))
        .route("/stir/v1", any(not_found))
        .with_state(state)
}

async fn not_found(headers: HeaderMap) -> Response {
    respond(&request_id(&headers), Err(ApiError::NotFound))
}

async fn handle(state: RestState, endpoint: Endpoint, req: Request) -> Response {
    let id = request_id(req.headers());
    let result = serve(&state, endpoint, req, &id).await;
    let status = result.as_ref().map_or_else(ApiError::status, |_| 200);
    state
        .service
        .ctx
        .metrics
        .sti_rest(endpoint.as_str(), status);
    if let Err(e) = &result {
        debug!(interface = "sti_rest", request_id = %id, endpoint = endpoint.as_str(), error = %e, "refused");
    }
    respond(&id, result)
}

async fn serve(
    state: &RestState,
    endpoint: Endpoint,
    req: Request,
    id: &str,
) -> Result<Value, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    let names: &[String] = match req.extensions().get::<ConnectInfo<RestPeer>>() {
        Some(ConnectInfo(peer)) => &peer.names,
        None => &[],
    };
    let basic = crate::api::request::credentials(req.headers());
    let basic = basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    let service = &state.service;
    let Some(client) = service.clients.identify(&service.ctx, basic, names) else {
        return Err(ApiError::Unauthorized);
    };
    check_headers(req.headers(), state.max_body)?;
    let body = axum::body::to_bytes(req.into_body(), state.max_body)
        .await
        .map_err(|_| ApiError::TooLarge(state.max_body))?;
    let now = crate::clock::now_unix();
    match endpoint {
        Endpoint::Signing => {
            let request = signing_request(&body)?;
            let signed = service.sign(&client, &request, now, id)?;
            Ok(signing_response(&signed.identity))
        }
        Endpoint::Verification => {
            let request = verification_request(&body)?;
            service.verify(&client, &request, now, id).await
        }
    }
}

/// `Content-Type` must be JSON, `Accept` (when sent) must take JSON, and a body must
/// come with a `Content-Length` (not chunked) no larger than `max_body`.
fn check_headers(headers: &HeaderMap, max_body: usize) -> Result<(), ApiError> {
    let media = |v: &str| {
        let t = v.split(';').next().unwrap_or("").trim();
        t.eq_ignore_ascii_case("application/json")
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(media) {
        return Err(ApiError::UnsupportedMediaType);
    }
    for accept in headers.get_all(header::ACCEPT) {
        let text = accept.to_str().unwrap_or("");
        let takes_json = text.split(',').any(|range| {
            let t = range.split(';').next().unwrap_or("").trim();
            ["application/json", "application/*", "*/*"]
                .iter()
                .any(|ok| t.eq_ignore_ascii_case(ok))
        });
        if !takes_json {
            let shown: String = text.chars().take(100).collect();
            return Err(ApiError::NotAcceptable(shown));
        }
    }
    let Some(length) = headers.get(header::CONTENT_LENGTH) else {
        // A chunked body has no length; no body at all is SVC4000 once read.
        if headers.contains_key(header::TRANSFER_ENCODING) {
            return Err(ApiError::MissingContentLength);
        }
        return Ok(());
    };
    let length: usize = (length.to_str().ok())
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| ApiError::Unparsable("invalid Content-Length".into()))?;
    if length > max_body {
        return Err(ApiError::TooLarge(max_body));
    }
    Ok(())
}

/// The request's `X-RequestID`, or a new UUID when it has none (or one too long or not
/// printable to echo).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-requestid")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn respond(id: &str, result: Result<Value, ApiError>) -> Response {
    let (status, body) = match &result {
        Ok(body) => (200, body.clone()),
        Err(e) => (e.status(), e.to_json()),
    };
    let mut response = (
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK),
        axum::Json(body),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert("x-requestid", v);
    }
    match result {
        Err(ApiError::Unauthorized) => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"callsign\", charset=\"UTF-8\""),
            );
        }
        Err(ApiError::MethodNotAllowed) => {
            headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        Err(ApiError::RateLimited) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}

/// Who is at the other end of a connection: its address and its client certificate's
/// names (none without TLS or a certificate).
#[derive(Debug, Clone)]
pub struct RestPeer {
    pub addr: SocketAddr,
    pub names: Arc<[String]>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, RestListener>>
    for RestPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, RestListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// The listener of `[sti_rest] listen`: connections come ready (handshaken) from
/// [`RestListener::spawn`]'s accept task.
pub struct RestListener {
    ready: mpsc::Receiver<(RestIo, RestPeer)>,
    local: SocketAddr,
}

impl RestListener {
    /// Accepts on `listener` until `shutdown`, with TLS when `tls` is set, holding at
    /// most `max_connections` connections. Failed handshakes are counted in
    /// `callsign_tls_handshake_failures_total`.
    pub fn spawn(
        listener: TcpListener,
        tls: Option<Arc<SipTls>>,
        max_connections: usize,
        metrics: Arc<crate::metrics::Metrics>,
        shutdown: CancellationToken,
    ) -> io::Result<RestListener> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let limit = Arc::new(Semaphore::new(max_connections));
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    a = listener.accept() => a,
                };
                let (stream, addr) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and the like: wait rather than spin.
                        warn!(interface = "sti_rest", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                    debug!(interface = "sti_rest", %addr, "connection limit reached: closed");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (tx, tls, metrics) = (tx.clone(), tls.clone(), Arc::clone(&metrics));
                tokio::spawn(async move {
                    let (stream, names) = match tls {
                        None => (Stream::Plain(stream), Arc::from([])),
                        Some(tls) => {
                            let timeout = tls.handshake_timeout;
                            let handshake = tls.acceptor().accept(stream);
                            match tokio::time::timeout(timeout, handshake).await {
                                Ok(Ok(s)) => {
                                    let names: Vec<String> = (s.get_ref().1.peer_certificates())
                                        .and_then(|c| c.first())
                                        .map(certificate_names)
                                        .unwrap_or_default();
                                    (Stream::Tls(Box::new(s)), Arc::from(names))
                                }
                                Ok(Err(e)) => {
                                    let failure = crate::proxy::tls::failure(&e);
                                    metrics.tls_handshake_failed(failure);
                                    debug!(interface = "sti_rest", %addr, error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    metrics
                                        .tls_handshake_failed(crate::metrics::TlsFailure::Timeout);
                                    return;
                                }
                            }
                        }
                    };
                    let io = RestIo {
                        stream,
                        idle: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
                        _permit: permit,
                    };
                    let _ = tx.send((io, RestPeer { addr, names })).await;
                });
            }
        });
        Ok(RestListener { ready, local })
    }
}

impl axum::serve::Listener for RestListener {
    type Io = RestIo;
    type Addr = RestPeer;

    async fn accept(&mut self) -> (RestIo, RestPeer) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task ended (shutdown): wait for the graceful shutdown instead.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<RestPeer> {
        Ok(RestPeer {
            addr: self.local,
            names: Arc::from([]),
        })
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// A connection of the REST listener: closed once idle for [`IDLE_TIMEOUT`], and
/// holding its place under the connection limit while open.
pub struct RestIo {
    stream: Stream,
    idle: Pin<Box<tokio::time::Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for RestIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let read = match &mut this.stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        };
        match read {
            Poll::Ready(r) => {
                let deadline = tokio::time::Instant::now() + IDLE_TIMEOUT;
                this.idle.as_mut().reset(deadline);
                Poll::Ready(r)
            }
            Poll::Pending => match this.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for RestIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
