//! The endpoint under a barrage (what an attacker can make it log), and draining.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::proxy::Dest;
use crate::proxy::testing::{
    CARRIER, TRUNK, answer_forwarded, context, context_with, invite, udp, wall,
};

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

/// Runs `f` with a subscriber that keeps every line, and counts the lines.
fn lines_written(f: impl FnOnce()) -> usize {
    let lines = Lines::default();
    let sink = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    lines.count()
}

/// The sum of the counter samples whose names start with `prefix`.
fn counted(core: &Endpoint, prefix: &str) -> u64 {
    core.ctx
        .metrics
        .render()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn a_barrage_of_malformed_datagrams_writes_a_bounded_number_of_lines() {
    let (ctx, _) = context();
    let mut core = Endpoint::new(Arc::new(ctx));
    let start = Instant::now();
    let mut out = Vec::new();
    let written = lines_written(|| {
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
    assert!(written > 0, "the barrage is logged at all");
    assert!(
        written <= 500,
        "{written} lines for 100,000 malformed datagrams"
    );
    // Every event is still counted.
    assert_eq!(counted(&core, "callsign_parse_errors_total{"), 100_000);
}

/// Well-formed messages that callsign refuses or drops, each of which used to write a
/// warning: responses with a forged branch, and from a trunk, calls with conflicting
/// caller identities, in-dialog requests that bypass our Record-Route, and calls whose
/// numbers cannot be signed.
#[test]
fn a_barrage_of_refused_calls_and_forged_responses_writes_a_bounded_number_of_lines() {
    use crate::proxy::pipeline::{branch, branch_parts};

    // Room for every refused request's transaction: the barrage is about logging.
    let (ctx, _) = context_with(|s| s.max_transactions = 200_000);
    let mut core = Endpoint::new(Arc::new(ctx));
    let start = Instant::now();
    let mut out = Vec::new();
    // One genuine call upstream, whose transaction the forged responses aim at.
    core.handle(udp(TRUNK), invite("").as_bytes(), start, wall(), &mut out);
    let forwarded = out.iter().find(|o| o.bytes.starts_with(b"INVITE")).unwrap();
    let forwarded = Message::parse(&forwarded.bytes).unwrap();
    let ours = forwarded.top_via().unwrap().branch.unwrap();
    let (hash, id) = branch_parts(ours).unwrap();
    let forged = branch(hash ^ 1, id);

    let written = lines_written(|| {
        for i in 0..100_000u32 {
            let wall = wall() + Duration::from_millis(u64::from(i) * 60_000 / 100_000);
            let call = format!("barrage-{i}@test");
            let (source, bytes) = match i % 4 {
                0 => (
                    format!("198.51.100.{}:5060", i % 200),
                    format!(
                        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={forged}\r\n\
                         From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: {call}\r\n\
                         CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
                    ),
                ),
                1 => (
                    TRUNK.to_owned(),
                    invite(
                        "P-Asserted-Identity: <sip:+12155550121@a.example>, <tel:+12155550199>\r\n",
                    ),
                ),
                2 => (
                    TRUNK.to_owned(),
                    invite("").replace(
                        "<sip:2155550131@carrier.example>\r\n",
                        "<sip:2155550131@carrier.example>;tag=t\r\n",
                    ),
                ),
                _ => (
                    TRUNK.to_owned(),
                    invite("").replace("<sip:2155550121@", "<sip:alice@"),
                ),
            };
            let bytes = bytes
                .replace("c1@test", &call)
                .replace("z9hG4bK-1", &format!("z9hG4bK-barrage-{i}"));
            out.clear();
            core.handle(udp(&source), bytes.as_bytes(), start, wall, &mut out);
        }
    });
    assert!(written > 0, "the barrage is logged at all");
    assert!(
        written <= 500,
        "{written} lines for 100,000 refused or forged messages"
    );
    let metrics = core.ctx.metrics.render();
    for sample in [
        "callsign_parse_errors_total{cause=\"response_forged\"} 25000",
        "callsign_requests_rejected_total{cause=\"conflicting_identity\"} 25000",
        "callsign_requests_rejected_total{cause=\"no_route_to_us\"} 25000",
    ] {
        assert!(metrics.contains(sample), "{sample} missing from {metrics}");
    }
    assert_eq!(counted(&core, "callsign_calls_unsigned_total{"), 25_000);
}

/// The first line of each output, with where it goes.
fn sent(out: &[Output]) -> Vec<(String, String)> {
    out.iter()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.bytes);
            let line = text.lines().next().unwrap_or_default().to_owned();
            (format!("{:?}", o.to), line)
        })
        .collect()
}

