//! The `callsign` binary: subcommands over the library. `serve` is here; each other
//! subcommand has its own file.

mod certs;
mod docs;
mod progress;
mod settings;
mod sign;
mod trust;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use tokio::sync::{Notify, watch};
use tracing_subscriber::EnvFilter;

use callsign::config::Config;
use callsign::daemon::{self, Control, Listeners, Stop};
use callsign::tn::Numbering;
use certs::CertsCommand;
use sign::SignArgs;
use trust::TrustCommand;
use verify::VerifyArgs;

/// The version and the git revision built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CALLSIGN_GIT_REVISION"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "callsign",
    version = VERSION,
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
    ///
    /// Takes SIP on `[sip] udp` and `tcp`, and serves the x5u chain, /metrics, /health,
    /// /ready and the Trust Hub API on `[http] listen`. SIGHUP reloads the signing pair
    /// and the trust data. SIGTERM drains (new requests get 503 while those in flight
    /// finish, for at most `[sip] drain_secs`), then exits 0; a second SIGTERM stops at
    /// once.
    Serve {
        /// The config file; otherwise `CALLSIGN_CONFIG`, `config/callsign.toml` (a
        /// source checkout) or `/etc/callsign/callsign.toml`, the first that exists.
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a config.
    Config {
        #[command(subcommand)]
        command: settings::ConfigCommand,
    },
    /// Certificate tools.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Verify Identity headers (RFC 8224 section 6.2, ATIS-1000074). Exits 0 only when
    /// every given header, and every SIP request, passes.
    Verify(VerifyArgs),
    /// Sign a PASSporT and print the Identity header value.
    Sign(SignArgs),
    /// Trust data in the store: import or export the JSON trust-data format.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Show the attestation a call would get now, and why (the same logic as
    /// `GET /v1/Attestation`).
    Attest {
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
        /// The account the call's trunk belongs to (AC...).
        #[arg(long)]
        account: String,
        /// The calling number, in any form the proxy accepts.
        #[arg(long)]
        number: String,
    },
    /// Write the manual pages of callsign and of each subcommand into a directory.
    Man {
        /// Where to write them (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Print a shell completion script: `callsign completions bash >
    /// /etc/bash_completion.d/callsign`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// Lines the log writer holds before it drops new ones.
const LOG_BUFFER_LINES: usize = 128_000;

/// Logs to stderr, coloured only on a terminal. A thread of its own writes them, so
/// that a slow stderr never holds up a call: when it falls behind, lines are dropped
/// and counted (`callsign_log_lines_dropped_total`). Keep the guard until exit: it
/// flushes what is queued.
fn init_logging(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .thread_name("callsign-log")
        .finish(std::io::stderr());
    callsign::metrics::count_dropped_log_lines(writer.error_counter());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let _logging = init_logging(cli.log_json);
    match cli.command {
        Command::Serve { config } => serve(config),
        Command::Config { command } => settings::run(command),
        Command::Certs { command } => certs::run(command),
        Command::Verify(args) => verify::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Attest {
            config,
            account,
            number,
        } => trust::attest(config, &account, &number),
        Command::Trust { command } => trust::run(command),
        Command::Man { out } => docs::man(&out),
        Command::Completions { shell } => {
            docs::completions(shell);
            Ok(())
        }
    }
}

/// A number given on the command line: a URI (`sip:`, `tel:`) or a dial string.
fn canonical_arg(flag: &str, raw: &str, numbering: &Numbering) -> Result<String> {
    let tn = if raw.contains(':') {
        callsign::tn::from_uri(raw, numbering)
    } else {
        callsign::tn::canonicalize(raw, numbering)
    };
    tn.map(|t| t.as_str().to_owned())
        .map_err(|e| anyhow::anyhow!("{flag} {raw:?}: {e}"))
}

/// The numbering plan of the config at `config`, or the default one.
fn numbering(config: Option<&Path>) -> Result<Numbering> {
    match config {
        Some(path) => Ok(Config::load(path)?.numbering),
        None => Ok(Numbering::default()),
    }
}

fn serve(path: Option<PathBuf>) -> Result<()> {
    let config = settings::load(path)?;
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
        match daemon::run(config, listeners, control).await {
            Ok(()) => {}
            Err(e @ daemon::ServeError::EngineStopped) => bail!("{e}"),
            Err(e) => bail!("refusing to run: {e}"),
        }
        Ok(())
    })
}

/// SIGHUP reloads. The first SIGTERM or SIGINT drains (new requests get 503 while those in
/// flight finish, within `[sip] drain_secs`); a second one stops at once.
fn spawn_signal_handlers(stop: watch::Sender<Stop>, reload: Arc<Notify>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT")?;
    tokio::spawn(async move {
        loop {
            let signal = tokio::select! {
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading trust data");
                    reload.notify_one();
                    continue;
                }
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            if *stop.borrow() == Stop::Run {
                tracing::info!(
                    signal,
                    "shutting down: draining first (send it again to stop at once)"
                );
                let _ = stop.send(Stop::Drain);
            } else {
                tracing::warn!(signal, "stopping at once");
                let _ = stop.send(Stop::Now);
            }
        }
    });
    Ok(())
}
