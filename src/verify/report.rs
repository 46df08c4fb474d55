//! The outcome of verifying one Identity header: each step's result, the SIP status code
//! of the first failure (RFC 8224 section 6.2.2, ATIS-1000074), and the `verstat` value
//! (3GPP TS 24.229) the proxy adds to the caller's URI.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::sip::Reason;

/// The eleven verification steps, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 1: parse the Identity header (full form only) and the JWS.
    Parse,
    /// 2: `ppt`, `typ`, `alg`, and `info` equal to `x5u`.
    Header,
    /// 3: fetch the certificate chain at x5u.
    FetchX5u,
    /// 4: build the chain to the trust anchors, with validity and CRL revocation.
    Chain,
    /// 5: the leaf has a TNAuthList with an SPC.
    TnAuthList,
    /// 6: the leaf is valid at `iat`.
    CertValidAtIat,
    /// 7: `iat` is fresh, in both directions.
    Freshness,
    /// 8: the required claims are present and well-typed.
    Claims,
    /// 9: `attest` is A, B or C.
    Attest,
    /// 10: `orig` and `dest` match the request.
    Numbers,
    /// 11: the ES256 signature over the bytes as received.
    Signature,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Step::Parse,
        Step::Header,
        Step::FetchX5u,
        Step::Chain,
        Step::TnAuthList,
        Step::CertValidAtIat,
        Step::Freshness,
        Step::Claims,
        Step::Attest,
        Step::Numbers,
        Step::Signature,
    ];

    /// 1 to 11.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::Parse => "parse",
            Step::Header => "header",
            Step::FetchX5u => "fetch_x5u",
            Step::Chain => "chain",
            Step::TnAuthList => "tn_auth_list",
            Step::CertValidAtIat => "cert_valid_at_iat",
            Step::Freshness => "freshness",
            Step::Claims => "claims",
            Step::Attest => "attest",
            Step::Numbers => "numbers",
            Step::Signature => "signature",
        }
    }

    /// The SIP status a failure of this step answers with: 436 Bad Identity Info when
    /// x5u cannot be used, 437 Unsupported Credential for certificate problems, 403
    /// Stale Date for `iat`, 438 Invalid Identity Header for everything else.
    pub fn failure_code(self) -> u16 {
        match self {
            Step::FetchX5u => 436,
            Step::Chain | Step::TnAuthList | Step::CertValidAtIat => 437,
            Step::Freshness => 403,
            _ => 438,
        }
    }

    /// The verstat a failure of this step yields: `No-TN-Validation` when the header
    /// could not be used at all (unparsable, not SHAKEN, certificate unreachable),
    /// `TN-Validation-Failed` when it was checked and found wrong.
    pub fn failure_verstat(self) -> Verstat {
        match self {
            Step::Parse | Step::Header | Step::FetchX5u => Verstat::NoValidation,
            _ => Verstat::Failed,
        }
    }
}

/// The reason phrase of a verification status code.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        403 => "Stale Date",
        436 => "Bad Identity Info",
        437 => "Unsupported Credential",
        438 => "Invalid Identity Header",
        _ => "Verification Failed",
    }
}

/// The `verstat` parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verstat {
    Passed,
    Failed,
    NoValidation,
}

impl Verstat {
    pub const ALL: [Verstat; 3] = [Verstat::Passed, Verstat::Failed, Verstat::NoValidation];

    pub fn as_str(self) -> &'static str {
        match self {
            Verstat::Passed => "TN-Validation-Passed",
            Verstat::Failed => "TN-Validation-Failed",
            Verstat::NoValidation => "No-TN-Validation",
        }
    }
}

impl fmt::Display for Verstat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verstat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How one step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run: an earlier step it depends on failed, or there was nothing to compare.
    Skipped,
}

/// One step's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    #[serde(skip)]
    pub step: Step,
    pub number: u8,
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: Cow<'static, str>,
}

/// The result of verifying one Identity header value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub verstat: Verstat,
    /// The SIP status of the first failing step; `None` when verification passed.
    pub code: Option<u16>,
    /// `<reason phrase>: <detail>` of the first failure; empty when it passed.
    pub reason: String,
    /// The first failing step, in step order.
    pub failed_step: Option<Step>,
    /// All eleven steps, in order.
    pub steps: Vec<StepReport>,
    /// The x5u of the PASSporT, once known.
    pub x5u: Option<String>,
    /// The decoded claims, once known.
    pub claims: Option<super::ReceivedClaims>,
}

impl Report {
    /// A report with every step skipped; steps are then recorded with [`Report::set`].
    pub(crate) fn new() -> Report {
        Report {
            verstat: Verstat::NoValidation,
            code: None,
            reason: String::new(),
            failed_step: None,
            steps: Step::ALL
                .iter()
                .map(|&step| StepReport {
                    step,
                    number: step.number(),
                    name: step.name(),
                    outcome: Outcome::Skipped,
                    detail: Cow::Borrowed("not run"),
                })
                .collect(),
            x5u: None,
            claims: None,
        }
    }

