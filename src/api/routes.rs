//! The Trust Hub routes (Twilio's Trust Hub v1 and 2010 paths) and the plumbing every
//! handler shares: authenticate, run the work off the async threads, and answer with
//! JSON or a Twilio error body.

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post};

use super::error::ApiError;
use super::render;
use super::reply::ApiState;
use super::subresources::{self, Subresource};
use super::{
    accounts, assignments, attestation, auth_tokens, bundles, credentials, documents,
    end_user_types, end_users, evaluations, identities, lookups, numbers, origination, policies,
    review, trunk_numbers, trunking,
};
use crate::trust::{BundleKind, ChannelEndpointAssignment, EntityAssignment, Evaluation};

/// Every Trust Hub route, on `state`.
pub fn router(state: ApiState) -> Router {
    let mut r = Router::new()
        .route(
            "/2010-04-01/Accounts.json",
            get(accounts::list).post(accounts::create),
        )
        .route(
            "/2010-04-01/Accounts/{sid}",
            get(accounts::fetch).post(accounts::update),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            get(numbers::list).post(numbers::create),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{sid}",
            get(numbers::fetch)
                .post(numbers::update)
                .delete(numbers::delete),
        )
        .route("/v2/PhoneNumbers/{number}", get(lookups::fetch))
        .route("/v1/EndUsers", get(end_users::list).post(end_users::create))
        .route(
            "/v1/EndUsers/{sid}",
            get(end_users::fetch)
                .post(end_users::update)
                .delete(end_users::delete),
        )
        .route(
            "/v1/SupportingDocuments",
            get(documents::list).post(documents::create),
        )
        .route(
            "/v1/SupportingDocuments/{sid}",
            get(documents::fetch)
                .post(documents::update)
                .delete(documents::delete),
        )
        .route("/v1/SupportingDocuments/{sid}/File", get(documents::file))
        .route("/v1/SupportingDocumentTypes", get(documents::list_types))
        .route(
            "/v1/SupportingDocumentTypes/{sid}",
            get(documents::fetch_type),
        )
        .route("/v1/EndUserTypes", get(end_user_types::list))
        .route("/v1/EndUserTypes/{sid}", get(end_user_types::fetch))
        .route("/v1/Policies", get(policies::list))
        .route("/v1/Policies/{sid}", get(policies::fetch))
        .route("/v1/Attestation", get(attestation::get))
        .route("/v1/ReviewQueue", get(review::queue))
        .route(
            "/v1/AuthTokens/Secondary",
            post(auth_tokens::create_secondary).delete(auth_tokens::delete_secondary),
        )
        .route("/v1/AuthTokens/Promote", post(auth_tokens::promote))
        .route("/v1/ReviewLog", get(review::log))
        .route(
            "/v1/Trunks",
            get(trunking::list_trunks).post(trunking::create_trunk),
        )
        .route(
            "/v1/Trunks/{trunk}/OriginationUrls",
            get(origination::list).post(origination::create),
        )
        .route(
            "/v1/Trunks/{trunk}/OriginationUrls/{sid}",
            get(origination::fetch)
                .post(origination::update)
                .delete(origination::delete),
        )
        .route(
            "/v1/SigningIdentities",
            get(identities::list).post(identities::create),
        )
        .route(
            "/v1/SigningIdentities/{sid}",
            get(identities::fetch)
                .post(identities::update)
                .delete(identities::delete),
        )
        .route(
            "/v1/SigningIdentities/{sid}/Assignments",
            get(identities::assignments).post(identities::assign),
        )
        .route(
            "/v1/SigningIdentities/{sid}/Assignments/{target}",
            get(identities::fetch_assignment).delete(identities::unassign),
        )
        .route(
            "/v1/Trunks/{trunk}",
            get(trunking::fetch_trunk)
                .post(trunking::update_trunk)
                .delete(trunking::delete_trunk),
        )
        .route(
            "/v1/Trunks/{trunk}/IpAccessControlLists",
            get(trunking::list_trunk_lists).post(trunking::add_trunk_list),
        )
        .route(
            "/v1/Trunks/{trunk}/IpAccessControlLists/{sid}",
            get(trunking::fetch_trunk_list).delete(trunking::remove_trunk_list),
        )
        .route(
            "/v1/Trunks/{trunk}/PhoneNumbers",
            get(trunk_numbers::list).post(trunk_numbers::add),
        )
        .route(
            "/v1/Trunks/{trunk}/PhoneNumbers/{sid}",
            get(trunk_numbers::fetch).delete(trunk_numbers::remove),
        )
        .route(
            "/v1/Trunks/{trunk}/CredentialLists",
            get(credentials::list_trunk_lists).post(credentials::add_trunk_list),
        )
        .route(
            "/v1/Trunks/{trunk}/CredentialLists/{sid}",
            get(credentials::fetch_trunk_list).delete(credentials::remove_trunk_list),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/CredentialLists.json",
            get(credentials::list_lists).post(credentials::create_list),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}",
            get(credentials::fetch_list)
                .post(credentials::rename_list)
                .delete(credentials::delete_list),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}/Credentials.json",
            get(credentials::list_credentials).post(credentials::create_credential),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}/Credentials/{sid}",
            get(credentials::fetch_credential)
                .post(credentials::update_credential)
                .delete(credentials::delete_credential),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists.json",
            get(trunking::list_lists).post(trunking::create_list),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}",
            get(trunking::fetch_list)
                .post(trunking::rename_list)
                .delete(trunking::delete_list),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}/IpAddresses.json",
            get(trunking::list_addresses).post(trunking::create_address),
        )
        .route(
            "/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}/IpAddresses/{sid}",
            get(trunking::fetch_address)
                .post(trunking::update_address)
                .delete(trunking::delete_address),
        );
    for kind in [BundleKind::CustomerProfile, BundleKind::TrustProduct] {
        r = bundle_routes(r, kind);
    }
    r.method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(axum::middleware::from_fn(twilio_shaped))
        .with_state(state)
}

