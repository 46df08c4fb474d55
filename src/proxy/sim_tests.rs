//! The transaction behaviour of the whole endpoint, over an in-memory network on a
//! virtual clock ([`super::sim`]): retransmissions, Timers A to K, CANCEL races and the
//! two kinds of ACK, with datagrams lost, delayed and reordered. None waits for real
//! time.

use std::time::Duration;

use super::sim::{Party, Sim, answer, answering, perfect_link, silent};
use super::testing::invite;
use crate::sip::{Message, Method};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn counted(sim: &Sim, sample: &str) -> bool {
    sim.proxy.ctx.metrics.render().lines().any(|l| l == sample)
}

/// The caller's ACK for a non-2xx final response: same branch as the INVITE.
fn ack_for_failure(sim: &Sim) -> String {
    let last = sim.caller_got.last().expect("a final response");
    let tag = Message::parse(&last.bytes)
        .unwrap()
        .to_tag()
        .unwrap()
        .to_owned();
    invite("")
        .replace(
            "INVITE sip:2155550131@carrier.example",
            "ACK sip:2155550131@carrier.example",
        )
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        .replace(
            "To: <sip:2155550131@carrier.example>\r\n",
            &format!("To: <sip:2155550131@carrier.example>;tag={tag}\r\n"),
        )
}

#[test]
fn a_call_completes_end_to_end_and_leaves_nothing_behind() {
    let mut sim = Sim::new(|_| {}, perfect_link(), answering(ms(100)));
    sim.caller_sends(&invite(""));
    sim.run_for(secs(1));
    assert_eq!(
        sim.caller_lines(),
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK"
        ]
    );
    let forwarded = String::from_utf8_lossy(&sim.callee_got[0].bytes).into_owned();
    assert!(forwarded.contains("\r\nIdentity: "), "{forwarded}");
    // The 2xx's ACK is the caller's own, forwarded end to end (RFC 6026).
    sim.caller_sends(&sim.caller_in_dialog("ACK", 1));
    sim.caller_sends(&sim.caller_in_dialog("BYE", 2));
    sim.run_for(secs(1));
    assert_eq!(
        sim.callee_lines()[1..],
        [
            "ACK sip:2155550131@192.0.2.50:5080 SIP/2.0",
            "BYE sip:2155550131@192.0.2.50:5080 SIP/2.0"
        ]
    );
    assert_eq!(sim.caller_lines().last().unwrap(), "SIP/2.0 200 OK");
    // Timers H and J run out, and the table is empty.
    sim.run_for(secs(40));
    assert!(sim.proxy.table.is_empty());
    assert_eq!(sim.proxy.poll_timeout(), None);
}

#[test]
fn a_retransmitted_invite_is_absorbed_and_signed_once() {
    // The caller's first 100 Trying is lost, so it sends the INVITE again.
    let mut lost = false;
    let link = Box::new(move |from, _: Party, bytes: &[u8]| {
        if from == Party::Proxy && bytes.starts_with(b"SIP/2.0 100") && !lost {
            lost = true;
            return None;
        }
        Some(ms(1))
    });
    let mut sim = Sim::new(|_| {}, link, answering(secs(2)));
    sim.caller_sends(&invite(""));
    sim.run_for(ms(500));
    assert_eq!(sim.caller_lines(), ["SIP/2.0 180 Ringing"]);
    sim.caller_sends(&invite(""));
    sim.run_for(secs(3));
    assert_eq!(
        sim.callee_times("INVITE ").len(),
        1,
        "{:?}",
        sim.callee_lines()
    );
    // The retransmission is answered from the transaction: its last response again.
    assert_eq!(
        sim.caller_lines(),
        [
            "SIP/2.0 180 Ringing",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK"
        ]
    );
    assert!(counted(&sim, "callsign_retransmissions_absorbed_total 1"));
    assert!(counted(
        &sim,
        "callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1"
    ));
}

