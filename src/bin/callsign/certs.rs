//! `callsign certs`: a development STI PKI, and checks against the STI profile.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;

use callsign::certs::TnAuthEntry;
use callsign::clock::now_unix;

#[derive(Subcommand)]
pub enum CertsCommand {
    /// Write a development STI PKI (root, intermediate, leaf with TNAuthList, and the
    /// STI-PA's CRL signer with its indirect CRL), and with --delegate-tn or
    /// --delegate-range a delegation (RFC 9060). Never use it in production.
    Dev {
        #[arg(long, default_value = "certs/dev")]
        out: PathBuf,
        /// The service provider code placed in the leaf's TNAuthList.
        #[arg(long, default_value = "1234")]
        spc: String,
        /// URL prefix the CRL is published under: the leaf's and the intermediate's CRL
        /// Distribution Point is <URL>sti-pa.crl, with the STI-PA CRL signer as
        /// cRLIssuer.
        #[arg(long, default_value = callsign::certs::dev::DEFAULT_CRL_URL)]
        crl_url: String,
        /// A telephone number (digits) for a delegate certificate. With this or
        /// --delegate-range, also write an STI-SCA (sti-sca.pem: a CA issued by the
        /// intermediate, whose TNAuthList holds the SPC), a delegate leaf under it whose
        /// TNAuthList holds the numbers and ranges given (delegate.pem, delegate.key),
        /// and delegate-chain.pem (delegate leaf, STI-SCA, intermediate); the
        /// intermediate then allows one CA below it. Repeatable.
        #[arg(long = "delegate-tn", value_name = "TN")]
        delegate_tn: Vec<String>,
        /// A range of numbers for the delegate certificate: COUNT numbers of START's
        /// length from START (12155550100:100 is 12155550100 to 12155550199).
        /// Repeatable.
        #[arg(long = "delegate-range", value_name = "START:COUNT", value_parser = parse_range)]
        delegate_range: Vec<TnAuthEntry>,
    },
    /// Check certificates or chains (PEM or DER, leaf first) against the STI profile
    /// (ATIS-1000080 v005, RFC 8226, US SHAKEN CP). Exits non-zero on any violation.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Check validity at this unix time instead of now.
        #[arg(long)]
        now: Option<i64>,
    },
}

pub fn run(command: CertsCommand) -> Result<()> {
    match command {
        CertsCommand::Check { files, json, now } => {
            check(&files, json, now.unwrap_or_else(now_unix))
        }
        CertsCommand::Dev {
            out,
            spc,
            crl_url,
            delegate_tn,
            delegate_range,
        } => {
            use callsign::certs::dev;
            let numbers: Vec<TnAuthEntry> = (delegate_tn.into_iter().map(TnAuthEntry::Tn))
                .chain(delegate_range)
                .collect();
            let pki = if numbers.is_empty() {
                dev::generate_with(&spc, &crl_url, now_unix())
            } else {
                dev::generate_delegating(&spc, &crl_url, &numbers, now_unix())
            }
            .context("generating the development PKI")?;
            dev::write(&out, &pki).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "development STI PKI written to {} (SPC {spc}); never use it in production",
                out.display()
            );
            if !numbers.is_empty() {
                let listed: Vec<String> = numbers.iter().map(ToString::to_string).collect();
                println!(
                    "delegate certificate for {} under an STI-SCA for SPC {spc}: delegate-chain.pem, delegate.key",
                    listed.join(", ")
                );
            }
            Ok(())
        }
    }
}

/// `START:COUNT`, e.g. `12155550100:100`.
fn parse_range(value: &str) -> Result<TnAuthEntry, String> {
    let (start, count) = value
        .split_once(':')
        .ok_or_else(|| format!("{value:?} is not START:COUNT (e.g. 12155550100:100)"))?;
    let count = count
        .parse()
        .map_err(|_| format!("{count:?} is not a count of numbers"))?;
    Ok(TnAuthEntry::Range {
        start: start.to_owned(),
        count,
    })
}

/// `callsign certs check`: one report per file; exit 1 on any violation.
fn check(files: &[PathBuf], json: bool, now: i64) -> Result<()> {
    use callsign::certs::{ChainReport, check_chain, load_chain_pem};
    let mut reports: Vec<(String, ChainReport)> = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let chain = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => load_chain_pem(text)
                .with_context(|| format!("{}: no certificate", file.display()))?,
            _ => vec![bytes],
        };
        reports.push((file.display().to_string(), check_chain(&chain, now)));
    }
    let clean = reports.iter().all(|(_, r)| r.is_clean());
    if json {
        println!("{}", serde_json::to_string_pretty(&json_reports(&reports))?);
    } else {
        for (file, report) in &reports {
            print!("{}", render_chain_report(file, report));
        }
    }
    if !clean {
        std::process::exit(1);
    }
    Ok(())
}

