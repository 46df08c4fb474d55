//! Twilio's JSON shapes: each resource with its links, and the two list envelopes
//! (Trust Hub v1's `meta`, and the 2010 API's page fields).

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use super::request::{ApiRequest, PageRequest, Params};
use crate::store::Page;
use crate::trust::documents::DocumentType;
use crate::trust::rules::{RequirementKind, requirements};
use crate::trust::{
    Account, Bundle, BundleKind, ChannelEndpointAssignment, EndUser, EntityAssignment, Evaluation,
    PhoneNumber, Policy, Sid, SupportingDocument,
};

/// The path segment of a bundle kind's collection.
pub fn collection(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::CustomerProfile => "CustomerProfiles",
        BundleKind::TrustProduct => "TrustProducts",
    }
}

/// The `…_sid` field naming the bundle in sub-resources.
fn sid_field(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::CustomerProfile => "customer_profile_sid",
        BundleKind::TrustProduct => "trust_product_sid",
    }
}

fn link_prefix(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::CustomerProfile => "customer_profiles",
        BundleKind::TrustProduct => "trust_products",
    }
}

/// The path segments of a bundle's three sub-resources.
pub const ENTITY_ASSIGNMENTS: &str = "EntityAssignments";
pub const CHANNEL_ENDPOINT_ASSIGNMENTS: &str = "ChannelEndpointAssignments";
pub const EVALUATIONS: &str = "Evaluations";

/// A stored date as the 2010 API writes dates (RFC 2822).
pub(super) fn rfc2822(date: &Option<String>) -> Value {
    let Some(d) = date else {
        return Value::Null;
    };
    OffsetDateTime::parse(d, &Rfc3339)
        .ok()
        .and_then(|t| t.format(&Rfc2822).ok())
        .map_or_else(|| json!(d), |s| json!(s))
}

pub fn account(a: &Account) -> Value {
    let uri = format!("/2010-04-01/Accounts/{}.json", a.sid);
    let mut v = json!({
        "auth_token": a.auth_token,
        "date_created": rfc2822(&a.date_created),
        "date_updated": rfc2822(&a.date_updated),
        "friendly_name": a.friendly_name,
        "owner_account_sid": a.parent().unwrap_or(a.sid),
        "sid": a.sid,
        "status": a.status,
        "subresource_uris": {
            "incoming_phone_numbers":
                format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", a.sid),
        },
        "type": a.account_type.as_deref().unwrap_or("Full"),
        "uri": uri,
    });
    // callsign's own: why the operator suspended it.
    if let Some(cause) = a.suspension_cause {
        v["suspension_cause"] = json!(cause.as_str());
    }
    v
}

/// An incoming phone number; `bundle` is the customer profile it is assigned to, `trunk`
/// the trunk it is on.
pub fn number(n: &PhoneNumber, bundle: Option<Sid>, trunk: Option<Sid>) -> Value {
    json!({
        "account_sid": n.account_sid,
        "address_requirements": "none",
        "address_sid": null,
        "api_version": "2010-04-01",
        "beta": false,
        "bundle_sid": bundle,
        "capabilities": {"voice": true, "sms": false, "mms": false, "fax": false},
        "date_created": rfc2822(&n.date_created),
        "date_updated": rfc2822(&n.date_updated),
        "emergency_address_sid": null,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": n.friendly_name.as_deref().unwrap_or(&n.phone_number),
        "identity_sid": null,
        "origin": "twilio",
        "phone_number": n.phone_number,
        "sid": n.sid,
        "sms_application_sid": null,
        "sms_fallback_method": "POST",
        "sms_fallback_url": null,
        "sms_method": "POST",
        "sms_url": null,
        "status": "in-use",
        "status_callback": null,
        "status_callback_method": "POST",
        "trunk_sid": trunk,
        "type": null,
        "uri": format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json", n.account_sid, n.sid),
        "voice_application_sid": null,
        "voice_caller_id_lookup": false,
        "voice_fallback_method": "POST",
        "voice_fallback_url": null,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": null,
    })
}

pub fn bundle_url(base: &str, kind: BundleKind, sid: Sid) -> String {
    format!("{base}/v1/{}/{sid}", collection(kind))
}

