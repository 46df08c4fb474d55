//! Following a shared store's change log: the other nodes' writes reach this node's
//! index within a notification's round trip, or within `[trust] feed_poll_ms` when a
//! notification is lost (PostgreSQL's NOTIFY is fire-and-forget), and after a lost
//! connection the listener reconnects and the log is read from the last applied `seq`.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use super::{Hub, HubError};
use crate::metrics::Metrics;

impl Hub {
    /// Keeps the index current with the store's change log until `shutdown`, reading it
    /// on each notification and every `poll`; a no-op for a store only this process
    /// writes.
    pub fn follow(
        self: &Arc<Hub>,
        metrics: Arc<Metrics>,
        poll: Duration,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) {
        let Some(feed) = self.store.feed() else {
            return;
        };
        let reconnects = Arc::clone(&metrics);
        let mut woken = Some(feed.subscribe(Box::new(move || {
            reconnects.trust_feed_reconnects.inc();
        })));
        let hub = Arc::clone(self);
        let poll = poll.max(Duration::from_millis(10));
        tasks.spawn(async move {
            loop {
                let wake = async {
                    match woken.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    got = wake => if got.is_none() {
                        // The listener is gone (the store is closing): poll only.
                        woken = None;
                    },
                    _ = tokio::time::sleep(poll) => {}
                }
                let h = Arc::clone(&hub);
                let caught_up = tokio::task::spawn_blocking(move || -> Result<_, HubError> {
                    h.catch_up()?;
                    let head = h.store.feed().map(|f| f.head()).transpose()?;
                    Ok((h.applied_seq(), head))
                })
                .await;
                match caught_up {
                    Ok(Ok((seq, head))) => {
                        metrics.trust_index_seq.set(seq);
                        metrics.trust_feed_lag.set(head.unwrap_or(seq).saturating_sub(seq));
                    }
                    Ok(Err(e)) => {
                        warn!(error = %e, "cannot read the shared store's change log; calls go on with the index as it is");
                    }
                    Err(e) => warn!(error = %e, "change-log reader failed"),
                }
            }
        });
    }
}
