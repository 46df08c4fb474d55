use std::time::{Duration, Instant};

use super::*;
use crate::proxy::settings::Timers;
use crate::proxy::testing::{CARRIER, TRUNK, invite, udp};

fn timers() -> Timers {
    Timers {
        t1: Duration::from_millis(500),
        t2: Duration::from_secs(4),
        t4: Duration::from_secs(5),
        timer_c: Duration::from_secs(180),
    }
}

/// The INVITE as forwarded: our Via on top of the trunk's.
fn forwarded(request: &str) -> String {
    request.replacen(
        "Via: ",
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcs0000000000000000.7\r\nVia: ",
        1,
    )
}

fn txn(now: Instant) -> Txn {
    txn_with(now, Vec::new())
}

/// A transaction whose first response to the trunk other than 100 takes `feedback`.
fn txn_with(now: Instant, feedback: Vec<String>) -> Txn {
    let request = invite("");
    let msg = Message::parse(request.as_bytes()).unwrap();
    let key = ServerKey::of(&msg, Method::Invite).unwrap();
    let mut trying = Vec::new();
    build_response(&msg, 100, "Trying", None, &[], &mut trying);
    Txn::new(
        NewTxn {
            id: 7,
            key,
            kind: TxnKind::Invite,
            peer: udp(TRUNK),
            request: request.clone().into_bytes(),
            dest: Dest::Peer(udp(CARRIER)),
            forwarded: forwarded(&request).into_bytes(),
            trying,
            branch_hash: 0,
            to_tag: "cs-test".into(),
            alternates: Vec::new(),
            feedback,
        },
        now,
        &timers(),
    )
}

/// A response from the carrier to the forwarded INVITE.
fn response(status: u16, method: &str) -> Vec<u8> {
    let req = forwarded(&invite(""));
    let req = if method == "CANCEL" {
        req.replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL")
            .replacen("INVITE sip:", "CANCEL sip:", 1)
    } else {
        req
    };
    let msg = Message::parse(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    build_response(&msg, status, "X", Some("uas"), &[], &mut out);
    out
}

fn feed(t: &mut Txn, status: u16, now: Instant) -> Vec<Output> {
    let bytes = response(status, "INVITE");
    let msg = Message::parse(&bytes).unwrap();
    let mut out = Vec::new();
    t.on_response(&msg, 0, now, &timers(), &mut out);
    out
}

fn first_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn timer_a_doubles_until_timer_b_answers_408() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    let mut sent = Vec::new();
    let mut at = t0;
    let mut answer = None;
    while let Some(next) = t.next_deadline() {
        at = next;
        let mut out = Vec::new();
        t.on_timer(at, &timers(), &mut out);
        for o in out {
            if o.to == Dest::Peer(udp(CARRIER)) {
                sent.push(at - t0);
            } else if answer.is_none() {
                answer = Some((first_line(&o), at - t0));
            }
        }
        if answer.is_some() {
            break;
        }
    }
    let ms: Vec<u128> = sent.iter().map(|d| d.as_millis()).collect();
    assert_eq!(ms, vec![500, 1500, 3500, 7500, 15500, 31500]);
    let (line, when) = answer.expect("408 to the trunk");
    assert_eq!(line, "SIP/2.0 408 Request Timeout");
    assert_eq!(when, Duration::from_secs(32));
    let _ = at;
}

#[test]
fn provisional_stops_retransmission_and_is_relayed_without_our_via() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    assert!(
        feed(&mut t, 100, t0).is_empty(),
        "100 Trying is not forwarded"
    );
    assert_eq!(t.retransmit_at, None);
    let out = feed(&mut t, 180, t0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, Dest::Peer(udp(TRUNK)));
    let relayed = Message::parse(&out[0].bytes).unwrap();
    assert_eq!(relayed.vias().count(), 1);
    // A retransmitted INVITE now gets the 180 again.
    let again = t.on_retransmission().unwrap();
    assert_eq!(first_line(&again), "SIP/2.0 180 X");
}

#[test]
fn success_is_forwarded_every_time_and_the_entry_expires() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    assert_eq!(feed(&mut t, 200, t0).len(), 1);
    assert_eq!(
        feed(&mut t, 200, t0).len(),
        1,
        "2xx retransmissions pass through"
    );
    assert!(
        t.on_retransmission().is_none(),
        "INVITE retransmissions are absorbed"
    );
    let mut out = Vec::new();
    let fired = t.on_timer(t0 + Duration::from_secs(32), &timers(), &mut out);
    assert!(fired.remove);
    assert!(out.is_empty());
}

