//! Where the running server's trust data comes from: the store (the system of record,
//! written through the Trust Hub API) or a read-only JSON file; and the reloader that
//! re-reads it on SIGHUP (and, for a file, when it changes).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use super::signing::Rotation;
use super::{Control, ServeError, settings};
use crate::clock;
use crate::config::{Config, TrunkConfig, TrustConfig};
use crate::identities::{Identities, IdentityError};
use crate::metrics::{Metrics, Reload};
use crate::store::{self, Store, StoreError};
use crate::trust::{Index, Trust};
use crate::trusthub::Hub;

/// Reads and indexes a trust-data file.
pub fn load_index(path: &Path) -> Result<Index, StoreError> {
    let data = store::load_file(path)?;
    Ok(Index::build(&data)?)
}

/// Opens the store `[trust]` names, seeding it on first run with the seed file and the
/// config's `[[trunk]]` tables; `None` in file mode.
pub fn open_store(
    trust: &TrustConfig,
    trunks: &[TrunkConfig],
) -> Result<Option<Box<dyn Store>>, ServeError> {
    let now = clock::rfc3339(clock::now_unix());
    let seed_trunks = |data: &mut crate::trust::TrustData| {
        let (seeded, skipped) = settings::seed_trunking(trunks, data);
        for (name, why) in skipped {
            warn!(trunk = %name, why, "[[trunk]] not copied into the new store: it stays config-only");
        }
        if !seeded.is_empty() {
            info!(trunks = %seeded.join(","), "[[trunk]] tables copied into the new store");
        }
    };
    let Some(location) = trust.location()? else {
        return Ok(None);
    };
    let store = store::open_seeded(
        &location,
        trust.seed.as_deref(),
        trust.durability,
        &now,
        seed_trunks,
    )?;
    Ok(Some(store))
}

/// The index a one-off command (`callsign attest`) reads: rebuilt from the store, or
/// loaded from the file.
pub fn index_of(trust: &TrustConfig, trunks: &[TrunkConfig]) -> Result<Index, ServeError> {
    match open_store(trust, trunks)? {
        Some(st) => Ok(store::rebuild_index(st.as_ref())?),
        None => Ok(load_index(&trust.file.clone().unwrap_or_default())?),
    }
}

/// The trust data's origin in a running server.
pub enum TrustSource {
    /// The store, written through the Trust Hub API; SIGHUP rebuilds the index from it.
    Store(Arc<Hub>),
    /// A read-only JSON file, reloaded when it changes and on SIGHUP.
    File {
        path: PathBuf,
        stamp: Option<(SystemTime, u64)>,
        interval: Duration,
    },
}

