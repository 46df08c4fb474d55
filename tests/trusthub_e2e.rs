//! DESIGN.md's attestation rules, row by row, built through the Trust Hub API and then
//! checked twice: by the preview endpoint and by a real call through the proxy, whose
//! signed PASSporT must carry the same level. No restart and no wait between a write and
//! the call that must see it.

mod common;

use common::api::*;
use common::*;

const ISV: &str = "AC00000000000000000000000000000003";
const UNVETTED: &str = "AC00000000000000000000000000000009";

/// The accounts (and so the trunks) exist from the start; everything else is built
/// through the API.
fn seed() -> String {
    let token = |n: u32| format!("{n:032x}");
    serde_json::json!({
        "accounts": [
            {"sid": ACME, "friendly_name": "acme: direct customer", "auth_token": token(1)},
            {"sid": ACME_BRANCH, "parent_sid": ACME, "friendly_name": "acme branch", "auth_token": token(2)},
            {"sid": ISV, "parent_sid": ACME, "friendly_name": "harbor: the ISV's customer", "auth_token": token(3)},
            {"sid": UNVETTED, "friendly_name": "unvetted", "auth_token": token(9)},
        ]
    })
    .to_string()
}

/// Each account's trunk: the account SID and the source address its calls come from.
const ACME_TRUNK: (&str, &str) = (ACME, "127.0.0.1");
const BRANCH_TRUNK: (&str, &str) = (ACME_BRANCH, "127.0.0.2");
const ISV_TRUNK: (&str, &str) = (ISV, "127.0.0.3");
const UNVETTED_TRUNK: (&str, &str) = (UNVETTED, "127.0.0.9");

fn creds(sid: &str, n: u32) -> Creds {
    Creds::new(sid, &format!("{n:032x}"))
}

struct Check<'a> {
    h: &'a Harness,
    api: Api,
    calls: u32,
}

