//! SIP over TLS end to end (RFC 3261 section 26): trunks calling in over TLS, calls
//! forwarded to a TLS carrier by its name, trunks that require TLS or a client
//! certificate, the certificate reloaded on SIGHUP, and what the listener does with
//! peers that are not TLS. The test peers are plain rustls, not callsign's own code.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use callsign::certs::dev_tls::{DevTlsCa, DevTlsCert};
use callsign::config::SipTlsConfig;
use callsign::proxy::Transport;
use callsign::sip::{Frame, HeaderName, Message, frame};
use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The names callsign's certificate carries.
const OUR_NAMES: [&str; 2] = ["sip.callsign.test", "127.0.0.1"];

/// A CA, callsign's certificate from it, and the `[sip.tls]` table naming them (written
/// into `dir`), asking clients for certificates.
fn tls_setup(dir: &Path) -> (DevTlsCa, SipTlsConfig) {
    let ca = DevTlsCa::new("test SIP CA").unwrap();
    let ours = ca.issue(&OUR_NAMES).unwrap();
    let config = SipTlsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        certificate: write(dir, "sip-chain.pem", &ours.chain_pem),
        key: write(dir, "sip-key.pem", &ours.key_pem),
        ca: Some(write(dir, "sip-ca.pem", &ca.pem)),
        client_ca: Some(write(dir, "sip-client-ca.pem", &ca.pem)),
        handshake_timeout_ms: 5_000,
    };
    (ca, config)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca: &DevTlsCa) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

fn chain_and_key(cert: &DevTlsCert) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let chain = CertificateDer::pem_slice_iter(cert.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (
        chain,
        PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap(),
    )
}