/// Longest request URI the Trust Hub paths take (hyper itself cuts far longer ones).
pub const MAX_URI: usize = 8 * 1024;
/// Most header bytes (names and values) the Trust Hub paths take.
pub const MAX_HEADERS: usize = 32 * 1024;

/// Keeps every answer of the Trust Hub paths in Twilio's error shape: refuses oversized
/// URIs and headers itself, and rewrites what axum's extractors refused (plain text)
/// into a Twilio error body with the same status and message.
async fn twilio_shaped(request: Request, next: Next) -> Response {
    let uri_len = request.uri().to_string().len();
    if uri_len > MAX_URI {
        return ApiError::UriTooLong(MAX_URI).into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADERS {
        return ApiError::HeadersTooLarge(MAX_HEADERS).into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let message = match text.trim() {
        "" => status
            .canonical_reason()
            .unwrap_or("Request refused")
            .to_owned(),
        t => t.to_owned(),
    };
    ApiError::Rejected {
        status: status.as_u16(),
        message,
    }
    .into_response()
}

type HubRoute = MethodRouter<ApiState>;

/// A bundle kind's routes: the collection, one bundle, and each sub-resource's collection
/// and item under it.
fn bundle_routes(r: Router<ApiState>, kind: BundleKind) -> Router<ApiState> {
    let base = format!("/v1/{}", render::collection(kind));
    let children: [(&str, HubRoute, HubRoute); 3] = [
        (
            EntityAssignment::SEGMENT,
            get(move |s, p, q| assignments::list_entities(s, p, q, kind))
                .post(move |s, p, q| assignments::create_entity(s, p, q, kind)),
            get(move |s, p, q| subresources::fetch::<EntityAssignment>(s, p, q, kind))
                .delete(move |s, p, q| assignments::delete_entity(s, p, q, kind)),
        ),
        (
            ChannelEndpointAssignment::SEGMENT,
            get(move |s, p, q| assignments::list_endpoints(s, p, q, kind))
                .post(move |s, p, q| assignments::create_endpoint(s, p, q, kind)),
            get(move |s, p, q| subresources::fetch::<ChannelEndpointAssignment>(s, p, q, kind))
                .delete(move |s, p, q| assignments::delete_endpoint(s, p, q, kind)),
        ),
        (
            Evaluation::SEGMENT,
            get(move |s, p, q| evaluations::list(s, p, q, kind))
                .post(move |s, p, q| evaluations::create(s, p, q, kind)),
            get(move |s, p, q| subresources::fetch::<Evaluation>(s, p, q, kind)),
        ),
    ];
    let mut r = r
        .route(
            &base,
            get(move |s, q| bundles::list(s, q, kind))
                .post(move |s, q| bundles::create(s, q, kind)),
        )
        .route(
            &format!("{base}/{{sid}}"),
            get(move |s, p, q| bundles::fetch(s, p, q, kind))
                .post(move |s, p, q| bundles::update(s, p, q, kind))
                .delete(move |s, p, q| bundles::delete(s, p, q, kind)),
        );
    for (segment, collection, item) in children {
        r = r
            .route(&format!("{base}/{{bundle}}/{segment}"), collection)
            .route(&format!("{base}/{{bundle}}/{segment}/{{sid}}"), item);
    }
    r
}

/// In read-only file mode the Trust Hub paths answer 503 with the reason.
pub fn unavailable() -> Router {
    let answer = || async { ApiError::FileMode.into_response() };
    Router::new()
        .route("/v1/{*rest}", any(answer))
        .route("/2010-04-01/{*rest}", any(answer))
}
