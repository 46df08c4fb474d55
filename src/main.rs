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
use callsign::store::{SqliteStore, Store, StoreError};
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
    /// Trust data in the store: import or export the JSON trust-data format.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Show the attestation a call would get now, and why (the same logic as
    /// `GET /v1/Attestation`).
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
enum TrustCommand {
    /// Load a trust-data JSON file (config/trust.json's format) into the store. A running
    /// server picks it up on SIGHUP.
    Import {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
        /// The JSON trust-data file.
        file: PathBuf,
        /// Replace what the store holds (otherwise the store must be empty).
        #[arg(long)]
        replace: bool,
    },
    /// Write the store's trust data as JSON (to stdout unless --out is given).
    Export {
        #[arg(long, short, default_value = "config/callsign.toml")]
        config: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
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
            let now = callsign::api::render::iso(now_unix());
            let index = match callsign::store::open_configured(&config.trust, &now)? {
                Some(store) => callsign::store::rebuild_index(&store)?,
                None => server::load_index(&config.trust.file.clone().unwrap_or_default())?,
            };
            let preview = callsign::api::preview(&index, account, tn, now_unix());
            print!("{}", preview.to_text());
            Ok(())
        }
        Command::Trust { command } => trust(command),
    }
}

fn store_of(config: &Config) -> Result<SqliteStore> {
    let path = config
        .trust
        .store
        .as_deref()
        .context("[trust] store is not set in the config: there is no store to use")?;
    Ok(SqliteStore::open(path, config.trust.durability)?)
}

fn trust(command: TrustCommand) -> Result<()> {
    match command {
        TrustCommand::Import {
            config,
            file,
            replace,
        } => {
            let config = Config::load(&config)?;
            let store = store_of(&config)?;
            let mut data = callsign::trust::load_file(&file)?;
            callsign::store::prepare_import(&mut data, &callsign::api::render::iso(now_unix()));
            if !replace && !store.is_empty()? {
                bail!(StoreError::NotEmpty);
            }
            store.replace_all(&data)?;
            println!(
                "imported {} accounts, {} numbers, {} bundles from {}",
                data.accounts.len(),
                data.phone_numbers.len(),
                data.customer_profiles.len() + data.trust_products.len(),
                file.display()
            );
            Ok(())
        }
        TrustCommand::Export { config, out } => {
            let config = Config::load(&config)?;
            let data = store_of(&config)?.export()?;
            let json = serde_json::to_string_pretty(&data)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{json}"),
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
