//! The values that must never show themselves: secrets, and database URLs, which may carry a
//! password.

use std::fmt;
use std::path::Path;

use url::Url;

/// A string that never shows itself in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL. It may carry a password, so `Debug` and `Display` mask it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: Secret,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parsed = Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
        let backend = match parsed.scheme() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            other => {
                return Err(format!(
                    "unsupported scheme `{other}` (expected sqlite:// or postgres://)"
                ))
            }
        };
        if backend == Backend::Postgres && parsed.host_str().unwrap_or("").is_empty() {
            return Err("a postgres URL needs a host".into());
        }
        let mut url = raw.to_string();
        // Like the default database, a configured SQLite file is created when missing.
        if backend == Backend::Sqlite && !parsed.query_pairs().any(|(k, _)| k == "mode") {
            url.push(if parsed.query().is_some() { '&' } else { '?' });
            url.push_str("mode=rwc");
        }
        sqlx::any::install_default_drivers();
        <sqlx::any::AnyConnectOptions as std::str::FromStr>::from_str(&url)
            .map_err(|_| "the URL's options are not valid for its database".to_string())?;
        Ok(Self {
            url: Secret::new(url),
            backend,
        })
    }

    /// The SQLite database in `data_dir`, created when missing.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        let path = data_dir.join("chinook.db");
        Self {
            url: Secret::new(format!("sqlite://{}?mode=rwc", path.display())),
            backend: Backend::Sqlite,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn expose(&self) -> &str {
        self.url.expose()
    }

    /// The URL with any password replaced, fit for logs.
    pub fn redacted(&self) -> String {
        let Ok(mut url) = Url::parse(self.url.expose()) else {
            return "[unparsable]".into();
        };
        if url.password().is_some() {
            let _ = url.set_password(Some("*****"));
        }
        // PostgreSQL also takes the password as a query parameter.
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "*****".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}
