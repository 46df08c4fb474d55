use super::*;
use crate::metrics::{Rejected, Unsigned};
use crate::passport::Attest;
use crate::proxy::testing::{self, CARRIER, TRUNK, context, context_with, invite, udp, wall};
use crate::proxy::{Feedback, Transport};
use crate::sip::Rport;
use crate::trust::{Reason, Sid};

fn forward(ctx: &Context, text: &str, src: Peer) -> Forward {
    let msg = Message::parse(text.as_bytes()).expect("test message parses");
    match decide(ctx, &msg, src, 42, wall(), None) {
        Action::Forward(f) => f,
        Action::Respond { status, reason, .. } => panic!("refused: {status} {reason}"),
        Action::Answer(a) => panic!("answered: {}", a.status),
    }
}

fn refusal(ctx: &Context, text: &str, src: Peer) -> (u16, Rejected) {
    let msg = Message::parse(text.as_bytes()).expect("test message parses");
    match decide(ctx, &msg, src, 42, wall(), None) {
        Action::Respond { status, cause, .. } => (status, cause),
        Action::Forward(_) => panic!("forwarded"),
        Action::Answer(a) => panic!("answered: {}", a.status),
    }
}

/// The claims of a signed Identity header, decoded by jsonwebtoken (the independent
/// decoder) once the signature verifies with `key` (a SEC1 point).
fn claims(value: &str, key: &[u8]) -> serde_json::Value {
    let header = crate::sip::Identity::parse(value).expect("Identity parses");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_ec_der(key);
    jsonwebtoken::decode::<serde_json::Value>(header.jws, &key, &validation)
        .expect("signature verifies")
        .claims
}

#[test]
fn branch_carries_the_transaction_id() {
    let b = branch(0xdead_beef, 0x2a);
    assert!(b.starts_with("z9hG4bK"));
    assert_eq!(branch_parts(&b), Some((0xdead_beef, 0x2a)));
    assert_eq!(branch_parts("z9hG4bK-someone-else"), None);
}

#[test]
fn initial_invite_from_a_trunk_is_signed_and_edited_in_place() {
    let (ctx, key) = context();
    let text = invite("");
    let f = forward(&ctx, &text, udp(TRUNK));
    assert_eq!(f.dest, Dest::Peer(udp(CARRIER)));
    let Some(Signing::Signed(a)) = &f.signing else {
        panic!("not signed: {:?}", f.signing)
    };
    assert_eq!((a.level, a.reason), (Attest::A, Reason::AFull));

    let out = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    let vias: Vec<_> = msg.vias().map(Result::unwrap).collect();
    assert_eq!(vias[0].host, "127.0.0.1");
    assert_eq!(
        vias[0].branch.and_then(branch_parts).map(|(_, id)| id),
        Some(42)
    );
    assert_eq!(vias[1].rport, Rport::Value(5070));
    assert_eq!(msg.header(HeaderName::MaxForwards), Some("69"));
    assert_eq!(
        msg.header(HeaderName::RecordRoute),
        Some("<sip:127.0.0.1:5060;transport=udp;lr>")
    );
    // Unknown headers and the body are untouched, byte for byte.
    assert!(out.contains("\r\nX-Unknown:   odd  spacing ;kept\r\n"));
    assert!(out.ends_with(&format!("\r\n\r\n{}", testing::SDP)));
    assert_eq!(
        msg.header(HeaderName::Date),
        Some("Mon, 21 Sep 2026 14:13:20 GMT")
    );

    let c = claims(msg.header(HeaderName::Identity).unwrap(), &key);
    assert_eq!(c["attest"], Attest::A.as_str());
    assert_eq!(c["orig"]["tn"], "12155550121");
    assert_eq!(c["dest"]["tn"], serde_json::json!(["12155550131"]));
    assert_eq!(c["iat"], testing::NOW_UNIX);
    assert_eq!(c["origid"], &*ctx.trunks[0].origid);
}

#[test]
fn p_asserted_identity_wins_over_from() {
    let (ctx, key) = context();
    let text = invite(
        "P-Asserted-Identity: \"Desk\" <sip:+1-215-555-0122@example.com>, <tel:+12155550122>\r\n",
    );
    let f = forward(&ctx, &text, udp(TRUNK));
    let msg_text = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(msg_text.as_bytes()).unwrap();
    let c = claims(msg.header(HeaderName::Identity).unwrap(), &key);
    assert_eq!(c["orig"]["tn"], "12155550122");
}

/// RFC 8224 section 8.3 keeps `*` and `#`: a call to a service code (`*67`, `#`
/// escaped in the URI) is signed with the code in its `dest`, not refused.
#[test]
fn service_codes_with_star_and_hash_are_signed_as_dialed() {
    let (ctx, key) = context();
    let text = invite("")
        .replace("To: <sip:2155550131@", "To: <sip:*67-215-555-0131%23@")
        .replace("INVITE sip:2155550131@", "INVITE sip:*672155550131%23@");
    let f = forward(&ctx, &text, udp(TRUNK));
    assert!(
        matches!(f.signing, Some(Signing::Signed(_))),
        "{:?}",
        f.signing
    );
    let out = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    let c = claims(msg.header(HeaderName::Identity).unwrap(), &key);
    assert_eq!(c["dest"]["tn"], serde_json::json!(["*672155550131#"]));
    assert_eq!(c["orig"]["tn"], "12155550121");
}

#[test]
fn unparseable_calling_number_is_forwarded_unsigned() {
    let (ctx, _) = context();
    let text = invite("").replace("<sip:2155550121@", "<sip:anonymous@");
    let f = forward(&ctx, &text, udp(TRUNK));
    assert_eq!(f.signing, Some(Signing::Unsigned(Unsigned::OrigNotANumber)));
    let out = String::from_utf8(f.bytes).unwrap();
    assert!(!out.contains("\r\nIdentity:"));
    let text = invite("").replace("To: <sip:2155550131@", "To: <sip:bob@");
    let f = forward(&ctx, &text, udp(TRUNK));
    assert_eq!(f.signing, Some(Signing::Unsigned(Unsigned::DestNotANumber)));
}

#[test]
fn refusals_carry_their_status() {
    let (ctx, _) = context();
    assert_eq!(
        refusal(&ctx, &invite(""), udp("192.0.2.7:5060")),
        (403, Rejected::ForbiddenSource)
    );
    let zero = invite("").replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(
        refusal(&ctx, &zero, udp(TRUNK)),
        (483, Rejected::TooManyHops)
    );
    let ext = invite("Proxy-Require: foo, bar\r\n");
    let msg = Message::parse(ext.as_bytes()).unwrap();
    match decide(&ctx, &msg, udp(TRUNK), 1, wall(), None) {
        Action::Respond {
            status, headers, ..
        } => {
            assert_eq!(status, 420);
            assert_eq!(
                headers,
                vec![(HeaderName::Unsupported, "foo, bar".to_string())]
            );
        }
        Action::Forward(_) => panic!("forwarded"),
        Action::Answer(a) => panic!("answered: {}", a.status),
    }
    // The carrier may not start calls through the signing side.
    assert_eq!(
        refusal(&ctx, &invite(""), udp(CARRIER)),
        (403, Rejected::UpstreamInitialRequest)
    );
}

