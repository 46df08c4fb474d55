//! The RFC 4475 torture messages of `tests/data/rfc4475/`, written as the RFC prints them
//! (section 2), and turned back into the bytes on the wire.
//!
//! Each line of a file is a line of the message and ends in CRLF on the wire. Three
//! notations stand for what plain text cannot show: `<allOneLine>` ... `</allOneLine>`
//! joins the lines between into one, `<hex>..</hex>` is the bytes the hex digits spell,
//! and `<repeat count=N>s</repeat>` is `s` written N times.

use std::path::Path;

/// The bytes of the message in `tests/data/rfc4475/{name}.txt`.
pub fn message(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/rfc4475")
        .join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    decode(&text)
}

/// Turns the RFC's notation into bytes.
pub fn decode(text: &str) -> Vec<u8> {
    let mut joined = String::with_capacity(text.len() + 64);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line == "<allOneLine>" {
            for inner in lines.by_ref() {
                if inner == "</allOneLine>" {
                    break;
                }
                joined.push_str(inner);
            }
        } else {
            joined.push_str(line);
        }
        if lines.peek().is_some() {
            joined.push_str("\r\n");
        }
    }
    expand(&joined)
}

fn expand(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let tail = &rest[at..];
        if let Some(body) = tail.strip_prefix("<hex>") {
            let (digits, after) = body.split_once("</hex>").expect("unterminated <hex>");
            assert!(digits.len() % 2 == 0, "odd hex digits: {digits}");
            for pair in digits.as_bytes().chunks(2) {
                let pair = std::str::from_utf8(pair).unwrap();
                out.push(u8::from_str_radix(pair, 16).expect("hex digits"));
            }
            rest = after;
        } else if let Some(body) = tail.strip_prefix("<repeat count=") {
            let (count, body) = body.split_once('>').expect("unterminated <repeat");
            let (unit, after) = body.split_once("</repeat>").expect("unterminated <repeat>");
            let count: usize = count.parse().expect("repeat count");
            out.extend_from_slice(unit.repeat(count).as_bytes());
            rest = after;
        } else {
            out.push(b'<');
            rest = &tail[1..];
        }
    }
    out.extend_from_slice(rest.as_bytes());
    out
}
