//! End-to-end proxy behaviour over UDP: a test UAC (the trunk) and a test UAS (the
//! carrier) on real loopback sockets around a real server.

mod common;

use callsign::sip::{HeaderName, Message};
use common::*;

const CALLER: &str = "2155550121";
const CALLEE: &str = "2155550131";

#[tokio::test]
async fn signed_invite_reaches_the_uas_and_the_dialog_completes() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let inv = call(local, "UDP", "call-1");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();

    assert_eq!(status(&recv(&uac).await), 100);
    let (fwd, proxy_addr) = recv_from(h.uas_udp()).await;
    let msg = Message::parse(fwd.as_bytes()).unwrap();
    assert_eq!(msg.method_str(), Some("INVITE"));
    // Our Via on top, the UAC's below it, stamped with rport.
    let vias: Vec<_> = msg.vias().map(|v| v.unwrap()).collect();
    assert_eq!(vias.len(), 2);
    assert!(vias[0].branch.unwrap().starts_with("z9hG4bK"));
    assert_eq!(vias[1].branch, Some("z9hG4bK-call-1"));
    assert_eq!(vias[1].rport, callsign::sip::Rport::Value(local.port()));
    assert_eq!(msg.header(HeaderName::MaxForwards), Some("69"));
    assert!(msg.header(HeaderName::RecordRoute).unwrap().contains(";lr"));
    assert!(msg.header(HeaderName::Date).is_some());
    // Unknown headers and the body pass through byte for byte.
    assert!(fwd.contains("\r\nX-Custom-Header: keep me exactly  as is\r\n"));
    assert!(fwd.ends_with(inv.split("\r\n\r\n").nth(1).unwrap()));

    let claims = verify_identity(
        msg.header(HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    assert_eq!(claims["attest"], "A");
    assert_eq!(claims["orig"]["tn"], "12155550121");
    assert_eq!(claims["dest"]["tn"][0], "12155550131");
    assert!((claims["iat"].as_i64().unwrap() - now_unix()).abs() <= 5);
    assert_eq!(claims["origid"].as_str().unwrap().len(), 36);

    // Responses travel back with our Via removed.
    let ringing = respond(&fwd, 180, "Ringing", "");
    h.uas_udp()
        .send_to(ringing.as_bytes(), proxy_addr)
        .await
        .unwrap();
    let got = recv(&uac).await;
    assert_eq!(status(&got), 180);
    let m = Message::parse(got.as_bytes()).unwrap();
    assert_eq!(m.vias().count(), 1);
    assert_eq!(m.top_via().unwrap().branch, Some("z9hG4bK-call-1"));

    let ok = respond(&fwd, 200, "OK", "Contact: <sip:uas@127.0.0.1>");
    h.uas_udp()
        .send_to(ok.as_bytes(), proxy_addr)
        .await
        .unwrap();
    let got = recv(&uac).await;
    assert_eq!(status(&got), 200);

    // ACK and BYE follow the Record-Route back through the proxy.
    let route = msg.header(HeaderName::RecordRoute).unwrap().to_string();
    let uas_addr = h.uas_udp().local_addr().unwrap();
    for (method, branch, cseq) in [
        ("ACK", "z9hG4bK-a1", "1 ACK"),
        ("BYE", "z9hG4bK-b1", "2 BYE"),
    ] {
        let req = format!(
            "{method} sip:uas@{uas_addr} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\n\
             Route: {route}\r\nMax-Forwards: 70\r\nFrom: <sip:{CALLER}@127.0.0.1>;tag=uac-call-1\r\n\
             To: <sip:{CALLEE}@carrier.example>;tag=uas-tag\r\nCall-ID: call-1\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        );
        uac.send_to(req.as_bytes(), h.udp).await.unwrap();
        let (got, from) = recv_from(h.uas_udp()).await;
        assert_eq!(method_of(&got), method);
        assert!(
            header(&got, HeaderName::Identity).is_none(),
            "in-dialog requests are not signed"
        );
        assert!(
            header(&got, HeaderName::Route).is_none(),
            "our own Route is removed"
        );
        if method == "BYE" {
            h.uas_udp()
                .send_to(respond(&got, 200, "OK", "").as_bytes(), from)
                .await
                .unwrap();
            let got = recv(&uac).await;
            assert_eq!(status(&got), 200);
            assert_eq!(header(&got, HeaderName::CSeq).unwrap(), "2 BYE");
        }
    }
    // One signed INVITE went through the pipeline; the ACK and BYE did not.
    h.assert_metric("callsign_pipeline_seconds_count 1").await;
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1")
        .await;
}

fn method_of(msg: &str) -> String {
    method(msg).unwrap_or_default()
}

/// Places a new call from `uac` and asserts it is the very next message the UAS gets
/// (so nothing sent before it reached the UAS), and that the caller got 100 Trying.
async fn next_at_uas_is(h: &Harness, uac: &tokio::net::UdpSocket, call_id: &str) {
    let inv = call(uac.local_addr().unwrap(), "UDP", call_id);
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(uac).await), 100);
    let (next, _) = recv_from(h.uas_udp()).await;
    assert_eq!(header(&next, HeaderName::CallId).as_deref(), Some(call_id));
}

