//! The index a service keeps up to date write by write equals the index rebuilt from its
//! store, after every step of random sequences of Trust Hub writes, allowed or refused.
//! Each sequence starts from the sample data (approved bundles, links, numbers) so that
//! deletions, unlinks and review decisions have something to act on.

use proptest::prelude::*;

use super::*;
use crate::store::Page;
use crate::trust::Bundle;
use crate::trusthub::end_users::NewEndUser;

/// One write, with its operands as picks into what exists when it runs.
#[derive(Debug, Clone)]
enum Op {
    Account {
        parent: Option<u8>,
    },
    Number {
        account: u8,
        digits: u16,
    },
    Bundle {
        account: u8,
        policy: u8,
    },
    EndUser {
        account: u8,
        representative: bool,
    },
    Link {
        bundle: u8,
        object: u8,
    },
    Unlink {
        bundle: u8,
        pick: u8,
    },
    Assign {
        bundle: u8,
        number: u8,
    },
    Unassign {
        bundle: u8,
        pick: u8,
    },
    Status {
        bundle: u8,
        to: u8,
    },
    ValidUntil {
        bundle: u8,
        days: i8,
    },
    /// Attach what the policy requires, submit, and approve.
    Vet {
        bundle: u8,
    },
    DeleteBundle {
        bundle: u8,
    },
    DeleteNumber {
        number: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::option::of(any::<u8>()).prop_map(|parent| Op::Account { parent }),
        (any::<u8>(), 0u16..40).prop_map(|(account, digits)| Op::Number { account, digits }),
        (any::<u8>(), 0u8..3).prop_map(|(account, policy)| Op::Bundle { account, policy }),
        (any::<u8>(), any::<bool>()).prop_map(|(account, representative)| Op::EndUser {
            account,
            representative
        }),
        (any::<u8>(), any::<u8>()).prop_map(|(bundle, object)| Op::Link { bundle, object }),
        (any::<u8>(), any::<u8>()).prop_map(|(bundle, pick)| Op::Unlink { bundle, pick }),
        (any::<u8>(), any::<u8>()).prop_map(|(bundle, number)| Op::Assign { bundle, number }),
        (any::<u8>(), any::<u8>()).prop_map(|(bundle, pick)| Op::Unassign { bundle, pick }),
        (any::<u8>(), 0u8..5).prop_map(|(bundle, to)| Op::Status { bundle, to }),
        (any::<u8>(), any::<i8>()).prop_map(|(bundle, days)| Op::ValidUntil { bundle, days }),
        any::<u8>().prop_map(|bundle| Op::Vet { bundle }),
        any::<u8>().prop_map(|bundle| Op::DeleteBundle { bundle }),
        any::<u8>().prop_map(|number| Op::DeleteNumber { number }),
    ]
}

fn pick<T: Clone>(list: &[T], i: u8) -> Option<T> {
    (!list.is_empty()).then(|| list[usize::from(i) % list.len()].clone())
}

