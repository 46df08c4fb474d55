//! Where a PostgreSQL store is and how to reach it: a [`Target`] made from a
//! `postgres://` URL (with libpq's `sslmode` and `sslrootcert` in its query string), from
//! [`Settings`] given apart (the config's `[trust.postgres]` table), or both; and the
//! URL's name without its password, for messages.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls::{self, SslMode};
use crate::store::StoreError;

/// Connections a store opens at most, unless told otherwise.
pub const POOL_SIZE: usize = 8;
/// How long a connection may take to be made, and a statement may wait for one,
/// unless told otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection settings given apart from a URL; each one set is used, and one that the
/// URL gives too must agree with it (a URL without a port gives 5432).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dbname: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub ssl_mode: Option<SslMode>,
    pub root_cert: Option<PathBuf>,
    pub pool_size: Option<usize>,
    pub connect_timeout: Option<Duration>,
}

/// A PostgreSQL database and how to connect to it.
#[derive(Clone)]
pub struct Target {
    pub(super) config: tokio_postgres::Config,
    pub(super) ssl_mode: SslMode,
    pub(super) root_cert: Option<PathBuf>,
    pub(super) pool_size: usize,
    pub(super) connect_timeout: Duration,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Why `resolve` refused, without the "store: " of a backend error.
pub fn reason(e: StoreError) -> String {
    match e {
        StoreError::Backend(message) => message,
        other => other.to_string(),
    }
}

fn refused(message: impl Into<String>) -> StoreError {
    StoreError::Backend(message.into())
}

/// What to set for `key`: the value given apart when the URL has none. Both may give
/// it only with one value (the message names the key, never the values).
fn merge<T: PartialEq>(
    key: &str,
    given: Option<T>,
    in_url: Option<T>,
) -> Result<Option<T>, StoreError> {
    match (given, in_url) {
        (Some(g), Some(u)) if g != u => Err(clash(key)),
        (Some(g), None) => Ok(Some(g)),
        _ => Ok(None),
    }
}

fn clash(key: &str) -> StoreError {
    refused(format!(
        "[trust.postgres] `{key}` differs from the `store` URL's; give it once"
    ))
}

impl Target {
    /// The database at `url` (`postgres://user:password@host:port/db?sslmode=…`). The
    /// password never appears in an error.
    pub fn from_url(url: &str) -> Result<Target, StoreError> {
        Target::resolve(Some(url), &Settings::default()).map_err(|e| StoreError::Open {
            path: redact(url),
            message: reason(e),
        })
    }

    /// The database `url` names, with `settings` added (the database `settings` names
    /// when there is no URL). A setting that both give must have one value.
    pub fn resolve(url: Option<&str>, settings: &Settings) -> Result<Target, StoreError> {
        let (mut config, mut ssl_mode, mut root_cert) = match url {
            Some(url) => parse_url(url)?,
            None => (tokio_postgres::Config::new(), None, None),
        };
        if let Some(host) = &settings.host {
            match config.get_hosts() {
                [] => {
                    config.host(host);
                }
                [tokio_postgres::config::Host::Tcp(h)] if h == host => {}
                _ => return Err(clash("host")),
            }
        }
        if let Some(port) = merge("port", settings.port, config.get_ports().first().copied())? {
            config.port(port);
        }
        let dbname = config.get_dbname().map(str::to_owned);
        if let Some(dbname) = merge("dbname", settings.dbname.clone(), dbname)? {
            config.dbname(dbname);
        }
        let user = config.get_user().map(str::to_owned);
        if let Some(user) = merge("user", settings.user.clone(), user)? {
            config.user(user);
        }
        let password = config.get_password().map(<[u8]>::to_vec);
        let given = settings.password.clone().map(String::into_bytes);
        if let Some(password) = merge("password", given, password)? {
            config.password(password);
        }
        ssl_mode = merge("sslmode", settings.ssl_mode, ssl_mode)?.or(ssl_mode);
        root_cert =
            merge("sslrootcert", settings.root_cert.clone(), root_cert.clone())?.or(root_cert);
        let in_url = config.get_connect_timeout().copied();
        let connect_timeout = merge("connect_timeout_s", settings.connect_timeout, in_url)?
            .or(in_url)
            .unwrap_or(CONNECT_TIMEOUT);
        if config.get_hosts().is_empty() {
            return Err(refused(
                "no database host: set `host` in [trust.postgres] or a postgres:// URL in `store`",
            ));
        }
        let ssl_mode = ssl_mode.unwrap_or_default();
        config.connect_timeout(connect_timeout);
        config.ssl_mode(ssl_mode.negotiation());
        let target = Target {
            config,
            ssl_mode,
            root_cert,
            pool_size: settings.pool_size.unwrap_or(POOL_SIZE),
            connect_timeout,
        };
        if target.pool_size == 0 {
            return Err(refused("[trust.postgres] `pool_size` must be at least 1"));
        }
        if target.connect_timeout.is_zero() {
            return Err(refused("the connect timeout must be more than 0"));
        }
        target.connector().map_err(StoreError::Backend)?;
        Ok(target)
    }

