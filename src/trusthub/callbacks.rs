//! Status callbacks: when a bundle with a `status_callback` changes status, POST the new
//! status there (form-encoded `AccountSid`, `BundleSid`, `Status`, `FailureReason`).
//! Deliveries run on their own tasks with exponential backoff; queuing never blocks the
//! API or the proxy, and a full queue drops the callback with a warning.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::trust::{BundleStatus, Sid};

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
    pub timeout: Duration,
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
}

impl Callbacks {
    /// Starts the delivery worker on the current Tokio runtime. Its tasks are tracked by
    /// `tasks` and stop at `shutdown` (undelivered callbacks are dropped, with a warning).
    pub fn start(
        retry: Retry,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Callbacks, CallbackError> {
        // reqwest is built without a default TLS provider; install ring's once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .build()
            .map_err(|e| CallbackError::Client(e.to_string()))?;
        let (tx, mut rx) = mpsc::channel::<StatusChange>(QUEUE);
        let deliveries = tasks.clone();
        tasks.spawn(async move {
            loop {
                let change = tokio::select! {
                    next = rx.recv() => match next {
                        Some(change) => change,
                        None => return,
                    },
                    _ = shutdown.cancelled() => return,
                };
                let stop = shutdown.clone();
                let delivery = deliver(client.clone(), change, retry);
                deliveries.spawn(async move {
                    tokio::select! {
                        _ = delivery => {}
                        _ = stop.cancelled() => {
                            warn!("shutting down: a status callback was not delivered");
                        }
                    }
                });
            }
        });
        Ok(Callbacks { tx })
    }

    /// Queues a callback without waiting.
    pub fn notify(&self, change: StatusChange) {
        if let Err(e) = self.tx.try_send(change) {
            warn!(error = %e, "status callback queue full or closed: callback dropped");
        }
    }
}

async fn deliver(client: reqwest::Client, change: StatusChange, retry: Retry) {
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
