//! The outcome of verifying one Identity header: each step's result, the first failure
//! with its SIP status code and `verstat` value (3GPP TS 24.229) from the ATIS-1000082
//! table in [`super::failure`], which the proxy adds to the caller's URI.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::Failure;
use super::failure::reason_phrase;
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
    /// 5: the leaf has a TNAuthList with an SPC, or is a delegate certificate (RFC 9060)
    /// under an STI-SCA whose numbers include `orig`.
    TnAuthList,
    /// 6: the leaf is valid at `iat`.
    CertValidAtIat,
    /// 7: the Date header and `iat` are fresh, in both directions.
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
    /// The ATIS-1000082 error case (`E2` to `E19`) when the step failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
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
    /// Its ATIS-1000082 error case, which decides `code` and `verstat`.
    pub failure: Option<Failure>,
    /// The PASSporT type: the Identity header's `ppt` parameter, else the protected
    /// header's `ppt`, once known. Decides which header speaks for a call that has
    /// several ([`super::Verdict::from_reports`]).
    pub ppt: Option<String>,
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
            failure: None,
            ppt: None,
            steps: Step::ALL
                .iter()
                .map(|&step| StepReport {
                    step,
                    number: step.number(),
                    name: step.name(),
                    outcome: Outcome::Skipped,
                    detail: Cow::Borrowed("not run"),
                    failure: None,
                })
                .collect(),
            x5u: None,
            claims: None,
        }
    }

    pub(crate) fn pass(&mut self, step: Step, detail: impl Into<Cow<'static, str>>) {
        self.set(step, Outcome::Passed, detail.into(), None);
    }

    /// Records `step` as failed with `failure`, the row of the table it falls under.
    pub(crate) fn fail(
        &mut self,
        step: Step,
        failure: Failure,
        detail: impl Into<Cow<'static, str>>,
    ) {
        self.set(step, Outcome::Failed, detail.into(), Some(failure));
    }

    pub(crate) fn skip(&mut self, step: Step, detail: impl Into<Cow<'static, str>>) {
        self.set(step, Outcome::Skipped, detail.into(), None);
    }

    fn set(
        &mut self,
        step: Step,
        outcome: Outcome,
        detail: Cow<'static, str>,
        failure: Option<Failure>,
    ) {
        if let Some(line) = self.steps.get_mut(usize::from(step.number() - 1)) {
            line.outcome = outcome;
            line.detail = detail;
            line.failure = failure;
        }
    }

    /// Whether any step has failed so far.
    pub(crate) fn any_failed(&self) -> bool {
        self.steps.iter().any(|s| s.outcome == Outcome::Failed)
    }

    /// Sets verstat, code and reason from the steps: the first failure in step order
    /// decides, through its row of the table; with none, verification passed.
    pub(crate) fn finish(mut self) -> Report {
        let first = (self.steps.iter())
            .find(|s| s.outcome == Outcome::Failed)
            .and_then(|s| Some((s, s.failure?)));
        match first {
            Some((line, failure)) => {
                let code = failure.code();
                self.verstat = failure.verstat();
                self.code = Some(code);
                self.reason = format!("{}: {}", reason_phrase(code), line.detail);
                self.failed_step = Some(line.step);
                self.failure = Some(failure);
            }
            None => {
                self.verstat = Verstat::Passed;
                self.code = None;
                self.reason.clear();
                self.failed_step = None;
                self.failure = None;
            }
        }
        self
    }

    /// Whether the PASSporT is (or, unread, may be) a SHAKEN one: its `ppt` is `shaken`
    /// or could not be read.
    pub fn maybe_shaken(&self) -> bool {
        self.ppt.as_deref().is_none_or(|p| p == "shaken")
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
    fn steps_are_numbered_in_order() {
        let numbers: Vec<u8> = Step::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, (1..=11).collect::<Vec<u8>>());
    }

    #[test]
    fn the_first_failure_in_step_order_decides() {
        let mut r = Report::new();
        r.pass(Step::Parse, "ok");
        r.fail(Step::Signature, Failure::Signature, "bad");
        r.fail(Step::Freshness, Failure::StaleIat, "iat is 61 s old");
        let r = r.finish();
        assert_eq!(r.code, Some(403));
        assert_eq!(r.verstat, Verstat::NoValidation);
        assert_eq!(r.failed_step, Some(Step::Freshness));
        assert_eq!(r.failure, Some(Failure::StaleIat));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["failure"], "E15");
        assert_eq!(json["steps"][6]["failure"], "E15");
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
