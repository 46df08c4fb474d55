//! What the REST API decides, apart from HTTP: who an SBC is ([`Clients`]), the level
//! and signature of a signing request, and the verdict on a verification request. The
//! trust data, signers and verifier are the proxy's own, so a call signed through the
//! API gets what the same call gets over SIP.

use std::sync::Arc;

use ring::digest::{SHA256, digest};
use tracing::{info, warn};

use super::{ApiError, SigningRequest, VerificationRequest, verification_response};
use crate::passport::{Attest, Claims, PassportError};
use crate::proxy::Context;
use crate::proxy::tls::name_allowed;
use crate::sip::digest::{Algorithm, ha1};
use crate::tn::{Tn, canonicalize};
use crate::trust::{RequestedLevel, Sid, SignPolicy, TrunkHit, TrunkRole};
use crate::verify::{Expected, Failure, Verifier};

/// An SBC of the operator's own network (`[[sti_rest.client]]`), bound to no trunk: it
/// asserts its levels, and `[signing]`'s identity signs.
#[derive(Debug, Clone)]
pub struct AssertingClient {
    pub name: Arc<str>,
    pub username: Option<String>,
    /// SHA-256 of its password.
    pub password_sha256: Option<[u8; 32]>,
    pub tls_names: Vec<String>,
    /// Hyphenated UUID for requests that carry no `origid`.
    pub origid: Arc<str>,
}

/// Who sent a request.
#[derive(Debug, Clone)]
pub enum Client {
    /// An SBC bound to a provisioned trunk: the trunk's account and trust data decide.
    Trunk(Arc<TrunkHit>),
    Asserting(Arc<AssertingClient>),
}

impl Client {
    pub fn name(&self) -> &str {
        match self {
            Client::Trunk(t) => &t.name,
            Client::Asserting(c) => &c.name,
        }
    }
}

/// The configured asserting clients.
#[derive(Debug, Clone, Default)]
pub struct Clients(Vec<Arc<AssertingClient>>);

impl Clients {
    pub fn new(clients: Vec<AssertingClient>) -> Clients {
        Clients(clients.into_iter().map(Arc::new).collect())
    }

    /// The client that HTTP basic credentials or a client certificate's names identify:
    /// an asserting client first, then the trunk with that credential (checked against
    /// the digest kept in `realm`) or whose domain the certificate names. `None` when
    /// nothing matches; the caller answers 401.
    pub fn identify(
        &self,
        ctx: &Context,
        basic: Option<(&str, &str)>,
        cert_names: &[String],
    ) -> Option<Client> {
        if let Some((user, password)) = basic {
            let hashed = digest(&SHA256, password.as_bytes());
            let own = self.0.iter().find(|c| {
                c.username.as_deref() == Some(user)
                    && c.password_sha256.is_some_and(|h| same(&h, hashed.as_ref()))
            });
            if let Some(c) = own {
                return Some(Client::Asserting(Arc::clone(c)));
            }
            let index = ctx.trust.load();
            return index
                .trunk_by_credential(user, |c| {
                    let ha1 = ha1(Algorithm::Sha256, user, &c.realm, password);
                    same(ha1.as_bytes(), c.ha1_sha256.as_bytes())
                })
                .map(Client::Trunk);
        }
        for name in cert_names {
            if let Some(c) = self.0.iter().find(|c| name_allowed(&c.tls_names, name)) {
                return Some(Client::Asserting(Arc::clone(c)));
            }
        }
        let index = ctx.trust.load();
        (cert_names.iter())
            .filter(|n| !n.starts_with('*'))
            .find_map(|n| index.trunk_by_domain(n))
            .map(Client::Trunk)
    }
}

/// Constant-time equality of two byte strings of the same length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signing and verification service.
pub struct Service {
    pub ctx: Arc<Context>,
    pub clients: Clients,
    /// `None`: `[verify]` is not configured, and verification is not served.
    pub verifier: Option<Verifier>,
    /// How far a signing request's `iat` may be from now.
    pub iat_window: u64,
}