pub fn bundle(base: &str, kind: BundleKind, b: &Bundle) -> Value {
    let url = bundle_url(base, kind, b.sid);
    let p = link_prefix(kind);
    json!({
        "sid": b.sid,
        "account_sid": b.account_sid,
        "policy_sid": b.policy_sid,
        "friendly_name": b.friendly_name,
        "status": b.status,
        "valid_until": b.valid_until.and_then(|t| t.format(&Rfc3339).ok()),
        "email": b.email,
        "status_callback": b.status_callback,
        "date_created": b.date_created,
        "date_updated": b.date_updated,
        "url": url,
        "links": {
            format!("{p}_entity_assignments"): format!("{url}/EntityAssignments"),
            format!("{p}_evaluations"): format!("{url}/Evaluations"),
            format!("{p}_channel_endpoint_assignment"): format!("{url}/ChannelEndpointAssignments"),
        },
        "errors": b.errors,
    })
}

/// A bundle sub-resource at `segment`: its own `fields` plus its `url` and the `…_sid`
/// field naming its bundle.
fn under_bundle(
    base: &str,
    kind: BundleKind,
    segment: &str,
    bundle: Sid,
    sid: Sid,
    fields: Value,
) -> Value {
    let mut v = fields;
    v["url"] = json!(format!(
        "{}/{segment}/{sid}",
        bundle_url(base, kind, bundle)
    ));
    v[sid_field(kind)] = json!(bundle);
    v
}

pub fn entity_assignment(base: &str, kind: BundleKind, a: &EntityAssignment) -> Value {
    let fields = json!({
        "sid": a.sid,
        "account_sid": a.account_sid,
        "object_sid": a.object_sid,
        "date_created": a.date_created,
    });
    under_bundle(base, kind, ENTITY_ASSIGNMENTS, a.bundle_sid, a.sid, fields)
}

pub fn channel_endpoint_assignment(
    base: &str,
    kind: BundleKind,
    a: &ChannelEndpointAssignment,
) -> Value {
    let fields = json!({
        "sid": a.sid,
        "account_sid": a.account_sid,
        "channel_endpoint_type": a.channel_endpoint_type,
        "channel_endpoint_sid": a.channel_endpoint_sid,
        "date_created": a.date_created,
    });
    under_bundle(
        base,
        kind,
        CHANNEL_ENDPOINT_ASSIGNMENTS,
        a.bundle_sid,
        a.sid,
        fields,
    )
}

pub fn evaluation(base: &str, kind: BundleKind, e: &Evaluation) -> Value {
    let fields = json!({
        "sid": e.sid,
        "account_sid": e.account_sid,
        "policy_sid": e.policy_sid,
        "status": e.status,
        "results": e.results,
        "date_created": e.date_created,
    });
    under_bundle(base, kind, EVALUATIONS, e.bundle_sid, e.sid, fields)
}

/// A policy with its `requirements` object.
pub fn policy(base: &str, p: Policy) -> Value {
    let mut end_user = Vec::new();
    let mut profiles = Vec::new();
    let mut documents = Vec::new();
    for r in requirements(p) {
        match r.kind {
            RequirementKind::EndUser(t) => {
                let fields: Vec<&str> = (crate::trust::rules::END_USER_TYPE_CATALOGUE.iter())
                    .find(|e| e.machine_name == t)
                    .map(|e| e.fields.iter().map(|(f, _)| *f).collect())
                    .unwrap_or_default();
                end_user.push(json!({
                    "name": r.friendly_name, "type": t, "requirement_name": r.name,
                    "url": format!("{base}/v1/EndUserTypes/{t}"), "fields": fields,
                }));
            }
            RequirementKind::Document(types) => {
                let accepted: Vec<Value> = (types.iter())
                    .filter_map(|t| DocumentType::by_name(t))
                    .map(|t| {
                        let fields: Vec<&str> = t.fields.iter().map(|(f, _, _)| *f).collect();
                        json!({
                            "url": format!("{base}/v1/SupportingDocumentTypes/{}", t.machine_name),
                            "fields": fields,
                            "type": t.machine_name,
                            "name": r.friendly_name,
                        })
                    })
                    .collect();
                documents.push(json!({
                    "description": r.friendly_name,
                    "type": "document",
                    "name": r.friendly_name,
                    "accepted_documents": accepted,
                    "requirement_name": r.name,
                }));
            }
            RequirementKind::PrimaryProfile | RequirementKind::CustomerProfile => {
                profiles.push(json!({
                    "name": r.friendly_name, "type": "customer_profile", "requirement_name": r.name,
                }));
            }
        }
    }
    json!({
        "sid": p.sid_str(),
        "friendly_name": p.to_string(),
        "requirements": {
            "end_user": end_user,
            "supporting_customer_profiles": profiles,
            "supporting_trust_products": [],
            "supporting_document": [documents],
        },
        "url": format!("{base}/v1/Policies/{}", p.sid_str()),
    })
}

