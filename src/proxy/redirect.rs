//! Redirect trunks: an SBC sends its INVITE, callsign attests and signs it as on a
//! signing trunk and answers `302 Moved Temporarily` with the Identity, and the SBC
//! sends the call on itself (the SIP redirect of TransNexus ClearIP, Ribbon's Identity
//! Hub, 46 Labs). The 302's Contact is the INVITE's Request-URI; the Identity is a
//! header of the 302 and, when the trunk asks (for SBCs that read it there), a URI
//! header of the Contact as RFC 3261 section 19.1.1 allows in a redirect's Contact. The
//! 302 is the final response of a server transaction of its own: a retransmitted
//! INVITE gets the same 302 with the same Identity, Timer G repeats it over UDP, and
//! its ACK is absorbed.

// A refusal is the `Action` that `decide` returns as it is (see pipeline.rs).
#![allow(clippy::result_large_err)]

use std::time::SystemTime;

use super::Peer;
use super::context::{Context, Trunk};
use super::pipeline::{
    Action, Answer, Signing, apply_identity_policy, attestation_headers, respond, sign_invite,
};
use super::policy::{Treatment, treat};
use super::settings::OnFailure;
use super::verstat::marked_identity;
use crate::metrics::Rejected;
use crate::sip::{Edits, HeaderName, Message, Method};
use crate::tn::Tn;
use crate::trust::SignPolicy;
use crate::verify::{Verdict, Verstat};

/// A redirect trunk's request. An initial INVITE is attested and signed as on a signing
/// trunk and answered `302 Moved Temporarily`: the Contact is its Request-URI (with the
/// Identity as a URI header too, when the trunk asks), and the 302 carries the Identity.
/// Nothing is forwarded. An OPTIONS (an SBC's keepalive) gets 200; anything else 405, or
/// 481 within a dialog, since a redirect trunk never has one through callsign.
#[allow(clippy::too_many_arguments)]
pub(super) fn answer(
    ctx: &Context,
    msg: &Message<'_>,
    src: Peer,
    trunk: &Trunk,
    caller: Option<Tn>,
    (initial, method): (bool, Method),
    now: SystemTime,
    verdict: Option<&Verdict>,
) -> Action {
    const ALLOW: &str = "INVITE, ACK, CANCEL, OPTIONS";
    if !initial {
        return respond(
            481,
            "Call/Transaction Does Not Exist",
            Rejected::NotRedirected,
        );
    }
    match method {
        Method::Invite => {}
        Method::Options => {
            return Action::Answer(Answer {
                status: 200,
                reason: "OK",
                headers: vec![("Allow", ALLOW.to_owned())],
                signing: None,
                cause: None,
            });
        }
        _ => {
            return Action::Answer(Answer {
                status: 405,
                reason: "Method Not Allowed",
                headers: vec![("Allow", ALLOW.to_owned())],
                signing: None,
                cause: Some(Rejected::NotRedirected),
            });
        }
    }
    // The call goes on from the SBC to where it was going: the Request-URI in angle
    // brackets (the parser refuses URI headers in it, RFC 3261 19.1.1).
    let Some(target) = msg
        .request_uri()
        .filter(|u| !u.contains(['<', '>', '"', ' ']))
    else {
        return respond(400, "Bad Request-URI", Rejected::Malformed);
    };
    // Only a sip: or sips: URI carries headers: a tel: Contact gets none.
    let sip_target = target
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("sip:"))
        || target
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("sips:"));
    let verifying = trunk.sbc.sign_policy == SignPolicy::Never;
    let none = Verdict::no_validation();
    let verdict_or_none = verdict.unwrap_or(&none);
    let treatment = match treat(ctx, msg, trunk, verdict) {
        Ok(t) => t,
        // A verifying redirect trunk that forwards failures (`[verify] on_failure`)
        // answers 302 with the failure marked, and its Reason (RFC 9410).
        Err(Action::Respond {
            cause: Rejected::VerificationFailed,
            ..
        }) if verifying
            && ctx.on_failure == OnFailure::Forward
            && verdict_or_none.code.is_some() =>
        {
            let mut headers = vec![("Contact", format!("<{target}>"))];
            headers.extend(
                marked_identity(msg, verdict_or_none.verstat)
                    .map(|pai| ("P-Asserted-Identity", pai)),
            );
            headers.extend(verdict_or_none.reason.map(|r| ("Reason", r.to_string())));
            return Action::Answer(Answer {
                status: 302,
                reason: "Moved Temporarily",
                headers,
                signing: None,
                cause: None,
            });
        }
        Err(refusal) => return refusal,
    };
    let (signing, identities) = match treatment {
        Treatment::Sign => {
            // Edits are for a forwarded request: the SBC's INVITE goes on as it is. An
            // Identity it came with still follows the identity policy (`reject`: 403).
            let mut unused = Edits::new();
            if let Err(refusal) = apply_identity_policy(ctx, msg, src, trunk, now, &mut unused) {
                return refusal;
            }
            match sign_invite(ctx, msg, src, trunk, caller, now, &mut unused) {
                Ok((signing, identity)) => (signing, Vec::from_iter(identity)),
                Err(refusal) => return refusal,
            }
        }
        // The Identity headers it came with, one of which verified: the SBC keeps them.
        Treatment::PassThrough => (
            Signing::PassedThrough,
            (msg.header_values(HeaderName::Identity))
                .map(str::to_owned)
                .collect(),
        ),
        Treatment::Unsigned => (
            Signing::Unsigned(crate::metrics::Unsigned::SignPolicy),
            Vec::new(),
        ),
    };
    let contact = match (identities.first(), trunk.sbc.contact_identity && sip_target) {
        (Some(id), true) => format!("<{target}?Identity={}>", escape_uri_header(id)),
        _ => format!("<{target}>"),
    };
    let mut headers = vec![("Contact", contact)];
    headers.extend(identities.into_iter().map(|id| ("Identity", id)));
    headers.extend(attestation_headers(trunk, &signing));
    // A verifying redirect trunk marks the calling identity with its verdict.
    if verifying {
        let verstat = match treatment {
            Treatment::PassThrough => Verstat::Passed,
            _ => Verstat::NoValidation,
        };
        headers.extend(marked_identity(msg, verstat).map(|pai| ("P-Asserted-Identity", pai)));
    }
    Action::Answer(Answer {
        status: 302,
        reason: "Moved Temporarily",
        headers,
        signing: Some(signing),
        cause: None,
    })
}

/// `value` as a URI header's value (RFC 3261 section 25.1: `hvalue`): unreserved
/// characters and `[]/?:+$` as they are, everything else percent-encoded.
fn escape_uri_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 32);
    for b in value.bytes() {
        let plain = b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b);
        if plain {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "redirect_tests.rs"]
mod tests;
