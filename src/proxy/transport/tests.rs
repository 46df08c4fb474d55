//! The TLS handshake bound, on a paused clock: a peer that connects and never speaks
//! holds its connection for `[sip.tls] handshake_timeout_ms` and no longer.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::*;
use crate::certs::dev_tls::DevTlsCa;
use crate::proxy::testing;
use crate::proxy::tls::TlsFiles;

fn shell(handshake_timeout: Duration, dir: &std::path::Path) -> Arc<Shell> {
    let ca = DevTlsCa::new("test CA").unwrap();
    let cert = ca.issue(&["127.0.0.1"]).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let files = TlsFiles {
        section: "[sip.tls]",
        certificate: write("chain.pem", &cert.chain_pem),
        key: write("key.pem", &cert.key_pem),
        ca: Some(write("ca.pem", &ca.pem)),
        client_ca: None,
    };
    let tls = SipTls::load(files, handshake_timeout).unwrap();
    let (ctx, _) = testing::context();
    let (engine, _) = mpsc::channel(1);
    let shutdown = CancellationToken::new();
    Shell::new(
        Arc::new(ctx),
        None,
        Some(Arc::new(tls)),
        Vec::new(),
        engine,
        shutdown,
    )
}

fn counted(shell: &Shell, cause: TlsFailure) -> bool {
    let text = shell.ctx.metrics.render();
    let sample = format!("callsign_tls_handshake_failures_total{{cause=\"{cause}\"}} 1");
    text.contains(&sample)
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_dropped_when_its_handshake_time_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(5_000);
    let shell = shell(timeout, dir.path());
    let (_silent, ours) = tokio::io::duplex(4096);
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let started = tokio::time::Instant::now();
    let accepted = shell.accept_tls(addr, ours).await;
    assert!(accepted.is_none());
    // The paused clock moved only as far as the timeout.
    assert_eq!(started.elapsed(), timeout);
    assert!(counted(&shell, TlsFailure::Timeout));
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_trickles_a_hello_is_still_bounded_by_the_same_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(5_000);
    let shell = shell(timeout, dir.path());
    let (mut slow, ours) = tokio::io::duplex(4096);
    let addr: SocketAddr = "127.0.0.1:40001".parse().unwrap();
    // A TLS record header, then one byte a second: each byte is progress, but the
    // handshake as a whole still has only its timeout.
    let trickle = async move {
        slow.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
            .await
            .unwrap();
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if slow.write_all(&[0x01]).await.is_err() {
                return;
            }
        }
    };
    let started = tokio::time::Instant::now();
    let (accepted, ()) = tokio::join!(shell.accept_tls(addr, ours), trickle);
    assert!(accepted.is_none());
    assert!(started.elapsed() >= timeout);
    assert!(counted(&shell, TlsFailure::Timeout));
}

#[tokio::test]
async fn bytes_that_are_not_tls_end_the_handshake_as_a_protocol_failure() {
    let dir = tempfile::tempdir().unwrap();
    let shell = shell(Duration::from_secs(5), dir.path());
    for (i, garbage) in [
        &b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n"[..],
        // A handshake record claiming 65,535 bytes: over TLS's 16 KiB (plus expansion).
        &[0x16, 0x03, 0x03, 0xff, 0xff, 0x01, 0x00][..],
    ]
    .into_iter()
    .enumerate()
    {
        let (mut peer, ours) = tokio::io::duplex(4096);
        peer.write_all(garbage).await.unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], 40_010 + i as u16));
        assert!(shell.accept_tls(addr, ours).await.is_none());
    }
    let text = shell.ctx.metrics.render();
    assert!(
        text.contains("callsign_tls_handshake_failures_total{cause=\"protocol\"} 2"),
        "{text}"
    );
}
