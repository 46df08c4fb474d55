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

type Want = (Level, Reason, Option<Sid>, Option<Sid>);

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

#[test]
fn every_rule_and_reason() {
    use Level::*;
    use Reason::*;
    let (p, t, s, x) = (Some(rp()), Some(rt()), Some(sec()), Some(xt()));
    let cases: Vec<(&str, Spec, Want)> = vec![
        // A
        ("direct customer", DIRECT, (A, AFull, p, t)),
        (
            "direct, valid_until in the future",
            Spec {
                r_primary: Some(St::Until),
                r_product: Some(St::Until),
                ..DIRECT
            },
            (A, AFull, p, t),
        ),
        ("sub-account on the parent's bundles", SUB, (A, AFull, p, t)),
        (
            "ISV secondary linked to approved primary",
            ISV,
            (A, AFull, s, x),
        ),
        // B: number
        (
            "direct, number not in data",
            Spec {
                owner: Owner::Nobody,
                ..DIRECT
            },
            (B, BNumberNotOwned, p, t),
        ),
        (
            "direct, number of another account",
            Spec {
                owner: Owner::Other,
                ..DIRECT
            },
            (B, BNumberNotOwned, p, t),
        ),
        (
            "sub, number of the parent",
            Spec {
                owner: Owner::Parent,
                ..SUB
            },
            (B, BNumberNotOwned, p, t),
        ),
        (
            "ISV, number not in data",
            Spec {
                owner: Owner::Nobody,
                ..ISV
            },
            (B, BNumberNotOwned, p, t),
        ),
        (
            "direct, number on no profile",
            Spec {
                on_profile: false,
                ..DIRECT
            },
            (B, BNumberNotOnProfile, p, t),
        ),
        (
            "sub, number on nothing",
            Spec {
                on_profile: false,
                on_product: false,
                ..SUB
            },
            (B, BNumberNotOnProfile, p, t),
        ),
        (
            "direct, number not on product",
            Spec {
                on_product: false,
                ..DIRECT
            },
            (B, BNumberNotOnProduct, p, t),
        ),
        (
            "ISV, number not on product",
            Spec {
                on_product: false,
                ..ISV
            },
            (B, BNumberNotOnProduct, p, t),
        ),
        // B: secondary profile
        (
            "ISV, secondary pending",
            Spec {
                secondary: Some(St::Pending),
                ..ISV
            },
            (B, BProfileNotApproved, p, t),
        ),
        (
            "ISV, secondary draft",
            Spec {
                secondary: Some(St::Draft),
                ..ISV
            },
            (B, BProfileNotApproved, p, t),
        ),
        (
            "ISV, secondary in review",
            Spec {
                secondary: Some(St::InReview),
                ..ISV
            },
            (B, BProfileNotApproved, p, t),
        ),
        (
            "ISV, secondary rejected",
            Spec {
                secondary: Some(St::Rejected),
                ..ISV
            },
            (B, BProfileNotApproved, p, t),
        ),
        (
            "ISV, secondary expired",
            Spec {
                secondary: Some(St::Expired),
                ..ISV
            },
            (B, BExpired, p, t),
        ),
        (
            "ISV, secondary not linked to primary",
            Spec {
                secondary_linked: false,
                ..ISV
            },
            (B, BProfileNotApproved, p, t),
        ),
        // B: trust product of X
        (
            "ISV, no trust product",
            Spec {
                x_product: None,
                ..ISV
            },
            (B, BNoTrustProduct, p, t),
        ),
        (
            "ISV, trust product pending",
            Spec {
                x_product: Some(St::Pending),
                ..ISV
            },
            (B, BTrustProductNotApproved, p, t),
        ),
        (
            "ISV, trust product rejected",
            Spec {
                x_product: Some(St::Rejected),
                ..ISV
            },
            (B, BTrustProductNotApproved, p, t),
        ),
        (
            "ISV, trust product expired",
            Spec {
                x_product: Some(St::Expired),
                ..ISV
            },
            (B, BExpired, p, t),
        ),
        // C: the parent's primary
        (
            "direct, no primary",
            Spec {
                r_primary: None,
                r_product: None,
                ..DIRECT
            },
            (C, CNoPrimaryProfile, None, None),
        ),
        (
            "direct, product but no primary",
            Spec {
                r_primary: None,
                ..DIRECT
            },
            (C, CNoPrimaryProfile, None, None),
        ),
        (
            "direct, primary draft",
            Spec {
                r_primary: Some(St::Draft),
                ..DIRECT
            },
            (C, CPrimaryNotApproved, p, None),
        ),
        (
            "direct, primary pending",
            Spec {
                r_primary: Some(St::Pending),
                ..DIRECT
            },
            (C, CPrimaryNotApproved, p, None),
        ),
        (
            "direct, primary in review",
            Spec {
                r_primary: Some(St::InReview),
                ..DIRECT
            },
            (C, CPrimaryNotApproved, p, None),
        ),
        (
            "direct, primary rejected",
            Spec {
                r_primary: Some(St::Rejected),
                ..DIRECT
            },
            (C, CPrimaryNotApproved, p, None),
        ),
        (
            "direct, primary expired",
            Spec {
                r_primary: Some(St::Expired),
                ..DIRECT
            },
            (C, CExpired, p, None),
        ),
        (
            "sub, primary expired",
            Spec {
                r_primary: Some(St::Expired),
                ..SUB
            },
            (C, CExpired, p, None),
        ),
        (
            "ISV, parent primary pending",
            Spec {
                r_primary: Some(St::Pending),
                ..ISV
            },
            (C, CPrimaryNotApproved, p, None),
        ),
        (
            "ISV, parent primary expired",
            Spec {
                r_primary: Some(St::Expired),
                ..ISV
            },
            (C, CExpired, p, None),
        ),
        // C: the parent's trust product
        (
            "direct, no trust product",
            Spec {
                r_product: None,
                ..DIRECT
            },
            (C, CNoTrustProduct, p, None),
        ),
        (
            "ISV, parent has no trust product",
            Spec {
                r_product: None,
                ..ISV
            },
            (A, AFull, s, x),
        ),
        (
            "ISV, parent has no trust product, number not on product",
            Spec {
                r_product: None,
                on_product: false,
                ..ISV
            },
            (C, CNoTrustProduct, p, None),
        ),
        (
            "direct, trust product pending",
            Spec {
                r_product: Some(St::Pending),
                ..DIRECT
            },
            (C, CTrustProductNotApproved, p, t),
        ),
        (
            "direct, trust product rejected",
            Spec {
                r_product: Some(St::Rejected),
                ..DIRECT
            },
            (C, CTrustProductNotApproved, p, t),
        ),
        (
            "direct, trust product expired",
            Spec {
                r_product: Some(St::Expired),
                ..DIRECT
            },
            (C, CExpired, p, t),
        ),
        (
            "sub, trust product expired",
            Spec {
                r_product: Some(St::Expired),
                ..SUB
            },
            (C, CExpired, p, t),
        ),
        (
            "direct, nothing approved, number not owned",
            Spec {
                r_primary: Some(St::Pending),
                owner: Owner::Nobody,
                ..DIRECT
            },
            (C, CPrimaryNotApproved, p, None),
        ),
    ];
    for (name, spec, want) in cases {
        check(name, spec, want);
    }
}