/// Loads the trust index and, in store mode, the Trust Hub service around it, whose
/// background tasks `tasks` tracks until `shutdown`.
pub async fn load(
    config: &Config,
    identities: &Arc<Identities>,
    metrics: &Arc<Metrics>,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> Result<(Arc<Trust>, TrustSource), ServeError> {
    let cfg = config.trust.clone();
    let trunks = config.trunks.clone();
    let opened = tokio::task::spawn_blocking(move || -> Result<_, ServeError> {
        match open_store(&cfg, &trunks)? {
            Some(st) => {
                // Where in a shared store's change log the index stands: read first,
                // so no write committed during the rebuild is missed.
                let seq = st.feed().map(|f| f.head()).transpose()?.unwrap_or(0);
                let index = store::rebuild_index(st.as_ref())?;
                Ok(Some((index, st, seq)))
            }
            None => Ok(None),
        }
    })
    .await
    .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    match opened {
        Some((index, st, seq)) => {
            let trust = Arc::new(Trust::new(index));
            let hub = Hub::start(
                settings::hub(config),
                Arc::from(st),
                Arc::clone(&trust),
                tasks,
                shutdown.clone(),
            )?
            .with_identities(Arc::clone(identities))
            .with_vetting(super::vetting::load(&config.vetting, metrics)?)
            .with_feed_position(seq);
            let hub = Arc::new(hub);
            crate::trusthub::vetting::start_worker(Arc::clone(&hub), tasks, shutdown);
            Ok((trust, TrustSource::Store(hub)))
        }
        None => {
            let path = config.trust.file.clone().unwrap_or_default();
            // The stamp is taken before reading, so a change made during the load is seen.
            let stamp = file_stamp(&path);
            let trust = Arc::new(Trust::new(load_index(&path)?));
            let interval = Duration::from_millis(config.trust.watch_interval_ms);
            Ok((
                trust,
                TrustSource::File {
                    path,
                    stamp,
                    interval,
                },
            ))
        }
    }
}

/// Loads the signing identities of the trust data; those that fail keep their last
/// good key (if any) and are logged. Returns the failures.
pub fn sync_identities(
    identities: &Identities,
    trust: &Trust,
) -> Vec<(crate::trust::Sid, IdentityError)> {
    let records = trust.load().with_trunking(|t| t.signing_identities.clone());
    let failed = identities.sync(&records, crate::clock::now_unix());
    for (sid, e) in &failed {
        error!(identity = %sid, error = %e, "signing identity cannot sign: keeping its last good key, if any");
    }
    failed
}

/// A file's modification time and length: what changes when it is rewritten.
pub(super) fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reloads on `reload` (SIGHUP): the signing pair first, then the trust data. A file
/// source is also re-read when it changes. Whatever fails to load leaves the current
/// data in place.
pub async fn reloader(
    source: TrustSource,
    rotation: Rotation,
    identities: Arc<Identities>,
    trust: Arc<Trust>,
    metrics: Arc<Metrics>,
    control: Control,
    shutdown: CancellationToken,
) {
    let Control {
        reload, reloaded, ..
    } = control;
    let (poll, mut stamp) = match &source {
        TrustSource::File {
            interval, stamp, ..
        } if !interval.is_zero() => (Some(*interval), *stamp),
        TrustSource::File { stamp, .. } => (None, *stamp),
        TrustSource::Store(_) => (None, None),
    };
    loop {
        let forced = tokio::select! {
            _ = reload.notified() => true,
            _ = sleep_or_never(poll) => false,
            _ = shutdown.cancelled() => return,
        };
        if forced {
            rotation.rotate();
            if let Some(anchors) = &rotation.anchors {
                anchors.reload_list(clock::now_unix()).await;
            }
        }
        let loaded = match &source {
            TrustSource::Store(hub) => {
                let h = Arc::clone(hub);
                let v = rotation.vetting.clone();
                Some(
                    tokio::task::spawn_blocking(move || {
                        super::vetting::reload(&v, &h);
                        h.reload().map_err(ServeError::from)
                    })
                    .await,
                )
            }
            TrustSource::File { path, .. } => {
                let now = file_stamp(path);
                if !forced && now == stamp {
                    None
                } else {
                    stamp = now;
                    let p = path.clone();
                    let t = Arc::clone(&trust);
                    let ids = Arc::clone(&identities);
                    Some(
                        tokio::task::spawn_blocking(move || {
                            let index = load_index(&p)?;
                            let numbers = index.len_numbers();
                            t.replace(index);
                            sync_identities(&ids, &t);
                            Ok(numbers)
                        })
                        .await,
                    )
                }
            }
        };
        let Some(loaded) = loaded else {
            continue;
        };
        match loaded {
            Ok(Ok(numbers)) => {
                metrics.reload(Reload::Ok);
                info!(numbers, "trust data reloaded");
            }
            Ok(Err(e)) => {
                metrics.reload(Reload::Error);
                error!(error = %e, "trust data reload failed: keeping the current data");
            }
            Err(e) => {
                metrics.reload(Reload::Error);
                error!(error = %e, "trust data reload task failed");
            }
        }
        reloaded.send_modify(|n| *n += 1);
    }
}

async fn sleep_or_never(every: Option<Duration>) {
    match every {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
