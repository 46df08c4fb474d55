//! Trunks and access lists through the service: each write reaches the live table, and
//! what would let one source reach two trunks, or name another account's list, is refused
//! with nothing changed.

use super::*;
use crate::store::Page;
use crate::trusthub::trunks::{AddressFields, TrunkFields};

fn named(name: &str) -> TrunkFields {
    TrunkFields {
        friendly_name: Some(name.into()),
        ..TrunkFields::default()
    }
}

fn at(ip: &str, length: Option<u8>) -> AddressFields {
    AddressFields {
        friendly_name: Some(format!("at {ip}")),
        ip_address: Some(ip.into()),
        cidr_prefix_length: length,
    }
}

fn who(hub: &Hub, ip: &str) -> Option<Sid> {
    match hub.trust.load().trunk_for(ip.parse().unwrap(), || None) {
        crate::trust::TrunkFor::Trunk(hit) => Some(hit.sid),
        _ => None,
    }
}

#[test]
fn a_trunk_admits_its_lists_addresses_from_the_next_lookup_on() {
    let hub = hub();
    let bluebird = account(BLUEBIRD);
    let trunk = hub.create_trunk(&bluebird, named("PBX")).unwrap();
    let acl = hub
        .create_list(&bluebird, sid(BLUEBIRD), "office".into())
        .unwrap();
    let address = hub
        .create_address(&bluebird, sid(BLUEBIRD), acl.sid, at("203.0.113.9", None))
        .unwrap();
    assert_eq!(
        address.cidr_prefix_length, 32,
        "the whole address by default"
    );
    assert_eq!(
        who(&hub, "203.0.113.9"),
        None,
        "a list no trunk uses admits nothing"
    );
    hub.add_trunk_list(&bluebird, trunk.sid, acl.sid).unwrap();
    assert_eq!(who(&hub, "203.0.113.9"), Some(trunk.sid));
    assert_eq!(who(&hub, "203.0.113.10"), None);
    // Widening the address widens the trunk; the index and the store agree throughout.
    hub.update_address(
        &bluebird,
        sid(BLUEBIRD),
        acl.sid,
        address.sid,
        AddressFields {
            cidr_prefix_length: Some(24),
            ..AddressFields::default()
        },
    )
    .unwrap();
    assert_eq!(who(&hub, "203.0.113.200"), Some(trunk.sid));
    assert_eq!(
        hub.rebuilt().unwrap().trunking(),
        hub.trust.load().trunking()
    );
    // Removing the list from the trunk, then deleting the trunk.
    hub.remove_trunk_list(&bluebird, trunk.sid, acl.sid)
        .unwrap();
    assert_eq!(who(&hub, "203.0.113.9"), None);
    hub.add_trunk_list(&bluebird, trunk.sid, acl.sid).unwrap();
    hub.delete_trunk(&bluebird, trunk.sid).unwrap();
    assert_eq!(who(&hub, "203.0.113.9"), None);
    assert!(
        hub.trust
            .load()
            .trunking()
            .trunk_ip_access_control_lists
            .is_empty()
    );
    // Deleting a list takes its addresses with it.
    hub.delete_list(&bluebird, sid(BLUEBIRD), acl.sid).unwrap();
    assert!(hub.trust.load().trunking().ip_addresses.is_empty());
    assert_eq!(
        hub.rebuilt().unwrap().trunking(),
        hub.trust.load().trunking()
    );
}