pub fn end_user_type(base: &str, t: &crate::trust::rules::EndUserType) -> Value {
    let fields: Vec<Value> = (t.fields.iter())
        .map(|(machine_name, friendly_name)| {
            json!({"machine_name": machine_name, "friendly_name": friendly_name, "constraint": "String"})
        })
        .collect();
    json!({
        "sid": t.sid(),
        "friendly_name": t.friendly_name,
        "machine_name": t.machine_name,
        "fields": fields,
        "url": format!("{base}/v1/EndUserTypes/{}", t.sid()),
    })
}

pub fn supporting_document_type(base: &str, t: &DocumentType) -> Value {
    let fields: Vec<Value> = (t.fields.iter())
        .map(|(machine_name, friendly_name, constraint)| {
            json!({"machine_name": machine_name, "friendly_name": friendly_name, "constraint": constraint})
        })
        .collect();
    json!({
        "sid": t.sid(),
        "friendly_name": t.friendly_name,
        "machine_name": t.machine_name,
        "fields": fields,
        "url": format!("{base}/v1/SupportingDocumentTypes/{}", t.sid()),
    })
}

/// A supporting document with its status at `now` (`EXPIRED` once past `valid_until`).
pub fn supporting_document(base: &str, d: &SupportingDocument, now: OffsetDateTime) -> Value {
    json!({
        "sid": d.sid,
        "account_sid": d.account_sid,
        "friendly_name": d.friendly_name,
        "mime_type": d.mime_type,
        "status": d.status_at(now).as_str(),
        "type": d.document_type,
        "attributes": d.attributes,
        "valid_until": d.valid_until.and_then(|t| t.format(&Rfc3339).ok()),
        "date_created": d.date_created,
        "date_updated": d.date_updated,
        "url": format!("{base}/v1/SupportingDocuments/{}", d.sid),
    })
}

pub fn end_user(base: &str, u: &EndUser) -> Value {
    json!({
        "sid": u.sid,
        "account_sid": u.account_sid,
        "friendly_name": u.friendly_name,
        "type": u.end_user_type,
        "attributes": u.attributes,
        "date_created": u.date_created,
        "date_updated": u.date_updated,
        "url": format!("{base}/v1/EndUsers/{}", u.sid),
    })
}

/// The store page for a request: one more row than asked, to know whether a next page
/// exists.
pub fn store_page(p: PageRequest) -> Page {
    Page {
        offset: p.page.saturating_mul(p.size),
        limit: p.size + 1,
    }
}

fn page_link(path: &str, params: &Params, size: usize, page: usize) -> String {
    let filters = params.filters_query();
    let sep = if filters.is_empty() { "" } else { "&" };
    format!("{path}?{filters}{sep}PageSize={size}&Page={page}")
}

/// Trust Hub v1's list envelope: `results` and `meta` with absolute page URLs.
pub fn v1_page(base: &str, path: &str, params: &Params, p: PageRequest, rows: Vec<Value>) -> Value {
    v1_page_keyed(base, path, "results", params, p, rows)
}

/// A v1 list envelope whose rows are under `key` (trunking v1 names them after the
/// resource: `trunks`, `ip_access_control_lists`).
/// One page of a fixed catalogue (`all`, in order) under `key`, each entry rendered by
/// `one`.
pub fn catalogue_page<T>(
    req: &ApiRequest,
    path: &str,
    key: &str,
    p: PageRequest,
    all: &[T],
    one: impl Fn(&str, &T) -> Value,
) -> Value {
    let start = p.page.saturating_mul(p.size).min(all.len());
    let rows = all[start..].iter().map(|t| one(&req.base_url, t)).collect();
    v1_page_keyed(&req.base_url, path, key, &req.params, p, rows)
}

