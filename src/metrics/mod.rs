//! Prometheus metrics: signing decisions, rejections, parse errors and pipeline latency.
//!
//! One [`Metrics`] value is shared by the proxy and rendered by the HTTP `/metrics` route.
//! Every label value is one of the typed values in [`labels`] (or a level, reason or
//! verstat), so the set the code can emit is known and documented in docs/observability.md.

pub mod calls;
pub mod labels;
#[cfg(test)]
mod tests;

pub use labels::{Discarded, Panic, Rejected, Reload, Timeout, TlsFailure, Unsigned};

use crate::passport::Attest;
use crate::trust::Reason;
use crate::verify::Verstat;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignedLabels {
    pub level: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerstatLabels {
    pub verstat: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CauseLabels {
    pub cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// The status decided: `twilio-approved`, `twilio-rejected` or `in-review`.
    pub outcome: &'static str,
    /// `workflow` or `operator`.
    pub decided_by: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RestLabels {
    /// `signing` or `verification`.
    pub endpoint: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub stage: &'static str,
}

/// A signing certificate: `default` for `[signing]`'s, else the signing identity's SID.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CertificateLabels {
    pub identity: String,
}

/// A CRL the verifier holds, by the URL it is fetched from.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CrlLabels {
    pub url: String,
}

/// The build: its version and the git revision it was built from.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
    pub revision: &'static str,
}

/// The version and git revision of this build.
pub const BUILD: BuildLabels = BuildLabels {
    version: env!("CARGO_PKG_VERSION"),
    revision: env!("CALLSIGN_GIT_REVISION"),
};

