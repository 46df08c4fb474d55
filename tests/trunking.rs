//! Trunks and IP access control lists over the API, in Twilio's shapes, applied to the
//! running proxy from the next INVITE on: an account created through the API places no
//! call until one of its trunks admits its address, and none once the list is gone.

mod common;

use callsign::proxy::OnFailure;
use callsign::sip::HeaderName;
use common::api::*;
use common::*;
use serde_json::Value;

fn lists_path(account: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists.json")
}

fn addresses_path(account: &str, list: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}/IpAddresses.json")
}

fn sid_of(v: &Value) -> String {
    v["sid"].as_str().expect("a sid").to_owned()
}

/// An account's trunk admitting `ip` through one list: (trunk, list) SIDs.
async fn provision(api: &Api, who: &Creds, ip: &str) -> (String, String) {
    let trunk = sid_of(&api.ok("/v1/Trunks", who, &[("FriendlyName", "PBX")]).await);
    let list = sid_of(
        &api.ok(&lists_path(&who.sid), who, &[("FriendlyName", "office")])
            .await,
    );
    api.ok(
        &addresses_path(&who.sid, &list),
        who,
        &[("FriendlyName", "pbx"), ("IpAddress", ip)],
    )
    .await;
    let path = format!("/v1/Trunks/{trunk}/IpAccessControlLists");
    api.ok(&path, who, &[("IpAccessControlListSid", &list)])
        .await;
    (trunk, list)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_made_through_the_api_calls_once_its_trunk_admits_its_address() {
    let (h, api) = hub().await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let ip = "127.0.0.5";
    assert_eq!(final_answer(&h, ip, "newco-before").await, 403);

    let trunk = sid_of(
        &api.ok("/v1/Trunks", &newco, &[("FriendlyName", "Newco PBX")])
            .await,
    );
    let list = sid_of(
        &api.ok(
            &lists_path(&newco.sid),
            &newco,
            &[("FriendlyName", "office")],
        )
        .await,
    );
    let address = api
        .ok(
            &addresses_path(&newco.sid, &list),
            &newco,
            &[("FriendlyName", "pbx"), ("IpAddress", ip)],
        )
        .await;
    assert_eq!(address["cidr_prefix_length"], 32);
    // A list no trunk uses admits nothing.
    assert_eq!(final_answer(&h, ip, "newco-unused-list").await, 403);

    let uses = format!("/v1/Trunks/{trunk}/IpAccessControlLists");
    let used = api
        .ok(&uses, &newco, &[("IpAccessControlListSid", &list)])
        .await;
    assert_eq!(used["sid"], list.as_str());
    assert_eq!(used["trunk_sid"], trunk.as_str());
    // The very next INVITE is signed for the trunk (an account without an approved
    // profile gets C), with the trunk's own origid.
    let claims = signed_call(&h, ip, "2155550177", "2155550199", "newco-1").await;
    assert_eq!(claims["attest"], "C");
    assert_eq!(claims["orig"]["tn"], "12155550177");
    let origid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, trunk.as_bytes());
    assert_eq!(claims["origid"], origid.hyphenated().to_string());

    // The trunk now shows that it admits by IP access list.
    let (s, fetched) = api.get(&format!("/v1/Trunks/{trunk}"), &newco, &[]).await;
    assert_eq!(s, 200, "{fetched}");
    assert_eq!(fetched["auth_type_set"], serde_json::json!(["IP_ACL"]));

    // Taking the list off the trunk refuses the next INVITE.
    let (s, _) = api.delete(&format!("{uses}/{list}"), &newco).await;
    assert_eq!(s, 204);
    assert_eq!(final_answer(&h, ip, "newco-after").await, 403);
    h.assert_metric("callsign_requests_rejected_total{cause=\"forbidden_source\"} 3")
        .await;
}

