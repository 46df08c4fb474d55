//! The STI-PA's trust list (`[verify] trust_list`) served by a real HTTP server on
//! 127.0.0.1:0: a CA the list adds is trusted and one it drops is not, without a
//! restart; a list that cannot be had or is refused keeps the roots in force and is
//! counted; the list is fetched when due on chosen times, not before; its copy on disk
//! starts a verifier without the network; and a verifying server runs from the list
//! alone and follows it on SIGHUP.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use callsign::certs::{CertError, dev};
use callsign::daemon::ServeError;
use callsign::daemon::anchors::{Anchors, initial};
use callsign::metrics::{CauseLabels, Metrics};
use callsign::proxy::OnFailure;
use callsign::sip::{HeaderName, Message};
use callsign::verify::{
    EntryProblem, FetchError, FetchPolicy, TRUST_LIST_MAX_BYTES, TRUST_LIST_RETRY_SECS, TrustList,
    TrustListError, TrustListSettings, TrustListSource, Verifier,
};
use common::pki_server::{PkiServer, expected, local_settings, silent_server};
use common::*;

/// Where the test servers publish the list.
const LIST: &str = "/sti-ca-list.json";
const HOUR: i64 = 3600;

/// The JSON form of the STI-PA's list (its `sticaList.jwt` payload) with these roots.
fn json_list(roots: &[&str]) -> Vec<u8> {
    let exp = now_unix() + 86_400;
    serde_json::json!({"version": "1.0", "sequence": 7, "exp": exp, "trustList": roots})
        .to_string()
        .into_bytes()
}

fn list_at(url: &str, cache: Option<PathBuf>) -> TrustList {
    TrustList::new(TrustListSettings {
        source: TrustListSource::Url(url.to_owned()),
        every_secs: HOUR,
        cache,
        fetch: FetchPolicy {
            allow_http: true,
            allow_loopback: true,
            timeout: Duration::from_millis(300),
            ..FetchPolicy::default()
        },
        signers: callsign::verify::ListSigners::default(),
    })
    .unwrap()
}

/// Two STI-CAs, each with its PKI on its own server; `a` also publishes the list.
struct Cas {
    a: PkiServer,
    b: PkiServer,
    now: i64,
}

impl Cas {
    fn new() -> Cas {
        let now = now_unix();
        Cas {
            a: PkiServer::start(now),
            b: PkiServer::start(now),
            now,
        }
    }

    fn url(&self) -> String {
        self.a.url(LIST)
    }

    fn publish(&self, body: Vec<u8>) {
        self.a.put(LIST, body);
    }

    /// A verifier whose roots are those of `file` and of the list at `url`, set up as
    /// `callsign serve` sets it up at `now`.
    async fn anchored(
        &self,
        file: Option<&Path>,
        url: &str,
        cache: Option<PathBuf>,
    ) -> Result<(Verifier, Anchors, Arc<Metrics>), ServeError> {
        let metrics = Arc::new(Metrics::new());
        let list = list_at(url, cache);
        let held = initial(file, Some(&list), &metrics, self.now).await?;
        let mut settings = local_settings(&self.a);
        // One STI-PA in real life; here each PKI has its own CRL signer of that name.
        let (a, b) = (&self.a.pki, &self.b.pki);
        settings.crl_signers_pem = format!("{}{}", a.crl_signer_pem, b.crl_signer_pem);
        settings.trust_anchors_pem = held.pem();
        let verifier = Verifier::new(settings).unwrap();
        let file = file.map(Path::to_owned);
        let anchors = Anchors::new(
            verifier.clone(),
            file,
            Some(list),
            held,
            Arc::clone(&metrics),
        );
        Ok((verifier, anchors, metrics))
    }

    /// Whether a call signed under `ca` verifies now.
    async fn trusted(&self, verifier: &Verifier, ca: &PkiServer) -> bool {
        let call = ca.identity("/chain.pem", self.now);
        let report = verifier.verify(&call, &expected(), self.now).await;
        if !report.passed() {
            assert_eq!(report.code, Some(437), "{report}");
        }
        report.passed()
    }
}