/// Runs `op` through the service as the caller a real client would be; refusals are
/// part of the test (the index must not move on a refused write).
fn run(hub: &Hub, op: &Op) {
    let all = Page::ALL;
    let accounts = hub
        .accounts(&Caller::Operator, &Default::default(), all)
        .unwrap();
    let caller_of = |account: Sid| Caller::Account {
        sid: account,
        parent: hub.parent_of(account),
    };
    let mut bundles = Vec::new();
    for kind in [BundleKind::CustomerProfile, BundleKind::TrustProduct] {
        for b in hub
            .bundles(&Caller::Operator, kind, &Default::default(), all)
            .unwrap()
        {
            bundles.push((b, kind));
        }
    }
    let numbers: Vec<_> = accounts
        .iter()
        .flat_map(|a| {
            hub.numbers(&Caller::Operator, a.sid, &Default::default(), all)
                .unwrap()
        })
        .map(|(n, _)| n)
        .collect();
    let users = hub.end_users(&Caller::Operator, all).unwrap();
    let account_sids: Vec<Sid> = accounts.iter().map(|a| a.sid).collect();
    let _ = match op {
        Op::Account { parent } => {
            let caller = match parent.and_then(|p| pick(&account_sids, p)) {
                Some(p) => caller_of(p),
                None => Caller::Operator,
            };
            hub.create_account(&caller, None).map(drop)
        }
        Op::Number { account, digits } => match pick(&account_sids, *account) {
            Some(a) => hub
                .create_number(&Caller::Operator, a, &format!("+1267555{digits:04}"), None)
                .map(drop),
            None => Ok(()),
        },
        Op::Bundle { account, policy } => match pick(&account_sids, *account) {
            Some(a) => {
                let policy = Policy::ALL[usize::from(*policy) % 3];
                let new = NewBundle {
                    friendly_name: "b".into(),
                    email: "b@x.example".into(),
                    policy_sid: policy.sid(),
                    status_callback: None,
                };
                hub.create_bundle(&caller_of(a), policy.kind(), new)
                    .map(drop)
            }
            None => Ok(()),
        },
        Op::EndUser {
            account,
            representative,
        } => match pick(&account_sids, *account) {
            Some(a) => end_user(hub, &caller_of(a), *representative).map(drop),
            None => Ok(()),
        },
        Op::Link { bundle, object } => match pick(&bundles, *bundle) {
            Some((b, kind)) => {
                // Mostly objects of the bundle's own family, which the rules may allow;
                // now and then anything at all, which they must refuse.
                let family = [Some(b.account_sid), hub.parent_of(b.account_sid)];
                let near = |account: Sid| object % 8 == 0 || family.contains(&Some(account));
                let objects: Vec<Sid> = bundles
                    .iter()
                    .filter(|(t, _)| near(t.account_sid))
                    .map(|(t, _)| t.sid)
                    .chain(users.iter().filter(|u| near(u.account_sid)).map(|u| u.sid))
                    .collect();
                match pick(&objects, object / 8) {
                    Some(o) => hub
                        .link(&caller_of(b.account_sid), kind, b.sid, o)
                        .map(drop),
                    None => Ok(()),
                }
            }
            None => Ok(()),
        },
        Op::Unlink { bundle, pick: p } => match pick(&bundles, *bundle) {
            Some((b, kind)) => {
                let links = hub
                    .entity_assignments(&Caller::Operator, kind, b.sid, None, all)
                    .unwrap();
                match pick(&links, *p) {
                    Some(a) => hub.unlink(&caller_of(b.account_sid), kind, b.sid, a.sid),
                    None => Ok(()),
                }
            }
            None => Ok(()),
        },
        Op::Assign { bundle, number } => match (pick(&bundles, *bundle), pick(&numbers, *number)) {
            (Some((b, kind)), Some(n)) => hub
                .assign_number(
                    &caller_of(b.account_sid),
                    kind,
                    b.sid,
                    n.sid,
                    "phone-number",
                )
                .map(drop),
            _ => Ok(()),
        },
        Op::Unassign { bundle, pick: p } => match pick(&bundles, *bundle) {
            Some((b, kind)) => {
                let held = hub
                    .channel_endpoint_assignments(&Caller::Operator, kind, b.sid, &[], all)
                    .unwrap();
                match pick(&held, *p) {
                    Some(a) => hub.unassign_number(&caller_of(b.account_sid), kind, b.sid, a.sid),
                    None => Ok(()),
                }
            }
            None => Ok(()),
        },
        Op::Status { bundle, to } => match pick(&bundles, *bundle) {
            Some((b, kind)) => {
                let to = BundleStatus::ALL[usize::from(*to) % 5];
                let caller = match to {
                    BundleStatus::PendingReview => caller_of(b.account_sid),
                    _ => Caller::Operator,
                };
                set_status(hub, &caller, kind, b.sid, to)
            }
            None => Ok(()),
        },
        Op::ValidUntil { bundle, days } => match pick(&bundles, *bundle) {
            Some((b, kind)) => {
                let at = NOW + i64::from(*days) * 86_400;
                let update = BundleUpdate {
                    valid_until: Some(time::OffsetDateTime::from_unix_timestamp(at).ok()),
                    ..BundleUpdate::default()
                };
                hub.update_bundle(&Caller::Operator, kind, b.sid, update)
                    .map(drop)
            }
            None => Ok(()),
        },
        Op::Vet { bundle } => match pick(&bundles, *bundle) {
            Some((b, kind)) => vet(hub, &caller_of(b.account_sid), kind, &b, &bundles),
            None => Ok(()),
        },
        Op::DeleteBundle { bundle } => match pick(&bundles, *bundle) {
            Some((b, kind)) => hub.delete_bundle(&Caller::Operator, kind, b.sid),
            None => Ok(()),
        },
        Op::DeleteNumber { number } => match pick(&numbers, *number) {
            Some(n) => hub.delete_number(&Caller::Operator, n.account_sid, n.sid),
            None => Ok(()),
        },
    };
}

