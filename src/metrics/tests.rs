use super::*;
use crate::trust::{BundleStatus, Decider};

#[test]
fn counters_appear_in_the_exposition() {
    let m = Metrics::new();
    m.signed(Attest::A, Reason::AFull);
    m.signed(Attest::A, Reason::AFull);
    m.rejected(Rejected::ForbiddenSource);
    m.pipeline_seconds.observe(20e-6);
    let text = m.render();
    assert!(
        text.contains("callsign_calls_signed_total{level=\"A\",reason=\"a_full\"} 2"),
        "{text}"
    );
    assert!(text.contains("callsign_requests_rejected_total{cause=\"forbidden_source\"} 1"));
    assert!(text.contains("callsign_pipeline_seconds_count 1"));
}

#[test]
fn a_caught_panic_is_not_a_parse_error() {
    let m = Metrics::new();
    m.panicked(Panic::Message);
    let text = m.render();
    assert!(text.contains("callsign_internal_panics_total{stage=\"message\"} 1"));
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("callsign_parse_errors_total{")),
        "{text}"
    );
}

/// A Metrics on which every label value the code can emit has been counted once.
fn every_label_counted() -> Metrics {
    let m = Metrics::new();
    for &level in &Attest::ALL {
        for &reason in Reason::ALL {
            m.signed(level, reason);
        }
    }
    for &v in &Verstat::ALL {
        m.verified(v);
    }
    Unsigned::ALL.iter().for_each(|&c| m.unsigned(c));
    Rejected::ALL.iter().for_each(|&c| m.rejected(c));
    Discarded::ALL.iter().for_each(|&c| m.parse_error(c));
    Timeout::ALL.iter().for_each(|&c| m.timeout(c));
    Reload::ALL.iter().for_each(|&c| m.reload(c));
    Reload::ALL.iter().for_each(|&c| m.signing_reload(c));
    Reload::ALL.iter().for_each(|&c| m.tls_reload(c));
    TlsFailure::ALL
        .iter()
        .for_each(|&c| m.tls_handshake_failed(c));
    Panic::ALL.iter().for_each(|&c| m.panicked(c));
    m.identity_stripped.inc();
    m.retransmissions_absorbed.inc();
    m.pipeline_seconds.observe(1e-5);
    (m.default_not_after).store(2_000, std::sync::atomic::Ordering::Relaxed);
    m.certificates_expire(
        &[("SI00000000000000000000000000000001".into(), 1_500)],
        1_000,
    );
    m.crl_unchecked.inc();
    m.crls_refreshed(&[crl_status(true), crl_status(false)], 1_000);
    Reload::ALL.iter().for_each(|&c| m.trust_list_update(c));
    m.trust_list_held(19, 1_000);
    m.trust_list_age(1_060);
    for to in [
        BundleStatus::TwilioApproved,
        BundleStatus::TwilioRejected,
        BundleStatus::InReview,
    ] {
        for by in [Decider::Workflow, Decider::Operator] {
            m.vetting_decided(to, by, true);
        }
    }
    m.vetting_queue(3, 7_200, 1);
    m
}

/// A CRL the refresh fetched (`ok`), or failed to.
fn crl_status(ok: bool) -> crate::verify::CrlStatus {
    crate::verify::CrlStatus {
        url: format!("https://crl.example/{ok}.crl"),
        next_update: Some(2_000),
        stale: !ok,
        attempted: true,
        refreshed: ok,
        error: (!ok).then(|| "HTTP status 404".to_owned()),
    }
}

/// The `## Metrics` section of docs/observability.md.
fn documented_metrics() -> &'static str {
    let page = include_str!("../../docs/observability.md");
    let start = page
        .find("\n## Metrics\n")
        .expect("docs/observability.md has a Metrics section");
    let section = &page[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    &section[..end]
}

/// Each sample of the exposition as (metric, [(label, value)]).
fn samples(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let name_end = l.find(['{', ' ']).unwrap_or(l.len());
            let name = l[..name_end].to_string();
            let labels = match l[name_end..].strip_prefix('{') {
                Some(rest) => rest[..rest.find('}').unwrap()]
                    .split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                    .collect(),
                None => Vec::new(),
            };
            (name, labels)
        })
        .collect()
}

