//! Delegate certificates (RFC 9060, ATIS-1000092) through the verification service, end
//! to end against a dev PKI served on 127.0.0.1:0: a leaf holding telephone numbers and
//! ranges instead of an SPC passes when it chains through an STI-SCA (a CA under the
//! STI-CA whose TNAuthList holds the SPC) to a trusted root and the PASSporT's `orig` is
//! one of its numbers. Anything else fails step 5 (or the chain) with ATIS-1000082 E17:
//! 437 Unsupported Credential, `TN-Validation-Failed`.

mod common;

use callsign::certs::dev::{self, IssuedCert};
use callsign::certs::{TnAuthEntry, tnauthlist};
use callsign::verify::{Expected, Outcome, Report, Step, Verstat};
use common::now_unix;
use common::pki_server::{
    CRL_PATH, DELEGATE_CHAIN_PATH, DEST, ORIG, PkiServer, identity_from, local_verifier as verifier,
};

const SPC: &str = "1234";

fn expected(orig: &str) -> Expected {
    Expected {
        orig: Some(orig.into()),
        dest: vec![DEST.into()],
        date: None,
    }
}

/// Signs a PASSporT for `orig` with `key_pem`, x5u at `path`, and verifies it.
async fn verify(server: &PkiServer, key_pem: &str, path: &str, orig: &str) -> Report {
    let now = now_unix();
    let key = callsign::certs::SigningKey::from_pem(key_pem).unwrap();
    let id = identity_from(&key, &server.url(path), orig, now);
    verifier(server).verify(&id, &expected(orig), now).await
}

/// [`verify`] with the delegate leaf of [`PkiServer::start_delegating`].
async fn verify_delegate(server: &PkiServer, orig: &str) -> Report {
    let key = &server.pki.delegate.as_ref().unwrap().leaf.key_pem;
    verify(server, key, DELEGATE_CHAIN_PATH, orig).await
}

/// Failed at `step` with 437 and `TN-Validation-Failed`, every other step passing, and
/// the reason saying `because`.
#[track_caller]
fn assert_437(report: &Report, step: Step, because: &str) {
    assert_eq!(report.failed_step, Some(step), "{report}");
    assert_eq!(report.code, Some(437), "{report}");
    assert_eq!(report.verstat, Verstat::Failed, "{report}");
    assert_eq!(report.reason_phrase(), Some("Unsupported Credential"));
    assert!(
        report.reason.contains(because),
        "{because:?} not in {report}"
    );
    let failed: Vec<Step> = (report.steps.iter())
        .filter(|s| s.outcome == Outcome::Failed)
        .map(|s| s.step)
        .collect();
    assert_eq!(failed, [step], "{report}");
}

#[track_caller]
fn assert_passes(report: &Report, note: &str) {
    assert!(report.passed(), "{report}");
    assert_eq!(report.verstat, Verstat::Passed);
    let step = report.step(Step::TnAuthList).unwrap();
    assert!(
        step.detail.contains(note),
        "{note:?} not in {}",
        step.detail
    );
}

/// Serves `leaf`, then `cas`, then the intermediate at `path`.
fn serve_chain(server: &PkiServer, path: &str, leaf: &IssuedCert, cas: &[&IssuedCert]) {
    let mut chain = leaf.pem.clone();
    for ca in cas {
        chain.push_str(&ca.pem);
    }
    chain.push_str(&server.pki.intermediate_pem);
    server.put(path, chain.into_bytes());
}

/// An STI-SCA under the server's intermediate with the TNAuthList `list` (DER) or none,
/// and a delegate leaf under it with `leaf_list`, served at `path`. Returns the leaf.
fn delegation(server: &PkiServer, path: &str, sca: Option<&[u8]>, leaf_list: &[u8]) -> IssuedCert {
    let now = now_unix();
    let sca = dev::issue_sca(&server.pki, sca, now).unwrap();
    let leaf =
        dev::issue_delegate_leaf(&server.pki, &sca.pem, &sca.key_pem, leaf_list, now).unwrap();
    serve_chain(server, path, &leaf, &[&sca]);
    leaf
}

fn tn(t: &str) -> TnAuthEntry {
    TnAuthEntry::Tn(t.into())
}

fn range(start: &str, count: u64) -> TnAuthEntry {
    TnAuthEntry::Range {
        start: start.into(),
        count,
    }
}

#[tokio::test]
async fn a_delegate_leaf_passes_for_its_number_and_its_range() {
    let server = PkiServer::start_delegating(now_unix());
    let report = verify_delegate(&server, ORIG).await;
    assert_passes(&report, &format!("orig {ORIG} within its TN {ORIG}"));
    // Every one of the eleven steps ran and passed; step 5 names the STI-SCA's SPC.
    assert!(
        (report.steps.iter()).all(|s| s.outcome == Outcome::Passed),
        "{report}"
    );
    let note = &report.step(Step::TnAuthList).unwrap().detail;
    assert!(
        note.contains("STI-SCA CN=callsign dev SHAKEN STI-SCA"),
        "{note}"
    );
    assert!(note.contains(&format!("(SPC {SPC})")), "{note}");
    // The range 12155550300 (+100): its first and its last number.
    for orig in ["12155550300", "12155550399"] {
        let report = verify_delegate(&server, orig).await;
        assert_passes(&report, "within its range 12155550300 (+100)");
    }
}