/// A trunk's TLS client trusting `ca`, presenting `cert` if any.
fn connector(ca: &DevTlsCa, cert: Option<&DevTlsCert>) -> TlsConnector {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(ca));
    let config = match cert {
        Some(cert) => {
            let (chain, key) = chain_and_key(cert);
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

/// Connects to callsign's TLS listener by `name`.
async fn connect(to: SocketAddr, ca: &DevTlsCa, cert: Option<&DevTlsCert>, name: &str) -> Tls {
    let tcp = TcpStream::connect(to).await.unwrap();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    tokio::time::timeout(WAIT, connector(ca, cert).connect(name, tcp))
        .await
        .unwrap()
        .unwrap()
}

/// Reads one framed SIP message (`buf` keeps what follows it); None if the peer closed.
async fn read_msg<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Option<String> {
    let read = async {
        loop {
            match frame(buf, 65_535).unwrap() {
                Frame::Message(n) => {
                    let m = String::from_utf8(buf[..n].to_vec()).unwrap();
                    buf.drain(..n);
                    return Some(m);
                }
                Frame::KeepAlive(n) => {
                    buf.drain(..n);
                }
                Frame::Incomplete => {
                    let mut chunk = [0u8; 8192];
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return None,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("timed out reading a stream")
}

async fn send<S: AsyncWrite + Unpin>(s: &mut S, msg: &str) {
    s.write_all(msg.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
}

/// Whether callsign closes `s` (EOF or reset, after whatever alert it sends) before
/// [`WAIT`] runs out.
async fn closed<S: AsyncRead + Unpin>(s: &mut S) -> bool {
    let drained = async {
        let mut chunk = [0u8; 512];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(WAIT, drained).await.is_ok()
}

#[tokio::test]
async fn a_trunk_calls_over_tls_and_the_answer_returns_on_its_connection() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let h = TestServer::new().sip(|s| s.tls = Some(tls)).start().await;
    let mut conn = connect(h.tls.unwrap(), &ca, None, "sip.callsign.test").await;
    let local = conn.get_ref().0.local_addr().unwrap();
    send(&mut conn, &call(local, "TLS", "tls-1")).await;

    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await.unwrap()), 100);
    let (fwd, proxy) = recv_from(h.uas_udp()).await;
    let msg = Message::parse(fwd.as_bytes()).unwrap();
    let vias: Vec<_> = msg
        .vias()
        .map(|v| v.unwrap().transport.to_owned())
        .collect();
    assert_eq!(vias, ["UDP", "TLS"], "{fwd}");
    // TLS on one side, UDP on the other: two Record-Route entries (RFC 5658), the
    // second for the trunk's side with the TLS listener's port.
    let rr: Vec<_> = msg.header_values(HeaderName::RecordRoute).collect();
    let tls_port = h.tls.unwrap().port();
    assert!(rr[0].contains("transport=udp"), "{rr:?}");
    assert!(
        rr[1].contains(&format!(":{tls_port};transport=tls")),
        "{rr:?}"
    );
    let claims = verify_identity(
        msg.header(HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    assert_eq!(claims["attest"], "A");

    h.uas_udp()
        .send_to(respond(&fwd, 200, "OK", "").as_bytes(), proxy)
        .await
        .unwrap();
    let ok = read_msg(&mut conn, &mut buf).await.unwrap();
    assert_eq!(status(&ok), 200);
    assert_eq!(header(&ok, HeaderName::CallId).as_deref(), Some("tls-1"));

    // A message over the size limit, once inside TLS, is answered 513 and the
    // connection closed, as on TCP.
    let big = call(local, "TLS", "tls-big");
    let at = big.find("Content-Length:").unwrap();
    let big = format!("{}Content-Length: 70000\r\n\r\n", &big[..at]);
    send(&mut conn, &big).await;
    let refused = read_msg(&mut conn, &mut buf).await.unwrap();
    assert_eq!(status(&refused), 513, "{refused}");
    assert!(closed(&mut conn).await);
}

#[tokio::test]
async fn stopping_closes_an_established_tls_connection_with_close_notify() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let h = TestServer::new().sip(|s| s.tls = Some(tls)).start().await;
    let mut conn = connect(h.tls.unwrap(), &ca, None, "sip.callsign.test").await;
    let local = conn.get_ref().0.local_addr().unwrap();
    send(&mut conn, &call(local, "TLS", "tls-stop")).await;
    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await.unwrap()), 100);

    // The connection's writer runs beside the engine; it still says goodbye in TLS
    // (a clean end of stream, not a truncation) when the server stops.
    h.stop().await;
    let mut chunk = [0u8; 512];
    let end = tokio::time::timeout(WAIT, conn.read(&mut chunk))
        .await
        .unwrap();
    assert_eq!(end.unwrap(), 0, "close_notify, then end of stream");
}

/// A carrier listening for TLS as `name`, requiring a client certificate from `ca`.
async fn tls_carrier(ca: &DevTlsCa, name: &str) -> (TcpListener, TlsAcceptor) {
    let (chain, key) = chain_and_key(&ca.issue(&[name]).unwrap());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)), provider())
        .build()
        .unwrap();
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    (listener, TlsAcceptor::from(Arc::new(config)))
}

/// A call from a UDP trunk to a TLS carrier whose certificate names `carrier_name`,
/// which callsign reaches as `carrier.test`: the harness, the caller, and the TCP
/// connection callsign opened to the carrier, with the carrier's acceptor.
async fn call_to_tls_carrier(
    carrier_name: &str,
    call_id: &str,
) -> (
    Harness,
    tokio::net::UdpSocket,
    TcpStream,
    TlsAcceptor,
    tempfile::TempDir,
) {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let (listener, acceptor) = tls_carrier(&ca, carrier_name).await;
    let carrier = listener.local_addr().unwrap();
    let h = TestServer::new()
        .sip(|s| s.tls = Some(tls))
        .upstream_at(carrier)
        .upstream(|u| {
            u.transport = Transport::Tls;
            u.tls_name = Some("carrier.test".into());
        })
        .start()
        .await;
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", call_id);
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 100);
    let (tcp, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    (h, uac, tcp, acceptor, certs)
}

#[tokio::test]
async fn calls_reach_a_tls_carrier_by_its_name_with_our_client_certificate() {
    let (h, uac, tcp, acceptor, _certs) = call_to_tls_carrier("carrier.test", "to-tls").await;
    let mut conn = tokio::time::timeout(WAIT, acceptor.accept(tcp))
        .await
        .unwrap()
        .unwrap();
    // callsign presented its certificate, from the CA the carrier trusts.
    let presented = conn.get_ref().1.peer_certificates().unwrap()[0].clone();
    let (_, leaf) = x509_parser::parse_x509_certificate(&presented).unwrap();
    let san = leaf.subject_alternative_name().unwrap().unwrap();
    assert!(format!("{:?}", san.value).contains("sip.callsign.test"));

    let mut buf = Vec::new();
    let fwd = read_msg(&mut conn, &mut buf).await.unwrap();
    let msg = Message::parse(fwd.as_bytes()).unwrap();
    assert!(msg.top_via().unwrap().transport.eq_ignore_ascii_case("TLS"));
    verify_identity(
        msg.header(HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    send(&mut conn, &respond(&fwd, 486, "Busy Here", "")).await;
    assert_eq!(status(&recv(&uac).await), 486);
    // The failure is ACKed hop by hop on the same connection.
    let ack = read_msg(&mut conn, &mut buf).await.unwrap();
    assert_eq!(method(&ack).as_deref(), Some("ACK"));
}

#[tokio::test]
async fn a_carrier_whose_certificate_has_another_name_gets_nothing() {
    let (h, _uac, tcp, acceptor, _certs) =
        call_to_tls_carrier("impostor.test", "to-impostor").await;
    // callsign refuses the certificate, so the carrier's side of the handshake fails
    // and no INVITE crosses.
    assert!(acceptor.accept(tcp).await.is_err());
    h.assert_metric("callsign_tls_handshake_failures_total{cause=\"certificate\"} 1")
        .await;
}

#[tokio::test]
async fn a_trunk_that_requires_tls_is_refused_over_udp_and_served_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let mut acme = signing_trunk("acme", ACME, "127.0.0.1");
    acme.require_tls = true;
    let h = TestServer::new()
        .sip(|s| s.tls = Some(tls))
        .trunks(vec![acme])
        .start()
        .await;
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "plain");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    let refused = recv(&uac).await;
    assert_eq!(status(&refused), 403, "{refused}");
    assert!(refused.starts_with("SIP/2.0 403 TLS Required"), "{refused}");
    h.assert_metric("callsign_requests_rejected_total{cause=\"tls_required\"} 1")
        .await;

    let mut conn = connect(h.tls.unwrap(), &ca, None, "127.0.0.1").await;
    let local = conn.get_ref().0.local_addr().unwrap();
    send(&mut conn, &call(local, "TLS", "secure")).await;
    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await.unwrap()), 100);
    let (fwd, _) = recv_from(h.uas_udp()).await;
    assert_eq!(header(&fwd, HeaderName::CallId).as_deref(), Some("secure"));
}

