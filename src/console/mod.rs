//! The operator console: server-rendered HTML pages at `/console` on the HTTP listener,
//! for the operator to look rather than read JSON. The review queue with deadlines, a
//! bundle's end users, documents, checks and identity match with approve and reject,
//! accounts with their trunks, numbers and the attestation preview, and charts of calls
//! by level.
//!
//! Signing in takes the operator's credential (`[api] operator_sid` and
//! `operator_auth_token`) and starts a session: a random identifier in an `HttpOnly`,
//! `SameSite=Strict` cookie scoped to `/console`, valid for 8 hours. Every form that
//! changes something carries the session's CSRF token, compared in constant time; a
//! request from another origin is refused. Without a session a page answers 401 with
//! the sign-in form, and a form 401; a bad CSRF token 403. Nothing is changed by either.
//! Pages are sent with `Cache-Control: no-store` and a Content-Security-Policy that
//! allows no script and no framing.

mod pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use dashmap::DashMap;
use maud::Markup;
use serde::Deserialize;

use crate::metrics::Metrics;
use crate::trust::{BundleStatus, Sid};
use crate::trusthub::bundles::{BundleUpdate, policy_of};
use crate::trusthub::{Caller, Hub, HubError, Missing, new_token, same_secret};

/// How long a session lasts after sign-in.
const SESSION_SECS: i64 = 8 * 3600;
/// Sessions held at once; past it the oldest go.
const MAX_SESSIONS: usize = 256;
/// The session cookie's name.
const COOKIE: &str = "callsign_console";
/// The span the call charts show (all the call statistics keep), and their bars' width.
const CHART_SECS: i64 = crate::metrics::calls::KEEP_MINUTES * 60;
const CHART_BUCKET_SECS: i64 = 600;

/// A signed-in operator's session.
#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    expires: i64,
}

/// The console's state: the Trust Hub service, the metrics it charts, the sessions.
#[derive(Clone)]
pub struct ConsoleState {
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    sessions: Arc<DashMap<String, Session>>,
}

impl ConsoleState {
    pub fn new(hub: Arc<Hub>, metrics: Arc<Metrics>) -> ConsoleState {
        ConsoleState {
            hub,
            metrics,
            sessions: Arc::new(DashMap::new()),
        }
    }

    fn now(&self) -> i64 {
        self.hub.now_unix()
    }

    /// The session the request's cookie names, if it is current.
    fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers)?;
        let now = self.now();
        let session = self.sessions.get(&id)?.clone();
        if session.expires <= now {
            self.sessions.remove(&id);
            return None;
        }
        Some(session)
    }

    fn start_session(&self) -> (String, Session) {
        let now = self.now();
        self.sessions.retain(|_, s| s.expires > now);
        while self.sessions.len() >= MAX_SESSIONS {
            let oldest = (self.sessions.iter())
                .min_by_key(|e| e.value().expires)
                .map(|e| e.key().clone());
            match oldest {
                Some(id) => drop(self.sessions.remove(&id)),
                None => break,
            }
        }
        let session = Session {
            csrf: random_hex(),
            expires: now + SESSION_SECS,
        };
        let id = random_hex();
        self.sessions.insert(id.clone(), session.clone());
        (id, session)
    }
}

/// A random identifier: two auth tokens (v4 UUIDs, 244 random bits), in hex.
fn random_hex() -> String {
    format!("{}{}", new_token(), new_token())
}

/// The session cookie's value.
fn cookie(headers: &HeaderMap) -> Option<String> {
    (headers.get_all(header::COOKIE).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a form post comes from this site: a browser names the origin of a
/// cross-site post in `Origin` (or `Sec-Fetch-Site`); a request with neither (a script,
/// a test client) is judged by its CSRF token alone.
fn same_origin(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // Only a browser sets it, and it says where the form came from even when a
        // referrer policy has it send `Origin: null`.
        Some("same-origin") => return true,
        Some("none") | None => {}
        Some(_) => return false,
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    host.is_some() && origin_host == host
}

/// A page with the console's headers.
fn page(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, axum::response::Html(markup.into_string())).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: under it a browser sends `Origin: null` with a form post,
        // which the origin check refuses.
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Runs `work` on the blocking pool (the store is blocking I/O).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> Result<T, HubError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(HubError::Store(crate::store::StoreError::Backend(
            e.to_string(),
        )))
    })
}

