//! A TLS relay for benches/sipp-load.sh: SIPp speaks no TLS, so this stands between it
//! and callsign when callsign runs TLS on both sides.
//!
//!   sip_tls_relay UAC_SIDE_UDP CALLSIGN_TLS UPSTREAM_TLS UAS_UDP CERT KEY CA
//!
//! - Requests from SIPp's UAC, received on `UAC_SIDE_UDP`, go to callsign over one TLS
//!   connection to `CALLSIGN_TLS`; what callsign sends back on it (responses) goes to
//!   the sent-by address of its top Via.
//! - callsign's upstream is `UPSTREAM_TLS`: what it sends there goes to SIPp's UAS at
//!   `UAS_UDP` from one UDP socket, and whatever the UAS sends to that socket goes back
//!   on callsign's connection.
//!
//! One task per direction keeps each direction's order, as a SIP hop must. It checks
//! nothing and parses only Content-Length and the top Via: it is bench plumbing, with
//! its CPU reported apart from callsign's.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, WriteHalf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [uac_side, callsign, upstream, uas, cert, key, ca] = args.as_slice() else {
        return Err(
            "usage: sip_tls_relay UAC_SIDE_UDP CALLSIGN_TLS UPSTREAM_TLS UAS_UDP CERT KEY CA"
                .into(),
        );
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<std::result::Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca)? {
        roots.add(c?)?;
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;

    let uac_sock = Arc::new(UdpSocket::bind(uac_side.parse::<SocketAddr>()?).await?);
    let uas_sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let uas: SocketAddr = uas.parse()?;
    let listener = TcpListener::bind(upstream.parse::<SocketAddr>()?).await?;

    // callsign's side of the UAC: one connection, opened now.
    let tcp = TcpStream::connect(callsign.parse::<SocketAddr>()?).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from("127.0.0.1")?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, tcp)
        .await?;
    let (r, w) = tokio::io::split(tls);
    let to_callsign = writer(w);
    let sock = Arc::clone(&uac_sock);
    tokio::spawn(async move {
        // What callsign answers the UAC goes where the top Via says.
        let _ = read_messages(r, |msg| {
            let sock = Arc::clone(&sock);
            async move {
                if let Some(to) = top_via(&msg) {
                    let _ = sock.send_to(&msg, to).await;
                }
            }
        })
        .await;
    });
    let sock = Arc::clone(&uac_sock);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, _)) = sock.recv_from(&mut buf).await {
            if to_callsign.send(buf[..n].to_vec()).await.is_err() {
                break;
            }
        }
    });

    // callsign's upstream: it connects here; each connection relays to the UAS, and the
    // UAS's messages go back on the latest one.
    let (latest_tx, mut latest_rx) = mpsc::channel::<mpsc::Sender<Vec<u8>>>(4);
    let sock = Arc::clone(&uas_sock);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        let mut back: Option<mpsc::Sender<Vec<u8>>> = None;
        loop {
            tokio::select! {
                conn = latest_rx.recv() => match conn {
                    Some(c) => back = Some(c),
                    None => break,
                },
                got = sock.recv_from(&mut buf) => {
                    let Ok((n, _)) = got else { break };
                    if let Some(back) = &back {
                        let _ = back.send(buf[..n].to_vec()).await;
                    }
                }
            }
        }
    });
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let Ok(tls) = acceptor.accept(tcp).await else {
            continue;
        };
        let (r, w) = tokio::io::split(tls);
        let _ = latest_tx.send(writer(w)).await;
        let sock = Arc::clone(&uas_sock);
        tokio::spawn(async move {
            let _ = read_messages(r, |msg| {
                let sock = Arc::clone(&sock);
                async move {
                    let _ = sock.send_to(&msg, uas).await;
                }
            })
            .await;
        });
    }
}

/// A task writing what it is sent to `w`, several queued messages per write.
fn writer<S>(mut w: WriteHalf<S>) -> mpsc::Sender<Vec<u8>>
where
    S: tokio::io::AsyncWrite + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(65_536);
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while let Some(first) = rx.recv().await {
            batch.clear();
            batch.extend_from_slice(&first);
            while batch.len() < 16_384 {
                match rx.try_recv() {
                    Ok(more) => batch.extend_from_slice(&more),
                    Err(_) => break,
                }
            }
            if w.write_all(&batch).await.is_err() || w.flush().await.is_err() {
                break;
            }
        }
    });
    tx
}

/// Reads SIP messages framed by Content-Length from `r`, calling `each` on each in order.
async fn read_messages<R, F, Fut>(mut r: R, mut each: F) -> Result<()>
where
    R: AsyncRead + Unpin,
    F: FnMut(Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut buf: Vec<u8> = Vec::with_capacity(65_536);
    let mut chunk = vec![0u8; 65_536];
    loop {
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(len) = message_len(&buf) {
            let msg: Vec<u8> = buf.drain(..len).collect();
            each(msg).await;
        }
    }
}

/// The length of the first whole message in `buf` (keep-alive CRLFs count as one).
fn message_len(buf: &[u8]) -> Option<usize> {
    let crlfs = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if crlfs > 0 {
        return Some(crlfs);
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let body: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            let name = name.trim();
            (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l"))
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= end + body).then_some(end + body)
}

/// Where a response goes: the sent-by of its top Via. (callsign fills `received` and
/// `rport` with the relay's connection, which is no hop of its own.)
fn top_via(msg: &[u8]) -> Option<SocketAddr> {
    let text = std::str::from_utf8(msg).ok()?;
    let via = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        let name = name.trim();
        (name.eq_ignore_ascii_case("via") || name.eq_ignore_ascii_case("v")).then_some(value)
    })?;
    let via = via.split(',').next()?.trim();
    let (_, rest) = via.split_once(' ')?;
    let sent_by = rest.split(';').next()?.trim();
    match sent_by.rsplit_once(':') {
        Some(_) => sent_by.parse().ok(),
        None => format!("{sent_by}:5060").parse().ok(),
    }
}
