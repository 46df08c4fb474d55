//! `/v1/SupportingDocuments` and `/v1/SupportingDocumentTypes`.
//!
//! A document is created with a form, as Twilio's client libraries send it, or with a
//! `multipart/form-data` body that also carries the `File` (Twilio's upload, e.g.
//! `curl -F File=@proof.pdf`). An upload is authenticated before its body is read, and
//! read up to `[api] max_document_bytes` for the file and `max_body_bytes` for each other
//! field. `GET /v1/SupportingDocuments/{Sid}/File` returns the file, as a download, to the
//! document's account and the operator.

use axum::body::Body;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ParamError};
use super::render;
use super::reply::{ApiState, Reply, run};
use super::request::{ApiRequest, Params, credentials, parse_sid};
use crate::trust::Sid;
use crate::trust::documents::{DOCUMENT_TYPES, DocumentType};
use crate::trusthub::documents::{DocumentUpdate, NewDocument, Upload};

const CREATE_FIELDS: &[&str] = &["FriendlyName", "Type", "Attributes"];

/// A document type by its SID (`OY…`) or its machine name (the policies' links use
/// the name).
fn document_type(key: &str, path: &str) -> Result<&'static DocumentType, ApiError> {
    let by_sid = || Sid::parse(key, "OY").ok().and_then(DocumentType::by_sid);
    DocumentType::by_name(key)
        .or_else(by_sid)
        .ok_or_else(|| ApiError::NotFound(path.to_owned()))
}

/// Whether the request carries a multipart body.
fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// A multipart upload's failure, as the API answers it: a field over its limit names
/// that limit (the file's, or any other field's).
fn multipart_error(e: multer::Error, state: &ApiState) -> ApiError {
    match e {
        multer::Error::UnknownField { field_name } => {
            ParamError::Unknown(field_name.unwrap_or_default()).into()
        }
        multer::Error::FieldSizeExceeded { field_name, .. } => match field_name.as_deref() {
            Some("File") => ApiError::TooLarge(state.document_limit),
            _ => ApiError::TooLarge(state.body_limit),
        },
        multer::Error::StreamSizeExceeded { .. } => {
            ApiError::TooLarge(state.document_limit.saturating_add(state.body_limit))
        }
        other => ParamError::Multipart(other.to_string()).into(),
    }
}

/// The declared type a file's bytes must agree with: aliases browsers and tools send
/// are taken for their type.
fn declared_type(essence: &str) -> String {
    match essence.to_ascii_lowercase().as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg".to_owned(),
        "application/x-pdf" => "application/pdf".to_owned(),
        other => other.to_owned(),
    }
}

/// Reads a multipart create: its text fields as parameters, and its file.
async fn read_multipart(
    state: &ApiState,
    req: Request,
) -> Result<(ApiRequest, Option<Upload>), ApiError> {
    let total = state.document_limit.saturating_add(state.body_limit);
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > total) {
        return Err(ApiError::TooLarge(state.document_limit));
    }
    let content_type = (parts.headers.get(header::CONTENT_TYPE))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| ApiError::from(ParamError::Multipart(e.to_string())))?;
    let mut allowed: Vec<&str> = CREATE_FIELDS.to_vec();
    allowed.push("File");
    let limits = multer::SizeLimit::new()
        .whole_stream(total as u64)
        .per_field(state.body_limit as u64)
        .for_field("File", state.document_limit as u64);
    let constraints = multer::Constraints::new()
        .allowed_fields(allowed)
        .size_limit(limits);
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    // The query's parameters count as the form's, as they do for a form body.
    let mut params = Params::parse(parts.uri.query().unwrap_or("").as_bytes())?;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, state))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "File" {
            if file.is_some() {
                return Err(ParamError::Repeated(name).into());
            }
            let declared_type = field.content_type().map(|m| declared_type(m.essence_str()));
            let content = field.bytes().await.map_err(|e| multipart_error(e, state))?;
            file = Some(Upload {
                content: Vec::from(content),
                declared_type,
            });
        } else {
            let value = field.bytes().await.map_err(|e| multipart_error(e, state))?;
            params.push(name, Vec::from(value))?;
        }
    }
    let req = ApiRequest::from_parts(&parts, params);
    Ok((req, file))
}

