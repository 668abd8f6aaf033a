//! Resolving the layers into a `Config`: each setting's parser, bounds and default, and the
//! checks that span settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::layers::Layers;
use super::parsers::{boolean, non_empty, number_in, replica_urls, seconds};
use super::{
    Backend, Config, ConfigError, CorsOrigins, CorsPolicy, DatabaseUrl, LogFormat, PlaylistCaps,
    Rate, RateLimits, Secret, SeedAudio, TlsFiles, DEFAULT_DEMO_PASSWORD,
};

impl Config {
    pub(super) fn from_layers(layers: &Layers) -> Result<Self, ConfigError> {
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
