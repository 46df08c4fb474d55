//! One Trust Hub request as the handlers see it: its credentials, its form or query
//! parameters (unknown ones refused), paging, and the base URL for absolute links.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use base64::Engine;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{ApiError, ParamError};
use crate::trust::{AccountStatus, BundleStatus, DocumentStatus, Sid};

/// Paging parameters every list accepts.
pub const PAGING: &[&str] = &["PageSize", "Page", "PageToken"];

/// A request's method, credentials, parameters and host, read before any work is done.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// Basic-auth `(username, password)`, when present and well formed.
    pub credentials: Option<(String, String)>,
    pub params: Params,
    /// `http://host[:port]`, from the Host header.
    pub base_url: String,
    pub path: String,
}

/// The request size limit, read from the router state.
pub trait BodyLimit {
    fn body_limit(&self) -> usize;
}

impl<S: BodyLimit + Send + Sync> FromRequest<S> for ApiRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = state.body_limit();
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(ApiError::TooLarge(limit));
        }
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::TooLarge(limit))?;
        let query = parts.uri.query().unwrap_or("");
        let mut params = Params::parse(query.as_bytes())?;
        if !bytes.is_empty() {
            params.pairs.extend(Params::parse(&bytes)?.pairs);
        }
        Ok(ApiRequest::from_parts(&parts, params))
    }
}

impl ApiRequest {
    /// The request whose head is `parts`, with `params` read from its query and body.
    pub fn from_parts(parts: &axum::http::request::Parts, params: Params) -> ApiRequest {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        ApiRequest {
            method: parts.method.clone(),
            credentials: credentials(&parts.headers),
            params,
            base_url: format!("http://{host}"),
            path: parts.uri.path().to_owned(),
        }
    }
}

/// Decodes `Authorization: Basic base64(user:password)`.
pub fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Form or query parameters, in order, possibly repeated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Which page of a list: `PageSize` (1..=1000, default 50) and `Page` (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: usize,
    pub size: usize,
}

/// The parameters whose values may hold line breaks (PEM documents).
const MULTILINE: &[&str] = &["CertificateChain"];

