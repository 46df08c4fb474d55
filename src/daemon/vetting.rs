//! The vetting side of a running server: the rules file and the subscriber records named
//! in `[vetting]`, loaded at start-up (a bad one stops the start, naming the file) and on
//! SIGHUP (a bad one is logged and the current one kept).

use std::path::Path;
use std::sync::Arc;

use tracing::{error, info};

use super::ServeError;
use crate::config::VettingConfig;
use crate::metrics::Metrics;
use crate::trusthub::Hub;
use crate::trusthub::vetting::{Deadlines, Vetting};
use crate::vetting::identity::{Provider, Records};
use crate::vetting::workflow::Workflows;

fn read(path: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The rules file, or the embedded default.
pub fn workflows(cfg: &VettingConfig) -> Result<Workflows, ServeError> {
    let Some(path) = &cfg.workflows else {
        return Ok(Workflows::embedded());
    };
    let text = String::from_utf8(read(path)?)
        .map_err(|_| ServeError::Vetting(format!("{}: not UTF-8 text", path.display())))?;
    Workflows::parse(&text).map_err(|e| ServeError::Vetting(format!("{}: {e}", path.display())))
}

/// The subscriber records, or none.
pub fn records(cfg: &VettingConfig) -> Result<Records, ServeError> {
    let Some(path) = &cfg.subscriber_records else {
        return Ok(Records::default());
    };
    let file = std::fs::File::open(path).map_err(|source| ServeError::Read {
        path: path.to_owned(),
        source,
    })?;
    Records::from_csv(std::io::BufReader::new(file))
        .map_err(|e| ServeError::Vetting(format!("{}: {e}", path.display())))
}

/// The service's vetting, from `[vetting]`.
pub fn load(cfg: &VettingConfig, metrics: &Arc<Metrics>) -> Result<Vetting, ServeError> {
    let rules = workflows(cfg)?;
    let records = records(cfg)?;
    info!(version = %rules.version, records = records.len(), automatic = cfg.automatic, "vetting loaded");
    let provider: Arc<dyn Provider> = Arc::new(records);
    Ok(Vetting::new(
        rules,
        provider,
        Deadlines {
            customer_profile: i64::from(cfg.customer_profile_deadline_hours) * 3600,
            trust_product: i64::from(cfg.trust_product_deadline_hours) * 3600,
        },
        cfg.automatic,
        Some(Arc::clone(metrics)),
    )
    .with_dormancy(
        (cfg.dormant_after_days > 0).then(|| i64::from(cfg.dormant_after_days) * 86_400),
    ))
}

/// Re-reads the rules file and the subscriber records (SIGHUP); what fails to load is
/// logged and the current one kept.
pub fn reload(cfg: &VettingConfig, hub: &Hub) {
    let Some(vetting) = hub.vetting() else {
        return;
    };
    match workflows(cfg) {
        Ok(rules) => vetting.replace_rules(rules),
        Err(e) => error!(error = %e, "vetting workflows reload failed: keeping the current rules"),
    }
    match records(cfg) {
        Ok(records) => {
            info!(records = records.len(), "subscriber records reloaded");
            vetting.replace_provider(Arc::new(records));
        }
        Err(e) => {
            error!(error = %e, "subscriber records reload failed: keeping the current records")
        }
    }
}
