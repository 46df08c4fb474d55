//! The world of the authorization matrix: a Parent account with a Sub-account, and an
//! Other account, each owning the same estate of records (numbers, a profile, a trust
//! product, end users, assignments, evaluations, two trunks using an IP access control
//! list with one address, a credential list with one credential that the trunk with a
//! domain uses, and a verifying trunk holding one of the numbers), every friendly name, email, attribute, domain, username and callback
//! URL marked with the owner's tag. Also what a caller's view is made of: the GET requests it
//! may make, and every request on someone's records.

use serde_json::{Value, json};

use crate::common::api::*;
use crate::credentials::provision_credentials;
use crate::trunking::provision;

/// Marks the parent's, the sub-account's and the other account's names, emails,
/// attributes and callback URLs.
pub const PARENT_TAG: &str = "parent-secret-7f3a";
pub const SUB_TAG: &str = "sub-secret-4c9d";
pub const OTHER_TAG: &str = "other-open-1e5b";

/// A number no account owns.
pub const UNOWNED: &str = "+12155550177";

const END_USER_TYPES: [&str; 3] = [
    "customer_profile_business_information",
    "authorized_representative_1",
    "authorized_representative_2",
];

/// One request: method, path and form (the query of a GET).
pub type Endpoint = (&'static str, String, Vec<(&'static str, String)>);

/// One account's records, built the same way for every account.
pub struct Estate {
    pub creds: Creds,
    pub tag: &'static str,
    /// `(PN…, E.164)`; the first is on the profile and the product, the second on nothing
    /// of this account's, the third on `inbound`.
    pub numbers: Vec<(String, String)>,
    /// A Primary profile (a Secondary one for the sub-account), in draft.
    pub profile: String,
    pub profile_policy: &'static str,
    /// A SHAKEN/STIR trust product linked to the profile, in draft, with a callback URL.
    pub product: String,
    /// Business information and representative 1 (on the profile), representative 2.
    pub users: Vec<String>,
    /// A business-address document, on the profile, uploaded with a PDF that names the
    /// account's tag (so that its bytes reaching anyone else is a leak the walk sees).
    pub document: String,
    /// The profile's entity assignments: its two end users, its document (and, for a
    /// Secondary, the parent's Primary).
    pub profile_links: Vec<String>,
    /// The product's entity assignment of the profile.
    pub product_link: String,
    /// Number assignments of the profile (the parent's also holds the sub-account's
    /// second number) and of the product.
    pub profile_numbers: Vec<String>,
    pub product_number: String,
    pub profile_evaluation: String,
    pub product_evaluation: String,
    /// The first three octets of the account's documentation range (RFC 5737), which no
    /// other account's overlaps; its address is `.10`.
    pub range: &'static str,
    /// A trunk without a domain and one with `domain`, both using `list`.
    pub trunk: String,
    pub domain_trunk: String,
    pub domain: String,
    /// An IP access control list holding `address` (`{range}.10/32`).
    pub list: String,
    pub address: String,
    /// An origination URL of `trunk`.
    pub origination: String,
    /// A verifying trunk (`Role=verify`) holding the third number.
    pub inbound: String,
    /// A credential list holding `credential`, `username` with `password`, which
    /// `domain_trunk` uses.
    pub credential_list: String,
    pub credential: String,
    pub username: String,
    pub password: String,
}

pub fn sid_of(v: &Value) -> String {
    v["sid"]
        .as_str()
        .unwrap_or_else(|| panic!("no sid in {v}"))
        .to_owned()
}

pub fn form(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

/// `path?query`, as a GET of the crawl.
pub fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    format!("{path}?{}", serde_urlencoded::to_string(query).unwrap())
}