#[test]
fn a_request_that_comes_back_is_a_loop_but_a_changed_one_is_a_spiral() {
    let (ctx, _) = context();
    let f = forward(&ctx, &invite(""), udp(TRUNK));
    let again = String::from_utf8(f.bytes).unwrap();
    assert_eq!(
        refusal(&ctx, &again, udp(TRUNK)),
        (482, Rejected::LoopDetected)
    );
    // Same Via, different Request-URI: a spiral, which is forwarded.
    let spiral = again.replacen("INVITE sip:2155550131@", "INVITE sip:2155550132@", 1);
    forward(&ctx, &spiral, udp(TRUNK));
}

#[test]
fn missing_max_forwards_and_date_are_added() {
    let (ctx, _) = context();
    let text = invite("").replace("Max-Forwards: 70\r\n", "");
    let out = String::from_utf8(forward(&ctx, &text, udp(TRUNK)).bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    assert_eq!(msg.header(HeaderName::MaxForwards), Some("70"));
    let dates: Vec<_> = msg.header_values(HeaderName::Date).collect();
    assert_eq!(dates, vec!["Mon, 21 Sep 2026 14:13:20 GMT"]);
}

/// The Date of the request is kept as sent when it is within 60 s of now, either way,
/// and the call is signed.
#[test]
fn a_fresh_date_is_kept_and_signed() {
    let (ctx, _) = context();
    // NOW is Mon, 21 Sep 2026 14:13:20 GMT.
    for date in [
        "Mon, 21 Sep 2026 14:12:20 GMT",
        "Mon, 21 Sep 2026 14:14:20 GMT",
    ] {
        let f = forward(&ctx, &invite(&format!("Date: {date}\r\n")), udp(TRUNK));
        assert!(matches!(f.signing, Some(Signing::Signed(_))), "{date}");
        let out = String::from_utf8(f.bytes).unwrap();
        let msg = Message::parse(out.as_bytes()).unwrap();
        let dates: Vec<_> = msg.header_values(HeaderName::Date).collect();
        assert_eq!(dates, vec![date]);
    }
}

/// RFC 8224 section 4.1: no PASSporT for a Date outside the window (or one that cannot
/// be read). By default the INVITE is refused with 403 Stale Date.
#[test]
fn a_stale_date_is_refused_with_403_stale_date() {
    let (ctx, _) = context();
    for date in [
        "Mon, 21 Sep 2026 14:12:19 GMT",
        "Mon, 21 Sep 2026 14:14:21 GMT",
        "Mon, 01 Jan 2024 00:00:00 GMT",
        "yesterday",
    ] {
        let msg = invite(&format!("Date: {date}\r\n"));
        let parsed = Message::parse(msg.as_bytes()).unwrap();
        match decide(&ctx, &parsed, udp(TRUNK), 42, wall(), None) {
            Action::Respond {
                status,
                reason,
                cause,
                ..
            } => {
                assert_eq!(
                    (status, reason.as_ref(), cause),
                    (403, "Stale Date", Rejected::StaleDate),
                    "{date}"
                );
            }
            Action::Forward(_) => panic!("{date}: forwarded"),
            Action::Answer(a) => panic!("answered: {}", a.status),
        }
    }
}

#[test]
fn a_stale_date_goes_on_unsigned_when_the_config_says_so() {
    let (ctx, _) = context_with(|s| s.stale_date = crate::proxy::Fallback::Unsigned);
    let text = invite("Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n");
    let f = forward(&ctx, &text, udp(TRUNK));
    assert_eq!(f.signing, Some(Signing::Unsigned(Unsigned::StaleDate)));
    let out = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    assert_eq!(msg.header_values(HeaderName::Identity).count(), 0);
    // The Date goes on as sent: callsign vouches for nothing in an unsigned call.
    let dates: Vec<_> = msg.header_values(HeaderName::Date).collect();
    assert_eq!(dates, vec!["Mon, 01 Jan 2024 00:00:00 GMT"]);
    let text = ctx.metrics.render();
    assert!(
        text.contains("callsign_calls_unsigned_total{cause=\"stale_date\"} 1"),
        "{text}"
    );
}

/// A signer whose certificate's validity does not cover now.
fn expired_signer(ctx: &Context, not_after: i64) {
    let pki = crate::certs::dev::generate("1234", not_after - 86_400).expect("dev PKI");
    let key = crate::certs::SigningKey::from_pem(&pki.leaf_key_pem).expect("leaf key");
    let signer = crate::passport::Signer::new(&key, testing::X5U)
        .expect("signer")
        .valid_between(not_after - 86_400, not_after);
    ctx.signer.store(std::sync::Arc::new(signer));
}

/// Past its certificate's notAfter the signer signs nothing, from the very second,
/// whatever start-up checked: by default the call goes on unsigned and is counted.
#[test]
fn past_the_certificates_not_after_calls_go_on_unsigned() {
    let (ctx, _) = context();
    let now = testing::NOW_UNIX as i64;
    // Valid until the second before now: not signed.
    expired_signer(&ctx, now - 1);
    let f = forward(&ctx, &invite(""), udp(TRUNK));
    assert_eq!(
        f.signing,
        Some(Signing::Unsigned(Unsigned::CertificateNotValid))
    );
    let out = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    assert_eq!(msg.header_values(HeaderName::Identity).count(), 0);
    let text = ctx.metrics.render();
    assert!(
        text.contains("callsign_calls_unsigned_total{cause=\"certificate_not_valid\"} 1"),
        "{text}"
    );
    // Valid until this very second: signed.
    expired_signer(&ctx, now);
    let f = forward(&ctx, &invite(""), udp(TRUNK));
    assert!(matches!(f.signing, Some(Signing::Signed(_))));
}

#[test]
fn past_the_certificates_not_after_calls_are_refused_when_the_config_says_so() {
    let (ctx, _) = context_with(|s| s.invalid_certificate = crate::proxy::Fallback::Refuse);
    expired_signer(&ctx, testing::NOW_UNIX as i64 - 1);
    assert_eq!(
        refusal(&ctx, &invite(""), udp(TRUNK)),
        (503, Rejected::CertificateNotValid)
    );
}

/// A delegate certificate (RFC 9060) signs only its own numbers: a caller outside them
/// goes on unsigned and is counted with the certificates not valid; its own is signed.
#[test]
fn a_delegate_certificate_signs_no_caller_outside_its_numbers() {
    use crate::certs::TnAuthEntry;
    let (ctx, _) = context();
    let delegate = |numbers: Vec<TnAuthEntry>| {
        let signer = crate::passport::Signer::new(&crate::certs::test_key(1), testing::X5U)
            .expect("signer")
            .limited_to(Some(numbers));
        ctx.signer.store(std::sync::Arc::new(signer));
    };
    // The invite's caller is 12155550121; these numbers stop just short of it.
    delegate(vec![TnAuthEntry::Range {
        start: "12155550100".into(),
        count: 21,
    }]);
    let f = forward(&ctx, &invite(""), udp(TRUNK));
    assert_eq!(
        f.signing,
        Some(Signing::Unsigned(Unsigned::CertificateNotValid))
    );
    let msg = Message::parse(&f.bytes).unwrap();
    assert_eq!(msg.header_values(HeaderName::Identity).count(), 0);
    assert!(
        (ctx.metrics.render())
            .contains("callsign_calls_unsigned_total{cause=\"certificate_not_valid\"} 1")
    );
    delegate(vec![TnAuthEntry::Range {
        start: "12155550100".into(),
        count: 22,
    }]);
    let f = forward(&ctx, &invite(""), udp(TRUNK));
    assert!(matches!(f.signing, Some(Signing::Signed(_))));
}

#[test]
fn identity_from_a_trunk_follows_the_policy() {
    let forged = "Identity: a.b.c;info=<https://evil.example/c.pem>;alg=ES256;ppt=shaken\r\n";
    let count = |ctx: &Context| {
        let out = String::from_utf8(forward(ctx, &invite(forged), udp(TRUNK)).bytes).unwrap();
        let msg = Message::parse(out.as_bytes()).unwrap();
        let values: Vec<String> = msg
            .header_values(HeaderName::Identity)
            .map(str::to_string)
            .collect();
        values
    };
    let (strip, _) = context();
    let values = count(&strip);
    assert_eq!(values.len(), 1);
    assert!(!values[0].starts_with("a.b.c"));

    let (keep, _) = context_with(|s| s.identity_policy = IdentityPolicy::Keep);
    let values = count(&keep);
    assert_eq!(values.len(), 2);
    assert!(values[0].starts_with("a.b.c"));

    let (reject, _) = context_with(|s| s.identity_policy = IdentityPolicy::Reject);
    assert_eq!(
        refusal(&reject, &invite(forged), udp(TRUNK)),
        (403, Rejected::UntrustedIdentity)
    );
}

/// A BYE from the carrier in a call set up through us, with `route` as its Route value.
fn carrier_bye(route: &str) -> String {
    format!(
        "BYE sip:2155550121@127.0.0.1:5070;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP {CARRIER};branch=z9hG4bK-bye\r\n\
         Route: {route}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:2155550131@carrier.example>;tag=b2\r\n\
         To: <sip:2155550121@127.0.0.1>;tag=a1\r\n\
         Call-ID: c1@test\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    )
}

#[test]
fn in_dialog_request_from_the_carrier_follows_route_and_request_uri() {
    let (ctx, _) = context();
    let bye = carrier_bye("<sip:127.0.0.1:5060;transport=udp;lr>");
    let f = forward(&ctx, &bye, udp(CARRIER));
    assert_eq!(f.dest, Dest::Peer(udp(TRUNK)));
    assert_eq!(f.signing, None);
    let out = String::from_utf8(f.bytes).unwrap();
    assert!(!out.contains("Route:"), "our own Route is removed: {out}");
    assert!(!out.contains("Record-Route:"));
}

#[test]
fn our_route_entry_goes_and_the_next_one_is_followed() {
    let (ctx, _) = context();
    let bye = carrier_bye(&format!(
        "<sip:127.0.0.1:5060;transport=udp;lr>, <sip:{TRUNK};lr>,<sip:edge.example;lr>"
    ));
    let f = forward(&ctx, &bye, udp(CARRIER));
    assert_eq!(f.dest, Dest::Peer(udp(TRUNK)));
    let out = String::from_utf8(f.bytes).unwrap();
    // The entries left are passed on as they were written.
    assert!(
        out.contains(&format!(
            "\r\nRoute: <sip:{TRUNK};lr>,<sip:edge.example;lr>\r\nMax-Forwards: 69\r\n"
        )),
        "{out}"
    );
}

#[test]
fn record_route_is_doubled_when_transports_differ() {
    let (ctx, _) = context();
    let tcp_trunk = Peer {
        transport: Transport::Tcp,
        addr: TRUNK.parse().unwrap(),
    };
    let text = invite("").replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    let out = String::from_utf8(forward(&ctx, &text, tcp_trunk).bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    let rr: Vec<_> = msg.header_values(HeaderName::RecordRoute).collect();
    assert_eq!(
        rr,
        vec![
            "<sip:127.0.0.1:5060;transport=udp;lr>",
            "<sip:127.0.0.1:5060;transport=tcp;lr>"
        ]
    );
}

#[test]
fn in_dialog_request_from_a_trunk_must_come_through_our_record_route() {
    let (ctx, _) = context();
    // A To tag alone does not make a dialog: without our Route this would be an
    // unsigned INVITE sent wherever the trunk likes.
    let fake = invite("").replace(
        "To: <sip:2155550131@carrier.example>",
        "To: <sip:2155550131@carrier.example>;tag=made-up",
    );
    assert_eq!(
        refusal(&ctx, &fake, udp(TRUNK)),
        (403, Rejected::NoRouteToUs)
    );
    let routed = fake.replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRoute: <sip:127.0.0.1:5060;lr>\r\n",
    );
    let f = forward(&ctx, &routed, udp(TRUNK));
    assert_eq!(f.signing, None, "re-INVITEs are not signed");
}

fn sips_bye() -> String {
    format!(
        "BYE sips:2155550121@192.0.2.44 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {CARRIER};branch=z9hG4bK-tls\r\n\
         Route: <sip:127.0.0.1:5060;lr>\r\nMax-Forwards: 70\r\n\
         From: <sip:2155550131@carrier.example>;tag=b2\r\nTo: <sip:2155550121@127.0.0.1>;tag=a1\r\n\
         Call-ID: c1@test\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    )
}

#[test]
fn tls_targets_are_refused_rather_than_downgraded_without_tls() {
    let (ctx, _) = context();
    assert_eq!(
        refusal(&ctx, &sips_bye(), udp(CARRIER)),
        (503, Rejected::TlsUnsupported)
    );
}

fn with_tls(edit: impl FnOnce(&mut crate::proxy::Settings)) -> Context {
    let ports = crate::proxy::Ports {
        udp: Some(testing::PORT),
        tcp: Some(testing::PORT),
        tls: Some(5061),
    };
    testing::context_on(ports, edit).0
}

#[test]
fn a_sips_target_is_reached_over_tls_with_our_tls_via() {
    let ctx = with_tls(|_| {});
    let f = forward(&ctx, &sips_bye(), udp(CARRIER));
    assert_eq!(
        f.dest,
        Dest::Peer(Peer {
            transport: Transport::Tls,
            addr: "192.0.2.44:5061".parse().unwrap()
        })
    );
    let out = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    let via = msg.top_via().unwrap();
    assert_eq!((via.transport, via.port), ("TLS", Some(5061)));
}

#[test]
fn a_trunk_that_requires_tls_is_refused_on_udp_and_tcp_and_forwarded_over_tls() {
    let ctx = with_tls(|s| s.trunks[0].require_tls = true);
    let text = invite("");
    assert_eq!(
        refusal(&ctx, &text, udp(TRUNK)),
        (403, Rejected::TlsRequired)
    );
    let over = |transport| Peer {
        transport,
        addr: TRUNK.parse().unwrap(),
    };
    assert_eq!(
        refusal(&ctx, &text, over(Transport::Tcp)),
        (403, Rejected::TlsRequired)
    );
    let f = forward(&ctx, &text, over(Transport::Tls));
    assert!(f.signing.is_some());
    // Another trunk of the same context is not affected.
    let other = Peer {
        transport: Transport::Udp,
        addr: "127.0.0.2:5060".parse().unwrap(),
    };
    assert!(forward(&ctx, &text, other).signing.is_some());
}

#[test]
fn streams_get_a_content_length() {
    let (ctx, _) = context_with(|s| s.upstream.peer.transport = Transport::Tcp);
    let text = invite("").replace(&format!("Content-Length: {}\r\n", testing::SDP.len()), "");
    let out = String::from_utf8(forward(&ctx, &text, udp(TRUNK)).bytes).unwrap();
    let msg = Message::parse(out.as_bytes()).unwrap();
    let expected = testing::SDP.len().to_string();
    assert_eq!(
        msg.header(HeaderName::ContentLength),
        Some(expected.as_str())
    );
}

const CARRIER_IN: &str = "198.51.100.7:5060";

/// The fixture with a verifying trunk for another carrier at [`CARRIER_IN`].
fn verifying(on_failure: OnFailure) -> Context {
    verifying_with(on_failure, Feedback::default())
}

fn verifying_with(on_failure: OnFailure, feedback: Feedback) -> Context {
    context_with(|s| {
        s.on_failure = on_failure;
        s.feedback = feedback;
        s.trunks.push(testing::verifying_trunk());
    })
    .0
}

fn failed() -> Verdict {
    Verdict {
        verstat: crate::verify::Verstat::Failed,
        code: Some(438),
        reason: Some(crate::sip::Reason::sip(438, "Invalid Identity Header")),
        per_header: vec![Some(438)],
    }
}

#[test]
fn verifying_trunk_marks_verstat_and_keeps_the_identity() {
    let ctx = verifying(OnFailure::Forward);
    let text = invite("Identity: a.b.c;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken\r\n");
    let msg = Message::parse(text.as_bytes()).unwrap();
    let passed = Verdict::from_reports(&[]);
    let Action::Forward(f) = decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&passed)) else {
        panic!("refused")
    };
    assert_eq!(f.signing, None, "a verifying trunk never signs");
    let out = String::from_utf8(f.bytes).unwrap();
    assert!(
        out.contains("From: <sip:2155550121;verstat=No-TN-Validation@127.0.0.1>;tag=a1\r\n"),
        "{out}"
    );
    assert!(
        out.contains("\r\nIdentity: a.b.c;info="),
        "the verified Identity travels on"
    );
    assert!(!out.contains("Reason:"));

    let Action::Forward(f) = decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&failed())) else {
        panic!("refused")
    };
    let out = String::from_utf8(f.bytes).unwrap();
    assert!(out.contains(";verstat=TN-Validation-Failed@"), "{out}");
    // By default the failure goes back upstream (RFC 9410), not on to the UAS.
    assert!(!out.contains("Reason:"), "{out}");
    assert_eq!(
        f.feedback,
        ["STIR;cause=438;text=\"Invalid Identity Header\""]
    );
}

