//! Stream framing (RFC 3261 18.3): finds where each message ends in a TCP/TLS byte stream,
//! using the mandatory Content-Length, and spots CRLF keep-alives (RFC 5626 4.4.1).
//! [`Framing`] says which kind of transport a message goes onto.

use super::HeaderName;
use super::lines::{LexError, Lexed, find_byte, lex};

/// How a transport delimits messages: one per datagram (UDP), or one after another in a
/// stream (TCP, TLS), where each must carry Content-Length (RFC 3261 18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Datagram,
    Stream,
}

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// More bytes are needed.
    Incomplete,
    /// This many CR/LF bytes precede the next message (a keep-alive ping is `\r\n\r\n`);
    /// skip them and call again.
    KeepAlive(usize),
    /// One complete message of this total length (headers and body); hand exactly these
    /// bytes to [`Message::parse`](super::Message::parse).
    Message(usize),
}

/// Why a stream cannot be framed; the connection should be closed, since the next message
/// boundary is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("message exceeds the size limit")]
    TooLarge,
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    #[error("bad Content-Length")]
    BadContentLength,
}

/// Frames the first message in `buf`. A message (headers and body) longer than `max_len`
/// is [`FramingError::TooLarge`], and so is a header section still unfinished after
/// `max_len` bytes. Header lines other than Content-Length are not checked here: a message
/// with a malformed line is still framed, so the stream stays in sync and the parser can
/// answer it with 400.
pub fn frame(buf: &[u8], max_len: usize) -> Result<Frame, FramingError> {
    let crlf = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if crlf > 0 {
        return Ok(Frame::KeepAlive(crlf));
    }
    let incomplete = || {
        if buf.len() >= max_len {
            Err(FramingError::TooLarge)
        } else {
            Ok(Frame::Incomplete)
        }
    };
    let Some(lf) = find_byte(buf, b'\n') else {
        return incomplete();
    };

    let mut pos = lf + 1;
    let mut length = None;
    let body_start = loop {
        match lex(buf, pos) {
            Ok(Lexed::Header(line)) => {
                let name = buf.get(line.start..line.name_end).unwrap_or_default();
                if HeaderName::from_bytes(name) == HeaderName::ContentLength {
                    let value = buf
                        .get(line.value_start..line.value_end)
                        .unwrap_or_default();
                    let parsed = parse_length(value).ok_or(FramingError::BadContentLength)?;
                    if length.is_some_and(|l| l != parsed) {
                        return Err(FramingError::BadContentLength);
                    }
                    length = Some(parsed);
                }
                pos = line.end;
            }
            Ok(Lexed::Blank { end }) => break end,
            Err(LexError::Unterminated) => return incomplete(),
            Err(LexError::Malformed { end }) => pos = end,
        }
    };
    let length = length.ok_or(FramingError::MissingContentLength)?;
    let total = u64::try_from(body_start)
        .unwrap_or(u64::MAX)
        .saturating_add(length);
    if total > u64::try_from(max_len).unwrap_or(u64::MAX) {
        return Err(FramingError::TooLarge);
    }
    let total = usize::try_from(total).map_err(|_| FramingError::TooLarge)?;
    if buf.len() < total {
        return Ok(Frame::Incomplete);
    }
    Ok(Frame::Message(total))
}

fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 18 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Message;

    const OPTIONS: &[u8] = b"OPTIONS sip:carrier.example SIP/2.0\r\n\
Via: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bK1\r\n\
From: <sip:pbx.example>;tag=1\r\nTo: <sip:carrier.example>\r\n\
Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nl: 5\r\n\r\nhello";

    #[test]
    fn frames_a_whole_message_and_every_prefix_is_incomplete() {
        assert_eq!(frame(OPTIONS, 4096), Ok(Frame::Message(OPTIONS.len())));
        for cut in 1..OPTIONS.len() {
            assert_eq!(
                frame(&OPTIONS[..cut], 4096),
                Ok(Frame::Incomplete),
                "cut at {cut}"
            );
        }
        assert_eq!(frame(b"", 4096), Ok(Frame::Incomplete));
    }

    #[test]
    fn frames_two_messages_back_to_back() {
        let mut stream = OPTIONS.to_vec();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(OPTIONS);
        let Ok(Frame::Message(first)) = frame(&stream, 4096) else {
            panic!("first message")
        };
        assert_eq!(&stream[..first], OPTIONS);
        assert_eq!(Message::parse(&stream[..first]).unwrap().body(), b"hello");
        let rest = &stream[first..];
        assert_eq!(frame(rest, 4096), Ok(Frame::KeepAlive(4)));
        assert_eq!(frame(&rest[4..], 4096), Ok(Frame::Message(OPTIONS.len())));
    }

    #[test]
    fn crlf_keepalives_are_reported_for_skipping() {
        assert_eq!(frame(b"\r\n\r\n", 4096), Ok(Frame::KeepAlive(4)));
        assert_eq!(frame(b"\r\n", 4096), Ok(Frame::KeepAlive(2)));
        assert_eq!(frame(b"\r\nOPT", 4096), Ok(Frame::KeepAlive(2)));
    }

    #[test]
    fn oversized_messages_are_rejected_early() {
        assert_eq!(
            frame(OPTIONS, OPTIONS.len()),
            Ok(Frame::Message(OPTIONS.len()))
        );
        assert_eq!(
            frame(OPTIONS, OPTIONS.len() - 1),
            Err(FramingError::TooLarge)
        );
        // Declared body too large: rejected before the body arrives.
        let head = b"MESSAGE sip:a SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
        assert_eq!(frame(head, 65536), Err(FramingError::TooLarge));
        // Endless header section.
        let junk = vec![b'a'; 100];
        assert_eq!(frame(&junk, 100), Err(FramingError::TooLarge));
        assert_eq!(frame(&junk, 101), Ok(Frame::Incomplete));
    }

    #[test]
    fn content_length_is_mandatory_and_must_be_a_number() {
        let none = b"BYE sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
        assert_eq!(frame(none, 4096), Err(FramingError::MissingContentLength));
        for bad in ["x", "-1", "1 2", "", "0x10"] {
            let msg = format!("BYE sip:a SIP/2.0\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(
                frame(msg.as_bytes(), 4096),
                Err(FramingError::BadContentLength),
                "{bad:?}"
            );
        }
        let conflicting = b"BYE sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(
            frame(conflicting, 4096),
            Err(FramingError::BadContentLength)
        );
    }

    #[test]
    fn malformed_lines_do_not_break_framing() {
        let msg = b"BYE sip:a SIP/2.0\r\nnot a header\r\ncontent-length:  2 \r\n\r\nokNEXT";
        assert_eq!(frame(msg, 4096), Ok(Frame::Message(msg.len() - 4)));
    }
}