#[test]
fn timer_a_repeats_the_invite_until_timer_b_answers_408() {
    let mut sim = Sim::new(|_| {}, perfect_link(), silent());
    sim.caller_sends(&invite(""));
    sim.run_for(secs(40));
    // Sent at 1 ms, then Timer A: T1, 2T1, 4T1, ... until Timer B at 64*T1.
    let sent: Vec<u64> = sim
        .callee_times("INVITE ")
        .iter()
        .map(|d| d.as_millis() as u64)
        .collect();
    assert_eq!(sent, [2, 502, 1502, 3502, 7502, 15502, 31502]);
    let first = &sim.caller_got[1];
    assert_eq!(sim.caller_lines()[0], "SIP/2.0 100 Trying");
    assert_eq!(first.first_line(), "SIP/2.0 408 Request Timeout");
    assert_eq!((first.at - sim.start).as_millis(), 32_002);
    assert!(counted(
        &sim,
        "callsign_timeouts_total{cause=\"timer_b\"} 1"
    ));
}

#[test]
fn a_lost_forwarded_invite_is_sent_again_at_t1_and_the_call_completes() {
    let mut lost = false;
    let link = Box::new(move |from, to, bytes: &[u8]| {
        if (from, to) == (Party::Proxy, Party::Callee) && bytes.starts_with(b"INVITE") && !lost {
            lost = true;
            return None;
        }
        Some(ms(1))
    });
    let mut sim = Sim::new(|_| {}, link, answering(ms(10)));
    sim.caller_sends(&invite(""));
    sim.run_for(secs(2));
    assert_eq!(sim.callee_times("INVITE ").len(), 1);
    assert_eq!(sim.callee_times("INVITE ")[0], ms(502));
    assert_eq!(sim.caller_lines().last().unwrap(), "SIP/2.0 200 OK");
}

#[test]
fn a_failure_is_acked_hop_by_hop_and_timer_g_repeats_it_until_the_callers_ack() {
    let callee = Box::new(|req: &Message<'_>| match req.method() {
        Some(Method::Invite) => vec![(ms(5), answer(req, 486, "Busy Here"))],
        _ => Vec::new(),
    });
    // The caller does not hear the first two 486s.
    let mut lost = 0;
    let link = Box::new(move |from, to, bytes: &[u8]| {
        if (from, to) == (Party::Proxy, Party::Caller) && bytes.starts_with(b"SIP/2.0 486") {
            lost += 1;
            if lost <= 2 {
                return None;
            }
        }
        Some(ms(1))
    });
    let mut sim = Sim::new(|_| {}, link, callee);
    sim.caller_sends(&invite(""));
    sim.run_for(secs(2));
    // The callee's 486 is ACKed by callsign, once.
    assert_eq!(sim.callee_times("ACK ").len(), 1);
    // Timer G: the 486 again after T1 and 2T1; the third reaches the caller.
    let busy: Vec<_> = sim
        .caller_got
        .iter()
        .filter(|g| g.first_line() == "SIP/2.0 486 Busy Here")
        .map(|g| (g.at - sim.start).as_millis())
        .collect();
    assert_eq!(busy, [1509]);
    sim.caller_sends(&ack_for_failure(&sim));
    sim.run_for(secs(10));
    // The ACK is absorbed: no more 486s, and nothing more reaches the callee.
    assert_eq!(sim.caller_got.len(), 2, "{:?}", sim.caller_lines());
    assert_eq!(sim.callee_times("ACK ").len(), 1);
    // Timer H ends the transaction.
    sim.run_for(secs(30));
    assert!(sim.proxy.table.is_empty());
}

