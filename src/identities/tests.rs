use super::*;
use crate::certs::dev::tests::{NOW, pki};
use crate::certs::{DevPki, dev};

const SI: &str = "SI00000000000000000000000000000001";

struct Setup {
    dir: tempfile::TempDir,
    identities: Identities,
    published: Arc<IdentitySigners>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let published = Arc::new(IdentitySigners::default());
    let identities = Identities::new(
        IdentitySettings {
            key_dir: Some(dir.path().join("keys")),
            pkcs11_modules: vec!["/usr/lib/softhsm/libsofthsm2.so".into()],
            x5u_base: "https://cert.example.net/identities/".into(),
        },
        Arc::clone(&published),
    );
    Setup {
        dir,
        identities,
        published,
    }
}

fn record(pki: &DevPki, key: &str) -> SigningIdentity {
    SigningIdentity {
        sid: Sid::parse(SI, "SI").unwrap(),
        friendly_name: None,
        certificate_chain: pki.chain_pem(),
        private_key: key.into(),
        x5u: None,
        date_created: None,
        date_updated: None,
    }
}

impl Setup {
    fn key(&self, name: &str, pem: &str) {
        std::fs::write(self.dir.path().join("keys").join(name), pem).unwrap();
    }
}

#[test]
fn a_matching_key_file_signs_with_its_own_x5u() {
    let s = setup();
    let pki = pki();
    s.key("acme.pem", &pki.leaf_key_pem);
    let loaded = s.identities.load(&record(pki, "acme.pem"), NOW).unwrap();
    assert_eq!(
        loaded.signer.x5u(),
        format!("https://cert.example.net/identities/{SI}.pem")
    );
    assert_eq!(loaded.check.info.spc.as_deref(), Some("1234"));
    let mut own = record(pki, "acme.pem");
    own.x5u = Some("https://sti.acme.example/cert.pem".into());
    let loaded = s.identities.load(&own, NOW).unwrap();
    assert_eq!(loaded.signer.x5u(), "https://sti.acme.example/cert.pem");
    own.x5u = Some("ftp://sti.acme.example/cert.pem".into());
    assert!(matches!(
        s.identities.load(&own, NOW),
        Err(IdentityError::X5u(_))
    ));
}

#[test]
fn a_delegate_certificate_signs_only_for_its_numbers() {
    use crate::passport::{Attest, Claims, PassportError};
    let s = setup();
    let pki = crate::certs::dev::tests::delegating_pki();
    let delegate = pki.delegate.as_ref().unwrap();
    s.key("delegate.pem", &delegate.leaf.key_pem);
    let mut own = record(pki, "delegate.pem");
    own.certificate_chain = pki.delegate_chain_pem().unwrap();
    let loaded = s.identities.load(&own, NOW).unwrap();
    assert_eq!(loaded.check.info.spc, None);
    let claims = |orig| Claims {
        attest: Attest::A,
        dest: &["12155550131"],
        iat: NOW,
        orig,
        origid: "123e4567-e89b-12d3-a456-426655440000",
    };
    assert!(loaded.signer.identity(&claims("12155550121")).is_ok());
    assert!(loaded.signer.identity(&claims("12155550399")).is_ok());
    assert_eq!(
        loaded.signer.identity(&claims("12155550400")),
        Err(PassportError::OrigNotCovered {
            orig: "12155550400".into()
        })
    );
}

#[test]
fn the_wrong_key_an_expired_leaf_or_a_broken_chain_is_refused() {
    let s = setup();
    let pki = pki();
    let other = dev::generate("5678", NOW).unwrap();
    s.key("other.pem", &other.leaf_key_pem);
    s.key("acme.pem", &pki.leaf_key_pem);
    let err = s.identities.load(&record(pki, "other.pem"), NOW);
    assert_eq!(
        err.unwrap_err(),
        IdentityError::Chain(CertError::KeyMismatch)
    );

    let late = NOW + 3 * 365 * 86_400;
    let err = s
        .identities
        .load(&record(pki, "acme.pem"), late)
        .unwrap_err();
    assert!(
        matches!(err, IdentityError::Chain(CertError::Expired { .. })),
        "{err}"
    );
    assert!(err.to_string().starts_with("CertificateChain: "));

    let mut broken = record(pki, "acme.pem");
    broken.certificate_chain = format!("{}{}", pki.leaf_pem, other.intermediate_pem);
    let err = s.identities.load(&broken, NOW).unwrap_err();
    assert!(err.to_string().contains("chain-signature"), "{err}");

    broken.certificate_chain = "not a certificate".into();
    assert!(matches!(
        s.identities.load(&broken, NOW),
        Err(IdentityError::Chain(_))
    ));
}

#[test]
fn key_files_stay_inside_the_key_directory() {
    let s = setup();
    let pki = pki();
    s.key("acme.pem", &pki.leaf_key_pem);
    std::fs::write(s.dir.path().join("outside.pem"), &pki.leaf_key_pem).unwrap();
    std::os::unix::fs::symlink(
        s.dir.path().join("outside.pem"),
        s.dir.path().join("keys/link.pem"),
    )
    .unwrap();
    let outside = s.dir.path().join("outside.pem");
    for path in [
        "../outside.pem",
        "link.pem",
        outside.to_str().unwrap(),
        "/etc/passwd",
        "missing.pem",
        ".",
    ] {
        let err = s.identities.load(&record(pki, path), NOW).unwrap_err();
        assert!(
            matches!(err, IdentityError::OutsideKeyDir(_)),
            "{path}: {err}"
        );
    }
    let absolute = s.dir.path().join("keys/acme.pem");
    assert!(
        s.identities
            .load(&record(pki, absolute.to_str().unwrap()), NOW)
            .is_ok()
    );

    let settings = IdentitySettings {
        x5u_base: "https://cert.example.net/".into(),
        ..IdentitySettings::default()
    };
    let none = Identities::new(settings, Arc::default());
    let err = none.load(&record(pki, "acme.pem"), NOW).unwrap_err();
    assert_eq!(err, IdentityError::NoKeyDir);
}

#[test]
fn only_configured_pkcs11_modules_are_loaded() {
    let s = setup();
    let pki = pki();
    let err = s
        .identities
        .load(
            &record(
                pki,
                "pkcs11:object=acme?module-path=/tmp/evil.so&pin-value=1",
            ),
            NOW,
        )
        .unwrap_err();
    assert_eq!(err, IdentityError::ModuleNotAllowed("/tmp/evil.so".into()));
}

#[test]
fn sync_loads_new_keeps_unchanged_and_keeps_the_last_good_signer() {
    let s = setup();
    let pki = pki();
    s.key("acme.pem", &pki.leaf_key_pem);
    let good = record(pki, "acme.pem");
    assert!(
        s.identities
            .sync(std::slice::from_ref(&good), NOW)
            .is_empty()
    );
    let sid = good.sid;
    let first = s.published.load().get(&sid).cloned().unwrap();
    assert!(
        s.identities
            .sync(std::slice::from_ref(&good), NOW)
            .is_empty()
    );
    assert!(Arc::ptr_eq(&first, &s.published.load()[&sid]));

    let mut bad = good.clone();
    bad.private_key = "gone.pem".into();
    let failed = s.identities.sync(std::slice::from_ref(&bad), NOW);
    assert_eq!(failed.len(), 1);
    assert!(Arc::ptr_eq(&first, &s.published.load()[&sid]));

    assert!(s.identities.sync(&[], NOW).is_empty());
    assert!(s.published.load().is_empty());
    assert!(s.identities.get(sid).is_none());
}