#[test]
fn failure_is_acked_hop_by_hop_and_retransmitted_until_the_trunk_acks() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    let out = feed(&mut t, 486, t0);
    assert_eq!(out.len(), 2);
    let ack = out
        .iter()
        .find(|o| o.to == Dest::Peer(udp(CARRIER)))
        .unwrap();
    let ack = Message::parse(&ack.bytes).unwrap();
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(ack.to_tag(), Some("uas"));
    assert_eq!(
        ack.top_via().unwrap().branch,
        Some("z9hG4bKcs0000000000000000.7")
    );
    // A retransmitted 486 is ACKed again but not relayed.
    let out = feed(&mut t, 486, t0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, Dest::Peer(udp(CARRIER)));
    // Timer G repeats the 486 to the trunk until its ACK arrives.
    let mut out = Vec::new();
    t.on_timer(t0 + Duration::from_millis(500), &timers(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(first_line(&out[0]), "SIP/2.0 486 X");
    t.on_ack();
    let mut out = Vec::new();
    t.on_timer(t0 + Duration::from_millis(1500), &timers(), &mut out);
    assert!(out.is_empty());
}

#[test]
fn cancel_waits_for_a_provisional_then_goes_upstream() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    let mut out = Vec::new();
    t.on_cancel(t0, &timers(), &mut out);
    assert!(
        out.is_empty(),
        "no CANCEL before a provisional (RFC 3261 9.1)"
    );
    let out = feed(&mut t, 180, t0);
    let cancel = out
        .iter()
        .find(|o| o.to == Dest::Peer(udp(CARRIER)))
        .expect("CANCEL sent on the provisional");
    let cancel = Message::parse(&cancel.bytes).unwrap();
    assert_eq!(cancel.method(), Some(Method::Cancel));
    assert_eq!(cancel.cseq(), (1, Method::Cancel));
    // The carrier's 200 to the CANCEL stops its retransmission.
    let ok = response(200, "CANCEL");
    let mut out = Vec::new();
    t.on_response(&Message::parse(&ok).unwrap(), 0, t0, &timers(), &mut out);
    assert!(out.is_empty());
    assert_eq!(t.cancel_at, None);
}

#[test]
fn timer_c_cancels_upstream_and_answers_408_when_the_cancel_completes() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    feed(&mut t, 180, t0);
    let mut out = Vec::new();
    let fired = t.on_timer(t0 + Duration::from_secs(180), &timers(), &mut out);
    assert_eq!(fired.expired, Some(Expiry::TimerC));
    let lines: Vec<String> = out.iter().map(first_line).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("CANCEL "), "{lines:?}");
    // The 487 the CANCEL brings is ACKed, and the trunk gets 408.
    let out = feed(&mut t, 487, t0 + Duration::from_secs(181));
    let lines: Vec<String> = out.iter().map(first_line).collect();
    assert!(lines.iter().any(|l| l.starts_with("ACK ")), "{lines:?}");
    assert!(
        lines.contains(&"SIP/2.0 408 Request Timeout".to_string()),
        "{lines:?}"
    );
}

#[test]
fn a_final_response_after_timer_b_is_still_acked() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    let mut out = Vec::new();
    t.on_timer(t0 + Duration::from_secs(32), &timers(), &mut out);
    let out = feed(&mut t, 480, t0 + Duration::from_secs(33));
    assert_eq!(out.len(), 1);
    assert!(
        first_line(&out[0]).starts_with("ACK "),
        "{:?}",
        first_line(&out[0])
    );
    assert_eq!(out[0].to, Dest::Peer(udp(CARRIER)));
}

#[test]
fn a_503_from_the_next_hop_reaches_the_trunk_as_500() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    let out = feed(&mut t, 503, t0);
    let relayed = out.iter().find(|o| o.to == Dest::Peer(udp(TRUNK))).unwrap();
    assert_eq!(first_line(relayed), "SIP/2.0 500 Server Internal Error");
    assert!(Message::parse(&relayed.bytes).is_ok());
}