#[test]
fn a_retransmitted_final_response_is_acked_again_but_not_forwarded_again() {
    // The callee's ACK is lost, so it sends its 486 again.
    let mut lost = false;
    let link = Box::new(move |from, to, bytes: &[u8]| {
        if (from, to) == (Party::Proxy, Party::Callee) && bytes.starts_with(b"ACK") && !lost {
            lost = true;
            return None;
        }
        Some(ms(1))
    });
    let callee = Box::new(|req: &Message<'_>| match req.method() {
        Some(Method::Invite) => vec![
            (ms(5), answer(req, 486, "Busy Here")),
            (ms(505), answer(req, 486, "Busy Here")),
        ],
        _ => Vec::new(),
    });
    let mut sim = Sim::new(|_| {}, link, callee);
    sim.caller_sends(&invite(""));
    sim.run_for(ms(100));
    sim.caller_sends(&ack_for_failure(&sim));
    sim.run_for(secs(2));
    assert_eq!(sim.callee_times("ACK ").len(), 1, "the second ACK arrives");
    let busy = sim
        .caller_lines()
        .iter()
        .filter(|l| *l == "SIP/2.0 486 Busy Here")
        .count();
    assert_eq!(busy, 1);
}

#[test]
fn a_cancel_before_any_provisional_waits_for_one_then_goes_upstream() {
    // The callee's 180 comes late; the caller cancels before it.
    let callee = Box::new(|req: &Message<'_>| match req.method() {
        Some(Method::Invite) => vec![(ms(300), answer(req, 180, "Ringing"))],
        Some(Method::Cancel) => vec![(ms(1), answer(req, 200, "OK"))],
        _ => Vec::new(),
    });
    let mut sim = Sim::new(|_| {}, perfect_link(), callee);
    sim.caller_sends(&invite(""));
    sim.run_for(ms(50));
    let cancel = invite("")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    sim.caller_sends(&cancel);
    sim.run_for(ms(100));
    assert!(sim.caller_lines().contains(&"SIP/2.0 200 OK".to_owned()));
    assert!(
        sim.callee_times("CANCEL ").is_empty(),
        "no CANCEL before a provisional"
    );
    sim.run_for(ms(300));
    assert_eq!(sim.callee_times("CANCEL ").len(), 1);
    assert!(sim.callee_times("CANCEL ")[0] >= ms(302));
    // The callee never answers the INVITE: after 64*T1 the caller gets 487.
    sim.run_for(secs(40));
    assert_eq!(
        sim.caller_lines().last().unwrap(),
        "SIP/2.0 487 Request Terminated"
    );
}

#[test]
fn timer_c_cancels_a_call_that_rings_too_long_and_the_caller_gets_408() {
    let callee = Box::new(|req: &Message<'_>| match req.method() {
        Some(Method::Invite) => vec![(ms(1), answer(req, 180, "Ringing"))],
        Some(Method::Cancel) => vec![(ms(1), answer(req, 200, "OK"))],
        _ => Vec::new(),
    });
    let mut sim = Sim::new(
        |s| s.timers.timer_c = Duration::from_secs(60),
        perfect_link(),
        callee,
    );
    sim.caller_sends(&invite(""));
    sim.run_for(secs(59));
    assert!(sim.callee_times("CANCEL ").is_empty());
    sim.run_for(secs(2));
    assert_eq!(sim.callee_times("CANCEL ").len(), 1);
    // The callee never sends the 487: Timer B after the CANCEL ends it with 408.
    sim.run_for(secs(40));
    assert_eq!(
        sim.caller_lines().last().unwrap(),
        "SIP/2.0 408 Request Timeout"
    );
    assert!(counted(
        &sim,
        "callsign_timeouts_total{cause=\"timer_c\"} 1"
    ));
}