#[tokio::test]
async fn the_resources_have_twilios_shapes() {
    let (_h, api) = hub().await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let (trunk, list) = provision(&api, &newco, "127.0.0.6").await;

    let (s, trunks) = api.get("/v1/Trunks", &newco, &[("PageSize", "1")]).await;
    assert_eq!(s, 200, "{trunks}");
    assert_eq!(trunks["meta"]["key"], "trunks");
    assert_eq!(sids(&trunks, "trunks"), std::slice::from_ref(&trunk));
    let t = &trunks["trunks"][0];
    for field in [
        "sid",
        "account_sid",
        "domain_name",
        "friendly_name",
        "secure",
        "recording",
        "transfer_mode",
        "auth_type",
        "auth_type_set",
        "date_created",
        "date_updated",
        "url",
        "links",
    ] {
        assert!(t.get(field).is_some(), "trunk has no {field}: {t}");
    }
    assert!(
        t["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/Trunks/{trunk}"))
    );
    assert!(
        t["links"]["ip_access_control_lists"]
            .as_str()
            .unwrap()
            .ends_with("/IpAccessControlLists")
    );

    let (s, lists) = api.get(&lists_path(&newco.sid), &newco, &[]).await;
    assert_eq!(s, 200, "{lists}");
    assert_eq!(
        sids(&lists, "ip_access_control_lists"),
        std::slice::from_ref(&list)
    );
    assert!(lists["next_page_uri"].is_null() && lists["page_size"] == 50);
    let l = &lists["ip_access_control_lists"][0];
    assert_eq!(
        l["subresource_uris"]["ip_addresses"],
        addresses_path(&newco.sid, &list).as_str()
    );
    assert!(
        l["date_created"].as_str().unwrap().ends_with("+0000"),
        "RFC 2822: {l}"
    );

    let (s, addresses) = api
        .get(&addresses_path(&newco.sid, &list), &newco, &[])
        .await;
    assert_eq!(s, 200, "{addresses}");
    let a = &addresses["ip_addresses"][0];
    assert_eq!(
        (a["ip_address"].as_str(), a["cidr_prefix_length"].as_u64()),
        (Some("127.0.0.6"), Some(32))
    );
    let uri = a["uri"].as_str().unwrap();
    let (s, fetched) = api.get(uri, &newco, &[]).await;
    assert_eq!((s, &fetched), (200, a));

    // Renaming, re-ranging and deleting.
    let (s, renamed) = api
        .post(
            &format!(
                "/2010-04-01/Accounts/{}/SIP/IpAccessControlLists/{list}.json",
                newco.sid
            ),
            &newco,
            &[("FriendlyName", "head office")],
        )
        .await;
    assert_eq!(
        (s, renamed["friendly_name"].as_str()),
        (200, Some("head office"))
    );
    let (s, widened) = api.post(uri, &newco, &[("CidrPrefixLength", "30")]).await;
    assert_eq!(
        (s, widened["cidr_prefix_length"].as_u64()),
        (200, Some(30)),
        "{widened}"
    );
    let (s, _) = api.delete(&format!("/v1/Trunks/{trunk}"), &newco).await;
    assert_eq!(s, 204);
    let (s, gone) = api.get(&format!("/v1/Trunks/{trunk}"), &newco, &[]).await;
    assert_eq!((s, gone["code"].as_u64()), (404, Some(20404)));
}