/// A signing request's outcome, for the log: the level signed and its basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub identity: String,
    pub level: Attest,
    /// The trust data's reason (`a_full`, …), `sbc_ceiling` or `sbc_asserted`.
    pub basis: &'static str,
}

impl Service {
    /// Signs for `client`: the level from the trust data for a trunk's SBC (the
    /// requested level at most lowering it, when the trunk says so), the requested one
    /// for an asserting client. Logged and counted as a signed call.
    pub fn sign(
        &self,
        client: &Client,
        req: &SigningRequest,
        now: i64,
        request_id: &str,
    ) -> Result<Signed, ApiError> {
        let numbering = &self.ctx.numbering;
        let orig = canonicalize(&req.orig, numbering).map_err(|_| {
            ApiError::InvalidParameter("orig", "'tn' is not a telephone number".into())
        })?;
        let dest: Vec<Tn> = (req.dest.iter())
            .map(|d| canonicalize(d, numbering))
            .collect::<Result<_, _>>()
            .map_err(|_| {
                ApiError::InvalidParameter("dest", "a 'tn' is not a telephone number".into())
            })?;
        if req.iat.abs_diff(now) > self.iat_window {
            return Err(ApiError::InvalidParameter(
                "iat",
                format!("more than {} s from the server's clock", self.iat_window).into(),
            ));
        }
        let requested_origid = match &req.origid {
            Some(text) => Some(
                uuid::Uuid::try_parse(text)
                    .map_err(|_| {
                        ApiError::InvalidParameter("origid", "must be a UUID (RFC 4122)".into())
                    })?
                    .hyphenated()
                    .to_string(),
            ),
            None => None,
        };
        let (level, basis, signing_identity, account, origid): (_, _, Option<Sid>, _, _) =
            match client {
                Client::Trunk(trunk) => {
                    if !matches!(trunk.role, TrunkRole::Sign | TrunkRole::Redirect) {
                        return Err(ApiError::Forbidden(format!(
                            "trunk {} has role {} and signs nothing",
                            trunk.sid,
                            trunk.role.as_str()
                        )));
                    }
                    if matches!(trunk.sign_policy, SignPolicy::Never | SignPolicy::Required) {
                        return Err(ApiError::Forbidden(format!(
                            "trunk {} signs nothing (sign_policy {})",
                            trunk.sid,
                            trunk.sign_policy.as_str()
                        )));
                    }
                    // Its calls a second count signings through the API as they count
                    // INVITEs over SIP.
                    let at =
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
                    if let Some(limit) = trunk.call_limit
                        && !self.ctx.limiter.admit(&trunk.origid, limit, at)
                    {
                        return Err(ApiError::RateLimited);
                    }
                    let index = self.ctx.trust.load();
                    let attestation = index.attest(trunk.account, orig, req.iat);
                    let identity = index.signing_identity(Some(trunk.sid), Some(trunk.account));
                    drop(index);
                    // A suspended account is treated as over SIP: C, or refused when
                    // `[signing] suspended_status` says so.
                    if self.ctx.suspended_refusal(&attestation).is_some() {
                        info!(interface = "sti_rest", request_id, trunk = %trunk.name, account = %trunk.account, "refused: the account is suspended");
                        return Err(ApiError::Forbidden(format!(
                            "account {} is suspended",
                            trunk.account
                        )));
                    }
                    let (mut level, mut basis) = (attestation.level, attestation.reason.as_str());
                    // A larger `Attest` is a weaker level.
                    if trunk.requested_level == RequestedLevel::Ceiling && req.attest > level {
                        (level, basis) = (req.attest, "sbc_ceiling");
                    }
                    if let Some(gate) = trunk.level_gate
                        && level > gate.minimum
                    {
                        info!(interface = "sti_rest", request_id, trunk = %trunk.name, attest = %level, minimum = %gate.minimum, "refused below the trunk's minimum level");
                        return Err(ApiError::Forbidden(format!(
                            "level {level} is below trunk {}'s minimum {}",
                            trunk.sid, gate.minimum
                        )));
                    }
                    let origid = requested_origid.unwrap_or_else(|| trunk.origid.to_string());
                    (level, basis, identity, Some(trunk.account), origid)
                }
                Client::Asserting(c) => {
                    let origid = requested_origid.unwrap_or_else(|| c.origid.to_string());
                    (req.attest, "sbc_asserted", None, None, origid)
                }
            };
        let dest_list: Vec<&str> = dest.iter().map(Tn::as_str).collect();
        let claims = Claims {
            attest: level,
            dest: &dest_list,
            iat: req.iat,
            orig: orig.as_str(),
            origid: &origid,
        };
        let identity = match self.ctx.sign_identity(signing_identity, &claims) {
            Ok(identity) => identity,
            Err(e) => {
                let why = match e {
                    PassportError::CertificateNotValid { .. } => {
                        "the signing certificate is not valid"
                    }
                    PassportError::OrigNotCovered { .. } => {
                        "the caller is not among the delegate certificate's numbers"
                    }
                    _ => "signing failed",
                };
                warn!(interface = "sti_rest", request_id, client = client.name(), error = %e, "not signed: {why}");
                return Err(ApiError::Internal);
            }
        };
        self.ctx.metrics.signed_as(level, basis);
        if let Some(account) = account {
            (self.ctx.metrics.calls).record(account, level, basis, now);
        }
        info!(
            interface = "sti_rest",
            request_id,
            client = client.name(),
            account = %account.map(|a| a.to_string()).unwrap_or_default(),
            orig = %orig,
            dest = %dest_list.join(","),
            attest = %level,
            requested = %req.attest,
            reason = basis,
            origid,
            signing_identity = %signing_identity.map(|s| s.to_string()).unwrap_or_else(|| "default".into()),
            "signed"
        );
        Ok(Signed {
            identity,
            level,
            basis,
        })
    }