#[test]
fn what_would_make_a_source_ambiguous_or_cross_accounts_is_refused_and_changes_nothing() {
    let hub = hub();
    let (bluebird, quickdial) = (account(BLUEBIRD), account(QUICKDIAL));
    let mine = hub.create_trunk(&bluebird, named("PBX")).unwrap();
    let acl = hub
        .create_list(&bluebird, sid(BLUEBIRD), "office".into())
        .unwrap();
    hub.create_address(
        &bluebird,
        sid(BLUEBIRD),
        acl.sid,
        at("203.0.113.0", Some(24)),
    )
    .unwrap();
    hub.add_trunk_list(&bluebird, mine.sid, acl.sid).unwrap();

    let theirs = hub.create_trunk(&quickdial, named("dialer")).unwrap();
    let their_acl = hub
        .create_list(&quickdial, sid(QUICKDIAL), "dialer".into())
        .unwrap();
    hub.add_trunk_list(&quickdial, theirs.sid, their_acl.sid)
        .unwrap();
    let before = hub.trust.load().trunking();
    let overlapping = hub.create_address(
        &quickdial,
        sid(QUICKDIAL),
        their_acl.sid,
        at("203.0.113.77", None),
    );
    // Quickdial learns that the range is taken, not whose it is.
    assert_eq!(
        overlapping,
        Err(HubError::RangeTaken {
            net: "203.0.113.77/32".parse().unwrap()
        })
    );
    // Another account's list, on one's own trunk or in one's own paths: unknown.
    assert_eq!(
        hub.add_trunk_list(&quickdial, theirs.sid, acl.sid),
        Err(HubError::UnknownList(acl.sid))
    );
    assert_eq!(
        hub.list(&quickdial, sid(BLUEBIRD), acl.sid),
        Err(HubError::NotFound(Missing::Account(sid(BLUEBIRD))))
    );
    assert_eq!(
        hub.trunk(&quickdial, mine.sid),
        Err(HubError::NotFound(Missing::Trunk(mine.sid)))
    );
    // Bad ranges, duplicates, a second use of a list, a taken domain.
    for (ip, length) in [
        ("203.0.113.300", None),
        ("10.0.0.0", Some(4)),
        ("::1", Some(200)),
    ] {
        let r = hub.create_address(&bluebird, sid(BLUEBIRD), acl.sid, at(ip, length));
        assert!(matches!(r, Err(HubError::Trunking(_))), "{ip}: {r:?}");
    }
    let twice = hub.create_address(
        &bluebird,
        sid(BLUEBIRD),
        acl.sid,
        at("203.0.113.5", Some(24)),
    );
    assert!(
        matches!(twice, Err(HubError::AddressInList { .. })),
        "{twice:?}"
    );
    assert_eq!(
        hub.add_trunk_list(&bluebird, mine.sid, acl.sid),
        Err(HubError::ListOnTrunk {
            list: acl.sid,
            trunk: mine.sid
        })
    );
    let domain = |d: &str| TrunkFields {
        domain_name: Some(d.into()),
        ..TrunkFields::default()
    };
    hub.update_trunk(&bluebird, mine.sid, domain("PBX.Bluebird.example"))
        .unwrap();
    assert_eq!(
        hub.update_trunk(&quickdial, theirs.sid, domain("pbx.bluebird.example.")),
        Err(HubError::DomainTaken("pbx.bluebird.example".into()))
    );
    assert!(matches!(
        hub.update_trunk(&quickdial, theirs.sid, domain("not a host")),
        Err(HubError::DomainName(_))
    ));
    assert_eq!(
        hub.create_trunk(&bluebird, named(&"x".repeat(65))),
        Err(HubError::TooLong {
            field: "FriendlyName",
            max: 64
        })
    );
    let after = hub.trust.load().trunking();
    assert_eq!(after.ip_addresses, before.ip_addresses);
    assert_eq!(
        after.trunk_ip_access_control_lists,
        before.trunk_ip_access_control_lists
    );
    assert_eq!(hub.rebuilt().unwrap().trunking(), after);
}