/// The page for an error of the service.
fn error_page(csrf: &str, e: &HubError) -> Response {
    let (status, _) = crate::api::error::ApiError::Hub(e.clone()).status_and_code();
    page(status, pages::error(csrf, &e.to_string()))
}

/// The console's routes, on `state`.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/console", get(|| async { see_other("/console/queue") }))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/queue", get(queue))
        .route("/console/bundles/{sid}", get(bundle))
        .route("/console/bundles/{sid}/decision", post(decide))
        .route("/console/accounts", get(accounts))
        .route("/console/accounts/{sid}", get(account))
        .route("/console/calls", get(calls))
        .with_state(state)
}

async fn login_page(State(s): State<ConsoleState>, headers: HeaderMap) -> Response {
    if s.session(&headers).is_some() {
        return see_other("/console/queue");
    }
    page(StatusCode::OK, pages::login(None))
}

#[derive(Deserialize)]
struct LoginForm {
    sid: String,
    token: String,
}

async fn login(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            pages::login(Some("Sign in from the console's own page.")),
        );
    }
    let hub = Arc::clone(&s.hub);
    let credentials = (form.sid.trim().to_owned(), form.token);
    let caller = blocking(move || hub.authenticate(Some(&credentials))).await;
    if caller != Ok(Caller::Operator) {
        tracing::warn!("console sign-in refused");
        return page(
            StatusCode::UNAUTHORIZED,
            pages::login(Some("That is not the operator's credential.")),
        );
    }
    let (id, _) = s.start_session();
    let mut r = see_other("/console/queue");
    let cookie =
        format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    tracing::info!("console session started");
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The session of a form post with a good CSRF token, or the refusal.
fn checked(s: &ConsoleState, headers: &HeaderMap, csrf: &str) -> Result<Session, Box<Response>> {
    let Some(session) = s.session(headers) else {
        return Err(Box::new(page(
            StatusCode::UNAUTHORIZED,
            pages::login(Some("Sign in first.")),
        )));
    };
    if !same_origin(headers) || !same_secret(&session.csrf, csrf) {
        tracing::warn!("console form refused: bad CSRF token or another origin");
        return Err(Box::new(page(
            StatusCode::FORBIDDEN,
            pages::error(
                &session.csrf,
                "The form was refused: reload the page and try again.",
            ),
        )));
    }
    Ok(session)
}

async fn logout(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = checked(&s, &headers, &form.csrf) {
        return *refused;
    }
    if let Some(id) = cookie(&headers) {
        s.sessions.remove(&id);
    }
    let mut r = see_other("/console/login");
    let gone = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&gone) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A page's session: without one, the page answers 401 with the sign-in form.
impl axum::extract::FromRequestParts<ConsoleState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &ConsoleState,
    ) -> Result<Session, Response> {
        (s.session(&parts.headers))
            .ok_or_else(|| page(StatusCode::UNAUTHORIZED, pages::login(None)))
    }
}

async fn queue(State(s): State<ConsoleState>, session: Session) -> Response {
    let hub = Arc::clone(&s.hub);
    match blocking(move || hub.review_queue(&Caller::Operator)).await {
        Ok(queue) => page(StatusCode::OK, pages::queue(&session.csrf, &queue, s.now())),
        Err(e) => error_page(&session.csrf, &e),
    }
}

#[derive(Deserialize)]
struct Flash {
    #[serde(default)]
    done: Option<String>,
}

fn parse_sid(text: &str, prefix: &str) -> Option<Sid> {
    Sid::parse(text, prefix).ok()
}