/// Builds `creds`' estate; a Secondary profile is linked to `primary` before it is
/// evaluated.
async fn estate(
    api: &Api,
    creds: Creds,
    tag: &'static str,
    e164s: [&str; 3],
    profile_policy: &'static str,
    primary: Option<&str>,
    range: &'static str,
) -> Estate {
    let mut numbers = Vec::new();
    for (i, e164) in e164s.into_iter().enumerate() {
        let name = format!("{tag}-number-{i}");
        let pn = api.number_named(&creds.sid, e164, &name).await;
        numbers.push((pn, e164.to_owned()));
    }
    let email = format!("{tag}@example.com");
    let bundle = |name: String, policy: &'static str, callback: Option<String>| {
        let mut form = vec![
            ("FriendlyName", name),
            ("Email", email.clone()),
            ("PolicySid", policy.to_owned()),
        ];
        form.extend(callback.map(|url| ("StatusCallback", url)));
        form
    };
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let creds = &creds;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            sid_of(&api.ok(path, creds, &form).await)
        }
    };
    let profile = post(
        "/v1/CustomerProfiles",
        bundle(format!("{tag}-profile"), profile_policy, None),
    )
    .await;
    let mut users = Vec::new();
    for t in END_USER_TYPES {
        let attributes = json!({"business_name": format!("{tag}-business"), "email": email});
        let user = post(
            "/v1/EndUsers",
            vec![
                ("FriendlyName", format!("{tag}-{t}")),
                ("Type", t.to_owned()),
                ("Attributes", attributes.to_string()),
            ],
        )
        .await;
        users.push(user);
    }
    let pdf = format!("%PDF-1.4\n% {tag} proof of address\n%%EOF\n");
    let attributes = json!({"address_sids": ADDRESS}).to_string();
    let (status, body) = api
        .upload(
            "/v1/SupportingDocuments",
            Some(&creds),
            &[
                ("FriendlyName", &format!("{tag}-address")),
                ("Type", "customer_profile_address"),
                ("Attributes", &attributes),
            ],
            Some(("address.pdf", "application/pdf", pdf.as_bytes())),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let document = sid_of(&body);
    let mut profile_links = Vec::new();
    let own = users[..2].iter().chain([&document]).map(String::as_str);
    for object in own.chain(primary) {
        profile_links.push(sid_of(&api.link(&creds, PROFILES, &profile, object).await));
    }
    let callback = format!("https://{tag}.example.com/status");
    let product = post(
        "/v1/TrustProducts",
        bundle(format!("{tag}-product"), SHAKEN, Some(callback)),
    )
    .await;
    let product_link = sid_of(&api.link(&creds, PRODUCTS, &product, &profile).await);
    let pn = &numbers[0].0;
    let profile_numbers = vec![sid_of(&api.assign(&creds, PROFILES, &profile, pn).await)];
    let product_number = sid_of(&api.assign(&creds, PRODUCTS, &product, pn).await);
    let evaluate = |kind: &str, bundle: &str, policy: &'static str| {
        let path = format!("/v1/{kind}/{bundle}/Evaluations");
        let creds = &creds;
        async move { sid_of(&api.ok(&path, creds, &[("PolicySid", policy)]).await) }
    };
    let profile_evaluation = evaluate(PROFILES, &profile, profile_policy).await;
    let product_evaluation = evaluate(PRODUCTS, &product, SHAKEN).await;
    let trunking = provision(api, &creds, tag, range, &numbers[2].0).await;
    let credentials = provision_credentials(api, &creds, tag, &trunking.domain_trunk).await;
    Estate {
        creds,
        tag,
        numbers,
        profile,
        profile_policy,
        product,
        users,
        document,
        profile_links,
        product_link,
        profile_numbers,
        product_number,
        profile_evaluation,
        product_evaluation,
        range,
        trunk: trunking.trunk,
        domain_trunk: trunking.domain_trunk,
        domain: trunking.domain,
        list: trunking.list,
        address: trunking.address,
        origination: trunking.origination,
        inbound: trunking.inbound,
        credential_list: credentials.credential_list,
        credential: credentials.credential,
        username: credentials.username,
        password: credentials.password,
    }
}

