//! The change feed of a PostgreSQL store: the cross-node write lock, the change log
//! read after a `seq`, and the listener that wakes a node when another commits.

use std::time::Duration;

use deadpool_postgres::Object;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{CHANNEL, On, Postgres, WRITE_LOCK, backend};
use crate::store::{Feed, StoreError};
use crate::trust::Change;

/// The longest wait before reconnecting the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Postgres {
    pub(super) fn own_set(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<i64>> {
        self.own.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// [`WRITE_LOCK`], held on one pooled connection until dropped (or until that
/// connection dies, when the server releases it).
struct WriteLock(Option<Object>);

impl Drop for WriteLock {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let on = On(&client);
            if on
                .run("SELECT pg_advisory_unlock($1)", &[&WRITE_LOCK])
                .is_err()
            {
                // Not knowing whether it is still held, the connection must not be
                // reused: it closes, and the server releases the lock with it.
                let _ = Object::take(client);
            }
        }
    }
}

impl Feed for Postgres {
    fn lock_writes(&self) -> Result<Box<dyn Send>, StoreError> {
        let client = self.client()?;
        On(&client).run("SELECT pg_advisory_lock($1)", &[&WRITE_LOCK])?;
        Ok(Box::new(WriteLock(Some(client))))
    }

    fn head(&self) -> Result<i64, StoreError> {
        let client = self.client()?;
        let row = On(&client).one("SELECT coalesce(max(seq), 0)::bigint FROM change_log", &[])?;
        row.try_get(0).map_err(backend)
    }

    fn holds(&self, seq: i64) -> Result<bool, StoreError> {
        let client = self.client()?;
        let sql = "SELECT EXISTS (SELECT 1 FROM change_log WHERE seq = $1)";
        let row = On(&client).one(sql, &[&seq])?;
        row.try_get(0).map_err(backend)
    }

    fn reset(&self) {
        self.own_set().clear();
    }

    fn changes_after(&self, seq: i64) -> Result<Vec<(i64, Option<Vec<Change>>)>, StoreError> {
        let all = Postgres::changes_after(self, seq)?;
        let mut own = self.own_set();
        // This process's own writes come back with no changes: its index has them
        // already, and the reader must move past them, or a later read would replay
        // them over newer writes.
        let entries = (all.into_iter())
            .map(|(s, changes)| match own.remove(&s) {
                true => (s, Some(Vec::new())),
                false => (s, changes),
            })
            .collect();
        // What is at or below `seq` will not be asked for again.
        own.retain(|s| *s > seq);
        Ok(entries)
    }

    fn subscribe(
        &self,
        reconnects: Box<dyn Fn() + Send + Sync>,
    ) -> tokio::sync::mpsc::Receiver<()> {
        let (wake, woken) = tokio::sync::mpsc::channel(1);
        let (config, tls) = (self.config.clone(), self.tls.clone());
        let rt = self.runtime.as_ref().expect("runtime until drop");
        rt.spawn(listen(config, tls, wake, reconnects));
        woken
    }
}

/// Listens for [`CHANNEL`] on a connection of its own, waking `wake` for each
/// notification and after each (re)connection, until `wake`'s receiver is gone.
async fn listen(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    wake: tokio::sync::mpsc::Sender<()>,
    reconnects: Box<dyn Fn() + Send + Sync>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    while !wake.is_closed() {
        if !first {
            reconnects();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        first = false;
        let Ok((client, mut connection)) = config.connect(tls.clone()).await else {
            continue;
        };
        let notify = wake.clone();
        let driver = tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                        // A wake-up already pending covers this one too.
                        let _ = notify.try_send(());
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        if client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .is_ok()
        {
            backoff = Duration::from_millis(100);
            // Whatever was committed while we were not listening.
            let _ = wake.try_send(());
            let closed = wake.clone();
            tokio::select! {
                _ = driver => {}
                _ = closed.closed() => return,
            }
        }
        drop(client);
    }
}
