//! A signing identity whose key lives in an HSM (SoftHSM2 through PKCS#11): the key is
//! generated inside the token and never leaves it, the operator adds the identity with a
//! `pkcs11:` URI, and the calls it signs pass `callsign verify` and `secsipidx -check`.
//!
//! Needs SoftHSM2 (Debian package `softhsm2`) and secsipidx, so it is ignored by plain
//! `cargo test`; `scripts/test.sh` installs both and runs it.

mod common;

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use common::api::*;
use common::binary::{callsign, secsipidx_check, text};
use common::pki_server::PkiServer;
use common::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "callsign";
const PIN: &str = "118033";
const SO_PIN: &str = "22058091";
/// DER of the prime256v1 OID, as CKA_EC_PARAMS takes it.
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Makes a token in a fresh SoftHSM2 store under `dir` and a P-256 key pair inside it
/// (private key `newco`, not extractable). Returns the library and the public point.
fn token_with_key(dir: &Path) -> (Pkcs11, Vec<u8>) {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    // SAFETY: set before the test starts any thread, and read only by the library.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
    let pkcs11 = Pkcs11::new(MODULE).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let so_pin = AuthPin::new(SO_PIN.into());
    let pin = AuthPin::new(PIN.into());
    pkcs11.init_token(slot, &so_pin, TOKEN).unwrap();
    let slot = (pkcs11
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter())
    .find(|s| pkcs11.get_token_info(*s).unwrap().label() == TOKEN)
    .unwrap();
    let session = pkcs11.open_rw_session(slot).unwrap();
    session.login(UserType::So, Some(&so_pin)).unwrap();
    session.init_pin(&pin).unwrap();
    session.logout().unwrap();
    session.login(UserType::User, Some(&pin)).unwrap();
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::EcParams(P256.to_vec()),
                Attribute::Verify(true),
                Attribute::Label(b"newco".to_vec()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Label(b"newco".to_vec()),
                Attribute::Id(vec![1]),
            ],
        )
        .unwrap();
    // The private key cannot be read out of the token.
    let value = session.get_attributes(private, &[AttributeType::Value]);
    assert!(
        !matches!(value.as_deref(), Ok([Attribute::Value(_)])),
        "{value:?}"
    );
    let point = match session
        .get_attributes(public, &[AttributeType::EcPoint])
        .unwrap()
        .as_slice()
    {
        // A DER OCTET STRING around the uncompressed point.
        [Attribute::EcPoint(der)] => der[2..].to_vec(),
        other => panic!("{other:?}"),
    };
    session.logout().unwrap();
    (pkcs11, point)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs SoftHSM2 (Debian package softhsm2) and secsipidx; run by scripts/test.sh"]
async fn a_key_inside_the_token_signs_calls_that_verify() {
    let dir = tempfile::tempdir().unwrap();
    // Kept to the end: the library stays loaded and initialized.
    let (_pkcs11, point) = token_with_key(dir.path());
    let pki_server = PkiServer::start(now_unix());
    let leaf =
        callsign::certs::dev::issue_leaf(&pki_server.pki, "5678", &point, now_unix()).unwrap();
    let chain = format!("{leaf}{}", pki_server.pki.intermediate_pem);
    pki_server.put("/hsm.pem", chain.clone().into_bytes());
    let x5u = pki_server.url("/hsm.pem");

    let (h, api) = hub_on(TestServer::new().pkcs11_module(Path::new(MODULE))).await;
    let op = Creds::operator();
    let uri = format!("pkcs11:token={TOKEN};object=newco;type=private?module-path={MODULE}");
    let wrong_pin = format!("{uri}&pin-value=000000");
    let form = |key: &str| {
        vec![
            ("CertificateChain".to_owned(), chain.clone()),
            ("PrivateKey".to_owned(), key.to_owned()),
            ("X5u".to_owned(), x5u.clone()),
        ]
    };
    let post = |key: &str| {
        let f = form(key);
        let api = &api;
        let op = &op;
        async move {
            let pairs: Vec<(&str, &str)> =
                f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            api.post("/v1/SigningIdentities", op, &pairs).await
        }
    };
    assert_refused(&post(&wrong_pin).await, "PrivateKey");
    // The PIN from a file, which the API never shows.
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let with_pin = format!("{uri}&pin-source={}", pin_file.display());
    let (status, created) = post(&with_pin).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["spc"], "5678");
    assert_eq!(created["x5u"], x5u.as_str());
    let si = created["sid"].as_str().unwrap().to_owned();
    // With the PIN in the URI, the response leaves it out.
    let inline = format!("{uri}&pin-value={PIN}");
    let (status, second) = post(&inline).await;
    assert_eq!(status, 201, "{second}");
    assert!(!second.to_string().contains(PIN), "{second}");

    let newco = api.account(&op, "Newco").await;
    let ip = "127.0.0.11";
    let trunk = api.trunk_at(&newco, ip).await;
    let assignments = format!("/v1/SigningIdentities/{si}/Assignments");
    api.ok(&assignments, &op, &[("Sid", &trunk)]).await;

    for n in 0..3 {
        let identity = signed_invite(&h, ip, "2155550121", "2155550131", &format!("hsm-{n}")).await;
        assert!(identity.contains(&format!(";info=<{x5u}>")), "{identity}");
        let root = dir.path().join("root.pem");
        std::fs::write(&root, &pki_server.pki.root_pem).unwrap();
        let signers = dir.path().join("sti-pa-crl.pem");
        std::fs::write(&signers, &pki_server.pki.crl_signer_pem).unwrap();
        let o = callsign(&[
            "verify",
            "--identity",
            &identity,
            "--trust-anchors",
            root.to_str().unwrap(),
            "--crl-signers",
            signers.to_str().unwrap(),
            "--crl",
            "require",
            "--allow-http",
            "--allow-loopback",
            "--orig",
            "2155550121",
            "--dest",
            "2155550131",
            "--json",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            json["results"][0]["reports"][0]["verstat"], "TN-Validation-Passed",
            "{json}"
        );

        let leaf_file = dir.path().join("leaf.pem");
        std::fs::write(&leaf_file, &leaf).unwrap();
        let intermediate = dir.path().join("intermediate.pem");
        std::fs::write(&intermediate, &pki_server.pki.intermediate_pem).unwrap();
        let o = secsipidx_check(
            &identity,
            leaf_file.to_str().unwrap(),
            root.to_str().unwrap(),
            intermediate.to_str().unwrap(),
        );
        assert!(o.status.success(), "{}", text(&o));
    }
}