#[test]
fn unknown_account_is_c() {
    let (index, _) = build(DIRECT);
    let got = index.attest(sid("AC", 0xdead), tn(NUMBER), NOW);
    assert_eq!(
        got,
        Attestation {
            level: Level::C,
            reason: Reason::CUnknownAccount,
            profile: None,
            product: None
        }
    );
}

#[test]
fn bundles_outside_x_and_r_do_not_count() {
    // The sub-account's number sits on another account's approved bundles.
    let mut w = World::default();
    w.account(r(), None);
    w.account(sub(), Some(r()));
    w.account(other(), None);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(rt(), r(), Policy::ShakenStir, St::Approved);
    w.link(rt(), rp());
    let (op, ot) = (sid("BU", 0xc1), sid("BU", 0xc2));
    w.bundle(op, other(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(ot, other(), Policy::ShakenStir, St::Approved);
    w.link(ot, op);
    let pn = w.number(sub(), NUMBER);
    w.put(op, pn);
    w.put(ot, pn);
    let got = w.index().attest(sub(), tn(NUMBER), NOW);
    assert_eq!(
        (got.level, got.reason),
        (Level::B, Reason::BNumberNotOnProfile)
    );
    assert_eq!((got.profile, got.product), (Some(rp()), Some(rt())));

    // R's profile, but a product of another account linked to it.
    let mut w = World::default();
    w.account(r(), None);
    w.account(other(), None);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(ot, other(), Policy::ShakenStir, St::Approved);
    w.link(ot, rp());
    let pn = w.number(r(), NUMBER);
    w.put(rp(), pn);
    w.put(ot, pn);
    let got = w.index().attest(r(), tn(NUMBER), NOW);
    assert_eq!((got.level, got.reason), (Level::C, Reason::CNoTrustProduct));
    assert_eq!((got.profile, got.product), (Some(rp()), None));
}

#[test]
fn sub_account_product_on_parent_primary_reaches_a() {
    let mut w = World::default();
    w.account(r(), None);
    w.account(sub(), Some(r()));
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(xt(), sub(), Policy::ShakenStir, St::Approved);
    w.link(xt(), rp());
    let pn = w.number(sub(), NUMBER);
    w.put(rp(), pn);
    w.put(xt(), pn);
    let got = w.index().attest(sub(), tn(NUMBER), NOW);
    assert_eq!((got.level, got.reason), (Level::A, Reason::AFull));
    assert_eq!((got.profile, got.product), (Some(rp()), Some(xt())));
    // The B basis wants the product in R, so a number off the product gets C.
    let got = w.index().attest(sub(), tn("+12155550199"), NOW);
    assert_eq!((got.level, got.reason), (Level::C, Reason::CNoTrustProduct));
}

#[test]
fn the_furthest_candidate_is_reported() {
    // Two primaries on R: the first pending, the second approved without a product.
    let mut w = World::default();
    w.account(r(), None);
    let p2 = sid("BU", 0xa3);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Pending);
    w.bundle(p2, r(), Policy::PrimaryCustomerProfile, St::Approved);
    let got = w.index().attest(r(), tn(NUMBER), NOW);
    assert_eq!(
        (got.reason, got.profile, got.product),
        (Reason::CNoTrustProduct, Some(p2), None)
    );

    // Add a pending product to the second: further still, and it is named.
    w.bundle(rt(), r(), Policy::ShakenStir, St::Pending);
    w.link(rt(), p2);
    let got = w.index().attest(r(), tn(NUMBER), NOW);
    assert_eq!(
        (got.reason, got.profile, got.product),
        (Reason::CTrustProductNotApproved, Some(p2), Some(rt()))
    );

    // An approved product linked to an approved primary wins B.
    let t2 = sid("BU", 0xa4);
    w.data.customer_profiles[0].status = BundleStatus::TwilioApproved;
    w.bundle(t2, r(), Policy::ShakenStir, St::Approved);
    w.link(t2, p2);
    let got = w.index().attest(r(), tn(NUMBER), NOW);
    assert_eq!(
        (got.level, got.profile, got.product),
        (Level::B, Some(p2), Some(t2))
    );

    // Ties go to the first candidate in data order.
    let mut w = World::default();
    w.account(r(), None);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Rejected);
    w.bundle(p2, r(), Policy::PrimaryCustomerProfile, St::Pending);
    let got = w.index().attest(r(), tn(NUMBER), NOW);
    assert_eq!(
        (got.reason, got.profile),
        (Reason::CPrimaryNotApproved, Some(rp()))
    );
}