/// All counters callsign exports.
pub struct Metrics {
    registry: Registry,
    pub calls_signed: Family<SignedLabels, Counter>,
    pub calls_unsigned: Family<CauseLabels, Counter>,
    pub calls_verified: Family<VerstatLabels, Counter>,
    pub requests_rejected: Family<CauseLabels, Counter>,
    pub parse_errors: Family<CauseLabels, Counter>,
    pub timeouts: Family<CauseLabels, Counter>,
    pub trust_reloads: Family<CauseLabels, Counter>,
    pub signing_reloads: Family<CauseLabels, Counter>,
    pub tls_reloads: Family<CauseLabels, Counter>,
    pub tls_handshake_failures: Family<CauseLabels, Counter>,
    pub internal_panics: Family<StageLabels, Counter>,
    pub api_errors: Family<StatusLabels, Counter>,
    /// ATIS-1000082 REST requests answered, by endpoint and HTTP status.
    pub sti_rest_requests: Family<RestLabels, Counter>,
    pub identity_stripped: Counter,
    pub retransmissions_absorbed: Counter,
    pub origination_failovers: Counter,
    pub number_routes: Counter,
    pub trust_index_seq: Gauge,
    pub trust_feed_lag: Gauge,
    pub trust_feed_lag_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub trust_store_up: Gauge,
    pub trust_feed_reconnects: Counter,
    pub transactions: Gauge,
    /// 1 while the server drains before stopping (SIGTERM), else 0.
    pub draining: Gauge,
    /// Log lines dropped by the non-blocking log writer, as of the last scrape
    /// ([`count_dropped_log_lines`]).
    pub log_lines_dropped: Counter,
    pub pipeline_seconds: Histogram,
    pub build_info: Family<BuildLabels, Gauge>,
    /// Seconds until each signing certificate expires, as of the scrape
    /// ([`Metrics::certificates_expire`]).
    pub certificate_expiry_seconds: Family<CertificateLabels, Gauge>,
    /// When `[signing]`'s certificate expires (Unix time; 0 before it is loaded).
    pub default_not_after: std::sync::atomic::AtomicI64,
    /// Certificates whose revocation could not be checked (`crl = "best-effort"`).
    pub crl_unchecked: Counter,
    /// Seconds until each held CRL's nextUpdate (negative once past), by URL.
    pub crl_next_update_seconds: Family<CrlLabels, Gauge>,
    /// 1 for a CRL past nextUpdate plus the grace period (or never fetched), by URL.
    pub crl_stale: Family<CrlLabels, Gauge>,
    /// CRL fetches by the background refresh, by result (`ok`, `error`).
    pub crl_refreshes: Family<CauseLabels, Counter>,
    /// Roots in force from the trust list (`[verify] trust_list`).
    pub trust_list_roots: Gauge,
    /// Trust list fetches (or reads of its file), by result (`ok`, `error`).
    pub trust_list_updates: Family<CauseLabels, Counter>,
    /// Seconds since the trust list in force was fetched, as of the scrape
    /// ([`Metrics::trust_list_age`]).
    pub trust_list_age_seconds: Gauge,
    /// When the trust list in force was fetched (Unix time; 0 without a trust list).
    pub trust_list_fetched_at: std::sync::atomic::AtomicI64,
    /// Review decisions, by the status decided and who decided.
    pub vetting_decisions: Family<DecisionLabels, Counter>,
    /// Review decisions made after their deadline, by who decided.
    pub vetting_decisions_late: Family<DeciderLabels, Counter>,
    /// Bundles waiting for a decision, as of the scrape.
    pub vetting_queue_bundles: Gauge,
    /// Seconds the longest-waiting bundle has waited since submission, as of the scrape.
    pub vetting_queue_oldest_seconds: Gauge,
    /// Bundles in the queue past their deadline, as of the scrape.
    pub vetting_queue_overdue: Gauge,
    /// Signed calls by account, level and reason over the last hours (the console's
    /// charts; not exported).
    pub calls: calls::CallStats,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeciderLabels {
    pub decided_by: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("callsign");
        let m = Metrics {
            calls_signed: Family::default(),
            calls_unsigned: Family::default(),
            calls_verified: Family::default(),
            requests_rejected: Family::default(),
            parse_errors: Family::default(),
            timeouts: Family::default(),
            trust_reloads: Family::default(),
            signing_reloads: Family::default(),
            tls_reloads: Family::default(),
            tls_handshake_failures: Family::default(),
            internal_panics: Family::default(),
            api_errors: Family::default(),
            sti_rest_requests: Family::default(),
            identity_stripped: Counter::default(),
            retransmissions_absorbed: Counter::default(),
            origination_failovers: Counter::default(),
            number_routes: Counter::default(),
            trust_index_seq: Gauge::default(),
            trust_feed_lag: Gauge::default(),
            trust_feed_lag_seconds: Gauge::default(),
            trust_store_up: Gauge::default(),
            trust_feed_reconnects: Counter::default(),
            transactions: Gauge::default(),
            draining: Gauge::default(),
            log_lines_dropped: Counter::default(),
            // 5 µs .. ~80 ms in factor-2 steps.
            pipeline_seconds: Histogram::new(exponential_buckets(5e-6, 2.0, 15)),
            build_info: Family::default(),
            certificate_expiry_seconds: Family::default(),
            default_not_after: std::sync::atomic::AtomicI64::new(0),
            crl_unchecked: Counter::default(),
            crl_next_update_seconds: Family::default(),
            crl_stale: Family::default(),
            crl_refreshes: Family::default(),
            trust_list_roots: Gauge::default(),
            trust_list_updates: Family::default(),
            trust_list_age_seconds: Gauge::default(),
            trust_list_fetched_at: std::sync::atomic::AtomicI64::new(0),
            vetting_decisions: Family::default(),
            vetting_decisions_late: Family::default(),
            vetting_queue_bundles: Gauge::default(),
            vetting_queue_oldest_seconds: Gauge::default(),
            vetting_queue_overdue: Gauge::default(),
            calls: calls::CallStats::default(),
            registry: Registry::default(),
        };
        m.build_info.get_or_create(&BUILD).set(1);
        registry.register(
            "build_info",
            "The build: version and git revision (always 1)",
            m.build_info.clone(),
        );
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until each signing certificate expires (negative once expired), by identity",
            m.certificate_expiry_seconds.clone(),
        );
        registry.register(
            "crl_unchecked",
            "Certificates whose revocation could not be checked in best-effort mode (the call went on)",
            m.crl_unchecked.clone(),
        );
        registry.register(
            "crl_next_update_seconds",
            "Seconds until each held CRL's nextUpdate (negative once past), by URL",
            m.crl_next_update_seconds.clone(),
        );
        registry.register(
            "crl_stale",
            "1 when a CRL is past its nextUpdate plus the grace period, or was never fetched, by URL",
            m.crl_stale.clone(),
        );
        registry.register(
            "crl_refreshes",
            "Background CRL fetches, by result",
            m.crl_refreshes.clone(),
        );
        registry.register(
            "trust_list_roots",
            "Roots in force from the STI-PA trust list ([verify] trust_list)",
            m.trust_list_roots.clone(),
        );
        registry.register(
            "trust_list_updates",
            "Trust list fetches (or reads of its file), by result",
            m.trust_list_updates.clone(),
        );
        registry.register(
            "trust_list_age_seconds",
            "Seconds since the trust list in force was fetched",
            m.trust_list_age_seconds.clone(),
        );
        registry.register(
            "vetting_decisions",
            "Review decisions on customer profiles and trust products, by the status decided and who decided (workflow or operator)",
            m.vetting_decisions.clone(),
        );
        registry.register(
            "vetting_decisions_late",
            "Review decisions made after the bundle's deadline, by who decided",
            m.vetting_decisions_late.clone(),
        );
        registry.register(
            "vetting_queue_bundles",
            "Bundles waiting for a review decision (pending-review and in-review)",
            m.vetting_queue_bundles.clone(),
        );
        registry.register(
            "vetting_queue_oldest_seconds",
            "Seconds the longest-waiting bundle in the review queue has waited since submission",
            m.vetting_queue_oldest_seconds.clone(),
        );
        registry.register(
            "vetting_queue_overdue",
            "Bundles in the review queue past their deadline",
            m.vetting_queue_overdue.clone(),
        );
        registry.register(
            "calls_signed",
            "Initial INVITEs signed, by attestation level and reason",
            m.calls_signed.clone(),
        );
        registry.register(
            "calls_unsigned",
            "Initial INVITEs forwarded without a signature, by cause",
            m.calls_unsigned.clone(),
        );
        registry.register(
            "calls_verified",
            "Initial INVITEs from verifying trunks, by verstat",
            m.calls_verified.clone(),
        );
        registry.register(
            "requests_rejected",
            "Requests refused with an error response, by cause",
            m.requests_rejected.clone(),
        );
        registry.register(
            "parse_errors",
            "Messages that could not be parsed, by kind",
            m.parse_errors.clone(),
        );
        registry.register(
            "timeouts",
            "Client transactions that timed out, by timer",
            m.timeouts.clone(),
        );
        registry.register(
            "trust_reloads",
            "Trust data reloads, by result",
            m.trust_reloads.clone(),
        );
        registry.register(
            "signing_reloads",
            "Signing key and certificate reloads (SIGHUP), by result",
            m.signing_reloads.clone(),
        );
        registry.register(
            "tls_reloads",
            "SIP TLS certificate and key reloads (SIGHUP), by result",
            m.tls_reloads.clone(),
        );
        registry.register(
            "tls_handshake_failures",
            "SIP TLS connections closed before or at the end of their handshake, by cause",
            m.tls_handshake_failures.clone(),
        );
        registry.register(
            "internal_panics",
            "Panics caught while handling a message (the message is dropped), by stage",
            m.internal_panics.clone(),
        );
        registry.register(
            "api_errors",
            "Trust Hub API responses with a 4xx or 5xx status, by status",
            m.api_errors.clone(),
        );
        registry.register(
            "sti_rest_requests",
            "ATIS-1000082 signing and verification requests from SBCs, by endpoint and HTTP status",
            m.sti_rest_requests.clone(),
        );
        registry.register(
            "identity_stripped",
            "Untrusted Identity headers removed from trunk requests",
            m.identity_stripped.clone(),
        );
        registry.register(
            "retransmissions_absorbed",
            "Request retransmissions answered from transaction state",
            m.retransmissions_absorbed.clone(),
        );
        registry.register(
            "origination_failovers",
            "Calls moved to a trunk's next origination URL after a 503 or no answer",
            m.origination_failovers.clone(),
        );
        registry.register(
            "number_routes",
            "Verified calls delivered to the origination URLs of the trunk their called number is on",
            m.number_routes.clone(),
        );
        registry.register(
            "trust_index_seq",
            "The shared store's change-log seq the trust index has applied (0 on SQLite)",
            m.trust_index_seq.clone(),
        );
        registry.register(
            "trust_feed_lag",
            "Changes committed to the shared store that the trust index has not applied yet",
            m.trust_feed_lag.clone(),
        );
        registry.register(
            "trust_feed_lag_seconds",
            "Seconds since the trust index was last seen at the shared store's change-log head",
            m.trust_feed_lag_seconds.clone(),
        );
        registry.register(
            "trust_store_up",
            "Whether the last read of the shared store's change log succeeded (1) or not (0)",
            m.trust_store_up.clone(),
        );
        registry.register(
            "trust_feed_reconnects",
            "Times the shared store's change listener reconnected",
            m.trust_feed_reconnects.clone(),
        );
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because the log writer fell behind: logging never holds up a call",
            m.log_lines_dropped.clone(),
        );
        registry.register(
            "draining",
            "1 while the server drains before stopping: new requests get 503, those in flight finish",
            m.draining.clone(),
        );
        registry.register(
            "transactions",
            "Transactions currently held",
            m.transactions.clone(),
        );
        registry.register(
            "pipeline_seconds",
            "Time from a received initial INVITE to its forwarded bytes",
            m.pipeline_seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn signed(&self, level: Attest, reason: Reason) {
        let labels = SignedLabels {
            level: level.as_str(),
            reason: reason.as_str(),
        };
        self.calls_signed.get_or_create(&labels).inc();
    }

    /// A PASSporT signed on another basis than the trust data's reason: `sbc_ceiling`
    /// (an SBC asked for a lower level) or `sbc_asserted` (an SBC's own level).
    pub fn signed_as(&self, level: Attest, basis: &'static str) {
        let labels = SignedLabels {
            level: level.as_str(),
            reason: basis,
        };
        self.calls_signed.get_or_create(&labels).inc();
    }

    /// An ATIS-1000082 REST request answered with `status`.
    pub fn sti_rest(&self, endpoint: &'static str, status: u16) {
        let labels = RestLabels { endpoint, status };
        self.sti_rest_requests.get_or_create(&labels).inc();
    }

    pub fn unsigned(&self, cause: Unsigned) {
        count(&self.calls_unsigned, cause.as_str());
    }

    pub fn verified(&self, verstat: Verstat) {
        let labels = VerstatLabels {
            verstat: verstat.as_str(),
        };
        self.calls_verified.get_or_create(&labels).inc();
    }

    pub fn rejected(&self, cause: Rejected) {
        count(&self.requests_rejected, cause.as_str());
    }

    /// A Trust Hub API response with a 4xx or 5xx status.
    pub fn api_error(&self, status: u16) {
        self.api_errors
            .get_or_create(&StatusLabels { status })
            .inc();
    }

    pub fn parse_error(&self, cause: Discarded) {
        count(&self.parse_errors, cause.as_str());
    }

    pub fn timeout(&self, cause: Timeout) {
        count(&self.timeouts, cause.as_str());
    }

    pub fn signing_reload(&self, result: Reload) {
        count(&self.signing_reloads, result.as_str());
    }

    pub fn tls_reload(&self, result: Reload) {
        count(&self.tls_reloads, result.as_str());
    }

    /// A TLS connection, accepted or opened, that failed its handshake.
    pub fn tls_handshake_failed(&self, cause: TlsFailure) {
        count(&self.tls_handshake_failures, cause.as_str());
    }

    pub fn reload(&self, result: Reload) {
        count(&self.trust_reloads, result.as_str());
    }

    pub fn panicked(&self, stage: Panic) {
        let labels = StageLabels {
            stage: stage.as_str(),
        };
        self.internal_panics.get_or_create(&labels).inc();
    }

    /// Sets [`Metrics::certificate_expiry_seconds`] at `now` for `[signing]`'s
    /// certificate and `identities` (SID and not-after), dropping any other identity.
    pub fn certificates_expire(&self, identities: &[(String, i64)], now: i64) {
        let family = &self.certificate_expiry_seconds;
        family.clear();
        let default = self
            .default_not_after
            .load(std::sync::atomic::Ordering::Relaxed);
        let defaults = (default != 0).then(|| ("default".to_owned(), default));
        for (identity, not_after) in identities.iter().cloned().chain(defaults) {
            family
                .get_or_create(&CertificateLabels { identity })
                .set(not_after - now);
        }
    }

    /// Records a background CRL refresh at `now`: each CRL's time to nextUpdate and
    /// whether it is stale (CRLs no longer held are dropped), and the fetches' results.
    pub fn crls_refreshed(&self, statuses: &[crate::verify::CrlStatus], now: i64) {
        self.crl_next_update_seconds.clear();
        self.crl_stale.clear();
        for status in statuses {
            let labels = CrlLabels {
                url: status.url.clone(),
            };
            if let Some(next) = status.next_update {
                self.crl_next_update_seconds
                    .get_or_create(&labels)
                    .set(next - now);
            }
            self.crl_stale
                .get_or_create(&labels)
                .set(i64::from(status.stale));
            if status.refreshed {
                count(&self.crl_refreshes, "ok");
            } else if status.error.is_some() && status.attempted {
                count(&self.crl_refreshes, "error");
            }
        }
    }

    /// Counts a fetch (or read) of the trust list: taken, or refused (the roots in
    /// force stay).
    pub fn trust_list_update(&self, result: Reload) {
        count(&self.trust_list_updates, result.as_str());
    }

    /// The trust list in force: how many roots it has, and when it was fetched (Unix
    /// time).
    pub fn trust_list_held(&self, roots: usize, fetched_at: i64) {
        self.trust_list_roots
            .set(i64::try_from(roots).unwrap_or(i64::MAX));
        (self.trust_list_fetched_at).store(fetched_at, std::sync::atomic::Ordering::Relaxed);
    }

    /// The review decisions counted on this node since it started: `(status decided,
    /// decider, decisions, late ones)` for each pair that has any.
    pub fn vetting_decisions(&self) -> Vec<(&'static str, &'static str, u64, u64)> {
        use crate::trust::{BundleStatus, Decider};
        let mut out = Vec::new();
        for by in [Decider::Workflow, Decider::Operator] {
            let late = (self.vetting_decisions_late)
                .get(&DeciderLabels {
                    decided_by: by.as_str(),
                })
                .map_or(0, |c| c.get());
            for to in [
                BundleStatus::TwilioApproved,
                BundleStatus::TwilioRejected,
                BundleStatus::InReview,
            ] {
                let labels = DecisionLabels {
                    outcome: to.as_str(),
                    decided_by: by.as_str(),
                };
                let n = self.vetting_decisions.get(&labels).map_or(0, |c| c.get());
                if n > 0 {
                    out.push((to.as_str(), by.as_str(), n, late));
                }
            }
        }
        out
    }

    /// A review decision moving a bundle to `to`, by `by`, late or not.
    pub fn vetting_decided(
        &self,
        to: crate::trust::BundleStatus,
        by: crate::trust::Decider,
        late: bool,
    ) {
        let labels = DecisionLabels {
            outcome: to.as_str(),
            decided_by: by.as_str(),
        };
        self.vetting_decisions.get_or_create(&labels).inc();
        if late {
            let labels = DeciderLabels {
                decided_by: by.as_str(),
            };
            self.vetting_decisions_late.get_or_create(&labels).inc();
        }
    }

    /// Sets the review queue's gauges: its length, the oldest bundle's wait, and how
    /// many are past their deadline.
    pub fn vetting_queue(&self, bundles: usize, oldest_seconds: i64, overdue: usize) {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.vetting_queue_bundles.set(n(bundles));
        self.vetting_queue_oldest_seconds.set(oldest_seconds.max(0));
        self.vetting_queue_overdue.set(n(overdue));
    }

    /// Sets [`Metrics::trust_list_age_seconds`] as of `now` (0 without a trust list).
    pub fn trust_list_age(&self, now: i64) {
        let at = (self.trust_list_fetched_at).load(std::sync::atomic::Ordering::Relaxed);
        let age = if at == 0 { 0 } else { now.saturating_sub(at) };
        self.trust_list_age_seconds.set(age);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        if let Some(dropped) = DROPPED_LOG_LINES.get() {
            let (now, seen) = (dropped.dropped_lines() as u64, self.log_lines_dropped.get());
            if now > seen {
                self.log_lines_dropped.inc_by(now - seen);
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The process's non-blocking log writer's count of lines it dropped.
static DROPPED_LOG_LINES: std::sync::OnceLock<tracing_appender::non_blocking::ErrorCounter> =
    std::sync::OnceLock::new();

/// Makes `/metrics` report the lines the log writer behind `counter` dropped.
pub fn count_dropped_log_lines(counter: tracing_appender::non_blocking::ErrorCounter) {
    let _ = DROPPED_LOG_LINES.set(counter);
}

fn count(family: &Family<CauseLabels, Counter>, cause: &'static str) {
    family.get_or_create(&CauseLabels { cause }).inc();
}