#[tokio::test]
async fn bad_input_and_other_accounts_records_are_refused_and_change_nothing() {
    let (h, api) = hub().await;
    let op = Creds::operator();
    let (newco, other) = (
        api.account(&op, "Newco").await,
        api.account(&op, "Other").await,
    );
    let (trunk, list) = provision(&api, &newco, "127.0.0.7").await;
    let (their_trunk, their_list) = provision(&api, &other, "127.0.0.8").await;
    let before = api.get("/v1/Trunks", &op, &[]).await;
    let addresses = addresses_path(&newco.sid, &list);

    for (form, why) in [
        (
            vec![("FriendlyName", "x"), ("IpAddress", "127.0.0.300")],
            "not an IPv4 or IPv6",
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("IpAddress", "10.0.0.0"),
                ("CidrPrefixLength", "4"),
            ],
            "CidrPrefixLength",
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("IpAddress", "10.0.0.0"),
                ("CidrPrefixLength", "-1"),
            ],
            "CidrPrefixLength",
        ),
        (
            vec![("FriendlyName", "x"), ("IpAddress", "127.0.0.7")],
            "already in",
        ),
        // Newco may not take the other account's address.
        (
            vec![("FriendlyName", "x"), ("IpAddress", "127.0.0.8")],
            "overlaps",
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("IpAddress", "127.0.0.0"),
                ("CidrPrefixLength", "24"),
            ],
            "overlaps",
        ),
        (vec![("IpAddress", "127.0.0.9")], "FriendlyName"),
        (vec![("FriendlyName", "x")], "IpAddress"),
    ] {
        let r = api.post(&addresses, &newco, &form).await;
        assert_refused(&r, why);
    }
    let r = api
        .post(
            &format!("/v1/Trunks/{trunk}/IpAccessControlLists"),
            &newco,
            &[("IpAccessControlListSid", &their_list)],
        )
        .await;
    assert_refused(&r, "unknown IP access control list");
    let r = api
        .post(
            "/v1/Trunks",
            &newco,
            &[("FriendlyName", "x"), ("Secure", "true")],
        )
        .await;
    assert_eq!(
        r.0, 400,
        "an unsupported setting is refused, not ignored: {}",
        r.1
    );

    // Another account's records, in paths: as unknown as ones that never existed.
    for path in [
        format!("/v1/Trunks/{their_trunk}"),
        format!("/v1/Trunks/{their_trunk}/IpAccessControlLists"),
        lists_path(&other.sid),
        addresses_path(&other.sid, &their_list),
        addresses_path(&newco.sid, &their_list),
    ] {
        let (s, body) = api.get(&path, &newco, &[]).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (404, Some(20404)),
            "{path}: {body}"
        );
    }
    let after = api.get("/v1/Trunks", &op, &[]).await;
    assert_eq!(before, after, "a refused write changed the trunks");
    // Both trunks still carry their own calls.
    for (ip, id) in [("127.0.0.7", "newco-ok"), ("127.0.0.8", "other-ok")] {
        let claims = signed_call(&h, ip, "2155550177", "2155550199", id).await;
        assert_eq!(claims["attest"], "C");
    }

    // A domain picks its trunk, so a trunk with one may share addresses with others;
    // no two trunks may have one domain.
    let (s, named) = api
        .post(
            &format!("/v1/Trunks/{trunk}"),
            &newco,
            &[("DomainName", "pbx.newco.example")],
        )
        .await;
    assert_eq!(
        (s, named["domain_name"].as_str()),
        (200, Some("pbx.newco.example"))
    );
    let shared = [("FriendlyName", "shared"), ("IpAddress", "127.0.0.8")];
    assert_eq!(api.post(&addresses, &newco, &shared).await.0, 201);
    let r = api
        .post(
            &format!("/v1/Trunks/{their_trunk}"),
            &other,
            &[("DomainName", "PBX.newco.example")],
        )
        .await;
    assert_refused(&r, "already the domain");
    // The shared address is still the other account's for calls not addressed to
    // Newco's domain.
    let claims = signed_call(&h, "127.0.0.8", "2155550177", "2155550199", "other-shared").await;
    let theirs = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, their_trunk.as_bytes());
    assert_eq!(claims["origid"], theirs.hyphenated().to_string());
}