fn end_user(hub: &Hub, caller: &Caller, representative: bool) -> Result<Sid, HubError> {
    let end_user_type = if representative {
        "authorized_representative_1"
    } else {
        "customer_profile_business_information"
    };
    let new = NewEndUser {
        friendly_name: "u".into(),
        end_user_type: end_user_type.into(),
        attributes: serde_json::json!({}),
    };
    Ok(hub.create_end_user(caller, new)?.sid)
}

fn set_status(
    hub: &Hub,
    caller: &Caller,
    kind: BundleKind,
    bundle: Sid,
    to: BundleStatus,
) -> Result<(), HubError> {
    let update = BundleUpdate {
        status: Some(to),
        ..BundleUpdate::default()
    };
    hub.update_bundle(caller, kind, bundle, update).map(drop)
}

/// Attaches what `b`'s policy asks for (end users, a linked profile), submits it as its
/// owner and approves it as the operator. Any step may be refused.
fn vet(
    hub: &Hub,
    owner: &Caller,
    kind: BundleKind,
    b: &Bundle,
    bundles: &[(Bundle, BundleKind)],
) -> Result<(), HubError> {
    let policy = Policy::from_sid(b.policy_sid).unwrap_or(Policy::ShakenStir);
    if policy.kind() == BundleKind::CustomerProfile {
        for representative in [false, true] {
            let user = end_user(hub, owner, representative)?;
            hub.link(owner, kind, b.sid, user)?;
        }
    }
    let wanted = match policy {
        Policy::PrimaryCustomerProfile => None,
        Policy::SecondaryCustomerProfile => Some(Policy::PrimaryCustomerProfile),
        Policy::ShakenStir => Some(Policy::PrimaryCustomerProfile),
    };
    if let Some(wanted) = wanted {
        let parent = hub.parent_of(b.account_sid);
        let target = bundles.iter().find(|(t, _)| {
            Policy::from_sid(t.policy_sid) == Some(wanted)
                && (t.account_sid == b.account_sid || Some(t.account_sid) == parent)
        });
        if let Some((t, _)) = target {
            hub.link(owner, kind, b.sid, t.sid)?;
        }
    }
    set_status(hub, owner, kind, b.sid, BundleStatus::PendingReview)?;
    set_status(
        hub,
        &Caller::Operator,
        kind,
        b.sid,
        BundleStatus::TwilioApproved,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        .. ProptestConfig::default()
    })]

    #[test]
    fn the_live_index_equals_the_index_rebuilt_from_the_store(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let hub = hub();
        for (step, op) in ops.iter().enumerate() {
            run(&hub, op);
            let live = hub.trust().load().snapshot();
            let rebuilt = hub.rebuilt().expect("the store always rebuilds").snapshot();
            prop_assert_eq!(live, rebuilt, "after step {} ({:?})", step, op);
        }
    }
}
