use std::sync::OnceLock;

use super::*;
use crate::certs::dev::tests::{NOW, pki};
use crate::certs::{DevPki, dev};

const ROOT: &str = "CN=callsign dev SHAKEN root, O=callsign dev, C=US";
const INTERMEDIATE: &str = "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US";

/// `check_list` with no list signers: the unsigned forms.
fn check(body: &[u8], now: i64) -> Result<RootList, TrustListError> {
    check_list(body, &ListSigners::default(), now)
}

/// A second PKI, whose root is another CA.
fn other() -> &'static DevPki {
    static OTHER: OnceLock<DevPki> = OnceLock::new();
    OTHER.get_or_init(|| dev::generate("5678", NOW).expect("dev PKI"))
}

/// The JSON form of the STI-PA's list with these PEM entries.
fn json(entries: &[&str]) -> String {
    serde_json::json!({"version": 1, "sequence": 7, "exp": NOW + 86_400, "trustList": entries})
        .to_string()
}

#[test]
fn a_pem_bundle_and_the_json_list_give_the_same_roots() {
    let (a, b) = (&pki().root_pem, &other().root_pem);
    let from_pem = check(format!("{a}\n{b}").as_bytes(), NOW).unwrap();
    let from_json = check(json(&[a, b]).as_bytes(), NOW).unwrap();
    assert_eq!(from_pem, from_json);
    assert_eq!(from_pem.len(), 2);
    assert_eq!(from_pem.subjects().next(), Some(ROOT));
    // The bundle it makes reads back to the same roots.
    assert_eq!(check(from_pem.pem().as_bytes(), NOW), Ok(from_pem));
    // A byte-order mark and leading blank lines are not a different format.
    let padded = format!("\u{feff}\n\n{}", json(&[a]));
    assert_eq!(check(padded.as_bytes(), NOW).unwrap().len(), 1);
}

#[test]
fn one_entry_that_is_not_a_self_signed_ca_valid_now_refuses_the_list_naming_it() {
    let pki = pki();
    let (root, other) = (&pki.root_pem, &other().root_pem);
    let entry = |index, problem: CertError| TrustListError::Entry {
        index,
        problem: EntryProblem::Root(problem),
    };
    let intermediate = CertError::RootNotSelfSigned {
        subject: INTERMEDIATE.into(),
        issuer: ROOT.into(),
    };
    for body in [
        format!("{root}{other}{}", pki.intermediate_pem),
        json(&[root, other, &pki.intermediate_pem]),
    ] {
        assert_eq!(
            check(body.as_bytes(), NOW),
            Err(entry(3, intermediate.clone()))
        );
    }
    let later = NOW + 3651 * 86_400;
    let expired = check(root.as_bytes(), later).unwrap_err();
    assert!(
        matches!(&expired, TrustListError::Entry { index: 1, problem: EntryProblem::Root(CertError::RootNotValid { subject, .. }) } if subject == ROOT),
        "{expired:?}"
    );
    assert!(
        expired
            .to_string()
            .starts_with("entry 1: CN=callsign dev SHAKEN root")
    );
}

#[test]
fn a_list_that_does_not_read_or_holds_nothing_is_refused() {
    let root = &pki().root_pem;
    let key = &pki().root_key_pem;
    for (body, want) in [
        (String::new(), TrustListError::Empty),
        ("  \n".into(), TrustListError::Empty),
        (json(&[]), TrustListError::Empty),
        ("hello".into(), TrustListError::UnknownFormat),
        (
            "eyJhbGciOiJFUzI1NiJ9.e30.c2ln".into(),
            TrustListError::SignedJwt,
        ),
        (
            format!("{root}{key}"),
            TrustListError::Entry {
                index: 2,
                problem: EntryProblem::NotACertificate("PRIVATE KEY".into()),
            },
        ),
        (
            json(&[&format!("{root}{root}")]),
            TrustListError::Entry {
                index: 1,
                problem: EntryProblem::Count(2),
            },
        ),
        (
            json(&["MIIB..."]),
            TrustListError::Entry {
                index: 1,
                problem: EntryProblem::Count(0),
            },
        ),
    ] {
        assert_eq!(check(body.as_bytes(), NOW), Err(want), "{body:?}");
    }
    assert!(matches!(
        check(b"{\"trustList\": \"not an array\"}", NOW),
        Err(TrustListError::Json(_))
    ));
    assert!(matches!(
        check(b"{\"crts\": []}", NOW),
        Err(TrustListError::Json(m)) if m.contains("trustList")
    ));
    assert_eq!(check(&[0xff, 0xfe, 0], NOW), Err(TrustListError::NotText));
    let huge = format!("{root}{}", " ".repeat(MAX_BYTES));
    assert_eq!(
        check(huge.as_bytes(), NOW),
        Err(TrustListError::TooLarge(MAX_BYTES))
    );
}

