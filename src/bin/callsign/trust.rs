//! `callsign trust` (import and export of the store's trust data, the review log's
//! export, backup and restore) and `callsign attest`.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;

use callsign::clock::{self, now_unix};
use callsign::config::Config;
use callsign::daemon;
use callsign::store::{self, Store};
use callsign::trust::Sid;

use crate::progress::Reporter;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Load a trust-data JSON file (config/trust.json's format) into the store, in one
    /// transaction: a file with any error leaves the store unchanged. The file is
    /// streamed, not held in memory; progress goes to stderr. A running server picks it
    /// up on SIGHUP.
    Import {
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
        /// The JSON trust-data file.
        file: PathBuf,
        /// Replace what the store holds (otherwise the store must be empty).
        #[arg(long)]
        replace: bool,
    },
    /// Write the store's trust data as JSON (to stdout unless --out is given), streamed
    /// from the store; progress goes to stderr.
    Export {
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the review log, every submission and decision of a customer profile or
    /// trust product, oldest first, as JSON Lines (one entry per line, the fields of
    /// `GET /v1/ReviewLog`), to stdout unless --out is given. It reads the store page by
    /// page, so a serving callsign may go on writing.
    ReviewLog {
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
        /// Only the entries of this bundle (BU…).
        #[arg(long, value_name = "SID")]
        bundle: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Copy the SQLite store to a new file, consistently, while callsign serves from it
    /// (SQLite's online backup). For PostgreSQL, use pg_dump.
    Backup {
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
        /// The backup file to create (it must not exist); readable by its owner only.
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup back as the SQLite store. The store as it was is first copied to
    /// `<store>.before-restore-<unix time>.bak`. A running server serves the restored data
    /// after SIGHUP (`systemctl reload callsign`).
    Restore {
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
        /// The backup file `trust backup` wrote.
        file: PathBuf,
    },
}

/// The SQLite file the config's store is, or why `what` cannot be done to it.
fn sqlite_store(config: &Config, what: &str) -> Result<PathBuf> {
    match config.trust.location()? {
        Some(callsign::store::Location::Sqlite(path)) => Ok(path),
        Some(callsign::store::Location::Postgres(_)) => bail!(
            "trust {what} works on the SQLite store; this config's store is PostgreSQL: use pg_dump and pg_restore"
        ),
        None => bail!("[trust] store is not set in the config: there is no store to {what}"),
    }
}

fn store_of(config: &Config) -> Result<Box<dyn Store>> {
    let location = config
        .trust
        .location()?
        .context("[trust] store is not set in the config: there is no store to use")?;
    Ok(store::open_at(&location, config.trust.durability)?)
}

pub fn run(command: TrustCommand) -> Result<()> {
    match command {
        TrustCommand::Import {
            config,
            file,
            replace,
        } => {
            let config = crate::settings::load(config)?;
            let store = store_of(&config)?;
            let mut progress = Reporter::new("imported");
            let now = clock::rfc3339(now_unix());
            let counts =
                store::import_file(&*store, &file, replace, &now, &mut |p| progress.update(p));
            progress.finish();
            // One line: the store's errors repeat their causes in their messages.
            let counts = counts.map_err(|e| {
                // The transaction rolled back, unless the database went away mid-commit.
                let unchanged = match e {
                    store::StoreError::Unavailable(_) => "",
                    _ => " (the store is unchanged)",
                };
                anyhow::anyhow!("importing {}{unchanged}: {e}", file.display())
            })?;
            println!(
                "imported {} accounts, {} numbers, {} bundles from {}",
                counts.accounts,
                counts.numbers,
                counts.bundles,
                file.display()
            );
            Ok(())
        }
        TrustCommand::Backup { config, out } => {
            let config = crate::settings::load(config)?;
            let store = sqlite_store(&config, "backup")?;
            callsign::store::backup_sqlite(&store, &out)?;
            println!("backed up {} to {}", store.display(), out.display());
            Ok(())
        }
        TrustCommand::Restore { config, file } => {
            let config = crate::settings::load(config)?;
            let store = sqlite_store(&config, "restore")?;
            let keep =
                callsign::store::beside(&store, &format!(".before-restore-{}.bak", now_unix()));
            callsign::store::restore_sqlite(&file, &store, &keep)?;
            println!(
                "restored {} from {} (the store as it was is in {}); a running callsign serves it after SIGHUP",
                store.display(),
                file.display(),
                keep.display()
            );
            Ok(())
        }
        TrustCommand::Export { config, out } => {
            let config = crate::settings::load(config)?;
            let store = store_of(&config)?;
            match out {
                Some(path) => write_file(&path, |out| export(&*store, out)),
                None => {
                    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
                    export(&*store, &mut stdout)
                }
            }
        }
        TrustCommand::ReviewLog {
            config,
            bundle,
            out,
        } => {
            let bundle = (bundle.as_deref())
                .map(|b| Sid::parse(b, "BU").map_err(|e| anyhow::anyhow!("--bundle: {e}")))
                .transpose()?;
            let config = crate::settings::load(config)?;
            let store = store_of(&config)?;
            let entries = match &out {
                Some(path) => write_file(path, |out| review_log(&*store, bundle, out))?,
                None => {
                    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
                    review_log(&*store, bundle, &mut stdout)?
                }
            };
            eprintln!("exported {entries} review log entries");
            Ok(())
        }
    }
}

/// Writes the review log (`bundle`'s entries only, when given) to `out` as JSON Lines,
/// a page of the store at a time; returns how many entries it wrote.
fn review_log(
    store: &dyn Store,
    bundle: Option<Sid>,
    out: &mut dyn std::io::Write,
) -> Result<usize> {
    const PAGE: usize = 1_000;
    let mut written = 0;
    loop {
        let page = store::Page {
            offset: written,
            limit: PAGE,
        };
        let entries = store.review_log(bundle, page)?;
        for entry in &entries {
            serde_json::to_writer(&mut *out, entry)?;
            out.write_all(b"\n")?;
        }
        written += entries.len();
        // The log only grows, in insertion order: a short page is its end.
        if entries.len() < PAGE {
            out.flush()?;
            return Ok(written);
        }
    }
}

/// Writes the store's trust data to `out`, showing progress on stderr.
fn export(store: &dyn Store, out: &mut dyn std::io::Write) -> Result<()> {
    let mut progress = Reporter::new("exported");
    let written = store::export_to(store, out, &mut |p| progress.update(p));
    progress.finish();
    written?;
    Ok(())
}

/// Writes the file `path` with `write`, readable by its owner only (exports hold auth
/// tokens and the operators' reasons): first to a file beside it, renamed into place
/// once complete, so that a failed export leaves `path` as it was.
fn write_file<T>(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<T>,
) -> Result<T> {
    use std::os::unix::fs::OpenOptionsExt;
    let partial = store::beside(path, &format!(".partial-{}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("writing {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = write(&mut out).and_then(|value| {
        out.into_inner()?.sync_all()?;
        std::fs::rename(&partial, path)?;
        Ok(value)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.with_context(|| format!("writing {}", path.display()))
}

/// `callsign attest`: the attestation a call would get now, and why.
pub fn attest(config: Option<PathBuf>, account: &str, number: &str) -> Result<()> {
    let config = crate::settings::load(config)?;
    let account = Sid::parse(account, "AC").map_err(|e| anyhow::anyhow!("--account: {e}"))?;
    let tn = callsign::tn::canonicalize(number, &config.numbering)
        .map_err(|e| anyhow::anyhow!("--number {number:?}: {e}"))?;
    let index = daemon::trust::index_of(&config.trust, &config.trunks)?;
    let preview = callsign::trusthub::preview(&index, account, tn, now_unix());
    print!("{}", preview.to_text());
    Ok(())
}