/// Places a call from `uac` and has the UAS ring. Returns the INVITE as sent, the
/// INVITE as the UAS received it, and the proxy address it came from.
async fn ringing(
    h: &Harness,
    uac: &tokio::net::UdpSocket,
    call_id: &str,
) -> (String, String, std::net::SocketAddr) {
    let inv = call(uac.local_addr().unwrap(), "UDP", call_id);
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(uac).await), 100);
    let (fwd, proxy) = recv_from(h.uas_udp()).await;
    h.uas_udp()
        .send_to(respond(&fwd, 180, "Ringing", "").as_bytes(), proxy)
        .await
        .unwrap();
    assert_eq!(status(&recv(uac).await), 180);
    (inv, fwd, proxy)
}

#[tokio::test]
async fn retransmitted_invite_is_absorbed_and_never_signed_again() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let (inv, _, _) = ringing(&h, &uac, "call-rtx").await;

    // The retransmission gets the latest provisional again and goes no further.
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 180);

    // The next thing the UAS sees is a later, different call: no second INVITE.
    next_at_uas_is(&h, &uac, "call-after").await;
    h.assert_metric("callsign_retransmissions_absorbed_total 1")
        .await;
}

#[tokio::test]
async fn cancel_is_answered_and_forwarded() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let (_, fwd, proxy) = ringing(&h, &uac, "call-cancel").await;

    let cancel = format!(
        "CANCEL sip:{CALLEE}@carrier.example SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-call-cancel;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:{CALLER}@127.0.0.1>;tag=uac-call-cancel\r\nTo: <sip:{CALLEE}@carrier.example>\r\n\
         Call-ID: call-cancel\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
    );
    uac.send_to(cancel.as_bytes(), h.udp).await.unwrap();
    let got = recv(&uac).await;
    assert_eq!(status(&got), 200);
    assert_eq!(header(&got, HeaderName::CSeq).unwrap(), "1 CANCEL");

    let (c, _) = recv_until(h.uas_udp(), |m| method(m).as_deref() == Some("CANCEL")).await;
    let fwd_branch = Message::parse(fwd.as_bytes())
        .unwrap()
        .top_via()
        .unwrap()
        .branch
        .unwrap()
        .to_string();
    let c_msg = Message::parse(c.as_bytes()).unwrap();
    assert_eq!(c_msg.top_via().unwrap().branch, Some(fwd_branch.as_str()));
    h.uas_udp()
        .send_to(respond(&c, 200, "OK", "").as_bytes(), proxy)
        .await
        .unwrap();
    h.uas_udp()
        .send_to(
            respond(&fwd, 487, "Request Terminated", "").as_bytes(),
            proxy,
        )
        .await
        .unwrap();
    let got = recv_until(&uac, |m| status(m) != 180).await.0;
    assert_eq!(status(&got), 487);
    // The proxy ACKs the 487 hop by hop.
    let (ack, _) = recv_until(h.uas_udp(), |m| method(m).as_deref() == Some("ACK")).await;
    let ack_msg = Message::parse(ack.as_bytes()).unwrap();
    assert_eq!(ack_msg.top_via().unwrap().branch, Some(fwd_branch.as_str()));
    assert_eq!(ack_msg.to_tag(), Some("uas-tag"));
}

#[tokio::test]
async fn silent_upstream_gets_408_after_timer_b() {
    let h = TestServer::new().t1_ms(20).start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let inv = call(local, "UDP", "call-408");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 100);
    // Timer A retransmits to the silent upstream, with the same Identity each time.
    let (first, _) = recv_from(h.uas_udp()).await;
    let (second, _) = recv_from(h.uas_udp()).await;
    assert_eq!(
        first, second,
        "a retransmission is the same bytes, never re-signed"
    );
    let got = recv(&uac).await;
    assert_eq!(status(&got), 408);
    h.assert_metric("callsign_timeouts_total{cause=\"timer_b\"} 1")
        .await;
}

#[tokio::test]
async fn unknown_source_is_refused_and_nothing_is_forwarded() {
    let h = TestServer::new().start().await;
    let stranger = uac("127.0.0.3").await;
    let local = stranger.local_addr().unwrap();
    let inv = call(local, "UDP", "call-403");
    stranger.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&stranger).await), 403);

    let trunk = uac("127.0.0.1").await;
    next_at_uas_is(&h, &trunk, "call-ok").await;
    h.assert_metric("callsign_requests_rejected_total{cause=\"forbidden_source\"} 1")
        .await;
}

