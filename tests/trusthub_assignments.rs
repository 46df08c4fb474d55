//! The Trust Hub API's assignment rules over real HTTP: which numbers go on which
//! bundles (channel endpoint assignments), which bundles and end users link to which
//! (entity assignments), and their lists, fetches and deletes.

mod common;

use common::api::*;

#[tokio::test]
async fn assignment_rules() {
    let (_h, api) = hub().await;
    let op = Creds::operator();
    let parent = api.account(&op, "Parent").await;
    let sub = api.account(&parent, "Sub").await;
    let stranger = api.account(&op, "Stranger").await;
    let n1 = api.number(&parent.sid, "+12155550121").await;
    let n2 = api.number(&parent.sid, "+12155550122").await;
    let theirs = api.number(&stranger.sid, "+12155550199").await;

    let p = api.compliant_profile(&parent, PRIMARY).await;
    let t = api.bundle(&parent, PRODUCTS, SHAKEN, None).await;
    let p2 = api.bundle(&parent, PROFILES, PRIMARY, None).await;

    // A number goes on a trust product only after it is on the linked profile.
    let refused = api.try_assign(&parent, PRODUCTS, &t, &n1).await;
    assert_refused(&refused, "linked to");
    let link = api.link(&parent, PRODUCTS, &t, &p).await;
    assert_eq!(link["trust_product_sid"], t.as_str());
    assert_eq!(link["object_sid"], p.as_str());
    // Still not on the profile.
    let refused = api.try_assign(&parent, PRODUCTS, &t, &n1).await;
    assert_refused(&refused, "first");
    let a1 = api.assign(&parent, PROFILES, &p, &n1).await;
    assert_eq!(a1["channel_endpoint_type"], "phone-number");
    assert_eq!(a1["customer_profile_sid"], p.as_str());
    api.assign(&parent, PRODUCTS, &t, &n1).await;

    // One profile per number; numbers of other accounts are refused (as unknown: the
    // answer does not tell them from numbers that do not exist); type must match.
    let refused = api.try_assign(&parent, PROFILES, &p2, &n1).await;
    assert_refused(&refused, "already");
    let refused = api.try_assign(&parent, PROFILES, &p, &theirs).await;
    assert_refused(&refused, "unknown phone number");
    let refused = api
        .post(
            &format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments"),
            &parent,
            &[
                ("ChannelEndpointType", "sip-trunk"),
                ("ChannelEndpointSid", &n2),
            ],
        )
        .await;
    assert_refused(&refused, "phone-number");
    api.assign(&parent, PROFILES, &p, &n2).await;

    // Channel endpoint lists filter by number.
    let cea = format!("/v1/CustomerProfiles/{p}/ChannelEndpointAssignments");
    let (_, all) = api.get(&cea, &parent, &[]).await;
    assert_eq!(all["results"].as_array().unwrap().len(), 2);
    let (_, one) = api.get(&cea, &parent, &[("ChannelEndpointSid", &n2)]).await;
    assert_eq!(one["results"][0]["channel_endpoint_sid"], n2.as_str());
    let both = format!("{n1},{n2}");
    let (_, two) = api
        .get(&cea, &parent, &[("ChannelEndpointSids", &both)])
        .await;
    assert_eq!(two["results"].as_array().unwrap().len(), 2);
    let a2 = one["results"][0]["sid"].as_str().unwrap().to_owned();
    let (s, _) = api.get(&format!("{cea}/{a2}"), &parent, &[]).await;
    assert_eq!(s, 200);
    let (s, _) = api.delete(&format!("{cea}/{a2}"), &parent).await;
    assert_eq!(s, 204);
    let (_, all) = api.get(&cea, &parent, &[]).await;
    assert_eq!(all["results"].as_array().unwrap().len(), 1);

    // Entity links: a Primary links to no bundle; a Secondary needs a parent account and
    // links only to the parent's Primary; a product links to a profile of its account or
    // its parent's.
    let refused = api.try_link(&parent, PROFILES, &p2, &p).await;
    assert_refused(&refused, "not to other bundles");
    let top_secondary = api.bundle(&parent, PROFILES, SECONDARY, None).await;
    let refused = api.try_link(&parent, PROFILES, &top_secondary, &p).await;
    assert_refused(&refused, "sub-account");
    let secondary = api.bundle(&sub, PROFILES, SECONDARY, None).await;
    api.link(&sub, PROFILES, &secondary, &p).await;
    let sub_product = api.bundle(&sub, PRODUCTS, SHAKEN, None).await;
    api.link(&sub, PRODUCTS, &sub_product, &secondary).await;
    let stranger_profile = api.bundle(&stranger, PROFILES, PRIMARY, None).await;
    let refused = api.try_link(&parent, PRODUCTS, &t, &stranger_profile).await;
    assert_refused(&refused, "unknown object");
    let refused = api.try_link(&parent, PRODUCTS, &t, &p).await;
    assert_refused(&refused, "already assigned");
    let refused = api
        .try_link(&parent, PRODUCTS, &t, "PN00000000000000000000000000000001")
        .await;
    assert_refused(&refused, "neither an end user");

    // Entity assignments list, filter by type, fetch and delete.
    let ea = format!("/v1/CustomerProfiles/{p}/EntityAssignments");
    let (_, list) = api.get(&ea, &parent, &[("ObjectType", "end_user")]).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    // The filter filters: the profile's two links are both end users.
    let (s, list) = api
        .get(&ea, &parent, &[("ObjectType", "customer_profile")])
        .await;
    assert_eq!((s, sids(&list, "results").len()), (200, 0), "{list}");
    // An end-user type, as Twilio takes it, keeps the end users of that type only.
    for end_user_type in [
        "authorized_representative_1",
        "customer_profile_business_information",
    ] {
        let (_, list) = api
            .get(&ea, &parent, &[("ObjectType", end_user_type)])
            .await;
        let objects = sids(&list, "results");
        assert_eq!(objects.len(), 1, "{end_user_type}: {list}");
        let object = list["results"][0]["object_sid"].as_str().unwrap();
        let (_, user) = api
            .get(&format!("/v1/EndUsers/{object}"), &parent, &[])
            .await;
        assert_eq!(user["type"], end_user_type, "{user}");
    }
    let (_, list) = api
        .get(
            &format!("/v1/TrustProducts/{t}/EntityAssignments"),
            &parent,
            &[],
        )
        .await;
    let link_sid = list["results"][0]["sid"].as_str().unwrap().to_owned();
    let link_path = format!("/v1/TrustProducts/{t}/EntityAssignments/{link_sid}");
    let (s, got) = api.get(&link_path, &parent, &[]).await;
    assert_eq!((s, got["object_sid"].as_str()), (200, Some(p.as_str())));
    let (s, _) = api.delete(&link_path, &parent).await;
    assert_eq!(s, 204);
    let (s, _) = api.get(&link_path, &parent, &[]).await;
    assert_eq!(s, 404);
}
