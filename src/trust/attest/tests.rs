//! Attestation table tests: one small world per case, varying one position at a time.

use time::OffsetDateTime;

use super::*;
use crate::tn::{Numbering, canonicalize};
use crate::trust::model::{
    Account, AccountStatus, Bundle, BundleStatus, ChannelEndpointAssignment, EntityAssignment,
    PhoneNumber, TrustData,
};

const NOW: i64 = 1_700_000_000;

fn sid(prefix: &str, n: u128) -> Sid {
    Sid::from_u128(prefix, n).unwrap()
}

fn tn(s: &str) -> Tn {
    canonicalize(s, &Numbering::default()).unwrap()
}

// The cast of every world.
fn r() -> Sid {
    sid("AC", 0x01)
}
fn sub() -> Sid {
    sid("AC", 0x02)
}
fn other() -> Sid {
    sid("AC", 0x03)
}
fn rp() -> Sid {
    sid("BU", 0xa1)
}
fn rt() -> Sid {
    sid("BU", 0xa2)
}
fn sec() -> Sid {
    sid("BU", 0xb1)
}
fn xt() -> Sid {
    sid("BU", 0xb2)
}
const NUMBER: &str = "+12155550100";

/// Review state of one bundle in a world.
#[derive(Debug, Clone, Copy, PartialEq)]
enum St {
    Approved,
    /// Approved with `valid_until` in the future.
    Until,
    /// Approved with `valid_until` == now.
    Expired,
    Draft,
    Pending,
    InReview,
    Rejected,
}

impl St {
    fn status(self) -> (BundleStatus, Option<i64>) {
        match self {
            St::Approved => (BundleStatus::TwilioApproved, None),
            St::Until => (BundleStatus::TwilioApproved, Some(NOW + 1)),
            St::Expired => (BundleStatus::TwilioApproved, Some(NOW)),
            St::Draft => (BundleStatus::Draft, None),
            St::Pending => (BundleStatus::PendingReview, None),
            St::InReview => (BundleStatus::InReview, None),
            St::Rejected => (BundleStatus::TwilioRejected, None),
        }
    }
}

/// Who places the call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    /// R itself; the number uses R's primary and product.
    Direct,
    /// A sub-account of R using R's primary and product.
    Sub,
    /// A sub-account of R with its own secondary profile and product.
    Isv,
}

/// Who owns the calling number.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Owner {
    Caller,
    Parent,
    Other,
    Nobody,
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    caller: Caller,
    r_primary: Option<St>,
    r_product: Option<St>,
    secondary: Option<St>,
    secondary_linked: bool,
    x_product: Option<St>,
    owner: Owner,
    on_profile: bool,
    on_product: bool,
}

const DIRECT: Spec = Spec {
    caller: Caller::Direct,
    r_primary: Some(St::Approved),
    r_product: Some(St::Approved),
    secondary: None,
    secondary_linked: false,
    x_product: None,
    owner: Owner::Caller,
    on_profile: true,
    on_product: true,
};
const SUB: Spec = Spec {
    caller: Caller::Sub,
    ..DIRECT
};
const ISV: Spec = Spec {
    caller: Caller::Isv,
    secondary: Some(St::Approved),
    secondary_linked: true,
    x_product: Some(St::Approved),
    ..DIRECT
};

/// Builds trust data in code, numbering SIDs as it goes.
#[derive(Default)]
struct World {
    data: TrustData,
    next: u128,
}

impl World {
    fn next(&mut self) -> u128 {
        self.next += 1;
        self.next
    }

    fn account(&mut self, sid: Sid, parent: Option<Sid>) {
        self.data.accounts.push(Account {
            sid,
            parent_sid: parent,
            friendly_name: None,
            auth_token: None,
            status: AccountStatus::Active,
            account_type: None,
            date_created: None,
            date_updated: None,
            uri: None,
            subresource_uris: None,
            suspension_cause: None,
            secondary_auth_token: None,
        });
    }

    fn bundle(&mut self, sid: Sid, account: Sid, policy: Policy, st: St) {
        let (status, until) = st.status();
        let bundle = Bundle {
            sid,
            account_sid: account,
            policy_sid: Sid::parse_any(policy.sid_str()).unwrap(),
            status,
            valid_until: until.map(|t| OffsetDateTime::from_unix_timestamp(t).unwrap()),
            friendly_name: None,
            email: None,
            status_callback: None,
            errors: None,
            date_created: None,
            date_updated: None,
            url: None,
            links: None,
        };
        if policy.is_customer_profile() {
            self.data.customer_profiles.push(bundle);
        } else {
            self.data.trust_products.push(bundle);
        }
    }

