//! The bodies of ATIS-1000082's REST API for a signing server (STI-AS, `POST
//! /stir/v1/signing`) and a verification server (STI-VS, `POST /stir/v1/verification`):
//! the requests as an SBC sends them, the responses, and the `requestError` objects with
//! their message ids and HTTP statuses.
//!
//! Requests are read field by field from the JSON rather than through a derived
//! deserializer, so that each problem gets the error the standard names: a missing
//! field is `SVC4001` with the field's name, a field of the wrong type or value is
//! `SVC4005` with the field's name and what is wrong, and a body that is not JSON is
//! `SVC4006`. Field names, message ids and statuses follow the implementations that
//! follow the standard (vermouth, callfwd) and the SBC documentation (Oracle, Sansay),
//! which agree on them. Unknown fields are ignored: an Oracle SBC sends `ppt` inside
//! `signingRequest`.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::passport::Attest;
use crate::verify::{Verstat, reason_phrase};

/// A signing request (`signingRequest`): what the SBC asks to have signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRequest {
    /// The level the SBC asks for; callsign may lower it.
    pub attest: Attest,
    /// The called numbers (`dest.tn`), at least one.
    pub dest: Vec<String>,
    /// When the call was placed, in seconds since the epoch.
    pub iat: i64,
    /// The calling number (`orig.tn`).
    pub orig: String,
    /// The origination identifier, when the SBC gives one.
    pub origid: Option<String>,
}

/// A verification request (`verificationRequest`): an Identity header value and the
/// numbers its PASSporT must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRequest {
    /// The calling number (`from.tn`).
    pub from: String,
    /// The called numbers (`to.tn`), at least one.
    pub to: Vec<String>,
    /// When the SBC received the call, in seconds since the epoch.
    pub time: i64,
    /// The Identity header's value, without the header name.
    pub identity: String,
}

/// A problem with a request, or with serving it: the standard's `requestError`, with
/// its message id and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// SVC4000: no body.
    MissingBody,
    /// SVC4001: a mandatory parameter is absent.
    MissingParameter(&'static str),
    /// SVC4002: the `Accept` header asks for something other than JSON.
    NotAcceptable(String),
    /// SVC4003: no such resource.
    NotFound,
    /// SVC4004: the body is not `application/json`.
    UnsupportedMediaType,
    /// SVC4005: a parameter has the wrong type or value, and why.
    InvalidParameter(&'static str, Cow<'static, str>),
    /// SVC4006: the body cannot be parsed, and why.
    Unparsable(String),
    /// SVC4007: no `Content-Length`.
    MissingContentLength,
    /// POL4050: a method other than POST.
    MethodNotAllowed,
    /// POL5000: callsign could not serve the request.
    Internal,
    /// POL0001 with 401: no credentials, or none that identify an SBC. (The standard
    /// defines no authentication; this is OMA's generic policy error, whose
    /// `requestError` shape ATIS-1000082 takes.)
    Unauthorized,
    /// POL0001 with 403: the SBC may not have this done, and why.
    Forbidden(String),
    /// SVC4006 with 413: the body is larger than the limit.
    TooLarge(usize),
    /// POL0001 with 503 and `Retry-After`: the SBC's trunk is over its calls a second.
    RateLimited,
}

