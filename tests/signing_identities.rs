//! Signing identities (FCC 24-120) over the API: the operator adds a provider's own
//! certificate and key, assigns it to a trunk or an account, and the next call of that
//! trunk or account is signed with it and announces its own x5u, which the HTTP
//! listener serves. Keys that do not match, expired or broken chains, keys outside the
//! key directory and unknown PKCS#11 libraries are refused, with nothing stored.

mod common;

use callsign::certs::DevPki;
use callsign::daemon::ServeError;
use common::api::*;
use common::*;
use serde_json::Value;

fn sid_of(v: &Value) -> String {
    v["sid"].as_str().expect("a sid").to_owned()
}

/// A provider's own PKI (SPC `spc`), its leaf key written as `name` in the server's
/// identity key directory.
fn provider(h: &Harness, spc: &str, name: &str) -> DevPki {
    let pki = callsign::certs::dev::generate(spc, now_unix()).unwrap();
    let keys = identity_key_dir(h.dir.path());
    std::fs::write(keys.join(name), &pki.leaf_key_pem).unwrap();
    pki
}

fn leaf_key(pki: &DevPki) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pki.leaf_pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    cert.public_key().subject_public_key.data.to_vec()
}

/// The claims and x5u of an Identity header, which must verify with `public_key`.
fn verified(identity: &str, public_key: &[u8]) -> (Value, String) {
    let jws = identity.split(';').next().unwrap().trim();
    let key = jsonwebtoken::DecodingKey::from_ec_der(public_key);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .unwrap_or_else(|e| panic!("{identity} does not verify with the expected key: {e}"));
    let x5u = data.header.x5u.expect("an x5u");
    assert!(identity.contains(&format!(";info=<{x5u}>")), "{identity}");
    (data.claims, x5u)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assigned_identity_signs_with_the_providers_own_certificate() {
    let (h, api) = hub().await;
    let op = Creds::operator();
    let pki = provider(&h, "5678", "newco.pem");
    let created = api
        .ok(
            "/v1/SigningIdentities",
            &op,
            &[
                ("FriendlyName", "Newco SPC"),
                ("CertificateChain", &pki.chain_pem()),
                ("PrivateKey", "newco.pem"),
            ],
        )
        .await;
    let si = sid_of(&created);
    assert!(si.starts_with("SI"), "{created}");
    assert_eq!(created["spc"], "5678");
    assert_eq!(created["status"], "active");
    assert_eq!(created["private_key"], "newco.pem");
    let x5u = format!("http://127.0.0.1/certs/identities/{si}.pem");
    assert_eq!(created["x5u"], x5u.as_str());

    let newco = api.account(&op, "Newco").await;
    let ip = "127.0.0.7";
    let trunk = api.trunk_at(&newco, ip).await;
    // Unassigned: the default identity of [signing] signs.
    let identity = signed_invite(&h, ip, "2155550101", "2155550102", "si-default").await;
    let (_, default_x5u) = verified(&identity, &h.leaf_public_key);
    assert_eq!(default_x5u, PLACEHOLDER_X5U);

    // Assigned to the trunk: the very next call is Newco's, with Newco's x5u.
    let assignments = format!("/v1/SigningIdentities/{si}/Assignments");
    let a = api.ok(&assignments, &op, &[("Sid", &trunk)]).await;
    assert_eq!(a["sid"], trunk.as_str());
    assert_eq!(a["signing_identity_sid"], si.as_str());
    let identity = signed_invite(&h, ip, "2155550101", "2155550102", "si-trunk").await;
    let (claims, signed_x5u) = verified(&identity, &leaf_key(&pki));
    assert_eq!(signed_x5u, x5u);
    assert_eq!(claims["orig"]["tn"], "12155550101");

    // The HTTP listener serves the identity's chain at its x5u path.
    let served = h.http_get(&format!("/certs/identities/{si}.pem")).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    assert!(served.ends_with(&pki.chain_pem()), "{served}");
    assert!(
        (h.http_get("/certs/identities/SI00000000000000000000000000000009.pem")
            .await)
            .starts_with("HTTP/1.1 404")
    );

    // Assigned to the account instead: its trunks sign with it too.
    let (s, _) = api.delete(&format!("{assignments}/{trunk}"), &op).await;
    assert_eq!(s, 204);
    let identity = signed_invite(&h, ip, "2155550101", "2155550102", "si-none").await;
    verified(&identity, &h.leaf_public_key);
    api.ok(&assignments, &op, &[("Sid", &newco.sid)]).await;
    let identity = signed_invite(&h, ip, "2155550101", "2155550102", "si-account").await;
    verified(&identity, &leaf_key(&pki));
    let (s, list) = api.get(&assignments, &op, &[]).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(sids(&list, "assignments"), std::slice::from_ref(&newco.sid));

    // An identity in use cannot be deleted; once free, it can, and its chain is gone.
    let path = format!("/v1/SigningIdentities/{si}");
    assert_refused(
        &api.delete(&path, &op).await,
        "remove the assignments first",
    );
    let (s, _) = api
        .delete(&format!("{assignments}/{}", newco.sid), &op)
        .await;
    assert_eq!(s, 204);
    let (s, _) = api.delete(&path, &op).await;
    assert_eq!(s, 204);
    let identity = signed_invite(&h, ip, "2155550101", "2155550102", "si-deleted").await;
    verified(&identity, &h.leaf_public_key);
    assert!((h.http_get(&format!("/certs/identities/{si}.pem")).await).starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn identities_are_the_operators_alone() {
    let (h, api) = hub().await;
    let op = Creds::operator();
    let pki = provider(&h, "5678", "newco.pem");
    let newco = api.account(&op, "Newco").await;
    let chain = pki.chain_pem();
    let form = [
        ("CertificateChain", chain.as_str()),
        ("PrivateKey", "newco.pem"),
    ];
    let (s, body) = api.post("/v1/SigningIdentities", &newco, &form).await;
    assert_eq!((s, body["code"].as_u64()), (403, Some(20403)), "{body}");
    let (s, _) = api.get("/v1/SigningIdentities", &newco, &[]).await;
    assert_eq!(s, 403);

    let si = sid_of(&api.ok("/v1/SigningIdentities", &op, &form).await);
    let trunk = api.trunk_at(&newco, "127.0.0.8").await;
    let assignments = format!("/v1/SigningIdentities/{si}/Assignments");
    for (status, path) in [
        (
            api.get(&format!("/v1/SigningIdentities/{si}"), &newco, &[])
                .await
                .0,
            "fetch",
        ),
        (
            api.post(&assignments, &newco, &[("Sid", &trunk)]).await.0,
            "assign",
        ),
        (
            api.delete(&format!("/v1/SigningIdentities/{si}"), &newco)
                .await
                .0,
            "delete",
        ),
    ] {
        assert_eq!(status, 403, "{path}");
    }
    // The account's trunk still has no identity.
    let (_, list) = api.get(&assignments, &op, &[]).await;
    assert!(sids(&list, "assignments").is_empty(), "{list}");
}

#[tokio::test]
async fn bad_identities_are_refused_with_the_rule_and_nothing_is_stored() {
    let (h, api) = hub().await;
    let op = Creds::operator();
    let pki = provider(&h, "5678", "newco.pem");
    let other = provider(&h, "9999", "other.pem");
    let expired = callsign::certs::dev::generate("5678", now_unix() - 5 * 365 * 86_400).unwrap();
    std::fs::write(
        identity_key_dir(h.dir.path()).join("expired.pem"),
        &expired.leaf_key_pem,
    )
    .unwrap();
    std::fs::write(h.dir.path().join("outside.pem"), &pki.leaf_key_pem).unwrap();
    let chain = pki.chain_pem();
    let expired_chain = expired.chain_pem();
    let broken = format!("{}{}", pki.leaf_pem, other.intermediate_pem);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("PrivateKey", "newco.pem")],
            "CertificateChain: required",
        ),
        (vec![("CertificateChain", &chain)], "PrivateKey: required"),
        (
            vec![("CertificateChain", &chain), ("PrivateKey", "other.pem")],
            "does not match",
        ),
        (
            vec![
                ("CertificateChain", &expired_chain),
                ("PrivateKey", "expired.pem"),
            ],
            "expired",
        ),
        (
            vec![("CertificateChain", &broken), ("PrivateKey", "newco.pem")],
            "chain-signature",
        ),
        (
            vec![("CertificateChain", "junk"), ("PrivateKey", "newco.pem")],
            "CertificateChain",
        ),
        (
            vec![
                ("CertificateChain", &chain),
                ("PrivateKey", "../outside.pem"),
            ],
            "not a file inside",
        ),
        (
            vec![("CertificateChain", &chain), ("PrivateKey", "/etc/passwd")],
            "not a file inside",
        ),
        (
            vec![
                ("CertificateChain", &chain),
                (
                    "PrivateKey",
                    "pkcs11:object=k?module-path=/tmp/evil.so&pin-value=1",
                ),
            ],
            "not one of the PKCS#11 modules",
        ),
        (
            vec![
                ("CertificateChain", &chain),
                ("PrivateKey", "https://keys.example/k.pem"),
            ],
            "PrivateKey",
        ),
        (
            vec![
                ("CertificateChain", &chain),
                ("PrivateKey", "newco.pem"),
                ("X5u", "file:///etc/chain.pem"),
            ],
            "X5u",
        ),
    ];
    for (form, why) in &cases {
        assert_refused(&api.post("/v1/SigningIdentities", &op, form).await, why);
    }
    let huge = "A".repeat(70_000);
    let form = [
        ("CertificateChain", huge.as_str()),
        ("PrivateKey", "newco.pem"),
    ];
    let refused = api.post("/v1/SigningIdentities", &op, &form).await;
    assert!(refused.0 == 400 || refused.0 == 413, "{refused:?}");
    let (_, list) = api.get("/v1/SigningIdentities", &op, &[]).await;
    assert!(sids(&list, "signing_identities").is_empty(), "{list}");

    // Assignments: unknown targets, other kinds of SID, and a second identity for one
    // trunk are refused.
    let form = [
        ("CertificateChain", chain.as_str()),
        ("PrivateKey", "newco.pem"),
    ];
    let si = sid_of(&api.ok("/v1/SigningIdentities", &op, &form).await);
    let second = sid_of(&api.ok("/v1/SigningIdentities", &op, &form).await);
    let newco = api.account(&op, "Newco").await;
    let trunk = api.trunk_at(&newco, "127.0.0.9").await;
    let assignments = format!("/v1/SigningIdentities/{si}/Assignments");
    for target in [
        "TK00000000000000000000000000000099",
        "AC00000000000000000000000000000099",
        "AL00000000000000000000000000000001",
        "nonsense",
    ] {
        assert_refused(
            &api.post(&assignments, &op, &[("Sid", target)]).await,
            "Sid",
        );
    }
    api.ok(&assignments, &op, &[("Sid", &trunk)]).await;
    let again = format!("/v1/SigningIdentities/{second}/Assignments");
    assert_refused(
        &api.post(&again, &op, &[("Sid", &trunk)]).await,
        "already signed for",
    );
    // Changing the key to one that does not match keeps the old one.
    let path = format!("/v1/SigningIdentities/{si}");
    assert_refused(
        &api.post(&path, &op, &[("PrivateKey", "other.pem")]).await,
        "does not match",
    );
    let (_, fetched) = api.get(&path, &op, &[]).await;
    assert_eq!(fetched["private_key"], "newco.pem");
    // Deleting the trunk takes its assignment with it.
    let (s, _) = api.delete(&format!("/v1/Trunks/{trunk}"), &newco).await;
    assert_eq!(s, 204);
    let (_, list) = api.get(&assignments, &op, &[]).await;
    assert!(sids(&list, "assignments").is_empty(), "{list}");
}

#[tokio::test]
async fn a_stored_identity_that_cannot_sign_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let pki = callsign::certs::dev::generate("5678", now_unix()).unwrap();
    let other = callsign::certs::dev::generate("9999", now_unix()).unwrap();
    let keys = identity_key_dir(dir.path());
    std::fs::write(keys.join("newco.pem"), &other.leaf_key_pem).unwrap();
    let seed = serde_json::json!({
        "trunking": {"signing_identities": [{
            "sid": "SI00000000000000000000000000000001",
            "certificate_chain": pki.chain_pem(),
            "private_key": "newco.pem",
        }]}
    });
    let result = TestServer::new()
        .store(seed.to_string())
        .try_start(dir.path())
        .await;
    match result {
        Err(e @ ServeError::Identity { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("SI00000000000000000000000000000001"),
                "{message}"
            );
            assert!(message.contains("does not match"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
