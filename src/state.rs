//! What every request handler can reach: the database, the configuration, the process's
//! lifecycle (start time, draining), and its metrics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::cache::{Answers, RateLimiter, Redis};
use crate::config::Config;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::media::MediaStore;
use crate::metrics::Metrics;
use crate::search::{CatalogIndex, IndexSlot};
use crate::streaming::access::{StreamLimiter, UrlSigner};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub lifecycle: Arc<Lifecycle>,
    pub index: Arc<IndexSlot>,
    /// Signs list cursors, so a tampered one is refused.
    pub cursor_secret: Arc<Vec<u8>>,
    pub media: MediaStore,
    /// Signs stream URLs.
    pub signer: UrlSigner,
    /// Full streams open per account.
    pub streams: Arc<StreamLimiter>,
    /// This app's own registry and instruments.
    pub metrics: Metrics,
    /// Redis, when configured.
    pub redis: Option<Arc<Redis>>,
    /// The request limits; `None` when switched off.
    pub limiter: Option<Arc<RateLimiter>>,
    /// Computed answers, in memory and in Redis.
    pub answers: Answers,
}

impl AppState {
    /// The catalog index, or a 503 while it is still being built or warmed.
    pub fn catalog(&self) -> ApiResult<&CatalogIndex> {
        self.index.get().ok_or_else(|| {
            ApiError::Unavailable("the catalog index is warming up; retry shortly".into())
        })
    }
}

/// Where the process is in its life. Draining starts at the stop signal: readiness turns
/// 503 at once while in-flight requests finish.
pub struct Lifecycle {
    started_at: Instant,
    draining: AtomicBool,
}

impl Lifecycle {
    pub fn new() -> Self {
        Self {
            started_at: Instant::now(),
            draining: AtomicBool::new(false),
        }
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.started_at.elapsed()
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}