    /// Verifies with the proxy's verifier: always a `verificationResponse` once the
    /// request is readable; the claims when it passed.
    pub async fn verify(
        &self,
        client: &Client,
        req: &VerificationRequest,
        now: i64,
        request_id: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let Some(verifier) = &self.verifier else {
            return Err(ApiError::NotFound);
        };
        let numbering = &self.ctx.numbering;
        let from = canonicalize(&req.from, numbering).map_err(|_| {
            ApiError::InvalidParameter("from", "'tn' is not a telephone number".into())
        })?;
        let to = (req.to.iter())
            .map(|t| canonicalize(t, numbering).map(|t| t.as_str().to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                ApiError::InvalidParameter("to", "a 'tn' is not a telephone number".into())
            })?;
        let expected = Expected {
            orig: Some(from.as_str().to_owned()),
            dest: to,
            date: Some(req.time),
        };
        let report = verifier.verify(&req.identity, &expected, now).await;
        self.ctx.metrics.verified(report.verstat);
        info!(
            interface = "sti_rest",
            request_id,
            client = client.name(),
            verstat = report.verstat.as_str(),
            code = ?report.code,
            reason = %report.reason,
            x5u = report.x5u.as_deref().unwrap_or(""),
            "verified"
        );
        let desc = match report.failure {
            // E3 is the request's own `time` here, not a Date header.
            Some(Failure::StaleDate) => format!(
                "'time' is {} s from now, more than the window allows",
                req.time.abs_diff(now)
            ),
            _ => (report.reason.split_once(": "))
                .map_or(report.reason.as_str(), |(_, d)| d)
                .to_owned(),
        };
        let mut body = verification_response(report.verstat, report.code, &desc);
        if report.code.is_none()
            && let Some(claims) = &report.claims
        {
            body["verificationResponse"]["passport"] = serde_json::json!({
                "attest": claims.attest,
                "dest": {"tn": claims.dest},
                "iat": claims.iat,
                "orig": {"tn": claims.orig},
                "origid": claims.origid,
                "x5u": report.x5u,
            });
        }
        Ok(body)
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
