//! The typed values of the settings that are more than a number or a path: the log format,
//! playlist caps, rate limits, TLS files, the CORS policy and seed audio, with their parsers.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
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
