//! RFC 9410's feedback through the real proxy: a carrier's INVITE whose Identity headers
//! fail verification is forwarded (or refused), and the report goes where `[verify]
//! feedback` says: `Reason: STIR` on the first response back to the caller other than
//! 100 (`response`, the default), `Reason: SIP` on the forwarded INVITE (`request`), or
//! both. The test is the carrier (a UAC on 127.0.0.1) and the UAS behind the proxy; the
//! certificates come from a dev PKI served on 127.0.0.1:0.

mod common;

use std::net::SocketAddr;

use callsign::proxy::{Feedback, OnFailure};
use callsign::sip::{HeaderName, Message};
use common::pki_server::PkiServer;
use common::*;
use tokio::net::UdpSocket;

/// What the one failed header of a tampered call is reported as.
const E18: &str = "STIR;cause=438;text=\"Invalid Identity Header\"";

/// A PKI served over http, and a verifying server trusting its root.
async fn verifier(on_failure: OnFailure, feedback: Feedback) -> (PkiServer, Harness) {
    let pki = PkiServer::start(now_unix());
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    callsign::certs::dev::write(&pki_dir, &pki.pki).unwrap();
    let h = TestServer::verifying(&pki_dir, on_failure)
        .verify(|v| v.feedback = feedback)
        .start_in(dir)
        .await;
    (pki, h)
}

/// A valid Identity header value for a call from +1 215 555 0121 to 0131.
fn valid(pki: &PkiServer) -> String {
    pki.identity("/chain.pem", now_unix())
}

/// `value` with one character of its signature changed: E18, 438, TN-Validation-Failed.
fn tampered(value: &str) -> String {
    let jws_end = value.find(';').unwrap();
    let at = value[..jws_end].rfind('.').unwrap() + 11;
    let flipped = if &value[at..at + 1] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &value[..at], &value[at + 1..])
}

/// `value` with an info URI other than its x5u: E10, 436 Bad Identity Info.
fn elsewhere(pki: &PkiServer, value: &str) -> String {
    let jws = value.split(';').next().unwrap();
    format!(
        "{jws};info=<{}>;alg=ES256;ppt=shaken",
        pki.url("/other.pem")
    )
}

/// `..` and the signature of an Identity value: its PASSporT's compact form.
fn compact(value: &str) -> String {
    let jws = value.split(';').next().unwrap();
    format!("..{}", jws.rsplit('.').next().unwrap())
}

/// Sends a call carrying `identities` from a fresh UAC to the verifier; returns the UAC,
/// and the INVITE as the UAS got it with the address it came from.
async fn place(
    h: &Harness,
    call_id: &str,
    identities: &[String],
) -> (UdpSocket, String, SocketAddr) {
    let extra: String = identities
        .iter()
        .map(|v| format!("Identity: {v}\r\n"))
        .collect();
    let uac = send_invite(
        h.udp,
        "127.0.0.1",
        call_id,
        ("+12155550121", "+12155550131"),
        None,
        &extra,
    )
    .await;
    let (invite, proxy) = recv_until(h.uas_udp(), |m| {
        m.starts_with("INVITE ") && m.contains(&format!("Call-ID: {call_id}\r\n"))
    })
    .await;
    (uac, invite, proxy)
}

/// The UAS answers `invite` with `status`, through the proxy at `proxy`.
async fn answer(h: &Harness, invite: &str, proxy: SocketAddr, status: u16, extra: &str) {
    let reason = match status {
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        486 => "Busy Here",
        _ => "Other",
    };
    let resp = respond(invite, status, reason, extra);
    h.uas_udp().send_to(resp.as_bytes(), proxy).await.unwrap();
}

/// The next response the UAC gets with this status.
async fn next(uac: &UdpSocket, status_code: u16) -> String {
    recv_until(uac, |m| status(m) == status_code).await.0
}

/// The Reason values of a message, in order.
fn reasons(msg: &str) -> Vec<String> {
    Message::parse(msg.as_bytes())
        .unwrap()
        .header_values(HeaderName::Reason)
        .map(str::to_string)
        .collect()
}

