//! Redirect trunks end to end: an SBC's INVITE is attested and signed as on a signing
//! trunk and answered `302` with the Identity; nothing reaches the carrier. The trunk is
//! provisioned through the Trust Hub API (`Role=redirect`) or set in the config, and its
//! options (the Identity in the Contact, the attestation headers, the failure status)
//! come from the same places.

mod common;

use std::time::Duration;

use callsign::proxy::Role;
use callsign::sip::HeaderName;
use common::api::{Api, Creds};
use common::*;

/// An INVITE from 2155550121 to 2155550131 from a UAC on `ip`: the final answer (a 302).
async fn redirected(h: &Harness, ip: &str, call_id: &str) -> String {
    let calling = ("2155550121", "2155550131");
    let uac = send_invite(h.udp, ip, call_id, calling, None, "").await;
    let answer = recv_until(&uac, |m| status(m) >= 200).await.0;
    assert_eq!(status(&answer), 302, "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_redirect_trunk_answers_302_with_a_valid_identity_and_forwards_nothing() {
    let mut trunk = signing_trunk("sbc", ACME, "127.0.0.1");
    trunk.role = Role::Redirect;
    trunk.attestation_headers = true;
    trunk.contact_identity = true;
    let h = TestServer::new().trunks(vec![trunk]).start().await;

    let answer = redirected(&h, "127.0.0.1", "redirect-1").await;
    let identity = header(&answer, HeaderName::Identity).expect("Identity in the 302");
    let claims = verify_identity(&identity, &h.leaf_public_key);
    assert_eq!(
        (claims["attest"].as_str(), claims["orig"]["tn"].as_str()),
        (Some("A"), Some("12155550121"))
    );
    let contact = header(&answer, HeaderName::Contact).unwrap();
    assert!(
        contact.starts_with("<sip:2155550131@carrier.example?Identity="),
        "{contact}"
    );
    assert!(
        answer.contains("\r\nP-Attestation-Indicator: A\r\n"),
        "{answer}"
    );
    assert!(answer.contains(&format!(
        "\r\nP-Origination-ID: {}\r\n",
        claims["origid"].as_str().unwrap()
    )));

    // Nothing went to the carrier.
    let mut buf = [0u8; 4096];
    let quiet =
        tokio::time::timeout(Duration::from_millis(300), h.uas_udp().recv_from(&mut buf)).await;
    assert!(quiet.is_err(), "a redirect trunk forwards nothing");
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provisioned_trunk_becomes_a_redirect_trunk_through_the_api() {
    let token = "0000000000000000000000000000000a";
    let mut trust: serde_json::Value = serde_json::from_str(TRUST).unwrap();
    trust["accounts"][0]["auth_token"] = serde_json::json!(token);
    let h = TestServer::new()
        .trunks(Vec::new())
        .store(trust.to_string())
        .start()
        .await;
    let api = Api::new(h.http);
    let acme = Creds::new(ACME, token);
    let trunk = api.trunk_at(&acme, "127.0.0.5").await;
    let path = format!("/v1/Trunks/{trunk}");
    // Bad values are refused by name, and change nothing.
    for (field, value) in [
        ("Role", "redirector"),
        ("ContactIdentity", "yes"),
        ("SigningFailure", "302"),
        ("SigningFailure", "signed"),
    ] {
        let (status, body) = api.post(&path, &acme, &[(field, value)]).await;
        assert_eq!(status, 400, "{field}={value}: {body}");
        assert!(body["message"].as_str().unwrap().contains(field), "{body}");
    }
    let body = api
        .ok(
            &path,
            &acme,
            &[("Role", "redirect"), ("SigningFailure", "503")],
        )
        .await;
    assert_eq!(
        (body["role"].as_str(), body["signing_failure"].as_str()),
        (Some("redirect"), Some("503"))
    );
    assert_eq!(body["contact_identity"], false);

    let answer = redirected(&h, "127.0.0.5", "redirect-2").await;
    assert_eq!(
        header(&answer, HeaderName::Contact).as_deref(),
        Some("<sip:2155550131@carrier.example>")
    );
    let identity = header(&answer, HeaderName::Identity).unwrap();
    assert_eq!(
        verify_identity(&identity, &h.leaf_public_key)["attest"],
        "A"
    );
    assert!(!answer.contains("P-Attestation-Indicator"));

    // Back to signing: the same INVITE is forwarded again.
    api.ok(&path, &acme, &[("Role", "sign")]).await;
    let _uac = send_invite(
        h.udp,
        "127.0.0.5",
        "redirect-3",
        ("2155550121", "2155550131"),
        None,
        "",
    )
    .await;
    let (forwarded, _) = recv_from(h.uas_udp()).await;
    assert!(forwarded.starts_with("INVITE "), "{forwarded}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_invites_to_a_redirect_trunk_get_errors_and_good_ones_still_get_302() {
    let mut trunk = signing_trunk("sbc", ACME, "127.0.0.1");
    trunk.role = Role::Redirect;
    let h = TestServer::new().trunks(vec![trunk]).start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let good = invite(
        local,
        "UDP",
        "bad-0",
        "z9hG4bK-bad0",
        "2155550121",
        "2155550131",
        "",
    );
    // A caller that is not a number: a 302 without Identity, counted unsigned.
    let anonymous = good
        .replace("sip:2155550121@", "sip:anonymous@")
        .replace("bad-0", "bad-1")
        .replace("z9hG4bK-bad0", "z9hG4bK-bad1");
    uac.send_to(anonymous.as_bytes(), h.udp).await.unwrap();
    let answer = recv_until(&uac, |m| status(m) >= 200).await.0;
    assert_eq!(status(&answer), 302, "{answer}");
    assert!(header(&answer, HeaderName::Identity).is_none(), "{answer}");
    // Two P-Asserted-Identity numbers that disagree: 400, nothing signed.
    let conflicting = good
        .replace("bad-0", "bad-2")
        .replace("z9hG4bK-bad0", "z9hG4bK-bad2")
        .replace(
            "Max-Forwards:",
            "P-Asserted-Identity: <sip:2155550121@a.example>, <tel:+12155550199>\r\nMax-Forwards:",
        );
    uac.send_to(conflicting.as_bytes(), h.udp).await.unwrap();
    let answer = recv_until(&uac, |m| status(m) >= 200).await.0;
    assert_eq!(status(&answer), 400, "{answer}");
    // Garbage, and a message over the size limit: no answer that signs anything.
    uac.send_to(b"INVITE garbage\r\n\r\n", h.udp).await.unwrap();
    let huge = good.replace(
        "Max-Forwards:",
        &format!("X-Pad: {}\r\nMax-Forwards:", "x".repeat(70_000)),
    );
    let _ = uac.send_to(huge.as_bytes(), h.udp).await;
    // The service still answers a good INVITE with its signed 302.
    uac.send_to(good.as_bytes(), h.udp).await.unwrap();
    let answer = recv_until(&uac, |m| status(m) == 302 && m.contains("bad-0"))
        .await
        .0;
    let identity = header(&answer, HeaderName::Identity).expect("signed");
    verify_identity(&identity, &h.leaf_public_key);
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1")
        .await;
}
