//! What a caller's view is made of: the crawl that follows every link in the answers to
//! its GETs, the GET routes a crawl must reach, the walk that fails on every field naming
//! what the caller may not see, and every record in the store as the operator reads it
//! (the snapshot that shows nothing changed).

use std::collections::{BTreeSet, HashSet, VecDeque};

use serde_json::Value;

use crate::common::api::*;
use crate::credentials::credential_lists_path;
use crate::trunking::lists_path;
use crate::world::*;

/// Every GET route of the API, as [`route_of`] writes a path: what the crawl of an
/// account's view reaches, no more and no less.
pub const GET_ROUTES: [&str; 52] = [
    "/2010-04-01/Accounts.json",
    "/2010-04-01/Accounts/{AC}.json",
    "/2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json",
    "/2010-04-01/Accounts/{AC}/IncomingPhoneNumbers/{PN}.json",
    "/2010-04-01/Accounts/{AC}/SIP/CredentialLists.json",
    "/2010-04-01/Accounts/{AC}/SIP/CredentialLists/{CL}.json",
    "/2010-04-01/Accounts/{AC}/SIP/CredentialLists/{CL}/Credentials.json",
    "/2010-04-01/Accounts/{AC}/SIP/CredentialLists/{CL}/Credentials/{CR}.json",
    "/2010-04-01/Accounts/{AC}/SIP/IpAccessControlLists.json",
    "/2010-04-01/Accounts/{AC}/SIP/IpAccessControlLists/{AL}.json",
    "/2010-04-01/Accounts/{AC}/SIP/IpAccessControlLists/{AL}/IpAddresses.json",
    "/2010-04-01/Accounts/{AC}/SIP/IpAccessControlLists/{AL}/IpAddresses/{IP}.json",
    "/v1/Attestation",
    "/v1/CustomerProfiles",
    "/v1/CustomerProfiles/{BU}",
    "/v1/CustomerProfiles/{BU}/ChannelEndpointAssignments",
    "/v1/CustomerProfiles/{BU}/ChannelEndpointAssignments/{RA}",
    "/v1/CustomerProfiles/{BU}/EntityAssignments",
    "/v1/CustomerProfiles/{BU}/EntityAssignments/{BV}",
    "/v1/CustomerProfiles/{BU}/Evaluations",
    "/v1/CustomerProfiles/{BU}/Evaluations/{EL}",
    "/v1/EndUserTypes/authorized_representative_1",
    "/v1/EndUserTypes/customer_profile_business_information",
    "/v1/EndUserTypes/{OY}",
    "/v1/EndUsers",
    "/v1/EndUsers/{IT}",
    "/v1/Policies",
    "/v1/Policies/{RN}",
    "/v1/SupportingDocumentTypes",
    "/v1/SupportingDocumentTypes/customer_profile_address",
    "/v1/SupportingDocumentTypes/{OY}",
    "/v1/SupportingDocuments",
    "/v1/SupportingDocuments/{RD}",
    "/v1/SupportingDocuments/{RD}/File",
    "/v1/Trunks",
    "/v1/Trunks/{TK}",
    "/v1/Trunks/{TK}/CredentialLists",
    "/v1/Trunks/{TK}/CredentialLists/{CL}",
    "/v1/Trunks/{TK}/IpAccessControlLists",
    "/v1/Trunks/{TK}/IpAccessControlLists/{AL}",
    "/v1/Trunks/{TK}/OriginationUrls",
    "/v1/Trunks/{TK}/OriginationUrls/{OU}",
    "/v1/Trunks/{TK}/PhoneNumbers",
    "/v1/Trunks/{TK}/PhoneNumbers/{PN}",
    "/v1/TrustProducts",
    "/v1/TrustProducts/{BU}",
    "/v1/TrustProducts/{BU}/ChannelEndpointAssignments",
    "/v1/TrustProducts/{BU}/ChannelEndpointAssignments/{RA}",
    "/v1/TrustProducts/{BU}/EntityAssignments",
    "/v1/TrustProducts/{BU}/EntityAssignments/{BV}",
    "/v1/TrustProducts/{BU}/Evaluations",
    "/v1/TrustProducts/{BU}/Evaluations/{EL}",
];

