//! Layered configuration: defaults < optional TOML file < `CHINOOK_*` environment, validated once.
//!
//! Every setting has one name in the file (`database_url`) and one in the environment
//! (`CHINOOK_DATABASE_URL`). Values are parsed by the same function whichever layer they come
//! from, so a bad value gives the same one-line error naming the setting and where it was set.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

/// A configuration problem, shown to the operator as one line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl ConfigError {
    fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration the whole service runs from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// Database file, index, audio and covers.
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// `ChinookData.json` to import on first start.
    pub dataset: Option<PathBuf>,
    /// Password of the accounts the seed step creates for Chinook's customers and employees.
    pub demo_password: Secret,
    pub log_format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `chinook=debug,sqlx=warn`.
    pub log_filter: String,
    /// How long start-up keeps retrying an unreachable database before giving up.
    pub db_connect_timeout: Duration,
    /// Whether `serve` runs the pending migrations at start. Off where a migration Job runs
    /// them once per release: a pod then waits until the migrations it knows are applied,
    /// and an older pod never trips over a newer schema's migrations.
    pub migrate_on_start: bool,
    pub db_max_connections: u32,
    /// Read replicas of the PostgreSQL primary; reads go to them in rotation.
    pub replica_urls: Vec<DatabaseUrl>,
    /// A replica further behind the primary than this leaves the rotation until it catches up.
    pub max_replica_lag: Duration,
    /// How often each replica's health and replay position are checked.
    pub replica_check_interval: Duration,
    /// After an account writes, how long its reads stay on the primary when the replicas'
    /// replay position cannot be compared with the write's (the LSN is the rule, this the
    /// fallback).
    pub read_your_writes_window: Duration,
    /// Largest request body accepted, in bytes; more is a 413.
    pub max_body_bytes: usize,
    /// How long a request body may take, plus the time its bytes take at `body_min_rate`;
    /// slower is a 408 and a closed connection.
    pub body_timeout: Duration,
    /// The slowest a request body may arrive, in bytes per second, once `body_timeout` is spent.
    pub body_min_rate: u64,
    /// Open connections from one client address (a trusted proxy has none of its own).
    pub max_connections_per_client: usize,
    /// Open connections in all. Connections over either cap get a 503 and are closed.
    pub max_connections: usize,
    /// Lifetime of a bearer token issued at login.
    pub token_ttl: Duration,
    /// After a stop signal: how long readiness reports 503 before the listener closes, so
    /// load balancers stop sending new requests first.
    pub shutdown_delay: Duration,
    /// How long in-flight requests get to finish once the listener has closed.
    pub shutdown_timeout: Duration,
    /// How long one catalog read (a list, a search, a taxonomy view) may take on the index
    /// before it is given up and answered 503 with `Retry-After`.
    pub read_deadline: Duration,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// The media store: audio files (read-only in production). Default `<data_dir>/media`.
    pub media_dir: PathBuf,
    /// Renditions made on demand (generated songs; renditions of masters stored before
    /// uploads made them): a cache with a size cap, least recently used evicted first.
    /// Default `<data_dir>/media-cache`.
    pub media_cache_dir: PathBuf,
    /// The cache's cap in bytes. Uploaded masters and their renditions are never in it.
    pub media_cache_bytes: u64,
    /// How many tracks (the lowest ids) seeding stores generated masters for in the media
    /// store. None by default: every track has a generated song without it.
    pub seed_audio: SeedAudio,
    /// Generated songs stop after this many seconds, however long the track.
    pub audio_max_secs: u64,
    /// The largest chunk a streamed response reads from a file at once; chunks start at
    /// 16 KiB, grow to 128 KiB while the client keeps up, and past that only for a client
    /// that has proved fast over many megabytes (`streaming::file`).
    pub stream_chunk_bytes: usize,
    /// Keys signed stream URLs; when unset, a key kept in the database (shared by every
    /// instance) is used.
    pub signing_key: Option<Secret>,
    /// Encrypts Subsonic app passwords at rest: 64 hex digits. Without it no app password
    /// can be made, and Subsonic token auth answers code 41.
    pub app_password_key: Option<Secret>,
    /// How long a signed stream URL stays valid.
    pub stream_url_ttl: Duration,
    /// Full streams one account may have open at once; more is a 429.
    pub max_streams_per_account: usize,
    /// How many playlists and entries one account may keep; more is a 409.
    pub playlist_caps: PlaylistCaps,
    /// Largest audio upload, in bytes; more is a 413.
    pub max_audio_bytes: u64,
    /// Largest cover upload, in bytes; more is a 413.
    pub cover_max_bytes: u64,
    /// Largest width and height of an uploaded cover, in pixels, read from its header
    /// before any pixel is decoded; more is a 422.
    pub cover_max_dimension: u32,
    /// Most memory decoding an uploaded cover may allocate, in bytes; more is a 422.
    pub cover_max_alloc_bytes: u64,
    /// How many albums (the lowest ids) seeding draws covers for ahead of their first
    /// request; the rest are drawn on demand, identically.
    pub seed_covers: u64,
    /// Redis, shared by every instance for rate limits, cached answers, stream leases and
    /// change announcements; without it each of those works within the process.
    pub redis_url: Option<Secret>,
    /// Put before every Redis key and channel, so deployments (and tests) can share a server.
    pub redis_prefix: String,
    /// The longest one Redis command may take before it counts as a failure.
    pub redis_timeout: Duration,
    /// The request limits; `None` switches rate limiting off (benchmarks).
    pub rate_limits: Option<RateLimits>,
    /// Peers whose `X-Forwarded-For` is believed (load balancers, reverse proxies).
    pub trusted_proxies: Vec<crate::cidr::Cidr>,
    /// How long a computed answer (taxonomy tree, report, popular tracks) is kept at most;
    /// changes invalidate it sooner.
    pub cache_ttl: Duration,
    /// Memory for whole public catalog answers (lists, details, search), in bytes; 0 keeps
    /// none. Each write to the catalog makes the older ones unreachable.
    pub answer_cache_bytes: u64,
    /// How long a client or shared cache may serve a public catalog answer before
    /// revalidating it; 0 (the default) asks for a revalidation every time, which is a 304.
    pub public_max_age: Duration,
    /// How long a stream's lease lives in Redis unless renewed; a crashed instance's streams
    /// stop counting against the cap after this.
    pub stream_lease_ttl: Duration,
    /// How long a full stream keeps its place under the cap after its last byte was handed
    /// to the connection (or its client went away): a short file counts as long as a long
    /// one, and one purchase cannot feed listeners one after another at network speed.
    pub stream_linger: Duration,
    /// How long a bearer token's or session's account, an ownership and a track's master are
    /// remembered at most; logouts and uploads drop them sooner, on every instance.
    pub auth_cache_ttl: Duration,
    /// How long a response may wait for its client to take more bytes before the connection
    /// is closed (and its place under the stream cap freed).
    pub send_timeout: Duration,
    /// PEM certificate chain and private key: with both, the listener speaks TLS (HTTP/2 and
    /// HTTP/1.1 by ALPN) and responses carry HSTS.
    pub tls: Option<TlsFiles>,
    /// Origins browsers may call the API from (CORS); empty turns CORS off.
    pub cors: CorsPolicy,
}

