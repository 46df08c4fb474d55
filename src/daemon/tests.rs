//! On a virtual clock: how long a drain waits and what ends it, and when the trust
//! anchors' file is read again; and the daemon's fate when its engine stops by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{DRAIN_POLL, Draining, Stop, drain_engine, watch_engine};
use crate::proxy::Endpoint;
use crate::proxy::testing::{CARRIER, TRUNK, answer_forwarded, context, invite, udp, wall};

const DRAIN: Draining = Draining {
    grace: Duration::from_secs(30),
    quiet: Duration::from_secs(1),
};

/// An endpoint with one call in flight: the trunk's INVITE forwarded, unanswered.
/// Returns the carrier's 200 for it too.
fn core_with_a_call() -> (Endpoint, Vec<u8>) {
    let (ctx, _) = context();
    let mut core = Endpoint::new(Arc::new(ctx));
    let mut out = Vec::new();
    let now = Instant::now().into_std();
    core.handle(udp(TRUNK), invite("").as_bytes(), now, wall(), &mut out);
    let answer = answer_forwarded(&out, 200, "OK");
    assert_eq!(core.in_flight(), 1);
    (core, answer)
}

/// Drains `core` in a task of its own.
fn spawn_drain(core: &Endpoint, mut stop: watch::Receiver<Stop>) -> JoinHandle<()> {
    let status = Arc::clone(core.status());
    let metrics = Arc::clone(&core.ctx.metrics);
    tokio::spawn(async move { drain_engine(&status, &metrics, DRAIN, &mut stop).await })
}

