//! Finding the config (`--config`, `CALLSIGN_CONFIG`, a source checkout's
//! `config/callsign.toml`, `/etc/callsign/callsign.toml`) and `callsign config check`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;

use callsign::config::Config;
use callsign::daemon;

/// Where a config is looked for when neither `--config` nor `CALLSIGN_CONFIG` names
/// one: the source checkout's (`cargo run -- serve` in the repository), then the
/// installed one.
pub const SEARCHED: &[&str] = &["config/callsign.toml", "/etc/callsign/callsign.toml"];

/// The config file to use: `given` (from `--config` or `CALLSIGN_CONFIG`, which clap
/// reads), else the first of [`SEARCHED`] that exists.
pub fn config_path(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    match SEARCHED.iter().map(Path::new).find(|p| p.is_file()) {
        Some(found) => Ok(found.to_owned()),
        None => bail!(
            "no config file found: tried {}; give one with --config FILE or CALLSIGN_CONFIG",
            SEARCHED.join(", ")
        ),
    }
}

/// Loads the config at `given`, or the one found as [`config_path`] finds it.
pub fn load(given: Option<PathBuf>) -> Result<Config> {
    Ok(Config::load(&config_path(given)?)?)
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate a config without starting (the same errors, naming the key, as `serve`
    /// gives, and the signing key, chain and CRLs it names checked as `serve` checks
    /// them) and print the effective settings, secrets masked.
    Check {
        /// The config file (otherwise `--config`, `CALLSIGN_CONFIG`, then the usual
        /// places).
        file: Option<PathBuf>,
        #[arg(long, short, env = "CALLSIGN_CONFIG")]
        config: Option<PathBuf>,
    },
}

pub fn run(command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Check { file, config } => {
            let path = config_path(file.or(config))?;
            let loaded = Config::load(&path)?;
            // The files it names, checked as `serve` checks them before it binds.
            let now = callsign::clock::now_unix();
            daemon::signing::load(&loaded.signing, now)
                .with_context(|| format!("{}: [signing]", path.display()))?;
            daemon::signing::served_crls(&loaded)
                .with_context(|| format!("{}: [signing] crls", path.display()))?;
            daemon::settings::sip_tls(&loaded).with_context(|| path.display().to_string())?;
            let mut effective = toml::Value::try_from(&loaded)?;
            mask(&mut effective);
            println!("# {}: valid; the effective settings:", path.display());
            print!("{}", toml::to_string_pretty(&effective)?);
            Ok(())
        }
    }
}

/// Masks what must not be printed: tokens and passwords, and a database URL's password.
fn mask(value: &mut toml::Value) {
    match value {
        toml::Value::Table(table) => {
            for (key, v) in table.iter_mut() {
                let secret = key.ends_with("token") || key == "password";
                match v {
                    toml::Value::String(s) if secret => *s = "***".to_owned(),
                    toml::Value::String(s) if s.starts_with("postgres") => {
                        *s = callsign::store::postgres::redact(s);
                    }
                    other => mask(other),
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let mut v: toml::Value = toml::from_str(
            r#"
            [api]
            operator_auth_token = "dev-operator-token"
            max_body_bytes = 65536
            [trust]
            store = "postgres://callsign:hunter2@db:5432/callsign"
            [trust.postgres]
            password = "hunter2"
            password_file = "/run/secrets/pg"
            "#,
        )
        .unwrap();
        mask(&mut v);
        let text = toml::to_string(&v).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("dev-operator-token"),
            "{text}"
        );
        assert!(
            text.contains("/run/secrets/pg") && text.contains("65536"),
            "{text}"
        );
        assert!(
            text.contains("postgres://callsign:***@db:5432/callsign"),
            "{text}"
        );
    }
}