#[tokio::test]
async fn max_forwards_zero_gets_483_and_loops_get_482() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let inv = call(local, "UDP", "call-483").replace("Max-Forwards: 70", "Max-Forwards: 0");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 483);

    // A request that comes back carrying our own Via with the same loop hash is a loop.
    let inv = call(local, "UDP", "call-loop");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 100);
    let (fwd, _) = recv_from(h.uas_udp()).await;
    uac.send_to(fwd.as_bytes(), h.udp).await.unwrap();
    let got = recv_until(&uac, |m| status(m) != 100).await.0;
    assert_eq!(status(&got), 482);
}

#[tokio::test]
async fn malformed_input_is_answered_or_dropped_and_service_continues() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    uac.send_to(b"\x00\xffgarbage that is not SIP", h.udp)
        .await
        .unwrap();
    let bad = call(local, "UDP", "call-bad").replace("CSeq: 1 INVITE", "CSeq: one INVITE");
    uac.send_to(bad.as_bytes(), h.udp).await.unwrap();
    let got = recv(&uac).await;
    assert_eq!(status(&got), 400);
    let phrase = got.lines().next().unwrap();
    assert!(
        phrase.len() > "SIP/2.0 400 ".len(),
        "the reason names the problem: {phrase}"
    );

    let big = invite(
        local,
        "UDP",
        "call-big",
        "z9hG4bK-big",
        CALLER,
        CALLEE,
        &format!("X-Pad: {}\r\n", "a".repeat(20_000)),
    );
    uac.send_to(big.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 513);

    next_at_uas_is(&h, &uac, "call-fine").await;
    h.assert_metric("callsign_parse_errors_total{cause=\"request\"} 2")
        .await;
    h.assert_metric("callsign_parse_errors_total{cause=\"oversized\"} 1")
        .await;
}

#[tokio::test]
async fn untrusted_identity_from_the_trunk_is_replaced() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let inv = invite(
        local,
        "UDP",
        "call-id-strip",
        "z9hG4bK-strip",
        CALLER,
        CALLEE,
        "Identity: forged.token.sig;info=<https://evil.example/x.pem>\r\n",
    );
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let (fwd, _) = recv_from(h.uas_udp()).await;
    let msg = Message::parse(fwd.as_bytes()).unwrap();
    let identities: Vec<_> = msg.header_values(HeaderName::Identity).collect();
    assert_eq!(identities.len(), 1);
    assert!(!identities[0].contains("forged"));
    verify_identity(identities[0], &h.leaf_public_key);
}