/// `POST /v1/SupportingDocuments`: a form, or a multipart form with the `File`.
pub(super) async fn create(State(state): State<ApiState>, req: Request<Body>) -> Response {
    let (req, file) = if is_multipart(&req) {
        // Who is asking is settled before a large body is read.
        let hub = state.hub.clone();
        let creds = credentials(req.headers());
        let known = tokio::task::spawn_blocking(move || hub.authenticate(creds.as_ref())).await;
        match known {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return ApiError::from(e).into_response(),
            Err(e) => return ApiError::Task(e.to_string()).into_response(),
        }
        // The file is held whole from here until it is stored.
        let permit = match state.file_permit() {
            Ok(permit) => permit,
            Err(e) => return e.into_response(),
        };
        match read_multipart(&state, req).await {
            Ok((req, file)) => (req, file.map(|f| (f, permit))),
            Err(e) => return e.into_response(),
        }
    } else {
        match ApiRequest::from_request(req, &state).await {
            Ok(req) => (req, None),
            Err(e) => return e.into_response(),
        }
    };
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(CREATE_FIELDS, false)?;
        // The transfer's permit is held until the file is stored.
        let (file, _permit) = match file {
            Some((upload, permit)) => (Some(upload), Some(permit)),
            None => (None, None),
        };
        let new = NewDocument {
            friendly_name: p.required("FriendlyName")?.to_owned(),
            document_type: p.required("Type")?.to_owned(),
            attributes: p.attributes()?.unwrap_or(serde_json::json!({})),
            file,
        };
        let doc = hub.create_document(caller, new)?;
        Ok(Reply::Created(render::supporting_document(
            &req.base_url,
            &doc,
            hub.now_time(),
        )))
    })
    .await
}

pub(super) async fn list(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |hub, caller, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        let rows = hub.documents(caller, render::store_page(page))?;
        let now = hub.now_time();
        Ok(Reply::Ok(render::v1_list(
            req,
            "/v1/SupportingDocuments",
            page,
            &rows,
            |base, d| render::supporting_document(base, d, now),
        )))
    })
    .await
}

pub(super) async fn fetch(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let doc = hub.document(caller, parse_sid("Sid", &sid, "RD")?)?;
        Ok(Reply::Ok(render::supporting_document(
            &req.base_url,
            &doc,
            hub.now_time(),
        )))
    })
    .await
}

/// `GET /v1/SupportingDocuments/{Sid}/File`: the uploaded file, as a download.
pub(super) async fn file(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    let permit = match state.file_permit() {
        Ok(permit) => permit,
        Err(e) => return e.into_response(),
    };
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        let (doc, content) = hub.document_file(caller, parse_sid("Sid", &sid, "RD")?)?;
        let mime_type = doc
            .mime_type
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let extension = match mime_type.as_str() {
            "application/pdf" => "pdf",
            "image/png" => "png",
            "image/jpeg" => "jpg",
            _ => "bin",
        };
        Ok(Reply::File {
            mime_type,
            name: format!("{}.{extension}", doc.sid),
            content,
            permit: Some(permit),
        })
    })
    .await
}

pub(super) async fn update(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        let p = &req.params;
        p.allow(
            &["FriendlyName", "Attributes", "Status", "ValidUntil"],
            false,
        )?;
        p.some()?;
        let update = DocumentUpdate {
            friendly_name: p.owned("FriendlyName"),
            attributes: p.attributes()?,
            status: p.document_status()?,
            valid_until: p.clearable_datetime("ValidUntil")?,
        };
        let doc = hub.update_document(caller, parse_sid("Sid", &sid, "RD")?, update)?;
        Ok(Reply::Ok(render::supporting_document(
            &req.base_url,
            &doc,
            hub.now_time(),
        )))
    })
    .await
}

pub(super) async fn delete(
    State(state): State<ApiState>,
    Path(sid): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |hub, caller, req| {
        req.params.allow(&[], false)?;
        hub.delete_document(caller, parse_sid("Sid", &sid, "RD")?)?;
        Ok(Reply::NoContent)
    })
    .await
}

pub(super) async fn list_types(State(state): State<ApiState>, req: ApiRequest) -> Response {
    run(state, req, |_, _, req| {
        req.params.allow(&[], true)?;
        let page = req.params.page()?;
        Ok(Reply::Ok(render::catalogue_page(
            req,
            "/v1/SupportingDocumentTypes",
            "supporting_document_types",
            page,
            DOCUMENT_TYPES,
            render::supporting_document_type,
        )))
    })
    .await
}

pub(super) async fn fetch_type(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    req: ApiRequest,
) -> Response {
    run(state, req, move |_, _, req| {
        req.params.allow(&[], false)?;
        let t = document_type(&key, &req.path)?;
        Ok(Reply::Ok(render::supporting_document_type(
            &req.base_url,
            t,
        )))
    })
    .await
}
