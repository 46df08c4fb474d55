//! A trunk's origination URLs over the API, in Twilio's shape, and the proxy using them:
//! a provisioned trunk's calls go to its enabled URLs by priority, and move to the next
//! one when a carrier answers 503; addresses the policy refuses, host names, TLS and
//! another account's trunk are refused with nothing stored.

mod common;

use common::api::*;
use common::*;
use serde_json::Value;
use tokio::net::UdpSocket;

fn sid_of(v: &Value) -> String {
    v["sid"].as_str().expect("a sid").to_owned()
}

fn url_form<'a>(name: &'a str, sip_url: &'a str, priority: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("FriendlyName", name),
        ("SipUrl", sip_url),
        ("Priority", priority),
        ("Weight", "10"),
        ("Enabled", "true"),
    ]
}

/// A test carrier on its own loopback address, and its `sip:` URL.
async fn carrier(ip: &str) -> (UdpSocket, String) {
    let sock = UdpSocket::bind(format!("{ip}:0")).await.unwrap();
    let url = format!("sip:{}", sock.local_addr().unwrap());
    (sock, url)
}

fn is_invite(call_id: &str) -> impl Fn(&str) -> bool + '_ {
    move |m| m.starts_with("INVITE ") && m.contains(&format!("Call-ID: {call_id}\r\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_to_the_first_origination_url_and_fail_over_on_503() {
    let (h, api) = hub_on(TestServer::new().local_origination()).await;
    let newco = api.account(&Creds::operator(), "Newco").await;
    let ip = "127.0.0.15";
    let trunk = api.trunk_at(&newco, ip).await;
    let urls = format!("/v1/Trunks/{trunk}/OriginationUrls");
    let (primary, primary_url) = carrier("127.0.0.21").await;
    let (backup, backup_url) = carrier("127.0.0.22").await;
    let first = api
        .ok(&urls, &newco, &url_form("primary", &primary_url, "10"))
        .await;
    assert_eq!(first["sip_url"], primary_url.as_str());
    assert_eq!(first["priority"], 10);
    assert_eq!(first["enabled"], true);
    assert!(first["url"].as_str().unwrap().ends_with(&sid_of(&first)));
    api.ok(&urls, &newco, &url_form("backup", &backup_url, "20"))
        .await;

    let uac = uac(ip).await;
    let local = uac.local_addr().unwrap();
    let inv = invite(
        local,
        "UDP",
        "ou-1",
        "z9hG4bK-ou-1",
        "2155550177",
        "2155550199",
        "",
    );
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    // The primary carrier gets the signed call, and is overloaded.
    let (at_primary, proxy) = recv_until(&primary, is_invite("ou-1")).await;
    let identity = header(&at_primary, callsign::sip::HeaderName::Identity).expect("signed");
    let busy = respond(&at_primary, 503, "Service Unavailable", "");
    primary.send_to(busy.as_bytes(), proxy).await.unwrap();
    let (ack, _) = recv_from(&primary).await;
    assert!(ack.starts_with("ACK "), "{ack}");
    // The backup gets the same call (same PASSporT) under a new branch.
    let (at_backup, proxy) = recv_until(&backup, is_invite("ou-1")).await;
    assert_eq!(
        header(&at_backup, callsign::sip::HeaderName::Identity).as_deref(),
        Some(identity.as_str())
    );
    let top_via = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("Via: "))
            .unwrap()
            .to_owned()
    };
    assert_ne!(top_via(&at_primary), top_via(&at_backup));
    let ok = respond(&at_backup, 200, "OK", "");
    backup.send_to(ok.as_bytes(), proxy).await.unwrap();
    // The trunk hears the backup's answer and nothing of the 503.
    let (answer, _) = recv_until(&uac, |m| {
        m.starts_with("SIP/2.0 ") && !m.starts_with("SIP/2.0 100")
    })
    .await;
    assert!(answer.starts_with("SIP/2.0 200 OK"), "{answer}");
    h.assert_metric("callsign_origination_failovers_total 1")
        .await;

    // Disabled, the primary is skipped: the next call goes straight to the backup.
    let primary_sid = sid_of(&first);
    api.ok(
        &format!("{urls}/{primary_sid}"),
        &newco,
        &[("Enabled", "false")],
    )
    .await;
    let inv = invite(
        local,
        "UDP",
        "ou-2",
        "z9hG4bK-ou-2",
        "2155550177",
        "2155550199",
        "",
    );
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    recv_until(&backup, is_invite("ou-2")).await;

    // The carriers' addresses are the upstream's now: their requests are in-dialog or
    // refused as the upstream's, not as an unknown source's.
    let stray = UdpSocket::bind("127.0.0.22:0").await.unwrap();
    let options = invite(
        stray.local_addr().unwrap(),
        "UDP",
        "ou-stray",
        "z9hG4bK-ou-stray",
        "2155550199",
        "2155550177",
        "",
    );
    stray.send_to(options.as_bytes(), h.udp).await.unwrap();
    let (refused, _) = recv_from(&stray).await;
    assert!(refused.starts_with("SIP/2.0 403"), "{refused}");
    h.assert_metric("callsign_requests_rejected_total{cause=\"upstream_initial_request\"} 1")
        .await;
}

