//! The verifier's trusted roots in a running server: those of the PEM file (`[verify]
//! trust_anchors`) and those of the STI-PA's trust list (`[verify] trust_list`), each
//! kept in step with its source, and swapped into the verifier together, at once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::trust::file_stamp;
use super::{ServeError, read};
use crate::certs::TrustAnchors;
use crate::metrics::{Metrics, Reload};
use crate::verify::{RootList, TrustList, TrustListError, Verifier, VerifyError};

/// How often the trust list's schedule is looked at: it is fetched again when due
/// (`[verify] trust_list_refresh_secs`).
pub const TRUST_LIST_CHECK_EVERY: Duration = Duration::from_secs(30);

/// The two halves of the roots in force.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// The PEM file's roots, as read (empty without a file).
    file_pem: String,
    /// The trust list's roots (none before the first good list).
    list: Option<RootList>,
}

impl Held {
    /// Both halves as one PEM bundle: the roots the verifier trusts.
    pub fn pem(&self) -> String {
        let list = self.list.as_ref().map(RootList::pem).unwrap_or_default();
        format!("{}{list}", self.file_pem)
    }

    /// How many roots the list adds.
    pub fn list_roots(&self) -> usize {
        self.list.as_ref().map_or(0, RootList::len)
    }
}

/// The roots to start with: the file's, and the list fetched now, or else its copy on
/// disk, or else (when there is a file) none yet. Without a file, a list that can be
/// had neither way stops the start. Counts the fetch in `/metrics`.
pub async fn initial(
    file: Option<&Path>,
    list: Option<&TrustList>,
    metrics: &Metrics,
    now: i64,
) -> Result<Held, ServeError> {
    let mut held = Held::default();
    if let Some(path) = file {
        held.file_pem = read(path)?;
        if TrustAnchors::from_pem(&held.file_pem)
            .map_err(VerifyError::Anchors)?
            .is_empty()
        {
            return Err(VerifyError::NoAnchors.into());
        }
    }
    let Some(list) = list else {
        return Ok(held);
    };
    let source = list.source();
    let failed = match list.fetch(now).await {
        Ok(roots) => {
            metrics.trust_list_update(Reload::Ok);
            metrics.trust_list_held(roots.len(), now);
            info!(%source, roots = roots.len(), "trust list fetched");
            held.list = Some(roots);
            return Ok(held);
        }
        Err(e) => e,
    };
    metrics.trust_list_update(Reload::Error);
    error!(%source, error = %failed, "trust list not fetched at start");
    match list.cached(now).await {
        Some(Ok((roots, written))) => {
            warn!(%source, roots = roots.len(), written = %crate::clock::rfc3339(written), "starting with the trust list's cached copy");
            metrics.trust_list_held(roots.len(), written);
            held.list = Some(roots);
            Ok(held)
        }
        cached if file.is_some() => {
            if let Some(Err(e)) = cached {
                error!(%source, error = %e, "the trust list's cached copy is refused");
            }
            warn!(%source, "starting with the roots of [verify] trust_anchors alone until the trust list can be fetched");
            // Its age counts from now: the list has been missing since the start.
            metrics.trust_list_held(0, now);
            Ok(held)
        }
        cached => Err(ServeError::NoTrustList {
            list: source.to_string(),
            error: Box::new(failed),
            cache: match cached {
                Some(Err(e)) => format!("its cached copy is refused: {e}"),
                _ => "no cached copy ([verify] trust_list_cache)".to_owned(),
            },
        }),
    }
}

/// The verifier's trusted roots, kept in step with the PEM file (on SIGHUP, and when it
/// changes) and with the trust list (when due, and on SIGHUP). Whatever fails to load
/// leaves the roots in force, with an error.
pub struct Anchors {
    verifier: Verifier,
    file: Option<PathBuf>,
    /// The file's modification time and length when it was last read.
    stamp: Mutex<Option<(SystemTime, u64)>>,
    list: Option<TrustList>,
    metrics: Arc<Metrics>,
    held: Mutex<Held>,
}

impl Anchors {
    /// For `verifier`, which trusts `held`'s roots already.
    pub fn new(
        verifier: Verifier,
        file: Option<PathBuf>,
        list: Option<TrustList>,
        held: Held,
        metrics: Arc<Metrics>,
    ) -> Anchors {
        let stamp = Mutex::new(file.as_deref().and_then(file_stamp));
        Anchors {
            verifier,
            file,
            stamp,
            list,
            metrics,
            held: Mutex::new(held),
        }
    }