#[tokio::test(start_paused = true)]
async fn a_drain_gives_up_on_a_call_in_flight_at_its_grace_period() {
    let (core, _) = core_with_a_call();
    let (_keep, mut stop) = watch::channel(Stop::Drain);
    let started = Instant::now();
    drain_engine(core.status(), &core.ctx.metrics, DRAIN, &mut stop).await;
    assert_eq!(started.elapsed(), DRAIN.grace);
    assert_eq!(core.in_flight(), 1);
    assert_eq!(core.ctx.metrics.draining.get(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_drain_ends_once_the_call_in_flight_is_answered() {
    let (mut core, answer) = core_with_a_call();
    let (_keep, stop) = watch::channel(Stop::Drain);
    let started = Instant::now();
    let draining = spawn_drain(&core, stop);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!draining.is_finished());
    let mut out = Vec::new();
    let now = Instant::now().into_std();
    core.handle(udp(CARRIER), &answer, now, wall(), &mut out);
    assert_eq!(out.len(), 1, "the 200 goes to the trunk");
    draining.await.unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(5), "{took:?}");
    assert!(took <= Duration::from_secs(5) + DRAIN_POLL, "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn an_idle_drain_ends_at_once() {
    let (ctx, _) = context();
    let core = Endpoint::new(Arc::new(ctx));
    let (_keep, mut stop) = watch::channel(Stop::Drain);
    let started = Instant::now();
    drain_engine(core.status(), &core.ctx.metrics, DRAIN, &mut stop).await;
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn stop_now_cuts_a_drain_short() {
    let (core, _) = core_with_a_call();
    let (tx, stop) = watch::channel(Stop::Drain);
    let started = Instant::now();
    let draining = spawn_drain(&core, stop);
    tokio::time::sleep(Duration::from_secs(3)).await;
    tx.send(Stop::Now).unwrap();
    draining.await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

/// The trust anchors' file, checked every `poll` on the virtual clock: a change is
/// picked up at the next check, not before; a broken file leaves the roots in place.
#[tokio::test(start_paused = true)]
async fn the_trust_anchors_follow_their_file_at_each_check() {
    use super::anchors::{Anchors, initial, watch_anchors};
    use crate::verify::{Verifier, VerifySettings};

    let now = crate::proxy::testing::NOW_UNIX as i64;
    let root_a = crate::certs::dev::generate("1234", now).unwrap().root_pem;
    let root_b = crate::certs::dev::generate("5678", now).unwrap().root_pem;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roots.pem");
    std::fs::write(&file, &root_a).unwrap();
    let verifier = Verifier::new(VerifySettings::new(root_a.clone())).unwrap();
    let roots = |v: &Verifier| format!("{v:?}");
    assert!(
        roots(&verifier).contains("anchors: 1"),
        "{}",
        roots(&verifier)
    );

    let metrics = Arc::new(crate::metrics::Metrics::new());
    let held = initial(Some(&file), None, &metrics, now).await.unwrap();
    let anchors = Arc::new(Anchors::new(
        verifier.clone(),
        Some(file.clone()),
        None,
        held,
        metrics,
    ));
    let stop = tokio_util::sync::CancellationToken::new();
    let watching = tokio::spawn(watch_anchors(
        Arc::clone(&anchors),
        Duration::from_secs(60),
        stop.clone(),
    ));
    // Settles the watcher after the clock moved: it reloads on a blocking thread, which
    // runs in real time (a bounded wait; the virtual clock does not move meanwhile).
    let settle = || async {
        for _ in 0..100 {
            tokio::task::yield_now().await;
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    };

    settle().await; // The watcher is waiting for its first check.
    std::fs::write(&file, format!("{root_a}{root_b}")).unwrap();
    tokio::time::advance(Duration::from_secs(59)).await;
    settle().await;
    assert!(
        roots(&verifier).contains("anchors: 1"),
        "not before the check"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    settle().await;
    assert!(
        roots(&verifier).contains("anchors: 2"),
        "{}",
        roots(&verifier)
    );

    // A broken file is refused; the two roots stay.
    std::fs::write(&file, "-----BEGIN CERTIFICATE-----\nbroken\n").unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    settle().await;
    assert!(
        roots(&verifier).contains("anchors: 2"),
        "{}",
        roots(&verifier)
    );

    // A reload (SIGHUP) reads it whatever its time: back to B alone.
    std::fs::write(&file, &root_b).unwrap();
    anchors.reload();
    assert!(
        roots(&verifier).contains("anchors: 1"),
        "{}",
        roots(&verifier)
    );

    stop.cancel();
    watching.await.unwrap();
}

/// `[signing]` with a delegate certificate (RFC 9060) signs for its numbers only.
#[test]
fn a_delegate_signing_certificate_signs_only_its_numbers() {
    use crate::certs::TnAuthEntry;
    use crate::passport::{Attest, Claims, PassportError};
    let now = crate::clock::now_unix();
    let numbers = [TnAuthEntry::Tn("12155550121".into())];
    let pki = crate::certs::dev::generate_delegating(
        "1234",
        "http://127.0.0.1:8080/certs/",
        &numbers,
        now,
    )
    .unwrap();
    let delegate = pki.delegate.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = (dir.path().join("chain.pem"), dir.path().join("leaf.key"));
    std::fs::write(&chain, pki.delegate_chain_pem().unwrap()).unwrap();
    std::fs::write(&key, &delegate.leaf.key_pem).unwrap();
    let mut cfg = crate::config::Config::from_toml(include_str!("../../config/callsign.toml"))
        .unwrap()
        .signing;
    (cfg.certificate, cfg.key) = (chain, key);
    let (signer, _, _) = super::signing::load(&cfg, now).unwrap();
    let claims = |orig| Claims {
        attest: Attest::A,
        dest: &["12155550131"],
        iat: now,
        orig,
        origid: "123e4567-e89b-12d3-a456-426655440000",
    };
    assert!(signer.sign(&claims("12155550121")).is_ok());
    assert_eq!(
        signer.sign(&claims("12155550122")),
        Err(PassportError::OrigNotCovered {
            orig: "12155550122".into()
        })
    );
}

#[tokio::test]
async fn an_engine_that_stops_by_itself_fails_the_daemon() {
    // A thread that died drops its sender without a word.
    let (done, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = CancellationToken::new();
    let failed = Arc::new(AtomicBool::new(false));
    drop(done);
    watch_engine(stopped, shutdown.clone(), Arc::clone(&failed)).await;
    assert!(shutdown.is_cancelled(), "the rest stops with it");
    assert!(failed.load(Ordering::Relaxed));
}

#[tokio::test]
async fn an_engine_stopped_by_shutdown_is_no_failure() {
    let (done, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = CancellationToken::new();
    let failed = Arc::new(AtomicBool::new(false));
    shutdown.cancel();
    done.send(()).unwrap();
    watch_engine(stopped, shutdown.clone(), Arc::clone(&failed)).await;
    assert!(!failed.load(Ordering::Relaxed));
}