    fn link(&mut self, bundle: Sid, object: Sid) {
        let n = self.next();
        self.data.entity_assignments.push(EntityAssignment {
            sid: sid("BV", n),
            bundle_sid: bundle,
            object_sid: object,
            account_sid: None,
            date_created: None,
            url: None,
        });
    }

    fn number(&mut self, account: Sid, number: &str) -> Sid {
        let pn = sid("PN", self.next());
        self.data.phone_numbers.push(PhoneNumber {
            sid: pn,
            account_sid: account,
            phone_number: number.into(),
            friendly_name: None,
            date_created: None,
            date_updated: None,
            uri: None,
        });
        pn
    }

    fn put(&mut self, bundle: Sid, pn: Sid) {
        let n = self.next();
        self.data
            .channel_endpoint_assignments
            .push(ChannelEndpointAssignment {
                sid: sid("RA", n),
                bundle_sid: bundle,
                channel_endpoint_sid: pn,
                channel_endpoint_type: "phone-number".into(),
                account_sid: None,
                date_created: None,
                url: None,
            });
    }

    fn index(&self) -> Index {
        Index::build(&self.data).unwrap()
    }
}

fn build(spec: Spec) -> (Index, Sid) {
    let mut w = World::default();
    w.account(r(), None);
    w.account(sub(), Some(r()));
    w.account(other(), None);
    if let Some(st) = spec.r_primary {
        w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, st);
    }
    if let Some(st) = spec.r_product {
        w.bundle(rt(), r(), Policy::ShakenStir, st);
        if spec.r_primary.is_some() {
            w.link(rt(), rp());
        }
    }
    if let Some(st) = spec.secondary {
        w.bundle(sec(), sub(), Policy::SecondaryCustomerProfile, st);
        if spec.secondary_linked && spec.r_primary.is_some() {
            w.link(sec(), rp());
        }
    }
    if let Some(st) = spec.x_product {
        w.bundle(xt(), sub(), Policy::ShakenStir, st);
        if spec.secondary.is_some() {
            w.link(xt(), sec());
        }
    }
    let caller = if spec.caller == Caller::Direct {
        r()
    } else {
        sub()
    };
    let owner = match spec.owner {
        Owner::Caller => Some(caller),
        Owner::Parent => Some(r()),
        Owner::Other => Some(other()),
        Owner::Nobody => None,
    };
    if let Some(owner) = owner {
        let pn = w.number(owner, NUMBER);
        let (profile, product) = match spec.caller {
            Caller::Isv => (spec.secondary.map(|_| sec()), spec.x_product.map(|_| xt())),
            _ => (spec.r_primary.map(|_| rp()), spec.r_product.map(|_| rt())),
        };
        if let Some(p) = profile.filter(|_| spec.on_profile) {
            w.put(p, pn);
        }
        if let Some(t) = product.filter(|_| spec.on_product) {
            w.put(t, pn);
        }
    }
    (w.index(), caller)
}

type Want = (Attest, Reason, Option<Sid>, Option<Sid>);

fn check(name: &str, spec: Spec, want: Want) {
    let (index, caller) = build(spec);
    let got = index.attest(caller, tn(NUMBER), NOW);
    assert_eq!(
        (got.level, got.reason, got.profile, got.product),
        want,
        "case {name}: {spec:?}"
    );
    assert_eq!(got.reason.level(), got.level, "case {name}");
}

impl Spec {
    fn owner(self, owner: Owner) -> Spec {
        Spec { owner, ..self }
    }
    fn primary(self, st: Option<St>) -> Spec {
        Spec {
            r_primary: st,
            ..self
        }
    }
    fn product(self, st: Option<St>) -> Spec {
        Spec {
            r_product: st,
            ..self
        }
    }
    fn secondary(self, st: St) -> Spec {
        Spec {
            secondary: Some(st),
            ..self
        }
    }
    fn unlinked(self) -> Spec {
        Spec {
            secondary_linked: false,
            ..self
        }
    }
    fn x_product(self, st: Option<St>) -> Spec {
        Spec {
            x_product: st,
            ..self
        }
    }
    fn off_profile(self) -> Spec {
        Spec {
            on_profile: false,
            ..self
        }
    }
    fn off_product(self) -> Spec {
        Spec {
            on_product: false,
            ..self
        }
    }
}