#[test]
fn a_value_with_a_scheme_is_a_url_and_anything_else_a_file() {
    assert_eq!(
        TrustListSource::parse("https://lists.example.net/l.json"),
        TrustListSource::Url("https://lists.example.net/l.json".into())
    );
    assert_eq!(
        TrustListSource::parse("/etc/callsign/sti-ca.pem"),
        TrustListSource::File("/etc/callsign/sti-ca.pem".into())
    );
}

fn file_list(dir: &Path, cache: Option<PathBuf>) -> (TrustList, PathBuf) {
    let path = dir.join("list.pem");
    let list = TrustList::new(TrustListSettings {
        source: TrustListSource::File(path.clone()),
        every_secs: 3600,
        cache,
        fetch: FetchPolicy::default(),
        signers: ListSigners::default(),
    })
    .unwrap();
    (list, path)
}

/// The schedule on chosen times: due at first, then `every_secs` after a success and
/// [`RETRY_SECS`] after a failure; a refresh that is not due does not read the file.
#[tokio::test]
async fn the_list_is_due_every_period_after_a_success_and_a_minute_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (list, path) = file_list(dir.path(), None);
    std::fs::write(&path, &pki().root_pem).unwrap();
    assert!(list.due(NOW));
    assert_eq!(list.refresh(NOW).await.unwrap().unwrap().len(), 1);

    // Two roots now, but not due: the file is not read.
    std::fs::write(&path, format!("{}{}", pki().root_pem, other().root_pem)).unwrap();
    assert!(list.refresh(NOW + 3599).await.is_none());
    assert_eq!(list.refresh(NOW + 3600).await.unwrap().unwrap().len(), 2);

    // A broken file at the next period; tried again a minute later, not an hour.
    std::fs::write(&path, "broken").unwrap();
    let at = NOW + 7200;
    assert_eq!(
        list.refresh(at).await,
        Some(Err(TrustListError::UnknownFormat))
    );
    assert!(list.refresh(at + RETRY_SECS - 1).await.is_none());
    std::fs::remove_file(&path).unwrap();
    let missing = list.refresh(at + RETRY_SECS).await.unwrap().unwrap_err();
    assert!(
        matches!(missing, TrustListError::Read { .. }),
        "{missing:?}"
    );

    // A forced fetch (SIGHUP) reads it whatever the schedule.
    std::fs::write(&path, &pki().root_pem).unwrap();
    assert!(!list.due(at + RETRY_SECS + 1));
    assert_eq!(list.fetch(at + RETRY_SECS + 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_good_list_is_kept_on_disk_and_read_back_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache/sti-ca.pem");
    let (list, path) = file_list(dir.path(), Some(cache.clone()));
    assert_eq!(list.cached(NOW).await, None, "no copy yet");

    std::fs::write(&path, json(&[&pki().root_pem, &other().root_pem])).unwrap();
    let fetched = list.fetch(NOW).await.unwrap();
    let (cached, written) = list.cached(NOW).await.unwrap().unwrap();
    assert_eq!(cached, fetched);
    assert!(written > NOW, "the file's time: {written}");
    // A refused list does not replace the copy.
    std::fs::write(&path, &pki().intermediate_pem).unwrap();
    assert!(list.fetch(NOW + 3600).await.is_err());
    assert_eq!(list.cached(NOW).await.unwrap().unwrap().0, fetched);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(cache.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["sti-ca.pem"]);
    // Read back later, its roots are checked again: expired, the copy is refused.
    let later = NOW + 3651 * 86_400;
    assert!(matches!(
        list.cached(later).await,
        Some(Err(TrustListError::Entry { index: 1, .. }))
    ));
}

/// A compact JWS over `header` and `payload` (JSON text), signed ES256 with the PKCS#8
/// key `key_pem`.
fn jws(key_pem: &str, header: &str, payload: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let key = crate::certs::SigningKey::from_pem(key_pem).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), &rng).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = pair.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// The STI-PA signs its list (`sticaList.jwt`): taken only when a configured signer
/// signed it ES256, that signer is valid, and the list has not expired.
#[test]
fn a_signed_list_is_taken_only_from_a_trusted_signer_before_its_exp() {
    let (pki, other) = (pki(), other());
    // The dev CRL signer stands in for the STI-PA's "STI-PA CA List" certificate.
    let signers = ListSigners::from_pem(&pki.crl_signer_pem).unwrap();
    let header = r#"{"alg":"ES256","typ":"JWT","x5u":"https://sti-pa.example/list.crt"}"#;
    let payload = json(&[&pki.root_pem, &other.root_pem]);
    let signed = jws(&pki.crl_signer_key_pem, header, &payload);
    let roots = check_list(signed.as_bytes(), &signers, NOW).unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!(roots.subjects().next(), Some(ROOT));

    // Without signers configured, a signed list is refused with what to configure.
    assert_eq!(
        check(signed.as_bytes(), NOW),
        Err(TrustListError::SignedJwt)
    );
    // Signed by someone else (a key of the same name in another PKI).
    let forged = jws(&other.crl_signer_key_pem, header, &payload);
    assert_eq!(
        check_list(forged.as_bytes(), &signers, NOW),
        Err(TrustListError::Jwt(JwtProblem::BadSignature))
    );
    // The payload changed after signing.
    let mut parts: Vec<&str> = signed.split('.').collect();
    let other_payload = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json(&[&other.root_pem]))
    };
    parts[1] = &other_payload;
    assert_eq!(
        check_list(parts.join(".").as_bytes(), &signers, NOW),
        Err(TrustListError::Jwt(JwtProblem::BadSignature))
    );
    // Another algorithm named in the header.
    let hs = jws(&pki.crl_signer_key_pem, r#"{"alg":"HS256"}"#, &payload);
    assert_eq!(
        check_list(hs.as_bytes(), &signers, NOW),
        Err(TrustListError::Jwt(JwtProblem::Alg("HS256".into())))
    );
    // An expired list (its exp passed) is not taken.
    let stale = serde_json::json!({"exp": NOW - 1, "trustList": [&pki.root_pem]}).to_string();
    let stale = jws(&pki.crl_signer_key_pem, header, &stale);
    assert_eq!(
        check_list(stale.as_bytes(), &signers, NOW),
        Err(TrustListError::Jwt(JwtProblem::Expired(NOW - 1)))
    );
    // A signer past its notAfter signs nothing.
    let after = crate::certs::cert_facts(&pki.crl_signer_der)
        .unwrap()
        .0
        .not_after
        + 1;
    let late = serde_json::json!({"trustList": [&pki.root_pem]}).to_string();
    let late = jws(&pki.crl_signer_key_pem, header, &late);
    assert!(matches!(
        check_list(late.as_bytes(), &signers, after),
        Err(TrustListError::Jwt(JwtProblem::SignerNotValid(_)))
    ));
    // Broken JWS shapes are malformed, never a panic.
    for bad in [
        "eyJ",
        "eyJ.a",
        "eyJ.a.b.c",
        "eyJhbGciOiJFUzI1NiJ9.%%%.AAAA",
        "eyJ!.e30.AA",
    ] {
        assert_eq!(
            check_list(bad.as_bytes(), &signers, NOW),
            Err(TrustListError::Jwt(JwtProblem::Malformed)),
            "{bad:?}"
        );
    }
}