impl ApiError {
    /// The `messageId`: `SVC` for a service exception, `POL` for a policy exception.
    pub fn message_id(&self) -> &'static str {
        match self {
            ApiError::MissingBody => "SVC4000",
            ApiError::MissingParameter(_) => "SVC4001",
            ApiError::NotAcceptable(_) => "SVC4002",
            ApiError::NotFound => "SVC4003",
            ApiError::UnsupportedMediaType => "SVC4004",
            ApiError::InvalidParameter(..) => "SVC4005",
            ApiError::Unparsable(_) => "SVC4006",
            ApiError::MissingContentLength => "SVC4007",
            ApiError::MethodNotAllowed => "POL4050",
            ApiError::Internal => "POL5000",
            ApiError::Unauthorized | ApiError::Forbidden(_) | ApiError::RateLimited => "POL0001",
            ApiError::TooLarge(_) => "SVC4006",
        }
    }

    /// The HTTP status the error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::MissingBody
            | ApiError::MissingParameter(_)
            | ApiError::InvalidParameter(..)
            | ApiError::Unparsable(_) => 400,
            ApiError::Unauthorized => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::NotAcceptable(_) => 406,
            ApiError::MissingContentLength => 411,
            ApiError::TooLarge(_) => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Internal => 500,
            ApiError::RateLimited => 503,
        }
    }

    /// The `text`, with `%1` and `%2` standing for the variables.
    pub fn text(&self) -> &'static str {
        match self {
            ApiError::MissingBody => "Missing request body",
            ApiError::MissingParameter(_) => "Missing mandatory parameter '%1'",
            ApiError::NotAcceptable(_) => "Requested response body type '%1' is not supported",
            ApiError::NotFound => "Requested resource was not found",
            ApiError::UnsupportedMediaType => "Unsupported request body type, expected '%1'",
            ApiError::InvalidParameter(..) => "Invalid '%1' parameter value: %2",
            ApiError::Unparsable(_) | ApiError::TooLarge(_) => {
                "Failed to parse received message body: %1"
            }
            ApiError::MissingContentLength => "Missing mandatory Content-Length header",
            ApiError::MethodNotAllowed => "Method not allowed",
            ApiError::Internal => "Internal Server Error. Please try again later",
            ApiError::Unauthorized | ApiError::Forbidden(_) | ApiError::RateLimited => {
                "Policy error: %1"
            }
        }
    }

    /// The `variables` that fill the text's `%1`, `%2`.
    pub fn variables(&self) -> Vec<String> {
        match self {
            ApiError::MissingParameter(name) => vec![(*name).to_owned()],
            ApiError::NotAcceptable(asked) => vec![asked.clone()],
            ApiError::UnsupportedMediaType => vec!["application/json".to_owned()],
            ApiError::InvalidParameter(name, why) => vec![(*name).to_owned(), why.to_string()],
            ApiError::Unparsable(why) => vec![why.clone()],
            ApiError::Unauthorized => vec![
                "unauthorized: send the HTTP basic credentials or the client certificate of an SBC"
                    .to_owned(),
            ],
            ApiError::Forbidden(why) => vec![why.clone()],
            ApiError::TooLarge(max) => vec![format!("the body is larger than {max} bytes")],
            ApiError::RateLimited => vec!["the trunk's calls a second are exceeded".to_owned()],
            _ => Vec::new(),
        }
    }

    /// The response body: `{"requestError": {"serviceException" | "policyException":
    /// {"messageId", "text", "variables"}}}`.
    pub fn to_json(&self) -> Value {
        let id = self.message_id();
        let kind = if id.starts_with("POL") {
            "policyException"
        } else {
            "serviceException"
        };
        json!({ "requestError": { kind: {
            "messageId": id,
            "text": self.text(),
            "variables": self.variables(),
        }}})
    }
}

impl std::fmt::Display for ApiError {
    /// The text with its variables in place, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = self.text().to_owned();
        for (i, v) in self.variables().iter().enumerate() {
            text = text.replace(&format!("%{}", i + 1), v);
        }
        write!(f, "{}: {text}", self.message_id())
    }
}

impl std::error::Error for ApiError {}

/// Reads a signing request body.
pub fn signing_request(body: &[u8]) -> Result<SigningRequest, ApiError> {
    let fields = wrapped(body, "signingRequest")?;
    let attest: Attest = (string(&fields, "attest")?.parse())
        .map_err(|_| invalid("attest", "must be 'A', 'B' or 'C'"))?;
    let dest = tn_list(&fields, "dest")?;
    let iat = seconds(&fields, "iat")?;
    let orig = tn(&fields, "orig")?;
    let origid = match fields.get("origid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(invalid("origid", "must be a non-empty string")),
    };
    Ok(SigningRequest {
        attest,
        dest,
        iat,
        orig,
        origid,
    })
}

