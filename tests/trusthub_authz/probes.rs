//! The probes of the authorization matrix: requests that put someone else's SID, number
//! or name in a path, a form or a filter, each with a twin that puts in a value of the
//! same shape that never existed, and the check that the two answers differ in nothing
//! but that value. Also the requests that offer someone else's address range or trunk
//! domain as the caller's own, which must be refused (one source address, one trunk; one
//! domain, one trunk) naming nothing of theirs beyond what the request holds.

use serde_json::Value;

use crate::common::api::*;
use crate::credentials::*;
use crate::send;
use crate::trunking::*;
use crate::world::*;

/// A request holding one of someone else's values, and its twin holding a value of the
/// same shape that never existed.
pub struct Probe {
    request: Endpoint,
    value: String,
    twin: Endpoint,
    twin_value: String,
}

impl Probe {
    fn new(request: Endpoint, value: &str, twin_value: String) -> Probe {
        let (method, path, form) = &request;
        let swap = |s: &str| s.replace(value, &twin_value);
        let twin = (
            *method,
            swap(path),
            form.iter().map(|(k, v)| (*k, swap(v))).collect(),
        );
        Probe {
            value: value.to_owned(),
            twin,
            twin_value,
            request,
        }
    }
}

/// A SID of `sid`'s kind that never existed.
fn never_existing(sid: &str) -> String {
    format!("{}{}", &sid[..2], uuid::Uuid::new_v4().simple())
}

/// Every request on `target`'s records, once for each of its SIDs in it.
pub fn path_probes(target: &Estate) -> Vec<Probe> {
    let records = target.records();
    let mut out = Vec::new();
    for request in target.endpoints() {
        let (_, path, form) = &request;
        for sid in &records {
            if path.contains(sid.as_str()) || form.iter().any(|(_, v)| v.contains(sid.as_str())) {
                out.push(Probe::new(request.clone(), sid, never_existing(sid)));
            }
        }
    }
    out
}

