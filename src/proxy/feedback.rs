//! What a verifying trunk tells about the Identity headers of a call that failed
//! verification, and where ([`Feedback`]): the `Reason: SIP` of the forwarded INVITE
//! (RFC 8224 section 6.2.2), for the UAS, and the `Reason: STIR` values of RFC 9410 on
//! the first response back upstream, for the caller's side and its authentication
//! service. Pure: the INVITE's transaction carries the values to that response.
//!
//! RFC 9410 (Handling of Identity Header Errors for STIR) gives the verification
//! service the `Reason` header field "as an option for conveying an error associated
//! with an Identity header field to the upstream authentication service when local
//! policy dictates that the call should continue", with the protocol value `STIR`, the
//! error's status as `cause` and its reason phrase as `text`. With several Identity
//! header fields it "MUST include the error response code and reason phrase associated
//! with the error in a Reason header field ... in the next provisional or final
//! responses sent to the authentication service"; the `ppi` parameter is RECOMMENDED to
//! name the PASSporT, "in full form or in compact form, where only the signature of the
//! PASSporT is included with two periods as a prefix" (compact is the recommended form,
//! for privacy), quoted as in its example `ppi="eyJ..."`, and one `ppi` identifies a
//! single cause code. RFC 9366 lets a protocol that defines it carry several values: one
//! per failed header here.
//!
//! A `100 Trying` never carries it: it is hop-by-hop and never reaches the caller's side.

use std::borrow::Cow;

use tracing::debug;

use super::pipeline::Action;
use super::settings::Feedback;
use crate::metrics::Rejected;
use crate::sip::{Edits, HeaderName, Message, Method, stir_value};
use crate::verify::{Verdict, identity_values, reason_phrase};

/// At most this many `Reason: STIR` values go on one response: enough for every
/// Identity header a real call carries, and a response that still fits a datagram.
pub const MAX_REASONS: usize = 8;

/// Adds the failure's `Reason: SIP;cause=...;text="..."` to the forwarded INVITE when
/// the call failed and `feedback` puts it on the request.
pub fn on_request(feedback: Feedback, verdict: &Verdict, edits: &mut Edits) {
    if !feedback.on_request() {
        return;
    }
    if let Some(reason) = &verdict.reason {
        edits.append(HeaderName::Reason, reason.to_string());
    }
}