#[test]
fn a_profile_with_two_products_reports_the_furthest() {
    // The number is on a pending product; another approved product is linked to P.
    let mut w = World::default();
    w.account(r(), None);
    let t2 = sid("BU", 0xa4);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(rt(), r(), Policy::ShakenStir, St::Pending);
    w.bundle(t2, r(), Policy::ShakenStir, St::Approved);
    w.link(rt(), rp());
    w.link(t2, rp());
    let pn = w.number(r(), NUMBER);
    w.put(rp(), pn);
    w.put(rt(), pn);
    let got = w.index().attest(r(), tn(NUMBER), NOW);
    assert_eq!(
        (got.level, got.reason),
        (Level::B, Reason::BNumberNotOnProduct)
    );
    assert_eq!((got.profile, got.product), (Some(rp()), Some(t2)));
}

#[test]
fn a_secondary_linked_to_several_primaries_needs_one_approved() {
    let mut w = World::default();
    w.account(r(), None);
    w.account(sub(), Some(r()));
    let p2 = sid("BU", 0xa3);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Pending);
    w.bundle(p2, r(), Policy::PrimaryCustomerProfile, St::Expired);
    w.bundle(sec(), sub(), Policy::SecondaryCustomerProfile, St::Approved);
    w.bundle(xt(), sub(), Policy::ShakenStir, St::Approved);
    w.link(sec(), rp());
    w.link(sec(), p2);
    w.link(xt(), sec());
    let pn = w.number(sub(), NUMBER);
    w.put(sec(), pn);
    w.put(xt(), pn);
    let got = w.index().attest(sub(), tn(NUMBER), NOW);
    // A fails on the expired primary; the B basis fails the same way.
    assert_eq!(
        (got.level, got.reason, got.profile),
        (Level::C, Reason::CExpired, Some(p2))
    );

    w.data.customer_profiles[0].status = BundleStatus::TwilioApproved;
    let got = w.index().attest(sub(), tn(NUMBER), NOW);
    assert_eq!(
        (got.level, got.reason, got.profile),
        (Level::A, Reason::AFull, Some(sec()))
    );
}