impl Check<'_> {
    /// Preview and a real call from `trunk` (account, source address) must agree.
    async fn expect(&mut self, trunk: (&str, &str), number: &str, level: &str, reason: &str) {
        let (account, ip) = trunk;
        let (attest, why) = self.api.preview(account, &format!("+1{number}")).await;
        assert_eq!(
            (attest.as_str(), why.as_str()),
            (level, reason),
            "preview {account} {number}"
        );
        self.calls += 1;
        let call_id = format!("e2e-{}", self.calls);
        let claims = signed_call(self.h, ip, number, "2155550199", &call_id).await;
        assert_eq!(
            claims["attest"], level,
            "call {account} {number} ({reason})"
        );
        assert_eq!(claims["orig"]["tn"], format!("1{number}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attestation_rule_through_the_api_and_real_calls() {
    let h = TestServer::new()
        .store(seed())
        .trunk(signing_trunk("harbor", ISV, ISV_TRUNK.1))
        .trunk(signing_trunk("unvetted", UNVETTED, UNVETTED_TRUNK.1))
        .start()
        .await;
    let api = Api::new(h.http);
    let mut c = Check {
        h: &h,
        api: Api::new(h.http),
        calls: 0,
    };
    let op = Creds::operator();
    let (acme, isv, unvetted) = (creds(ACME, 1), creds(ISV, 3), creds(UNVETTED, 9));

    c.expect(ACME_TRUNK, "2155550121", "C", "c_no_primary_profile")
        .await;

    // The operator's numbers.
    let n0121 = api.number(ACME, "+12155550121").await;
    let n0122 = api.number(ACME, "+12155550122").await;
    let n0123 = api.number(ACME, "+12155550123").await;
    api.number(ACME_BRANCH, "+12155550131").await;
    let n0141 = api.number(ISV, "+12155550141").await;
    api.number(ISV, "+12155550142").await;
    let n0151 = api.number(UNVETTED, "+12155550151").await;

    // acme: a Primary profile with three numbers, a trust product with two of them.
    let p = api.compliant_profile(&acme, PRIMARY).await;
    for n in [&n0121, &n0122, &n0123] {
        api.assign(&acme, PROFILES, &p, n).await;
    }
    let t = api.bundle(&acme, PRODUCTS, SHAKEN, None).await;
    api.link(&acme, PRODUCTS, &t, &p).await;
    for n in [&n0121, &n0122] {
        api.assign(&acme, PRODUCTS, &t, n).await;
    }
    c.expect(ACME_TRUNK, "2155550121", "C", "c_primary_not_approved")
        .await;
    api.move_to(&acme, PROFILES, &p, "pending-review").await;
    api.move_to(&acme, PRODUCTS, &t, "pending-review").await;
    c.expect(ACME_TRUNK, "2155550121", "C", "c_primary_not_approved")
        .await;
    api.move_to(&op, PROFILES, &p, "twilio-approved").await;
    c.expect(
        ACME_TRUNK,
        "2155550121",
        "C",
        "c_trust_product_not_approved",
    )
    .await;
    api.move_to(&op, PRODUCTS, &t, "in-review").await;
    api.move_to(&op, PRODUCTS, &t, "twilio-approved").await;

    // Direct customer: A for its numbers on both bundles, B otherwise.
    c.expect(ACME_TRUNK, "2155550121", "A", "a_full").await;
    c.expect(ACME_TRUNK, "2155550122", "A", "a_full").await;
    c.expect(ACME_TRUNK, "2155550123", "B", "b_number_not_on_product")
        .await;
    c.expect(ACME_TRUNK, "2675550100", "B", "b_number_not_owned")
        .await;

    // Sub-accounts inherit B from the parent's vetting, with any calling number.
    c.expect(BRANCH_TRUNK, "2155550131", "B", "b_number_not_on_profile")
        .await;
    c.expect(BRANCH_TRUNK, "2155550121", "B", "b_number_not_owned")
        .await;
    c.expect(BRANCH_TRUNK, "2675550100", "B", "b_number_not_owned")
        .await;

    // The ISV's customer reaches A with a Secondary profile linked to acme's Primary.
    let s = api.compliant_profile(&isv, SECONDARY).await;
    api.link(&isv, PROFILES, &s, &p).await;
    api.assign(&isv, PROFILES, &s, &n0141).await;
    let t2 = api.bundle(&isv, PRODUCTS, SHAKEN, None).await;
    api.link(&isv, PRODUCTS, &t2, &s).await;
    api.assign(&isv, PRODUCTS, &t2, &n0141).await;
    c.expect(ISV_TRUNK, "2155550141", "B", "b_profile_not_approved")
        .await;
    api.approve(&isv, PROFILES, &s).await;
    c.expect(ISV_TRUNK, "2155550141", "B", "b_trust_product_not_approved")
        .await;
    api.approve(&isv, PRODUCTS, &t2).await;
    c.expect(ISV_TRUNK, "2155550141", "A", "a_full").await;
    c.expect(ISV_TRUNK, "2155550142", "B", "b_number_not_on_profile")
        .await;

    // Unvetted: a pending, then rejected, primary gives C.
    let u = api.compliant_profile(&unvetted, PRIMARY).await;
    api.assign(&unvetted, PROFILES, &u, &n0151).await;
    api.move_to(&unvetted, PROFILES, &u, "pending-review").await;
    c.expect(UNVETTED_TRUNK, "2155550151", "C", "c_primary_not_approved")
        .await;
    api.move_to(&op, PROFILES, &u, "twilio-rejected").await;
    c.expect(UNVETTED_TRUNK, "2155550151", "C", "c_primary_not_approved")
        .await;

    // A rejected Secondary drops the ISV's customer to B.
    api.move_to(&op, PROFILES, &s, "twilio-rejected").await;
    c.expect(ISV_TRUNK, "2155550141", "B", "b_profile_not_approved")
        .await;

    // An expired trust product: nobody under acme keeps the B basis.
    let (status, body) = api
        .post(
            &format!("/v1/TrustProducts/{t}"),
            &op,
            &[("ValidUntil", "2020-01-01T00:00:00Z")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    c.expect(ACME_TRUNK, "2155550121", "C", "c_expired").await;
    c.expect(BRANCH_TRUNK, "2155550131", "C", "c_expired").await;
    // Renewed: A again, on the very next call.
    api.ok(
        &format!("/v1/TrustProducts/{t}"),
        &op,
        &[("ValidUntil", "2099-01-01T00:00:00Z")],
    )
    .await;
    c.expect(ACME_TRUNK, "2155550121", "A", "a_full").await;

    // Removing the number from the product takes A away at once.
    let (_, list) = api
        .get(
            &format!("/v1/TrustProducts/{t}/ChannelEndpointAssignments"),
            &acme,
            &[("ChannelEndpointSid", &n0121)],
        )
        .await;
    let ra = list["results"][0]["sid"].as_str().unwrap();
    let (status, _) = api
        .delete(
            &format!("/v1/TrustProducts/{t}/ChannelEndpointAssignments/{ra}"),
            &acme,
        )
        .await;
    assert_eq!(status, 204);
    c.expect(ACME_TRUNK, "2155550121", "B", "b_number_not_on_product")
        .await;
    h.assert_metric("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 4")
        .await;
}
