//! Layered configuration: defaults < optional TOML file < `CHINOOK_*` environment, validated once.
//!
//! Every setting has one name in the file (`database_url`) and one in the environment
//! (`CHINOOK_DATABASE_URL`). Values are parsed by the same function whichever layer they come
//! from, so a bad value gives the same one-line error naming the setting and where it was set.

mod layers;
mod parsers;
mod resolve;
mod secrets;
#[cfg(test)]
mod tests;
mod types;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use layers::settings;
pub use secrets::{Backend, DatabaseUrl, Secret};
pub use types::{
    CorsOrigins, CorsPolicy, LogFormat, PlaylistCaps, Rate, RateLimits, SeedAudio, TlsFiles,
};

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

pub const DEFAULT_DEMO_PASSWORD: &str = "chinook-demo";
