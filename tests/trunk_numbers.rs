//! A trunk's phone numbers over the API, in Twilio's shape (`/v1/Trunks/{TK}/PhoneNumbers`),
//! and the proxy using them: a verified call to a number on a trunk goes to that trunk's
//! origination URLs, not the arriving trunk's route. Another account's numbers, a number
//! already on a trunk, a signing trunk and malformed SIDs are refused with nothing stored.

mod common;

use callsign::proxy::OnFailure;
use callsign::sip::HeaderName;
use common::api::*;
use common::*;
use serde_json::Value;
use tokio::net::UdpSocket;

fn sid_of(v: &Value) -> String {
    v["sid"].as_str().expect("a sid").to_owned()
}

fn is_invite(call_id: &str) -> impl Fn(&str) -> bool + '_ {
    move |m| m.starts_with("INVITE ") && m.contains(&format!("Call-ID: {call_id}\r\n"))
}

/// A verifying server whose carrier trunk is 127.0.0.1, with an empty store.
async fn verifying_hub(dir: &std::path::Path) -> (Harness, Api) {
    let pki = shared_pki(dir);
    hub_on(TestServer::verifying(&pki, OnFailure::Forward).local_origination()).await
}

/// A verifying trunk of `who`, delivering to `sip_url`: its SID.
async fn inbound_trunk(api: &Api, who: &Creds, sip_url: &str) -> String {
    let form = [("FriendlyName", "inbound"), ("Role", "verify")];
    let trunk = sid_of(&api.ok("/v1/Trunks", who, &form).await);
    let url = [
        ("FriendlyName", "pbx"),
        ("SipUrl", sip_url),
        ("Priority", "10"),
        ("Weight", "10"),
        ("Enabled", "true"),
    ];
    api.ok(&format!("/v1/Trunks/{trunk}/OriginationUrls"), who, &url)
        .await;
    trunk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_call_to_a_number_on_a_trunk_goes_to_that_trunks_url() {
    let dir = tempfile::tempdir().unwrap();
    let (h, api) = verifying_hub(dir.path()).await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let pn = api.number(&newco.sid, "+12155550188").await;
    let pbx = UdpSocket::bind("127.0.0.23:0").await.unwrap();
    let pbx_url = format!("sip:{}", pbx.local_addr().unwrap());
    let trunk = inbound_trunk(&api, &newco, &pbx_url).await;
    let numbers = format!("/v1/Trunks/{trunk}/PhoneNumbers");
    let on = api.ok(&numbers, &newco, &[("PhoneNumberSid", &pn)]).await;
    assert_eq!(on["sid"], pn.as_str());
    assert_eq!(on["trunk_sid"], trunk.as_str());
    assert_eq!(on["phone_number"], "+12155550188");
    assert_eq!(on["account_sid"], newco.sid.as_str());
    assert!(
        on["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{numbers}/{pn}"))
    );
    let number_path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
        newco.sid
    );
    let (_, number) = api.get(&number_path, &newco, &[]).await;
    assert_eq!(number["trunk_sid"], trunk.as_str(), "{number}");

    // The carrier's call to the number is verified and delivered to the PBX.
    let calling = ("2155550121", "2155550188");
    let carrier = send_invite(h.udp, "127.0.0.1", "pn-1", calling, None, "").await;
    let (at_pbx, proxy) = recv_until(&pbx, is_invite("pn-1")).await;
    let m = callsign::sip::Message::parse(at_pbx.as_bytes()).unwrap();
    let from = m.header(HeaderName::From).unwrap();
    assert!(from.contains(";verstat=No-TN-Validation@"), "{from}");
    let ok = respond(&at_pbx, 200, "OK", "");
    pbx.send_to(ok.as_bytes(), proxy).await.unwrap();
    let (answer, _) = recv_until(&carrier, |m| {
        m.starts_with("SIP/2.0 ") && !m.starts_with("SIP/2.0 100")
    })
    .await;
    assert!(answer.starts_with("SIP/2.0 200 OK"), "{answer}");
    h.assert_metric("callsign_number_routes_total 1").await;

    // Another number follows the carrier trunk's own route.
    send_invite(
        h.udp,
        "127.0.0.1",
        "pn-2",
        ("2155550121", "2155550199"),
        None,
        "",
    )
    .await;
    recv_until(h.uas_udp(), is_invite("pn-2")).await;

    // Off the trunk, the number follows it too; the number stays the account's.
    let (s, _) = api.delete(&format!("{numbers}/{pn}"), &newco).await;
    assert_eq!(s, 204);
    let (_, number) = api.get(&number_path, &newco, &[]).await;
    assert_eq!(number["trunk_sid"], Value::Null);
    send_invite(h.udp, "127.0.0.1", "pn-3", calling, None, "").await;
    recv_until(h.uas_udp(), is_invite("pn-3")).await;
    h.assert_metric("callsign_number_routes_total 1").await;
}

