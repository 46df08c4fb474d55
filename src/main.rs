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
    // Logs go to stderr, coloured only on a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
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
            command: CertsCommand::Dev { out, spc },
        } => {
            let pki = callsign::certs::dev::generate(&spc, now_unix())
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