/// `[{"file": ..., "report": ChainReport}, ...]`.
fn json_reports(reports: &[(String, callsign::certs::ChainReport)]) -> serde_json::Value {
    reports
        .iter()
        .map(|(file, report)| serde_json::json!({"file": file, "report": report}))
        .collect()
}

fn render_chain_report(file: &str, report: &callsign::certs::ChainReport) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{file}\n");
    for c in &report.certificates {
        let _ = writeln!(out, "  certificate {} ({}): {}", c.index, c.role, c.subject);
        if !c.issuer.is_empty() {
            let _ = writeln!(out, "    issuer: {}", c.issuer);
            let _ = writeln!(
                out,
                "    serial: {}  valid: {} .. {}",
                c.serial, c.not_before, c.not_after
            );
        }
        if let Some(list) = &c.tn_auth_list {
            let entries: Vec<String> = list.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "    TNAuthList: {}", entries.join(", "));
        }
        for url in &c.crl_urls {
            let _ = writeln!(out, "    CRL: {url}");
        }
        if c.violations.is_empty() {
            let _ = writeln!(out, "    ok");
        }
        for v in &c.violations {
            let _ = writeln!(out, "    VIOLATION {}: {}", v.rule, v.detail);
        }
    }
    for v in &report.chain_violations {
        let _ = writeln!(out, "  chain VIOLATION {}: {}", v.rule, v.detail);
    }
    let count = report.violations().count();
    let _ = writeln!(
        out,
        "  {}",
        if count == 0 {
            "result: ok".to_string()
        } else {
            format!("result: {count} violation(s)")
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use callsign::certs::{CertReport, CertRole, ChainReport, PROFILE_RULES, Violation};

    use super::*;

    fn report() -> ChainReport {
        let violation = |rule: &'static str, detail: &str| Violation {
            rule,
            detail: detail.into(),
        };
        ChainReport {
            certificates: vec![CertReport {
                index: 0,
                role: CertRole::Leaf,
                subject: "CN=SHAKEN 709J, O=Carrier, C=US".into(),
                issuer: "CN=SHAKEN CA, O=STI-CA, C=US".into(),
                serial: "4a53".into(),
                not_before: 1,
                not_after: 2,
                tn_auth_list: Some(vec![callsign::certs::TnAuthEntry::Spc("709J".into())]),
                crl_urls: vec!["https://sti-pa.example/crl".into()],
                violations: vec![
                    violation(
                        "crl-distribution-points",
                        "the DistributionPoint has no cRLIssuer",
                    ),
                    violation("tn-auth-list-tagging", "IMPLICIT"),
                ],
            }],
            chain_violations: vec![violation("chain-order", "out of order")],
        }
    }

    #[test]
    fn text_names_each_violation_by_its_rule() {
        let text = render_chain_report("chain.pem", &report());
        for line in [
            "  certificate 0 (Leaf): CN=SHAKEN 709J, O=Carrier, C=US",
            "    TNAuthList: SPC 709J",
            "    CRL: https://sti-pa.example/crl",
            "    VIOLATION crl-distribution-points: the DistributionPoint has no cRLIssuer",
            "    VIOLATION tn-auth-list-tagging: IMPLICIT",
            "  chain VIOLATION chain-order: out of order",
            "  result: 3 violation(s)",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from\n{text}"
            );
        }
    }

    #[test]
    fn ranges_are_start_colon_count() {
        assert_eq!(
            parse_range("12155550100:100"),
            Ok(TnAuthEntry::Range {
                start: "12155550100".into(),
                count: 100
            })
        );
        for bad in ["12155550100", "12155550100:", "12155550100:-1", "1:2:3"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_carries_the_rule_names() {
        let json = json_reports(&[("chain.pem".into(), report())]);
        let certificate = &json[0]["report"]["certificates"][0];
        assert_eq!(json[0]["file"], "chain.pem");
        assert_eq!(certificate["role"], "leaf");
        assert_eq!(certificate["violations"][1]["rule"], "tn-auth-list-tagging");
        assert_eq!(
            json[0]["report"]["chain_violations"][0]["rule"],
            "chain-order"
        );
        for rule in [
            "crl-distribution-points",
            "tn-auth-list-tagging",
            "chain-order",
        ] {
            assert!(PROFILE_RULES.contains(&rule), "{rule}");
        }
    }
}
