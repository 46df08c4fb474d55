use std::sync::OnceLock;

use super::*;
use crate::certs::dev::tests::{NOW, pki};
use crate::certs::{DevPki, dev};

const ROOT: &str = "CN=callsign dev SHAKEN root, O=callsign dev, C=US";
const INTERMEDIATE: &str = "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US";

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
    let from_pem = check_list(format!("{a}\n{b}").as_bytes(), NOW).unwrap();
    let from_json = check_list(json(&[a, b]).as_bytes(), NOW).unwrap();
    assert_eq!(from_pem, from_json);
    assert_eq!(from_pem.len(), 2);
    assert_eq!(from_pem.subjects().next(), Some(ROOT));
    // The bundle it makes reads back to the same roots.
    assert_eq!(check_list(from_pem.pem().as_bytes(), NOW), Ok(from_pem));
    // A byte-order mark and leading blank lines are not a different format.
    let padded = format!("\u{feff}\n\n{}", json(&[a]));
    assert_eq!(check_list(padded.as_bytes(), NOW).unwrap().len(), 1);
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
            check_list(body.as_bytes(), NOW),
            Err(entry(3, intermediate.clone()))
        );
    }
    let later = NOW + 3651 * 86_400;
    let expired = check_list(root.as_bytes(), later).unwrap_err();
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
        assert_eq!(check_list(body.as_bytes(), NOW), Err(want), "{body:?}");
    }
    assert!(matches!(
        check_list(b"{\"trustList\": \"not an array\"}", NOW),
        Err(TrustListError::Json(_))
    ));
    assert!(matches!(
        check_list(b"{\"crts\": []}", NOW),
        Err(TrustListError::Json(m)) if m.contains("trustList")
    ));
    assert_eq!(
        check_list(&[0xff, 0xfe, 0], NOW),
        Err(TrustListError::NotText)
    );
    let huge = format!("{root}{}", " ".repeat(MAX_BYTES));
    assert_eq!(
        check_list(huge.as_bytes(), NOW),
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
