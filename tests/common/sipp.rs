//! SIPp as the test UAC and UAS: place calls through a harness whose upstream is a SIPp
//! UAS, and read the Identity headers the UAS received from its message trace.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;

use super::{Harness, verify_identity};

/// A free loopback UDP port for SIPp, which cannot report the port it bound.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path of the SIPp scenario `name` in tests/sipp.
pub fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
        .display()
        .to_string()
}

/// The INVITEs in a SIPp message trace, each as SIPp traced it.
fn invites(trace: &str) -> Vec<String> {
    trace
        .split("\n\n")
        .filter(|block| block.contains("INVITE sip:"))
        .map(str::to_string)
        .collect()
}

/// The Identity value of each traced INVITE that has one.
fn identities(invites: &[String]) -> Vec<String> {
    invites
        .iter()
        .filter_map(|block| {
            block
                .lines()
                .find(|l| l.starts_with("Identity:"))
                .map(|l| l.trim_start_matches("Identity:").trim().to_string())
        })
        .collect()
}

/// Places `calls` SIPp calls from a UAC on `trunk_ip` with calling number `caller` to
/// `target`, where the calls must end at a SIPp UAS on `uas_port`. Every call must
/// complete; returns each INVITE the UAS received, as traced in `dir`.
pub async fn invites_at_uas(
    target: SocketAddr,
    dir: &Path,
    uas_port: u16,
    caller: &str,
    trunk_ip: &str,
    calls: u32,
    tag: &str,
) -> Vec<String> {
    let trace = dir.join(format!("uas_{tag}.log"));
    let _ = std::fs::remove_file(&trace);
    let uas = Command::new("sipp")
        .args(["-sf", &scenario("uas.xml"), "-i", "127.0.0.1"])
        .args(["-p", &uas_port.to_string()])
        .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "60s"])
        .args(["-trace_msg", "-message_file", &trace.display().to_string()])
        .arg("-trace_err")
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sipp is installed (Debian package sip-tester)");
    // Should the UAC's first INVITE beat the UAS to its socket, the proxy's Timer A
    // retransmission delivers it.
    let out = uac_calls(target, dir, trunk_ip, caller, calls, 25).await;
    // The UAS exits after its last call (bounded by its -timeout); its trace then holds
    // every INVITE.
    every_call_completed(out, uas).await;
    let invites = invites(&std::fs::read_to_string(&trace).unwrap());
    assert_eq!(
        invites.len() as u32,
        calls,
        "one INVITE per call at the UAS"
    );
    invites
}

/// Runs SIPp's UAC (tests/sipp/uac.xml) on `trunk_ip`: `calls` calls from `caller` to
/// 2155550131 through `target`, `rate` a second with at most `rate` at once (or all of
/// them, when fewer), tracing errors in `dir`. Its output once it has finished.
pub async fn uac_calls(
    target: SocketAddr,
    dir: &Path,
    trunk_ip: &str,
    caller: &str,
    calls: u32,
    rate: u32,
) -> std::process::Output {
    let uac_port = free_udp_port();
    let dir = dir.to_owned();
    let (caller, trunk_ip) = (caller.to_string(), trunk_ip.to_string());
    let (calls, rate) = (calls.to_string(), rate.to_string());
    tokio::task::spawn_blocking(move || {
        Command::new("sipp")
            .args(["-sf", &scenario("uac.xml"), "-i", &trunk_ip])
            .args(["-p", &uac_port.to_string()])
            .args(["-key", "caller", &caller, "-s", "2155550131"])
            .args(["-m", &calls, "-r", &rate, "-l", &rate])
            .args([
                "-nostdin",
                "-timeout",
                "60s",
                "-timeout_error",
                "-trace_err",
            ])
            .arg(target.to_string())
            .current_dir(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Asserts that every call of a finished SIPp UAC (its output `uac`) and of the SIPp UAS
/// `uas` completed, waiting for the UAS to exit (bounded by its `-timeout`).
pub async fn every_call_completed(uac: std::process::Output, mut uas: std::process::Child) {
    assert!(
        uac.status.success(),
        "SIPp UAC reported failed calls: {}\n{}",
        String::from_utf8_lossy(&uac.stdout),
        String::from_utf8_lossy(&uac.stderr)
    );
    let uas_status = tokio::task::spawn_blocking(move || uas.wait().unwrap())
        .await
        .unwrap();
    assert!(uas_status.success(), "SIPp UAS reported failed calls");
}

/// Places `calls` SIPp calls from a UAC on `trunk_ip` with calling number `caller`
/// through `h`, whose upstream must be a UAS on `uas_port`. Every call must complete;
/// returns the verified claims of every INVITE the UAS received.
pub async fn calls(
    h: &Harness,
    uas_port: u16,
    caller: &str,
    trunk_ip: &str,
    calls: u32,
    tag: &str,
) -> Vec<serde_json::Value> {
    let at = Target {
        sip: h.udp,
        dir: h.dir.path(),
        leaf_public_key: &h.leaf_public_key,
    };
    calls_to(&at, uas_port, caller, trunk_ip, calls, tag).await
}

/// A proxy SIPp calls through: where it takes SIP, a folder for SIPp's traces, and the
/// public key it signs with.
pub struct Target<'a> {
    pub sip: SocketAddr,
    pub dir: &'a Path,
    pub leaf_public_key: &'a [u8],
}

/// [`calls`] through any proxy, e.g. a `callsign serve` process.
pub async fn calls_to(
    at: &Target<'_>,
    uas_port: u16,
    caller: &str,
    trunk_ip: &str,
    calls: u32,
    tag: &str,
) -> Vec<serde_json::Value> {
    let invites = invites_at_uas(at.sip, at.dir, uas_port, caller, trunk_ip, calls, tag).await;
    let ids = identities(&invites);
    assert_eq!(
        ids.len() as u32,
        calls,
        "one signed INVITE per call at the UAS"
    );
    ids.iter()
        .map(|id| verify_identity(id, at.leaf_public_key))
        .collect()
}