pub fn v1_page_keyed(
    base: &str,
    path: &str,
    key: &str,
    params: &Params,
    p: PageRequest,
    mut rows: Vec<Value>,
) -> Value {
    let more = rows.len() > p.size;
    rows.truncate(p.size);
    let url = |page| format!("{base}{}", page_link(path, params, p.size, page));
    let mut v = json!({
        "meta": {
            "page": p.page,
            "page_size": p.size,
            "first_page_url": url(0),
            "previous_page_url": (p.page > 0).then(|| url(p.page - 1)),
            "url": url(p.page),
            "next_page_url": more.then(|| url(p.page + 1)),
            "key": key,
        }
    });
    v[key] = Value::Array(rows);
    v
}

/// A v1 list of `rows` at `path`, each rendered by `one(base_url, row)`.
pub fn v1_list<T>(
    req: &ApiRequest,
    path: &str,
    page: PageRequest,
    rows: &[T],
    one: impl Fn(&str, &T) -> Value,
) -> Value {
    let rows = rows.iter().map(|r| one(&req.base_url, r)).collect();
    v1_page(&req.base_url, path, &req.params, page, rows)
}

/// The 2010 API's list envelope: rows under `key`, relative page URIs.
pub fn v2010_page(
    path: &str,
    key: &str,
    params: &Params,
    p: PageRequest,
    mut rows: Vec<Value>,
) -> Value {
    let more = rows.len() > p.size;
    rows.truncate(p.size);
    let start = p.page * p.size;
    let end = (start + rows.len()).saturating_sub(1);
    let uri = |page| page_link(path, params, p.size, page);
    let mut v = json!({
        "first_page_uri": uri(0),
        "end": end,
        "previous_page_uri": (p.page > 0).then(|| uri(p.page - 1)),
        "uri": uri(p.page),
        "page_size": p.size,
        "start": start,
        "next_page_uri": more.then(|| uri(p.page + 1)),
        "page": p.page,
    });
    v[key] = Value::Array(rows);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({ "i": i })).collect()
    }

    #[test]
    fn v1_meta_links_pages_and_keeps_filters() {
        let params = Params::from_pairs(&[("Status", "draft"), ("PageSize", "2")]);
        let p = PageRequest { page: 1, size: 2 };
        let v = v1_page("http://h", "/v1/CustomerProfiles", &params, p, rows(3));
        assert_eq!(v["results"].as_array().unwrap().len(), 2);
        assert_eq!(v["meta"]["key"], "results");
        assert_eq!(
            v["meta"]["next_page_url"],
            "http://h/v1/CustomerProfiles?Status=draft&PageSize=2&Page=2"
        );
        assert_eq!(
            v["meta"]["previous_page_url"],
            "http://h/v1/CustomerProfiles?Status=draft&PageSize=2&Page=0"
        );
        let last = v1_page("http://h", "/v1/X", &params, p, rows(2));
        assert_eq!(last["meta"]["next_page_url"], Value::Null);
    }

    #[test]
    fn v2010_envelope_names_its_rows() {
        let p = PageRequest { page: 0, size: 50 };
        let v = v2010_page(
            "/2010-04-01/Accounts.json",
            "accounts",
            &Params::default(),
            p,
            rows(1),
        );
        assert_eq!(v["accounts"].as_array().unwrap().len(), 1);
        assert_eq!(v["next_page_uri"], Value::Null);
        assert_eq!(v["uri"], "/2010-04-01/Accounts.json?PageSize=50&Page=0");
        assert_eq!(
            store_page(PageRequest { page: 2, size: 10 }),
            Page {
                offset: 20,
                limit: 11
            }
        );
    }

    #[test]
    fn policies_list_their_requirements() {
        let v = policy("http://h", Policy::PrimaryCustomerProfile);
        assert_eq!(
            v["requirements"]["end_user"][1]["type"],
            "authorized_representative_1"
        );
        assert_eq!(
            v["url"],
            "http://h/v1/Policies/RN6433641899984f951173ef1738c3bdd0"
        );
    }

    #[test]
    fn dates_convert_to_rfc2822_for_the_2010_api() {
        assert_eq!(
            rfc2822(&Some("2030-01-01T00:00:00Z".into())),
            json!("Tue, 01 Jan 2030 00:00:00 +0000")
        );
        assert_eq!(rfc2822(&Some("yesterday".into())), json!("yesterday"));
    }
}
