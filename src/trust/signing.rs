//! Signing identities (FCC 24-120): a provider that signs for another obligated provider
//! signs with that provider's own SPC certificate. A [`SigningIdentity`] (`SI…`) holds a
//! certificate chain and where its private key is; a [`SigningAssignment`] names the
//! trunk or account whose calls it signs. Only the operator writes either.
//!
//! The records are plain data; loading the key and checking it against the chain is
//! [`crate::identities`]' job, since it reads files and talks to HSMs.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{Sid, TrustError};

/// A certificate chain and a reference to its private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningIdentity {
    pub sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// PEM: the STI leaf first, then intermediates, as served at its x5u.
    pub certificate_chain: String,
    /// A PEM file on the proxy's machine (under `[signing] identity_key_dir`), or an
    /// RFC 7512 `pkcs11:` URI of a key in an HSM.
    pub private_key: String,
    /// The public URL of the chain; derived from `[signing] x5u` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5u: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

/// That identity `signing_identity_sid` signs the calls of `assigned_sid`: a trunk
/// (`TK…`) or an account (`AC…`, and then its sub-accounts that have none of their own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningAssignment {
    pub signing_identity_sid: Sid,
    pub assigned_sid: Sid,
    #[serde(default)]
    pub date_created: Option<String>,
}

/// Checks identities and assignments: SIDs of the right kind and unique, assignments of
/// known identities to known trunks (`trunk_known`) or accounts (`account_known`), one
/// identity per trunk or account.
pub(super) fn validate(
    identities: &[SigningIdentity],
    assignments: &[SigningAssignment],
    trunk_known: impl Fn(Sid) -> bool,
    account_known: impl Fn(Sid) -> bool,
) -> Result<(), TrustError> {
    let mut known = HashSet::new();
    for i in identities {
        if !i.sid.is("SI") {
            return Err(TrustError::WrongSidKind {
                sid: i.sid,
                field: "sid",
                expected: "SI",
                found: i.sid,
            });
        }
        if !known.insert(i.sid) {
            return Err(TrustError::DuplicateSid(i.sid));
        }
    }
    let mut assigned = HashSet::new();
    for a in assignments {
        if !known.contains(&a.signing_identity_sid) {
            return Err(TrustError::NotFound {
                kind: "signing identity",
                sid: a.signing_identity_sid,
            });
        }
        let target_known = if a.assigned_sid.is("TK") {
            trunk_known(a.assigned_sid)
        } else if a.assigned_sid.is("AC") {
            account_known(a.assigned_sid)
        } else {
            return Err(TrustError::WrongSidKind {
                sid: a.signing_identity_sid,
                field: "assigned_sid",
                expected: "TK or AC",
                found: a.assigned_sid,
            });
        };
        if !target_known {
            let kind = if a.assigned_sid.is("TK") {
                "trunk"
            } else {
                "account"
            };
            return Err(TrustError::NotFound {
                kind,
                sid: a.assigned_sid,
            });
        }
        if !assigned.insert(a.assigned_sid) {
            return Err(TrustError::AssignedTwice(a.assigned_sid));
        }
    }
    Ok(())
}

/// Trunk or account to the identity that signs its calls.
pub(super) fn assigned(assignments: &[SigningAssignment]) -> HashMap<Sid, Sid> {
    assignments
        .iter()
        .map(|a| (a.assigned_sid, a.signing_identity_sid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(s: &str) -> Sid {
        Sid::parse(s, &s[..2]).unwrap()
    }

    const SI: &str = "SI00000000000000000000000000000001";
    const TK: &str = "TK00000000000000000000000000000001";
    const AC: &str = "AC00000000000000000000000000000001";

    fn identity() -> SigningIdentity {
        SigningIdentity {
            sid: sid(SI),
            friendly_name: None,
            certificate_chain: String::new(),
            private_key: "k.pem".into(),
            x5u: None,
            date_created: None,
            date_updated: None,
        }
    }

    fn assignment(to: &str) -> SigningAssignment {
        SigningAssignment {
            signing_identity_sid: sid(SI),
            assigned_sid: sid(to),
            date_created: None,
        }
    }

    #[test]
    fn references_are_checked() {
        let ids = [identity()];
        let yes = |_| true;
        assert_eq!(validate(&ids, &[assignment(TK)], yes, yes), Ok(()));
        assert_eq!(validate(&ids, &[assignment(AC)], yes, yes), Ok(()));
        assert_eq!(
            validate(&ids, &[assignment(TK)], |_| false, yes),
            Err(TrustError::NotFound {
                kind: "trunk",
                sid: sid(TK)
            })
        );
        assert_eq!(
            validate(&ids, &[assignment(AC), assignment(AC)], yes, yes),
            Err(TrustError::AssignedTwice(sid(AC)))
        );
        assert!(matches!(
            validate(&[], &[assignment(TK)], yes, yes),
            Err(TrustError::NotFound {
                kind: "signing identity",
                ..
            })
        ));
        assert!(matches!(
            validate(
                &ids,
                &[assignment("AL00000000000000000000000000000001")],
                yes,
                yes
            ),
            Err(TrustError::WrongSidKind { .. })
        ));
        assert_eq!(
            validate(&[identity(), identity()], &[], yes, yes),
            Err(TrustError::DuplicateSid(sid(SI)))
        );
    }
}
