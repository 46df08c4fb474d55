use std::sync::Arc;
use std::time::Instant;

use super::*;
use crate::proxy::pipeline::{Signing, decide};
use crate::proxy::testing::{TRUNK, context_with, invite, udp, wall};
use crate::proxy::{Endpoint, Role, Settings};

const ARRIVED: &str = "Identity: eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://cert.example.org/a.pem>;alg=ES256;ppt=shaken\r\n";

fn with_policy(role: Role, policy: SignPolicy, unsigned_status: u16) -> Context {
    context_with(|s: &mut Settings| {
        s.trunks[0].role = role;
        s.trunks[0].sbc.sign_policy = policy;
        s.trunks[0].sbc.unsigned_status = unsigned_status;
    })
    .0
}

fn passed() -> Verdict {
    Verdict {
        verstat: Verstat::Passed,
        code: None,
        reason: None,
        per_header: vec![None],
    }
}

fn failed(code: u16) -> Verdict {
    Verdict {
        verstat: Verstat::Failed,
        code: Some(code),
        reason: None,
        per_header: vec![Some(code)],
    }
}

fn run(ctx: &Context, text: &str, verdict: Option<&Verdict>) -> Action {
    let msg = Message::parse(text.as_bytes()).expect("parses");
    decide(ctx, &msg, udp(TRUNK), 5, wall(), verdict)
}

fn refused(action: Action) -> (u16, String, Rejected) {
    match action {
        Action::Respond {
            status,
            reason,
            cause,
            ..
        } => (status, reason.into_owned(), cause),
        other => panic!("not refused: {other:?}"),
    }
}

fn identities(bytes: &[u8]) -> Vec<String> {
    let msg = Message::parse(bytes).unwrap();
    msg.header_values(HeaderName::Identity)
        .map(str::to_owned)
        .collect()
}