#[tokio::test]
async fn an_orig_outside_the_delegates_numbers_is_437() {
    let server = PkiServer::start_delegating(now_unix());
    for orig in [
        // One either side of the range, and beside the single number.
        "12155550299",
        "12155550400",
        "12155550122",
        // The same digits one shorter and one longer: other numbers.
        "2155550121",
        "121555501210",
        "1215555030",
    ] {
        let report = verify_delegate(&server, orig).await;
        assert_437(
            &report,
            Step::TnAuthList,
            &format!("orig {orig} is not among the numbers"),
        );
    }
}

#[tokio::test]
async fn the_spc_case_is_unchanged_beside_a_delegation() {
    // The SHAKEN leaf of the same PKI, SPC 1234, signs for any caller.
    let server = PkiServer::start_delegating(now_unix());
    for orig in [ORIG, "12155550400"] {
        let report = verify(&server, &server.pki.leaf_key_pem, "/chain.pem", orig).await;
        assert_passes(&report, "SPC 1234");
        assert_eq!(report.step(Step::TnAuthList).unwrap().detail, "SPC 1234");
    }
}

#[tokio::test]
async fn a_delegate_leaf_directly_under_the_sti_ca_is_437() {
    let server = PkiServer::start_delegating(now_unix());
    let list = tnauthlist::encode(&[tn(ORIG)]);
    let pki = &server.pki;
    let leaf = dev::issue_delegate_leaf(
        pki,
        &pki.intermediate_pem,
        &pki.intermediate_key_pem,
        &list,
        now_unix(),
    )
    .unwrap();
    serve_chain(&server, "/no-sca.pem", &leaf, &[]);
    let report = verify(&server, &leaf.key_pem, "/no-sca.pem", ORIG).await;
    assert_437(
        &report,
        Step::TnAuthList,
        "its issuer CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US is no STI-SCA",
    );
}

#[tokio::test]
async fn an_sti_sca_without_a_tnauthlist_delegates_nothing() {
    let server = PkiServer::start_delegating(now_unix());
    let leaf = delegation(
        &server,
        "/bare-sca.pem",
        None,
        &tnauthlist::encode(&[tn(ORIG)]),
    );
    let report = verify(&server, &leaf.key_pem, "/bare-sca.pem", ORIG).await;
    assert_437(
        &report,
        Step::TnAuthList,
        "its issuer CN=callsign dev SHAKEN STI-SCA, O=callsign dev, C=US is no STI-SCA",
    );
}

#[tokio::test]
async fn a_ca_with_numbers_but_no_spc_is_no_sti_sca_and_bounds_what_it_delegates() {
    let server = PkiServer::start_delegating(now_unix());
    let sca = tnauthlist::encode(&[range("12155550100", 100)]);
    // Within its numbers, but nothing above it holds an SPC.
    let leaf = delegation(
        &server,
        "/numbers-sca.pem",
        Some(&sca),
        &tnauthlist::encode(&[tn(ORIG)]),
    );
    let report = verify(&server, &leaf.key_pem, "/numbers-sca.pem", ORIG).await;
    assert_437(&report, Step::TnAuthList, "is no STI-SCA");
    // Beyond its numbers: RFC 9060 section 4, the delegate's list is not encompassed.
    let leaf = delegation(
        &server,
        "/beyond.pem",
        Some(&sca),
        &tnauthlist::encode(&[range("12155550150", 100)]),
    );
    let report = verify(&server, &leaf.key_pem, "/beyond.pem", "12155550150").await;
    assert_437(
        &report,
        Step::TnAuthList,
        "TNAuthList entry range 12155550150 (+100) is not within its issuer \
         CN=callsign dev SHAKEN STI-SCA, O=callsign dev, C=US's TNAuthList",
    );
}

#[tokio::test]
async fn numbers_under_an_spc_cannot_be_told_outside_it() {
    // An STI-SCA holding its SPC and a range: a delegate number outside the range may
    // still be the SPC's, which the certificates cannot tell (RFC 9060 section 4.1).
    let server = PkiServer::start_delegating(now_unix());
    let sca = tnauthlist::encode(&[TnAuthEntry::Spc(SPC.into()), range("12155550300", 10)]);
    let leaf = delegation(
        &server,
        "/mixed-sca.pem",
        Some(&sca),
        &tnauthlist::encode(&[tn(ORIG)]),
    );
    let report = verify(&server, &leaf.key_pem, "/mixed-sca.pem", ORIG).await;
    assert_passes(&report, &format!("(SPC {SPC})"));
}