    /// Reads the file again and swaps its roots in beside the list's; a file that
    /// cannot be read, does not parse or holds no root leaves the roots in force.
    pub fn reload(&self) {
        let Some(file) = &self.file else {
            return;
        };
        *self.stamp.lock().unwrap_or_else(|e| e.into_inner()) = file_stamp(file);
        let path = file.display();
        let pem = match std::fs::read_to_string(file) {
            Ok(pem) => pem,
            Err(e) => {
                error!(%path, error = %e, "trust anchors not reloaded: keeping the current roots");
                return;
            }
        };
        let checked = TrustAnchors::from_pem(&pem)
            .map_err(VerifyError::from)
            .and_then(|a| match a.is_empty() {
                true => Err(VerifyError::NoAnchors),
                false => Ok(()),
            });
        if let Err(e) = checked {
            error!(%path, error = %e, "trust anchors not reloaded: keeping the current roots");
            return;
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let next = Held {
            file_pem: pem,
            list: held.list.clone(),
        };
        match self.verifier.replace_anchors(&next.pem()) {
            Ok(roots) => {
                *held = next;
                info!(%path, roots, "trust anchors reloaded");
            }
            Err(e) => {
                error!(%path, error = %e, "trust anchors not reloaded: keeping the current roots");
            }
        }
    }

    /// Reloads when the file changed (its time or length) since it was last read.
    pub fn reload_if_changed(&self) -> bool {
        let Some(file) = &self.file else {
            return false;
        };
        let now = file_stamp(file);
        let changed = *self.stamp.lock().unwrap_or_else(|e| e.into_inner()) != now;
        if changed {
            self.reload();
        }
        changed
    }

    /// Fetches the trust list when it is due at `now` and swaps its roots in. Returns
    /// `None` when it was not due (or there is no list), else how many roots the list
    /// holds or why it was refused.
    pub async fn refresh_list(&self, now: i64) -> Option<Result<usize, TrustListError>> {
        let list = self.list.as_ref()?;
        let result = list.refresh(now).await?;
        Some(self.take_list(list, result, now))
    }

    /// Fetches the trust list now, whatever its schedule (SIGHUP), and swaps its roots
    /// in. `None` when there is no list.
    pub async fn reload_list(&self, now: i64) -> Option<Result<usize, TrustListError>> {
        let list = self.list.as_ref()?;
        let result = list.fetch(now).await;
        Some(self.take_list(list, result, now))
    }

    /// The roots in force: the file's and the list's.
    pub fn held(&self) -> Held {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Swaps in the list's roots beside the file's, or counts and logs why not. Returns
    /// how many roots the list holds.
    fn take_list(
        &self,
        list: &TrustList,
        result: Result<RootList, TrustListError>,
        now: i64,
    ) -> Result<usize, TrustListError> {
        let source = list.source();
        let taken = result.and_then(|roots| {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            let next = Held {
                file_pem: held.file_pem.clone(),
                list: Some(roots),
            };
            let total = (self.verifier)
                .replace_anchors(&next.pem())
                .map_err(TrustListError::Verifier)?;
            let (added, removed) = changes(held.list.as_ref(), next.list.as_ref());
            let roots = next.list_roots();
            info!(%source, roots, total, added = %added.join("; "), removed = %removed.join("; "), "trust list taken");
            *held = next;
            Ok(roots)
        });
        match &taken {
            Ok(roots) => {
                self.metrics.trust_list_update(Reload::Ok);
                self.metrics.trust_list_held(*roots, now);
            }
            Err(e) => {
                self.metrics.trust_list_update(Reload::Error);
                error!(%source, error = %e, "trust list refused: keeping the current roots");
            }
        }
        taken
    }
}

/// The subjects `after` has and `before` lacks, and the other way round.
fn changes(before: Option<&RootList>, after: Option<&RootList>) -> (Vec<String>, Vec<String>) {
    let subjects = |l: Option<&RootList>| -> Vec<String> {
        l.map(|l| l.subjects().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let (before, after) = (subjects(before), subjects(after));
    let added = after.iter().filter(|s| !before.contains(s)).cloned();
    let removed = before.iter().filter(|s| !after.contains(s)).cloned();
    (added.collect(), removed.collect())
}

/// Checks the roots' file every `every` and reloads it when it changed, until shutdown.
pub async fn watch_anchors(anchors: Arc<Anchors>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        let a = Arc::clone(&anchors);
        // File reads and parsing stay off the async workers.
        let _ = tokio::task::spawn_blocking(move || a.reload_if_changed()).await;
    }
}

/// Looks at the trust list's schedule every `every` and fetches it when due, until
/// shutdown.
pub async fn watch_trust_list(anchors: Arc<Anchors>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        anchors.refresh_list(crate::clock::now_unix()).await;
    }
}