    pub(crate) fn pass(&mut self, step: Step, detail: impl Into<Cow<'static, str>>) {
        self.set(step, Outcome::Passed, detail.into());
    }

    pub(crate) fn fail(&mut self, step: Step, detail: impl Into<Cow<'static, str>>) {
        self.set(step, Outcome::Failed, detail.into());
    }

    pub(crate) fn skip(&mut self, step: Step, detail: impl Into<Cow<'static, str>>) {
        self.set(step, Outcome::Skipped, detail.into());
    }

    fn set(&mut self, step: Step, outcome: Outcome, detail: Cow<'static, str>) {
        if let Some(line) = self.steps.get_mut(usize::from(step.number() - 1)) {
            line.outcome = outcome;
            line.detail = detail;
        }
    }

    /// Whether any step has failed so far.
    pub(crate) fn any_failed(&self) -> bool {
        self.steps.iter().any(|s| s.outcome == Outcome::Failed)
    }

    /// Sets verstat, code and reason from the steps: the first failure in step order
    /// decides; with none, verification passed.
    pub(crate) fn finish(mut self) -> Report {
        match self.steps.iter().find(|s| s.outcome == Outcome::Failed) {
            Some(first) => {
                let code = first.step.failure_code();
                self.verstat = first.step.failure_verstat();
                self.code = Some(code);
                self.reason = format!("{}: {}", reason_phrase(code), first.detail);
                self.failed_step = Some(first.step);
            }
            None => {
                self.verstat = Verstat::Passed;
                self.code = None;
                self.reason.clear();
                self.failed_step = None;
            }
        }
        self
    }

    pub fn passed(&self) -> bool {
        self.verstat == Verstat::Passed
    }

    /// One step's line.
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.get(usize::from(step.number() - 1))
    }

    /// The reason phrase of [`Report::code`] (`Stale Date`, `Bad Identity Info`, ...).
    pub fn reason_phrase(&self) -> Option<&'static str> {
        self.code.map(reason_phrase)
    }

    /// The `Reason` header (RFC 3326) for a forwarded call that failed:
    /// `SIP;cause=438;text="Invalid Identity Header"`.
    pub fn sip_reason(&self) -> Option<Reason<'static>> {
        self.code.map(|code| Reason::sip(code, reason_phrase(code)))
    }
}

impl fmt::Display for Report {
    /// The human-readable report of `callsign verify`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            let mark = match s.outcome {
                Outcome::Passed => "ok  ",
                Outcome::Failed => "FAIL",
                Outcome::Skipped => "skip",
            };
            writeln!(f, "  {:>2}. {mark} {:<18} {}", s.number, s.name, s.detail)?;
        }
        match self.code {
            None => writeln!(f, "  result: {}", self.verstat),
            Some(code) => writeln!(f, "  result: {} ({code} {})", self.verstat, self.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_in_order_with_their_codes() {
        let numbers: Vec<u8> = Step::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, (1..=11).collect::<Vec<u8>>());
        let codes: Vec<u16> = Step::ALL.iter().map(|s| s.failure_code()).collect();
        assert_eq!(
            codes,
            [438, 438, 436, 437, 437, 437, 403, 438, 438, 438, 438]
        );
        assert_eq!(Step::FetchX5u.failure_verstat(), Verstat::NoValidation);
        assert_eq!(Step::Signature.failure_verstat(), Verstat::Failed);
    }

    #[test]
    fn the_first_failure_in_step_order_decides() {
        let mut r = Report::new();
        r.pass(Step::Parse, "ok");
        r.fail(Step::Signature, "bad");
        r.fail(Step::Freshness, "iat is 61 s old");
        let r = r.finish();
        assert_eq!(r.code, Some(403));
        assert_eq!(r.verstat, Verstat::Failed);
        assert_eq!(r.failed_step, Some(Step::Freshness));
        assert_eq!(r.reason, "Stale Date: iat is 61 s old");
        assert_eq!(
            r.sip_reason().map(|r| r.to_string()).as_deref(),
            Some("SIP;cause=403;text=\"Stale Date\"")
        );
        assert!(!r.passed());
    }

    #[test]
    fn no_failure_is_a_pass() {
        let mut r = Report::new();
        for step in Step::ALL {
            r.pass(step, "ok");
        }
        let r = r.finish();
        assert!(r.passed());
        assert_eq!(r.verstat.as_str(), "TN-Validation-Passed");
        assert_eq!(r.code, None);
        assert_eq!(r.sip_reason(), None);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["verstat"], "TN-Validation-Passed");
        assert_eq!(json["steps"][10]["number"], 11);
        assert_eq!(json["steps"][10]["name"], "signature");
        assert!(r.to_string().contains("result: TN-Validation-Passed"));
    }
}