#[tokio::test]
async fn a_delegate_leaf_that_also_holds_an_spc_is_judged_by_its_spc() {
    let server = PkiServer::start_delegating(now_unix());
    let sca = tnauthlist::encode_spc(SPC);
    // The STI-SCA's own SPC beside a number: an SPC leaf, for any caller.
    let own = tnauthlist::encode(&[tn(ORIG), TnAuthEntry::Spc(SPC.into())]);
    let leaf = delegation(&server, "/own-spc.pem", Some(&sca), &own);
    let report = verify(&server, &leaf.key_pem, "/own-spc.pem", "12155550999").await;
    assert_passes(&report, "SPC 1234");
    // Another provider's SPC is not the STI-SCA's to delegate.
    let other = tnauthlist::encode(&[tn(ORIG), TnAuthEntry::Spc("5678".into())]);
    let leaf = delegation(&server, "/other-spc.pem", Some(&sca), &other);
    let report = verify(&server, &leaf.key_pem, "/other-spc.pem", ORIG).await;
    assert_437(
        &report,
        Step::TnAuthList,
        "TNAuthList entry SPC 5678 is not within its issuer",
    );
}

/// `SEQUENCE { [1] { SEQUENCE { IA5String start, INTEGER <count_der> } } }`, the count's
/// contents as given.
fn raw_range(start: &str, count_der: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
        assert!(contents.len() < 0x80);
        [&[tag, contents.len() as u8][..], contents].concat()
    }
    let fields = [tlv(0x16, start.as_bytes()), tlv(0x02, count_der)].concat();
    tlv(0x30, &tlv(0xa1, &tlv(0x30, &fields)))
}

#[tokio::test]
async fn malformed_and_extreme_ranges_never_panic() {
    let server = PkiServer::start_delegating(now_unix());
    let sca = tnauthlist::encode_spc(SPC);
    // Counts a relying party must refuse: the TNAuthList does not decode.
    for (name, count, because) in [
        ("zero", &[0x00][..], "range count must be at least 2"),
        ("one", &[0x01], "range count must be at least 2"),
        ("negative", &[0xff], "range count is negative or too large"),
        (
            "beyond-u64",
            &[0x01, 0, 0, 0, 0, 0, 0, 0, 0],
            "range count is negative or too large",
        ),
    ] {
        let path = format!("/{name}.pem");
        let leaf = delegation(&server, &path, Some(&sca), &raw_range("12155550100", count));
        let report = verify(&server, &leaf.key_pem, &path, ORIG).await;
        assert_437(&report, Step::TnAuthList, because);
    }
    // The largest count: the range runs to the last eleven-digit number and stops.
    let leaf = delegation(
        &server,
        "/huge.pem",
        Some(&sca),
        &tnauthlist::encode(&[range("12155550100", u64::MAX)]),
    );
    for (orig, passes) in [
        ("12155550100", true),
        ("99999999999", true),
        ("12155550099", false),
    ] {
        let report = verify(&server, &leaf.key_pem, "/huge.pem", orig).await;
        assert_eq!(report.passed(), passes, "{orig}: {report}");
    }
    let report = verify(&server, &leaf.key_pem, "/huge.pem", "100000000000").await;
    assert_437(&report, Step::TnAuthList, "is not among the numbers");
}

#[tokio::test]
async fn the_sti_sca_is_on_the_path_its_revocation_and_its_constraints() {
    let server = PkiServer::start_delegating(now_unix());
    let now = now_unix();
    // The STI-PA revokes the STI-SCA: every delegate under it fails the chain.
    let sca = &server.pki.delegate.as_ref().unwrap().sca;
    let crl = server.pki.issue_crl(&[&sca.der], now).unwrap();
    server.put(CRL_PATH, crl);
    let report = verify_delegate(&server, ORIG).await;
    assert_eq!(report.failed_step, Some(Step::Chain), "{report}");
    assert_eq!(report.code, Some(437));
    assert!(
        report
            .reason
            .contains("SHAKEN STI-SCA, O=callsign dev, C=US is revoked"),
        "{report}"
    );

    // Under an STI-CA that allows no CA below it (pathLen 0), the chain does not build.
    let plain = PkiServer::start(now);
    let sca = dev::issue_sca(&plain.pki, Some(&tnauthlist::encode_spc(SPC)), now).unwrap();
    let list = tnauthlist::encode(&[tn(ORIG)]);
    let leaf = dev::issue_delegate_leaf(&plain.pki, &sca.pem, &sca.key_pem, &list, now).unwrap();
    serve_chain(&plain, "/d.pem", &leaf, &[&sca]);
    let report = verify(&plain, &leaf.key_pem, "/d.pem", ORIG).await;
    assert_eq!(report.failed_step, Some(Step::Chain), "{report}");
    assert_eq!(report.code, Some(437));
    assert!(
        report.reason.contains("allows 0 intermediate(s)"),
        "{report}"
    );
}
