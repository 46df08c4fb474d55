//! Synthetic trust data shared by the benches: `accounts` vetted accounts (an approved
//! primary and trust product each), `numbers` numbers spread over them, every number on
//! its account's profile and product. Numbers are `+1` followed by `FIRST + i`. And
//! [`trunking`]: provisioned trunks with their access lists.
// Each bench uses part of this module.
#![allow(dead_code)]

use callsign::trust::{
    Account, AccountStatus, Bundle, BundleStatus, ChannelEndpointAssignment, EntityAssignment,
    IpAccessControlList, IpAddress, PhoneNumber, Policy, Sid, Trunk, TrunkAcl, Trunking, TrustData,
};

pub const FIRST: u64 = 2_000_000_000;

pub fn sid(prefix: &str, n: u64) -> Sid {
    Sid::from_u128(prefix, u128::from(n)).expect("valid prefix")
}

pub fn bundle(sid: Sid, account: Sid, policy: Policy) -> Bundle {
    Bundle {
        sid,
        account_sid: account,
        policy_sid: Sid::parse_any(policy.sid_str()).expect("policy sid"),
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
    }
}

/// Number `i`: owned by account `i % accounts`.
pub fn phone(i: u64, accounts: u64) -> PhoneNumber {
    PhoneNumber {
        sid: sid("PN", i),
        account_sid: sid("AC", i % accounts),
        phone_number: format!("+1{}", FIRST + i),
        friendly_name: None,
        date_created: None,
        date_updated: None,
        uri: None,
    }
}

/// The profile and trust product number `i` (or account `i`) is assigned to.
pub fn profile_and_product(i: u64, accounts: u64) -> [Sid; 2] {
    let a = i % accounts;
    [sid("BU", 2 * a), sid("BU", 2 * a + 1)]
}

/// The synthetic world (`numbers = 0`: the accounts and their bundles only).
pub fn synthetic(numbers: u64, accounts: u64) -> TrustData {
    let mut data = TrustData::default();
    for a in 0..accounts {
        let account = sid("AC", a);
        data.accounts.push(Account {
            sid: account,
            parent_sid: None,
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
        let [profile, product] = profile_and_product(a, accounts);
        data.customer_profiles
            .push(bundle(profile, account, Policy::PrimaryCustomerProfile));
        data.trust_products
            .push(bundle(product, account, Policy::ShakenStir));
        data.entity_assignments.push(EntityAssignment {
            sid: sid("BV", a),
            bundle_sid: product,
            object_sid: profile,
            account_sid: None,
            date_created: None,
            url: None,
        });
    }
    for i in 0..numbers {
        let number = phone(i, accounts);
        let pn = number.sid;
        data.phone_numbers.push(number);
        for (k, bundle) in profile_and_product(i, accounts).into_iter().enumerate() {
            data.channel_endpoint_assignments
                .push(ChannelEndpointAssignment {
                    sid: sid("RA", 2 * i + k as u64),
                    bundle_sid: bundle,
                    channel_endpoint_sid: pn,
                    channel_endpoint_type: "phone-number".to_owned(),
                    account_sid: None,
                    date_created: None,
                    url: None,
                });
        }
    }
    data
}

/// `trunks` trunks of `account`, each using its own list of `per_trunk` single
/// addresses in 10.0.0.0/8 (trunk `t`, address `k`: `10.0.0.0 + t * per_trunk + k`).
pub fn trunking(account: Sid, trunks: u64, per_trunk: u64) -> Trunking {
    let mut t = Trunking::default();
    for n in 0..trunks {
        let (trunk, list) = (sid("TK", n), sid("AL", n));
        t.trunks.push(Trunk {
            friendly_name: None,
            ..Trunk::new(trunk, account)
        });
        t.ip_access_control_lists.push(IpAccessControlList {
            sid: list,
            account_sid: account,
            friendly_name: None,
            date_created: None,
            date_updated: None,
        });
        t.trunk_ip_access_control_lists.push(TrunkAcl {
            trunk_sid: trunk,
            ip_access_control_list_sid: list,
            account_sid: account,
            date_created: None,
        });
        for k in 0..per_trunk {
            let i = n * per_trunk + k;
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + u32::try_from(i).expect("fits"));
            t.ip_addresses.push(IpAddress {
                sid: sid("IP", i),
                account_sid: account,
                ip_access_control_list_sid: list,
                friendly_name: None,
                ip_address: ip.to_string(),
                cidr_prefix_length: 32,
                date_created: None,
                date_updated: None,
            });
        }
    }
    t
}

/// Gives the first trunk of `t` the domain `domain` and a credential list holding
/// `user`'s `password`.
pub fn credentials(t: &mut Trunking, domain: &str, user: &str, password: &str) {
    use callsign::sip::digest::{Algorithm, ha1};
    use callsign::trust::{Credential, CredentialList, DIGEST_REALM, TrunkCredentialList};
    let trunk = &mut t.trunks[0];
    trunk.domain_name = Some(domain.to_owned());
    let (account, list) = (trunk.account_sid, sid("CL", 0));
    t.credential_lists.push(CredentialList {
        sid: list,
        account_sid: account,
        friendly_name: None,
        date_created: None,
        date_updated: None,
    });
    t.credentials.push(Credential {
        sid: sid("CR", 0),
        account_sid: account,
        credential_list_sid: list,
        username: user.to_owned(),
        realm: DIGEST_REALM.to_owned(),
        ha1_md5: ha1(Algorithm::Md5, user, DIGEST_REALM, password),
        ha1_sha256: ha1(Algorithm::Sha256, user, DIGEST_REALM, password),
        date_created: None,
        date_updated: None,
    });
    t.trunk_credential_lists.push(TrunkCredentialList {
        trunk_sid: trunk.sid,
        credential_list_sid: list,
        account_sid: account,
        date_created: None,
    });
}

/// A new database on the PostgreSQL server `CALLSIGN_TEST_POSTGRES` names, when it is
/// set: its URL.
pub fn postgres_database() -> Option<String> {
    let server = std::env::var("CALLSIGN_TEST_POSTGRES").ok()?;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let url = callsign::store::postgres::create_database(&server, &name);
    Some(url.expect("a database on CALLSIGN_TEST_POSTGRES"))
}