#[test]
fn sign_unsigned_signs_what_comes_unsigned_and_passes_on_what_verified() {
    let ctx = with_policy(Role::Sign, SignPolicy::Unsigned, 0);
    // No Identity: signed as usual.
    match run(&ctx, &invite(""), None) {
        Action::Forward(f) => {
            assert!(matches!(f.signing, Some(Signing::Signed(_))));
            assert_eq!(identities(&f.bytes).len(), 1);
        }
        other => panic!("{other:?}"),
    }
    // An Identity that verified goes on as it came, not signed over.
    match run(&ctx, &invite(ARRIVED), Some(&passed())) {
        Action::Forward(f) => {
            assert_eq!(f.signing, Some(Signing::PassedThrough));
            let arrived = ARRIVED.trim_start_matches("Identity: ").trim_end();
            assert_eq!(identities(&f.bytes), vec![arrived.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    // One that failed is refused with its code; one not verified in time with 503.
    assert_eq!(
        refused(run(&ctx, &invite(ARRIVED), Some(&failed(438)))),
        (
            438,
            "Invalid Identity Header".into(),
            Rejected::VerificationFailed
        )
    );
    assert_eq!(
        refused(run(&ctx, &invite(ARRIVED), None)),
        (
            503,
            "Identity Not Verified".into(),
            Rejected::VerificationFailed
        )
    );
}

#[test]
fn never_sign_lets_unsigned_calls_through_unsigned_and_counts_them() {
    let ctx = with_policy(Role::Sign, SignPolicy::Never, 0);
    match run(&ctx, &invite(""), None) {
        Action::Forward(f) => {
            assert_eq!(f.signing, Some(Signing::Unsigned(Unsigned::SignPolicy)));
            assert!(identities(&f.bytes).is_empty());
        }
        other => panic!("{other:?}"),
    }
    let text = ctx.metrics.render();
    assert!(
        text.contains("callsign_calls_unsigned_total{cause=\"sign_policy\"} 1"),
        "{text}"
    );
    assert_eq!(
        refused(run(&ctx, &invite(ARRIVED), Some(&failed(437)))).0,
        437
    );
}

#[test]
fn required_blocks_unsigned_calls_with_the_trunks_status() {
    let ctx = with_policy(Role::Sign, SignPolicy::Required, 0);
    assert_eq!(
        refused(run(&ctx, &invite(""), None)),
        (403, "Identity Required".into(), Rejected::IdentityRequired)
    );
    let ctx = with_policy(Role::Sign, SignPolicy::Required, 428);
    assert_eq!(
        refused(run(&ctx, &invite(""), None)),
        (
            428,
            "Use Identity Header".into(),
            Rejected::IdentityRequired
        )
    );
    assert!(matches!(
        run(&ctx, &invite(ARRIVED), Some(&passed())),
        Action::Forward(_)
    ));
}

#[test]
fn a_redirect_trunk_passes_a_verified_identity_back_in_its_302() {
    let ctx = with_policy(Role::Redirect, SignPolicy::Unsigned, 0);
    match run(&ctx, &invite(ARRIVED), Some(&passed())) {
        Action::Answer(a) => {
            assert_eq!(a.status, 302);
            assert_eq!(a.signing, Some(Signing::PassedThrough));
            let arrived = ARRIVED.trim_start_matches("Identity: ").trim_end();
            let ids: Vec<&str> = (a.headers.iter())
                .filter(|(n, _)| *n == "Identity")
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(ids, vec![arrived]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refused(run(&ctx, &invite(ARRIVED), Some(&failed(436)))).0,
        436
    );
}

#[test]
fn the_endpoint_holds_for_verification_only_what_the_policy_verifies() {
    let ctx = with_policy(Role::Sign, SignPolicy::Unsigned, 0);
    let mut endpoint = Endpoint::new(Arc::new(ctx));
    let mut out = Vec::new();
    let now = Instant::now();
    let held = endpoint.handle(
        udp(TRUNK),
        invite(ARRIVED).as_bytes(),
        now,
        wall(),
        &mut out,
    );
    let verify = held.expect("an INVITE with Identity waits for its verdict");
    assert_eq!(verify.identities.len(), 1);
    assert!(String::from_utf8_lossy(&out[0].bytes).starts_with("SIP/2.0 100 Trying"));
    out.clear();
    let unsigned = invite("")
        .replace("Call-ID: c1@test", "Call-ID: c2@test")
        .replace("branch=z9hG4bK-1", "branch=z9hG4bK-2");
    let held = endpoint.handle(udp(TRUNK), unsigned.as_bytes(), now, wall(), &mut out);
    assert!(held.is_none(), "nothing to verify: signed at once");
    assert!(
        out.iter()
            .any(|o| String::from_utf8_lossy(&o.bytes).starts_with("INVITE "))
    );
}

fn header<'a>(a: &'a crate::proxy::pipeline::Answer, name: &str) -> Option<&'a str> {
    (a.headers.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_verifying_redirect_trunk_marks_the_caller_with_its_verdict() {
    let answer =
        |ctx: &Context, text: &str, verdict: Option<&Verdict>| match run(ctx, text, verdict) {
            Action::Answer(a) => a,
            other => panic!("{other:?}"),
        };
    let verifying = |on_failure| {
        context_with(|s: &mut Settings| {
            s.trunks[0].role = Role::Redirect;
            s.trunks[0].sbc.sign_policy = SignPolicy::Never;
            s.on_failure = on_failure;
        })
        .0
    };
    let ctx = verifying(crate::proxy::OnFailure::Forward);
    let passed_call = answer(&ctx, &invite(ARRIVED), Some(&passed()));
    assert_eq!(passed_call.status, 302);
    assert_eq!(
        header(&passed_call, "P-Asserted-Identity"),
        Some("<sip:2155550121;verstat=TN-Validation-Passed@127.0.0.1>")
    );
    assert!(header(&passed_call, "Identity").is_some());

    let unsigned = answer(&ctx, &invite(""), None);
    assert_eq!(
        header(&unsigned, "P-Asserted-Identity"),
        Some("<sip:2155550121;verstat=No-TN-Validation@127.0.0.1>")
    );
    assert_eq!(header(&unsigned, "Identity"), None);

    // A failure goes on marked, with its Reason, when failures are forwarded...
    let mut failure = failed(438);
    failure.reason = Some(crate::sip::Reason::sip(438, "Invalid Identity Header"));
    let failed_call = answer(&ctx, &invite(ARRIVED), Some(&failure));
    assert_eq!(failed_call.status, 302);
    assert_eq!(
        header(&failed_call, "P-Asserted-Identity"),
        Some("<sip:2155550121;verstat=TN-Validation-Failed@127.0.0.1>")
    );
    assert!(
        header(&failed_call, "Reason")
            .unwrap()
            .contains("cause=438")
    );
    assert_eq!(header(&failed_call, "Identity"), None);
    // ...and is refused with its code when they are rejected.
    let ctx = verifying(crate::proxy::OnFailure::Reject);
    assert_eq!(refused(run(&ctx, &invite(ARRIVED), Some(&failure))).0, 438);
}