#[tokio::test]
async fn bad_trunk_numbers_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_h, api) = verifying_hub(dir.path()).await;
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let other = api.account(&op, "Other").await;
    let pn = api.number(&newco.sid, "+12155550188").await;
    let theirs = api.number(&other.sid, "+12155550189").await;
    let trunk = inbound_trunk(&api, &newco, "sip:93.184.216.34").await;
    let numbers = format!("/v1/Trunks/{trunk}/PhoneNumbers");
    let add = |pn: &str| vec![("PhoneNumberSid", pn.to_owned())];
    let post = |form: Vec<(&'static str, String)>| {
        let api = &api;
        let (numbers, newco) = (&numbers, &newco);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.post(numbers, newco, &form).await
        }
    };
    for (form, why) in [
        (add(&theirs), "PhoneNumberSid"),
        (add("PN00000000000000000000000000000099"), "PhoneNumberSid"),
        (add("PNxyz"), "PhoneNumberSid"),
        (add(&trunk), "PhoneNumberSid"),
        (add(""), "PhoneNumberSid"),
        (Vec::new(), "PhoneNumberSid"),
        (
            vec![
                ("PhoneNumberSid", pn.clone()),
                ("VoiceUrl", "http://x".into()),
            ],
            "VoiceUrl",
        ),
    ] {
        assert_refused(&post(form).await, why);
    }
    let (_, list) = api.get(&numbers, &newco, &[]).await;
    assert!(sids(&list, "phone_numbers").is_empty(), "{list}");

    // Another account's trunk is not there at all, nor its numbers on ours.
    let (s, _) = api
        .post(&numbers, &other, &[("PhoneNumberSid", &theirs)])
        .await;
    assert_eq!(s, 404);
    api.ok(&numbers, &newco, &[("PhoneNumberSid", &pn)]).await;
    let (s, _) = api.get(&numbers, &other, &[]).await;
    assert_eq!(s, 404);
    let (s, _) = api.get(&format!("{numbers}/{theirs}"), &newco, &[]).await;
    assert_eq!(s, 404);

    // A number is on one trunk at most, and only a verifying trunk takes numbers.
    assert_refused(&post(add(&pn)).await, "already on trunk");
    let second = inbound_trunk(&api, &newco, "sip:93.184.216.35").await;
    let second_numbers = format!("/v1/Trunks/{second}/PhoneNumbers");
    assert_refused(
        &api.post(&second_numbers, &newco, &[("PhoneNumberSid", &pn)])
            .await,
        "already on trunk",
    );
    let signing = sid_of(
        &api.ok("/v1/Trunks", &newco, &[("FriendlyName", "out")])
            .await,
    );
    let pn2 = api.number(&newco.sid, "+12155550190").await;
    assert_refused(
        &api.post(
            &format!("/v1/Trunks/{signing}/PhoneNumbers"),
            &newco,
            &[("PhoneNumberSid", &pn2)],
        )
        .await,
        "signs",
    );
    // Nor may a trunk with numbers start signing.
    let path = format!("/v1/Trunks/{trunk}");
    assert_refused(&api.post(&path, &newco, &[("Role", "sign")]).await, "signs");
    let (_, t) = api.get(&path, &newco, &[]).await;
    assert_eq!(t["role"], "verify");
    let (_, list) = api.get(&numbers, &newco, &[]).await;
    assert_eq!(sids(&list, "phone_numbers"), vec![pn.clone()]);

    // Releasing the number takes it off the trunk; deleting a trunk keeps its numbers.
    api.ok(&second_numbers, &newco, &[("PhoneNumberSid", &pn2)])
        .await;
    let (s, _) = api
        .delete(
            &format!(
                "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
                newco.sid
            ),
            &op,
        )
        .await;
    assert_eq!(s, 204);
    let (_, list) = api.get(&numbers, &newco, &[]).await;
    assert!(sids(&list, "phone_numbers").is_empty(), "{list}");
    let (s, _) = api.delete(&format!("/v1/Trunks/{second}"), &newco).await;
    assert_eq!(s, 204);
    let (s, number) = api
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn2}.json",
                newco.sid
            ),
            &newco,
            &[],
        )
        .await;
    assert_eq!((s, &number["trunk_sid"]), (200, &Value::Null), "{number}");
    api.ok(&numbers, &newco, &[("PhoneNumberSid", &pn2)]).await;
}