#[tokio::test]
async fn bad_origination_urls_are_refused_and_change_nothing() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let newco = api.account(&op, "Newco").await;
    let other = api.account(&op, "Other").await;
    let trunk = api.trunk_at(&newco, "127.0.0.16").await;
    let urls = format!("/v1/Trunks/{trunk}/OriginationUrls");
    for (form, why) in [
        (url_form("x", "sip:127.0.0.1:5060", "1"), "special-purpose"),
        (url_form("x", "sip:10.1.2.3", "1"), "special-purpose"),
        (url_form("x", "sip:169.254.169.254", "1"), "special-purpose"),
        (url_form("x", "sip:[::1]:5060", "1"), "special-purpose"),
        (url_form("x", "sip:carrier.example.com", "1"), "host names"),
        (url_form("x", "sips:93.184.216.34", "1"), "TLS"),
        (url_form("x", "sip:93.184.216.34;transport=tls", "1"), "TLS"),
        (url_form("x", "http://93.184.216.34/", "1"), "SipUrl"),
        (url_form("x", "sip:93.184.216.34:0", "1"), "SipUrl"),
        (url_form("x", "sip:93.184.216.34:99999", "1"), "SipUrl"),
        (url_form("x", "sip:93.184.216.34", "65536"), "Priority"),
        (url_form("x", "sip:93.184.216.34", "-1"), "Priority"),
        (vec![("SipUrl", "sip:93.184.216.34")], "required"),
    ] {
        assert_refused(&api.post(&urls, &newco, &form).await, why);
    }
    let mut zero = url_form("x", "sip:93.184.216.34", "1");
    zero[3] = ("Weight", "0");
    assert_refused(&api.post(&urls, &newco, &zero).await, "Weight");
    let mut maybe = url_form("x", "sip:93.184.216.34", "1");
    maybe[4] = ("Enabled", "yes");
    assert_refused(&api.post(&urls, &newco, &maybe).await, "Enabled");
    // Another account's trunk is not there at all.
    let (s, _) = api
        .post(&urls, &other, &url_form("x", "sip:93.184.216.34", "1"))
        .await;
    assert_eq!(s, 404);
    let (_, list) = api.get(&urls, &newco, &[]).await;
    assert!(sids(&list, "origination_urls").is_empty(), "{list}");

    // One transport per trunk, and ten URLs at most.
    api.ok(&urls, &newco, &url_form("a", "sip:93.184.216.34", "1"))
        .await;
    assert_refused(
        &api.post(
            &urls,
            &newco,
            &url_form("b", "sip:93.184.216.35;transport=tcp", "2"),
        )
        .await,
        "one transport",
    );
    for n in 1..10 {
        let url = format!("sip:93.184.216.{}", 40 + n);
        api.ok(&urls, &newco, &url_form("more", &url, "5")).await;
    }
    assert_refused(
        &api.post(&urls, &newco, &url_form("11th", "sip:93.184.216.99", "5"))
            .await,
        "At most 10",
    );
    // Deleting the trunk takes its URLs with it.
    let (s, _) = api.delete(&format!("/v1/Trunks/{trunk}"), &newco).await;
    assert_eq!(s, 204);
}
