//! The `[trust.postgres]` table: how to reach a PostgreSQL store, given instead of a
//! `postgres://` URL in `[trust] store` or added to one (a setting both give must have
//! one value), and where the store is as [`TrustConfig::location`] works it out.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, TrustConfig};
use crate::store::postgres::{self, Settings, SslMode, Target};
use crate::store::{self, Location};

/// `[trust.postgres]`. Every key is optional; `host` is needed without a URL.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// 5432 unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Better kept out of the config: see `password_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A file holding the password (a trailing newline is not part of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// libpq's `sslmode`: `disable`, `prefer` (the default), `require`, `verify-ca` or
    /// `verify-full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<SslMode>,
    /// The PEM file of the CA(s) the server's certificate must chain to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslrootcert: Option<PathBuf>,
    /// Connections each node opens at most (8 unless given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_size: Option<usize>,
    /// How long a connection may take to be made (5 unless given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_s: Option<u64>,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_s", &self.connect_timeout_s)
            .finish()
    }
}

impl PostgresConfig {
    /// The settings the table gives, with the password read from `password_file`.
    fn settings(&self) -> Result<Settings, ConfigError> {
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => return Err(ConfigError::PasswordTwice),
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| ConfigError::PasswordFile {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                Some(text.trim_end_matches(['\r', '\n']).to_owned())
            }
            (None, None) => None,
        };
        if self.pool_size == Some(0) {
            return Err(ConfigError::Postgres(
                "`pool_size` must be at least 1".into(),
            ));
        }
        if self.connect_timeout_s == Some(0) {
            return Err(ConfigError::Postgres(
                "`connect_timeout_s` must be more than 0".into(),
            ));
        }
        Ok(Settings {
            host: self.host.clone(),
            port: self.port,
            dbname: self.dbname.clone(),
            user: self.user.clone(),
            password,
            ssl_mode: self.sslmode,
            root_cert: self.sslrootcert.clone(),
            pool_size: self.pool_size,
            connect_timeout: self.connect_timeout_s.map(Duration::from_secs),
        })
    }
}

impl TrustConfig {
    /// Where the store is: a SQLite file, or a PostgreSQL database from the `store` URL
    /// and the `[trust.postgres]` table; `None` in file mode. Reads the password and CA
    /// files, so that a table that passes here fails, if at all, only to connect.
    pub fn location(&self) -> Result<Option<Location>, ConfigError> {
        let url = self.store.as_deref().and_then(store::database_url);
        match (&self.store, url, &self.postgres) {
            (None, _, None) => Ok(None),
            (Some(path), _, None) => Ok(Some(Location::parse(path)?)),
            (Some(path), None, Some(_)) => Err(ConfigError::PostgresWithSqlite(path.clone())),
            (_, url, Some(table)) => {
                let target = Target::resolve(url, &table.settings()?)
                    .map_err(|e| ConfigError::Postgres(postgres::reason(e)))?;
                Ok(Some(Location::Postgres(Box::new(target))))
            }
        }
    }
}