#[test]
fn a_draining_core_refuses_new_calls_and_finishes_the_ones_in_flight() {
    let (ctx, _) = context();
    let mut core = Endpoint::new(Arc::new(ctx));
    let quiet = Duration::from_secs(1);
    let t0 = Instant::now();
    let mut out = Vec::new();
    core.handle(udp(TRUNK), invite("").as_bytes(), t0, wall(), &mut out);
    assert_eq!(core.in_flight(), 1);
    let answer = answer_forwarded(&out, 200, "OK");

    core.start_drain(32);
    // A new call is refused, and told when to come back.
    let second = invite("")
        .replace("c1@test", "c2@test")
        .replace("z9hG4bK-1", "z9hG4bK-2");
    out.clear();
    core.handle(udp(TRUNK), second.as_bytes(), t0, wall(), &mut out);
    let refusal = String::from_utf8(out[0].bytes.clone()).unwrap();
    assert!(
        refusal.starts_with("SIP/2.0 503 Service Unavailable\r\n"),
        "{refusal}"
    );
    assert!(refusal.contains("\r\nRetry-After: 32\r\n"), "{refusal}");
    assert!(refusal.contains("Call-ID: c2@test"), "{refusal}");
    assert_eq!(
        counted(
            &core,
            "callsign_requests_rejected_total{cause=\"draining\"}"
        ),
        1
    );
    // The call in flight goes on: its retransmission is absorbed, not refused.
    out.clear();
    core.handle(udp(TRUNK), invite("").as_bytes(), t0, wall(), &mut out);
    assert_eq!(sent(&out).len(), 1);
    assert_eq!(sent(&out)[0].1, "SIP/2.0 100 Trying");
    assert_eq!(core.in_flight(), 1);
    assert!(!core.drained(t0 + Duration::from_secs(60), quiet));

    // Its answer reaches the trunk, and then nothing is in flight.
    out.clear();
    core.handle(udp(CARRIER), &answer, t0, wall(), &mut out);
    assert_eq!(
        sent(&out),
        [(
            format!("{:?}", Dest::Peer(udp(TRUNK))),
            "SIP/2.0 200 OK".to_owned()
        )]
    );
    assert_eq!(core.in_flight(), 0);
    assert!(core.drained(t0, quiet));

    // The call's BYE is forwarded, and the drain waits `quiet` for what follows it.
    let bye = format!(
        "BYE sip:2155550121@127.0.0.1:5070;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP {CARRIER};branch=z9hG4bK-bye\r\n\
         Route: <sip:127.0.0.1:5060;transport=udp;lr>\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:2155550131@carrier.example>;tag=b2\r\n\
         To: <sip:2155550121@127.0.0.1>;tag=a1\r\n\
         Call-ID: c1@test\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    let t1 = t0 + Duration::from_millis(300);
    out.clear();
    core.handle(udp(CARRIER), bye.as_bytes(), t1, wall(), &mut out);
    assert_eq!(sent(&out).len(), 1, "{:?}", sent(&out));
    assert!(sent(&out)[0].1.starts_with("BYE "), "{:?}", sent(&out));
    assert_eq!(core.in_flight(), 1);
    assert!(
        !core.drained(t1 + quiet, quiet),
        "the BYE awaits its answer"
    );
    let bye_fwd = Message::parse(&out[0].bytes).unwrap();
    let mut ok = Vec::new();
    build_response(&bye_fwd, 200, "OK", None, &[], &mut ok);
    out.clear();
    core.handle(udp(TRUNK), &ok, t1, wall(), &mut out);
    assert_eq!(sent(&out)[0].1, "SIP/2.0 200 OK");
    assert_eq!(core.in_flight(), 0);
    assert!(
        !core.drained(t1 + quiet / 2, quiet),
        "within the quiet period"
    );
    assert!(core.drained(t1 + quiet, quiet));
}

#[test]
fn a_core_that_is_not_draining_takes_new_calls() {
    let (ctx, _) = context();
    let mut core = Endpoint::new(Arc::new(ctx));
    let mut out = Vec::new();
    core.handle(
        udp(TRUNK),
        invite("").as_bytes(),
        Instant::now(),
        wall(),
        &mut out,
    );
    assert!(sent(&out).iter().any(|(_, l)| l.starts_with("INVITE ")));
    assert_eq!(counted(&core, "callsign_requests_rejected_total"), 0);
}

/// The verifying fixture's carrier, and an INVITE from it whose one Identity header
/// failed verification: the core's deferred call, completed with that verdict.
fn failed_call(core: &mut Endpoint, t0: Instant, out: &mut Vec<Output>) -> Vec<u8> {
    let carrier_in = udp("198.51.100.7:5060");
    let text =
        invite("Identity: h.p.c2ln;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken\r\n");
    let deferred = core
        .handle(carrier_in, text.as_bytes(), t0, wall(), out)
        .expect("a verifying trunk's INVITE waits for its verification");
    assert_eq!(sent(out).len(), 1);
    assert_eq!(sent(out)[0].1, "SIP/2.0 100 Trying");
    assert!(!String::from_utf8_lossy(&out[0].bytes).contains("Reason:"));
    let verdict = crate::verify::Verdict {
        verstat: crate::verify::Verstat::Failed,
        code: Some(438),
        reason: Some(crate::sip::Reason::sip(438, "Invalid Identity Header")),
        per_header: vec![Some(438)],
    };
    out.clear();
    core.verified(deferred.id, &verdict, t0, wall(), out);
    let forwarded = out
        .iter()
        .find(|o| o.bytes.starts_with(b"INVITE "))
        .expect("forwarded despite the failure");
    assert!(!String::from_utf8_lossy(&forwarded.bytes).contains("Reason:"));
    out.iter()
        .find(|o| o.to == Dest::Peer(carrier_in))
        .map(|o| o.bytes.clone())
        .unwrap_or_default()
}

fn verifying_core() -> Endpoint {
    let (ctx, _) = crate::proxy::testing::context_with(|s| {
        s.trunks.push(crate::proxy::testing::verifying_trunk());
    });
    Endpoint::new(Arc::new(ctx))
}

const REPORT: &str = "STIR;cause=438;text=\"Invalid Identity Header\"";

fn reason_values(bytes: &[u8]) -> Vec<String> {
    Message::parse(bytes)
        .unwrap()
        .header_values(HeaderName::Reason)
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_failed_call_reports_upstream_on_the_ringing_the_core_relays() {
    let mut core = verifying_core();
    let t0 = Instant::now();
    let mut out = Vec::new();
    failed_call(&mut core, t0, &mut out);
    let ringing = answer_forwarded(&out, 180, "Ringing");
    let ok = answer_forwarded(&out, 200, "OK");
    let carrier_in = format!("{:?}", Dest::Peer(udp("198.51.100.7:5060")));
    for (answer, report) in [(&ringing, true), (&ok, false)] {
        out.clear();
        core.handle(udp(CARRIER), answer, t0, wall(), &mut out);
        assert_eq!(sent(&out).len(), 1);
        assert_eq!(sent(&out)[0].0, carrier_in);
        let expected: &[&str] = if report { &[REPORT] } else { &[] };
        assert_eq!(reason_values(&out[0].bytes), expected);
    }
}

#[test]
fn a_failed_call_nobody_answers_gets_the_report_on_our_408_and_leaves_nothing_behind() {
    let mut core = verifying_core();
    let t0 = Instant::now();
    let mut out = Vec::new();
    failed_call(&mut core, t0, &mut out);
    assert_eq!(core.table.len(), 1);
    let carrier_in = format!("{:?}", Dest::Peer(udp("198.51.100.7:5060")));
    let mut answers = Vec::new();
    // The virtual clock, half a second at a time, well past Timer B and the linger.
    for step in 1..=200u64 {
        out.clear();
        core.handle_timeout(t0 + Duration::from_millis(500 * step), wall(), &mut out);
        for (o, (to, line)) in out.iter().zip(sent(&out)) {
            if to == carrier_in {
                answers.push((line, reason_values(&o.bytes)));
            }
        }
    }
    let (first, report) = answers.first().expect("the caller gets an answer");
    assert_eq!(first, "SIP/2.0 408 Request Timeout");
    assert_eq!(report, &[REPORT]);
    // Timer G's repeats of that 408 are the same response, one report each.
    assert!(answers.iter().all(|(l, r)| l == first && r == &[REPORT]));
    assert_eq!(
        core.table.len(),
        0,
        "the transaction and its report are gone"
    );
}

/// The verifying fixture's INVITE from the carrier, held for verification at `t0`.
fn held_call(core: &mut Endpoint, t0: Instant, out: &mut Vec<Output>) -> Verify {
    let text =
        invite("Identity: h.p.c2ln;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken\r\n");
    let verify = core
        .handle(udp("198.51.100.7:5060"), text.as_bytes(), t0, wall(), out)
        .expect("held for verification");
    assert_eq!(sent(out), [(carrier_in(), "SIP/2.0 100 Trying".to_owned())]);
    assert_eq!(core.in_flight(), 1);
    verify
}

fn carrier_in() -> String {
    format!("{:?}", Dest::Peer(udp("198.51.100.7:5060")))
}

/// `method` for the fixture's INVITE transaction (its branch and CSeq number).
fn in_invite_txn(method: &str, to_tag: &str) -> String {
    format!(
        "{method} sip:2155550131@carrier.example SIP/2.0\r\n\
         Via: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-1;rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:2155550121@127.0.0.1>;tag=a1\r\n\
         To: <sip:2155550131@carrier.example>{to_tag}\r\n\
         Call-ID: c1@test\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    )
}

#[test]
fn a_cancel_during_verification_ends_the_call_with_487_at_once() {
    let mut core = verifying_core();
    let t0 = Instant::now();
    let mut out = Vec::new();
    let held = held_call(&mut core, t0, &mut out);

    out.clear();
    let cancel = in_invite_txn("CANCEL", "");
    let t1 = t0 + Duration::from_millis(50);
    core.handle(
        udp("198.51.100.7:5060"),
        cancel.as_bytes(),
        t1,
        wall(),
        &mut out,
    );
    // The CANCEL is answered and the INVITE ends here: nothing went anywhere else.
    assert_eq!(
        sent(&out),
        [
            (carrier_in(), "SIP/2.0 200 OK".to_owned()),
            (carrier_in(), "SIP/2.0 487 Request Terminated".to_owned())
        ]
    );
    assert_eq!(core.in_flight(), 0);
    let terminated = Message::parse(&out[1].bytes).unwrap();
    assert_eq!(terminated.cseq().1, Method::Invite);
    let tag = terminated.to_tag().unwrap().to_owned();

    // The verdict that comes afterwards finds nothing to complete.
    out.clear();
    let verdict = crate::verify::Verdict::no_validation();
    core.verified(held.id, &verdict, t1, wall(), &mut out);
    assert!(out.is_empty(), "{:?}", sent(&out));

    // Timer G repeats the 487 until the caller's ACK, which is absorbed.
    out.clear();
    core.handle_timeout(t1 + Duration::from_millis(500), wall(), &mut out);
    assert_eq!(
        sent(&out),
        [(carrier_in(), "SIP/2.0 487 Request Terminated".to_owned())]
    );
    out.clear();
    let ack = in_invite_txn("ACK", &format!(";tag={tag}"));
    let t2 = t1 + Duration::from_millis(600);
    core.handle(
        udp("198.51.100.7:5060"),
        ack.as_bytes(),
        t2,
        wall(),
        &mut out,
    );
    assert!(out.is_empty(), "{:?}", sent(&out));
    core.handle_timeout(t2 + Duration::from_secs(2), wall(), &mut out);
    assert!(out.is_empty(), "no repeat after the ACK: {:?}", sent(&out));
    // Timer H ends it.
    core.handle_timeout(t1 + Duration::from_secs(33), wall(), &mut out);
    assert!(core.table.is_empty());
    assert_eq!(core.poll_timeout(), None);
}

#[test]
fn a_verification_that_runs_out_of_time_lets_the_call_go_on_unverified() {
    let mut core = verifying_core();
    let t0 = Instant::now();
    let mut out = Vec::new();
    let held = held_call(&mut core, t0, &mut out);
    let wait = core.ctx.verify_max_wait;
    assert_eq!(core.poll_timeout(), Some(t0 + wait));

    // A retransmission while waiting gets the 100 again, and nothing goes upstream.
    out.clear();
    let text =
        invite("Identity: h.p.c2ln;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken\r\n");
    let t1 = t0 + wait / 2;
    core.handle(
        udp("198.51.100.7:5060"),
        text.as_bytes(),
        t1,
        wall(),
        &mut out,
    );
    core.handle_timeout(t0 + wait - Duration::from_millis(1), wall(), &mut out);
    assert_eq!(
        sent(&out),
        [(carrier_in(), "SIP/2.0 100 Trying".to_owned())]
    );

    out.clear();
    core.handle_timeout(t0 + wait, wall(), &mut out);
    let forwarded = out
        .iter()
        .find(|o| o.bytes.starts_with(b"INVITE "))
        .expect("the call goes on when the wait runs out");
    let forwarded = String::from_utf8_lossy(&forwarded.bytes);
    assert!(
        forwarded.contains("verstat=No-TN-Validation"),
        "{forwarded}"
    );
    assert!(
        core.ctx
            .metrics
            .render()
            .contains("callsign_timeouts_total{cause=\"verify_wait\"} 1")
    );
    // The verdict that comes later is dropped: the INVITE is not sent twice.
    out.clear();
    let verdict = crate::verify::Verdict::no_validation();
    core.verified(held.id, &verdict, t0 + wait, wall(), &mut out);
    assert!(out.is_empty(), "{:?}", sent(&out));
    assert_eq!(
        core.in_flight(),
        1,
        "the forwarded INVITE awaits its answer"
    );
}