/// `me`'s own paths, forms and filters holding `target`'s SIDs, numbers and names; SIDs
/// in `linkable` are left out of `ObjectSid` (`me` may link them).
pub fn cross_probes(me: &Estate, target: &Estate, linkable: &[&str]) -> Vec<Probe> {
    let mut out = Vec::new();
    let mut sid = |request: Endpoint, sid: &str| {
        out.push(Probe::new(request, sid, never_existing(sid)));
    };
    let f = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    for (kind, bundle, _) in me.bundles() {
        let b = format!("/v1/{kind}/{bundle}");
        for (_, segment, child) in target.children() {
            let path = format!("{b}/{segment}/{child}");
            sid(("GET", path.clone(), vec![]), child);
            if segment != "Evaluations" {
                sid(("DELETE", path, vec![]), child);
            }
        }
        let objects =
            (target.users.iter()).chain([&target.document, &target.profile, &target.product]);
        for object in objects.filter(|o| !linkable.contains(&o.as_str())) {
            let form = f(&[("ObjectSid", object)]);
            sid(("POST", format!("{b}/EntityAssignments"), form), object);
        }
        let cea = format!("{b}/ChannelEndpointAssignments");
        for (pn, _) in &target.numbers {
            let assign = f(&[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", pn),
            ]);
            sid(("POST", cea.clone(), assign), pn);
            sid(("GET", cea.clone(), f(&[("ChannelEndpointSid", pn)])), pn);
            let both = format!("{},{pn}", me.numbers[0].0);
            sid(
                ("GET", cea.clone(), f(&[("ChannelEndpointSids", &both)])),
                pn,
            );
        }
        let evaluate = f(&[("PolicySid", &target.profile)]);
        sid(
            ("POST", format!("{b}/Evaluations"), evaluate),
            &target.profile,
        );
    }
    for (pn, _) in &target.numbers {
        sid(("GET", me.number_path(pn), vec![]), pn);
        sid(("DELETE", me.number_path(pn), vec![]), pn);
    }
    let theirs = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
        target.creds.sid, me.numbers[0].0
    );
    sid(("GET", theirs, vec![]), &target.creds.sid);
    let preview = f(&[
        ("AccountSid", &target.creds.sid),
        ("PhoneNumber", &me.numbers[0].1),
    ]);
    sid(
        ("GET", "/v1/Attestation".into(), preview),
        &target.creds.sid,
    );
    // The target's list under the caller's own trunk and account, its address under the
    // caller's own list, and the caller's own list under the target's account.
    let (mine, list, address) = (&me.creds.sid, &target.list, &target.address);
    for trunk in me.trunks() {
        let uses = trunk_lists_path(trunk);
        let used = format!("{uses}/{list}");
        sid(("GET", used.clone(), vec![]), list);
        sid(("DELETE", used, vec![]), list);
        sid(("POST", uses, f(&[("IpAccessControlListSid", list)])), list);
    }
    let theirs = list_path(mine, list);
    sid(("GET", theirs.clone(), vec![]), list);
    let rename = f(&[("FriendlyName", "hijacked")]);
    sid(("POST", theirs.clone(), rename.clone()), list);
    sid(("DELETE", theirs, vec![]), list);
    let theirs = addresses_path(mine, list);
    sid(("GET", theirs.clone(), vec![]), list);
    let free = me.free_ip();
    let add = f(&[("FriendlyName", "hijacked"), ("IpAddress", &free)]);
    sid(("POST", theirs, add), list);
    for in_list in [&me.list, list] {
        let theirs = address_path(mine, in_list, address);
        sid(("GET", theirs.clone(), vec![]), address);
        sid(("POST", theirs.clone(), rename.clone()), address);
        sid(("DELETE", theirs, vec![]), address);
    }
    for path in [
        list_path(&target.creds.sid, &me.list),
        addresses_path(&target.creds.sid, &me.list),
        address_path(&target.creds.sid, &me.list, &me.address),
    ] {
        sid(("GET", path, vec![]), &target.creds.sid);
    }
    // The target's numbers (one of them on the target's verifying trunk) added to,
    // fetched from and taken off the caller's own verifying trunk.
    let numbers = me.inbound_numbers_path();
    for (pn, _) in &target.numbers {
        let on = format!("{numbers}/{pn}");
        sid(("GET", on.clone(), vec![]), pn);
        sid(("DELETE", on, vec![]), pn);
        sid(("POST", numbers.clone(), f(&[("PhoneNumberSid", pn)])), pn);
    }
    // The same of the target's credential list (in a trunk's `CredentialListSid` too) and
    // its credential.
    let (list, credential) = (&target.credential_list, &target.credential);
    for trunk in me.trunks() {
        let uses = trunk_credential_lists_path(trunk);
        let used = format!("{uses}/{list}");
        sid(("GET", used.clone(), vec![]), list);
        sid(("DELETE", used, vec![]), list);
        sid(("POST", uses, f(&[("CredentialListSid", list)])), list);
    }
    let theirs = credential_list_path(mine, list);
    sid(("GET", theirs.clone(), vec![]), list);
    sid(("POST", theirs.clone(), rename.clone()), list);
    sid(("DELETE", theirs, vec![]), list);
    let theirs = credentials_path(mine, list);
    sid(("GET", theirs.clone(), vec![]), list);
    let add = f(&[("Username", "hijacked"), ("Password", NEW_PASSWORD)]);
    sid(("POST", theirs, add), list);
    let password = f(&[("Password", NEW_PASSWORD)]);
    for in_list in [&me.credential_list, list] {
        let theirs = credential_path(mine, in_list, credential);
        sid(("GET", theirs.clone(), vec![]), credential);
        sid(("POST", theirs.clone(), password.clone()), credential);
        sid(("DELETE", theirs, vec![]), credential);
    }
    for path in [
        credential_list_path(&target.creds.sid, &me.credential_list),
        credentials_path(&target.creds.sid, &me.credential_list),
        credential_path(&target.creds.sid, &me.credential_list, &me.credential),
    ] {
        sid(("GET", path, vec![]), &target.creds.sid);
    }
    // Numbers and names, against ones nobody has.
    for (i, (_, e164)) in target.numbers.iter().enumerate() {
        let q = f(&[("PhoneNumber", e164)]);
        out.push(Probe::new(
            ("GET", me.numbers_path(), q),
            e164,
            UNOWNED.into(),
        ));
        let q = f(&[("AccountSid", &me.creds.sid), ("PhoneNumber", e164)]);
        out.push(Probe::new(
            ("GET", "/v1/Attestation".into(), q),
            e164,
            UNOWNED.into(),
        ));
        let name = format!("{}-number-{i}", target.tag);
        let q = f(&[("FriendlyName", &name)]);
        out.push(Probe::new(
            ("GET", me.numbers_path(), q),
            &name,
            "never-named".into(),
        ));
    }
    for (path, suffix) in [
        ("/2010-04-01/Accounts.json", "account"),
        ("/v1/CustomerProfiles", "profile"),
        ("/v1/TrustProducts", "product"),
    ] {
        let name = format!("{}-{suffix}", target.tag);
        let q = f(&[("FriendlyName", &name)]);
        out.push(Probe::new(
            ("GET", path.into(), q),
            &name,
            "never-named".into(),
        ));
    }
    out
}

