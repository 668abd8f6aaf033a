//! The layers under the configuration: every setting's names, and the file and environment
//! read into raw values that remember where each was set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

/// Where a value came from, so an error can point at it.
#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Env,
}

/// Every setting: its file key and its environment name.
const SETTINGS: &[(&str, &str)] = &[
    ("bind", "CHINOOK_BIND"),
    ("data_dir", "CHINOOK_DATA_DIR"),
    ("database_url", "CHINOOK_DATABASE_URL"),
    ("dataset", "CHINOOK_DATASET"),
    ("demo_password", "CHINOOK_DEMO_PASSWORD"),
    ("log_format", "CHINOOK_LOG_FORMAT"),
    ("log", "CHINOOK_LOG"),
    ("db_connect_timeout_secs", "CHINOOK_DB_CONNECT_TIMEOUT_SECS"),
    ("db_max_connections", "CHINOOK_DB_MAX_CONNECTIONS"),
    ("migrate_on_start", "CHINOOK_MIGRATE_ON_START"),
    ("replica_urls", "CHINOOK_REPLICA_URLS"),
    ("max_replica_lag_secs", "CHINOOK_MAX_REPLICA_LAG"),
    (
        "replica_check_interval_ms",
        "CHINOOK_REPLICA_CHECK_INTERVAL_MS",
    ),
    (
        "read_your_writes_window_secs",
        "CHINOOK_READ_YOUR_WRITES_WINDOW_SECS",
    ),
    ("max_body_bytes", "CHINOOK_MAX_BODY_BYTES"),
    ("body_timeout_secs", "CHINOOK_BODY_TIMEOUT_SECS"),
    ("body_min_rate", "CHINOOK_BODY_MIN_RATE"),
    (
        "max_connections_per_client",
        "CHINOOK_MAX_CONNECTIONS_PER_CLIENT",
    ),
    ("max_connections", "CHINOOK_MAX_CONNECTIONS"),
    ("token_ttl_secs", "CHINOOK_TOKEN_TTL_SECS"),
    ("shutdown_delay_secs", "CHINOOK_SHUTDOWN_DELAY_SECS"),
    ("shutdown_timeout_secs", "CHINOOK_SHUTDOWN_TIMEOUT_SECS"),
    ("read_deadline_ms", "CHINOOK_READ_DEADLINE_MS"),
    ("workers", "CHINOOK_WORKERS"),
    ("media_dir", "CHINOOK_MEDIA_DIR"),
    ("seed_audio", "CHINOOK_SEED_AUDIO"),
    ("audio_max_secs", "CHINOOK_AUDIO_MAX_SECS"),
    ("media_cache_dir", "CHINOOK_MEDIA_CACHE_DIR"),
    ("media_cache_bytes", "CHINOOK_MEDIA_CACHE_BYTES"),
    ("stream_chunk_bytes", "CHINOOK_STREAM_CHUNK_BYTES"),
    ("signing_key", "CHINOOK_SIGNING_KEY"),
    ("app_password_key", "CHINOOK_APP_PASSWORD_KEY"),
    ("stream_url_ttl_secs", "CHINOOK_STREAM_URL_TTL_SECS"),
    ("max_streams_per_account", "CHINOOK_MAX_STREAMS_PER_ACCOUNT"),
    (
        "max_playlists_per_account",
        "CHINOOK_MAX_PLAYLISTS_PER_ACCOUNT",
    ),
    ("max_playlist_entries", "CHINOOK_MAX_PLAYLIST_ENTRIES"),
    ("max_audio_bytes", "CHINOOK_MAX_AUDIO_BYTES"),
    ("cover_max_bytes", "CHINOOK_COVER_MAX_BYTES"),
    ("cover_max_dimension", "CHINOOK_COVER_MAX_DIMENSION"),
    ("cover_max_alloc_bytes", "CHINOOK_COVER_MAX_ALLOC_BYTES"),
    ("seed_covers", "CHINOOK_SEED_COVERS"),
    ("redis_url", "CHINOOK_REDIS_URL"),
    ("redis_prefix", "CHINOOK_REDIS_PREFIX"),
    ("redis_timeout_ms", "CHINOOK_REDIS_TIMEOUT_MS"),
    ("rate_limit", "CHINOOK_RATE_LIMIT"),
    ("rate_limit_anonymous", "CHINOOK_RATE_LIMIT_ANONYMOUS"),
    ("rate_limit_account", "CHINOOK_RATE_LIMIT_ACCOUNT"),
    ("rate_limit_login", "CHINOOK_RATE_LIMIT_LOGIN"),
    ("rate_limit_writes", "CHINOOK_RATE_LIMIT_WRITES"),
    ("rate_limit_subsonic", "CHINOOK_RATE_LIMIT_SUBSONIC"),
    ("trusted_proxies", "CHINOOK_TRUSTED_PROXIES"),
    ("cache_ttl_secs", "CHINOOK_CACHE_TTL_SECS"),
    ("answer_cache_bytes", "CHINOOK_ANSWER_CACHE_BYTES"),
    ("public_max_age_secs", "CHINOOK_PUBLIC_MAX_AGE_SECS"),
    ("stream_lease_ttl_secs", "CHINOOK_STREAM_LEASE_TTL_SECS"),
    ("stream_linger_secs", "CHINOOK_STREAM_LINGER_SECS"),
    ("auth_cache_secs", "CHINOOK_AUTH_CACHE_SECS"),
    ("send_timeout_secs", "CHINOOK_SEND_TIMEOUT_SECS"),
    ("tls_cert", "CHINOOK_TLS_CERT"),
    ("tls_key", "CHINOOK_TLS_KEY"),
    ("cors_origins", "CHINOOK_CORS_ORIGINS"),
    ("cors_credentials", "CHINOOK_CORS_CREDENTIALS"),
];

