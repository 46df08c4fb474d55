//! The HTTP listener, which keeps hyper's own refusals in Twilio's shape.
//!
//! hyper answers a few requests itself, before any router or middleware sees them: a
//! request line over 64 KiB (`414`), a head larger than its read buffer or with more than
//! 100 header fields (`431`), a head it cannot parse (`400`), each with an empty body, and
//! then closes the connection. [`Listener`] hands hyper each connection wrapped in a
//! [`ShapedIo`], which recognises such an answer as hyper writes it (a client or version
//! error with `content-length: 0` and nothing after the head: every answer of the router
//! has a body) and sends it with Twilio's JSON error body instead.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::error::ApiError;

/// A TCP listener whose connections are [`ShapedIo`]s.
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = ShapedIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (ShapedIo::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A connection whose bodiless error answers gain Twilio's error body.
pub struct ShapedIo<S> {
    inner: S,
    /// A rewritten answer being sent: its bytes, how many are out, and how many bytes of
    /// hyper's the whole of it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> ShapedIo<S> {
    pub fn new(inner: S) -> Self {
        ShapedIo {
            inner,
            pending: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ShapedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ShapedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let pending = match this.pending.take() {
            Some(pending) => pending,
            None => match shaped(buf) {
                Some(answer) => (answer, 0, buf.len()),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            },
        };
        // Sends the rewritten answer whole; hyper offers the same bytes again after
        // `Pending`, and learns they went out only when all of ours did.
        let (answer, mut sent, stands_for) = pending;
        while sent < answer.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &answer[sent..]) {
                Poll::Pending => {
                    this.pending = Some((answer, sent, stands_for));
                    return Poll::Pending;
                }
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored, so that hyper writes each answer's head in one buffer.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// hyper's own answer in `written`, given Twilio's body; `None` for anything else.
fn shaped(written: &[u8]) -> Option<Vec<u8>> {
    let rest = written.strip_prefix(b"HTTP/1.1 ")?;
    let status: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    if !(400..500).contains(&status) && status != 505 {
        return None;
    }
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if head_end != written.len() {
        return None;
    }
    let head = std::str::from_utf8(&written[..head_end - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut fields: Vec<&str> = Vec::new();
    let mut bodiless = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            bodiless = value.trim() == "0";
        } else {
            fields.push(line);
        }
    }
    if !bodiless {
        return None;
    }
    let message = match status {
        414 => "Request URI too long".to_owned(),
        431 => "Request headers too large or too many".to_owned(),
        505 => "HTTP version not supported".to_owned(),
        400 => "Malformed HTTP request".to_owned(),
        _ => status_line
            .get(13..)
            .unwrap_or("Request refused")
            .to_owned(),
    };
    let body = ApiError::Rejected { status, message }.body().to_string();
    let mut out = format!("{status_line}\r\ncontent-type: application/json\r\n");
    for field in fields {
        out.push_str(field);
        out.push_str("\r\n");
    }
    out.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn hyper_refusals_gain_the_body_and_everything_else_passes() {
        let refused = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(shaped(refused).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains("\r\ndate: x\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (json["status"].as_u64(), json["code"].as_u64()),
            (Some(414), Some(20001))
        );
        for passes in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nextra",
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 4",
        ] {
            assert_eq!(shaped(passes), None, "{}", String::from_utf8_lossy(passes));
        }
    }

    #[tokio::test]
    async fn a_rewritten_answer_goes_out_whole_through_short_writes() {
        let (client, mut server) = tokio::io::duplex(7);
        let mut io = ShapedIo::new(client);
        let refused = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut server, &mut all)
                .await
                .unwrap();
            all
        });
        io.write_all(refused).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        let all = String::from_utf8(reader.await.unwrap()).unwrap();
        assert_eq!(
            Some(all.as_str()),
            shaped(refused)
                .as_deref()
                .map(|b| std::str::from_utf8(b).unwrap())
        );
    }
}