/// What one account may keep in playlists. Each entry is a row every read of the playlist
/// returns and a reorder sends back whole, so these bound one account's share of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaylistCaps {
    /// Playlists per account.
    pub playlists: i64,
    /// Entries per playlist.
    pub entries: usize,
}

impl PlaylistCaps {
    /// A reorder sends every id: 8,000 ids of up to seven digits stay under the 64 KiB body
    /// limit, so a larger cap would make a full playlist impossible to reorder.
    pub const MOST_ENTRIES: u64 = 8_000;
}

impl Default for PlaylistCaps {
    fn default() -> Self {
        Self {
            playlists: 1_000,
            entries: 5_000,
        }
    }
}

/// The GCRA limits per class of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Anonymous requests, per client IP.
    pub anonymous: Rate,
    /// Requests with a valid bearer token, per account.
    pub account: Rate,
    /// Login and registration attempts, per client IP.
    pub login: Rate,
    /// Writes per account, counted on top of `account`.
    pub writes: Rate,
    /// Subsonic requests (`/rest/...`) per signed-in account: players bypass the bearer
    /// token, so they have their own allowance.
    pub subsonic: Rate,
}

/// A sustained rate and the burst allowed on top of an idle period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u64,
    pub period: Duration,
    pub burst: u64,
}