const BAD_IDENTITY: &str =
    "Identity: a.b.c;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken\r\n";

#[test]
fn the_failure_goes_where_feedback_says() {
    let text = invite(BAD_IDENTITY);
    let msg = Message::parse(text.as_bytes()).unwrap();
    let sip = "\r\nReason: SIP;cause=438;text=\"Invalid Identity Header\"\r\n";
    let stir = "STIR;cause=438;text=\"Invalid Identity Header\"";
    for (feedback, on_invite, upstream) in [
        (Feedback::Response, false, true),
        (Feedback::Request, true, false),
        (Feedback::Both, true, true),
    ] {
        let ctx = verifying_with(OnFailure::Forward, feedback);
        let Action::Forward(f) = decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&failed()))
        else {
            panic!("refused")
        };
        let out = String::from_utf8(f.bytes).unwrap();
        assert_eq!(out.contains(sip), on_invite, "{feedback:?}: {out}");
        assert_eq!(out.matches("Reason:").count(), usize::from(on_invite));
        assert!(!out.contains("STIR"), "{feedback:?}: {out}");
        let expected: &[&str] = if upstream { &[stir] } else { &[] };
        assert_eq!(f.feedback, expected, "{feedback:?}");
        // A call that verified reports nothing, wherever feedback points.
        let passed = Verdict::from_reports(&[]);
        let Action::Forward(f) = decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&passed))
        else {
            panic!("refused")
        };
        assert!(f.feedback.is_empty());
        assert!(!String::from_utf8(f.bytes).unwrap().contains("Reason:"));
    }
}

