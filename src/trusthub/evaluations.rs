//! Evaluations: check a bundle against its policy's requirements now, store the result,
//! and read past results back.

use super::bundles::policy_of;
use super::{Caller, Hub, HubError, Write, new_sid};
use crate::store::Page;
use crate::trust::{BundleKind, Change, Evaluation, Sid, rules};

impl Hub {
    /// Evaluates bundle `bundle` against `policy_sid`, which must be its own policy.
    pub fn evaluate(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        policy_sid: Sid,
    ) -> Result<Evaluation, HubError> {
        let guard = self.lock()?;
        let b = self.bundle(caller, kind, bundle)?;
        if policy_sid != b.policy_sid {
            return Err(HubError::PolicyMismatch {
                policy: policy_sid,
                bundle: b.sid,
            });
        }
        let (compliant, results) = rules::evaluate(policy_of(&b)?, &self.attached(&b)?);
        let evaluation = Evaluation {
            sid: new_sid(*b"EL"),
            account_sid: b.account_sid,
            policy_sid,
            bundle_sid: b.sid,
            status: if compliant {
                "compliant"
            } else {
                "noncompliant"
            }
            .into(),
            results,
            date_created: self.now_text(),
        };
        self.commit(&guard, Write::of(Change::PutEvaluation(evaluation.clone())))?;
        Ok(evaluation)
    }

    /// Past evaluations of a bundle.
    pub fn evaluations(
        &self,
        caller: &Caller,
        kind: BundleKind,
        bundle: Sid,
        page: Page,
    ) -> Result<Vec<Evaluation>, HubError> {
        let b = self.bundle(caller, kind, bundle)?;
        Ok(self.store().evaluations(b.sid, page)?)
    }
}