#[tokio::test]
async fn a_mutual_tls_trunk_takes_only_connections_whose_certificate_names_it() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let other_ca = DevTlsCa::new("another CA").unwrap();
    let mut acme = signing_trunk("acme", ACME, "127.0.0.1");
    acme.tls_client_names = vec!["*.pbx.acme.test".into()];
    let h = TestServer::new()
        .sip(|s| s.tls = Some(tls))
        .trunks(vec![acme])
        .start()
        .await;
    let to = h.tls.unwrap();

    let named = ca.issue(&["edge1.pbx.acme.test"]).unwrap();
    let mut good = connect(to, &ca, Some(&named), "127.0.0.1").await;
    let local = good.get_ref().0.local_addr().unwrap();
    send(&mut good, &call(local, "TLS", "mtls")).await;
    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut good, &mut buf).await.unwrap()), 100);
    let (fwd, _) = recv_from(h.uas_udp()).await;
    assert_eq!(header(&fwd, HeaderName::CallId).as_deref(), Some("mtls"));

    // Another name, no certificate: the handshake completes on the client's side
    // (TLS 1.3), then callsign closes before any request is read.
    let wrong = ca.issue(&["pbx.other.test"]).unwrap();
    for cert in [Some(&wrong), None] {
        let mut conn = connect(to, &ca, cert, "127.0.0.1").await;
        let local = conn.get_ref().0.local_addr().unwrap();
        let _ = conn
            .write_all(call(local, "TLS", "refused").as_bytes())
            .await;
        assert!(closed(&mut conn).await);
    }
    h.assert_metric("callsign_tls_handshake_failures_total{cause=\"client_name\"} 2")
        .await;

    // A certificate from a CA callsign does not trust fails the handshake itself.
    let foreign = other_ca.issue(&["edge1.pbx.acme.test"]).unwrap();
    let tcp = TcpStream::connect(to).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = connector(&ca, Some(&foreign))
        .connect(name, tcp)
        .await
        .unwrap();
    assert!(closed(&mut conn).await);
    h.assert_metric("callsign_tls_handshake_failures_total{cause=\"certificate\"} 1")
        .await;
    // No request but the first was forwarded.
    let stray = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        recv_from(h.uas_udp()),
    );
    assert!(stray.await.is_err());
}

