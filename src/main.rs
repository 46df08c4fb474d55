//! The `callsign` binary: subcommands over the library.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use tokio::sync::{Notify, watch};
use tracing_subscriber::EnvFilter;

use callsign::config::Config;
use callsign::proxy::server::{self, Control, Listeners};
use callsign::trust::Sid;

#[derive(Parser)]
#[command(
    name = "callsign",
    version,
    about = "A SIP proxy that signs outbound calls with STIR/SHAKEN"
)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the signing proxy.
    Serve {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
    },
    /// Certificate tools.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Show the attestation a call would get now, and why.
    Attest {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
        /// The account the call's trunk belongs to (AC...).
        #[arg(long)]
        account: String,
        /// The calling number, in any form the proxy accepts.
        #[arg(long)]
        number: String,
    },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Write a development STI PKI (root, intermediate, leaf with TNAuthList). Never use
    /// it in production.
    Dev {
        #[arg(long, default_value = "certs/dev")]
        out: PathBuf,
        /// The service provider code placed in the leaf's TNAuthList.
        #[arg(long, default_value = "1234")]
        spc: String,
        /// URL prefix the CRLs are published under: the leaf's CRL Distribution Point
        /// is <URL>intermediate.crl, the intermediate's <URL>root.crl.
        #[arg(long, default_value = callsign::certs::dev::DEFAULT_CRL_URL)]
        crl_url: String,
    },
    /// Check certificates or chains (PEM or DER, leaf first) against the STI profile
    /// (ATIS-1000080, RFC 8226). Exits non-zero on any violation.
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

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    match cli.command {
        Command::Serve { config } => serve(config),
        Command::Certs {
            command: CertsCommand::Check { files, json, now },
        } => certs_check(&files, json, now.unwrap_or_else(now_unix)),
        Command::Certs {
            command: CertsCommand::Dev { out, spc, crl_url },
        } => {
            let pki = callsign::certs::dev::generate_with(&spc, &crl_url, now_unix())
                .context("generating the development PKI")?;
            callsign::certs::dev::write(&out, &pki)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "development STI PKI written to {} (SPC {spc}); never use it in production",
                out.display()
            );
            Ok(())
        }
        Command::Attest {
            config,
            account,
            number,
        } => {
            let config = Config::load(&config)?;
            let account =
                Sid::parse(&account, "AC").map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let tn = callsign::tn::canonicalize(&number, &config.numbering)
                .map_err(|e| anyhow::anyhow!("--number {number:?}: {e}"))?;
            let index = server::load_index(&config.trust.file)?;
            let a = index.attest(account, tn, now_unix());
            println!("level:   {}", a.level);
            println!("reason:  {}", a.reason.as_str());
            println!("number:  {tn}");
            if let Some(p) = a.profile {
                println!("profile: {p}");
            }
            if let Some(p) = a.product {
                println!("product: {p}");
            }
            Ok(())
        }
    }
}

/// `callsign certs check`: one report per file; exit 1 on any violation.
fn certs_check(files: &[PathBuf], json: bool, now: i64) -> Result<()> {
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
        let list: Vec<_> = reports
            .iter()
            .map(|(file, report)| serde_json::json!({"file": file, "report": report}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
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

fn render_chain_report(file: &str, report: &callsign::certs::ChainReport) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{file}\n");
    for c in &report.certificates {
        let _ = writeln!(
            out,
            "  certificate {} ({:?}): {}",
            c.index, c.role, c.subject
        );
        if !c.issuer.is_empty() {
            let _ = writeln!(out, "    issuer: {}", c.issuer);
            let _ = writeln!(
                out,
                "    serial: {}  valid: {} .. {}",
                c.serial, c.not_before, c.not_after
            );
        }
        if let Some(list) = &c.tn_auth_list {
            let entries: Vec<String> = list.iter().map(tn_auth_entry).collect();
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

fn tn_auth_entry(e: &callsign::certs::TnAuthEntry) -> String {
    use callsign::certs::TnAuthEntry;
    match e {
        TnAuthEntry::Spc(s) => format!("SPC {s}"),
        TnAuthEntry::Tn(t) => format!("TN {t}"),
        TnAuthEntry::Range { start, count } => format!("range {start} (+{count})"),
    }
}

fn serve(path: PathBuf) -> Result<()> {
    let config = Config::load(&path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listeners = Listeners::bind(&config)
            .await
            .context("binding the listeners")?;
        let (control, stop_tx) = Control::new();
        spawn_signal_handlers(stop_tx, Arc::clone(&control.reload))?;
        if let Err(e) = server::run(config, listeners, control).await {
            bail!("refusing to run: {e}");
        }
        Ok(())
    })
}

fn spawn_signal_handlers(stop: watch::Sender<bool>, reload: Arc<Notify>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM")?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading trust data");
                    reload.notify_one();
                }
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    Ok(())
}
