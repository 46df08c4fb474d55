//! Following a shared store's change log: the other nodes' writes reach this node's
//! index within a notification's round trip, or within `[trust] feed_poll_ms` when a
//! notification is lost (PostgreSQL's NOTIFY is fire-and-forget), and after a lost
//! connection the listener reconnects and the log is read from the last applied `seq`.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

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
        metrics.trust_store_up.set(1);
        let reconnects = Arc::clone(&metrics);
        let mut woken = Some(feed.subscribe(Box::new(move || {
            reconnects.trust_feed_reconnects.inc();
        })));
        let hub = Arc::clone(self);
        let poll = poll.max(Duration::from_millis(10));
        tasks.spawn(async move {
            // When the index was last seen at the log's head.
            let mut current = std::time::Instant::now();
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
                    let applied = h.applied_seq();
                    let lost = match (h.store.feed(), head) {
                        (Some(feed), Some(head)) => {
                            head < applied || (applied > 0 && !feed.holds(applied)?)
                        }
                        _ => false,
                    };
                    if lost {
                        // Only a log that lost entries is behind what was read from it,
                        // or misses the entry last read (new writes may have passed it).
                        warn!(
                            head = head.unwrap_or(0),
                            applied,
                            "the change log is behind this node's index (a restored backup, or a failover that lost writes); rebuilding the index from the store"
                        );
                        h.reload()?;
                    }
                    Ok((h.applied_seq(), head))
                })
                .await;
                let read = match caught_up {
                    Ok(Ok((seq, head))) => {
                        let lag = head.unwrap_or(seq).saturating_sub(seq);
                        metrics.trust_index_seq.set(seq);
                        metrics.trust_feed_lag.set(lag);
                        if lag == 0 {
                            current = std::time::Instant::now();
                        }
                        true
                    }
                    Ok(Err(e)) => {
                        if metrics.trust_store_up.get() == 1 {
                            warn!(error = %e, "cannot read the shared store's change log; calls go on with the index as it is");
                        }
                        false
                    }
                    Err(e) => {
                        warn!(error = %e, "change-log reader failed");
                        false
                    }
                };
                if read && metrics.trust_store_up.get() == 0 {
                    info!("the shared store's change log is readable again; the index has caught up");
                }
                metrics.trust_store_up.set(i64::from(read));
                metrics.trust_feed_lag_seconds.set(current.elapsed().as_secs_f64());
            }
        });
    }
}