#[test]
fn every_metric_and_label_value_is_documented() {
    let section = documented_metrics();
    let text = every_label_counted().render();
    let mut checked = 0;
    for (name, labels) in samples(&text) {
        // A histogram's series are documented under the histogram's name.
        let documented = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|base| section.contains(&format!("`{base}`")))
            .unwrap_or(&name);
        let row = section
            .lines()
            .find(|l| l.starts_with('|') && l.contains(&format!("`{documented}`")))
            .unwrap_or_else(|| {
                panic!("the metrics table of docs/observability.md has no row for `{documented}`")
            });
        // Labels whose values are the build's or a record's are documented by name.
        if [
            "callsign_build_info",
            "callsign_certificate_expiry_seconds",
            "callsign_crl_next_update_seconds",
            "callsign_crl_stale",
        ]
        .contains(&documented)
        {
            for (label, _) in &labels {
                assert!(row.contains(&format!("`{label}`")), "{row}");
            }
            continue;
        }
        for (label, value) in labels.iter().filter(|(k, _)| k != "le") {
            assert!(
                row.contains(&format!("`{label}`")) && row.contains(&format!("`{value}`")),
                "the docs' row for `{documented}` does not document {label}=`{value}`:\n{row}"
            );
            checked += 1;
        }
    }
    // Every value of every label enum was counted and checked.
    let expected = Attest::ALL.len() * Reason::ALL.len() * 2
        + Verstat::ALL.len()
        + Unsigned::ALL.len()
        + Rejected::ALL.len()
        + Discarded::ALL.len()
        + Timeout::ALL.len()
        + Reload::ALL.len() * 4
        + TlsFailure::ALL.len()
        + Panic::ALL.len()
        + 2 // crl_refreshes: ok, error
        + 3 * 2 * 2 // vetting decisions: three outcomes by two deciders, two labels each
        + 2; // late vetting decisions: by two deciders
    assert_eq!(checked, expected);
}

#[test]
fn crl_states_are_those_of_the_last_refresh() {
    let m = Metrics::new();
    m.crls_refreshed(&[crl_status(true), crl_status(false)], 1_500);
    let text = m.render();
    assert!(
        text.contains("callsign_crl_next_update_seconds{url=\"https://crl.example/true.crl\"} 500"),
        "{text}"
    );
    assert!(
        text.contains("callsign_crl_stale{url=\"https://crl.example/false.crl\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("callsign_crl_stale{url=\"https://crl.example/true.crl\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("callsign_crl_refreshes_total{cause=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("callsign_crl_refreshes_total{cause=\"error\"} 1"),
        "{text}"
    );
    // A CRL no longer held disappears; one not due this time is not counted again.
    let mut quiet = crl_status(true);
    quiet.attempted = false;
    quiet.refreshed = false;
    m.crls_refreshed(&[quiet], 1_600);
    let text = m.render();
    assert!(!text.contains("false.crl"), "{text}");
    assert!(
        text.contains("callsign_crl_refreshes_total{cause=\"ok\"} 1"),
        "{text}"
    );
}

#[test]
fn the_trust_list_age_is_as_of_the_scrape() {
    let m = Metrics::new();
    m.trust_list_age(5_000);
    let text = m.render();
    assert!(
        text.contains("callsign_trust_list_age_seconds 0\n"),
        "{text}"
    );
    assert!(text.contains("callsign_trust_list_roots 0\n"), "{text}");
    m.trust_list_held(19, 1_000);
    m.trust_list_update(Reload::Ok);
    m.trust_list_update(Reload::Error);
    m.trust_list_age(4_600);
    let text = m.render();
    for sample in [
        "callsign_trust_list_roots 19\n",
        "callsign_trust_list_age_seconds 3600\n",
        "callsign_trust_list_updates_total{cause=\"ok\"} 1\n",
        "callsign_trust_list_updates_total{cause=\"error\"} 1\n",
    ] {
        assert!(text.contains(sample), "{sample}{text}");
    }
}

#[test]
fn certificate_expiry_is_as_of_the_scrape_and_forgets_removed_identities() {
    let m = Metrics::new();
    let si = "SI00000000000000000000000000000001".to_owned();
    m.certificates_expire(&[(si.clone(), 5_000)], 1_000);
    let text = m.render();
    assert!(
        text.contains(&format!(
            "callsign_certificate_expiry_seconds{{identity=\"{si}\"}} 4000"
        )),
        "{text}"
    );
    assert!(
        !text.contains("identity=\"default\""),
        "not loaded yet: {text}"
    );
    (m.default_not_after).store(900, std::sync::atomic::Ordering::Relaxed);
    m.certificates_expire(&[], 1_000);
    let text = m.render();
    assert!(
        text.contains("callsign_certificate_expiry_seconds{identity=\"default\"} -100"),
        "{text}"
    );
    assert!(!text.contains(&si), "a removed identity is dropped: {text}");
    let build = format!(
        "callsign_build_info{{version=\"{}\",revision=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        env!("CALLSIGN_GIT_REVISION")
    );
    assert!(text.contains(&build), "{text}");
}

/// The base names (no `_total`, `_bucket`, `_sum`, `_count`) of the `callsign_` metrics
/// named in `text`, including those a name regex such as `callsign_calls_(a|b)_total`
/// stands for.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let word = |t: &str| -> String {
        t.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut names = std::collections::BTreeSet::new();
    for (at, _) in text.match_indices("callsign_") {
        // A metric name starts the token: not the tail of a longer word.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let head = word(&text[at..]);
        let rest = &text[at + head.len()..];
        let full: Vec<String> = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((alternatives, after)) => {
                let tail = word(after);
                let alternatives = alternatives.split('|');
                alternatives.map(|a| format!("{head}{a}{tail}")).collect()
            }
            None => vec![head],
        };
        for name in full {
            let base = ["_total", "_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name);
            names.insert(base.to_owned());
        }
    }
    names
}

/// The metrics callsign exports, by base name, from their `# TYPE` lines once every
/// labelled family has a sample (an empty family is not rendered).
fn exported() -> std::collections::BTreeSet<String> {
    let m = Metrics::new();
    m.signed(Attest::A, Reason::AFull);
    m.unsigned(Unsigned::ALL[0]);
    m.verified(crate::verify::Verstat::Passed);
    m.rejected(Rejected::ALL[0]);
    m.api_error(404);
    m.sti_rest("signing", 200);
    m.parse_error(Discarded::ALL[0]);
    m.timeout(Timeout::ALL[0]);
    m.signing_reload(Reload::Ok);
    m.tls_reload(Reload::Ok);
    m.tls_handshake_failed(TlsFailure::ALL[0]);
    m.reload(Reload::Ok);
    m.panicked(Panic::ALL[0]);
    m.default_not_after
        .store(1, std::sync::atomic::Ordering::Relaxed);
    m.certificates_expire(&[], 0);
    m.crls_refreshed(&[crl_status(true)], 0);
    m.trust_list_update(Reload::Ok);
    m.vetting_decided(BundleStatus::TwilioApproved, Decider::Workflow, true);
    let names: std::collections::BTreeSet<String> = m
        .render()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect();
    // One name per registration: a family added without a sample above fails here.
    let registered = include_str!("mod.rs").matches("registry.register(").count();
    assert_eq!(names.len(), registered, "{names:?}");
    names
}

fn deploy_file(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_dashboard_and_the_alerts_name_only_metrics_callsign_exports() {
    let exported = exported();
    assert!(exported.contains("callsign_calls_signed"), "{exported:?}");
    for file in [
        "deploy/grafana/callsign.json",
        "deploy/prometheus/callsign-rules.yml",
    ] {
        let named = metric_names(&deploy_file(file));
        assert!(named.len() >= 8, "{file} names {named:?}");
        let unknown: Vec<_> = named.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{file} names metrics callsign lacks: {unknown:?}"
        );
    }
}

#[test]
fn the_dashboard_charts_every_metric_callsign_exports() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&deploy_file("deploy/grafana/callsign.json")).unwrap();
    let exprs: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["expr"].as_str())
        .collect();
    let charted = metric_names(&exprs.join("\n"));
    let missing: Vec<_> = exported().difference(&charted).cloned().collect();
    assert!(missing.is_empty(), "not on the dashboard: {missing:?}");
    // Every query is scoped to the chosen nodes and names a data source variable.
    for p in dashboard["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap();
            assert!(expr.contains("instance=~\"$instance\""), "{expr}");
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{t}");
        }
    }
}