    /// The TLS connector for this target (reading its CA file).
    pub(super) fn connector(&self) -> Result<MakeRustlsConnect, String> {
        tls::connector(self.ssl_mode, self.root_cert.as_deref())
    }

    /// The `sslmode` in force.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// Connections at most.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// `postgres://user@host:port/db?sslmode=…`, without the password.
    pub fn name(&self) -> String {
        let c = &self.config;
        let hosts: Vec<String> = c
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let host = match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                };
                match c.get_ports().get(i).or(c.get_ports().first()) {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                }
            })
            .collect();
        let user = c.get_user().map(|u| format!("{u}@")).unwrap_or_default();
        let db = c.get_dbname().unwrap_or("");
        format!(
            "postgres://{user}{}/{db}?sslmode={}",
            hosts.join(","),
            self.ssl_mode
        )
    }
}

/// Parses `url`, taking out what tokio-postgres does not know (`sslrootcert`, and the
/// `sslmode`s beyond `require`).
fn parse_url(
    url: &str,
) -> Result<(tokio_postgres::Config, Option<SslMode>, Option<PathBuf>), StoreError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut ssl_mode, mut root_cert) = (None, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| refused(format!("the URL's `{key}` is not UTF-8")))?;
        match key {
            "sslmode" => {
                ssl_mode = Some(SslMode::parse(&value).ok_or_else(|| {
                    refused(format!(
                        "sslmode must be disable, prefer, require, verify-ca or verify-full, not {value:?}"
                    ))
                })?);
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(value.as_ref())),
            _ => rest.push(pair),
        }
    }
    let url = match rest.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", rest.join("&")),
    };
    let config =
        tokio_postgres::Config::from_str(&url).map_err(|e| refused(super::describe(&e)))?;
    Ok((config, ssl_mode, root_cert))
}

/// `url` without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gives_libpq_s_tls_settings_and_is_named_without_its_password() {
        let t = Target::from_url(
            "postgres://callsign:s3cr3t@db.example:5433/trust?sslmode=verify-ca&sslrootcert=%2Fnonexistent%2Fca.pem&application_name=x",
        );
        // The CA file is read when the target is made.
        let e = t.expect_err("no CA file").to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");

        let t = Target::from_url(
            "postgres://callsign:s3cr3t@db.example:5433/trust?sslmode=require&connect_timeout=7",
        )
        .unwrap();
        assert_eq!(t.ssl_mode(), SslMode::Require);
        assert_eq!(t.connect_timeout, Duration::from_secs(7));
        assert_eq!(t.pool_size(), POOL_SIZE);
        assert_eq!(
            t.name(),
            "postgres://callsign@db.example:5433/trust?sslmode=require"
        );
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let default = Target::from_url("postgres://callsign@db.example/trust").unwrap();
        assert_eq!(default.ssl_mode(), SslMode::Prefer, "libpq's default");
        assert_eq!(default.connect_timeout, CONNECT_TIMEOUT);
    }

    #[test]
    fn settings_add_to_a_url_and_may_repeat_only_its_values() {
        let url = Some("postgres://callsign@db.example/trust?sslmode=require");
        let added = Settings {
            pool_size: Some(3),
            // A URL without a port means 5432.
            port: Some(5432),
            ..Settings::default()
        };
        let t = Target::resolve(url, &added).unwrap();
        assert_eq!((t.pool_size(), t.config.get_ports()), (3, &[5432][..]));
        let alone = Settings {
            host: Some("db.example".into()),
            port: Some(6432),
            ..Settings::default()
        };
        let t = Target::resolve(None, &alone).unwrap();
        assert_eq!(t.name(), "postgres://db.example:6432/?sslmode=prefer");
        let same = Settings {
            host: Some("db.example".into()),
            ssl_mode: Some(SslMode::Require),
            ..Settings::default()
        };
        assert!(Target::resolve(url, &same).is_ok());
        for (key, clash) in [
            (
                "host",
                Settings {
                    host: Some("other".into()),
                    ..Settings::default()
                },
            ),
            (
                "sslmode",
                Settings {
                    ssl_mode: Some(SslMode::Disable),
                    ..Settings::default()
                },
            ),
            (
                "port",
                Settings {
                    port: Some(6432),
                    ..Settings::default()
                },
            ),
            (
                "user",
                Settings {
                    user: Some("root".into()),
                    ..Settings::default()
                },
            ),
        ] {
            let e = Target::resolve(url, &clash).unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}` differs")), "{e}");
        }
    }
}