#[test]
fn a_failed_call_refused_for_another_reason_still_reports_upstream() {
    let ctx = verifying(OnFailure::Forward);
    let text = invite(BAD_IDENTITY).replace("Max-Forwards: 70", "Max-Forwards: 0");
    let msg = Message::parse(text.as_bytes()).unwrap();
    let Action::Respond {
        status, headers, ..
    } = decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&failed()))
    else {
        panic!("forwarded")
    };
    assert_eq!(status, 483);
    assert_eq!(
        headers,
        [(
            HeaderName::Reason,
            "STIR;cause=438;text=\"Invalid Identity Header\"".to_string()
        )]
    );
}

#[test]
fn verifying_trunk_can_reject_failures_with_their_code() {
    let ctx = verifying(OnFailure::Reject);
    let msg_text = invite(BAD_IDENTITY);
    let msg = Message::parse(msg_text.as_bytes()).unwrap();
    match decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&failed())) {
        Action::Respond {
            status,
            reason,
            cause,
            headers,
        } => {
            assert_eq!((status, cause), (438, Rejected::VerificationFailed));
            assert_eq!(reason, "Invalid Identity Header");
            // One Identity header: the status line is the report.
            assert!(headers.is_empty(), "{headers:?}");
        }
        Action::Forward(_) => panic!("a failed call was forwarded in reject mode"),
        Action::Answer(a) => panic!("answered: {}", a.status),
    }
}