/// The `Reason: STIR` values (RFC 9410) for a request whose Identity header values are
/// `identities` (in its order) and whose verification concluded `verdict`: none when
/// the call did not fail; otherwise one per failed header, with its failure's status
/// and reason phrase, and, when the request carried several headers, `ppi` with the
/// compact form of that header's PASSporT. Identical values are given once, and at
/// most [`MAX_REASONS`].
pub fn stir_reasons(identities: &[Cow<'_, str>], verdict: &Verdict) -> Vec<String> {
    if !verdict.failed() {
        return Vec::new();
    }
    let several = identities.len() > 1;
    let mut out: Vec<String> = Vec::new();
    let failed = (verdict.per_header.iter().enumerate())
        .filter_map(|(i, code)| Some((identities.get(i), (*code)?)));
    for (identity, code) in failed {
        let ppi = identity.filter(|_| several).and_then(|v| compact_form(v));
        let value = stir_value(code, reason_phrase(code), ppi.as_deref());
        if !out.contains(&value) {
            out.push(value);
        }
        if out.len() == MAX_REASONS {
            break;
        }
    }
    // A verdict that names no header (none was verified one by one): its own failure.
    if out.is_empty()
        && let Some(code) = verdict.code
    {
        out.push(stir_value(code, reason_phrase(code), None));
    }
    out
}

/// The compact form of an Identity header's PASSporT (RFC 8225 section 7): two periods
/// and its signature. `None` when the value holds no three-part JWS with a signature.
pub fn compact_form(identity: &str) -> Option<String> {
    let jws = identity.split(';').next()?.trim();
    let mut parts = jws.split('.');
    let (_, _, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() {
        return None;
    }
    Some(format!("..{signature}"))
}

/// Adds the upstream feedback of a verified initial INVITE `msg` to the `action`
/// decided for it. A forwarded call's transaction keeps the values for its first
/// response upstream other than 100. A refusal carries them too, except a refusal for
/// the failure itself (`on_failure = "reject"`) of a request with one Identity header,
/// whose status line already is the failure (RFC 8224 section 6.2.2); with several,
/// RFC 9410 has each failed header reported in the next final response, which this is.
pub fn attach(feedback: Feedback, msg: &Message<'_>, verdict: &Verdict, action: &mut Action) {
    let initial_invite = msg.method() == Some(Method::Invite) && msg.to_tag().is_none();
    if !feedback.on_response() || !initial_invite || !verdict.failed() {
        return;
    }
    let identities = identity_values(msg);
    let reasons = stir_reasons(&identities, verdict);
    debug!(
        call_id = msg.call_id(),
        count = reasons.len(),
        "failed Identity headers reported upstream"
    );
    match action {
        Action::Forward(f) => f.feedback = reasons,
        Action::Respond {
            cause: Rejected::VerificationFailed,
            ..
        } if identities.len() < 2 => {}
        Action::Respond { headers, .. } => {
            headers.extend(reasons.into_iter().map(|r| (HeaderName::Reason, r)));
        }
        // Only a redirect trunk answers; it verifies nothing.
        Action::Answer(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Reason;
    use crate::verify::Verstat;

    fn verdict(per_header: &[Option<u16>]) -> Verdict {
        let code = per_header.iter().flatten().next().copied();
        Verdict {
            verstat: Verstat::Failed,
            code,
            reason: code.map(|c| Reason::sip(c, reason_phrase(c))),
            per_header: per_header.to_vec(),
        }
    }

    fn values(v: &[&'static str]) -> Vec<Cow<'static, str>> {
        v.iter().map(|s| Cow::Borrowed(*s)).collect()
    }

    const ONE: &str =
        "aGVhZA.cGF5bG9hZA.c2lnMQ;info=<https://cert.example/a.pem>;alg=ES256;ppt=shaken";
    const TWO: &str =
        "aGVhZA.cGF5bG9hZA.c2lnMg;info=<https://cert.example/b.pem>;alg=ES256;ppt=shaken";

    #[test]
    fn the_compact_form_is_two_periods_and_the_signature() {
        assert_eq!(compact_form(ONE).as_deref(), Some("..c2lnMQ"));
        assert_eq!(compact_form(" a.b.c ;info=<x>").as_deref(), Some("..c"));
        // Nothing to name a PASSporT by.
        for bad in [
            "not-a-jws;info=<x>",
            "a.b;info=<x>",
            "a.b.;info=<x>",
            "a.b.c.d",
            "",
        ] {
            assert_eq!(compact_form(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn one_failed_header_is_reported_without_ppi() {
        let reasons = stir_reasons(&values(&[ONE]), &verdict(&[Some(438)]));
        assert_eq!(reasons, ["STIR;cause=438;text=\"Invalid Identity Header\""]);
    }

    #[test]
    fn with_several_headers_each_failed_one_is_reported_with_its_ppi() {
        let reasons = stir_reasons(&values(&[ONE, TWO]), &verdict(&[Some(438), Some(436)]));
        assert_eq!(
            reasons,
            [
                "STIR;cause=438;text=\"Invalid Identity Header\";ppi=\"..c2lnMQ\"",
                "STIR;cause=436;text=\"Bad Identity Info\";ppi=\"..c2lnMg\"",
            ]
        );
        // A header that was not verified (or passed) is not reported.
        let reasons = stir_reasons(&values(&[ONE, TWO]), &verdict(&[None, Some(437)]));
        assert_eq!(
            reasons,
            ["STIR;cause=437;text=\"Unsupported Credential\";ppi=\"..c2lnMg\""]
        );
    }

    #[test]
    fn a_header_without_a_signature_is_reported_without_ppi() {
        let reasons = stir_reasons(
            &values(&["garbage;info=<x>", TWO]),
            &verdict(&[Some(438), Some(403)]),
        );
        assert_eq!(
            reasons,
            [
                "STIR;cause=438;text=\"Invalid Identity Header\"",
                "STIR;cause=403;text=\"Stale Date\";ppi=\"..c2lnMg\"",
            ]
        );
    }

    #[test]
    fn a_signature_that_would_break_out_of_its_quotes_is_escaped() {
        let hostile = "a.b.x\"y\\z;info=<x>";
        let reasons = stir_reasons(&values(&[hostile, ONE]), &verdict(&[Some(438), None]));
        assert_eq!(
            reasons,
            [r#"STIR;cause=438;text="Invalid Identity Header";ppi="..x\"y\\z""#]
        );
    }

    #[test]
    fn duplicates_are_given_once_and_the_count_is_bounded() {
        let reasons = stir_reasons(&values(&[ONE, ONE]), &verdict(&[Some(438), Some(438)]));
        assert_eq!(reasons.len(), 1);
        let many: Vec<Cow<'static, str>> = (0..40)
            .map(|i| Cow::Owned(format!("h.p.sig{i};info=<x>")))
            .collect();
        let reasons = stir_reasons(&many, &verdict(&[Some(438); 40]));
        assert_eq!(reasons.len(), MAX_REASONS);
    }

    #[test]
    fn a_call_that_passed_or_was_not_verified_reports_nothing() {
        let passed = Verdict {
            verstat: Verstat::Passed,
            code: None,
            reason: None,
            // One header failed, another passed: the call verified.
            per_header: vec![Some(438), None],
        };
        assert!(stir_reasons(&values(&[ONE, TWO]), &passed).is_empty());
        assert!(stir_reasons(&values(&[]), &Verdict::no_validation()).is_empty());
        assert!(stir_reasons(&values(&[ONE]), &Verdict::no_validation()).is_empty());
    }

    #[test]
    fn a_verdict_without_per_header_codes_reports_its_own_failure() {
        let unlisted = Verdict {
            code: Some(437),
            ..verdict(&[])
        };
        let reasons = stir_reasons(&values(&[ONE]), &unlisted);
        assert_eq!(reasons, ["STIR;cause=437;text=\"Unsupported Credential\""]);
    }

    #[test]
    fn the_request_gets_the_sip_reason_only_when_configured() {
        let text = "INVITE sip:+12155550131@example.com SIP/2.0\r\n\
            Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\n\
            From: <sip:+12155550121@example.com>;tag=f1\r\n\
            To: <sip:+12155550131@example.com>\r\n\
            Call-ID: f1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let msg = Message::parse(text.as_bytes()).unwrap();
        let edited = |feedback: Feedback, v: &Verdict| {
            let mut edits = Edits::new();
            on_request(feedback, v, &mut edits);
            let mut out = Vec::new();
            edits.apply(&msg, &mut out);
            String::from_utf8(out).unwrap()
        };
        let failed = verdict(&[Some(438)]);
        let line = "\r\nReason: SIP;cause=438;text=\"Invalid Identity Header\"\r\n";
        assert!(edited(Feedback::Request, &failed).contains(line));
        assert!(edited(Feedback::Both, &failed).contains(line));
        assert_eq!(edited(Feedback::Response, &failed), text);
        assert_eq!(edited(Feedback::Both, &Verdict::no_validation()), text);
    }
}