impl Estate {
    pub fn account_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}.json", self.creds.sid)
    }

    pub fn numbers_path(&self) -> String {
        format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
            self.creds.sid
        )
    }

    pub fn number_path(&self, pn: &str) -> String {
        format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{pn}.json",
            self.creds.sid
        )
    }

    /// `(collection, bundle, policy)` of the profile and the product.
    pub fn bundles(&self) -> [(&'static str, &str, &'static str); 2] {
        [
            (PROFILES, &self.profile, self.profile_policy),
            (PRODUCTS, &self.product, SHAKEN),
        ]
    }

    /// `(path of the bundle, segment, child SID)` of every entity assignment, number
    /// assignment and evaluation.
    pub fn children(&self) -> Vec<(String, &'static str, &str)> {
        let cp = format!("/v1/{PROFILES}/{}", self.profile);
        let tp = format!("/v1/{PRODUCTS}/{}", self.product);
        let mut out = Vec::new();
        for link in &self.profile_links {
            out.push((cp.clone(), "EntityAssignments", link.as_str()));
        }
        for a in &self.profile_numbers {
            out.push((cp.clone(), "ChannelEndpointAssignments", a.as_str()));
        }
        out.push((cp.clone(), "Evaluations", &self.profile_evaluation));
        out.push((tp.clone(), "EntityAssignments", &self.product_link));
        out.push((
            tp.clone(),
            "ChannelEndpointAssignments",
            &self.product_number,
        ));
        out.push((tp, "Evaluations", &self.product_evaluation));
        out
    }

    /// Every SID of the account's own records, the account's first.
    pub fn records(&self) -> Vec<String> {
        let mut out = vec![
            self.creds.sid.clone(),
            self.profile.clone(),
            self.product.clone(),
        ];
        out.extend(self.numbers.iter().map(|(pn, _)| pn.clone()));
        out.extend(self.users.iter().cloned());
        out.push(self.document.clone());
        out.extend(
            self.children()
                .into_iter()
                .map(|(_, _, sid)| sid.to_owned()),
        );
        out.extend(self.trunking_records());
        out.extend(self.credential_records());
        out
    }

    /// What only the account and those above it may learn: its records' SIDs, its auth
    /// token, its numbers (as digits, so `%2B…` and `+…` both match), its address, its
    /// username and its tag (in every name and in the trunk's domain); and what nobody
    /// may learn, its password and the password's digests.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = self.records();
        out.push(self.creds.token.clone());
        out.extend(
            self.numbers
                .iter()
                .map(|(_, e164)| e164.trim_start_matches('+').to_owned()),
        );
        out.push(self.ip());
        out.push(self.username.clone());
        out.push(self.tag.to_owned());
        out.extend(self.hidden());
        out
    }

    /// The GET path of every record of the account's.
    pub fn fetch_paths(&self) -> Vec<String> {
        let mut out = vec![self.account_path()];
        out.extend(self.numbers.iter().map(|(pn, _)| self.number_path(pn)));
        for (kind, bundle, _) in self.bundles() {
            out.push(format!("/v1/{kind}/{bundle}"));
        }
        out.extend(self.users.iter().map(|u| format!("/v1/EndUsers/{u}")));
        out.push(format!("/v1/SupportingDocuments/{}", self.document));
        for (bundle, segment, sid) in self.children() {
            out.push(format!("{bundle}/{segment}/{sid}"));
        }
        out.extend(self.trunking_fetch_paths());
        out.extend(self.credential_fetch_paths());
        out
    }

    /// Every method on every record of the account's, as anyone but its owner would try
    /// it.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        let acct = self.account_path();
        let nums = self.numbers_path();
        let mut out: Vec<Endpoint> = vec![
            ("GET", acct.clone(), vec![]),
            ("POST", acct, form(&[("FriendlyName", "hijacked")])),
            ("GET", nums.clone(), vec![]),
            ("POST", nums, form(&[("PhoneNumber", "+12155550199")])),
        ];
        for (pn, _) in &self.numbers {
            out.push(("GET", self.number_path(pn), vec![]));
            out.push(("DELETE", self.number_path(pn), vec![]));
        }
        for (kind, bundle, policy) in self.bundles() {
            let b = format!("/v1/{kind}/{bundle}");
            let ea = format!("{b}/EntityAssignments");
            let cea = format!("{b}/ChannelEndpointAssignments");
            let ev = format!("{b}/Evaluations");
            out.extend([
                ("GET", b.clone(), vec![]),
                ("POST", b.clone(), form(&[("FriendlyName", "hijacked")])),
                ("POST", b.clone(), form(&[("Status", "twilio-approved")])),
                ("DELETE", b, vec![]),
                ("GET", ea.clone(), vec![]),
                ("POST", ea, form(&[("ObjectSid", &self.users[2])])),
                ("GET", cea.clone(), vec![]),
                (
                    "POST",
                    cea,
                    form(&[
                        ("ChannelEndpointType", "phone-number"),
                        ("ChannelEndpointSid", &self.numbers[1].0),
                    ]),
                ),
                ("GET", ev.clone(), vec![]),
                ("POST", ev, form(&[("PolicySid", policy)])),
            ]);
        }
        for (bundle, segment, sid) in self.children() {
            let path = format!("{bundle}/{segment}/{sid}");
            out.push(("GET", path.clone(), vec![]));
            if segment != "Evaluations" {
                out.push(("DELETE", path, vec![]));
            }
        }
        for user in &self.users {
            let path = format!("/v1/EndUsers/{user}");
            out.extend([
                ("GET", path.clone(), vec![]),
                ("POST", path.clone(), form(&[("FriendlyName", "hijacked")])),
                ("POST", path.clone(), form(&[("Attributes", "{}")])),
                ("DELETE", path, vec![]),
            ]);
        }
        let doc = format!("/v1/SupportingDocuments/{}", self.document);
        out.extend([
            ("GET", doc.clone(), vec![]),
            ("GET", format!("{doc}/File"), vec![]),
            ("POST", doc.clone(), form(&[("FriendlyName", "hijacked")])),
            ("POST", doc.clone(), form(&[("Attributes", "{}")])),
            ("POST", doc.clone(), form(&[("Status", "APPROVED")])),
            ("DELETE", doc, vec![]),
        ]);
        out.push((
            "GET",
            "/v1/Attestation".into(),
            form(&[
                ("AccountSid", &self.creds.sid),
                ("PhoneNumber", &self.numbers[0].1),
            ]),
        ));
        out.extend(self.trunking_endpoints());
        out.extend(self.credential_endpoints());
        out
    }

    /// Every GET the account may make of its own data, with every filter and paging
    /// parameter the API takes; `true` where the answer must list something.
    pub fn reads(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let mut add = |path: &str, queries: &[&[(&str, &str)]]| {
            for q in queries {
                out.push((with_query(path, q), q.is_empty()));
            }
        };
        let name = format!("{}-account", self.tag);
        add(
            "/2010-04-01/Accounts.json",
            &[
                &[],
                &[("FriendlyName", &name)],
                &[("Status", "active")],
                &[("Status", "suspended")],
                &[("Status", "closed")],
                &[("PageSize", "1")],
                &[("PageSize", "1"), ("Page", "1")],
                &[("PageToken", "PT0")],
            ],
        );
        add(&self.account_path(), &[&[]]);
        let (own, own_e164) = (&self.numbers[0].0, &self.numbers[0].1);
        let digits = own_e164.trim_start_matches('+');
        let number_name = format!("{}-number-0", self.tag);
        add(
            &self.numbers_path(),
            &[
                &[],
                &[("PhoneNumber", own_e164)],
                &[("PhoneNumber", &digits[digits.len() - 4..])],
                // Matches every number in the world; the list is the caller's own.
                &[("PhoneNumber", "215555****")],
                &[("FriendlyName", &number_name)],
                &[("Beta", "false"), ("Origin", "twilio")],
                &[("PageSize", "1")],
                &[("PageSize", "1"), ("Page", "1")],
                &[("PageToken", "PT0")],
            ],
        );
        for (kind, bundle, _) in self.bundles() {
            let name = if kind == PROFILES {
                format!("{}-profile", self.tag)
            } else {
                format!("{}-product", self.tag)
            };
            add(
                &format!("/v1/{kind}"),
                &[
                    &[],
                    &[("Status", "draft")],
                    &[("Status", "pending-review")],
                    &[("Status", "in-review")],
                    &[("Status", "twilio-approved")],
                    &[("Status", "twilio-rejected")],
                    &[("FriendlyName", &name)],
                    &[("PolicySid", PRIMARY)],
                    &[("PolicySid", SECONDARY)],
                    &[("PolicySid", SHAKEN)],
                    &[("PageSize", "1")],
                    &[("PageSize", "1"), ("Page", "1")],
                    &[("PageToken", "PT0")],
                ],
            );
            let b = format!("/v1/{kind}/{bundle}");
            add(&b, &[&[]]);
            add(
                &format!("{b}/EntityAssignments"),
                &[
                    &[],
                    &[("ObjectType", "end_user")],
                    &[("ObjectType", "customer_profile_business_information")],
                    &[("ObjectType", "authorized_representative_1")],
                    &[("ObjectType", "customer_profile")],
                    &[("ObjectType", "trust_product")],
                    &[("ObjectType", "bundle")],
                    &[("ObjectType", "supporting_document")],
                    &[("PageSize", "1")],
                    &[("PageSize", "1"), ("Page", "1")],
                ],
            );
            let both = format!("{},{}", self.numbers[0].0, self.numbers[1].0);
            add(
                &format!("{b}/ChannelEndpointAssignments"),
                &[
                    &[],
                    &[("ChannelEndpointSid", own)],
                    &[("ChannelEndpointSid", &self.numbers[1].0)],
                    &[("ChannelEndpointSids", &both)],
                    &[("PageSize", "1"), ("Page", "1")],
                ],
            );
            add(
                &format!("{b}/Evaluations"),
                &[&[], &[("PageSize", "1"), ("Page", "1")]],
            );
        }
        add("/v1/EndUsers", &[&[], &[("PageSize", "1"), ("Page", "1")]]);
        add(
            "/v1/SupportingDocuments",
            &[&[], &[("PageSize", "1"), ("Page", "1")]],
        );
        add(
            &format!("/v1/SupportingDocuments/{}/File", self.document),
            &[&[]],
        );
        add(
            "/v1/SupportingDocumentTypes",
            &[&[], &[("PageSize", "1"), ("Page", "1")]],
        );
        add("/v1/Policies", &[&[], &[("PageSize", "1"), ("Page", "1")]]);
        for (path, queries) in self.trunking_reads() {
            add(&path, queries);
        }
        out.extend(self.credential_reads());
        for e164 in self
            .numbers
            .iter()
            .map(|(_, e)| e.as_str())
            .chain([UNOWNED])
        {
            let q = [
                ("AccountSid", self.creds.sid.as_str()),
                ("PhoneNumber", e164),
            ];
            out.push((with_query("/v1/Attestation", &q), false));
        }
        out
    }
}