/// The route of `path`: its query left out and each SID written as `{prefix}`
/// (`/v1/Trunks/TK…/IpAccessControlLists?Page=1` as
/// `/v1/Trunks/{TK}/IpAccessControlLists`).
pub fn route_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let segment = |s: &str| {
        let (sid, json) = s.strip_suffix(".json").map_or((s, ""), |x| (x, ".json"));
        let b = sid.as_bytes();
        let is_sid = b.len() == 34
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..].iter().all(u8::is_ascii_hexdigit);
        if is_sid {
            format!("{{{}}}{json}", &sid[..2])
        } else {
            s.to_owned()
        }
    };
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}

/// Fails unless `v` answered as it must: 200. Every link callsign gives is one it
/// serves (a trunk's `phone_numbers` included, now that it does).
fn assert_answered(who: &str, v: &Visit) {
    assert_eq!(v.status, 200, "{who} GET {}: {}", v.path, v.body);
}

/// One GET of a crawl and its answer.
pub struct Visit {
    pub path: String,
    pub status: u16,
    pub body: Value,
}

/// GETs `seeds` as `creds`, then every link in the answers (`url`, `uri`, `…_url`,
/// `…_uri`, and everything under `links` and `subresource_uris`) not yet visited: the
/// caller's whole view, paging included.
pub async fn crawl(api: &Api, creds: &Creds, seeds: &[String]) -> Vec<Visit> {
    let mut queue: VecDeque<String> = seeds.iter().cloned().collect();
    let mut seen: HashSet<String> = queue.iter().cloned().collect();
    let mut visits = Vec::new();
    while let Some(path) = queue.pop_front() {
        let (status, body) = api.call("GET", &path, Some(creds), &[]).await;
        let mut found = Vec::new();
        links(&body, false, &mut found);
        for link in found {
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
        visits.push(Visit { path, status, body });
    }
    visits
}

/// The links of `v` on this server, as path and query.
fn links(v: &Value, all: bool, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (name, child) in map {
                let is_link = all
                    || ["url", "uri"].contains(&name.as_str())
                    || name.ends_with("_url")
                    || name.ends_with("_uri");
                let nested = matches!(name.as_str(), "links" | "subresource_uris");
                match child {
                    Value::String(s) if is_link => out.extend(local(s)),
                    _ => links(child, nested, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| links(i, false, out)),
        _ => {}
    }
}

/// `http://host/path?q` or `/path?q` as `/path?q`; nothing for other schemes (callbacks).
fn local(url: &str) -> Option<String> {
    if url.starts_with('/') {
        return Some(url.to_owned());
    }
    let rest = url.strip_prefix("http://")?;
    rest.find('/').map(|i| rest[i..].to_owned())
}

/// Every record in the store, as the paths the operator reads them at: every list (each
/// account's IP access control lists and credential lists among them, which no account
/// record links) and every link in them.
pub async fn everything(api: &Api) -> Vec<String> {
    let op = Creds::operator();
    let all = [("PageSize", "1000")];
    let (s, accounts) = api.get("/2010-04-01/Accounts.json", &op, &all).await;
    assert_eq!(s, 200, "{accounts}");
    let mut seeds: Vec<String> = [
        "/2010-04-01/Accounts.json",
        "/v1/CustomerProfiles",
        "/v1/TrustProducts",
        "/v1/EndUsers",
        "/v1/Trunks",
    ]
    .iter()
    .map(|p| with_query(p, &all))
    .collect();
    let lists = sids(&accounts, "accounts")
        .into_iter()
        .flat_map(|a| [lists_path(&a), credential_lists_path(&a)]);
    seeds.extend(lists.map(|p| with_query(&p, &all)));
    let visits = crawl(api, &op, &seeds).await;
    for v in &visits {
        assert_answered("the operator", v);
    }
    let routes: HashSet<String> = visits.iter().map(|v| route_of(&v.path)).collect();
    for route in [
        "/v1/Trunks/{TK}",
        "/v1/Trunks/{TK}/CredentialLists/{CL}",
        "/v1/Trunks/{TK}/PhoneNumbers/{PN}",
        "/2010-04-01/Accounts/{AC}/SIP/IpAccessControlLists/{AL}/IpAddresses/{IP}.json",
        "/2010-04-01/Accounts/{AC}/SIP/CredentialLists/{CL}/Credentials/{CR}.json",
    ] {
        assert!(
            routes.contains(route),
            "the operator's snapshot misses {route}"
        );
    }
    visits.into_iter().map(|v| v.path).collect()
}

/// One of the parent's secrets that a caller may still see: in the answers to GETs of
/// `under` (or below it), at the JSON paths `fields` (`[*]` for any index).
pub struct Allowed {
    pub secret: String,
    pub under: Vec<String>,
    pub fields: &'static [&'static str],
}

/// `$.results[3].valid[0]` as `$.results[*].valid[*]`.
fn any_index(path: &str) -> String {
    let mut out = String::new();
    let mut digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() && (digits || out.ends_with('[')) {
            if !digits {
                out.push('*');
            }
            digits = true;
        } else {
            digits = false;
            out.push(c);
        }
    }
    out
}