fn updates(metrics: &Metrics, cause: &'static str) -> u64 {
    (metrics.trust_list_updates)
        .get_or_create(&CauseLabels { cause })
        .get()
}

#[tokio::test]
async fn a_ca_the_list_adds_is_trusted_and_one_it_drops_is_not_without_restart() {
    let cas = Cas::new();
    let (a, b) = (&cas.a.pki.root_pem, &cas.b.pki.root_pem);
    cas.publish(json_list(&[a]));
    let (verifier, anchors, metrics) = cas.anchored(None, &cas.url(), None).await.unwrap();
    assert!(cas.trusted(&verifier, &cas.a).await);
    assert!(!cas.trusted(&verifier, &cas.b).await);

    // B's root joins the list: trusted from the next fetch on.
    cas.publish(json_list(&[a, b]));
    assert_eq!(anchors.refresh_list(cas.now + HOUR).await, Some(Ok(2)));
    assert!(cas.trusted(&verifier, &cas.b).await);
    assert!(cas.trusted(&verifier, &cas.a).await);
    assert_eq!(metrics.trust_list_roots.get(), 2);

    // A's leaves it (the list a plain PEM bundle this time): A's calls, whose chain is
    // cached as trusted, fail from the next fetch on.
    cas.publish(b.clone().into_bytes());
    assert_eq!(anchors.refresh_list(cas.now + 2 * HOUR).await, Some(Ok(1)));
    assert!(!cas.trusted(&verifier, &cas.a).await);
    assert!(cas.trusted(&verifier, &cas.b).await);
    assert_eq!(
        (updates(&metrics, "ok"), updates(&metrics, "error")),
        (3, 0)
    );
    assert_eq!(metrics.trust_list_roots.get(), 1);
}

/// What a refused list's error must be.
type Expect = Box<dyn Fn(&TrustListError) -> bool>;

/// A self-signed certificate that is not a CA.
fn self_signed_end_entity() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    (params.distinguished_name).push(rcgen::DnType::CommonName, "Not a CA");
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.self_signed(&key).unwrap().pem()
}

