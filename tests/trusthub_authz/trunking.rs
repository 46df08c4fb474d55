//! The trunking part of an estate: an IP access control list holding one address of the
//! account's own documentation range, used by two trunks, one without a domain (the one
//! the source address picks, so no other such trunk may share it) and one with a domain
//! (picked by the domain a request is addressed to, and which also takes the credential
//! list of `credentials`), and a verifying trunk (`Role=verify`, which only a server with
//! a `[verify]` table takes) holding one of the account's numbers, all named with the
//! account's tag; their paths, every request on them and every GET of them.

use serde_json::json;

use crate::common::api::*;
use crate::world::{Endpoint, Estate, form, sid_of};

/// The query of one GET.
pub type Query = &'static [(&'static str, &'static str)];

/// A collection's GETs with every paging parameter (trunking collections take no
/// filters).
pub const PAGING: &[Query] = &[
    &[],
    &[("PageSize", "1")],
    &[("PageSize", "1"), ("Page", "1")],
    &[("PageToken", "PT0")],
];

/// The SIDs and the domain of [`provision`]'s records.
pub struct TrunkRecords {
    pub trunk: String,
    pub domain_trunk: String,
    pub domain: String,
    pub list: String,
    pub address: String,
    pub origination: String,
    pub inbound: String,
}

/// Gives `creds`' account a list admitting `{range}.10`, used by a trunk without a domain
/// and by one with the domain `{tag}.pstn.example`, and a verifying trunk holding its
/// number `number` (a `PN…`).
pub async fn provision(
    api: &Api,
    creds: &Creds,
    tag: &str,
    range: &str,
    number: &str,
) -> TrunkRecords {
    let lists = lists_path(&creds.sid);
    let list_name = format!("{tag}-list");
    let list = sid_of(&api.ok(&lists, creds, &[("FriendlyName", &list_name)]).await);
    let (address_name, ip) = (format!("{tag}-address"), format!("{range}.10"));
    let form = [("FriendlyName", address_name.as_str()), ("IpAddress", &ip)];
    let path = addresses_path(&creds.sid, &list);
    let address = sid_of(&api.ok(&path, creds, &form).await);
    let domain = format!("{tag}.pstn.example");
    let mut trunks = Vec::new();
    for (name, domain) in [
        (format!("{tag}-trunk"), None),
        (format!("{tag}-domain-trunk"), Some(domain.as_str())),
    ] {
        let mut form = vec![("FriendlyName", name.as_str())];
        form.extend(domain.map(|d| ("DomainName", d)));
        let trunk = sid_of(&api.ok("/v1/Trunks", creds, &form).await);
        let use_list = [("IpAccessControlListSid", list.as_str())];
        let used = api.ok(&trunk_lists_path(&trunk), creds, &use_list).await;
        assert_eq!(used["trunk_sid"], trunk.as_str(), "{used}");
        trunks.push(trunk);
    }
    let [trunk, domain_trunk] = <[String; 2]>::try_from(trunks).unwrap();
    let carrier = format!("{tag}-carrier");
    let origination = sid_of(
        &api.ok(
            &origination_path(&trunk),
            creds,
            &[
                ("FriendlyName", carrier.as_str()),
                ("SipUrl", "sip:93.184.216.34:5060"),
                ("Priority", "10"),
                ("Weight", "10"),
                ("Enabled", "true"),
            ],
        )
        .await,
    );
    let name = format!("{tag}-inbound-trunk");
    let verifying = [("FriendlyName", name.as_str()), ("Role", "verify")];
    let made = api.ok("/v1/Trunks", creds, &verifying).await;
    assert_eq!(made["role"], "verify", "{made}");
    let inbound = sid_of(&made);
    let on = api
        .ok(
            &trunk_numbers_path(&inbound),
            creds,
            &[("PhoneNumberSid", number)],
        )
        .await;
    assert_eq!(
        (&on["sid"], &on["trunk_sid"]),
        (&json!(number), &json!(inbound)),
        "{on}"
    );
    TrunkRecords {
        trunk,
        domain_trunk,
        domain,
        list,
        address,
        origination,
        inbound,
    }
}

