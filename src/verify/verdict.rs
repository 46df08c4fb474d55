//! The verdict over all the Identity headers of one request: the one rule that decides
//! whether a call with several PASSporTs verified, for the proxy and the CLI alike. Pure.

use super::{Report, Verstat};
use crate::sip::Reason;

/// What verification concluded for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub verstat: Verstat,
    /// The failure's SIP status (436, 437, 438, 403), when there is one: the row of the
    /// ATIS-1000082 table ([`super::Failure`]) the deciding header fell under.
    pub code: Option<u16>,
    /// `Reason` header value for a forwarded failure (RFC 3326).
    pub reason: Option<Reason<'static>>,
    /// Each Identity header verified, in the request's order: its failure's SIP status,
    /// or `None` when it passed. Verification stops at the first header that passes, so
    /// the headers after it are not listed. What the feedback of RFC 9410 reports, one
    /// header at a time.
    pub per_header: Vec<Option<u16>>,
}

impl Verdict {
    /// No Identity header, or verification did not finish in time.
    pub fn no_validation() -> Verdict {
        Verdict {
            verstat: Verstat::NoValidation,
            code: None,
            reason: None,
            per_header: Vec::new(),
        }
    }

    /// Combines the reports of every Identity header of a request, each verified on its
    /// own: one that passes is enough (RFC 8224 section 6.2), so a `div` or unknown-`ppt`
    /// header never spoils a valid `shaken` one. Otherwise the first `shaken` header's
    /// failure speaks for the call (RFC 8224 section 6.2: a verifier ignores the `ppt`
    /// values it does not support); then the first whose `ppt` could not be read; and
    /// only when every header is of another type, the first of them.
    pub fn from_reports(reports: &[Report]) -> Verdict {
        let per_header = reports.iter().map(|r| r.code).collect();
        if reports.iter().any(Report::passed) {
            return Verdict {
                verstat: Verstat::Passed,
                code: None,
                reason: None,
                per_header,
            };
        }
        let speaker = (reports.iter())
            .find(|r| r.ppt.as_deref() == Some("shaken"))
            .or_else(|| reports.iter().find(|r| r.maybe_shaken()))
            .or_else(|| reports.first());
        match speaker {
            None => Verdict::no_validation(),
            Some(r) => Verdict {
                verstat: r.verstat,
                code: r.code,
                reason: r.sip_reason(),
                per_header,
            },
        }
    }

    /// Whether one Identity header passed.
    pub fn passed(&self) -> bool {
        self.verstat == Verstat::Passed
    }

    pub fn failed(&self) -> bool {
        self.code.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Failure, Step};

    fn passed() -> Report {
        let mut r = Report::new();
        for step in Step::ALL {
            r.pass(step, "ok");
        }
        r.finish()
    }

    fn failed(step: Step, failure: Failure) -> Report {
        let mut r = Report::new();
        r.ppt = Some("shaken".into());
        r.fail(step, failure, "bad");
        r.finish()
    }

    #[test]
    fn no_identity_header_is_no_validation() {
        let v = Verdict::from_reports(&[]);
        assert_eq!(v, Verdict::no_validation());
        assert!(!v.passed() && !v.failed());
    }

    #[test]
    fn one_passing_header_is_enough_whatever_its_place() {
        let v = Verdict::from_reports(&[failed(Step::Freshness, Failure::StaleIat), passed()]);
        assert!(v.passed() && !v.failed());
        assert_eq!((v.code, v.reason), (None, None));
        assert_eq!(v.per_header, [Some(403), None]);
    }

    #[test]
    fn without_a_pass_the_first_failure_speaks_for_the_call() {
        let stale = failed(Step::Freshness, Failure::StaleIat);
        let v =
            Verdict::from_reports(&[stale.clone(), failed(Step::Signature, Failure::Signature)]);
        assert!(!v.passed() && v.failed());
        assert_eq!(v.verstat, Verstat::NoValidation);
        assert_eq!(v.code, Some(403));
        assert_eq!(v.reason, Some(Reason::sip(403, "Stale Date")));
        // Each header keeps its own failure, for the feedback upstream.
        assert_eq!(v.per_header, [Some(403), Some(438)]);
    }

    #[test]
    fn a_shaken_failure_speaks_before_other_types_and_unreadable_ones() {
        let mut div = Report::new();
        div.ppt = Some("div".into());
        div.fail(Step::Header, Failure::PptParam, "ppt=div");
        let div = div.finish();
        let unreadable = {
            let mut r = Report::new();
            r.fail(Step::Parse, Failure::MissingInfo, "no info parameter");
            r.finish()
        };
        let forged = failed(Step::Signature, Failure::Signature);
        let v = Verdict::from_reports(&[div.clone(), unreadable.clone(), forged]);
        assert_eq!((v.verstat, v.code), (Verstat::Failed, Some(438)));
        let v = Verdict::from_reports(&[div.clone(), unreadable]);
        assert_eq!(v.reason, Some(Reason::sip(436, "Bad Identity Info")));
        assert_eq!(v.verstat, Verstat::NoValidation);
        // Only other types: the first of them.
        let v = Verdict::from_reports(&[div]);
        assert_eq!((v.verstat, v.code), (Verstat::NoValidation, Some(438)));
    }
}
