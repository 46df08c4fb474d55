//! The invariants, one table each.

use super::*;

fn sid(prefix: &[u8; 2], n: u128) -> Sid {
    Sid::from_parts(*prefix, n)
}

/// A top-level account, its sub-account and a stranger.
fn top() -> Sid {
    sid(b"AC", 1)
}
fn sub() -> Sid {
    sid(b"AC", 2)
}
fn stranger() -> Sid {
    sid(b"AC", 3)
}

fn bundle(n: u128, account: Sid, policy: Policy) -> BundleFacts {
    BundleFacts {
        sid: sid(b"BU", n),
        account,
        parent: (account == sub()).then(top),
        policy,
    }
}

fn target(b: &BundleFacts) -> LinkTarget {
    LinkTarget::Bundle {
        sid: b.sid,
        account: b.account,
        policy: b.policy,
    }
}

#[test]
fn what_may_link_to_what() {
    use Policy::*;
    let top_primary = bundle(1, top(), PrimaryCustomerProfile);
    let top_product = bundle(2, top(), ShakenStir);
    let sub_secondary = bundle(3, sub(), SecondaryCustomerProfile);
    let sub_product = bundle(4, sub(), ShakenStir);
    let top_secondary = bundle(5, top(), SecondaryCustomerProfile);
    let stranger_primary = bundle(6, stranger(), PrimaryCustomerProfile);
    let sub_primary = bundle(7, sub(), PrimaryCustomerProfile);
    let user = |account| LinkTarget::EndUser {
        sid: sid(b"IT", 9),
        account,
    };
    let cases = [
        // End users of the bundle's own account only.
        (top_primary, user(top()), Ok(())),
        (
            sub_secondary,
            user(top()),
            Err(LinkError::EndUserOfAnotherAccount(sid(b"IT", 9))),
        ),
        // A trust product links to a profile of its account or its parent's.
        (top_product, target(&top_primary), Ok(())),
        (sub_product, target(&top_primary), Ok(())),
        (sub_product, target(&sub_secondary), Ok(())),
        (
            top_product,
            target(&stranger_primary),
            Err(LinkError::ProductTarget),
        ),
        (
            top_product,
            target(&sub_product),
            Err(LinkError::ProductTarget),
        ),
        // A trust product may not reach down into a sub-account.
        (
            top_product,
            target(&sub_primary),
            Err(LinkError::ProductTarget),
        ),
        // A Secondary profile (of a sub-account) links to its parent's Primary only.
        (sub_secondary, target(&top_primary), Ok(())),
        (
            sub_secondary,
            target(&sub_primary),
            Err(LinkError::SecondaryTarget),
        ),
        (
            sub_secondary,
            target(&stranger_primary),
            Err(LinkError::SecondaryTarget),
        ),
        (
            sub_secondary,
            target(&top_product),
            Err(LinkError::SecondaryTarget),
        ),
        (
            top_secondary,
            target(&top_primary),
            Err(LinkError::SecondaryOfTopLevel),
        ),
        // A Primary profile links to no bundle.
        (
            top_primary,
            target(&top_product),
            Err(LinkError::PrimaryTarget),
        ),
        // Anything that is neither an end user nor a bundle.
        (
            top_primary,
            LinkTarget::Other(sid(b"RD", 1)),
            Err(LinkError::ObjectKind(sid(b"RD", 1))),
        ),
    ];
    for (from, to, expected) in cases {
        assert_eq!(check_link(&from, &to), expected, "{from:?} -> {to:?}");
    }
}

#[test]
fn a_bundle_holds_numbers_of_its_account_and_its_sub_accounts() {
    let pn = sid(b"PN", 1);
    let top_primary = bundle(1, top(), Policy::PrimaryCustomerProfile);
    let sub_secondary = bundle(3, sub(), Policy::SecondaryCustomerProfile);
    assert_eq!(check_owner(&top_primary, pn, top(), None), Ok(()));
    assert_eq!(check_owner(&top_primary, pn, sub(), Some(top())), Ok(()));
    assert_eq!(check_owner(&sub_secondary, pn, sub(), Some(top())), Ok(()));
    let refused = Err(AssignError::NumberOfAnotherAccount(pn));
    assert_eq!(check_owner(&sub_secondary, pn, top(), None), refused);
    assert_eq!(check_owner(&top_primary, pn, stranger(), None), refused);
}

#[test]
fn a_number_is_held_once_per_kind() {
    let pn = sid(b"PN", 1);
    assert_eq!(check_slot(pn, None), Ok(()));
    assert_eq!(
        check_slot(pn, Some(sid(b"BU", 1))),
        Err(AssignError::AlreadyAssigned {
            pn,
            bundle: sid(b"BU", 1)
        })
    );
}

#[test]
fn only_phone_numbers_are_channel_endpoints() {
    assert_eq!(check_channel_type("phone-number"), Ok(()));
    assert_eq!(
        check_channel_type("messaging-service"),
        Err(AssignError::ChannelType("messaging-service".into()))
    );
}

#[test]
fn emails_must_be_local_at_a_dotted_domain() {
    for good in [
        "ops@example.com",
        "first.last+tag@mail.example.co.uk",
        "a@b-c.io",
    ] {
        assert_eq!(check_email(good), Ok(()), "{good}");
    }
    for bad in [
        "",
        "not-an-email",
        "a@b@c.com",
        "@example.com",
        "a@",
        "a@localhost",
        "a b@example.com",
        "a@exa mple.com",
        "a@-example.com",
        "a@example..com",
        "a\u{0}@example.com",
        "\"quoted\"@example.com",
    ] {
        assert_eq!(
            check_email(bad),
            Err(ValueError::Email(bad.into())),
            "{bad:?}"
        );
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert!(check_email(&long).is_err());
}

#[test]
fn end_user_types_are_the_known_ones() {
    for t in END_USER_TYPES {
        assert_eq!(check_end_user_type(t), Ok(()));
    }
    assert_eq!(
        check_end_user_type("nonsense"),
        Err(ValueError::EndUserType("nonsense".into()))
    );
    assert!(check_end_user_type("Authorized_Representative_1").is_err());
}

#[test]
fn the_end_user_type_catalogue_is_the_types_bundles_take() {
    let names: Vec<&str> = END_USER_TYPE_CATALOGUE
        .iter()
        .map(|t| t.machine_name)
        .collect();
    assert_eq!(names, END_USER_TYPES);
    let sids: std::collections::HashSet<Sid> =
        END_USER_TYPE_CATALOGUE.iter().map(|t| t.sid()).collect();
    assert_eq!(sids.len(), END_USER_TYPE_CATALOGUE.len(), "one SID each");
    for t in END_USER_TYPE_CATALOGUE {
        assert!(t.sid().is("OY"));
        assert_eq!(EndUserType::by_sid(t.sid()), Some(t));
        assert!(!t.fields.is_empty());
    }
    // The same SIDs on every installation and every version.
    assert_eq!(
        END_USER_TYPE_CATALOGUE[1].sid().to_string(),
        "OY7ee20c9772cd5b66baf418334d9ae83b"
    );
    assert_eq!(EndUserType::by_sid(Sid::from_parts(*b"OY", 1)), None);
}
