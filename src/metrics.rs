//! Prometheus metrics: signing decisions, rejections, parse errors and pipeline latency.
//!
//! One [`Metrics`] value is shared by the proxy and rendered by the HTTP `/metrics` route.

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
    pub identity_stripped: Counter,
    pub retransmissions_absorbed: Counter,
    pub transactions: Gauge,
    pub pipeline_seconds: Histogram,
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
            identity_stripped: Counter::default(),
            retransmissions_absorbed: Counter::default(),
            transactions: Gauge::default(),
            // 5 µs .. ~80 ms in factor-2 steps.
            pipeline_seconds: Histogram::new(exponential_buckets(5e-6, 2.0, 15)),
            registry: Registry::default(),
        };
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

    pub fn signed(&self, level: &'static str, reason: &'static str) {
        self.calls_signed
            .get_or_create(&SignedLabels { level, reason })
            .inc();
    }

    pub fn unsigned(&self, cause: &'static str) {
        self.calls_unsigned
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    pub fn verified(&self, verstat: &'static str) {
        self.calls_verified
            .get_or_create(&VerstatLabels { verstat })
            .inc();
    }

    pub fn rejected(&self, cause: &'static str) {
        self.requests_rejected
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    pub fn parse_error(&self, cause: &'static str) {
        self.parse_errors
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    pub fn timeout(&self, cause: &'static str) {
        self.timeouts.get_or_create(&CauseLabels { cause }).inc();
    }

    pub fn signing_reload(&self, cause: &'static str) {
        self.signing_reloads
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    pub fn reload(&self, cause: &'static str) {
        self.trust_reloads
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_appear_in_the_exposition() {
        let m = Metrics::new();
        m.signed("A", "a_full");
        m.signed("A", "a_full");
        m.rejected("forbidden_source");
        m.pipeline_seconds.observe(20e-6);
        let text = m.render();
        assert!(
            text.contains("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 2"),
            "{text}"
        );
        assert!(text.contains("callsign_requests_rejected_total{cause=\"forbidden_source\"} 1"));
        assert!(text.contains("callsign_pipeline_seconds_count 1"));
    }
}