/// Every setting as (file key, environment name), in the order of the README's table:
/// what `chinook settings` prints and what deployment manifests are checked against.
pub fn settings() -> impl Iterator<Item = (&'static str, &'static str)> {
    SETTINGS.iter().copied()
}

/// Environment variables the binary reads that are not settings of this table.
const OTHER_ENV: &[&str] = &["CHINOOK_CONFIG"];

/// Raw values by file key, with where each came from.
#[derive(Default)]
pub(super) struct Layers {
    values: BTreeMap<&'static str, (String, Origin)>,
}

impl Layers {
    fn setting_name(key: &str, origin: &Origin) -> String {
        match origin {
            Origin::Env => SETTINGS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, env)| (*env).to_string())
                .unwrap_or_else(|| key.to_string()),
            Origin::File(path) => format!("{key} (in {})", path.display()),
        }
    }

    /// Parses one setting with `parse`, or returns `None` when no layer set it.
    pub(super) fn get<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.values.get(key) {
            None => Ok(None),
            Some((raw, origin)) => parse(raw)
                .map(Some)
                .map_err(|problem| ConfigError::new(Self::setting_name(key, origin), problem)),
        }
    }
}

impl Config {
    /// Loads the configuration from the optional file and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    /// Loads from an explicit environment, which tests use to avoid touching process state.
    pub fn from_sources(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        let mut layers = Layers::default();
        if let Some(path) = file {
            read_file_layer(path, &mut layers)?;
        }
        for (name, value) in env {
            if let Some((key, _)) = SETTINGS.iter().find(|(_, env_name)| env_name == name) {
                layers.values.insert(key, (value.clone(), Origin::Env));
            } else if name.starts_with("CHINOOK_") && !OTHER_ENV.contains(&name.as_str()) {
                // Not fatal: the variable may be meant for a newer or older version.
                eprintln!("warning: ignoring unknown setting {name}");
            }
        }
        Self::from_layers(&layers)
    }
}

fn read_file_layer(path: &Path, layers: &mut Layers) -> Result<(), ConfigError> {
    let origin_name = format!("config file {}", path.display());
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(&origin_name, format!("cannot be read ({e})")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let problem = e.message().trim().replace('\n', "; ");
        let place = e
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                format!(" at line {line}")
            })
            .unwrap_or_default();
        ConfigError::new(&origin_name, format!("not valid TOML{place}: {problem}"))
    })?;
    for (key, value) in table {
        let Some((known, _)) = SETTINGS.iter().find(|(k, _)| *k == key) else {
            let known: Vec<&str> = SETTINGS.iter().map(|(k, _)| *k).collect();
            return Err(ConfigError::new(
                format!("{key} (in {})", path.display()),
                format!("unknown setting; known settings are {}", known.join(", ")),
            ));
        };
        let raw = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            other => {
                return Err(ConfigError::new(
                    format!("{key} (in {})", path.display()),
                    format!("expected a string or a number, found {}", other.type_str()),
                ))
            }
        };
        layers
            .values
            .insert(known, (raw, Origin::File(path.to_path_buf())));
    }
    Ok(())
}