impl Rate {
    /// `100/min burst 20`: requests per `s`, `min` or `h`, and the burst (default: the
    /// requests per period).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("`{raw}` is not like `100/min burst 20`");
        let mut words = raw.split_whitespace();
        let (count, unit) = words
            .next()
            .and_then(|w| w.split_once('/'))
            .ok_or_else(bad)?;
        let requests: u64 = count.parse().map_err(|_| bad())?;
        let period = match unit {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let burst = match (words.next(), words.next(), words.next()) {
            (None, None, None) => requests,
            (Some("burst"), Some(n), None) => n.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        if requests == 0 || burst == 0 || requests > 1_000_000_000 || burst > 1_000_000_000 {
            return Err(format!(
                "`{raw}`: requests and burst must be 1..=1000000000"
            ));
        }
        Ok(Self {
            requests,
            period,
            burst,
        })
    }

    /// Time between two requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        self.period / self.requests as u32
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            anonymous: Rate::parse("100/min burst 20").expect("valid"),
            account: Rate::parse("600/min burst 60").expect("valid"),
            login: Rate::parse("10/min burst 5").expect("valid"),
            writes: Rate::parse("120/min burst 60").expect("valid"),
            subsonic: Rate::parse("1200/min burst 300").expect("valid"),
        }
    }
}

/// Where the listener's certificate chain and key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Which cross-origin callers browsers let through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    pub origins: CorsOrigins,
    /// Whether browsers may send cookies or HTTP authentication along. Never with `*`.
    pub credentials: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all: browsers keep other origins out.
    #[default]
    None,
    /// `*`: any origin, never with credentials.
    Any,
    /// Exact origins such as `https://shop.example.com`.
    List(Vec<String>),
}

impl CorsOrigins {
    /// `*`, or a comma-separated list of origins (`scheme://host[:port]`, nothing after).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self::None);
        }
        if raw == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                return Err("`*` cannot be mixed with listed origins".into());
            }
            let url = Url::parse(item).map_err(|e| format!("`{item}` is not an origin ({e})"))?;
            let origin = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || origin != item.trim_end_matches('/') {
                return Err(format!(
                    "`{item}` is not an origin like https://shop.example.com (scheme, host, optional port, nothing after)"
                ));
            }
            origins.push(origin);
        }
        Ok(Self::List(origins))
    }
}

/// Which tracks seeding writes audio for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedAudio {
    None,
    /// The first N tracks by id.
    First(u64),
    All,
}

impl SeedAudio {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(SeedAudio::All),
            "none" | "0" => Ok(SeedAudio::None),
            n => n
                .parse::<u64>()
                .map(SeedAudio::First)
                .map_err(|_| format!("`{raw}` is not all, none or a number of tracks")),
        }
    }
}

pub const DEFAULT_DEMO_PASSWORD: &str = "chinook-demo";

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
struct Layers {
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
    fn get<T>(
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

    fn from_layers(layers: &Layers) -> Result<Self, ConfigError> {
        let data_dir = layers
            .get("data_dir", non_empty)?
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = layers
            .get("database_url", DatabaseUrl::parse)?
            .unwrap_or_else(|| DatabaseUrl::sqlite_in(&data_dir));
        let replica_urls = layers
            .get("replica_urls", replica_urls)?
            .unwrap_or_default();
        if !replica_urls.is_empty() && database_url.backend() != Backend::Postgres {
            return Err(ConfigError::new(
                "CHINOOK_REPLICA_URLS",
                "read replicas need a postgres:// CHINOOK_DATABASE_URL",
            ));
        }
        let media_dir = layers
            .get("media_dir", non_empty)?
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("media"));
        let media_cache_dir = layers
            .get("media_cache_dir", non_empty)?
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("media-cache"));
        let demo_password = layers
            .get("demo_password", |raw| {
                crate::text::password::validate(raw).map(|()| Secret::new(raw))
            })?
            .unwrap_or_else(|| Secret::new(DEFAULT_DEMO_PASSWORD));