#[test]
fn expiry_is_judged_at_the_given_time() {
    let (index, caller) = build(Spec {
        r_primary: Some(St::Until),
        ..DIRECT
    });
    assert_eq!(index.attest(caller, tn(NUMBER), NOW).level, Level::A);
    let later = index.attest(caller, tn(NUMBER), NOW + 1);
    assert_eq!((later.level, later.reason), (Level::C, Reason::CExpired));
}

#[test]
fn review_decisions_apply_to_the_next_call() {
    let (index, caller) = build(Spec {
        r_product: Some(St::Pending),
        ..DIRECT
    });
    assert_eq!(index.attest(caller, tn(NUMBER), NOW).level, Level::C);
    index
        .set_bundle_status(rt(), BundleStatus::TwilioApproved, None)
        .unwrap();
    assert_eq!(index.attest(caller, tn(NUMBER), NOW).level, Level::A);
}

#[test]
fn reasons_are_listed_once_with_snake_codes() {
    let mut seen = std::collections::HashSet::new();
    for r in Reason::ALL {
        assert!(seen.insert(r.as_str()));
        assert_eq!(r.to_string(), r.as_str());
        assert!(r.as_str().starts_with(match r.level() {
            Level::A => "a_",
            Level::B => "b_",
            Level::C => "c_",
        }));
    }
    assert_eq!(seen.len(), 14);
    assert_eq!(Level::B.to_string(), "B");
}

/// The shipped sample, `config/trust.json`, decides as its friendly names say.
#[test]
fn sample_trust_file() {
    let data = TrustData::from_json(include_str!("../../../config/trust.json")).unwrap();
    let index = Index::build(&data).unwrap();
    let ac = |hex: &str| Sid::parse(hex, "AC").unwrap();
    let bu = |hex: &str| Some(Sid::parse(hex, "BU").unwrap());
    let direct = ac("AC1a2b3c4d5e6f708192a3b4c5d6e7f801");
    let sub = ac("AC1a2b3c4d5e6f708192a3b4c5d6e7f802");
    let isv = ac("AC1a2b3c4d5e6f708192a3b4c5d6e7f803");
    let unvetted = ac("AC1a2b3c4d5e6f708192a3b4c5d6e7f804");
    let primary = bu("BU2b3c4d5e6f708192a3b4c5d6e7f80101");
    let product = bu("BU2b3c4d5e6f708192a3b4c5d6e7f80102");
    let secondary = bu("BU2b3c4d5e6f708192a3b4c5d6e7f80301");
    let isv_product = bu("BU2b3c4d5e6f708192a3b4c5d6e7f80302");
    let cases = [
        (
            direct,
            "+12155550121",
            Level::A,
            Reason::AFull,
            primary,
            product,
        ),
        (
            direct,
            "+12155550122",
            Level::A,
            Reason::AFull,
            primary,
            product,
        ),
        (
            direct,
            "+12155550123",
            Level::B,
            Reason::BNumberNotOnProduct,
            primary,
            product,
        ),
        (
            direct,
            "+13105550100",
            Level::B,
            Reason::BNumberNotOwned,
            primary,
            product,
        ),
        (
            sub,
            "+12155550131",
            Level::B,
            Reason::BNumberNotOnProfile,
            primary,
            product,
        ),
        (
            sub,
            "+12155550121",
            Level::B,
            Reason::BNumberNotOwned,
            primary,
            product,
        ),
        (
            isv,
            "+12155550141",
            Level::A,
            Reason::AFull,
            secondary,
            isv_product,
        ),
        (
            isv,
            "+12155550142",
            Level::B,
            Reason::BNumberNotOnProfile,
            primary,
            product,
        ),
        (
            unvetted,
            "+12155550151",
            Level::C,
            Reason::CPrimaryNotApproved,
            bu("BU2b3c4d5e6f708192a3b4c5d6e7f80401"),
            None,
        ),
        (
            ac("AC1a2b3c4d5e6f708192a3b4c5d6e7f8ff"),
            "+12155550121",
            Level::C,
            Reason::CUnknownAccount,
            None,
            None,
        ),
    ];
    for (account, number, level, reason, profile, product) in cases {
        let got = index.attest(account, tn(number), NOW);
        assert_eq!(
            (got.level, got.reason, got.profile, got.product),
            (level, reason, profile, product),
            "{account} calling from {number}"
        );
    }
}