/// The three accounts and their estates.
pub struct World {
    pub parent: Estate,
    pub sub: Estate,
    pub other: Estate,
}

/// Builds the world in an empty store. The sub-account's Secondary profile links to the
/// parent's Primary (as it must), and the parent holds the sub-account's second number on
/// its own profile (as it may). The parent's trunks admit 192.0.2.10, the sub-account's
/// 198.51.100.10 and the other account's 203.0.113.10; each account's trunk with a domain
/// also takes its credential, and each account's verifying trunk its third number.
pub async fn world(api: &Api) -> World {
    let op = Creds::operator();
    let parent = api.account(&op, &format!("{PARENT_TAG}-account")).await;
    let sub = api.account(&parent, &format!("{SUB_TAG}-account")).await;
    let other = api.account(&op, &format!("{OTHER_TAG}-account")).await;
    let numbers = ["+12155550121", "+12155550122", "+12155550123"];
    let mut parent = estate(api, parent, PARENT_TAG, numbers, PRIMARY, None, "192.0.2").await;
    let numbers = ["+12155550141", "+12155550142", "+12155550143"];
    let primary = Some(parent.profile.as_str());
    let sub = estate(api, sub, SUB_TAG, numbers, SECONDARY, primary, "198.51.100").await;
    let numbers = ["+12155550131", "+12155550132", "+12155550133"];
    let other = estate(api, other, OTHER_TAG, numbers, PRIMARY, None, "203.0.113").await;
    let held = api
        .assign(&parent.creds, PROFILES, &parent.profile, &sub.numbers[1].0)
        .await;
    parent.profile_numbers.push(sid_of(&held));
    World { parent, sub, other }
}