#[test]
fn every_rule_and_reason() {
    use Attest::*;
    use Reason::*;
    use St::*;
    let (p, t, s, x) = (Some(rp()), Some(rt()), Some(sec()), Some(xt()));
    #[rustfmt::skip]
    let cases: Vec<(&str, Spec, Want)> = vec![
        // A
        ("direct customer", DIRECT, (A, AFull, p, t)),
        ("direct, valid_until ahead", DIRECT.primary(Some(Until)).product(Some(Until)), (A, AFull, p, t)),
        ("sub-account on the parent's bundles", SUB, (A, AFull, p, t)),
        ("ISV secondary linked to approved primary", ISV, (A, AFull, s, x)),
        ("ISV, parent has no trust product", ISV.product(None), (A, AFull, s, x)),
        // B: the number
        ("direct, number not in data", DIRECT.owner(Owner::Nobody), (B, BNumberNotOwned, p, t)),
        // Another account's number cannot be on R's bundles (trust::rules::check_owner).
        ("direct, number of another account", DIRECT.owner(Owner::Other).off_profile().off_product(), (B, BNumberNotOwned, p, t)),
        ("sub, number of the parent", SUB.owner(Owner::Parent), (B, BNumberNotOwned, p, t)),
        ("ISV, number not in data", ISV.owner(Owner::Nobody), (B, BNumberNotOwned, p, t)),
        ("direct, number on no profile", DIRECT.off_profile(), (B, BNumberNotOnProfile, p, t)),
        ("sub, number on nothing", SUB.off_profile().off_product(), (B, BNumberNotOnProfile, p, t)),
        ("direct, number not on product", DIRECT.off_product(), (B, BNumberNotOnProduct, p, t)),
        ("ISV, number not on product", ISV.off_product(), (B, BNumberNotOnProduct, p, t)),
        // B: the secondary profile
        ("ISV, secondary draft", ISV.secondary(Draft), (B, BProfileNotApproved, p, t)),
        ("ISV, secondary pending", ISV.secondary(Pending), (B, BProfileNotApproved, p, t)),
        ("ISV, secondary in review", ISV.secondary(InReview), (B, BProfileNotApproved, p, t)),
        ("ISV, secondary rejected", ISV.secondary(Rejected), (B, BProfileNotApproved, p, t)),
        ("ISV, secondary expired", ISV.secondary(Expired), (B, BExpired, p, t)),
        ("ISV, secondary not linked", ISV.unlinked(), (B, BProfileNotApproved, p, t)),
        // B: the trust product of X
        ("ISV, no trust product", ISV.x_product(None), (B, BNoTrustProduct, p, t)),
        ("ISV, trust product pending", ISV.x_product(Some(Pending)), (B, BTrustProductNotApproved, p, t)),
        ("ISV, trust product rejected", ISV.x_product(Some(Rejected)), (B, BTrustProductNotApproved, p, t)),
        ("ISV, trust product expired", ISV.x_product(Some(Expired)), (B, BExpired, p, t)),
        // C: R's primary
        ("direct, no bundles", DIRECT.primary(None).product(None), (C, CNoPrimaryProfile, None, None)),
        ("direct, product but no primary", DIRECT.primary(None), (C, CNoPrimaryProfile, None, None)),
        ("direct, primary draft", DIRECT.primary(Some(Draft)), (C, CPrimaryNotApproved, p, None)),
        ("direct, primary pending", DIRECT.primary(Some(Pending)), (C, CPrimaryNotApproved, p, None)),
        ("direct, primary in review", DIRECT.primary(Some(InReview)), (C, CPrimaryNotApproved, p, None)),
        ("direct, primary rejected", DIRECT.primary(Some(Rejected)), (C, CPrimaryNotApproved, p, None)),
        ("direct, primary expired", DIRECT.primary(Some(Expired)), (C, CExpired, p, None)),
        ("sub, primary expired", SUB.primary(Some(Expired)), (C, CExpired, p, None)),
        ("ISV, parent primary pending", ISV.primary(Some(Pending)), (C, CPrimaryNotApproved, p, None)),
        ("ISV, parent primary expired", ISV.primary(Some(Expired)), (C, CExpired, p, None)),
        ("not owned, primary pending", DIRECT.owner(Owner::Nobody).primary(Some(Pending)), (C, CPrimaryNotApproved, p, None)),
        // C: R's trust product
        ("direct, no trust product", DIRECT.product(None), (C, CNoTrustProduct, p, None)),
        ("ISV off product, parent has none", ISV.product(None).off_product(), (C, CNoTrustProduct, p, None)),
        ("direct, trust product pending", DIRECT.product(Some(Pending)), (C, CTrustProductNotApproved, p, t)),
        ("direct, trust product rejected", DIRECT.product(Some(Rejected)), (C, CTrustProductNotApproved, p, t)),
        ("direct, trust product expired", DIRECT.product(Some(Expired)), (C, CExpired, p, t)),
        ("sub, trust product expired", SUB.product(Some(Expired)), (C, CExpired, p, t)),
    ];
    for (name, spec, want) in cases {
        check(name, spec, want);
    }
}

mod scenarios;