fn verstat(invite: &str) -> String {
    let from = header(invite, HeaderName::From).unwrap();
    let v = from.split("verstat=").nth(1).expect("a verstat");
    v.split(['@', ';', '>']).next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_is_reported_on_the_first_provisional_and_only_there() {
    let (pki, h) = verifier(OnFailure::Forward, Feedback::Response).await;
    let (uac, invite, proxy) = place(&h, "fb-ring", &[tampered(&valid(&pki))]).await;
    assert_eq!(verstat(&invite), "TN-Validation-Failed");
    assert!(reasons(&invite).is_empty(), "not on the INVITE: {invite}");

    // The proxy's own 100 Trying is hop-by-hop: nothing on it.
    let trying = next(&uac, 100).await;
    assert!(reasons(&trying).is_empty(), "{trying}");
    answer(&h, &invite, proxy, 180, "").await;
    let ringing = next(&uac, 180).await;
    assert_eq!(reasons(&ringing), [E18], "{ringing}");
    // The UAS repeats its 180, then answers: the report is not given twice.
    answer(&h, &invite, proxy, 180, "").await;
    let again = next(&uac, 180).await;
    assert!(reasons(&again).is_empty(), "{again}");
    answer(&h, &invite, proxy, 200, "").await;
    let ok = next(&uac, 200).await;
    assert!(reasons(&ok).is_empty(), "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_answer_carries_the_report_beside_its_own_reason() {
    let (pki, h) = verifier(OnFailure::Forward, Feedback::Response).await;
    let (uac, invite, proxy) = place(&h, "fb-busy", &[tampered(&valid(&pki))]).await;
    let theirs = "Q.850;cause=17;text=\"User busy\"";
    answer(&h, &invite, proxy, 486, &format!("Reason: {theirs}")).await;
    let busy = next(&uac, 486).await;
    assert_eq!(reasons(&busy), [theirs, E18], "{busy}");
    assert!(
        busy.contains(&format!("\r\nReason: {theirs}\r\n")),
        "{busy}"
    );

    // The UAS's retransmission is absorbed; the UAC's retransmitted INVITE gets the
    // same 486 again, still with one report.
    answer(&h, &invite, proxy, 486, &format!("Reason: {theirs}")).await;
    let local = uac.local_addr().unwrap();
    let retransmission = invite_from(local, "fb-busy");
    uac.send_to(retransmission.as_bytes(), h.udp).await.unwrap();
    let repeated = next(&uac, 486).await;
    assert_eq!(repeated, busy);
}

/// The INVITE [`place`] sends (with no Identity header: a retransmission is matched by
/// its branch and never looked at again).
fn invite_from(local: SocketAddr, call_id: &str) -> String {
    let branch = format!("z9hG4bK-{call_id}");
    invite(
        local,
        "UDP",
        call_id,
        &branch,
        "+12155550121",
        "+12155550131",
        "",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_mode_reports_on_the_invite_only_and_both_mode_on_both() {
    for (feedback, on_invite, upstream) in [
        (Feedback::Request, true, false),
        (Feedback::Both, true, true),
    ] {
        let (pki, h) = verifier(OnFailure::Forward, feedback).await;
        let (uac, invite, proxy) = place(&h, "fb-mode", &[tampered(&valid(&pki))]).await;
        let sip = "SIP;cause=438;text=\"Invalid Identity Header\"";
        let expected: &[&str] = if on_invite { &[sip] } else { &[] };
        assert_eq!(reasons(&invite), expected, "{feedback:?}");
        answer(&h, &invite, proxy, 180, "").await;
        let ringing = next(&uac, 180).await;
        let expected: &[&str] = if upstream { &[E18] } else { &[] };
        assert_eq!(reasons(&ringing), expected, "{feedback:?}: {ringing}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_call_gets_no_reason_either_way() {
    let (pki, h) = verifier(OnFailure::Forward, Feedback::Both).await;
    let (uac, invite, proxy) = place(&h, "fb-pass", &[valid(&pki)]).await;
    assert_eq!(verstat(&invite), "TN-Validation-Passed");
    assert!(reasons(&invite).is_empty(), "{invite}");
    answer(&h, &invite, proxy, 180, "").await;
    assert!(reasons(&next(&uac, 180).await).is_empty());
    answer(&h, &invite, proxy, 200, "").await;
    assert!(reasons(&next(&uac, 200).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_failed_identity_headers_are_reported_one_reason_each_named_by_ppi() {
    let (pki, h) = verifier(OnFailure::Forward, Feedback::Response).await;
    let token = valid(&pki);
    let (forged, moved) = (tampered(&token), elsewhere(&pki, &token));
    let (uac, invite, proxy) = place(&h, "fb-two", &[forged.clone(), moved.clone()]).await;
    // The first shaken header's failure speaks for the call.
    assert_eq!(verstat(&invite), "TN-Validation-Failed");
    answer(&h, &invite, proxy, 183, "").await;
    let progress = next(&uac, 183).await;
    assert_eq!(
        reasons(&progress),
        [
            format!("{E18};ppi=\"{}\"", compact(&forged)),
            format!(
                "STIR;cause=436;text=\"Bad Identity Info\";ppi=\"{}\"",
                compact(&moved)
            ),
        ],
        "{progress}"
    );
    assert_ne!(compact(&forged), compact(&moved));
    answer(&h, &invite, proxy, 200, "").await;
    assert!(reasons(&next(&uac, 200).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_reports_each_header_only_when_there_are_several() {
    let (pki, h) = verifier(OnFailure::Reject, Feedback::Response).await;
    let token = valid(&pki);
    // One header: the 438 itself is the report, as before.
    let uac = send_invite(
        h.udp,
        "127.0.0.1",
        "fb-reject-one",
        ("+12155550121", "+12155550131"),
        None,
        &format!("Identity: {}\r\n", tampered(&token)),
    )
    .await;
    let refused = recv_until(&uac, |m| status(m) >= 200).await.0;
    assert_eq!(status(&refused), 438, "{refused}");
    assert!(reasons(&refused).is_empty(), "{refused}");
    // Two: the 438 names each failed header.
    let (forged, moved) = (tampered(&token), elsewhere(&pki, &token));
    let uac = send_invite(
        h.udp,
        "127.0.0.1",
        "fb-reject-two",
        ("+12155550121", "+12155550131"),
        None,
        &format!("Identity: {forged}\r\nIdentity: {moved}\r\n"),
    )
    .await;
    let refused = recv_until(&uac, |m| status(m) >= 200).await.0;
    assert_eq!(status(&refused), 438, "{refused}");
    assert_eq!(
        reasons(&refused),
        [
            format!("{E18};ppi=\"{}\"", compact(&forged)),
            format!(
                "STIR;cause=436;text=\"Bad Identity Info\";ppi=\"{}\"",
                compact(&moved)
            ),
        ]
    );
}