        let tls = match (
            layers.get("tls_cert", non_empty)?,
            layers.get("tls_key", non_empty)?,
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: PathBuf::from(cert),
                key: PathBuf::from(key),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "CHINOOK_TLS_KEY",
                    "must be set too when CHINOOK_TLS_CERT is",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "CHINOOK_TLS_CERT",
                    "must be set too when CHINOOK_TLS_KEY is",
                ))
            }
        };
        let cors = CorsPolicy {
            origins: layers
                .get("cors_origins", CorsOrigins::parse)?
                .unwrap_or_default(),
            credentials: layers.get("cors_credentials", boolean)?.unwrap_or(false),
        };
        if cors.credentials && cors.origins == CorsOrigins::Any {
            return Err(ConfigError::new(
                "CHINOOK_CORS_CREDENTIALS",
                "cannot be true while CHINOOK_CORS_ORIGINS is `*`: list the origins instead",
            ));
        }

        Ok(Self {
            tls,
            cors,
            bind: layers
                .get("bind", |raw| {
                    raw.parse::<SocketAddr>()
                        .map_err(|_| format!("`{raw}` is not an address like 127.0.0.1:8080"))
                })?
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database_url,
            dataset: layers.get("dataset", non_empty)?.map(PathBuf::from),
            demo_password,
            log_format: layers
                .get("log_format", |raw| {
                    match raw.to_ascii_lowercase().as_str() {
                        "text" => Ok(LogFormat::Text),
                        "json" => Ok(LogFormat::Json),
                        _ => Err(format!("`{raw}` is not one of: text, json")),
                    }
                })?
                .unwrap_or(LogFormat::Text),
            log_filter: layers
                .get("log", |raw| {
                    tracing_subscriber::EnvFilter::try_new(raw)
                        .map(|_| raw.to_string())
                        .map_err(|e| format!("not a valid log filter ({e})"))
                })?
                .unwrap_or_else(|| "info".into()),
            db_connect_timeout: layers
                .get("db_connect_timeout_secs", seconds)?
                .unwrap_or(Duration::from_secs(30)),
            db_max_connections: layers
                .get("db_max_connections", |raw| number_in(raw, 1, 1000))?
                .unwrap_or(10) as u32,
            migrate_on_start: layers.get("migrate_on_start", boolean)?.unwrap_or(true),
            replica_urls,
            max_replica_lag: layers
                .get("max_replica_lag_secs", |raw| {
                    number_in(raw, 1, 24 * 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(10)),
            replica_check_interval: layers
                .get("replica_check_interval_ms", |raw| {
                    number_in(raw, 50, 60_000).map(Duration::from_millis)
                })?
                .unwrap_or(Duration::from_secs(1)),
            read_your_writes_window: layers
                .get("read_your_writes_window_secs", seconds)?
                .unwrap_or(Duration::from_secs(5)),
            max_body_bytes: layers
                .get("max_body_bytes", |raw| number_in(raw, 1024, 1 << 30))?
                .unwrap_or(64 * 1024) as usize,
            body_timeout: layers
                .get("body_timeout_secs", |raw| {
                    number_in(raw, 1, 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(5)),
            body_min_rate: layers
                .get("body_min_rate", |raw| number_in(raw, 1, 1 << 30))?
                .unwrap_or(64 * 1024),
            max_connections_per_client: layers
                .get("max_connections_per_client", |raw| {
                    number_in(raw, 1, 1 << 20)
                })?
                .unwrap_or(256) as usize,
            max_connections: layers
                .get("max_connections", |raw| number_in(raw, 1, 1 << 20))?
                .unwrap_or(10_000) as usize,
            token_ttl: layers
                .get("token_ttl_secs", |raw| {
                    number_in(raw, 60, 365 * 24 * 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(30 * 24 * 3600)),
            shutdown_delay: layers
                .get("shutdown_delay_secs", seconds)?
                .unwrap_or(Duration::ZERO),
            shutdown_timeout: layers
                .get("shutdown_timeout_secs", seconds)?
                .unwrap_or(Duration::from_secs(30)),
            read_deadline: layers
                .get("read_deadline_ms", |raw| {
                    number_in(raw, 10, 60_000).map(Duration::from_millis)
                })?
                .unwrap_or(Duration::from_secs(2)),
            workers: layers
                .get("workers", |raw| number_in(raw, 0, 1024))?
                .unwrap_or(0) as usize,
            media_cache_dir,
            media_cache_bytes: layers
                .get("media_cache_bytes", |raw| number_in(raw, 1 << 20, 1 << 50))?
                .unwrap_or(1 << 30),
            media_dir,
            seed_audio: layers
                .get("seed_audio", SeedAudio::parse)?
                .unwrap_or(SeedAudio::None),
            audio_max_secs: layers
                .get("audio_max_secs", |raw| number_in(raw, 1, 24 * 3600))?
                .unwrap_or(120),
            stream_chunk_bytes: layers
                .get("stream_chunk_bytes", |raw| number_in(raw, 4096, 16 << 20))?
                .unwrap_or(1 << 20) as usize,
            signing_key: layers.get("signing_key", |raw| {
                if raw.len() < 32 {
                    Err("must be at least 32 characters".into())
                } else {
                    Ok(Secret::new(raw))
                }
            })?,
            app_password_key: layers.get("app_password_key", |raw| {
                crate::hex::decode_key(raw).map(|_| Secret::new(raw.trim()))
            })?,
            stream_url_ttl: layers
                .get("stream_url_ttl_secs", |raw| {
                    number_in(raw, 10, 7 * 24 * 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(6 * 3600)),
            max_streams_per_account: layers
                .get("max_streams_per_account", |raw| number_in(raw, 1, 1000))?
                .unwrap_or(3) as usize,
            playlist_caps: PlaylistCaps {
                playlists: layers
                    .get("max_playlists_per_account", |raw| {
                        number_in(raw, 1, 1_000_000)
                    })?
                    .map_or(PlaylistCaps::default().playlists, |n| n as i64),
                entries: layers
                    .get("max_playlist_entries", |raw| {
                        number_in(raw, 1, PlaylistCaps::MOST_ENTRIES)
                    })?
                    .map_or(PlaylistCaps::default().entries, |n| n as usize),
            },
            max_audio_bytes: layers
                .get("max_audio_bytes", |raw| number_in(raw, 1024, 1 << 40))?
                .unwrap_or(256 << 20),
            cover_max_bytes: layers
                .get("cover_max_bytes", |raw| number_in(raw, 1024, 1 << 30))?
                .unwrap_or(5 << 20),
            cover_max_dimension: layers
                .get("cover_max_dimension", |raw| number_in(raw, 16, 65535))?
                .unwrap_or(4096) as u32,
            cover_max_alloc_bytes: layers
                .get("cover_max_alloc_bytes", |raw| {
                    number_in(raw, 1 << 20, 1 << 34)
                })?
                .unwrap_or(64 << 20),
            seed_covers: layers
                .get("seed_covers", |raw| {
                    match raw.trim().to_ascii_lowercase().as_str() {
                        "all" => Ok(u64::MAX),
                        "none" => Ok(0),
                        n => n
                            .parse::<u64>()
                            .map_err(|_| format!("`{raw}` is not all, none or a number of albums")),
                    }
                })?
                .unwrap_or(0),
            redis_url: layers.get("redis_url", |raw| {
                let url = Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
                match url.scheme() {
                    "redis" | "rediss" | "redis+unix" | "unix" => Ok(Secret::new(raw)),
                    other => Err(format!("unsupported scheme `{other}` (expected redis://)")),
                }
            })?,
            redis_prefix: layers
                .get("redis_prefix", non_empty)?
                .unwrap_or_else(|| "chinook:".into()),
            redis_timeout: layers
                .get("redis_timeout_ms", |raw| {
                    number_in(raw, 10, 10_000).map(Duration::from_millis)
                })?
                .unwrap_or(Duration::from_millis(250)),
            rate_limits: rate_limits(layers)?,
            trusted_proxies: layers
                .get("trusted_proxies", |raw| {
                    raw.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(crate::cidr::Cidr::parse)
                        .collect::<Result<Vec<_>, _>>()
                })?
                .unwrap_or_default(),
            cache_ttl: layers
                .get("cache_ttl_secs", |raw| {
                    number_in(raw, 1, 24 * 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(300)),
            answer_cache_bytes: layers
                .get("answer_cache_bytes", |raw| number_in(raw, 0, 1 << 40))?
                .unwrap_or(64 << 20),
            public_max_age: layers
                .get("public_max_age_secs", |raw| {
                    number_in(raw, 0, 24 * 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::ZERO),
            stream_lease_ttl: layers
                .get("stream_lease_ttl_secs", |raw| {
                    number_in(raw, 1, 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(30)),
            stream_linger: layers
                .get("stream_linger_secs", |raw| {
                    number_in(raw, 0, 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(10)),
            auth_cache_ttl: layers
                .get("auth_cache_secs", |raw| {
                    number_in(raw, 1, 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(30)),
            send_timeout: layers
                .get("send_timeout_secs", |raw| {
                    number_in(raw, 1, 3600).map(Duration::from_secs)
                })?
                .unwrap_or(Duration::from_secs(30)),
        })
    }

    /// The configuration tests start from: everything in `data_dir`, port 0, quiet logs.
    pub fn for_tests(data_dir: &Path, database_url: Option<DatabaseUrl>) -> Self {
        let mut config = Self::from_layers(&Layers::default()).expect("defaults are valid");
        config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.database_url = database_url.unwrap_or_else(|| DatabaseUrl::sqlite_in(data_dir));
        config.data_dir = data_dir.to_path_buf();
        config.media_dir = data_dir.join("media");
        config.media_cache_dir = data_dir.join("media-cache");
        // Songs short enough that unoptimised test builds render them quickly.
        config.audio_max_secs = 8;
        // Back-to-back streams in one test must not wait; the cap's test sets its own.
        config.stream_linger = Duration::ZERO;
        // Tests that stream seed their own audio; the rest need none.
        config.seed_audio = SeedAudio::None;
        config.workers = 2;
        config.db_connect_timeout = Duration::from_secs(10);
        // Every test client is 127.0.0.1 and many fire hundreds of requests; the tests of
        // rate limiting set the real limits themselves.
        let generous = Rate {
            requests: 1_000_000,
            period: Duration::from_secs(60),
            burst: 1_000_000,
        };
        config.rate_limits = Some(RateLimits {
            anonymous: generous,
            account: generous,
            login: generous,
            writes: generous,
            subsonic: generous,
        });
        // Likewise for connections; the tests of the caps set their own.
        config.max_connections_per_client = 10_000;
        config
    }
}

fn rate_limits(layers: &Layers) -> Result<Option<RateLimits>, ConfigError> {
    let on = layers
        .get("rate_limit", |raw| {
            match raw.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" => Ok(true),
                "off" | "false" | "0" => Ok(false),
                _ => Err(format!("`{raw}` is not on or off")),
            }
        })?
        .unwrap_or(true);
    let defaults = RateLimits::default();
    let limits = RateLimits {
        anonymous: layers
            .get("rate_limit_anonymous", Rate::parse)?
            .unwrap_or(defaults.anonymous),
        account: layers
            .get("rate_limit_account", Rate::parse)?
            .unwrap_or(defaults.account),
        login: layers
            .get("rate_limit_login", Rate::parse)?
            .unwrap_or(defaults.login),
        writes: layers
            .get("rate_limit_writes", Rate::parse)?
            .unwrap_or(defaults.writes),
        subsonic: layers
            .get("rate_limit_subsonic", Rate::parse)?
            .unwrap_or(defaults.subsonic),
    };
    Ok(on.then_some(limits))
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

fn non_empty(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(raw.to_string())
    }
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("`{raw}` is not true or false")),
    }
}

fn number_in(raw: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = raw
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("{n} is outside {min}..={max}"));
    }
    Ok(n)
}

/// Comma-separated PostgreSQL URLs; blanks between commas are ignored.
fn replica_urls(raw: &str) -> Result<Vec<DatabaseUrl>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .enumerate()
        .map(|(i, part)| {
            let url = DatabaseUrl::parse(part).map_err(|e| format!("replica {}: {e}", i + 1))?;
            if url.backend() != Backend::Postgres {
                return Err(format!("replica {} is not a postgres:// URL", i + 1));
            }
            Ok(url)
        })
        .collect()
}

fn seconds(raw: &str) -> Result<Duration, String> {
    number_in(raw, 0, 24 * 3600).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_run_on_sqlite_in_the_data_dir() {
        let config = Config::from_sources(None, &[]).unwrap();
        assert_eq!(config.database_url.backend(), Backend::Sqlite);
        assert!(config.database_url.expose().contains("data/chinook.db"));
        assert_eq!(config.bind.port(), 8080);
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chinook.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\nworkers = 3\n").unwrap();
        let config =
            Config::from_sources(Some(&file), &env(&[("CHINOOK_BIND", "127.0.0.1:9100")])).unwrap();
        assert_eq!(config.bind.port(), 9100);
        assert_eq!(config.workers, 3);
    }

    #[test]
    fn an_unparsable_url_names_the_setting() {
        let err =
            Config::from_sources(None, &env(&[("CHINOOK_DATABASE_URL", "not a url")])).unwrap_err();
        assert_eq!(err.setting, "CHINOOK_DATABASE_URL");
        assert!(err.to_string().contains("not a valid URL"), "{err}");
    }

    #[test]
    fn an_unknown_scheme_is_refused() {
        let err = Config::from_sources(
            None,
            &env(&[("CHINOOK_DATABASE_URL", "mysql://localhost/x")]),
        )
        .unwrap_err();
        assert!(err.problem.contains("unsupported scheme `mysql`"), "{err}");
    }

    #[test]
    fn file_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:1\"\nworkers = \"two\n").unwrap();
        let err = Config::from_sources(Some(&file), &[]).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(!err.to_string().contains('\n'), "one line: {err}");

        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        let err = Config::from_sources(Some(&file), &[]).unwrap_err();
        assert!(err.setting.starts_with("colour"), "{err}");
        assert!(err.problem.contains("unknown setting"), "{err}");
    }

    #[test]
    fn numbers_are_range_checked() {
        let err =
            Config::from_sources(None, &env(&[("CHINOOK_DB_MAX_CONNECTIONS", "0")])).unwrap_err();
        assert!(err.problem.contains("outside"), "{err}");
        let err = Config::from_sources(None, &env(&[("CHINOOK_WORKERS", "many")])).unwrap_err();
        assert!(err.problem.contains("not a whole number"), "{err}");
    }

    #[test]
    fn playlist_caps_are_settings_within_what_a_reorder_body_can_carry() {
        let config = Config::from_sources(None, &[]).unwrap();
        assert_eq!(config.playlist_caps, PlaylistCaps::default());
        let config = Config::from_sources(
            None,
            &env(&[
                ("CHINOOK_MAX_PLAYLISTS_PER_ACCOUNT", "20"),
                ("CHINOOK_MAX_PLAYLIST_ENTRIES", "8000"),
            ]),
        )
        .unwrap();
        assert_eq!(config.playlist_caps.playlists, 20);
        assert_eq!(config.playlist_caps.entries, 8000);
        let err = Config::from_sources(None, &env(&[("CHINOOK_MAX_PLAYLIST_ENTRIES", "8001")]))
            .unwrap_err();
        assert_eq!(err.setting, "CHINOOK_MAX_PLAYLIST_ENTRIES");
        assert!(err.problem.contains("outside"), "{err}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = Config::from_sources(
            None,
            &env(&[
                (
                    "CHINOOK_DATABASE_URL",
                    "postgres://app:hunter2@db:5432/chinook?password=hunter3",
                ),
                ("CHINOOK_DEMO_PASSWORD", "swordfish-99"),
            ]),
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("hunter3"), "{shown}");
        assert!(!shown.contains("swordfish-99"), "{shown}");
        assert!(
            shown.contains("postgres://app:*****@db:5432/chinook"),
            "{shown}"
        );
    }

    #[test]
    fn rate_limits_parse_and_can_be_switched_off() {
        let config = Config::from_sources(None, &[]).unwrap();
        let limits = config.rate_limits.unwrap();
        assert_eq!(limits.anonymous.requests, 100);
        assert_eq!(limits.anonymous.burst, 20);
        assert_eq!(limits.anonymous.interval(), Duration::from_millis(600));
        let config = Config::from_sources(
            None,
            &env(&[
                ("CHINOOK_RATE_LIMIT_LOGIN", "3/s"),
                ("CHINOOK_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ]),
        )
        .unwrap();
        let login = config.rate_limits.unwrap().login;
        assert_eq!((login.requests, login.burst), (3, 3));
        assert_eq!(config.trusted_proxies.len(), 2);
        let off = Config::from_sources(None, &env(&[("CHINOOK_RATE_LIMIT", "off")])).unwrap();
        assert!(off.rate_limits.is_none());
        let err = Config::from_sources(None, &env(&[("CHINOOK_RATE_LIMIT_ACCOUNT", "lots")]))
            .unwrap_err();
        assert_eq!(err.setting, "CHINOOK_RATE_LIMIT_ACCOUNT");
        let err = Config::from_sources(None, &env(&[("CHINOOK_TRUSTED_PROXIES", "10.0.0.0/40")]))
            .unwrap_err();
        assert_eq!(err.setting, "CHINOOK_TRUSTED_PROXIES");
    }

    #[test]
    fn replicas_are_a_comma_separated_list_of_postgres_urls() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("CHINOOK_DATABASE_URL", "postgres://app@primary/chinook"),
                (
                    "CHINOOK_REPLICA_URLS",
                    "postgres://app@replica-1/chinook, postgres://app@replica-2/chinook,",
                ),
                ("CHINOOK_MAX_REPLICA_LAG", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(config.replica_urls.len(), 2);
        assert_eq!(config.max_replica_lag, Duration::from_secs(3));

        let err = Config::from_sources(
            None,
            &env(&[
                ("CHINOOK_DATABASE_URL", "postgres://app@primary/chinook"),
                (
                    "CHINOOK_REPLICA_URLS",
                    "postgres://app@r1/chinook,sqlite:///x.db",
                ),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "CHINOOK_REPLICA_URLS");
        assert!(err.problem.contains("replica 2"), "{err}");
    }

    #[test]
    fn replicas_of_a_sqlite_database_are_refused() {
        let err = Config::from_sources(
            None,
            &env(&[("CHINOOK_REPLICA_URLS", "postgres://app@replica/chinook")]),
        )
        .unwrap_err();
        assert!(err.problem.contains("need a postgres://"), "{err}");
    }

    #[test]
    fn tls_needs_both_the_certificate_and_the_key() {
        let err =
            Config::from_sources(None, &env(&[("CHINOOK_TLS_CERT", "/tls/cert.pem")])).unwrap_err();
        assert_eq!(err.setting, "CHINOOK_TLS_KEY");
        let config = Config::from_sources(
            None,
            &env(&[
                ("CHINOOK_TLS_CERT", "/tls/cert.pem"),
                ("CHINOOK_TLS_KEY", "/tls/key.pem"),
            ]),
        )
        .unwrap();
        assert_eq!(config.tls.unwrap().key, PathBuf::from("/tls/key.pem"));
    }

    #[test]
    fn any_origin_together_with_credentials_is_refused() {
        let err = Config::from_sources(
            None,
            &env(&[
                ("CHINOOK_CORS_ORIGINS", "*"),
                ("CHINOOK_CORS_CREDENTIALS", "true"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "CHINOOK_CORS_CREDENTIALS");
        assert!(err.problem.contains("list the origins"), "{err}");
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        assert_eq!(
            CorsOrigins::parse("https://shop.example.com, http://localhost:3000").unwrap(),
            CorsOrigins::List(vec![
                "https://shop.example.com".into(),
                "http://localhost:3000".into()
            ])
        );
        assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::None);
        assert_eq!(CorsOrigins::parse("*").unwrap(), CorsOrigins::Any);
        for bad in [
            "https://shop.example.com/path",
            "shop.example.com",
            "ftp://x.org",
            "*,https://a.org",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_configured_sqlite_file_is_created_when_missing() {
        let url = DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap();
        assert_eq!(url.expose(), "sqlite:///tmp/x.db?mode=rwc");
        let url = DatabaseUrl::parse("sqlite:///tmp/x.db?mode=ro").unwrap();
        assert_eq!(url.expose(), "sqlite:///tmp/x.db?mode=ro");
    }
}
