//! The attestation preview: the level and reason a call would get now, and which profile
//! and product decided it. `GET /v1/Attestation` and `callsign attest` share [`preview`].

use std::fmt::Write as _;

use serde::Serialize;

use super::{Caller, Hub, HubError, Missing};
use crate::tn::{self, Tn};
use crate::trust::{Index, Sid};

/// What a call from `account_sid` with calling number `phone_number` would get now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub account_sid: Sid,
    /// E.164, with `+`.
    pub phone_number: String,
    /// `A`, `B` or `C`.
    pub attest: &'static str,
    pub reason: &'static str,
    /// The operator's number record, when the number is the operator's.
    pub phone_number_sid: Option<Sid>,
    /// The account that owns the number, when the operator owns it.
    pub owner_account_sid: Option<Sid>,
    pub customer_profile_sid: Option<Sid>,
    pub trust_product_sid: Option<Sid>,
    /// Unix seconds the decision was made for.
    pub evaluated_at: i64,
}

/// Decides as the proxy would for a call at `now_unix`.
pub fn preview(index: &Index, account: Sid, calling: Tn, now_unix: i64) -> Preview {
    let a = index.attest(account, calling, now_unix);
    let number = index.number(calling);
    Preview {
        account_sid: account,
        phone_number: format!("+{calling}"),
        attest: a.level.as_str(),
        reason: a.reason.as_str(),
        phone_number_sid: number.map(|n| n.pn),
        owner_account_sid: number.map(|n| n.account),
        customer_profile_sid: a.profile,
        trust_product_sid: a.product,
        evaluated_at: now_unix,
    }
}

impl Preview {
    /// The CLI's text form.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "level:   {}", self.attest);
        let _ = writeln!(out, "reason:  {}", self.reason);
        let _ = writeln!(
            out,
            "number:  {}",
            self.phone_number.trim_start_matches('+')
        );
        let rows = [
            ("owner:  ", self.owner_account_sid),
            ("profile:", self.customer_profile_sid),
            ("product:", self.trust_product_sid),
        ];
        for (label, sid) in rows {
            if let Some(s) = sid {
                let _ = writeln!(out, "{label} {s}");
            }
        }
        out
    }
}

impl Hub {
    /// What a call from `account` with calling number `raw` (any dial form) would get
    /// now, if the caller sees the account.
    pub fn preview(&self, caller: &Caller, account: Sid, raw: &str) -> Result<Preview, HubError> {
        let calling =
            tn::canonicalize(raw, &self.numbering).map_err(|error| HubError::CallingNumber {
                number: raw.to_owned(),
                error,
            })?;
        if !self.sees(caller, account) || self.store().account(account)?.is_none() {
            return Err(HubError::NotFound(Missing::Account(account)));
        }
        let index = self.trust.load();
        let mut p = preview(&index, account, calling, self.now_unix());
        // The decision may rest on records of accounts the caller may not see (another
        // account owns the number; a sub-account's call rests on its parent's bundles):
        // their SIDs are not the caller's to learn, so they are left out, not 404'd, as
        // the level and reason are the caller's own.
        let owner_seen = |owner: Option<Sid>| owner.is_some_and(|o| self.sees(caller, o));
        if !owner_seen(p.owner_account_sid) {
            p.owner_account_sid = None;
            p.phone_number_sid = None;
        }
        for sid in [&mut p.customer_profile_sid, &mut p.trust_product_sid] {
            if !owner_seen(sid.and_then(|s| index.bundle(s)).map(|b| b.account)) {
                *sid = None;
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tn::{Numbering, canonicalize};
    use crate::trust::TrustData;

    #[test]
    fn preview_names_the_deciding_bundles() {
        let data = TrustData::from_json(include_str!("../../config/trust.json")).unwrap();
        let index = Index::build(&data).unwrap();
        let account = Sid::parse_any("AC1a2b3c4d5e6f708192a3b4c5d6e7f801").unwrap();
        let n = canonicalize("+12155550121", &Numbering::default()).unwrap();
        let p = preview(&index, account, n, 1_700_000_000);
        assert_eq!((p.attest, p.reason), ("A", "a_full"));
        assert_eq!(
            p.customer_profile_sid.map(|s| s.to_string()).as_deref(),
            Some("BU2b3c4d5e6f708192a3b4c5d6e7f80101")
        );
        assert_eq!(p.phone_number, "+12155550121");
        let text = p.to_text();
        assert!(
            text.starts_with("level:   A\nreason:  a_full\nnumber:  12155550121\n"),
            "{text}"
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json["trust_product_sid"],
            "BU2b3c4d5e6f708192a3b4c5d6e7f80102"
        );
    }
}
