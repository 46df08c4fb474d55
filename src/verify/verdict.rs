//! The verdict over all the Identity headers of one request: the one rule that decides
//! whether a call with several PASSporTs verified, for the proxy and the CLI alike. Pure.

use super::{Report, Verstat};
use crate::sip::Reason;

/// What verification concluded for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub verstat: Verstat,
    /// The failure's SIP status (436, 437, 438, 403), when there is one.
    pub code: Option<u16>,
    /// `Reason` header value for a forwarded failure (RFC 3326).
    pub reason: Option<Reason<'static>>,
}

impl Verdict {
    /// No Identity header, or verification did not finish in time.
    pub fn no_validation() -> Verdict {
        Verdict {
            verstat: Verstat::NoValidation,
            code: None,
            reason: None,
        }
    }

    /// Combines the reports of every Identity header of a request: one that passes is
    /// enough (RFC 8224 section 6.2); otherwise the first failure speaks for the call.
    pub fn from_reports(reports: &[Report]) -> Verdict {
        if reports.iter().any(Report::passed) {
            return Verdict {
                verstat: Verstat::Passed,
                code: None,
                reason: None,
            };
        }
        match reports.first() {
            None => Verdict::no_validation(),
            Some(r) => Verdict {
                verstat: r.verstat,
                code: r.code,
                reason: r.sip_reason(),
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
    use crate::verify::Step;

    fn passed() -> Report {
        let mut r = Report::new();
        for step in Step::ALL {
            r.pass(step, "ok");
        }
        r.finish()
    }

    fn failed(step: Step) -> Report {
        let mut r = Report::new();
        r.fail(step, "bad");
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
        let v = Verdict::from_reports(&[failed(Step::Freshness), passed()]);
        assert!(v.passed() && !v.failed());
        assert_eq!((v.code, v.reason), (None, None));
    }

    #[test]
    fn without_a_pass_the_first_failure_speaks_for_the_call() {
        let stale = failed(Step::Freshness);
        let v = Verdict::from_reports(&[stale.clone(), failed(Step::Signature)]);
        assert!(!v.passed() && v.failed());
        assert_eq!(v.verstat, stale.verstat);
        assert_eq!(v.code, Some(403));
        assert_eq!(v.reason, Some(Reason::sip(403, "Stale Date")));
    }
}