#[test]
fn timer_f_ends_a_non_invite_without_a_408() {
    let t0 = Instant::now();
    let bye = invite("")
        .replacen("INVITE sip:", "BYE sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 2 BYE");
    let msg = Message::parse(bye.as_bytes()).unwrap();
    let mut t = Txn::new(
        NewTxn {
            id: 8,
            key: ServerKey::of(&msg, Method::Bye).unwrap(),
            kind: TxnKind::NonInvite,
            peer: udp(TRUNK),
            request: bye.clone().into_bytes(),
            dest: Dest::Peer(udp(CARRIER)),
            forwarded: forwarded(&bye).into_bytes(),
            trying: Vec::new(),
            branch_hash: 0,
            to_tag: "cs-test".into(),
            alternates: Vec::new(),
            feedback: Vec::new(),
        },
        t0,
        &timers(),
    );
    let mut sent_to_trunk = 0;
    let mut expired = None;
    let mut now = t0;
    while let Some(next) = t.next_deadline() {
        now = next;
        let mut out = Vec::new();
        let fired = t.on_timer(now, &timers(), &mut out);
        sent_to_trunk += out
            .iter()
            .filter(|o| o.to == Dest::Peer(udp(TRUNK)))
            .count();
        expired = expired.or(fired.expired);
        if fired.remove {
            break;
        }
    }
    assert_eq!(expired, Some(Expiry::TimerF));
    assert_eq!(sent_to_trunk, 0, "RFC 4320: no 408 for a non-INVITE");
    assert!(now - t0 >= Duration::from_secs(32));
}

/// The second origination URL of the failover tests, and the INVITE as it goes there.
const BACKUP: &str = "192.0.2.60:5080";

fn txn_with_backup(now: Instant) -> Txn {
    let mut t = txn(now);
    let second = forwarded(&invite("")).replace(
        "branch=z9hG4bKcs0000000000000000.7",
        "branch=z9hG4bKcs0000000000000000.7.1",
    );
    t.alternates
        .push_back((Dest::Peer(udp(BACKUP)), second.into_bytes()));
    t
}

fn feed_attempt(t: &mut Txn, status: u16, attempt: u32, now: Instant) -> Vec<Output> {
    let bytes = response(status, "INVITE");
    let msg = Message::parse(&bytes).unwrap();
    let mut out = Vec::new();
    t.on_response(&msg, attempt, now, &timers(), &mut out);
    out
}

fn lines(out: &[Output]) -> Vec<(Dest, String)> {
    out.iter().map(|o| (o.to.clone(), first_line(o))).collect()
}

#[test]
fn a_503_fails_over_to_the_next_origination_url() {
    let t0 = Instant::now();
    let mut t = txn_with_backup(t0);
    let (carrier, backup, trunk) = (
        Dest::Peer(udp(CARRIER)),
        Dest::Peer(udp(BACKUP)),
        Dest::Peer(udp(TRUNK)),
    );
    let out = feed_attempt(&mut t, 503, 0, t0);
    let invite_line = first_line(&Output {
        to: backup.clone(),
        bytes: invite("").into_bytes(),
    });
    assert_eq!(
        lines(&out),
        [
            (
                carrier.clone(),
                "ACK sip:2155550131@carrier.example SIP/2.0".into()
            ),
            (backup.clone(), invite_line.clone()),
        ],
        "the 503 is ACKed and the INVITE goes to the backup; the trunk hears nothing"
    );
    assert!(
        String::from_utf8_lossy(&out[1].bytes).contains("branch=z9hG4bKcs0000000000000000.7.1"),
        "a new branch for the new client transaction"
    );
    // The first carrier retransmits its 503: ACKed again, never relayed.
    let out = feed_attempt(&mut t, 503, 0, t0 + Duration::from_millis(500));
    assert_eq!(
        lines(&out),
        [(
            carrier.clone(),
            "ACK sip:2155550131@carrier.example SIP/2.0".into()
        )]
    );
    // Retransmissions now go to the backup.
    let mut out = Vec::new();
    t.on_timer(t0 + Duration::from_millis(500), &timers(), &mut out);
    assert_eq!(lines(&out), [(backup.clone(), invite_line)]);
    // The backup answers: the trunk gets its answer.
    let out = feed_attempt(&mut t, 200, 1, t0 + Duration::from_secs(1));
    assert_eq!(lines(&out), [(trunk, "SIP/2.0 200 X".into())]);
}