#[tokio::test]
async fn a_list_that_cannot_be_had_or_is_refused_keeps_the_roots_in_force() {
    let cas = Cas::new();
    let (a, b) = (&cas.a.pki.root_pem, &cas.b.pki.root_pem);
    cas.publish(json_list(&[a, b]));
    let (verifier, anchors, metrics) = cas.anchored(None, &cas.url(), None).await.unwrap();
    let expired = dev::generate("9999", cas.now - 3651 * 86_400)
        .unwrap()
        .root_pem;
    let not_a_ca = self_signed_end_entity();
    let oversized = format!("{a}{}", "\n".repeat(TRUST_LIST_MAX_BYTES));
    let entry = |index: usize, problem: CertError| TrustListError::Entry {
        index,
        problem: EntryProblem::Root(problem),
    };
    let intermediate_b = CertError::RootNotSelfSigned {
        subject: "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US".into(),
        issuer: "CN=callsign dev SHAKEN root, O=callsign dev, C=US".into(),
    };
    let cases: Vec<(Vec<u8>, Expect)> = vec![
        (
            b"<html>maintenance</html>".to_vec(),
            Box::new(|e| *e == TrustListError::UnknownFormat),
        ),
        (
            b"{\"trustList\": [\"-----BEGIN CERT".to_vec(),
            Box::new(|e| matches!(e, TrustListError::Json(_))),
        ),
        (json_list(&[]), Box::new(|e| *e == TrustListError::Empty)),
        (Vec::new(), Box::new(|e| *e == TrustListError::Empty)),
        (
            json_list(&[a, &cas.b.pki.intermediate_pem]),
            Box::new(move |e| *e == entry(2, intermediate_b.clone())),
        ),
        (
            json_list(&[a, &not_a_ca]),
            Box::new(move |e| {
                *e == entry(
                    2,
                    CertError::RootNotACa {
                        subject: "CN=Not a CA".into(),
                    },
                )
            }),
        ),
        (
            format!("{a}{}", cas.b.pki.leaf_pem).into_bytes(),
            Box::new(|e| {
                matches!(
                    e,
                    TrustListError::Entry {
                        index: 2,
                        problem: EntryProblem::Root(CertError::RootNotSelfSigned { .. })
                    }
                )
            }),
        ),
        (
            json_list(&[a, b, &expired]),
            Box::new(|e| {
                matches!(
                    e,
                    TrustListError::Entry {
                        index: 3,
                        problem: EntryProblem::Root(CertError::RootNotValid { .. })
                    }
                )
            }),
        ),
        (
            oversized.into_bytes(),
            Box::new(|e| *e == TrustListError::TooLarge(TRUST_LIST_MAX_BYTES)),
        ),
    ];
    let mut at = cas.now;
    let mut errors = 0;
    for (body, expected) in cases {
        at += HOUR;
        cas.publish(body);
        let got = anchors.refresh_list(at).await.expect("due");
        let e = got.expect_err("refused");
        assert!(expected(&e), "{e:?}");
        errors += 1;
        assert_eq!(updates(&metrics, "error"), errors, "{e}");
        assert!(cas.trusted(&verifier, &cas.a).await, "{e}");
        assert!(cas.trusted(&verifier, &cas.b).await, "{e}");
        assert_eq!(metrics.trust_list_roots.get(), 2);
    }

    // The URL answers 404, or never answers: the same.
    at += HOUR;
    (cas.a).put_status(LIST, StatusCode::NOT_FOUND, Vec::new());
    assert_eq!(
        anchors.refresh_list(at).await,
        Some(Err(TrustListError::Fetch(FetchError::Status(404))))
    );
    let silent = silent_server();
    let silent_url = format!("http://{}{LIST}", silent.local_addr().unwrap());
    cas.publish(json_list(&[a, b]));
    let (verifier, anchors, metrics) = cas.anchored(None, &cas.url(), None).await.unwrap();
    let hung = Anchors::new(
        verifier.clone(),
        None,
        Some(list_at(&silent_url, None)),
        anchors.held(),
        Arc::clone(&metrics),
    );
    assert_eq!(
        hung.reload_list(cas.now).await,
        Some(Err(TrustListError::Fetch(FetchError::Timeout(300))))
    );
    assert_eq!(updates(&metrics, "error"), 1);
    assert!(cas.trusted(&verifier, &cas.a).await);
    assert!(cas.trusted(&verifier, &cas.b).await);
}

/// On chosen times: fetched at start, again once `trust_list_refresh_secs` have passed
/// and not before, a minute after a failure, and on SIGHUP whatever the schedule.
#[tokio::test]
async fn the_list_is_fetched_when_due_and_not_before() {
    let cas = Cas::new();
    let (a, b) = (&cas.a.pki.root_pem, &cas.b.pki.root_pem);
    cas.publish(json_list(&[a]));
    let (verifier, anchors, _) = cas.anchored(None, &cas.url(), None).await.unwrap();
    let fetches = || cas.a.hits(LIST);
    assert_eq!(fetches(), 1, "at start");

    cas.publish(json_list(&[a, b]));
    assert_eq!(anchors.refresh_list(cas.now + HOUR - 1).await, None);
    assert_eq!(fetches(), 1, "not due: not fetched");
    assert!(!cas.trusted(&verifier, &cas.b).await);
    assert_eq!(anchors.refresh_list(cas.now + HOUR).await, Some(Ok(2)));
    assert_eq!(fetches(), 2);
    assert!(cas.trusted(&verifier, &cas.b).await);

    // A failure is tried again a minute later, not an hour.
    let failed_at = cas.now + 2 * HOUR;
    (cas.a).put_status(LIST, StatusCode::SERVICE_UNAVAILABLE, Vec::new());
    assert!(matches!(
        anchors.refresh_list(failed_at).await,
        Some(Err(TrustListError::Fetch(FetchError::Status(503))))
    ));
    let retry = failed_at + TRUST_LIST_RETRY_SECS;
    assert_eq!(anchors.refresh_list(retry - 1).await, None);
    assert_eq!(fetches(), 3);
    cas.publish(json_list(&[b]));
    assert_eq!(anchors.refresh_list(retry).await, Some(Ok(1)));
    assert_eq!(fetches(), 4);

    // SIGHUP: fetched at once, though not due.
    cas.publish(json_list(&[a, b]));
    assert_eq!(anchors.refresh_list(retry + 1).await, None);
    assert_eq!(anchors.reload_list(retry + 1).await, Some(Ok(2)));
    assert_eq!(fetches(), 5);
    assert!(cas.trusted(&verifier, &cas.a).await);
}

