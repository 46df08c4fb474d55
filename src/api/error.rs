//! Trust Hub API errors: what the HTTP layer itself refuses ([`ParamError`], size,
//! method, path) and what the service refused ([`HubError`]). [`ApiError::status_and_code`]
//! is the one place each becomes an HTTP status and a Twilio error code; the body is
//! Twilio's `{"code","message","more_info","status"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::trust::SidError;
use crate::trusthub::HubError;

/// A request parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    #[error("{0} is not valid UTF-8 once percent-decoded")]
    NotUtf8(String),
    #[error("{0} contains a control character")]
    ControlCharacter(String),
    #[error("Unknown parameter {0}")]
    Unknown(String),
    #[error("Required parameter {0} is missing")]
    Missing(&'static str),
    #[error("The request names nothing to update")]
    NothingToUpdate,
    #[error("{name}: {error}")]
    Sid { name: &'static str, error: SidError },
    #[error("{name} must be an ISO 8601 date-time, got {value:?}")]
    DateTime { name: &'static str, value: String },
    #[error("{0} must be a number")]
    NotANumber(&'static str),
    #[error("{0} must be true or false")]
    NotABool(&'static str),
    #[error("PageSize must be within 1..=1000")]
    PageSize,
    #[error(
        "Status must be draft, pending-review, in-review, twilio-approved or twilio-rejected, got {0:?}"
    )]
    BundleStatus(String),
    #[error("Status must be active, suspended or closed, got {0:?}")]
    AccountStatus(String),
    #[error(
        "SuspensionCause must be account_takeover, exposed_credentials, fraud or other, got {0:?}"
    )]
    SuspensionCause(String),
    #[error("Errors must be JSON: {0}")]
    ErrorsNotJson(String),
    #[error("Attributes must be a JSON object")]
    AttributesNotObject,
    #[error("{0} may be given once")]
    Repeated(String),
    #[error("The multipart body cannot be read: {0}")]
    Multipart(String),
    #[error(
        "Status must be one of DRAFT, PENDING_REVIEW, REJECTED, APPROVED, EXPIRED, PROVISIONALLY_APPROVED, got {0:?}"
    )]
    DocumentStatus(String),
}

/// Why a Trust Hub request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    #[error("{0}")]
    Param(#[from] ParamError),
    #[error("{0}")]
    Hub(#[from] HubError),
    /// A path that names nothing, or nothing the caller may see.
    #[error("The requested resource {0} was not found")]
    NotFound(String),
    #[error("Request body larger than {0} bytes")]
    TooLarge(usize),
    /// Too many document files are being sent or received at once.
    #[error("Too many supporting-document files are in transfer; retry shortly")]
    Busy,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("The Trust Hub API needs [trust] store; this server reads its trust data from a file")]
    FileMode,
    /// The blocking task running the request failed.
    #[error("Internal error: {0}")]
    Task(String),
    #[error("Request URI longer than {0} bytes")]
    UriTooLong(usize),
    #[error("Request headers larger than {0} bytes")]
    HeadersTooLarge(usize),
    /// What the HTTP layer refused before a handler ran (an undecodable path, a body
    /// that is not a form), with its own status and message.
    #[error("{message}")]
    Rejected { status: u16, message: String },
    /// A Lookup request refused with one of Twilio's 606xx codes.
    #[error("{message}")]
    Lookup { code: u32, message: String },
}