#[tokio::test]
async fn sub_account_gets_b_and_unparseable_numbers_are_forwarded_unsigned() {
    let h = TestServer::new().start().await;
    let sub = uac("127.0.0.2").await;
    let local = sub.local_addr().unwrap();
    let inv = invite(
        local,
        "UDP",
        "call-sub",
        "z9hG4bK-sub",
        "2675550199",
        CALLEE,
        "",
    );
    sub.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let (fwd, _) = recv_from(h.uas_udp()).await;
    let claims = verify_identity(
        &header(&fwd, HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    assert_eq!(claims["attest"], "B");

    let inv = invite(
        local,
        "UDP",
        "call-anon",
        "z9hG4bK-anon",
        "anonymous",
        CALLEE,
        "",
    );
    sub.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let (fwd, _) = recv_until(h.uas_udp(), |m| m.contains("call-anon")).await;
    assert!(header(&fwd, HeaderName::Identity).is_none());
    h.assert_metric("callsign_calls_unsigned_total{cause=\"orig_not_a_number\"} 1")
        .await;
}

#[tokio::test]
async fn trust_reload_changes_the_level_of_the_next_call() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let call = |id: &str| {
        invite(
            local,
            "UDP",
            id,
            &format!("z9hG4bK-{id}"),
            "2155550122",
            CALLEE,
            "",
        )
    };

    uac.send_to(call("before").as_bytes(), h.udp).await.unwrap();
    let (fwd, _) = recv_from(h.uas_udp()).await;
    let claims = verify_identity(
        &header(&fwd, HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    assert_eq!(claims["attest"], "B", "number owned but not on the profile");

    // A broken file leaves the current data in place.
    std::fs::write(h.path("trust.json"), "{ not json").unwrap();
    h.reload().await;
    uac.send_to(call("broken").as_bytes(), h.udp).await.unwrap();
    let (fwd, _) = recv_until(h.uas_udp(), |m| m.contains("Call-ID: broken")).await;
    let claims = verify_identity(
        &header(&fwd, HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    assert_eq!(claims["attest"], "B");

    // Put the second number on the profile and the product: the next call is A.
    let mut data: serde_json::Value = serde_json::from_str(TRUST).unwrap();
    let cea = data["channel_endpoint_assignments"].as_array_mut().unwrap();
    for (sid, bundle) in [
        (
            "RA000000000000000000000000000000e1",
            "BU000000000000000000000000000000a1",
        ),
        (
            "RA000000000000000000000000000000e2",
            "BU000000000000000000000000000000b1",
        ),
    ] {
        cea.push(serde_json::json!({"sid": sid, "bundle_sid": bundle,
            "channel_endpoint_sid": "PN00000000000000000000000000000002", "channel_endpoint_type": "phone-number"}));
    }
    std::fs::write(h.path("trust.json"), data.to_string()).unwrap();
    h.reload().await;
    uac.send_to(call("after").as_bytes(), h.udp).await.unwrap();
    let (fwd, _) = recv_until(h.uas_udp(), |m| m.contains("Call-ID: after")).await;
    let claims = verify_identity(
        &header(&fwd, HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    assert_eq!(claims["attest"], "A");
    h.assert_metric("callsign_trust_reloads_total{cause=\"error\"} 1")
        .await;
    h.assert_metric("callsign_trust_reloads_total{cause=\"ok\"} 1")
        .await;
}

#[tokio::test]
async fn x5u_chain_is_served_with_its_content_type_and_cache_control() {
    let h = TestServer::new().start().await;
    let resp = h.http_get("/certs/chain.pem").await;
    let lower = resp.to_ascii_lowercase();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(lower.contains("content-type: application/pem-certificate-chain"));
    assert!(lower.contains("cache-control: public, max-age=86400"));
    let chain = std::fs::read_to_string(h.path("pki/chain.pem")).unwrap();
    assert!(resp.ends_with(&chain));
    assert_eq!(
        chain.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf and intermediate"
    );

    // The STI-PA's CRL is served beside the chain, where the leaf's CRL Distribution
    // Point names it.
    let resp = h.http_get_bytes("/certs/sti-pa.crl").await;
    let crl = std::fs::read(h.path("pki/sti-pa.crl")).unwrap();
    let head = String::from_utf8_lossy(&resp[..resp.len() - crl.len()]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/pkix-crl"),
        "{head}"
    );
    assert!(resp.ends_with(&crl));
}

#[tokio::test]
async fn forged_responses_are_dropped() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let (_, fwd, proxy) = ringing(&h, &uac, "call-forged").await;
    // An attacker who guesses our transaction id but not the keyed hash in the branch.
    let branch = Message::parse(fwd.as_bytes())
        .unwrap()
        .top_via()
        .unwrap()
        .branch
        .unwrap()
        .to_string();
    let (_, id) = branch.rsplit_once('.').unwrap();
    let forged_branch = format!("z9hG4bKcs0123456789abcdef.{id}");
    let forged = respond(&fwd, 603, "Decline", "").replace(&branch, &forged_branch);
    let attacker = common::uac("127.0.0.7").await;
    attacker.send_to(forged.as_bytes(), h.udp).await.unwrap();
    // The genuine answer is what reaches the caller.
    h.uas_udp()
        .send_to(respond(&fwd, 200, "OK", "").as_bytes(), proxy)
        .await
        .unwrap();
    assert_eq!(status(&recv(&uac).await), 200);
    h.assert_metric("callsign_parse_errors_total{cause=\"response_forged\"} 1")
        .await;
}

#[tokio::test]
async fn a_second_caller_identity_is_refused_with_its_name_and_never_forwarded() {
    let h = TestServer::new().start().await;
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    for (call_id, with, status_line) in second_caller_identities() {
        let inv = call(local, "UDP", call_id).replacen(CALL_FROM, &with, 1);
        uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
        let got = recv_until(&uac, |m| status(m) != 100).await.0;
        assert_eq!(got.lines().next(), Some(status_line), "{call_id}");
    }
    // RFC 3261 21.5.7: an unsupported version is 505, not 400.
    let seven = call(local, "UDP", "sip-7").replacen("SIP/2.0", "SIP/7.0", 1);
    uac.send_to(seven.as_bytes(), h.udp).await.unwrap();
    let got = recv(&uac).await;
    assert_eq!(
        got.lines().next(),
        Some("SIP/2.0 505 Version Not Supported")
    );
    // The next call is the first thing the carrier sees.
    next_at_uas_is(&h, &uac, "call-after").await;
    h.assert_metric("callsign_requests_rejected_total{cause=\"conflicting_identity\"} 1")
        .await;
    h.assert_metric("callsign_parse_errors_total{cause=\"request\"} 3")
        .await;
}
