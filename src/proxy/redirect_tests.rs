use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::proxy::pipeline::Signing;
use crate::proxy::testing::{self, TRUNK, context_with, invite, udp, wall};
use crate::proxy::{Endpoint, Output, Role, SbcOptions, Settings};
use crate::trust::SigningFailure;

/// The test context with its first trunk (acme, on [`TRUNK`]) a redirect trunk.
fn redirecting(sbc: SbcOptions) -> (Context, Vec<u8>) {
    context_with(|s: &mut Settings| {
        s.trunks[0].role = Role::Redirect;
        s.trunks[0].sbc = sbc;
    })
}

fn decide(ctx: &Context, text: &str) -> Action {
    let msg = Message::parse(text.as_bytes()).expect("parses");
    super::super::pipeline::decide(ctx, &msg, udp(TRUNK), 9, wall(), None)
}

fn answer(ctx: &Context, text: &str) -> Answer {
    match decide(ctx, text) {
        Action::Answer(a) => a,
        Action::Forward(_) => panic!("forwarded"),
        Action::Respond { status, reason, .. } => panic!("refused: {status} {reason}"),
    }
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// The claims of an Identity value, checked with `key` by jsonwebtoken.
fn claims(value: &str, key: &[u8]) -> serde_json::Value {
    let header = crate::sip::Identity::parse(value).expect("Identity parses");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    let key = jsonwebtoken::DecodingKey::from_ec_der(key);
    jsonwebtoken::decode::<serde_json::Value>(header.jws, &key, &validation)
        .expect("signature verifies")
        .claims
}

#[test]
fn an_invite_is_signed_and_answered_302_to_its_request_uri() {
    let (ctx, key) = redirecting(SbcOptions::default());
    let a = answer(
        &ctx,
        &invite("Identity: stale.token.here;info=<http://x/>\r\n"),
    );
    assert_eq!((a.status, a.reason), (302, "Moved Temporarily"));
    assert_eq!(
        header(&a, "Contact"),
        Some("<sip:2155550131@carrier.example>")
    );
    let identity = header(&a, "Identity").expect("the 302 carries the Identity");
    assert!(!identity.contains("stale"), "signed afresh: {identity}");
    let c = claims(identity, &key);
    assert_eq!(c["orig"]["tn"], "12155550121");
    assert_eq!(c["dest"]["tn"][0], "12155550131");
    assert_eq!(c["attest"], "A");
    assert!(matches!(a.signing, Some(Signing::Signed(_))));
    assert_eq!(header(&a, "P-Attestation-Indicator"), None, "not asked for");
    let text = ctx.metrics.render();
    assert!(
        text.contains("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 1"),
        "{text}"
    );
}

#[test]
fn the_contact_carries_the_identity_escaped_when_the_trunk_asks() {
    let sbc = SbcOptions {
        contact_identity: true,
        attestation_headers: true,
        ..SbcOptions::default()
    };
    let (ctx, key) = redirecting(sbc);
    let request = invite("").replace(
        "INVITE sip:2155550131@carrier.example SIP/2.0",
        "INVITE sip:2155550131@carrier.example;user=phone SIP/2.0",
    );
    let a = answer(&ctx, &request);
    let identity = header(&a, "Identity").unwrap();
    let contact = header(&a, "Contact").unwrap();
    let embedded = contact
        .strip_prefix("<sip:2155550131@carrier.example;user=phone?Identity=")
        .and_then(|c| c.strip_suffix('>'))
        .unwrap_or_else(|| panic!("{contact}"));
    // Only RFC 3261's hvalue characters, and it decodes to the header's value.
    assert!(
        embedded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$%".contains(&b)),
        "{embedded}"
    );
    assert!(!embedded.contains(';') && !embedded.contains('<'));
    let decoded = percent_encoding::percent_decode_str(embedded)
        .decode_utf8()
        .unwrap();
    assert_eq!(decoded, identity);
    claims(&decoded, &key);
    assert_eq!(header(&a, "P-Attestation-Indicator"), Some("A"));
    let origid = header(&a, "P-Origination-ID").unwrap();
    assert_eq!(claims(identity, &key)["origid"], origid);
}

#[test]
fn what_cannot_be_signed_gets_a_302_without_identity_or_the_trunks_status() {
    // An unsigned-able caller: the SBC still gets its 302, without an Identity.
    let (ctx, _) = redirecting(SbcOptions::default());
    let anonymous = invite("").replace(
        "From: <sip:2155550121@127.0.0.1>",
        "From: <sip:anonymous@anonymous.invalid>",
    );
    let a = answer(&ctx, &anonymous);
    assert_eq!(a.status, 302);
    assert_eq!(header(&a, "Identity"), None);
    assert!(matches!(a.signing, Some(Signing::Unsigned(_))));

    // A certificate past its notAfter: by default 302 without Identity, counted...
    let expired = |ctx: &Context| {
        let signer = crate::passport::Signer::new(&crate::certs::test_key(1), testing::X5U)
            .unwrap()
            .valid_between(0, testing::NOW_UNIX as i64 - 10);
        ctx.signer.store(Arc::new(signer));
    };
    expired(&ctx);
    let a = answer(&ctx, &invite(""));
    assert_eq!((a.status, header(&a, "Identity")), (302, None));
    let text = ctx.metrics.render();
    assert!(
        text.contains("callsign_calls_unsigned_total{cause=\"certificate_not_valid\"} 1"),
        "{text}"
    );
    // ...or the status the trunk names, so that the SBC advances its route.
    let (ctx, _) = redirecting(SbcOptions {
        signing_failure: Some(SigningFailure::Status(503)),
        ..SbcOptions::default()
    });
    expired(&ctx);
    match decide(&ctx, &invite("")) {
        Action::Respond { status, cause, .. } => {
            assert_eq!((status, cause), (503, Rejected::CertificateNotValid));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_signing_trunk_follows_its_own_failure_policy_too() {
    let expired = |ctx: &Context| {
        let signer = crate::passport::Signer::new(&crate::certs::test_key(1), testing::X5U)
            .unwrap()
            .valid_between(0, testing::NOW_UNIX as i64 - 10);
        ctx.signer.store(Arc::new(signer));
    };
    let (ctx, _) = context_with(|s| {
        s.trunks[0].sbc.signing_failure = Some(SigningFailure::Status(480));
        s.trunks[0].sbc.attestation_headers = true;
    });
    expired(&ctx);
    match decide(&ctx, &invite("")) {
        Action::Respond { status, reason, .. } => {
            assert_eq!((status, reason.as_ref()), (480, "Temporarily Unavailable"));
        }
        other => panic!("{other:?}"),
    }
    // A signed call forwarded by a signing trunk carries the attestation headers.
    let (ctx, _) = context_with(|s| s.trunks[0].sbc.attestation_headers = true);
    match decide(&ctx, &invite("")) {
        Action::Forward(f) => {
            let text = String::from_utf8(f.bytes).unwrap();
            assert!(
                text.contains("\r\nP-Attestation-Indicator: A\r\n"),
                "{text}"
            );
            assert!(text.contains("\r\nP-Origination-ID: "), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_requests_from_a_redirect_trunk_are_answered_here() {
    let (ctx, _) = redirecting(SbcOptions::default());
    let options = invite("")
        .replace("INVITE sip:", "OPTIONS sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
    let a = answer(&ctx, &options);
    assert_eq!(
        (a.status, header(&a, "Allow")),
        (200, Some("INVITE, ACK, CANCEL, OPTIONS"))
    );
    let message = options
        .replace("OPTIONS sip:", "MESSAGE sip:")
        .replace("CSeq: 1 OPTIONS", "CSeq: 1 MESSAGE");
    let a = answer(&ctx, &message);
    assert_eq!((a.status, a.cause), (405, Some(Rejected::NotRedirected)));
    assert!(header(&a, "Allow").is_some());
    let bye = invite("")
        .replace("INVITE sip:", "BYE sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 2 BYE")
        .replace(
            "To: <sip:2155550131@carrier.example>",
            "To: <sip:2155550131@carrier.example>;tag=x",
        );
    match decide(&ctx, &bye) {
        Action::Respond { status, cause, .. } => {
            assert_eq!((status, cause), (481, Rejected::NotRedirected));
        }
        other => panic!("{other:?}"),
    }
}

/// The responses among `out`, as text.
fn responses(out: &[Output]) -> Vec<String> {
    out.iter()
        .map(|o| String::from_utf8_lossy(&o.bytes).into_owned())
        .collect()
}

#[test]
fn retransmissions_get_the_same_302_timer_g_repeats_it_and_the_ack_ends_it() {
    let (ctx, _) = redirecting(SbcOptions::default());
    let mut endpoint = Endpoint::new(Arc::new(ctx));
    let start = Instant::now();
    let request = invite("");
    let mut out = Vec::new();
    endpoint.handle(udp(TRUNK), request.as_bytes(), start, wall(), &mut out);
    let first = responses(&out);
    assert_eq!(
        first.len(),
        1,
        "only the 302, and nothing forwarded: {first:?}"
    );
    assert!(first[0].starts_with("SIP/2.0 302 Moved Temporarily\r\n"));
    assert!(
        out.iter()
            .all(|o| o.to == crate::proxy::Dest::Peer(udp(TRUNK)))
    );

    // The INVITE again, a second later (the clock of the wall moved on too): the very
    // same bytes, Identity and all, not a new signature.
    out.clear();
    let later = wall() + Duration::from_secs(1);
    endpoint.handle(
        udp(TRUNK),
        request.as_bytes(),
        start + Duration::from_millis(100),
        later,
        &mut out,
    );
    assert_eq!(responses(&out), first);

    // Timer G: the 302 again at T1, 2*T1, ... until the ACK.
    out.clear();
    let t1 = Duration::from_millis(500);
    let due = endpoint.poll_timeout().expect("Timer G is set");
    assert_eq!(due, start + t1);
    endpoint.handle_timeout(due, wall(), &mut out);
    assert_eq!(responses(&out), first);

    // The ACK (To-tag of our 302) is absorbed: nothing sent, and no more 302s.
    let tag = first[0]
        .split("\r\n")
        .find(|l| l.starts_with("To:"))
        .and_then(|l| l.split(";tag=").nth(1))
        .unwrap()
        .to_owned();
    let ack = request
        .replace("INVITE sip:", "ACK sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        .replace(
            "To: <sip:2155550131@carrier.example>",
            &format!("To: <sip:2155550131@carrier.example>;tag={tag}"),
        );
    out.clear();
    endpoint.handle(udp(TRUNK), ack.as_bytes(), due, wall(), &mut out);
    assert!(out.is_empty(), "{:?}", responses(&out));
    let mut now = due;
    for _ in 0..20 {
        let Some(next) = endpoint.poll_timeout() else {
            break;
        };
        now = next.max(now);
        endpoint.handle_timeout(now, wall(), &mut out);
    }
    assert!(
        responses(&out)
            .iter()
            .all(|r| !r.starts_with("SIP/2.0 302")),
        "no 302 after the ACK: {:?}",
        responses(&out)
    );
}

#[test]
fn an_identity_that_arrives_follows_the_identity_policy_and_tel_targets_embed_nothing() {
    let (ctx, _) = context_with(|s: &mut Settings| {
        s.trunks[0].role = Role::Redirect;
        s.identity_policy = crate::proxy::IdentityPolicy::Reject;
    });
    match decide(&ctx, &invite("Identity: a.b.c;info=<http://x/>\r\n")) {
        Action::Respond { status, cause, .. } => {
            assert_eq!((status, cause), (403, Rejected::UntrustedIdentity));
        }
        other => panic!("{other:?}"),
    }
    let (ctx, _) = redirecting(SbcOptions {
        contact_identity: true,
        ..SbcOptions::default()
    });
    let tel = invite("").replace(
        "INVITE sip:2155550131@carrier.example SIP/2.0",
        "INVITE tel:+12155550131 SIP/2.0",
    );
    let a = answer(&ctx, &tel);
    assert_eq!(header(&a, "Contact"), Some("<tel:+12155550131>"));
    assert!(header(&a, "Identity").is_some());
}