impl Params {
    /// Decodes `application/x-www-form-urlencoded` strictly: a name or value that is not
    /// UTF-8 once percent-decoded, or holds a control character (NUL, CR, LF, ...), is
    /// refused by its parameter's name rather than stored with replacement characters.
    pub fn parse(bytes: &[u8]) -> Result<Params, ParamError> {
        let mut pairs = Vec::new();
        for pair in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name).map_err(ParamError::NotUtf8)?;
            let value = decode(value).map_err(|_| ParamError::NotUtf8(name.clone()))?;
            pairs.push(checked(name, value)?);
        }
        Ok(Params { pairs })
    }

    /// Adds a parameter read from elsewhere (a multipart form's text field), checked as
    /// [`Params::parse`] checks a form's: UTF-8 and no control characters.
    pub fn push(&mut self, name: String, value: Vec<u8>) -> Result<(), ParamError> {
        let value = String::from_utf8(value).map_err(|_| ParamError::NotUtf8(name.clone()))?;
        self.pairs.push(checked(name, value)?);
        Ok(())
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        Params {
            pairs: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Refuses any parameter not in `known` (or the paging parameters, when `paged`).
    pub fn allow(&self, known: &[&str], paged: bool) -> Result<(), ParamError> {
        for (name, _) in &self.pairs {
            let ok = known.contains(&name.as_str()) || (paged && PAGING.contains(&name.as_str()));
            if !ok {
                return Err(ParamError::Unknown(name.clone()));
            }
        }
        Ok(())
    }

    /// Refuses an update that names no field: it would answer success with nothing
    /// changed. Call after [`Params::allow`], which refuses the names it does not know.
    pub fn some(&self) -> Result<(), ParamError> {
        match self.pairs.is_empty() {
            true => Err(ParamError::NothingToUpdate),
            false => Ok(()),
        }
    }

    /// The parameters' names, in order, each once.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.pairs {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ParamError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or(ParamError::Missing(name))
    }

    /// A SID parameter of the given kind.
    pub fn sid(&self, name: &'static str, prefix: &str) -> Result<Option<Sid>, ParamError> {
        self.get(name)
            .map(|v| parse_sid(name, v, prefix))
            .transpose()
    }

    /// A required SID parameter of the given kind.
    pub fn required_sid(&self, name: &'static str, prefix: &str) -> Result<Sid, ParamError> {
        parse_sid(name, self.required(name)?, prefix)
    }

    /// An ISO 8601 / RFC 3339 date-time parameter.
    pub fn datetime(&self, name: &'static str) -> Result<Option<OffsetDateTime>, ParamError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                OffsetDateTime::parse(v, &Rfc3339).map_err(|_| ParamError::DateTime {
                    name,
                    value: v.to_owned(),
                })
            })
            .transpose()
    }

    /// A date-time parameter an update may clear: absent `None`, empty `Some(None)`.
    pub fn clearable_datetime(
        &self,
        name: &'static str,
    ) -> Result<Option<Option<OffsetDateTime>>, ParamError> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.datetime(name).map(Some),
        }
    }

    /// A supporting document's `Status` parameter, in either of Twilio's spellings.
    pub fn document_status(&self) -> Result<Option<DocumentStatus>, ParamError> {
        self.get("Status")
            .map(|s| {
                DocumentStatus::parse(s).ok_or_else(|| ParamError::DocumentStatus(s.to_owned()))
            })
            .transpose()
    }

    /// A bundle `Status` parameter.
    pub fn bundle_status(&self) -> Result<Option<BundleStatus>, ParamError> {
        self.get("Status")
            .map(|s| BundleStatus::parse(s).ok_or_else(|| ParamError::BundleStatus(s.to_owned())))
            .transpose()
    }

    /// An account `Status` parameter.
    pub fn account_status(&self) -> Result<Option<AccountStatus>, ParamError> {
        self.get("Status")
            .map(|s| AccountStatus::parse(s).ok_or_else(|| ParamError::AccountStatus(s.to_owned())))
            .transpose()
    }

    /// The `Attributes` parameter: a JSON object.
    pub fn attributes(&self) -> Result<Option<serde_json::Value>, ParamError> {
        self.get("Attributes")
            .map(|a| {
                serde_json::from_str::<serde_json::Value>(a)
                    .ok()
                    .filter(serde_json::Value::is_object)
                    .ok_or(ParamError::AttributesNotObject)
            })
            .transpose()
    }

    /// An owned copy of parameter `name`.
    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub fn page(&self) -> Result<PageRequest, ParamError> {
        let number = |name: &'static str, default: usize| -> Result<usize, ParamError> {
            self.get(name)
                .map(|v| v.parse::<usize>().map_err(|_| ParamError::NotANumber(name)))
                .unwrap_or(Ok(default))
        };
        let size = number("PageSize", 50)?;
        if !(1..=1000).contains(&size) {
            return Err(ParamError::PageSize);
        }
        Ok(PageRequest {
            page: number("Page", 0)?,
            size,
        })
    }

    /// The filter parameters (everything but paging), URL-encoded, for page links.
    pub fn filters_query(&self) -> String {
        let filters: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, _)| !PAGING.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        serde_urlencoded::to_string(filters).unwrap_or_default()
    }
}

/// A parameter as decoded, refused if its name or value holds a control character
/// (only a PEM document's value may break lines).
fn checked(name: String, value: String) -> Result<(String, String), ParamError> {
    let line_break_ok = MULTILINE.contains(&name.as_str());
    let bad_in_value = |c: char| c.is_control() && !(line_break_ok && matches!(c, '\n' | '\r'));
    if name.chars().any(char::is_control) || value.chars().any(bad_in_value) {
        return Err(ParamError::ControlCharacter(name));
    }
    Ok((name, value))
}

/// Parses a SID from a path or a parameter; a malformed one is a 400.
pub fn parse_sid(name: &'static str, value: &str, prefix: &str) -> Result<Sid, ParamError> {
    let parsed = if prefix.is_empty() {
        Sid::parse_any(value)
    } else {
        Sid::parse(value, prefix)
    };
    parsed.map_err(|error| ParamError::Sid { name, error })
}

/// A 2010 API path segment `{Sid}.json`.
pub fn json_sid(name: &'static str, segment: &str, prefix: &str) -> Result<Sid, ApiError> {
    let sid = segment
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::NotFound(segment.to_owned()))?;
    Ok(parse_sid(name, sid, prefix)?)
}