/// A call to `uri` from a UAC on `ip`, with `authorization` (a Proxy-Authorization value)
/// when given: the first final answer, or the forwarded INVITE's Identity claims when it
/// went through.
async fn call_to(
    h: &Harness,
    ip: &str,
    uri: &str,
    call_id: &str,
    authorization: Option<&str>,
) -> Result<Value, (u16, String)> {
    let extra = authorization.map_or(String::new(), |a| format!("Proxy-Authorization: {a}\r\n"));
    let numbers = ("2155550177", "2155550199");
    let uac = send_invite(h.udp, ip, call_id, numbers, Some(uri), &extra).await;
    let (answer, _) = recv_until(&uac, |m| status(m) >= 200 || status(m) == 100).await;
    if status(&answer) == 100 {
        let (fwd, proxy) = recv_until(h.uas_udp(), |m| {
            m.contains(&format!("Call-ID: {call_id}\r\n"))
        })
        .await;
        h.uas_udp()
            .send_to(respond(&fwd, 486, "Busy Here", "").as_bytes(), proxy)
            .await
            .unwrap();
        assert!(
            !fwd.contains("Proxy-Authorization"),
            "credentials went on: {fwd}"
        );
        let identity = header(&fwd, callsign::sip::HeaderName::Identity).expect("signed");
        return Ok(verify_identity(&identity, &h.leaf_public_key));
    }
    Err((status(&answer), answer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_list_trunk_challenges_and_takes_the_right_password_only() {
    let (h, api) = hub().await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let trunk = sid_of(
        &api.ok(
            "/v1/Trunks",
            &newco,
            &[
                ("FriendlyName", "roaming PBX"),
                ("DomainName", "newco.pbx.example"),
            ],
        )
        .await,
    );
    let lists = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists.json",
        newco.sid
    );
    let list = sid_of(&api.ok(&lists, &newco, &[("FriendlyName", "phones")]).await);
    let creds_path = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists/{list}/Credentials.json",
        newco.sid
    );
    for (form, why) in [
        (
            vec![("Username", "pbx"), ("Password", "short1A")],
            "Password",
        ),
        (
            vec![("Username", "pbx"), ("Password", "alllowercase123")],
            "Password",
        ),
        (
            vec![("Username", "a\"b"), ("Password", "Secret-Passw0rd")],
            "Username",
        ),
    ] {
        assert_refused(&api.post(&creds_path, &newco, &form).await, why);
    }
    let credential = api
        .ok(
            &creds_path,
            &newco,
            &[("Username", "pbx"), ("Password", "Secret-Passw0rd")],
        )
        .await;
    assert_eq!(credential["username"], "pbx");
    assert!(
        !credential.to_string().contains("Secret-Passw0rd") && credential.get("password").is_none(),
        "the password came back: {credential}"
    );
    let uri = "sip:2155550199@newco.pbx.example";
    let ip = "127.0.0.11";
    // Before the trunk takes the list: a domain with no way in.
    assert_eq!(
        call_to(&h, ip, uri, "cred-0", None).await.unwrap_err().0,
        403
    );
    api.ok(
        &format!("/v1/Trunks/{trunk}/CredentialLists"),
        &newco,
        &[("CredentialListSid", &list)],
    )
    .await;
    let (s, t) = api.get(&format!("/v1/Trunks/{trunk}"), &newco, &[]).await;
    assert_eq!(
        (s, &t["auth_type_set"]),
        (200, &serde_json::json!(["CREDENTIAL_LIST"]))
    );

    let (status, challenge) = call_to(&h, ip, uri, "cred-1", None).await.unwrap_err();
    assert_eq!(status, 407, "{challenge}");
    let right = digest_answer(&challenge, uri, "pbx", "Secret-Passw0rd", 1);
    let claims = call_to(&h, ip, uri, "cred-2", Some(&right)).await.unwrap();
    let origid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, trunk.as_bytes());
    assert_eq!(claims["origid"], origid.hyphenated().to_string());
    // The same count again, a wrong password, another username: 403.
    assert_eq!(
        call_to(&h, ip, uri, "cred-3", Some(&right))
            .await
            .unwrap_err()
            .0,
        403
    );
    let wrong = digest_answer(&challenge, uri, "pbx", "Secret-Passw0rD", 2);
    assert_eq!(
        call_to(&h, ip, uri, "cred-4", Some(&wrong))
            .await
            .unwrap_err()
            .0,
        403
    );
    let nobody = digest_answer(&challenge, uri, "nobody", "Secret-Passw0rd", 3);
    assert_eq!(
        call_to(&h, ip, uri, "cred-5", Some(&nobody))
            .await
            .unwrap_err()
            .0,
        403
    );
    h.assert_metric("callsign_requests_rejected_total{cause=\"authentication_failed\"} 3")
        .await;
    // Deleting the list takes the way in with it.
    let (s, _) = api
        .delete(
            &format!(
                "/2010-04-01/Accounts/{}/SIP/CredentialLists/{list}.json",
                newco.sid
            ),
            &newco,
        )
        .await;
    assert_eq!(s, 204);
    let next = digest_answer(&challenge, uri, "pbx", "Secret-Passw0rd", 4);
    assert_eq!(
        call_to(&h, ip, uri, "cred-6", Some(&next))
            .await
            .unwrap_err()
            .0,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunks_call_rate_is_set_through_the_api_and_enforced_with_503() {
    let (h, api) = hub().await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let ip = "127.0.0.12";
    let (trunk, _) = provision(&api, &newco, ip).await;
    let path = format!("/v1/Trunks/{trunk}");
    for (form, why) in [
        (
            vec![("CallsPerSecond", "0"), ("CallsBurst", "5")],
            "CallsPerSecond",
        ),
        (vec![("CallsPerSecond", "20000")], "CallsPerSecond"),
        (vec![("CallsPerSecond", "-1")], "CallsPerSecond"),
        (vec![("CallsBurst", "2")], "CallsPerSecond"),
    ] {
        assert_refused(&api.post(&path, &newco, &form).await, why);
    }
    let (s, t) = api
        .post(
            &path,
            &newco,
            &[("CallsPerSecond", "1"), ("CallsBurst", "1")],
        )
        .await;
    assert_eq!(
        (s, t["calls_per_second"].as_u64(), t["calls_burst"].as_u64()),
        (200, Some(1), Some(1))
    );
    // Five calls back to back from a trunk allowed one a second: some are refused with
    // 503 and Retry-After, however the machine schedules them.
    let mut refused = 0;
    for n in 0..5 {
        let uac = uac(ip).await;
        let local = uac.local_addr().unwrap();
        uac.send_to(call(local, "UDP", &format!("rate-{n}")).as_bytes(), h.udp)
            .await
            .unwrap();
        let (answer, _) = recv_until(&uac, |m| status(m) == 100 || status(m) >= 200).await;
        if status(&answer) == 503 {
            assert!(answer.contains("\r\nRetry-After: 1\r\n"), "{answer}");
            refused += 1;
        }
    }
    assert!(refused >= 3, "{refused} of 5 refused");
    h.assert_metric(&format!(
        "callsign_requests_rejected_total{{cause=\"rate_limited\"}} {refused}"
    ))
    .await;
    // Removing the limit.
    let (s, t) = api.post(&path, &newco, &[("CallsPerSecond", "0")]).await;
    assert_eq!((s, &t["calls_per_second"]), (200, &Value::Null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunks_minimum_level_is_set_through_the_api_and_refuses_lower_calls() {
    let (h, api) = hub().await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let ip = "127.0.0.13";
    let (trunk, _) = provision(&api, &newco, ip).await;
    let path = format!("/v1/Trunks/{trunk}");
    for (form, why) in [
        (vec![("MinimumAttestation", "D")], "MinimumAttestation"),
        (
            vec![("MinimumAttestation", "A"), ("BelowMinimumStatus", "500")],
            "BelowMinimumStatus",
        ),
        (vec![("BelowMinimumStatus", "603")], "MinimumAttestation"),
    ] {
        assert_refused(&api.post(&path, &newco, &form).await, why);
    }
    // Newco is unvetted: its calls are C, below a B floor.
    let (s, t) = api
        .post(
            &path,
            &newco,
            &[("MinimumAttestation", "B"), ("BelowMinimumStatus", "603")],
        )
        .await;
    assert_eq!(
        (
            s,
            t["minimum_attestation"].as_str(),
            t["below_minimum_status"].as_u64()
        ),
        (200, Some("B"), Some(603))
    );
    assert_eq!(final_answer(&h, ip, "floor-1").await, 603);
    h.assert_metric("callsign_requests_rejected_total{cause=\"below_minimum_level\"} 1")
        .await;
    let (s, t) = api.post(&path, &newco, &[("MinimumAttestation", "")]).await;
    assert_eq!((s, &t["minimum_attestation"]), (200, &Value::Null));
    // The trunk's own Identity policy, shown and validated like the floor.
    let r = api.post(&path, &newco, &[("IdentityPolicy", "drop")]).await;
    assert_refused(&r, "IdentityPolicy");
    let (s, t) = api.post(&path, &newco, &[("IdentityPolicy", "keep")]).await;
    assert_eq!((s, t["identity_policy"].as_str()), (200, Some("keep")));
    let claims = signed_call(&h, ip, "2155550177", "2155550199", "floor-2").await;
    assert_eq!(claims["attest"], "C");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_may_carry_its_own_origid_and_only_the_roles_the_server_serves() {
    let (h, api) = hub().await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let ip = "127.0.0.13";
    let trunk = api.trunk_at(&newco, ip).await;
    let path = format!("/v1/Trunks/{trunk}");
    for (form, why) in [
        (("Role", "verify"), "[verify]"),
        (("Role", "redirector"), "Role"),
        (("Role", "Sign"), "Role"),
        (("Origid", "not-a-uuid"), "Origid"),
        (("Origid", "123e4567-e89b-12d3-a456"), "Origid"),
    ] {
        assert_refused(&api.post(&path, &newco, &[form]).await, why);
    }
    let derived = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, trunk.as_bytes());
    let (_, t) = api.get(&path, &newco, &[]).await;
    assert_eq!(t["role"], "sign");
    assert_eq!(t["origid"], derived.hyphenated().to_string());

    let origid = "123e4567-e89b-12d3-a456-426655440000";
    let t = api.ok(&path, &newco, &[("Origid", origid)]).await;
    assert_eq!(t["origid"], origid);
    let claims = signed_call(&h, ip, "2155550177", "2155550199", "origid-own").await;
    assert_eq!(claims["origid"], origid);
    // Empty returns to the derived one.
    let t = api.ok(&path, &newco, &[("Origid", "")]).await;
    assert_eq!(t["origid"], derived.hyphenated().to_string());
    let claims = signed_call(&h, ip, "2155550177", "2155550199", "origid-derived").await;
    assert_eq!(claims["origid"], derived.hyphenated().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifying_trunk_has_its_calls_verified_not_signed() {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let server = TestServer::verifying(&pki, OnFailure::Forward).trunks(Vec::new());
    let (h, api) = hub_on(server).await;
    let carrier = api.account(&Creds::operator(), "Carrier").await;
    let ip = "127.0.0.14";
    let trunk = api.trunk_at(&carrier, ip).await;
    let path = format!("/v1/Trunks/{trunk}");
    let t = api.ok(&path, &carrier, &[("Role", "verify")]).await;
    assert_eq!(t["role"], "verify");

    let uac = uac(ip).await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "verify-trunk");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let (got, _) = recv_from(h.uas_udp()).await;
    let m = callsign::sip::Message::parse(got.as_bytes()).unwrap();
    let party = m
        .header(HeaderName::PAssertedIdentity)
        .or(m.header(HeaderName::From))
        .unwrap();
    assert!(party.contains(";verstat=No-TN-Validation@"), "{party}");
    assert!(header(&got, HeaderName::Identity).is_none(), "{got}");
    h.assert_metric("callsign_calls_verified_total{verstat=\"No-TN-Validation\"} 1")
        .await;

    // A verifying trunk takes calls from its addresses only, never on credentials.
    let lists = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists.json",
        carrier.sid
    );
    let list = sid_of(&api.ok(&lists, &carrier, &[("FriendlyName", "c")]).await);
    let uses = format!("/v1/Trunks/{trunk}/CredentialLists");
    assert_refused(
        &api.post(&uses, &carrier, &[("CredentialListSid", &list)])
            .await,
        "verifies",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_trunks_seed_a_new_store_and_win_until_removed() {
    let h = TestServer::new().store(TRUST).start().await;
    let api = Api::new(h.http);
    let op = Creds::operator();
    let (s, trunks) = api.get("/v1/Trunks", &op, &[]).await;
    assert_eq!(s, 200, "{trunks}");
    let acme = (trunks["trunks"].as_array().unwrap().iter())
        .find(|t| t["friendly_name"] == "acme")
        .unwrap_or_else(|| panic!("acme was not copied: {trunks}"))
        .clone();
    let config_origid = signing_trunk("acme", ACME, "127.0.0.1").origid();
    assert_eq!(acme["account_sid"], ACME);
    assert_eq!(acme["origid"], config_origid.hyphenated().to_string());
    assert_eq!(acme["role"], "sign");
    let trunk = sid_of(&acme);
    let (_, lists) = api
        .get(
            &format!("/v1/Trunks/{trunk}/IpAccessControlLists"),
            &op,
            &[],
        )
        .await;
    let list = lists["ip_access_control_lists"][0]["sid"].as_str().unwrap();
    let (_, addresses) = api.get(&addresses_path(ACME, list), &op, &[]).await;
    assert_eq!(addresses["ip_addresses"][0]["ip_address"], "127.0.0.1");
    assert_eq!(addresses["ip_addresses"][0]["cidr_prefix_length"], 32);

    // The config's table wins while it is there: the stored copy's policy is not used.
    api.ok(
        &format!("/v1/Trunks/{trunk}"),
        &op,
        &[("IdentityPolicy", "reject")],
    )
    .await;
    let with_identity = "Identity: abc.def.ghi;info=<https://x.example/c.pem>\r\n";
    let numbers = ("2155550121", "2155550131");
    let send = |h: &Harness, call_id: &'static str| {
        send_invite(h.udp, "127.0.0.1", call_id, numbers, None, with_identity)
    };
    send(&h, "seeded-config-wins").await;
    recv_until(h.uas_udp(), |m| {
        m.contains("Call-ID: seeded-config-wins\r\n")
    })
    .await;

    // Without the table, the stored trunk takes the same source, with the same origid.
    let dir = h.stop_keeping_dir().await;
    let h = TestServer::new()
        .store(TRUST)
        .trunks(Vec::new())
        .start_in(dir)
        .await;
    let uac = send(&h, "seeded-store-rejects").await;
    let (refused, _) = recv_until(&uac, |m| m.starts_with("SIP/2.0 4")).await;
    assert!(
        refused.starts_with("SIP/2.0 403 Identity Not Accepted From Trunk"),
        "{refused}"
    );
    let claims = signed_call(&h, "127.0.0.1", "2155550121", "2155550131", "seeded-store").await;
    assert_eq!(claims["origid"], config_origid.hyphenated().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_realm_is_the_operators_to_name() {
    let server = TestServer::new().sip(|s| s.digest_realm = "pstn.carrier.example".into());
    let (h, api) = hub_on(server).await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let form = [("FriendlyName", "PBX"), ("DomainName", "realm.pbx.example")];
    let trunk = sid_of(&api.ok("/v1/Trunks", &newco, &form).await);
    let lists = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists.json",
        newco.sid
    );
    let list = sid_of(&api.ok(&lists, &newco, &[("FriendlyName", "phones")]).await);
    let creds_path = format!(
        "/2010-04-01/Accounts/{}/SIP/CredentialLists/{list}/Credentials.json",
        newco.sid
    );
    let password = ("Password", "Secret-Passw0rd");
    api.ok(&creds_path, &newco, &[("Username", "pbx"), password])
        .await;
    let uses = format!("/v1/Trunks/{trunk}/CredentialLists");
    api.ok(&uses, &newco, &[("CredentialListSid", &list)]).await;

    let (uri, ip) = ("sip:2155550199@realm.pbx.example", "127.0.0.17");
    let (status, challenge) = call_to(&h, ip, uri, "realm-1", None).await.unwrap_err();
    assert_eq!(status, 407, "{challenge}");
    assert!(
        challenge.contains("realm=\"pstn.carrier.example\""),
        "{challenge}"
    );
    let right = digest_answer(&challenge, uri, "pbx", "Secret-Passw0rd", 1);
    call_to(&h, ip, uri, "realm-2", Some(&right)).await.unwrap();
}