/// Reads everything `me` may read (every list with every filter, every link in every
/// answer) and fails naming each field that holds one of `secrets`, or one of the
/// `allowed` secrets outside its place, or `me`'s own password or its digests (no answer
/// holds a password, not even to its owner). Returns how many GETs it made.
pub async fn walk_view(api: &Api, me: &Estate, secrets: &[String], allowed: &[Allowed]) -> usize {
    let secrets = [secrets, me.hidden().as_slice()].concat();
    let reads = me.reads();
    let seeds: Vec<String> = reads.iter().map(|(path, _)| path.clone()).collect();
    let visits = crawl(api, &me.creds, &seeds).await;
    let mut failures = Vec::new();
    let mut used = vec![false; allowed.len()];
    for v in &visits {
        assert_answered(me.tag, v);
        for field in leaks(&v.body, &secrets) {
            failures.push(format!("GET {}: {field}", v.path));
        }
        for (a, used) in allowed.iter().zip(used.iter_mut()) {
            let place = a.under.iter().any(|u| v.path.starts_with(u.as_str()));
            for field in leaks(&v.body, std::slice::from_ref(&a.secret)) {
                if place && a.fields.contains(&any_index(&field).as_str()) {
                    *used = true;
                } else {
                    failures.push(format!("GET {}: {field}", v.path));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} learns what it may not, in {} fields:\n{}",
        me.tag,
        failures.len(),
        failures.join("\n")
    );
    assert!(used.iter().all(|u| *u), "an allowance nothing needs");
    // The view is not empty: every unfiltered list lists something, and the crawl
    // reached every record of the caller's and every policy.
    for (path, _) in reads.iter().filter(|(_, listed)| *listed) {
        let v = visits.iter().find(|v| &v.path == path).unwrap();
        let rows = [
            "results",
            "accounts",
            "incoming_phone_numbers",
            "trunks",
            "ip_access_control_lists",
            "ip_addresses",
            "credential_lists",
            "credentials",
            "phone_numbers",
        ]
        .iter()
        .find_map(|k| v.body[k].as_array());
        assert!(
            rows.is_none_or(|r| !r.is_empty()),
            "{path} lists nothing: {}",
            v.body
        );
    }
    let seen: HashSet<&str> = visits.iter().map(|v| v.path.as_str()).collect();
    let policies = [PRIMARY, SECONDARY, SHAKEN].map(|p| format!("/v1/Policies/{p}"));
    for path in me.fetch_paths().iter().chain(&policies) {
        assert!(seen.contains(path.as_str()), "the crawl missed {path}");
    }
    // Every GET route answered, and nothing but them.
    let reached: BTreeSet<String> = visits.iter().map(|v| route_of(&v.path)).collect();
    let routes: BTreeSet<String> = GET_ROUTES.iter().map(|r| (*r).to_owned()).collect();
    assert_eq!(reached, routes, "the routes {}'s crawl reached", me.tag);
    visits.len()
}