#[test]
fn a_parent_manages_its_sub_accounts_lists_but_the_operator_has_no_trunks() {
    let hub = hub();
    let bluebird = account(BLUEBIRD);
    let acl = hub
        .create_list(&bluebird, sid(SUPPORT), "support desk".into())
        .unwrap();
    assert_eq!(acl.account_sid, sid(SUPPORT));
    assert_eq!(
        hub.lists(&account(SUPPORT), sid(SUPPORT), Page::ALL)
            .unwrap(),
        std::slice::from_ref(&acl)
    );
    assert_eq!(
        hub.lists(&account(SUPPORT), sid(BLUEBIRD), Page::ALL),
        Err(HubError::NotFound(Missing::Account(sid(BLUEBIRD))))
    );
    // A trunk of Bluebird's may not use its sub-account's list: one account per trunk.
    let trunk = hub.create_trunk(&bluebird, named("PBX")).unwrap();
    assert_eq!(
        hub.add_trunk_list(&bluebird, trunk.sid, acl.sid),
        Err(HubError::UnknownList(acl.sid))
    );
    assert_eq!(
        hub.create_trunk(&Caller::Operator, named("x")),
        Err(HubError::OperatorHasNoResources)
    );
    assert_eq!(hub.trunks(&Caller::Operator, Page::ALL).unwrap(), [trunk]);
}

#[test]
fn closing_an_account_releases_its_numbers_and_trunks_and_its_sub_accounts_for_good() {
    let hub = hub();
    let support = account(SUPPORT);
    // Bluebird's sub-account Support has a trunk of its own, admitting an address.
    let trunk = hub.create_trunk(&support, named("Support PBX")).unwrap();
    let acl = (hub.create_list(&support, sid(SUPPORT), "office".into())).unwrap();
    (hub.create_address(&support, sid(SUPPORT), acl.sid, at("203.0.113.9", None))).unwrap();
    hub.add_trunk_list(&support, trunk.sid, acl.sid).unwrap();
    assert_eq!(who(&hub, "203.0.113.9"), Some(trunk.sid));
    let numbered = |a: &str| {
        let filter = crate::trusthub::numbers::NumberFilter::default();
        let numbers = hub.numbers(&Caller::Operator, sid(a), &filter, Page::ALL);
        numbers.unwrap().len()
    };
    assert!(numbered(BLUEBIRD) > 0 && numbered(SUPPORT) > 0);

    let close = |status| crate::trusthub::accounts::AccountUpdate {
        friendly_name: None,
        status: Some(status),
        suspension_cause: None,
    };
    let closed = (hub.update_account(
        &Caller::Operator,
        sid(BLUEBIRD),
        close(AccountStatus::Closed),
    ))
    .unwrap();
    assert_eq!(closed.status, AccountStatus::Closed);
    let sub = hub.account(&Caller::Operator, sid(SUPPORT)).unwrap();
    assert_eq!(sub.status, AccountStatus::Closed, "closed with its parent");
    assert_eq!(
        (numbered(BLUEBIRD), numbered(SUPPORT)),
        (0, 0),
        "numbers released"
    );
    assert_eq!(who(&hub, "203.0.113.9"), None, "its trunk takes no traffic");
    assert!(
        hub.trunks(&Caller::Operator, Page::ALL)
            .unwrap()
            .iter()
            .all(|t| t.sid != trunk.sid)
    );
    // The index is what the store rebuilds, trunking and numbers alike.
    assert_eq!(
        hub.rebuilt().unwrap().trunking(),
        hub.trust.load().trunking()
    );
    assert_eq!(
        hub.rebuilt().unwrap().snapshot(),
        hub.trust.load().snapshot()
    );

    // Closed is final, for the operator too; and a closed account authenticates no more.
    for status in [AccountStatus::Active, AccountStatus::Suspended] {
        assert_eq!(
            hub.update_account(&Caller::Operator, sid(BLUEBIRD), close(status)),
            Err(HubError::AccountClosed(sid(BLUEBIRD)))
        );
    }
    assert_eq!(
        hub.update_account(
            &Caller::Operator,
            sid(SUPPORT),
            close(AccountStatus::Active)
        ),
        Err(HubError::AccountClosed(sid(SUPPORT)))
    );
    assert_eq!(
        hub.authenticate(creds(BLUEBIRD, "t-1").as_ref()),
        Err(HubError::AccountInactive(sid(BLUEBIRD)))
    );
}