pub fn trunk_path(trunk: &str) -> String {
    format!("/v1/Trunks/{trunk}")
}

/// The origination URLs of trunk `trunk`.
pub fn origination_path(trunk: &str) -> String {
    format!("/v1/Trunks/{trunk}/OriginationUrls")
}

/// The phone numbers of trunk `trunk`.
pub fn trunk_numbers_path(trunk: &str) -> String {
    format!("/v1/Trunks/{trunk}/PhoneNumbers")
}

/// The lists trunk `trunk` uses.
pub fn trunk_lists_path(trunk: &str) -> String {
    format!("/v1/Trunks/{trunk}/IpAccessControlLists")
}

/// An account's IP access control lists.
pub fn lists_path(account: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists.json")
}

/// List `list` of account `account`.
pub fn list_path(account: &str, list: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}.json")
}

/// The addresses of list `list` of account `account`.
pub fn addresses_path(account: &str, list: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}/IpAddresses.json")
}

/// Address `ip` of list `list` of account `account`.
pub fn address_path(account: &str, list: &str, ip: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/IpAccessControlLists/{list}/IpAddresses/{ip}.json")
}

impl Estate {
    /// The trunk without a domain, then the one with.
    pub fn trunks(&self) -> [&str; 2] {
        [&self.trunk, &self.domain_trunk]
    }

    /// The trunk without a domain.
    pub fn trunk_path(&self) -> String {
        trunk_path(&self.trunk)
    }

    /// The lists the trunk without a domain uses.
    pub fn trunk_lists_path(&self) -> String {
        trunk_lists_path(&self.trunk)
    }

    pub fn lists_path(&self) -> String {
        lists_path(&self.creds.sid)
    }

    pub fn list_path(&self) -> String {
        list_path(&self.creds.sid, &self.list)
    }

    pub fn addresses_path(&self) -> String {
        addresses_path(&self.creds.sid, &self.list)
    }

    pub fn address_path(&self) -> String {
        address_path(&self.creds.sid, &self.list, &self.address)
    }

    /// The address in the list (a whole address, /32).
    pub fn ip(&self) -> String {
        format!("{}.10", self.range)
    }

    /// An address of the account's range that no list holds.
    pub fn free_ip(&self) -> String {
        format!("{}.99", self.range)
    }

    /// The SIDs of the trunks, the list, the address and the origination URL (the
    /// number on the verifying trunk is one of [`Estate::numbers`]).
    pub fn trunking_records(&self) -> [String; 6] {
        [
            self.trunk.clone(),
            self.domain_trunk.clone(),
            self.list.clone(),
            self.address.clone(),
            self.origination.clone(),
            self.inbound.clone(),
        ]
    }

    /// The number on the verifying trunk: `(PN…, E.164)`.
    pub fn inbound_number(&self) -> &(String, String) {
        &self.numbers[2]
    }

    /// The numbers of the verifying trunk.
    pub fn inbound_numbers_path(&self) -> String {
        trunk_numbers_path(&self.inbound)
    }

    /// The number on the verifying trunk, as the trunk has it.
    pub fn inbound_number_path(&self) -> String {
        let pn = &self.inbound_number().0;
        format!("{}/{pn}", self.inbound_numbers_path())
    }

    /// The trunk's origination URL.
    pub fn origination_url_path(&self) -> String {
        format!("{}/{}", origination_path(&self.trunk), self.origination)
    }