/// One percent-encoded form component, `+` as space; the raw text (lossy, for the error
/// message) when it is not UTF-8.
fn decode(component: &[u8]) -> Result<String, String> {
    let spaced: Vec<u8> = component
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| String::from_utf8_lossy(component).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_refused_and_paging_is_allowed_on_lists() {
        let p = Params::parse(b"FriendlyName=a&PageSize=20&Colour=blue").unwrap();
        assert!(p.allow(&["FriendlyName", "Colour"], false).is_err());
        assert!(p.allow(&["FriendlyName", "Colour"], true).is_ok());
        let err = p.allow(&["FriendlyName"], true).unwrap_err();
        assert!(err.to_string().contains("Colour"), "{err}");
    }

    #[test]
    fn undecodable_and_control_character_values_are_refused_by_name() {
        assert_eq!(
            Params::parse(b"FriendlyName=a%FFb"),
            Err(ParamError::NotUtf8("FriendlyName".into()))
        );
        assert_eq!(
            Params::parse(b"Email=x%40y.z&Friendly%C3Name=a"),
            Err(ParamError::NotUtf8("Friendly%C3Name".into()))
        );
        for control in ["%00", "%0A", "%0D", "%1B", "%7F"] {
            let form = format!("Email=a&FriendlyName=a{control}b");
            assert_eq!(
                Params::parse(form.as_bytes()),
                Err(ParamError::ControlCharacter("FriendlyName".into())),
                "{control}"
            );
        }
        // Multi-byte UTF-8 is kept exactly.
        let p = Params::parse("FriendlyName=Caf%C3%A9+%E2%98%8E".as_bytes()).unwrap();
        assert_eq!(p.get("FriendlyName"), Some("Café ☎"));
    }

    #[test]
    fn only_a_pem_parameter_may_break_lines() {
        let p = Params::parse(b"CertificateChain=-----BEGIN%0D%0Aabc%0A-----END").unwrap();
        assert_eq!(
            p.get("CertificateChain"),
            Some("-----BEGIN\r\nabc\n-----END")
        );
        for control in ["%00", "%1B", "%7F", "%09"] {
            let form = format!("CertificateChain=a{control}b");
            assert_eq!(
                Params::parse(form.as_bytes()),
                Err(ParamError::ControlCharacter("CertificateChain".into())),
                "{control}"
            );
        }
        assert_eq!(
            Params::parse(b"PrivateKey=a%0Ab"),
            Err(ParamError::ControlCharacter("PrivateKey".into()))
        );
    }

    #[test]
    fn values_decode_and_repeat() {
        let p =
            Params::parse(b"ChannelEndpointSids=PN1&ChannelEndpointSids=PN2&Email=a%40b.c&X=1+2")
                .unwrap();
        assert_eq!(
            p.all("ChannelEndpointSids").collect::<Vec<_>>(),
            ["PN1", "PN2"]
        );
        assert_eq!(p.get("Email"), Some("a@b.c"));
        assert_eq!(p.get("X"), Some("1 2"));
        assert!(p.required("Missing").is_err());
    }

    #[test]
    fn sids_and_dates_are_checked() {
        let p = Params::from_pairs(&[
            ("PolicySid", "RN6433641899984f951173ef1738c3bdd0"),
            ("ObjectSid", "BUnope"),
            ("ValidUntil", "2030-01-01T00:00:00Z"),
            ("Bad", "tomorrow"),
        ]);
        assert!(p.sid("PolicySid", "RN").unwrap().is_some());
        assert!(p.sid("ObjectSid", "BU").is_err());
        assert!(p.sid("PolicySid", "BU").is_err());
        assert_eq!(
            p.datetime("ValidUntil")
                .unwrap()
                .map(|t| t.unix_timestamp()),
            Some(1_893_456_000)
        );
        assert!(p.datetime("Bad").is_err());
        assert_eq!(
            json_sid("Sid", "AC00000000000000000000000000000001.json", "AC")
                .unwrap()
                .to_string(),
            "AC00000000000000000000000000000001"
        );
        assert!(json_sid("Sid", "AC00000000000000000000000000000001", "AC").is_err());
    }

    #[test]
    fn paging_defaults_and_limits() {
        assert_eq!(
            Params::default().page().unwrap(),
            PageRequest { page: 0, size: 50 }
        );
        let p = Params::from_pairs(&[("PageSize", "0")]);
        assert!(p.page().is_err());
        let p = Params::from_pairs(&[("Page", "x")]);
        assert!(p.page().is_err());
        let p = Params::from_pairs(&[("Status", "draft"), ("Page", "2"), ("PageSize", "5")]);
        assert_eq!(p.filters_query(), "Status=draft");
    }

    #[test]
    fn basic_credentials_decode() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            "Basic QUMxOnNlY3JldDpwYXJ0".parse().unwrap(),
        );
        assert_eq!(credentials(&h), Some(("AC1".into(), "secret:part".into())));
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(credentials(&h), None);
    }
}