/// `v` with `value` (a number's digits, for a number) replaced and the preview's clock
/// reading left out: what must not differ between a probe and its twin.
fn normalized(v: &Value, value: &str) -> Value {
    let needle = value.trim_start_matches('+');
    match v {
        Value::String(s) => Value::String(s.replace(needle, "{probe}")),
        Value::Array(items) => items.iter().map(|i| normalized(i, value)).collect(),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() != "evaluated_at")
            .map(|(k, v)| (k.replace(needle, "{probe}"), normalized(v, value)))
            .collect(),
        other => other.clone(),
    }
}

/// Sends each probe and its twin as `me`; returns what went wrong, one line each.
pub async fn check_probes(
    api: &Api,
    me: &Estate,
    probes: &[Probe],
    secrets: &[String],
) -> Vec<String> {
    let mut failures = Vec::new();
    for p in probes {
        let (method, path, form) = &p.request;
        let what = format!("{} {method} {path} {form:?}", me.tag);
        let (status, body) = send(api, Some(&me.creds), method, path, form).await;
        let (t_method, t_path, t_form) = &p.twin;
        let (t_status, t_body) = send(api, Some(&me.creds), t_method, t_path, t_form).await;
        let (got, twin) = (
            (status, normalized(&body, &p.value)),
            (t_status, normalized(&t_body, &p.twin_value)),
        );
        if got != twin {
            failures.push(format!(
                "{what}: {} answers\n    {got:?}\n  but one that never existed\n    {twin:?}",
                p.value
            ));
        }
        if ![200, 400, 403, 404].contains(&status) {
            failures.push(format!("{what}: status {status}: {body}"));
        }
        if status >= 400 && !twilio_error(status, &body) {
            failures.push(format!("{what}: not a Twilio error body: {body}"));
        }
        // Beyond what the request itself holds, the answer names none of the secrets.
        let asked = |s: &str| path.contains(s) || form.iter().any(|(_, v)| v.contains(s));
        let others: Vec<String> = (secrets.iter())
            .filter(|s| !asked(s.as_str()))
            .cloned()
            .collect();
        for field in leaks(&body, &others) {
            failures.push(format!("{what}: {field} in {body}"));
        }
    }
    failures
}

/// A write offering someone else's address range or trunk domain as the caller's own,
/// and a word its refusal must hold.
pub struct Taken {
    request: Endpoint,
    why: &'static str,
}

impl Taken {
    pub fn new(request: Endpoint, why: &'static str) -> Taken {
        Taken { request, why }
    }
}