/// Reads a verification request body.
pub fn verification_request(body: &[u8]) -> Result<VerificationRequest, ApiError> {
    let fields = wrapped(body, "verificationRequest")?;
    let from = tn(&fields, "from")?;
    let to = tn_list(&fields, "to")?;
    let time = seconds(&fields, "time")?;
    let identity = string(&fields, "identity")?;
    if identity.trim().is_empty() {
        return Err(invalid("identity", "must not be empty"));
    }
    Ok(VerificationRequest {
        from,
        to,
        time,
        identity: identity.to_owned(),
    })
}

/// The signing response body: the whole Identity header value.
pub fn signing_response(identity: &str) -> Value {
    json!({ "signingResponse": { "identity": identity } })
}

/// The verification response body. A failure carries its SIP status as a JSON number
/// (`reasoncode`, which SBCs read as a number), its reason phrase (`reasontext`) and
/// what exactly failed (`reasondesc`); a pass carries the verstat alone.
pub fn verification_response(verstat: Verstat, code: Option<u16>, desc: &str) -> Value {
    let mut out = Map::new();
    out.insert("verstat".into(), verstat.as_str().into());
    if let Some(code) = code {
        out.insert("reasoncode".into(), code.into());
        out.insert("reasontext".into(), reason_phrase(code).into());
        out.insert("reasondesc".into(), desc.into());
    }
    json!({ "verificationResponse": out })
}

/// The object under `name` at the top of a JSON body.
fn wrapped(body: &[u8], name: &'static str) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MissingBody);
    }
    // A key given twice would be read as its last value by us and maybe its first by
    // another reader of the same body: refused.
    serde_json::from_slice::<NoDuplicateKeys>(body)
        .map_err(|e| ApiError::Unparsable(format!("invalid JSON: {e}")))?;
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::Unparsable(format!("invalid JSON: {e}")))?;
    let Value::Object(mut top) = value else {
        return Err(ApiError::Unparsable("the body is not a JSON object".into()));
    };
    match top.remove(name) {
        Some(Value::Object(fields)) => Ok(fields),
        None | Some(Value::Null) => Err(ApiError::MissingParameter(name)),
        Some(_) => Err(invalid(name, "must be an object")),
    }
}

/// Any JSON value, refused when an object in it has a key twice.
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(self)
    }
}

fn invalid(name: &'static str, why: &'static str) -> ApiError {
    ApiError::InvalidParameter(name, Cow::Borrowed(why))
}

fn present<'v>(fields: &'v Map<String, Value>, name: &'static str) -> Result<&'v Value, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(ApiError::MissingParameter(name)),
        Some(v) => Ok(v),
    }
}

fn string<'v>(fields: &'v Map<String, Value>, name: &'static str) -> Result<&'v str, ApiError> {
    present(fields, name)?
        .as_str()
        .ok_or_else(|| invalid(name, "must be a string"))
}

/// Seconds since the epoch: a non-negative integer.
fn seconds(fields: &Map<String, Value>, name: &'static str) -> Result<i64, ApiError> {
    present(fields, name)?
        .as_i64()
        .filter(|s| *s >= 0)
        .ok_or_else(|| invalid(name, "must be a non-negative integer of seconds"))
}

/// `{"tn": "<number>"}`.
fn tn(fields: &Map<String, Value>, name: &'static str) -> Result<String, ApiError> {
    let Value::Object(inner) = present(fields, name)? else {
        return Err(invalid(name, "must be an object with a 'tn'"));
    };
    match inner.get("tn") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(invalid(name, "must carry a 'tn' string")),
    }
}

/// `{"tn": ["<number>", ...]}`, with at least one number.
fn tn_list(fields: &Map<String, Value>, name: &'static str) -> Result<Vec<String>, ApiError> {
    let Value::Object(inner) = present(fields, name)? else {
        return Err(invalid(name, "must be an object with a 'tn' array"));
    };
    let Some(Value::Array(tns)) = inner.get("tn") else {
        return Err(invalid(name, "must carry a 'tn' array"));
    };
    if tns.is_empty() {
        return Err(invalid(name, "'tn' must hold one or more numbers"));
    }
    tns.iter()
        .map(|t| match t {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(invalid(name, "'tn' must hold non-empty strings")),
        })
        .collect()
}

pub mod http;
pub mod service;

#[cfg(test)]
mod tests;