async fn bundle(
    State(s): State<ConsoleState>,
    session: Session,
    Path(sid): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let Some(sid) = parse_sid(&sid, "BU") else {
        return page(
            StatusCode::NOT_FOUND,
            pages::error(&session.csrf, "No such bundle."),
        );
    };
    let hub = Arc::clone(&s.hub);
    match blocking(move || hub.review_detail(&Caller::Operator, sid)).await {
        Ok(detail) => {
            let flash = match flash.done.as_deref() {
                Some("approved") => Some("Approved."),
                Some("rejected") => Some("Rejected."),
                _ => None,
            };
            page(
                StatusCode::OK,
                pages::bundle(&session.csrf, &detail, s.now(), flash),
            )
        }
        Err(e) => error_page(&session.csrf, &e),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(sid): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let session = match checked(&s, &headers, &form.csrf) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(sid) = parse_sid(&sid, "BU") else {
        return page(
            StatusCode::NOT_FOUND,
            pages::error(&session.csrf, "No such bundle."),
        );
    };
    let (to, done) = match form.decision.as_str() {
        "approve" => (BundleStatus::TwilioApproved, "approved"),
        "reject" => (BundleStatus::TwilioRejected, "rejected"),
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::error(&session.csrf, "Choose approve or reject."),
            );
        }
    };
    let reason = form.reason.trim().to_owned();
    // The service refuses one over its limit.
    if reason.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            pages::error(&session.csrf, "Give a reason for the review log."),
        );
    }
    let hub = Arc::clone(&s.hub);
    let decided = blocking(move || {
        let bundle = (hub.store().bundle(sid)?).ok_or(HubError::NotFound(Missing::Bundle(sid)))?;
        let kind = policy_of(&bundle)?.kind();
        let update = BundleUpdate {
            status: Some(to),
            reason: Some(reason),
            ..BundleUpdate::default()
        };
        hub.update_bundle(&Caller::Operator, kind, sid, update)
    })
    .await;
    match decided {
        Ok(_) => {
            tracing::info!(bundle = %sid, decision = done, "console decision");
            see_other(&format!("/console/bundles/{sid}?done={done}"))
        }
        Err(e) => error_page(&session.csrf, &e),
    }
}

async fn accounts(State(s): State<ConsoleState>, session: Session) -> Response {
    let hub = Arc::clone(&s.hub);
    let listed = blocking(move || {
        hub.accounts(
            &Caller::Operator,
            &Default::default(),
            crate::store::Page::ALL,
        )
    })
    .await;
    match listed {
        Ok(list) => page(
            StatusCode::OK,
            pages::accounts(&session.csrf, &list, &s.metrics.calls.accounts()),
        ),
        Err(e) => error_page(&session.csrf, &e),
    }
}

#[derive(Deserialize)]
struct PreviewQuery {
    #[serde(default)]
    number: Option<String>,
}

async fn account(
    State(s): State<ConsoleState>,
    session: Session,
    Path(sid): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Response {
    let Some(sid) = parse_sid(&sid, "AC") else {
        return page(
            StatusCode::NOT_FOUND,
            pages::error(&session.csrf, "No such account."),
        );
    };
    let hub = Arc::clone(&s.hub);
    let number = q.number.filter(|n| !n.trim().is_empty() && n.len() <= 64);
    let read = blocking(move || {
        let op = Caller::Operator;
        let account = hub.account(&op, sid)?;
        let trunks: Vec<_> = (hub.trunks(&op, crate::store::Page::ALL)?.into_iter())
            .filter(|t| t.account_sid == sid)
            .collect();
        let page = crate::store::Page {
            offset: 0,
            limit: 200,
        };
        let numbers = hub.numbers(&op, sid, &Default::default(), page)?;
        let preview = number.map(|n| hub.preview(&op, sid, &n).map_err(|e| e.to_string()));
        Ok(pages::AccountView {
            account,
            trunks,
            numbers,
            preview,
        })
    })
    .await;
    match read {
        Ok(view) => {
            let series = s
                .metrics
                .calls
                .series(s.now(), CHART_SECS, CHART_BUCKET_SECS, Some(sid));
            page(
                StatusCode::OK,
                pages::account(&session.csrf, &view, &series),
            )
        }
        Err(e) => error_page(&session.csrf, &e),
    }
}

async fn calls(State(s): State<ConsoleState>, session: Session) -> Response {
    let series = s
        .metrics
        .calls
        .series(s.now(), CHART_SECS, CHART_BUCKET_SECS, None);
    let hub = Arc::clone(&s.hub);
    let queue = blocking(move || hub.review_queue(&Caller::Operator))
        .await
        .unwrap_or_default();
    page(
        StatusCode::OK,
        pages::calls(
            &session.csrf,
            &series,
            &s.metrics.calls.accounts(),
            &queue,
            &s.metrics.vetting_decisions(),
            s.now(),
        ),
    )
}