    /// The GET paths of the trunks, the list as each trunk uses it, the list, the
    /// address, the origination URL and the number on the verifying trunk.
    pub fn trunking_fetch_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for trunk in self.trunks() {
            out.push(trunk_path(trunk));
            out.push(format!("{}/{}", trunk_lists_path(trunk), self.list));
        }
        out.extend([
            self.list_path(),
            self.address_path(),
            self.origination_url_path(),
            trunk_path(&self.inbound),
            self.inbound_number_path(),
        ]);
        out
    }

    /// [`Estate::endpoints`] of the trunks, the list and the address.
    pub fn trunking_endpoints(&self) -> Vec<Endpoint> {
        let mut out: Vec<Endpoint> = Vec::new();
        for trunk in self.trunks() {
            let (path, uses) = (trunk_path(trunk), trunk_lists_path(trunk));
            let used = format!("{uses}/{}", self.list);
            out.extend([
                ("GET", path.clone(), vec![]),
                ("POST", path.clone(), form(&[("FriendlyName", "hijacked")])),
                (
                    "POST",
                    path.clone(),
                    form(&[("DomainName", "hijacked.example")]),
                ),
                ("POST", path.clone(), form(&[("DomainName", "")])),
                ("DELETE", path, vec![]),
                ("GET", uses.clone(), vec![]),
                (
                    "POST",
                    uses,
                    form(&[("IpAccessControlListSid", &self.list)]),
                ),
                ("GET", used.clone(), vec![]),
                ("DELETE", used, vec![]),
            ]);
        }
        let (urls, url) = (origination_path(&self.trunk), self.origination_url_path());
        out.extend([
            ("GET", urls.clone(), vec![]),
            (
                "POST",
                urls,
                form(&[
                    ("FriendlyName", "hijacked"),
                    ("SipUrl", "sip:93.184.216.35"),
                    ("Priority", "1"),
                    ("Weight", "1"),
                    ("Enabled", "true"),
                ]),
            ),
            ("GET", url.clone(), vec![]),
            (
                "POST",
                url.clone(),
                form(&[("SipUrl", "sip:93.184.216.35")]),
            ),
            ("POST", url.clone(), form(&[("Enabled", "false")])),
            ("DELETE", url, vec![]),
        ]);
        // The verifying trunk, and its numbers: the number on nothing would go on it.
        let inbound = trunk_path(&self.inbound);
        let (numbers, number) = (self.inbound_numbers_path(), self.inbound_number_path());
        out.extend([
            ("GET", inbound.clone(), vec![]),
            (
                "POST",
                inbound.clone(),
                form(&[("FriendlyName", "hijacked")]),
            ),
            ("POST", inbound.clone(), form(&[("Role", "sign")])),
            ("DELETE", inbound, vec![]),
            ("GET", numbers.clone(), vec![]),
            (
                "POST",
                numbers,
                form(&[("PhoneNumberSid", &self.numbers[1].0)]),
            ),
            ("GET", number.clone(), vec![]),
            ("DELETE", number, vec![]),
        ]);
        let (lists, list) = (self.lists_path(), self.list_path());
        let (addresses, address) = (self.addresses_path(), self.address_path());
        let free = self.free_ip();
        out.extend([
            ("GET", lists.clone(), vec![]),
            ("POST", lists, form(&[("FriendlyName", "hijacked")])),
            ("GET", list.clone(), vec![]),
            ("POST", list.clone(), form(&[("FriendlyName", "hijacked")])),
            ("DELETE", list, vec![]),
            ("GET", addresses.clone(), vec![]),
            (
                "POST",
                addresses,
                form(&[("FriendlyName", "hijacked"), ("IpAddress", &free)]),
            ),
            ("GET", address.clone(), vec![]),
            (
                "POST",
                address.clone(),
                form(&[("FriendlyName", "hijacked")]),
            ),
            ("POST", address.clone(), form(&[("IpAddress", &free)])),
            ("POST", address.clone(), form(&[("CidrPrefixLength", "24")])),
            ("DELETE", address, vec![]),
        ]);
        out
    }

    /// The GETs of [`Estate::reads`] on the trunks, the list, the address, the
    /// origination URLs and the verifying trunk's numbers: each collection with every
    /// paging parameter (they take no filters), and each record.
    pub fn trunking_reads(&self) -> Vec<(String, &'static [Query])> {
        const ONCE: &[Query] = &[&[]];
        let mut out = vec![("/v1/Trunks".to_owned(), PAGING)];
        out.extend(self.trunks().map(|t| (trunk_lists_path(t), PAGING)));
        out.extend(self.trunks().map(|t| (origination_path(t), PAGING)));
        out.push((self.inbound_numbers_path(), PAGING));
        out.extend([(self.lists_path(), PAGING), (self.addresses_path(), PAGING)]);
        out.extend(self.trunking_fetch_paths().into_iter().map(|p| (p, ONCE)));
        out
    }
}