#[tokio::test]
async fn a_start_without_the_network_uses_the_list_kept_on_disk() {
    let cas = Cas::new();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache/sti-ca-list.pem");
    let (a, b) = (&cas.a.pki.root_pem, &cas.b.pki.root_pem);
    cas.publish(json_list(&[a, b]));
    cas.anchored(None, &cas.url(), Some(cache.clone()))
        .await
        .unwrap();
    assert!(cache.exists(), "the good list is kept");

    // The URL is down at the next start: the copy on disk serves.
    (cas.a).put_status(LIST, StatusCode::BAD_GATEWAY, Vec::new());
    let (verifier, _, metrics) = cas
        .anchored(None, &cas.url(), Some(cache.clone()))
        .await
        .unwrap();
    assert!(cas.trusted(&verifier, &cas.b).await);
    assert!(cas.trusted(&verifier, &cas.a).await);
    assert_eq!(metrics.trust_list_roots.get(), 2);
    assert_eq!(updates(&metrics, "error"), 1);

    // With the PEM file beside the list and no copy: the file's roots alone.
    let file = dir.path().join("roots.pem");
    std::fs::write(&file, a).unwrap();
    let (verifier, _, metrics) = cas.anchored(Some(&file), &cas.url(), None).await.unwrap();
    assert!(cas.trusted(&verifier, &cas.a).await);
    assert!(!cas.trusted(&verifier, &cas.b).await);
    assert_eq!(metrics.trust_list_roots.get(), 0);

    // Neither a file nor a copy: no roots at all, so no start.
    let refused = cas.anchored(None, &cas.url(), None).await.err().unwrap();
    let ServeError::NoTrustList { error, .. } = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(**error, TrustListError::Fetch(FetchError::Status(502)));
    assert!(
        refused.to_string().contains("trust_list_cache"),
        "{refused}"
    );
}

fn calling_party(msg: &str) -> String {
    let m = Message::parse(msg.as_bytes()).unwrap();
    m.header(HeaderName::PAssertedIdentity)
        .or(m.header(HeaderName::From))
        .unwrap()
        .to_string()
}