#[test]
fn timer_e_repeats_a_bye_up_to_t2_and_timer_f_ends_it_without_a_408() {
    let mut sim = Sim::new(|_| {}, perfect_link(), answering(ms(1)));
    sim.caller_sends(&invite(""));
    sim.run_for(secs(1));
    let bye = sim.caller_in_dialog("BYE", 2);
    sim.callee_got.clear();
    // From now on the callee is silent.
    let mut sim = sim;
    sim.set_callee(silent());
    let sent_at = sim.elapsed();
    sim.caller_sends(&bye);
    sim.run_for(secs(40));
    let gaps: Vec<u64> = sim
        .callee_times("BYE ")
        .iter()
        .map(|d| (*d - sent_at).as_millis() as u64)
        .collect();
    assert_eq!(
        gaps[..7],
        [2, 502, 1502, 3502, 7502, 11502, 15502],
        "doubling from T1, capped at T2"
    );
    assert!(counted(
        &sim,
        "callsign_timeouts_total{cause=\"timer_f\"} 1"
    ));
    // RFC 4320: no 408 to a non-INVITE request.
    assert!(!sim.caller_lines().iter().any(|l| l.contains("408")));
}

#[test]
fn a_late_provisional_after_the_answer_is_not_relayed() {
    // The 180 is held up on the wire past the 200.
    let link = Box::new(|from, _: Party, bytes: &[u8]| {
        if from == Party::Callee && bytes.starts_with(b"SIP/2.0 180") {
            return Some(ms(50));
        }
        Some(ms(1))
    });
    let mut sim = Sim::new(|_| {}, link, answering(ms(10)));
    sim.caller_sends(&invite(""));
    sim.run_for(secs(1));
    assert_eq!(sim.caller_lines(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
}

/// Many calls over a link that loses one datagram in ten and delays each by up to
/// 40 ms (so they overtake one another), the caller retransmitting as RFC 3261 says:
/// every call is answered, none is signed twice, and nothing is left behind.
#[test]
fn calls_over_a_lossy_reordering_link_all_complete_and_leave_nothing_behind() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let link = Box::new(move |_, _, _: &[u8]| {
        let r = next();
        (r % 10 != 0).then(|| ms(1 + (r >> 8) % 40))
    });
    // A callee that, as a UAS core does, repeats its 200 until (it assumes) it got
    // through: the proxy does not retransmit a 2xx.
    let callee = Box::new(|req: &Message<'_>| match req.method() {
        Some(Method::Invite) => [20, 520, 1520, 3520, 7520]
            .into_iter()
            .map(|t| (ms(t), answer(req, 200, "OK")))
            .collect(),
        _ => Vec::new(),
    });
    let mut sim = Sim::new(|_| {}, link, callee);
    let calls = 200;
    let invites: Vec<String> = (0..calls)
        .map(|i| {
            invite("")
                .replace("c1@test", &format!("c{i}@test"))
                .replace("z9hG4bK-1", &format!("z9hG4bK-{i}"))
        })
        .collect();
    let answered = |sim: &Sim, i: usize| {
        sim.caller_got.iter().any(|g| {
            g.first_line() == "SIP/2.0 200 OK"
                && Message::parse(&g.bytes).is_ok_and(|m| m.call_id() == format!("c{i}@test"))
        })
    };
    // Timer A on the caller's side: again at T1, 2T1, 4T1 ... until answered.
    let mut wait = ms(500);
    for text in &invites {
        sim.caller_sends(text);
    }
    for _ in 0..6 {
        sim.run_for(wait);
        for (i, text) in invites.iter().enumerate() {
            if !answered(&sim, i) {
                sim.caller_sends(text);
            }
        }
        wait *= 2;
    }
    sim.run_for(secs(5));
    let missing: Vec<usize> = (0..calls).filter(|&i| !answered(&sim, i)).collect();
    assert!(missing.is_empty(), "unanswered: {missing:?}");
    let signed = sim
        .proxy
        .ctx
        .metrics
        .render()
        .lines()
        .find(|l| l.starts_with("callsign_calls_signed_total{level=\"A\""))
        .map(str::to_owned)
        .unwrap();
    assert_eq!(
        signed,
        format!("callsign_calls_signed_total{{level=\"A\",reason=\"a_full\"}} {calls}")
    );
    sim.run_for(secs(60));
    assert!(sim.proxy.table.is_empty());
    assert_eq!(sim.proxy.in_flight(), 0);
}
