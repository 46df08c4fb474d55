//! Status callbacks: when a bundle with a `status_callback` changes status, POST the new
//! status there (form-encoded `AccountSid`, `BundleSid`, `Status`, `FailureReason`).
//! Deliveries run on their own tasks with exponential backoff. One bundle's callbacks go
//! out one at a time, in the order of its status changes, retries included; different
//! bundles do not wait for each other. Queuing never blocks the API or the proxy, and a
//! full queue drops the callback with a warning.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::trust::{BundleStatus, Sid};
use crate::verify::{FetchPolicy, check_callback_url, outbound_client};

/// How many callbacks may wait for a delivery task.
const QUEUE: usize = 4096;

/// One status change to report.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub url: String,
    pub account_sid: Sid,
    pub bundle_sid: Sid,
    pub status: BundleStatus,
    pub errors: Option<serde_json::Value>,
}

impl StatusChange {
    /// The form fields posted.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("AccountSid", self.account_sid.to_string()),
            ("BundleSid", self.bundle_sid.to_string()),
            ("Status", self.status.as_str().to_owned()),
        ];
        if let Some(errors) = &self.errors {
            form.push(("FailureReason", errors.to_string()));
        }
        form
    }
}

/// Retry policy for deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_backoff: Duration,
}

/// Why the callback sender could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The HTTP client could not be built (its TLS set-up failed).
    #[error("status callback HTTP client: {0}")]
    Client(String),
}

/// The sending side of the callback queue.
#[derive(Clone)]
pub struct Callbacks {
    tx: mpsc::Sender<StatusChange>,
    policy: FetchPolicy,
}