/// `target`'s domain for the caller's new trunk and each of its own, and with a trailing
/// dot (the same domain).
pub fn domain_probes(me: &Estate, target: &Estate) -> Vec<Taken> {
    let mut out = Vec::new();
    let domain = &target.domain;
    let create = form(&[("FriendlyName", "mine"), ("DomainName", domain)]);
    out.push(Taken::new(("POST", "/v1/Trunks".into(), create), "already"));
    for trunk in me.trunks() {
        let update = form(&[("DomainName", domain)]);
        out.push(Taken::new(("POST", trunk_path(trunk), update), "already"));
    }
    let dotted = form(&[("DomainName", &format!("{domain}."))]);
    out.push(Taken::new(("POST", me.trunk_path(), dotted), "already"));
    out
}

/// `target`'s address, and the /24 around it, as a new address of the caller's list
/// (which its trunk without a domain uses) and as its address.
pub fn range_probes(me: &Estate, target: &Estate) -> Vec<Taken> {
    let (ip, around) = (target.ip(), format!("{}.0", target.range));
    let mut out = Vec::new();
    for range in [
        vec![("IpAddress", ip.as_str())],
        vec![("IpAddress", around.as_str()), ("CidrPrefixLength", "24")],
    ] {
        let mut create = vec![("FriendlyName", "mine")];
        create.extend(range.iter().copied());
        let create = ("POST", me.addresses_path(), form(&create));
        out.push(Taken::new(create, "overlaps"));
        let update = ("POST", me.address_path(), form(&range));
        out.push(Taken::new(update, "overlaps"));
    }
    out
}

/// Whether `body` is a Twilio error body of `status`.
fn twilio_error(status: u16, body: &Value) -> bool {
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let docs = format!("https://www.twilio.com/docs/errors/{}", body["code"]);
    keys == ["code", "message", "more_info", "status"]
        && body["status"] == status
        && body["more_info"] == docs.as_str()
}

/// Sends each write as `me`: each must be refused (400, 20001) saying `why`, and name
/// none of `secrets` the request does not hold itself.
pub async fn check_taken(
    api: &Api,
    me: &Estate,
    probes: &[Taken],
    secrets: &[String],
) -> Vec<String> {
    let mut failures = Vec::new();
    for Taken { request, why } in probes {
        let (method, path, form) = request;
        let what = format!("{} {method} {path} {form:?}", me.tag);
        let (status, body) = send(api, Some(&me.creds), method, path, form).await;
        let message = body["message"].as_str().unwrap_or_default();
        if (status, body["code"].as_u64()) != (400, Some(20001)) || !message.contains(why) {
            failures.push(format!("{what}: not refused as {why:?}: {status} {body}"));
        }
        if !twilio_error(status, &body) {
            failures.push(format!("{what}: not a Twilio error body: {body}"));
        }
        let asked = |s: &str| path.contains(s) || form.iter().any(|(_, v)| v.contains(s));
        let others: Vec<String> = (secrets.iter())
            .filter(|s| !asked(s.as_str()))
            .cloned()
            .collect();
        for field in leaks(&body, &others) {
            failures.push(format!("{what}: {field} names {message:?}"));
        }
    }
    failures
}

/// `me` puts a new list holding `target`'s address (which a list on no trunk may hold)
/// on its trunk without a domain: refused as [`check_taken`] requires, the address being
/// the caller's own now. The list is deleted again.
pub async fn check_taken_list(api: &Api, me: &Estate, target: &Estate) -> Vec<String> {
    let c = &me.creds;
    let spare = api
        .ok(&me.lists_path(), c, &[("FriendlyName", "spare")])
        .await;
    let spare = sid_of(&spare);
    let ip = target.ip();
    let address = [("FriendlyName", "mine"), ("IpAddress", ip.as_str())];
    api.ok(&addresses_path(&c.sid, &spare), c, &address).await;
    let put = form(&[("IpAccessControlListSid", &spare)]);
    let probe = Taken::new(("POST", me.trunk_lists_path(), put), "overlaps");
    let secrets: Vec<String> = (target.secrets().into_iter())
        .filter(|s| *s != ip)
        .collect();
    let failures = check_taken(api, me, &[probe], &secrets).await;
    let (s, body) = api.delete(&list_path(&c.sid, &spare), c).await;
    assert_eq!(s, 204, "{body}");
    failures
}