/// A call from the signing server `signer`, as the verifying server marks it.
async fn verstat_of(signer: &Harness, verifier: &Harness, id: &str) -> String {
    let uac = uac("127.0.0.1").await;
    let inv = call(uac.local_addr().unwrap(), "UDP", id);
    uac.send_to(inv.as_bytes(), signer.udp).await.unwrap();
    let (got, _) = recv_from(verifier.uas_udp()).await;
    calling_party(&got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifying_server_runs_from_the_list_alone_and_follows_it_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let pki = shared_pki(dir.path());
    let lists = PkiServer::start(now_unix());
    let own_root = std::fs::read_to_string(pki.join("root.pem")).unwrap();
    let other_root = dev::generate("5678", now_unix()).unwrap().root_pem;
    lists.put(LIST, json_list(&[&own_root]));
    let url = lists.url(LIST);
    let verifier = TestServer::verifying(&pki, OnFailure::Forward)
        .verify(|v| {
            v.trust_anchors = None;
            v.trust_list = Some(url.clone());
        })
        .start()
        .await;
    let signer = TestServer::new()
        .pki(&pki)
        .upstream_at(verifier.udp)
        .served_x5u()
        .start()
        .await;
    let party = verstat_of(&signer, &verifier, "listed").await;
    assert!(party.contains(";verstat=TN-Validation-Passed@"), "{party}");
    verifier.assert_metric("callsign_trust_list_roots 1").await;

    // The STI-PA drops the CA: after SIGHUP, its calls fail.
    lists.put(LIST, json_list(&[&other_root]));
    verifier.reload().await;
    let party = verstat_of(&signer, &verifier, "dropped").await;
    assert!(party.contains(";verstat=TN-Validation-Failed@"), "{party}");
    verifier
        .assert_metric("callsign_trust_list_updates_total{cause=\"ok\"} 2")
        .await;
    assert_eq!(lists.hits(LIST), 2);

    // A list that cannot be had, with neither trust_anchors nor a copy: no start.
    let refused = TestServer::verifying(&pki, OnFailure::Forward)
        .verify(|v| {
            v.trust_anchors = None;
            v.trust_list = Some(lists.url("/nowhere.json"));
        })
        .try_start(dir.path())
        .await;
    assert!(
        matches!(refused, Err(ServeError::NoTrustList { .. })),
        "{refused:?}"
    );
}

/// The STI-PA's own form: the list as a JWT signed by its list signer
/// (`[verify] trust_list_signers`), fetched over HTTP; a forged one keeps nothing of
/// it.
#[tokio::test]
async fn a_signed_list_from_the_url_is_taken_from_its_signer_only() {
    let cas = Cas::new();
    let header = r#"{"alg":"ES256","typ":"JWT"}"#;
    let payload =
        String::from_utf8(json_list(&[&cas.a.pki.root_pem, &cas.b.pki.root_pem])).unwrap();
    let list = TrustList::new(TrustListSettings {
        source: TrustListSource::Url(cas.url()),
        every_secs: HOUR,
        cache: None,
        fetch: FetchPolicy {
            allow_http: true,
            allow_loopback: true,
            timeout: Duration::from_millis(300),
            ..FetchPolicy::default()
        },
        // The dev CRL signer stands in for the "STI-PA CA List" certificate.
        signers: callsign::verify::ListSigners::from_pem(&cas.a.pki.crl_signer_pem).unwrap(),
    })
    .unwrap();
    cas.publish(sign_jws(&cas.a.pki.crl_signer_key_pem, header, &payload).into_bytes());
    assert_eq!(list.fetch(cas.now).await.unwrap().len(), 2);

    cas.publish(sign_jws(&cas.b.pki.crl_signer_key_pem, header, &payload).into_bytes());
    assert_eq!(
        list.fetch(cas.now).await,
        Err(TrustListError::Jwt(
            callsign::verify::JwtProblem::BadSignature
        ))
    );
}

/// A compact JWS over JSON `header` and `payload`, ES256 with the PKCS#8 key `key_pem`.
fn sign_jws(key_pem: &str, header: &str, payload: &str) -> String {
    let key = callsign::certs::SigningKey::from_pem(key_pem).unwrap();
    common::pki_server::sign_jws(&key, header, payload)
}

/// The list URL is fetched under the x5u's address rules: a list on loopback (or any
/// internal address) is refused before a request is made unless the config allows it.
#[tokio::test]
async fn a_list_on_an_internal_address_is_refused_unless_allowed() {
    let cas = Cas::new();
    cas.publish(json_list(&[&cas.a.pki.root_pem]));
    let list = TrustList::new(TrustListSettings {
        source: TrustListSource::Url(cas.url()),
        every_secs: HOUR,
        cache: None,
        fetch: FetchPolicy {
            allow_http: true,
            timeout: Duration::from_millis(300),
            ..FetchPolicy::default()
        },
        signers: callsign::verify::ListSigners::default(),
    })
    .unwrap();
    let refused = list.fetch(cas.now).await;
    assert!(
        matches!(
            refused,
            Err(TrustListError::Fetch(FetchError::SpecialAddress(_)))
        ),
        "{refused:?}"
    );
    assert_eq!(cas.a.hits(LIST), 0);
    assert_eq!(
        list_at(&cas.url(), None)
            .fetch(cas.now)
            .await
            .unwrap()
            .len(),
        1
    );
}