impl Callbacks {
    /// Starts the delivery worker on the current Tokio runtime. Its tasks are tracked by
    /// `tasks` and stop at `shutdown` (undelivered callbacks are dropped, with a warning).
    /// Deliveries follow `policy`, the x5u fetcher's outbound rules: https only unless it
    /// allows http, no special-purpose addresses after resolution unless it allows them,
    /// no redirects, its timeout on each attempt.
    pub fn start(
        retry: Retry,
        policy: FetchPolicy,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Callbacks, CallbackError> {
        let client = outbound_client(&policy).map_err(CallbackError::Client)?;
        let (tx, mut rx) = mpsc::channel::<StatusChange>(QUEUE);
        let deliveries_policy = policy.clone();
        let deliveries = tasks.clone();
        tasks.spawn(async move {
            // The bundles with a delivery under way, each with the changes waiting behind
            // it; and the deliveries' reports that they are done.
            let mut waiting: HashMap<Sid, VecDeque<StatusChange>> = HashMap::new();
            let mut queued = 0usize;
            let (done_tx, mut done) = mpsc::unbounded_channel::<Sid>();
            let start = |change: StatusChange| {
                let (stop, done_tx, bundle) = (shutdown.clone(), done_tx.clone(), change.bundle_sid);
                let delivery = deliver(client.clone(), change, retry, policy.clone());
                deliveries.spawn(async move {
                    // Reports the bundle free however the delivery ends, a panic included.
                    let _done = Done(done_tx, bundle);
                    tokio::select! {
                        _ = delivery => {}
                        _ = stop.cancelled() => {
                            warn!("shutting down: a status callback was not delivered");
                        }
                    }
                });
            };
            loop {
                tokio::select! {
                    next = rx.recv() => match next {
                        Some(change) => match waiting.get_mut(&change.bundle_sid) {
                            Some(_) if queued >= QUEUE => {
                                warn!(bundle = %change.bundle_sid, "status callback queue full: callback dropped");
                            }
                            Some(behind) => {
                                behind.push_back(change);
                                queued += 1;
                            }
                            None => {
                                waiting.insert(change.bundle_sid, VecDeque::new());
                                start(change);
                            }
                        },
                        None => return,
                    },
                    Some(bundle) = done.recv() => {
                        match waiting.get_mut(&bundle).and_then(VecDeque::pop_front) {
                            Some(next) => {
                                queued -= 1;
                                start(next);
                            }
                            None => {
                                waiting.remove(&bundle);
                            }
                        }
                    }
                    _ = shutdown.cancelled() => {
                        if queued > 0 {
                            warn!(queued, "shutting down: queued status callbacks were not delivered");
                        }
                        return;
                    }
                }
            }
        });
        Ok(Callbacks {
            tx,
            policy: deliveries_policy,
        })
    }

    /// The outbound rules a callback URL must meet.
    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Queues a callback without waiting.
    pub fn notify(&self, change: StatusChange) {
        if let Err(e) = self.tx.try_send(change) {
            warn!(error = %e, "status callback queue full or closed: callback dropped");
        }
    }
}

/// Tells the dispatcher, when dropped, that the delivery for a bundle has ended.
struct Done(mpsc::UnboundedSender<Sid>, Sid);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

async fn deliver(client: reqwest::Client, change: StatusChange, retry: Retry, policy: FetchPolicy) {
    // A URL stored before this rule, or imported from a file, is checked again here.
    if let Err(e) = check_callback_url(&change.url, &policy) {
        warn!(bundle = %change.bundle_sid, url = %change.url, error = %e, "status callback URL refused by the outbound policy: not sent");
        return;
    }
    let form = serde_urlencoded::to_string(change.form()).unwrap_or_default();
    let mut backoff = retry.first_backoff;
    for attempt in 1..=retry.attempts.max(1) {
        let sent = client
            .post(&change.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                info!(bundle = %change.bundle_sid, url = %change.url, attempt, "status callback delivered");
                return;
            }
            Ok(r) => {
                debug!(bundle = %change.bundle_sid, status = %r.status(), attempt, "status callback refused")
            }
            Err(e) => {
                debug!(bundle = %change.bundle_sid, error = %e, attempt, "status callback failed")
            }
        }
        if attempt < retry.attempts {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    warn!(bundle = %change.bundle_sid, url = %change.url, attempts = retry.attempts, "status callback given up");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(url: String) -> StatusChange {
        StatusChange {
            url,
            account_sid: Sid::from_u128("AC", 1).unwrap(),
            bundle_sid: Sid::from_u128("BU", 2).unwrap(),
            status: BundleStatus::TwilioApproved,
            errors: None,
        }
    }

    /// Delivers once to a listener on loopback under `policy`; returns whether the
    /// listener was connected to.
    async fn delivered(host: &str, policy: FetchPolicy) -> bool {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = outbound_client(&policy).unwrap();
        let retry = Retry {
            attempts: 1,
            first_backoff: Duration::ZERO,
        };
        let url = format!("http://{host}:{port}/status");
        deliver(client, change(url), retry, policy).await;
        listener.accept().is_ok()
    }

    #[tokio::test]
    async fn loopback_is_not_called_by_address_or_by_name_unless_allowed() {
        let http_only = FetchPolicy {
            allow_http: true,
            timeout: Duration::from_secs(2),
            ..FetchPolicy::default()
        };
        assert!(!delivered("127.0.0.1", http_only.clone()).await);
        // A name passes the write-time check; its addresses are refused when resolved.
        assert!(!delivered("localhost", http_only.clone()).await);
        let local = FetchPolicy {
            allow_loopback: true,
            ..http_only
        };
        assert!(
            delivered("127.0.0.1", local).await,
            "the control: allowed, it connects"
        );
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A receiver that redirects to a second listener, which must never be called.
        let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        target.set_nonblocking(true).unwrap();
        let target_port = target.local_addr().unwrap().port();
        let first = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = first.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{target_port}/x\r\nContent-Length: 0\r\n\r\n"
            );
            s.write_all(reply.as_bytes()).await.unwrap();
        });
        let policy = FetchPolicy {
            allow_http: true,
            allow_loopback: true,
            timeout: Duration::from_secs(2),
            ..FetchPolicy::default()
        };
        let client = outbound_client(&policy).unwrap();
        let retry = Retry {
            attempts: 1,
            first_backoff: Duration::ZERO,
        };
        let url = format!("http://127.0.0.1:{port}/status");
        deliver(client, change(url), retry, policy).await;
        server.await.unwrap();
        assert!(target.accept().is_err(), "the redirect was followed");
    }

    /// A receiver that records the callbacks it accepts, in order. It holds the first
    /// callback of bundle `held` until `release` says so, and answers 500 once to the
    /// second (so that it is retried).
    struct Receiver {
        held: Sid,
        got: std::sync::Mutex<Vec<(String, String)>>,
        requests: std::sync::atomic::AtomicUsize,
        release: tokio::sync::watch::Receiver<bool>,
        arrived: tokio::sync::Notify,
    }

    impl Receiver {
        fn got(&self) -> Vec<(String, String)> {
            self.got.lock().unwrap().clone()
        }

        /// Waits (at most 10 s) until `n` callbacks have been accepted.
        async fn wait_until(&self, n: usize) {
            let enough = async {
                loop {
                    let arrived = self.arrived.notified();
                    if self.got().len() >= n {
                        return;
                    }
                    arrived.await;
                }
            };
            tokio::time::timeout(Duration::from_secs(10), enough)
                .await
                .unwrap_or_else(|_| panic!("{n} callbacks never arrived: {:?}", self.got()));
        }
    }

    async fn receive(
        axum::extract::State(r): axum::extract::State<std::sync::Arc<Receiver>>,
        axum::Form(form): axum::Form<HashMap<String, String>>,
    ) -> axum::http::StatusCode {
        let bundle = form["BundleSid"].clone();
        if bundle == r.held.to_string() {
            let n = r.requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n == 0 {
                let _ = r.release.clone().wait_for(|open| *open).await;
            } else if n == 1 {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            }
        }
        r.got.lock().unwrap().push((bundle, form["Status"].clone()));
        r.arrived.notify_waiters();
        axum::http::StatusCode::OK
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_bundles_callbacks_arrive_in_order_and_others_do_not_wait_for_them() {
        let (a, b) = (
            Sid::from_u128("BU", 0xa).unwrap(),
            Sid::from_u128("BU", 0xb).unwrap(),
        );
        let (open, release) = tokio::sync::watch::channel(false);
        let receiver = std::sync::Arc::new(Receiver {
            held: a,
            got: Default::default(),
            requests: Default::default(),
            release,
            arrived: tokio::sync::Notify::new(),
        });
        let app = axum::Router::new()
            .route("/status", axum::routing::post(receive))
            .with_state(std::sync::Arc::clone(&receiver));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/status", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let policy = FetchPolicy {
            allow_http: true,
            allow_loopback: true,
            timeout: Duration::from_secs(10),
            ..FetchPolicy::default()
        };
        let retry = Retry {
            attempts: 3,
            first_backoff: Duration::from_millis(1),
        };
        let (tasks, shutdown) = (TaskTracker::new(), CancellationToken::new());
        let callbacks = Callbacks::start(retry, policy, &tasks, shutdown.clone()).unwrap();
        let got = || receiver.got();
        // Twelve status changes of bundle A, then one of bundle B.
        let cycle = [
            BundleStatus::PendingReview,
            BundleStatus::InReview,
            BundleStatus::TwilioRejected,
            BundleStatus::Draft,
        ];
        let sent: Vec<BundleStatus> = cycle.iter().cycle().take(12).copied().collect();
        let notify = |bundle: Sid, status: BundleStatus| {
            callbacks.notify(StatusChange {
                bundle_sid: bundle,
                status,
                url: url.clone(),
                ..change(url.clone())
            })
        };
        for status in &sent {
            notify(a, *status);
        }
        notify(b, BundleStatus::TwilioApproved);
        // B's arrives while A's first is held: bundles do not wait for each other.
        receiver.wait_until(1).await;
        assert_eq!(got(), [(b.to_string(), "twilio-approved".to_owned())]);
        open.send(true).unwrap();
        receiver.wait_until(13).await;
        let of_a: Vec<String> = (got().into_iter())
            .filter(|(bundle, _)| *bundle == a.to_string())
            .map(|(_, status)| status)
            .collect();
        let expected: Vec<&str> = sent.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            of_a, expected,
            "in the order of the changes, the retried one included"
        );
        assert_eq!(
            receiver.requests.load(std::sync::atomic::Ordering::SeqCst),
            13
        );
        shutdown.cancel();
        tasks.close();
    }

    #[test]
    fn form_names_the_bundle_and_its_status() {
        let change = StatusChange {
            url: "http://x".into(),
            account_sid: Sid::from_u128("AC", 1).unwrap(),
            bundle_sid: Sid::from_u128("BU", 2).unwrap(),
            status: BundleStatus::TwilioRejected,
            errors: Some(serde_json::json!([{"code": 1}])),
        };
        let form = change.form();
        assert_eq!(form[2], ("Status", "twilio-rejected".to_owned()));
        assert_eq!(form[1].1, "BU00000000000000000000000000000002");
        assert_eq!(form[3], ("FailureReason", "[{\"code\":1}]".to_owned()));
    }
}