#[test]
fn a_refusal_of_several_failed_headers_names_each_of_them() {
    let two = "Identity: h.p.c2lnMQ;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken\r\n\
               Identity: h.p.c2lnMg;info=<https://sti.example/d.pem>;alg=ES256;ppt=shaken\r\n";
    let msg_text = invite(two);
    let msg = Message::parse(msg_text.as_bytes()).unwrap();
    let verdict = Verdict {
        per_header: vec![Some(438), Some(436)],
        ..failed()
    };
    let refused = |feedback| {
        let ctx = verifying_with(OnFailure::Reject, feedback);
        match decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&verdict)) {
            Action::Respond {
                status, headers, ..
            } => (status, headers),
            Action::Forward(_) => panic!("forwarded in reject mode"),
            Action::Answer(a) => panic!("answered: {}", a.status),
        }
    };
    let (status, headers) = refused(Feedback::Response);
    assert_eq!(status, 438);
    let values: Vec<&str> = headers
        .iter()
        .map(|(n, v)| {
            assert_eq!(*n, HeaderName::Reason);
            v.as_str()
        })
        .collect();
    assert_eq!(
        values,
        [
            "STIR;cause=438;text=\"Invalid Identity Header\";ppi=\"..c2lnMQ\"",
            "STIR;cause=436;text=\"Bad Identity Info\";ppi=\"..c2lnMg\"",
        ]
    );
    // `request` keeps today's bare refusal.
    assert_eq!(refused(Feedback::Request), (438, Vec::new()));
}

#[test]
fn an_asserted_identity_naming_two_numbers_is_refused_in_either_role() {
    let pai = "P-Asserted-Identity: <sip:+12155550122@example.com>, <tel:+12155550199>\r\n";
    let (ctx, _) = context();
    assert_eq!(
        refusal(&ctx, &invite(pai), udp(TRUNK)),
        (400, Rejected::ConflictingIdentity)
    );
    // The same pair over two lines.
    let two_lines = "P-Asserted-Identity: <tel:+12155550199>\r\nP-Asserted-Identity: <sip:+12155550122@example.com>\r\n";
    assert_eq!(
        refusal(&ctx, &invite(two_lines), udp(TRUNK)),
        (400, Rejected::ConflictingIdentity)
    );
    // A verifying trunk would otherwise mark both numbers with the verdict for one.
    let ctx = verifying(OnFailure::Forward);
    let msg_text = invite(pai);
    let msg = Message::parse(msg_text.as_bytes()).unwrap();
    let passed = Verdict::from_reports(&[]);
    let Action::Respond { status, cause, .. } =
        decide(&ctx, &msg, udp(CARRIER_IN), 9, wall(), Some(&passed))
    else {
        panic!("forwarded")
    };
    assert_eq!((status, cause), (400, Rejected::ConflictingIdentity));
}

/// The calling number in every form a trunk may write it: what is signed is the number
/// that the forwarded request names, read back from the forwarded bytes.
#[test]
fn the_signed_number_is_the_number_the_forwarded_request_carries() {
    let (ctx, key) = context();
    let from = "From: <sip:2155550121@127.0.0.1>;tag=a1\r\n";
    let forms: [(&str, &str); 9] = [
        (from, "f: <sip:2155550121@127.0.0.1>;tag=a1\r\n"),
        (from, "FROM:sip:+1-215-555-0121@127.0.0.1;tag=a1\r\n"),
        (
            from,
            "From:\r\n \"Front Desk\" <sip:2155550121@127.0.0.1>;tag=a1\r\n",
        ),
        (from, "From: \"Smith, J\" <tel:+12155550121>;tag=a1\r\n"),
        (
            "X-Unknown",
            "P-Asserted-Identity: <sip:+12155550122@example.com>\r\nX-Unknown",
        ),
        (
            "X-Unknown",
            "P-Asserted-Identity: <sip:+12155550122@example.com>,\r\n\t<tel:+1-215-555-0122>\r\nX-Unknown",
        ),
        (
            "X-Unknown",
            "p-asserted-identity: <tel:+12155550122>\r\nP-Asserted-Identity: <sip:alice@example.com>\r\nX-Unknown",
        ),
        (
            "X-Unknown",
            "P-Asserted-Identity: \"Alice\" <sip:alice@example.com>, <tel:+12155550122;phone-context=+1>\r\nX-Unknown",
        ),
        (
            "X-Unknown",
            "P-Asserted-Identity:\r\n  <tel:+12155550122>\r\nX-Unknown",
        ),
    ];
    for (what, with) in forms {
        let text = invite("").replacen(what, with, 1);
        let f = forward(&ctx, &text, udp(TRUNK));
        assert!(
            matches!(f.signing, Some(Signing::Signed(_))),
            "{with:?}: {:?}",
            f.signing
        );
        let out = String::from_utf8(f.bytes).unwrap();
        let forwarded = Message::parse(out.as_bytes()).expect("the forwarded request parses");
        let carried = crate::verify::calling_number(&forwarded, &ctx.numbering)
            .expect("one caller")
            .expect("a number");
        let signed = claims(forwarded.header(HeaderName::Identity).unwrap(), &key);
        assert_eq!(signed["orig"]["tn"], carried.as_str(), "{with:?}");
        // And it is the number a reader of the caller sees, written here by hand.
        let expected = if what == from {
            "12155550121"
        } else {
            "12155550122"
        };
        assert_eq!(carried.as_str(), expected, "{with:?}");
    }
}

#[test]
fn a_request_uri_scheme_that_cannot_be_routed_is_416_even_from_a_trunk() {
    let (ctx, _) = context();
    for scheme in [
        "mailto:bob@example.com",
        "http://example.com/",
        "urn:service:sos",
    ] {
        let text = invite("").replacen("sip:2155550131@carrier.example", scheme, 1);
        assert_eq!(
            refusal(&ctx, &text, udp(TRUNK)),
            (416, Rejected::Unroutable),
            "{scheme}"
        );
    }
    let tel = invite("").replacen("sip:2155550131@carrier.example", "tel:+12155550131", 1);
    assert!(matches!(
        forward(&ctx, &tel, udp(TRUNK)).signing,
        Some(Signing::Signed(_))
    ));
}

