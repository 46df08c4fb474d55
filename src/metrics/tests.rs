use super::*;

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
    Panic::ALL.iter().for_each(|&c| m.panicked(c));
    m.identity_stripped.inc();
    m.retransmissions_absorbed.inc();
    m.pipeline_seconds.observe(1e-5);
    (m.default_not_after).store(2_000, std::sync::atomic::Ordering::Relaxed);
    m.certificates_expire(
        &[("SI00000000000000000000000000000001".into(), 1_500)],
        1_000,
    );
    m
}

/// The README's `## Metrics` section.
fn readme_metrics() -> &'static str {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("\n## Metrics\n")
        .expect("README has a Metrics section");
    let section = &readme[start + 1..];
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
fn every_metric_and_label_value_is_documented_in_the_readme() {
    let section = readme_metrics();
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
            .unwrap_or_else(|| panic!("README metrics table has no row for `{documented}`"));
        // Labels whose values are the build's or a record's are documented by name.
        if ["callsign_build_info", "callsign_certificate_expiry_seconds"].contains(&documented) {
            for (label, _) in &labels {
                assert!(row.contains(&format!("`{label}`")), "{row}");
            }
            continue;
        }
        for (label, value) in labels.iter().filter(|(k, _)| k != "le") {
            assert!(
                row.contains(&format!("`{label}`")) && row.contains(&format!("`{value}`")),
                "README row for `{documented}` does not document {label}=`{value}`:\n{row}"
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
        + Reload::ALL.len() * 2
        + Panic::ALL.len();
    assert_eq!(checked, expected);
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
