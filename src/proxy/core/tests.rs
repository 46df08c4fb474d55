//! The core under a barrage: what an attacker can make it log.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::proxy::testing::{context, udp, wall};

/// A log sink that keeps every line written.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn count(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
    }
}

#[test]
fn a_barrage_of_malformed_datagrams_writes_a_bounded_number_of_lines() {
    let (ctx, _) = context();
    let core = Core::new(ctx);
    let lines = Lines::default();
    let sink = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let start = Instant::now();
    let mut out = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        // 100,000 broken requests over 60 virtual seconds, from 50 trunk addresses and
        // from 5,000 strangers, oversized ones among them.
        for i in 0..100_000u32 {
            let source = if i % 2 == 0 {
                format!("127.0.0.{}:5070", 1 + i % 50)
            } else {
                format!("198.51.{}.{}:5060", (i / 256) % 20, i % 250)
            };
            let wall = wall() + Duration::from_millis(u64::from(i) * 60_000 / 100_000);
            let bytes: Vec<u8> = if i % 10 == 0 {
                vec![b'X'; 70_000]
            } else {
                format!("INVITE sip:x SIP/2.0\r\nVia: broken {i}\r\n\r\n").into_bytes()
            };
            out.clear();
            core.handle(udp(&source), &bytes, start, wall, &mut out);
        }
    });
    let written = lines.count();
    assert!(written > 0, "the barrage is logged at all");
    assert!(
        written <= 500,
        "{written} lines for 100,000 malformed datagrams"
    );
    // Every event is still counted.
    let metrics = core.ctx.metrics.render();
    let counted: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("callsign_parse_errors_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, 100_000);
}