#[test]
fn the_last_origination_urls_503_reaches_the_trunk_as_500() {
    let t0 = Instant::now();
    let mut t = txn_with_backup(t0);
    feed_attempt(&mut t, 503, 0, t0);
    let out = feed_attempt(&mut t, 503, 1, t0);
    let trunk = Dest::Peer(udp(TRUNK));
    assert!(
        lines(&out).contains(&(trunk, "SIP/2.0 500 Server Internal Error".into())),
        "{:?}",
        lines(&out)
    );
}

#[test]
fn a_silent_origination_url_is_given_up_at_timer_b() {
    let t0 = Instant::now();
    let mut t = txn_with_backup(t0);
    let backup = Dest::Peer(udp(BACKUP));
    let mut first_to_backup = None;
    let mut answer = None;
    while let Some(at) = t.next_deadline() {
        let mut out = Vec::new();
        let fired = t.on_timer(at, &timers(), &mut out);
        for o in &out {
            if o.to == backup && first_to_backup.is_none() {
                first_to_backup = Some((at - t0, fired.expired));
            } else if o.to == Dest::Peer(udp(TRUNK)) {
                answer = Some((first_line(o), at - t0));
            }
        }
        if answer.is_some() {
            break;
        }
    }
    assert_eq!(
        first_to_backup,
        Some((Duration::from_secs(32), Some(Expiry::TimerB)))
    );
    // The backup is silent too: 408 a Timer B later.
    let (line, when) = answer.expect("408 to the trunk");
    assert_eq!(line, "SIP/2.0 408 Request Timeout");
    assert_eq!(when, Duration::from_secs(64));
}

#[test]
fn a_cancelled_call_does_not_fail_over() {
    let t0 = Instant::now();
    let mut t = txn_with_backup(t0);
    feed_attempt(&mut t, 180, 0, t0);
    let mut out = Vec::new();
    t.on_cancel(t0, &timers(), &mut out);
    let out = feed_attempt(&mut t, 503, 0, t0);
    assert!(
        out.iter().all(|o| o.to != Dest::Peer(udp(BACKUP))),
        "{:?}",
        lines(&out)
    );
}

const STIR: &str = "STIR;cause=438;text=\"Invalid Identity Header\";ppi=\"..c2ln\"";

/// A transaction holding the feedback of one failed Identity header.
fn failed_txn(now: Instant) -> Txn {
    txn_with(now, vec![STIR.to_string()])
}

/// The Reason values of a message, in order.
fn reasons(bytes: &[u8]) -> Vec<String> {
    let msg = Message::parse(bytes).unwrap();
    msg.header_values(HeaderName::Reason)
        .map(str::to_string)
        .collect()
}

/// What went to the trunk.
fn to_trunk(out: &[Output]) -> Vec<&Output> {
    out.iter()
        .filter(|o| o.to == Dest::Peer(udp(TRUNK)))
        .collect()
}