#[tokio::test]
async fn garbage_and_silent_peers_are_closed_and_counted_while_calls_go_on() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let h = TestServer::new().sip(|s| s.tls = Some(tls)).start().await;
    let to = h.tls.unwrap();

    // A SIP request in plain text on the TLS port.
    let mut plain = TcpStream::connect(to).await.unwrap();
    let local = plain.local_addr().unwrap();
    plain
        .write_all(call(local, "TCP", "plain").as_bytes())
        .await
        .unwrap();
    assert!(closed(&mut plain).await);
    // A record far over TLS's limit.
    let mut oversized = TcpStream::connect(to).await.unwrap();
    let mut record = vec![0x16, 0x03, 0x03, 0xff, 0xff];
    record.extend(std::iter::repeat_n(0u8, 4096));
    let _ = oversized.write_all(&record).await;
    assert!(closed(&mut oversized).await);
    h.assert_metric("callsign_tls_handshake_failures_total{cause=\"protocol\"} 2")
        .await;

    // Peers that connect and say nothing hold a connection each, but no one else waits.
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(to).await.unwrap());
    }
    let mut conn = connect(to, &ca, None, "127.0.0.1").await;
    let local = conn.get_ref().0.local_addr().unwrap();
    send(&mut conn, &call(local, "TLS", "beside-the-silent")).await;
    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await.unwrap()), 100);
    let (fwd, _) = recv_from(h.uas_udp()).await;
    assert_eq!(
        header(&fwd, HeaderName::CallId).as_deref(),
        Some("beside-the-silent")
    );
    drop(silent);
}

#[tokio::test]
async fn sighup_reloads_the_tls_certificate_and_a_broken_one_leaves_the_current() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, tls) = tls_setup(certs.path());
    let (cert_path, key_path) = (tls.certificate.clone(), tls.key.clone());
    let h = TestServer::new().sip(|s| s.tls = Some(tls)).start().await;
    let to = h.tls.unwrap();
    let names = |conn: &Tls| {
        let der = conn.get_ref().1.peer_certificates().unwrap()[0].clone();
        let (_, leaf) = x509_parser::parse_x509_certificate(&der).unwrap();
        format!(
            "{:?}",
            leaf.subject_alternative_name().unwrap().unwrap().value
        )
    };
    let first = connect(to, &ca, None, "sip.callsign.test").await;
    assert!(!names(&first).contains("renewed.callsign.test"));

    let renewed = ca.issue(&["renewed.callsign.test", "127.0.0.1"]).unwrap();
    std::fs::write(&cert_path, &renewed.chain_pem).unwrap();
    std::fs::write(&key_path, &renewed.key_pem).unwrap();
    h.reload().await;
    h.assert_metric("callsign_tls_reloads_total{cause=\"ok\"} 1")
        .await;
    let second = connect(to, &ca, None, "renewed.callsign.test").await;
    assert!(names(&second).contains("renewed.callsign.test"));

    // A key that is not the certificate's: refused, the renewed pair stays.
    std::fs::write(&key_path, ca.issue(&["x.test"]).unwrap().key_pem).unwrap();
    h.reload().await;
    h.assert_metric("callsign_tls_reloads_total{cause=\"error\"} 1")
        .await;
    let third = connect(to, &ca, None, "renewed.callsign.test").await;
    assert!(names(&third).contains("renewed.callsign.test"));
}