/// Every property of `api.v2010.account.incoming_phone_number` in Twilio's OpenAPI spec
/// (`twilio_api_v2010.json`).
const INCOMING_PHONE_NUMBER: [&str; 35] = [
    "account_sid",
    "address_sid",
    "address_requirements",
    "api_version",
    "beta",
    "capabilities",
    "date_created",
    "date_updated",
    "friendly_name",
    "identity_sid",
    "phone_number",
    "origin",
    "sid",
    "sms_application_sid",
    "sms_fallback_method",
    "sms_fallback_url",
    "sms_method",
    "sms_url",
    "status_callback",
    "status_callback_method",
    "trunk_sid",
    "uri",
    "voice_receive_mode",
    "voice_application_sid",
    "voice_caller_id_lookup",
    "voice_fallback_method",
    "voice_fallback_url",
    "voice_method",
    "voice_url",
    "emergency_status",
    "emergency_address_sid",
    "emergency_address_status",
    "bundle_sid",
    "status",
    "type",
];

#[tokio::test]
async fn the_2010_api_renames_a_number_and_puts_it_on_a_trunk_or_off() {
    let dir = tempfile::tempdir().unwrap();
    let (_h, api) = verifying_hub(dir.path()).await;
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let other = api.account(&op, "Other").await;
    let pn = api.number(&newco.sid, "+12155550161").await;
    let inbound = inbound_trunk(&api, &newco, "sip:pbx@127.0.0.1:5999").await;
    let theirs = inbound_trunk(&api, &other, "sip:pbx@127.0.0.1:5998").await;
    let signing = sid_of(
        &api.ok("/v1/Trunks", &newco, &[("FriendlyName", "out")])
            .await,
    );
    let path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
        newco.sid
    );
    let (_, got) = api.get(&path, &newco, &[]).await;
    for field in INCOMING_PHONE_NUMBER {
        assert!(got.get(field).is_some(), "no {field} in {got}");
    }

    let form = [
        ("FriendlyName", "Main line"),
        ("TrunkSid", inbound.as_str()),
    ];
    let (s, updated) = api.post(&path, &newco, &form).await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(updated["friendly_name"], "Main line");
    assert_eq!(updated["trunk_sid"], inbound.as_str());
    let on = format!("/v1/Trunks/{inbound}/PhoneNumbers");
    let (_, listed) = api.get(&on, &newco, &[]).await;
    assert_eq!(sids(&listed, "phone_numbers"), std::slice::from_ref(&pn));

    // Refused with 400, changing nothing: a signing trunk, another account's trunk
    // (worded as one that does not exist), a field callsign does not keep, nothing.
    let nobodys = "TK00000000000000000000000000000000";
    let long_name = "n".repeat(65);
    let refusals: [(&[(&str, &str)], &str); 9] = [
        (&[("TrunkSid", &signing)], "sign"),
        (&[("TrunkSid", "TKnot-a-sid")], "TrunkSid"),
        (&[("TrunkSid", &pn)], "TrunkSid"),
        (&[("FriendlyName", &long_name)], "FriendlyName"),
        (
            &[
                ("FriendlyName", "x"),
                ("FriendlyName", "y"),
                ("Colour", "red"),
            ],
            "Colour",
        ),
        (
            &[("TrunkSid", &theirs)],
            "is not a trunk of the number's account",
        ),
        (
            &[("TrunkSid", nobodys)],
            "is not a trunk of the number's account",
        ),
        (
            &[("VoiceUrl", "https://example.com/voice")],
            "Unknown parameter VoiceUrl",
        ),
        (&[], "names nothing to update"),
    ];
    for (form, why) in refusals {
        let (s, body) = api.post(&path, &newco, form).await;
        assert_eq!(
            (s, body["code"].as_u64()),
            (400, Some(20001)),
            "{form:?}: {body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(why), "{form:?}: {message}");
    }
    let mut said = Vec::new();
    for sid in [theirs.as_str(), nobodys] {
        let (_, body) = api.post(&path, &newco, &[("TrunkSid", sid)]).await;
        said.push(body["message"].as_str().unwrap().replace(sid, "TK…"));
    }
    assert_eq!(
        said[0], said[1],
        "another account's trunk is as unknown as none"
    );
    // Another account does not see the number at all.
    let (s, _) = api
        .post(&path, &other, &[("FriendlyName", "Mine now")])
        .await;
    assert_eq!(s, 404);
    assert_eq!(api.get(&path, &newco, &[]).await.1, updated);

    // An empty TrunkSid takes it off; the name stays.
    let (s, off) = api.post(&path, &newco, &[("TrunkSid", "")]).await;
    assert_eq!(s, 200, "{off}");
    assert_eq!(
        (&off["trunk_sid"], &off["friendly_name"]),
        (&Value::Null, &updated["friendly_name"])
    );
    let (_, listed) = api.get(&on, &newco, &[]).await;
    assert!(sids(&listed, "phone_numbers").is_empty(), "{listed}");
}