/// Runs `promtool` with `args` in deploy/prometheus.
fn promtool(args: &[&str]) -> std::process::Output {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus");
    let promtool = std::env::var("CALLSIGN_PROMTOOL").unwrap_or_else(|_| "promtool".to_owned());
    std::process::Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool is on PATH or named by CALLSIGN_PROMTOOL (scripts/test.sh extracts it)")
}

#[test]
#[ignore = "needs promtool (Debian package prometheus); run by the README test command"]
fn the_alerting_rules_pass_promtool_and_their_tests() {
    for args in [
        &["check", "rules", "callsign-rules.yml"][..],
        &["test", "rules", "callsign-rules.test.yml"][..],
    ] {
        let out = promtool(args);
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A log writer stuck on a slow stderr drops lines instead of holding up the caller,
/// and `/metrics` counts them.
#[test]
fn log_lines_a_stuck_writer_drops_are_counted() {
    use std::io::Write;
    use std::sync::mpsc;

    /// Blocks on its first write until the test lets it go.
    struct Stuck(mpsc::Receiver<()>);
    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (release, stuck) = mpsc::channel();
    let (mut writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(4)
        .finish(Stuck(stuck));
    super::count_dropped_log_lines(writer.error_counter());
    for i in 0..100 {
        // Returns at once whether or not the line could be queued.
        writer.write_all(format!("line {i}\n").as_bytes()).unwrap();
    }
    let m = Metrics::new();
    let line = m
        .render()
        .lines()
        .find(|l| l.starts_with("callsign_log_lines_dropped_total "))
        .map(str::to_owned)
        .unwrap();
    let dropped: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((90..=100).contains(&dropped), "{line}");
    drop(release);
    drop(guard);
}
