//! A trunk's sign policy for an initial INVITE: sign it, pass on the Identity it
//! arrived with once that verified, or let it go unsigned; or refuse it (a failed
//! Identity, or none where one is required). The Identity headers are verified before
//! the decision, as for a verifying trunk ([`super::endpoint`] holds the INVITE).

// A refusal is the `Action` that `decide` returns as it is (see pipeline.rs).
#![allow(clippy::result_large_err)]

use tracing::info;

use super::context::{Context, Trunk};
use super::pipeline::{Action, respond};
use crate::metrics::{Rejected, Unsigned};
use crate::sip::{HeaderName, Message};
use crate::trust::SignPolicy;
use crate::verify::{Verdict, Verstat, reason_phrase};

/// What an initial INVITE gets under its trunk's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    Sign,
    /// Its Identity verified: it goes on with it, not signed again.
    PassThrough,
    /// It goes on without a signature (`never`).
    Unsigned,
}

/// Counts and logs the verdict on an initial INVITE's Identity headers.
pub fn counted(ctx: &Context, msg: &Message<'_>, trunk: &Trunk, verdict: &Verdict) {
    ctx.metrics.verified(verdict.verstat);
    info!(
        call_id = msg.call_id(),
        trunk = %trunk.name,
        verstat = verdict.verstat.as_str(),
        code = ?verdict.code,
        reason = %verdict.reason.map(|r| r.to_string()).unwrap_or_default(),
        "verified"
    );
}

/// Whether `trunk` wants the Identity headers of `msg` verified before deciding.
pub fn verifies(trunk: &Trunk, msg: &Message<'_>) -> bool {
    trunk.sbc.sign_policy.verifies() && msg.header(HeaderName::Identity).is_some()
}

/// The treatment of an initial INVITE from `trunk`, given the verdict on its Identity
/// headers (`None` when they were not verified in time), or the refusal.
pub fn treat(
    ctx: &Context,
    msg: &Message<'_>,
    trunk: &Trunk,
    verdict: Option<&Verdict>,
) -> Result<Treatment, Action> {
    let policy = trunk.sbc.sign_policy;
    let signed = msg.header(HeaderName::Identity).is_some();
    match (policy, signed) {
        (SignPolicy::All, _) | (SignPolicy::Unsigned, false) => Ok(Treatment::Sign),
        (SignPolicy::Never, false) => {
            ctx.metrics.unsigned(Unsigned::SignPolicy);
            Ok(Treatment::Unsigned)
        }
        (SignPolicy::Required, false) => {
            let status = match trunk.sbc.unsigned_status {
                0 => 403,
                s => s,
            };
            let reason = match status {
                428 => "Use Identity Header",
                603 => "Decline",
                _ => "Identity Required",
            };
            info!(call_id = msg.call_id(), trunk = %trunk.name, status, "refused: no Identity, and the trunk requires one");
            Err(respond(status, reason, Rejected::IdentityRequired))
        }
        (_, true) => {
            let none = Verdict::no_validation();
            let verdict = verdict.unwrap_or(&none);
            counted(ctx, msg, trunk, verdict);
            match (verdict.verstat, verdict.code) {
                (_, Some(code)) => Err(respond(
                    code,
                    reason_phrase(code),
                    Rejected::VerificationFailed,
                )),
                (Verstat::Passed, None) => Ok(Treatment::PassThrough),
                // Not verified in time: neither passed on nor signed over.
                _ => Err(respond(
                    503,
                    "Identity Not Verified",
                    Rejected::VerificationFailed,
                )),
            }
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
