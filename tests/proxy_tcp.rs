//! End-to-end proxy behaviour over TCP, including calls that cross from TCP to UDP and
//! back, and Content-Length framing on streams.

mod common;

use callsign::sip::{Frame, HeaderName, Message, frame};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one framed SIP message from a stream (`buf` keeps what follows it), within
/// [`WAIT`] in all.
async fn read_msg(s: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    let read = async {
        loop {
            match frame(buf, 65_535).unwrap() {
                Frame::Message(n) => {
                    let m = String::from_utf8(buf[..n].to_vec()).unwrap();
                    buf.drain(..n);
                    return m;
                }
                Frame::KeepAlive(n) => {
                    buf.drain(..n);
                }
                Frame::Incomplete => {
                    let mut chunk = [0u8; 8192];
                    let n = s.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed");
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("timed out reading TCP")
}

#[tokio::test]
async fn tcp_trunk_reaches_udp_carrier_and_responses_return_on_the_connection() {
    let h = TestServer::new().start().await;
    let mut conn = TcpStream::connect(h.tcp).await.unwrap();
    let local = conn.local_addr().unwrap();
    let inv = call(local, "TCP", "tcp-1");
    // Two writes split mid-header: framing must reassemble them.
    let (a, b) = inv.as_bytes().split_at(100);
    conn.write_all(a).await.unwrap();
    conn.flush().await.unwrap();
    conn.write_all(b).await.unwrap();

    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await), 100);
    let (fwd, proxy) = recv_from(h.uas_udp()).await;
    let msg = Message::parse(fwd.as_bytes()).unwrap();
    assert!(msg.top_via().unwrap().transport.eq_ignore_ascii_case("UDP"));
    // Different transports on each side: two Record-Route entries (RFC 5658).
    let rr: Vec<_> = msg.header_values(HeaderName::RecordRoute).collect();
    assert_eq!(rr.len(), 2, "{fwd}");
    assert!(
        rr[0].contains("transport=udp") && rr[1].contains("transport=tcp"),
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
    let got = read_msg(&mut conn, &mut buf).await;
    assert_eq!(status(&got), 200);
    assert_eq!(header(&got, HeaderName::CallId).as_deref(), Some("tcp-1"));
}

#[tokio::test]
async fn udp_trunk_reaches_tcp_carrier() {
    let h = TestServer::new().upstream_tcp().start().await;
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", "to-tcp");
    uac.send_to(inv.as_bytes(), h.udp).await.unwrap();
    assert_eq!(status(&recv(&uac).await), 100);
    let common::Upstream::Tcp(listener) = &h.upstream else {
        unreachable!()
    };
    let (mut carrier, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut buf = Vec::new();
    let fwd = read_msg(&mut carrier, &mut buf).await;
    let msg = Message::parse(fwd.as_bytes()).unwrap();
    assert!(msg.top_via().unwrap().transport.eq_ignore_ascii_case("TCP"));
    verify_identity(
        msg.header(HeaderName::Identity).unwrap(),
        &h.leaf_public_key,
    );
    carrier
        .write_all(respond(&fwd, 486, "Busy Here", "").as_bytes())
        .await
        .unwrap();
    assert_eq!(status(&recv(&uac).await), 486);
    // The proxy ACKs the failure hop by hop on the same connection.
    let ack = read_msg(&mut carrier, &mut buf).await;
    assert_eq!(method(&ack).as_deref(), Some("ACK"));
}

#[tokio::test]
async fn broken_tcp_framing_is_refused_and_the_proxy_keeps_serving() {
    let h = TestServer::new().start().await;
    let mut bad = TcpStream::connect(h.tcp).await.unwrap();
    let local = bad.local_addr().unwrap();
    let inv = call(local, "TCP", "tcp-bad");
    let no_length: String = inv
        .lines()
        .filter(|l| !l.starts_with("Content-Length"))
        .collect::<Vec<_>>()
        .join("\r\n");
    bad.write_all(no_length.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let got = read_msg(&mut bad, &mut buf).await;
    assert_eq!(status(&got), 400);

    let mut good = TcpStream::connect(h.tcp).await.unwrap();
    let inv = call(good.local_addr().unwrap(), "TCP", "tcp-good");
    good.write_all(inv.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut good, &mut buf).await), 100);
    let (fwd, _) = recv_from(h.uas_udp()).await;
    assert_eq!(
        header(&fwd, HeaderName::CallId).as_deref(),
        Some("tcp-good")
    );
}

#[tokio::test]
async fn tcp_connections_from_unknown_sources_are_closed() {
    let h = TestServer::new().start().await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.3:0".parse().unwrap()).unwrap();
    let mut conn = socket.connect(h.tcp).await.unwrap();
    let inv = call(conn.local_addr().unwrap(), "TCP", "tcp-stranger");
    let _ = conn.write_all(inv.as_bytes()).await;
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(WAIT, conn.read(&mut byte))
        .await
        .expect("the proxy closes the connection")
        .unwrap_or(0);
    assert_eq!(n, 0, "nothing is answered on a refused connection");
    h.assert_metric("callsign_requests_rejected_total{cause=\"forbidden_source_tcp\"} 1")
        .await;
}

/// Reads until the peer closes; returns the bytes read before the close. Fails the test
/// if the connection is still open after [`WAIT`].
async fn read_until_closed(s: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the connection is closed")
}

#[tokio::test]
async fn shutdown_closes_open_connections_before_run_returns() {
    let h = TestServer::new().start().await;
    let mut conn = TcpStream::connect(h.tcp).await.unwrap();
    // A message through the connection proves its reader is running.
    let inv = call(conn.local_addr().unwrap(), "TCP", "tcp-before-stop");
    conn.write_all(inv.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await), 100);

    h.stop().await;
    // `run` has returned: the connection's tasks have ended, so its socket is closed
    // without the client doing anything more.
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(std::time::Duration::from_millis(1), conn.read(&mut byte))
        .await
        .expect("the connection was closed before run returned")
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn the_connection_limit_is_held_for_as_long_as_a_connection_lives() {
    let h = TestServer::new()
        .sip(|s| s.max_tcp_connections = 2)
        .start()
        .await;
    let mut open = Vec::new();
    for i in 0..2 {
        let mut conn = TcpStream::connect(h.tcp).await.unwrap();
        let inv = call(conn.local_addr().unwrap(), "TCP", &format!("tcp-held-{i}"));
        conn.write_all(inv.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        assert_eq!(status(&read_msg(&mut conn, &mut buf).await), 100);
        open.push(conn);
    }

    // A third connection while two live is closed unanswered.
    let mut third = TcpStream::connect(h.tcp).await.unwrap();
    let inv = call(third.local_addr().unwrap(), "TCP", "tcp-over-limit");
    let _ = third.write_all(inv.as_bytes()).await;
    assert_eq!(read_until_closed(&mut third).await, 0);
    h.assert_metric("callsign_requests_rejected_total{cause=\"tcp_connection_limit\"} 1")
        .await;

    // Once one closes and the proxy has seen it end, its permit serves a new connection.
    let mut closing = open.pop().unwrap();
    closing.shutdown().await.unwrap();
    read_until_closed(&mut closing).await;
    let mut next = None;
    for attempt in 0..50 {
        let mut conn = TcpStream::connect(h.tcp).await.unwrap();
        let inv = call(
            conn.local_addr().unwrap(),
            "TCP",
            &format!("tcp-after-{attempt}"),
        );
        conn.write_all(inv.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(WAIT, conn.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                buf.extend_from_slice(&chunk[..n]);
                next = Some((conn, buf));
                break;
            }
            // The proxy may not yet have seen the close; the permit comes back when it has.
            _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let (_conn, buf) = next.expect("a freed permit admits a new connection");
    assert_eq!(status(&String::from_utf8(buf).unwrap()), 100);
}

#[tokio::test]
async fn a_second_caller_identity_is_refused_over_tcp_and_the_connection_serves_on() {
    let h = TestServer::new().start().await;
    let mut conn = TcpStream::connect(h.tcp).await.unwrap();
    let local = conn.local_addr().unwrap();
    let mut buf = Vec::new();
    for (call_id, with, status_line) in second_caller_identities() {
        let inv = call(local, "TCP", call_id).replacen(CALL_FROM, &with, 1);
        conn.write_all(inv.as_bytes()).await.unwrap();
        let mut got = read_msg(&mut conn, &mut buf).await;
        if status(&got) == 100 {
            got = read_msg(&mut conn, &mut buf).await;
        }
        assert_eq!(got.lines().next(), Some(status_line), "{call_id}");
    }

    let fine = call(local, "TCP", "tcp-one-from");
    conn.write_all(fine.as_bytes()).await.unwrap();
    assert_eq!(status(&read_msg(&mut conn, &mut buf).await), 100);
    let (fwd, _) = recv_from(h.uas_udp()).await;
    assert_eq!(
        header(&fwd, HeaderName::CallId).as_deref(),
        Some("tcp-one-from")
    );
}
