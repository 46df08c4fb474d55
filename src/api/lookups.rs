//! Twilio's Lookup v2 `PhoneNumbers` resource with its Identity Match package:
//! `GET /v2/PhoneNumbers/{PhoneNumber}?Fields=identity_match&FirstName=…`, answered from
//! the operator's subscriber records ([`crate::vetting::identity`]).
//!
//! A number that is not one gets `200` with `valid: false` and its `validation_errors`,
//! as Twilio answers. Identity Match parameters that are too long or malformed get
//! `400` with Twilio's 60618, a missing parameter the number's country requires `400`
//! with 60617, a package callsign does not serve `400` with 60606. When the records
//! cannot be read, the package object carries 60608 in its `error_code`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ApiError;
use super::reply::{ApiState, Reply, run};
use super::request::ApiRequest;
use crate::tn;
use crate::vetting::identity::{self, Query, QueryError};

/// The query parameters of the resource.
const PARAMS: &[&str] = &[
    "Fields",
    "CountryCode",
    "FirstName",
    "LastName",
    "AddressLine1",
    "AddressLine2",
    "City",
    "State",
    "PostalCode",
    "AddressCountryCode",
    "NationalId",
    "DateOfBirth",
    "LastVerifiedDate",
    "VerificationSid",
    "PartnerSubId",
];

/// Twilio's packages; callsign serves `validation` (always) and `identity_match`.
const PACKAGES: &[&str] = &[
    "validation",
    "caller_name",
    "sim_swap",
    "call_forwarding",
    "line_status",
    "line_type_intelligence",
    "identity_match",
    "reassigned_number",
    "sms_pumping_risk",
    "phone_number_quality_score",
    "pre_fill",
];

/// The ISO 3166-1 country of an E.164 number, by its calling code; NANP numbers are
/// the US's (callsign does not hold the NANP area-code plan).
fn country_of(digits: &str) -> Option<(&'static str, &'static str)> {
    const CODES: &[(&str, &str)] = &[
        ("1", "US"),
        ("7", "RU"),
        ("31", "NL"),
        ("32", "BE"),
        ("33", "FR"),
        ("34", "ES"),
        ("39", "IT"),
        ("41", "CH"),
        ("43", "AT"),
        ("44", "GB"),
        ("45", "DK"),
        ("46", "SE"),
        ("47", "NO"),
        ("48", "PL"),
        ("49", "DE"),
        ("52", "MX"),
        ("55", "BR"),
        ("61", "AU"),
        ("64", "NZ"),
        ("81", "JP"),
        ("91", "IN"),
        ("353", "IE"),
        ("351", "PT"),
    ];
    CODES
        .iter()
        .filter(|(code, _)| digits.starts_with(code))
        .max_by_key(|(code, _)| code.len())
        .copied()
}

/// A NANP number's national format, `(415) 992-9960`.
fn national_format(digits: &str) -> Option<String> {
    let n = digits.strip_prefix('1').filter(|n| n.len() == 10)?;
    Some(format!("({}) {}-{}", &n[..3], &n[3..6], &n[6..]))
}

fn lookup_error(code: u32, message: String) -> ApiError {
    ApiError::Lookup { code, message }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        let code = match e {
            QueryError::MissingRequired { .. } => 60617,
            _ => 60618,
        };
        lookup_error(code, e.to_string())
    }
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, _caller, req| {
        let p = &req.params;
        p.allow(PARAMS, false)?;
        let mut identity_match = false;
        for field in p.get("Fields").unwrap_or("").split(',').map(str::trim) {
            match field {
                "" | "validation" => {}
                "identity_match" => identity_match = true,
                f if PACKAGES.contains(&f) => {
                    return Err(lookup_error(
                        60606,
                        format!("Lookup package {f} is not enabled on this server"),
                    ));
                }
                f => {
                    return Err(lookup_error(
                        60618,
                        format!(
                            "Fields: unknown package {:?}",
                            f.chars().take(64).collect::<String>()
                        ),
                    ));
                }
            }
        }
        let url = |e164: &str| format!("{}/v2/PhoneNumbers/{e164}", req.base_url);
        let canonical = tn::canonicalize(&number, hub.numbering())
            .ok()
            .filter(|t| t.is_digits() && t.as_str().len() >= 7);
        let Some(canonical) = canonical else {
            let error = match tn::canonicalize(&number, hub.numbering()) {
                Err(tn::TnError::TooLong) => "TOO_LONG",
                Ok(t) if t.is_digits() => "TOO_SHORT",
                _ => "NOT_A_NUMBER",
            };
            return Ok(Reply::Ok(json!({
                "calling_country_code": null,
                "country_code": null,
                "phone_number": number.chars().take(64).collect::<String>(),
                "national_format": null,
                "valid": false,
                "validation_errors": [error],
                "caller_name": null, "sim_swap": null, "call_forwarding": null,
                "line_status": null, "line_type_intelligence": null, "identity_match": null,
                "reassigned_number": null, "sms_pumping_risk": null,
                "phone_number_quality_score": null, "pre_fill": null,
                "url": url(&number),
            })));
        };
        let digits = canonical.as_str();
        let e164 = format!("+{digits}");
        let country = country_of(digits);
        let query = Query {
            first_name: p.owned("FirstName"),
            last_name: p.owned("LastName"),
            address_line1: p.owned("AddressLine1"),
            address_line2: p.owned("AddressLine2"),
            city: p.owned("City"),
            state: p.owned("State"),
            postal_code: p.owned("PostalCode"),
            address_country_code: p.owned("AddressCountryCode"),
            national_id: p.owned("NationalId"),
            date_of_birth: p.owned("DateOfBirth"),
        };
        let package = if identity_match {
            identity::check_query(&query, country.map_or("", |c| c.1))?;
            let matched = match hub.vetting() {
                Some(v) => v.provider().records(&e164).map_err(|e| e.to_string()),
                None => Ok(Vec::new()),
            };
            Some(match matched {
                Ok(records) => {
                    let mut m = serde_json::to_value(identity::best(&query, &records))
                        .unwrap_or(Value::Null);
                    m["error_code"] = Value::Null;
                    m["error_message"] = Value::Null;
                    m
                }
                Err(e) => json!({
                    "first_name_match": null, "last_name_match": null,
                    "address_lines_match": null, "city_match": null, "state_match": null,
                    "postal_code_match": null, "address_country_match": null,
                    "national_id_match": null, "date_of_birth_match": null,
                    "summary_score": null,
                    "error_code": 60608,
                    "error_message": format!("Lookup provider replied with an error: {e}"),
                }),
            })
        } else {
            None
        };
        Ok(Reply::Ok(json!({
            "calling_country_code": country.map(|c| c.0),
            "country_code": country.map(|c| c.1),
            "phone_number": e164,
            "national_format": national_format(digits),
            "valid": true,
            "validation_errors": [],
            "caller_name": null, "sim_swap": null, "call_forwarding": null,
            "line_status": null, "line_type_intelligence": null,
            "identity_match": package,
            "reassigned_number": null, "sms_pumping_risk": null,
            "phone_number_quality_score": null, "pre_fill": null,
            "url": url(&e164),
        })))
    })
    .await
}
