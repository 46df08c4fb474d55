//! The Kamailio example of docs/sbc.md, run as shipped (examples/kamailio/redirect-sbc.cfg,
//! only its three addresses set): Kamailio as an SBC sends a caller's INVITE to
//! callsign's redirect trunk, takes the Identity from the 302 and relays the INVITE to
//! its next hop, where the Identity verifies.
//!
//! Ignored by plain `cargo test`; `scripts/test.sh` installs Kamailio and runs it.

mod common;

use std::process::Stdio;
use std::time::Duration;

use callsign::proxy::Role;
use callsign::sip::HeaderName;
use common::*;

/// Where Debian's kamailio package keeps its modules.
fn module_dir() -> String {
    let out = std::process::Command::new("dpkg")
        .args(["-L", "kamailio"])
        .output()
        .expect("dpkg runs");
    let list = String::from_utf8_lossy(&out.stdout);
    let tm = list
        .lines()
        .find(|l| l.ends_with("/modules/tm.so"))
        .expect("kamailio's tm module is installed");
    tm.trim_end_matches("/tm.so").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs kamailio (Debian package kamailio); run by scripts/test.sh"]
async fn kamailio_takes_the_identity_from_callsigns_302_and_relays_the_call() {
    let mut trunk = signing_trunk("kamailio-sbc", ACME, "127.0.0.1");
    trunk.role = Role::Redirect;
    let h = TestServer::new().trunks(vec![trunk]).start().await;
    let next_hop = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let next_hop_addr = next_hop.local_addr().unwrap();
    let kamailio_port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };

    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/kamailio/redirect-sbc.cfg"
    ))
    .unwrap();
    let set = |text: String, from: &str, to: String| {
        assert!(text.contains(from), "the example has {from:?}");
        text.replacen(from, &to, 1)
    };
    let cfg = set(
        example,
        "!CALLSIGN_URI!sip:127.0.0.1:5060!g",
        format!("!CALLSIGN_URI!sip:{}!g", h.udp),
    );
    let cfg = set(
        cfg,
        "!NEXT_HOP_URI!sip:127.0.0.1:5080!g",
        format!("!NEXT_HOP_URI!sip:{next_hop_addr}!g"),
    );
    let cfg = set(
        cfg,
        "listen=udp:127.0.0.1:5070",
        format!("listen=udp:127.0.0.1:{kamailio_port}"),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kamailio.cfg");
    std::fs::write(&path, cfg).unwrap();
    let mut kamailio = tokio::process::Command::new("kamailio")
        .arg("-f")
        .arg(&path)
        .args([
            "-L",
            &module_dir(),
            "-DD",
            "-E",
            "-m",
            "64",
            "-M",
            "8",
            "-Y",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .expect("kamailio starts");
    let _workers = ProcessGroup(kamailio.id().expect("kamailio runs"));

    // The caller: until Kamailio is up, its INVITE goes unanswered; a few tries.
    let kamailio_addr: std::net::SocketAddr = format!("127.0.0.1:{kamailio_port}").parse().unwrap();
    let uac = uac("127.0.0.1").await;
    let local = uac.local_addr().unwrap();
    let inv = invite(
        local,
        "UDP",
        "kamailio-1",
        "z9hG4bK-kam1",
        "2155550121",
        "2155550131",
        "",
    );
    let mut relayed = None;
    for _ in 0..20 {
        uac.send_to(inv.as_bytes(), kamailio_addr).await.unwrap();
        let mut buf = vec![0u8; 65_536];
        if let Ok(Ok((n, _))) =
            tokio::time::timeout(Duration::from_millis(500), next_hop.recv_from(&mut buf)).await
        {
            relayed = Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            break;
        }
        if let Ok(Some(status)) = kamailio.try_wait() {
            panic!("kamailio exited: {status}");
        }
    }
    let relayed = relayed.expect("Kamailio relayed the INVITE to its next hop");
    assert!(relayed.starts_with("INVITE sip:2155550131@"), "{relayed}");
    let identity = header(&relayed, HeaderName::Identity).expect("the INVITE carries the Identity");
    let claims = verify_identity(&identity, &h.leaf_public_key);
    assert_eq!(
        (claims["attest"].as_str(), claims["orig"]["tn"].as_str()),
        (Some("A"), Some("12155550121"))
    );
    assert_eq!(claims["dest"]["tn"][0], "12155550131");
    // The call went through Kamailio, and callsign forwarded nothing itself.
    assert!(
        relayed.contains(&format!("127.0.0.1:{kamailio_port}")),
        "{relayed}"
    );
    let mut buf = [0u8; 4096];
    let quiet =
        tokio::time::timeout(Duration::from_millis(200), h.uas_udp().recv_from(&mut buf)).await;
    assert!(quiet.is_err(), "callsign's own upstream got nothing");
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1")
        .await;
    kamailio.kill().await.ok();
}

/// Kamailio forks its workers, which outlive a killed main process and keep running
/// after the test: the whole process group is killed when this drops, pass or fail.
struct ProcessGroup(u32);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .status();
    }
}