/// A trunk provisioned for Bluebird's account (`AC…801`) admitting 198.51.100.0/24, put
/// in the context's live index as the Trust Hub would after a write.
fn provision_trunk(ctx: &Context) -> Sid {
    use crate::trust::{Change, IpAccessControlList, IpAddress, Trunk, TrunkAcl};
    let sid = |s: &str| Sid::parse_any(s).unwrap();
    let account = sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f801");
    let (trunk, list) = (
        sid("TK00000000000000000000000000000007"),
        sid("AL00000000000000000000000000000007"),
    );
    let changes = [
        Change::PutTrunk(Trunk {
            friendly_name: Some("branch office".into()),
            ..Trunk::new(trunk, account)
        }),
        Change::PutIpAccessControlList(IpAccessControlList {
            sid: list,
            account_sid: account,
            friendly_name: None,
            date_created: None,
            date_updated: None,
        }),
        Change::PutIpAddress(IpAddress {
            sid: sid("IP00000000000000000000000000000007"),
            account_sid: account,
            ip_access_control_list_sid: list,
            friendly_name: None,
            ip_address: "198.51.100.0".into(),
            cidr_prefix_length: 24,
            date_created: None,
            date_updated: None,
        }),
        Change::PutTrunkAcl(TrunkAcl {
            trunk_sid: trunk,
            ip_access_control_list_sid: list,
            account_sid: account,
            date_created: None,
        }),
    ];
    let index = ctx.trust.load();
    for change in &changes {
        index.apply(change).unwrap();
    }
    trunk
}

#[test]
fn a_provisioned_trunk_signs_for_its_account_and_sends_to_the_default_upstream() {
    let (ctx, key) = context();
    let from = "198.51.100.40:5060";
    let text = invite("").replace(TRUNK, from);
    assert_eq!(
        refusal(&ctx, &text, udp(from)),
        (403, Rejected::ForbiddenSource)
    );
    let trunk = provision_trunk(&ctx);
    let f = forward(&ctx, &text, udp(from));
    assert_eq!(f.dest, Dest::Peer(udp(CARRIER)));
    let msg_text = String::from_utf8(f.bytes).unwrap();
    let msg = Message::parse(msg_text.as_bytes()).unwrap();
    let c = claims(msg.header(HeaderName::Identity).unwrap(), &key);
    assert_eq!(c["attest"], Attest::A.as_str(), "Bluebird's vetted number");
    let origid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, trunk.to_string().as_bytes());
    assert_eq!(c["origid"], origid.hyphenated().to_string());
    // The config's trunks are unchanged, and other sources are still strangers.
    let other = "198.51.101.1:5060";
    assert_eq!(
        refusal(&ctx, &invite("").replace(TRUNK, other), udp(other)),
        (403, Rejected::ForbiddenSource)
    );
}

#[test]
fn a_trunks_domain_picks_it_for_requests_addressed_to_it_from_its_addresses() {
    use crate::trust::Change;
    let (ctx, _) = context();
    let trunk = provision_trunk(&ctx);
    let index = ctx.trust.load();
    let mut record = index
        .trunking()
        .trunks
        .into_iter()
        .find(|t| t.sid == trunk)
        .unwrap();
    record.domain_name = Some("pbx.bluebird.example".into());
    index.apply(&Change::PutTrunk(record)).unwrap();
    let from = "198.51.100.40:5060";
    let to_domain = invite("").replace(TRUNK, from).replace(
        "INVITE sip:2155550131@carrier.example",
        "INVITE sip:2155550131@PBX.bluebird.example:5060;user=phone",
    );
    // Addressed to its domain, from its address: the trunk's call, signed.
    let f = forward(&ctx, &to_domain, udp(from));
    assert!(matches!(f.signing, Some(Signing::Signed(_))));
    // From its address but addressed elsewhere: a domain trunk is reached only
    // through its domain.
    assert_eq!(
        refusal(&ctx, &invite("").replace(TRUNK, from), udp(from)),
        (403, Rejected::ForbiddenSource)
    );
    // Addressed to its domain from an address it does not admit: no falling back.
    let stranger = "192.0.2.99:5060";
    assert_eq!(
        refusal(&ctx, &to_domain.replace(from, stranger), udp(stranger)),
        (403, Rejected::ForbiddenSource)
    );
    // A config trunk's source stays the config trunk's, whatever it calls.
    let via_config = to_domain.replace(from, TRUNK);
    assert!(forward(&ctx, &via_config, udp(TRUNK)).signing.is_some());
}

/// [`provision_trunk`], with a domain and a credential list holding `pbx`'s password.
fn provision_credential_trunk(ctx: &Context) {
    use crate::sip::digest::{Algorithm, ha1};
    use crate::trust::{Change, Credential, CredentialList, DIGEST_REALM, TrunkCredentialList};
    let trunk = provision_trunk(ctx);
    let index = ctx.trust.load();
    let mut record = (index.trunking().trunks.into_iter())
        .find(|t| t.sid == trunk)
        .unwrap();
    record.domain_name = Some("pbx.bluebird.example".into());
    let account = record.account_sid;
    let list = Sid::parse_any("CL00000000000000000000000000000007").unwrap();
    let password = "Secret-Passw0rd";
    for change in [
        Change::PutTrunk(record),
        Change::PutCredentialList(CredentialList {
            sid: list,
            account_sid: account,
            friendly_name: None,
            date_created: None,
            date_updated: None,
        }),
        Change::PutCredential(Credential {
            sid: Sid::parse_any("CR00000000000000000000000000000007").unwrap(),
            account_sid: account,
            credential_list_sid: list,
            username: "pbx".into(),
            realm: DIGEST_REALM.into(),
            ha1_md5: ha1(Algorithm::Md5, "pbx", DIGEST_REALM, password),
            ha1_sha256: ha1(Algorithm::Sha256, "pbx", DIGEST_REALM, password),
            date_created: None,
            date_updated: None,
        }),
        Change::PutTrunkCredentialList(TrunkCredentialList {
            trunk_sid: trunk,
            credential_list_sid: list,
            account_sid: account,
            date_created: None,
        }),
    ] {
        index.apply(&change).unwrap();
    }
}