impl ApiError {
    /// HTTP status and Twilio error code.
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        use HubError as H;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            ApiError::Param(_) => (bad, 20001),
            ApiError::Lookup { code, .. } => (bad, *code),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, 20404),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 20001),
            ApiError::Busy => (StatusCode::TOO_MANY_REQUESTS, 20429),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 20004),
            ApiError::FileMode => (StatusCode::SERVICE_UNAVAILABLE, 20503),
            ApiError::Task(_) => (StatusCode::INTERNAL_SERVER_ERROR, 20500),
            ApiError::UriTooLong(_) => (StatusCode::URI_TOO_LONG, 20001),
            ApiError::HeadersTooLarge(_) => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, 20001),
            ApiError::Rejected { status, .. } => {
                let status = StatusCode::from_u16(*status)
                    .ok()
                    .filter(|s| s.is_client_error() || s.is_server_error())
                    .unwrap_or(bad);
                let code = if status.is_server_error() {
                    20500
                } else {
                    20001
                };
                (status, code)
            }
            ApiError::Hub(e) => match e {
                H::Unauthenticated => (StatusCode::UNAUTHORIZED, 20003),
                H::AccountInactive(_) => (StatusCode::UNAUTHORIZED, 20005),
                H::OperatorOnly(_)
                | H::OperatorHasNoResources
                | H::SubAccountCannotCreate
                | H::OwnStatus
                | H::StatusForOperator(_) => (StatusCode::FORBIDDEN, 20403),
                H::NotFound(_) => (StatusCode::NOT_FOUND, 20404),
                H::AccountClosed(_) | H::CauseWithoutSuspension | H::SecondaryToken(_) => {
                    (bad, 20001)
                }
                H::InvalidPhoneNumber(_) => (bad, 21421),
                H::PhoneNumberExists(_) => (bad, 21422),
                H::NotEditable { .. } => (bad, 60711),
                H::StatusCallback(_) => (bad, 21609),
                H::CallingNumber { .. }
                | H::IllegalTransition { .. }
                | H::Noncompliant { .. }
                | H::PolicyKind { .. }
                | H::PolicyMismatch { .. }
                | H::Link(_)
                | H::UnknownObject(_)
                | H::AlreadyLinked { .. }
                | H::Assign(_)
                | H::AssignedElsewhere { .. }
                | H::UnknownNumber(_)
                | H::EndUserAssigned { .. }
                | H::DocumentAssigned { .. }
                | H::File(_)
                | H::Value(_)
                | H::Trunking(_)
                | H::TooLong { .. }
                | H::Required { .. }
                | H::OutOfRange { .. }
                | H::MinimumAttestation(_)
                | H::BelowMinimumStatus(_)
                | H::IdentityPolicy(_)
                | H::RequestedLevel(_)
                | H::Flag { .. }
                | H::SigningFailure(_)
                | H::SignPolicy(_)
                | H::UnsignedStatus(_)
                | H::DomainName(_)
                | H::Role(_)
                | H::OriginationAddress(_)
                | H::Origid(_)
                | H::DomainTaken(_)
                | H::UnknownList(_)
                | H::ListOnTrunk { .. }
                | H::AddressInList { .. }
                | H::ListFull { .. }
                | H::RangeTaken { .. }
                | H::WeakPassword
                | H::Username(_)
                | H::CredentialListFull { .. }
                | H::UsernameTaken { .. }
                | H::UnknownCredentialList(_)
                | H::CredentialListOnTrunk { .. }
                | H::UnknownTrunkNumber(_)
                | H::UnknownTrunk(_)
                | H::NumberOnTrunk { .. }
                | H::Identity(_)
                | H::IdentityAssigned { .. }
                | H::AssignTarget(_)
                | H::AlreadySigned { .. }
                | H::TooMany { .. } => (bad, 20001),
                H::Store(crate::store::StoreError::Unavailable(_)) => {
                    (StatusCode::SERVICE_UNAVAILABLE, 20503)
                }
                H::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, 20500),
            },
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> serde_json::Value {
        let (status, code) = self.status_and_code();
        serde_json::json!({
            "code": code,
            "message": self.to_string(),
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "Trust Hub API request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"callsign\""),
            );
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            (response.headers_mut()).insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use crate::trust::{BundleStatus, Sid};

    #[test]
    fn body_has_twilio_fields() {
        let body = ApiError::from(HubError::NotEditable {
            sid: Sid::from_parts(*b"BU", 1),
            status: BundleStatus::InReview,
        })
        .body();
        assert_eq!(body["code"], 60711);
        assert_eq!(body["status"], 400);
        assert_eq!(
            body["more_info"],
            "https://www.twilio.com/docs/errors/60711"
        );
        assert!(body["message"].as_str().unwrap().contains("in-review"));
    }

    #[test]
    fn unauthenticated_asks_for_basic_auth() {
        let r = ApiError::from(HubError::Unauthenticated).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        let r = ApiError::from(HubError::OperatorOnly("approve")).into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn store_failures_are_the_servers_and_parameters_the_clients() {
        let e = ApiError::from(HubError::Store(StoreError::Backend("disk".into())));
        assert_eq!(
            e.status_and_code(),
            (StatusCode::INTERNAL_SERVER_ERROR, 20500)
        );
        let e = ApiError::from(ParamError::Unknown("Colour".into()));
        assert_eq!(e.status_and_code(), (StatusCode::BAD_REQUEST, 20001));
        assert_eq!(e.to_string(), "Unknown parameter Colour");
    }
}
