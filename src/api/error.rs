//! Trust Hub API errors: each maps to an HTTP status and a Twilio error code, and is
//! sent as Twilio's error body `{"code","message","more_info","status"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::store::StoreError;
use crate::trust::TrustError;

/// Why a Trust Hub request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// No credentials, an unknown account or a wrong token.
    #[error("Authentication Error - invalid username or password")]
    Unauthenticated,
    #[error("Account {0} is not active")]
    AccountInactive(String),
    /// Authenticated, but the action is the operator's (or a parent account's).
    #[error("{0}")]
    Forbidden(String),
    /// Absent, or not visible to the caller (existence is not revealed).
    #[error("The requested resource {0} was not found")]
    NotFound(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("Phone number {0} is not a valid E.164 number")]
    InvalidPhoneNumber(String),
    #[error("Phone number {0} already exists")]
    PhoneNumberExists(String),
    #[error("Bundle {sid} is {status} and cannot be edited")]
    NotEditable { sid: String, status: String },
    #[error("Request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Unavailable(String),
    #[error("Internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// HTTP status and Twilio error code.
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, 20003),
            ApiError::AccountInactive(_) => (StatusCode::UNAUTHORIZED, 20005),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, 20403),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, 20404),
            ApiError::InvalidParameter(_) => (StatusCode::BAD_REQUEST, 20001),
            ApiError::InvalidPhoneNumber(_) => (StatusCode::BAD_REQUEST, 21421),
            ApiError::PhoneNumberExists(_) => (StatusCode::BAD_REQUEST, 21422),
            ApiError::NotEditable { .. } => (StatusCode::BAD_REQUEST, 60711),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 20001),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 20004),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, 20503),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, 20500),
        }
    }

    /// Shorthand for [`ApiError::InvalidParameter`].
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::InvalidParameter(message.into())
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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Trust(t) => t.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<TrustError> for ApiError {
    /// An index refusal is the client's fault: the write broke a model rule.
    fn from(e: TrustError) -> ApiError {
        ApiError::InvalidParameter(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if matches!(self, ApiError::Internal(_)) {
            tracing::error!(error = %self, "Trust Hub API request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"callsign\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_twilio_fields() {
        let body = ApiError::NotEditable {
            sid: "BU1".into(),
            status: "in-review".into(),
        }
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
        let r = ApiError::Unauthenticated.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        let r = ApiError::Forbidden("operator only".into()).into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn store_errors_are_internal_but_model_errors_are_the_clients() {
        let e: ApiError = StoreError::Backend("disk".into()).into();
        assert_eq!(e.status_and_code().0, StatusCode::INTERNAL_SERVER_ERROR);
        let e: ApiError = TrustError::TooMany("accounts").into();
        assert_eq!(e.status_and_code().0, StatusCode::BAD_REQUEST);
    }
}