fn feed_with(t: &mut Txn, status: u16, extra: &[(HeaderName, &str)], now: Instant) -> Vec<Output> {
    let req = forwarded(&invite(""));
    let msg = Message::parse(req.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    build_response(&msg, status, "X", Some("uas"), extra, &mut bytes);
    let mut out = Vec::new();
    t.on_response(
        &Message::parse(&bytes).unwrap(),
        0,
        now,
        &timers(),
        &mut out,
    );
    out
}

#[test]
fn feedback_rides_on_the_first_provisional_and_no_later_response() {
    let t0 = Instant::now();
    let mut t = failed_txn(t0);
    assert!(feed(&mut t, 100, t0).is_empty(), "100 is hop-by-hop");
    let out = feed(&mut t, 180, t0);
    assert_eq!(reasons(&to_trunk(&out)[0].bytes), [STIR]);
    // A retransmitted INVITE gets that same 180 again, with its one Reason.
    let again = t.on_retransmission().unwrap();
    assert_eq!(first_line(&again), "SIP/2.0 180 X");
    assert_eq!(reasons(&again.bytes), [STIR]);
    // The next hop repeating its 180, then a 183 and the 200: none of them carries it.
    for status in [180, 183, 200, 200] {
        let out = feed(&mut t, status, t0);
        let relayed = to_trunk(&out);
        assert_eq!(relayed.len(), 1, "{status}");
        assert!(reasons(&relayed[0].bytes).is_empty(), "{status}");
    }
}

#[test]
fn feedback_rides_on_a_final_response_and_its_retransmissions_by_timer_g() {
    let t0 = Instant::now();
    let mut t = failed_txn(t0);
    let out = feed(&mut t, 486, t0);
    let relayed = to_trunk(&out);
    assert_eq!(first_line(relayed[0]), "SIP/2.0 486 X");
    assert_eq!(reasons(&relayed[0].bytes), [STIR]);
    // The ACK to the next hop carries nothing of it.
    let ack = out
        .iter()
        .find(|o| o.to == Dest::Peer(udp(CARRIER)))
        .unwrap();
    assert!(reasons(&ack.bytes).is_empty());
    // The next hop's retransmission is ACKed, not relayed.
    assert!(to_trunk(&feed(&mut t, 486, t0)).is_empty());
    // Timer G repeats the very same 486, with exactly one Reason.
    let mut out = Vec::new();
    t.on_timer(t0 + Duration::from_millis(500), &timers(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, relayed[0].bytes);
    assert_eq!(reasons(&out[0].bytes), [STIR]);
}

#[test]
fn feedback_rides_on_a_2xx_when_it_comes_first_but_not_on_its_retransmissions() {
    let t0 = Instant::now();
    let mut t = failed_txn(t0);
    let first = feed(&mut t, 200, t0);
    assert_eq!(reasons(&to_trunk(&first)[0].bytes), [STIR]);
    let again = feed(&mut t, 200, t0);
    assert!(reasons(&to_trunk(&again)[0].bytes).is_empty());
}

#[test]
fn feedback_rides_on_our_own_408_when_the_next_hop_never_answers() {
    let t0 = Instant::now();
    let mut t = failed_txn(t0);
    let mut answer = None;
    while let (Some(at), None) = (t.next_deadline(), &answer) {
        let mut out = Vec::new();
        t.on_timer(at, &timers(), &mut out);
        answer = to_trunk(&out).first().map(|o| o.bytes.clone());
    }
    let answer = answer.expect("an answer to the trunk");
    assert_eq!(
        String::from_utf8_lossy(&answer).lines().next(),
        Some("SIP/2.0 408 Request Timeout")
    );
    assert_eq!(reasons(&answer), [STIR]);
    // The entry then expires, feedback and all.
    let mut fired = Fired::default();
    while let Some(at) = t.next_deadline() {
        fired = t.on_timer(at, &timers(), &mut Vec::new());
        if fired.remove {
            break;
        }
    }
    assert!(fired.remove);
}

#[test]
fn feedback_rides_on_the_408_that_ends_a_call_timer_c_gave_up_on() {
    // Only a 100 from the next hop: Timer C cancels the call, and the trunk gets 408
    // once the CANCEL's 487 arrives.
    let t0 = Instant::now();
    let mut t = failed_txn(t0);
    feed(&mut t, 100, t0);
    let mut out = Vec::new();
    t.on_timer(t0 + Duration::from_secs(180), &timers(), &mut out);
    assert!(to_trunk(&out).is_empty());
    let out = feed(&mut t, 487, t0 + Duration::from_secs(181));
    let answer = to_trunk(&out);
    assert_eq!(first_line(answer[0]), "SIP/2.0 408 Request Timeout");
    assert_eq!(reasons(&answer[0].bytes), [STIR]);
}

#[test]
fn a_reason_from_the_next_hop_is_kept_as_it_is_beside_ours() {
    let t0 = Instant::now();
    let mut t = failed_txn(t0);
    let theirs = "Q.850 ;cause=17 ;text=\"User busy\"";
    let out = feed_with(&mut t, 486, &[(HeaderName::Reason, theirs)], t0);
    let relayed = to_trunk(&out)[0];
    assert_eq!(reasons(&relayed.bytes), [theirs, STIR]);
    let text = String::from_utf8_lossy(&relayed.bytes);
    assert!(
        text.contains(&format!("\r\nReason: {theirs}\r\n")),
        "{text}"
    );
}

#[test]
fn without_feedback_nothing_is_added() {
    let t0 = Instant::now();
    let mut t = txn(t0);
    for status in [180, 486] {
        let out = feed(&mut t, status, t0);
        assert!(reasons(&to_trunk(&out)[0].bytes).is_empty(), "{status}");
    }
}