/// The request's `Proxy-Authorization` for `nonce`, answered with `password`.
fn authorization(algorithm: &str, nonce: &str, nc: u32, password: &str, uri: &str) -> String {
    use crate::sip::digest::{Algorithm, Credentials, ha1, response};
    let alg = if algorithm == "MD5" {
        Algorithm::Md5
    } else {
        Algorithm::Sha256
    };
    let nc = format!("{nc:08x}");
    let partial = format!(
        r#"Digest username="pbx", realm="callsign", nonce="{nonce}", uri="{uri}", response="0", algorithm={algorithm}, qop=auth, nc={nc}, cnonce="c0ffee""#
    );
    let creds = Credentials::parse(&partial).unwrap();
    let answer = response(&creds, "INVITE", &ha1(alg, "pbx", "callsign", password));
    partial.replace(r#"response="0""#, &format!(r#"response="{answer}""#))
}

#[test]
fn a_credential_list_trunk_challenges_then_takes_its_password_once_per_count() {
    let (ctx, _) = context();
    provision_credential_trunk(&ctx);
    let from = "203.0.113.9:5060";
    let uri = "sip:2155550131@pbx.bluebird.example";
    let to_domain = |extra: &str| {
        invite(extra).replace(TRUNK, from).replace(
            "INVITE sip:2155550131@carrier.example",
            &format!("INVITE {uri}"),
        )
    };
    let decide_at = |text: &str, secs: u64| {
        let msg = Message::parse(text.as_bytes()).unwrap();
        decide(
            &ctx,
            &msg,
            udp(from),
            9,
            wall() + std::time::Duration::from_secs(secs),
            None,
        )
    };
    // No credentials: 407, with a SHA-256 and an MD5 challenge on one nonce.
    let Action::Respond {
        status,
        cause,
        headers,
        ..
    } = decide_at(&to_domain(""), 0)
    else {
        panic!("forwarded without credentials");
    };
    assert_eq!((status, cause), (407, Rejected::AuthenticationRequired));
    assert_eq!(headers.len(), 2);
    assert!(headers[0].1.contains("algorithm=SHA-256") && headers[1].1.contains("algorithm=MD5"));
    let nonce = headers[0]
        .1
        .split("nonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let nonce = nonce.to_owned();

    // The right password: forwarded, signed, and the credentials do not travel on.
    let with = |alg, nc, password| {
        let h = authorization(alg, &nonce, nc, password, uri);
        to_domain(&format!("Proxy-Authorization: {h}\r\n"))
    };
    let Action::Forward(f) = decide_at(&with("SHA-256", 1, "Secret-Passw0rd"), 1) else {
        panic!("refused the right password");
    };
    assert!(matches!(f.signing, Some(Signing::Signed(_))));
    assert!(
        !String::from_utf8(f.bytes)
            .unwrap()
            .contains("Proxy-Authorization")
    );
    // The same count again is a replay; the next count, in MD5, is fine.
    let replay = decide_at(&with("SHA-256", 1, "Secret-Passw0rd"), 2);
    assert!(matches!(
        replay,
        Action::Respond {
            status: 403,
            cause: Rejected::AuthenticationFailed,
            ..
        }
    ));
    assert!(matches!(
        decide_at(&with("MD5", 2, "Secret-Passw0rd"), 3),
        Action::Forward(_)
    ));
    // A wrong password, or credentials for another Request-URI: 403.
    let wrong = decide_at(&with("SHA-256", 3, "secret-passw0rd"), 4);
    assert!(matches!(wrong, Action::Respond { status: 403, .. }));
    let elsewhere = authorization(
        "SHA-256",
        &nonce,
        4,
        "Secret-Passw0rd",
        "sip:x@pbx.bluebird.example",
    );
    let elsewhere = decide_at(
        &to_domain(&format!("Proxy-Authorization: {elsewhere}\r\n")),
        5,
    );
    assert!(matches!(elsewhere, Action::Respond { status: 403, .. }));
    // After the nonce's lifetime: challenged again, as stale.
    let Action::Respond {
        status, headers, ..
    } = decide_at(&with("SHA-256", 5, "Secret-Passw0rd"), 301)
    else {
        panic!("a stale nonce was taken");
    };
    assert_eq!(status, 407);
    assert!(headers[0].1.ends_with("stale=true"), "{headers:?}");
    // From an address the trunk's list admits, no credentials are needed.
    let admitted = "198.51.100.40:5060";
    let text = to_domain("").replace(from, admitted);
    let msg = Message::parse(text.as_bytes()).unwrap();
    assert!(matches!(
        decide(&ctx, &msg, udp(admitted), 9, wall(), None),
        Action::Forward(_)
    ));
}

#[test]
fn a_trunk_over_its_call_rate_gets_503_until_its_bucket_refills() {
    use crate::trust::{CallLimit, Change};
    let (ctx, _) = context();
    let trunk = provision_trunk(&ctx);
    let index = ctx.trust.load();
    let mut record = (index.trunking().trunks.into_iter())
        .find(|t| t.sid == trunk)
        .unwrap();
    record.call_limit = Some(CallLimit {
        per_second: 1,
        burst: 2,
    });
    index.apply(&Change::PutTrunk(record)).unwrap();
    let from = "198.51.100.40:5060";
    let call = |n: u32, secs: u64| {
        let text = invite("")
            .replace(TRUNK, from)
            .replace("c1@test", &format!("rate-{n}@test"));
        let msg = Message::parse(text.as_bytes()).unwrap();
        let at = wall() + std::time::Duration::from_secs(secs);
        decide(&ctx, &msg, udp(from), u64::from(n), at, None)
    };
    assert!(matches!(call(1, 0), Action::Forward(_)));
    assert!(matches!(call(2, 0), Action::Forward(_)));
    let Action::Respond {
        status,
        cause,
        headers,
        ..
    } = call(3, 0)
    else {
        panic!("a third call within the second went through");
    };
    assert_eq!((status, cause), (503, Rejected::RateLimited));
    assert_eq!(headers, [(HeaderName::RetryAfter, "1".into())]);
    assert!(matches!(call(4, 1), Action::Forward(_)), "refilled");
}

#[test]
fn a_call_below_its_trunks_minimum_level_is_refused_with_the_trunks_status() {
    use crate::trust::{Change, LevelGate};
    let (ctx, _) = context();
    let trunk = provision_trunk(&ctx);
    let gate = |minimum, status| {
        let index = ctx.trust.load();
        let mut record = (index.trunking().trunks.into_iter())
            .find(|t| t.sid == trunk)
            .unwrap();
        record.level_gate = Some(LevelGate { minimum, status });
        index.apply(&Change::PutTrunk(record)).unwrap();
    };
    let from = "198.51.100.40:5060";
    // Bluebird's own vetted number is A; a number it does not own is B.
    let own = invite("").replace(TRUNK, from);
    let foreign = own.replace("<sip:2155550121@127.0.0.1>", "<sip:2675550100@127.0.0.1>");
    gate(Attest::A, 403);
    assert!(forward(&ctx, &own, udp(from)).signing.is_some());
    assert_eq!(
        refusal(&ctx, &foreign, udp(from)),
        (403, Rejected::BelowMinimumLevel)
    );
    gate(Attest::A, 603);
    assert_eq!(
        refusal(&ctx, &foreign, udp(from)),
        (603, Rejected::BelowMinimumLevel)
    );
    gate(Attest::B, 603);
    assert!(forward(&ctx, &foreign, udp(from)).signing.is_some());
}

#[test]
fn a_provisioned_trunks_own_identity_policy_overrides_the_proxys() {
    use crate::trust::{Change, TrunkIdentityPolicy};
    let (ctx, _) = context();
    let trunk = provision_trunk(&ctx);
    let policy = |p| {
        let index = ctx.trust.load();
        let mut record = (index.trunking().trunks.into_iter())
            .find(|t| t.sid == trunk)
            .unwrap();
        record.identity_policy = p;
        index.apply(&Change::PutTrunk(record)).unwrap();
    };
    let from = "198.51.100.40:5060";
    let forged = "Identity: a.b.c;info=<https://evil.example/c.pem>;alg=ES256;ppt=shaken\r\n";
    let text = invite(forged).replace(TRUNK, from);
    let identities = |ctx: &Context| {
        let out = String::from_utf8(forward(ctx, &text, udp(from)).bytes).unwrap();
        let msg = Message::parse(out.as_bytes()).unwrap();
        msg.header_values(HeaderName::Identity).count()
    };
    // The proxy's default (strip) until the trunk says otherwise.
    assert_eq!(identities(&ctx), 1);
    policy(Some(TrunkIdentityPolicy::Keep));
    assert_eq!(identities(&ctx), 2);
    policy(Some(TrunkIdentityPolicy::Reject));
    assert_eq!(
        refusal(&ctx, &text, udp(from)),
        (403, Rejected::UntrustedIdentity)
    );
    policy(None);
    assert_eq!(identities(&ctx), 1);
}

#[test]
fn attempts_have_their_own_branches_under_one_id() {
    let b = branch_for_attempt(0xdead_beef, 0x2a, 2);
    assert_eq!(branch_parts(&b), Some((0xdead_beef, 0x2a)));
    assert_eq!(branch_attempt(&b), 2);
    assert_eq!(branch_attempt(&branch(0xdead_beef, 0x2a)), 0);
    assert_eq!(branch_for_attempt(1, 2, 0), branch(1, 2));
    assert_eq!(branch_attempt("z9hG4bKcs0000000000000001.2.zz"), 0);
}

#[test]
fn origination_urls_go_by_priority_then_by_weight() {
    use crate::trust::OriginationTarget;
    let at = |last: u8, priority: u16, weight: u16| OriginationTarget {
        addr: std::net::SocketAddr::from(([192, 0, 2, last], 5060)),
        tcp: false,
        priority,
        weight,
    };
    // Sorted by priority, as the trust index keeps them.
    let targets = [at(1, 1, 1), at(2, 1, 3), at(3, 2, 100)];
    let mut first = [0u32; 4];
    for seed in 0..4000u64 {
        let order = origination_order(&targets, seed.wrapping_mul(0x9e37_79b9));
        assert_eq!(order.len(), 3);
        // Priority 2 only after both of priority 1.
        assert_eq!(order[2], targets[2], "seed {seed}");
        first[usize::from(order[0].addr.ip().to_string().ends_with(".2")) + 1] += 1;
    }
    // Weight 3 against 1: about three quarters of the calls try .2 first.
    let share = f64::from(first[2]) / 4000.0;
    assert!((0.70..0.80).contains(&share), "{share}");
    // Every call draws its own order, but the same call always the same one.
    assert_eq!(
        origination_order(&targets, 7),
        origination_order(&targets, 7)
    );
}

/// Puts +1 215 555 0131 (the support sub-account's `PN…b31`) on a verifying trunk of that
/// account whose origination URL is the customer's PBX at `pbx`; returns the change that
/// takes it off again.
fn route_number_to(ctx: &Context, pbx: &str) -> crate::trust::Change {
    use crate::trust::{Change, OriginationUrl, Trunk, TrunkPhoneNumber, TrunkRole};
    let sid = |s: &str| Sid::parse_any(s).unwrap();
    let account = sid("AC1a2b3c4d5e6f708192a3b4c5d6e7f802");
    let trunk = sid("TK00000000000000000000000000000031");
    let link = TrunkPhoneNumber {
        trunk_sid: trunk,
        phone_number_sid: sid("PN3c4d5e6f708192a3b4c5d6e7f80a1b31"),
        account_sid: account,
        date_created: None,
    };
    let changes = [
        Change::PutTrunk(Trunk {
            role: Some(TrunkRole::Verify),
            ..Trunk::new(trunk, account)
        }),
        Change::PutOriginationUrl(OriginationUrl {
            sid: sid("OU00000000000000000000000000000031"),
            account_sid: account,
            trunk_sid: trunk,
            friendly_name: None,
            sip_url: format!("sip:{pbx}"),
            priority: 10,
            weight: 10,
            enabled: true,
            date_created: None,
            date_updated: None,
        }),
        Change::PutTrunkPhoneNumber(link.clone()),
    ];
    let index = ctx.trust.load();
    for change in &changes {
        index.apply(change).unwrap();
    }
    Change::DeleteTrunkPhoneNumber(link)
}

#[test]
fn a_verified_call_goes_to_the_trunk_its_called_number_is_on() {
    let ctx = verifying(OnFailure::Forward);
    let pbx = "203.0.113.31:5060";
    let text = invite("");
    assert_eq!(
        forward(&ctx, &text, udp(CARRIER_IN)).dest,
        Dest::Peer(udp(CARRIER))
    );
    let unroute = route_number_to(&ctx, pbx);

    let f = forward(&ctx, &text, udp(CARRIER_IN));
    assert_eq!(f.dest, Dest::Peer(udp(pbx)), "the number's trunk's URL");
    assert!(f.alternates.is_empty());
    let out = String::from_utf8(f.bytes).unwrap();
    assert!(
        out.contains(";verstat=No-TN-Validation@"),
        "still verified: {out}"
    );
    assert_eq!(ctx.metrics.number_routes.get(), 1);

    // The Request-URI decides; the To only when the Request-URI has no number.
    let other = text.replacen("INVITE sip:2155550131@", "INVITE sip:2155550199@", 1);
    assert_eq!(
        forward(&ctx, &other, udp(CARRIER_IN)).dest,
        Dest::Peer(udp(CARRIER))
    );
    let no_number = text.replacen("INVITE sip:2155550131@", "INVITE sip:pbx@", 1);
    assert_eq!(
        forward(&ctx, &no_number, udp(CARRIER_IN)).dest,
        Dest::Peer(udp(pbx))
    );

    // A signing trunk's call to the number still goes to its own carrier.
    assert_eq!(
        forward(&ctx, &text, udp(TRUNK)).dest,
        Dest::Peer(udp(CARRIER))
    );
    // Other requests of a verifying trunk follow the arriving trunk's route.
    let options = text
        .replacen("INVITE sip:", "OPTIONS sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
    assert_eq!(
        forward(&ctx, &options, udp(CARRIER_IN)).dest,
        Dest::Peer(udp(CARRIER))
    );

    ctx.trust.load().apply(&unroute).unwrap();
    assert_eq!(
        forward(&ctx, &text, udp(CARRIER_IN)).dest,
        Dest::Peer(udp(CARRIER))
    );
}
