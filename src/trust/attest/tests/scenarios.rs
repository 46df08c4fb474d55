//! Attestation scenarios beyond the table: several candidates, accounts outside X and R,
//! expiry against the clock, live review decisions, and the shipped sample file.

use super::*;

#[test]
fn unknown_account_is_c() {
    let (index, _) = build(DIRECT);
    let got = index.attest(sid("AC", 0xdead), tn(NUMBER), NOW);
    assert_eq!(
        got,
        Attestation {
            level: Attest::C,
            reason: Reason::CUnknownAccount,
            profile: None,
            product: None
        }
    );
}

#[test]
fn bundles_outside_x_and_r_cannot_decide() {
    use crate::trust::{AssignError, LinkError, TrustError};
    // The sub-account's number on another account's approved bundles: the rules refuse
    // such data, so attestation never meets it.
    let mut w = World::default();
    w.account(r(), None);
    w.account(sub(), Some(r()));
    w.account(other(), None);
    let (op, ot) = (sid("BU", 0xc1), sid("BU", 0xc2));
    w.bundle(op, other(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(ot, other(), Policy::ShakenStir, St::Approved);
    w.link(ot, op);
    let pn = w.number(sub(), NUMBER);
    w.put(op, pn);
    assert_eq!(
        Index::build(&w.data).err(),
        Some(TrustError::Assignment(AssignError::NumberOfAnotherAccount(
            pn
        )))
    );

    // Nor may another account's product link to R's profile.
    let mut w = World::default();
    w.account(r(), None);
    w.account(other(), None);
    w.bundle(rp(), r(), Policy::PrimaryCustomerProfile, St::Approved);
    w.bundle(ot, other(), Policy::ShakenStir, St::Approved);
    w.link(ot, rp());
    match Index::build(&w.data) {
        Err(TrustError::InvalidLink { why, .. }) => assert_eq!(why, LinkError::ProductTarget),
        other => panic!("{:?}", other.map(|_| ())),
    }
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
    assert_eq!((got.level, got.reason), (Attest::A, Reason::AFull));
    assert_eq!((got.profile, got.product), (Some(rp()), Some(xt())));
    // The B basis wants the product in R, so a number off the product gets C.
    let got = w.index().attest(sub(), tn("+12155550199"), NOW);
    assert_eq!(
        (got.level, got.reason),
        (Attest::C, Reason::CNoTrustProduct)
    );
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
        (Attest::B, Some(p2), Some(t2))
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
        (Attest::B, Reason::BNumberNotOnProduct)
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
        (Attest::C, Reason::CExpired, Some(p2))
    );

    w.data.customer_profiles[0].status = BundleStatus::TwilioApproved;
    let got = w.index().attest(sub(), tn(NUMBER), NOW);
    assert_eq!(
        (got.level, got.reason, got.profile),
        (Attest::A, Reason::AFull, Some(sec()))
    );
}

#[test]
fn expiry_is_judged_at_the_given_time() {
    let (index, caller) = build(Spec {
        r_primary: Some(St::Until),
        ..DIRECT
    });
    assert_eq!(index.attest(caller, tn(NUMBER), NOW).level, Attest::A);
    let later = index.attest(caller, tn(NUMBER), NOW + 1);
    assert_eq!((later.level, later.reason), (Attest::C, Reason::CExpired));
}

#[test]
fn review_decisions_apply_to_the_next_call() {
    let (index, caller) = build(Spec {
        r_product: Some(St::Pending),
        ..DIRECT
    });
    assert_eq!(index.attest(caller, tn(NUMBER), NOW).level, Attest::C);
    let approved = Bundle {
        sid: rt(),
        account_sid: r(),
        policy_sid: Policy::ShakenStir.sid(),
        status: BundleStatus::TwilioApproved,
        valid_until: None,
        friendly_name: None,
        email: None,
        status_callback: None,
        errors: None,
        date_created: None,
        date_updated: None,
        url: None,
        links: None,
    };
    index
        .apply(&crate::trust::Change::PutBundle(approved))
        .unwrap();
    assert_eq!(index.attest(caller, tn(NUMBER), NOW).level, Attest::A);
}

#[test]
fn reasons_are_listed_once_with_snake_codes() {
    let mut seen = std::collections::HashSet::new();
    for r in Reason::ALL {
        assert!(seen.insert(r.as_str()));
        assert_eq!(r.to_string(), r.as_str());
        assert!(r.as_str().starts_with(match r.level() {
            Attest::A => "a_",
            Attest::B => "b_",
            Attest::C => "c_",
        }));
    }
    assert_eq!(seen.len(), 15);
    assert_eq!(Attest::B.to_string(), "B");
}

/// The shipped sample, `config/trust.json`, decides as its friendly names say.
#[test]
fn sample_trust_file() {
    let data = TrustData::from_json(include_str!("../../../../config/trust.json")).unwrap();
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
            Attest::A,
            Reason::AFull,
            primary,
            product,
        ),
        (
            direct,
            "+12155550122",
            Attest::A,
            Reason::AFull,
            primary,
            product,
        ),
        (
            direct,
            "+12155550123",
            Attest::B,
            Reason::BNumberNotOnProduct,
            primary,
            product,
        ),
        (
            direct,
            "+13105550100",
            Attest::B,
            Reason::BNumberNotOwned,
            primary,
            product,
        ),
        (
            sub,
            "+12155550131",
            Attest::B,
            Reason::BNumberNotOnProfile,
            primary,
            product,
        ),
        (
            sub,
            "+12155550121",
            Attest::B,
            Reason::BNumberNotOwned,
            primary,
            product,
        ),
        (
            isv,
            "+12155550141",
            Attest::A,
            Reason::AFull,
            secondary,
            isv_product,
        ),
        (
            isv,
            "+12155550142",
            Attest::B,
            Reason::BNumberNotOnProfile,
            primary,
            product,
        ),
        (
            unvetted,
            "+12155550151",
            Attest::C,
            Reason::CPrimaryNotApproved,
            bu("BU2b3c4d5e6f708192a3b4c5d6e7f80401"),
            None,
        ),
        (
            ac("AC1a2b3c4d5e6f708192a3b4c5d6e7f8ff"),
            "+12155550121",
            Attest::C,
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
