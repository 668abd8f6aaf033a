//! What every request handler can reach: the database, the configuration, the process's
//! lifecycle (start time, draining), and its metrics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::cache::PublicAnswers;
use crate::cache::{Answers, RateLimiter, Redis};
use crate::config::Config;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::media::MediaStore;
use crate::metrics::Metrics;
use crate::search::{Budget, CatalogIndex, Exhausted, IndexSlot};
use crate::streaming::access::{StreamLimiter, UrlSigner};
use crate::streaming::warm::Warm;

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
    /// Tokens, sessions, ownership and masters, so a warm stream request costs no SQL.
    pub warm: Warm,
    /// Whole public catalog answers, with their validators.
    pub public: PublicAnswers,
}

impl AppState {
    /// Runs a catalog read on the blocking pool, off the async workers, within the read
    /// deadline. Its budget is spent at the deadline and cancelled when the caller stops
    /// waiting (a client that hung up drops the request's future), so abandoned work stops
    /// at its next check. A read that cannot finish in time is a 503 with `Retry-After`.
    pub async fn read_catalog<T, F>(&self, read: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&CatalogIndex, &Budget) -> ApiResult<T> + Send + 'static,
    {
        self.catalog()?;
        let deadline = self.config.read_deadline;
        let budget = Budget::new(deadline);
        let _cancel = CancelOnDrop(budget.clone());
        let slot = self.index.clone();
        let work = async {
            let _place = slot
                .reads()
                .acquire()
                .await
                .map_err(|e| anyhow::anyhow!("the index read places are closed: {e}"))?;
            let slot = slot.clone();
            let budget = budget.clone();
            tokio::task::spawn_blocking(move || match slot.get() {
                Some(index) => read(index, &budget),
                None => Err(warming()),
            })
            .await
            .map_err(|e| anyhow::anyhow!("an index read panicked: {e}"))?
        };
        let out_of_time = || {
            ApiError::Busy(
                "the catalog could not answer in time; retry shortly".into(),
                1,
            )
        };
        match tokio::time::timeout(deadline, work).await {
            Err(_) => Err(out_of_time()),
            Ok(Err(ApiError::Internal(e))) if e.chain().any(|c| c.is::<Exhausted>()) => {
                Err(out_of_time())
            }
            Ok(result) => result,
        }
    }

    /// Runs a catalog write, which commits its own `CatalogWrite`, then brings this
    /// instance's index up to the change log and announces the new end of the log to the
    /// other instances, so the writer's next read (here or through a peer that heard) sees
    /// it. While the index warms nothing is written: the write would not be readable back.
    pub async fn write_catalog<T>(
        &self,
        write: impl AsyncFnOnce(&Db) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let index = self.catalog()?;
        let written = write(&self.db).await?;
        index.catch_up(&self.db).await?;
        crate::search::feed::announce(self.redis.as_deref(), index.applied_change()).await;
        Ok(written)
    }

    /// A public catalog answer to `key` through the answer cache, at the generation the index
    /// holds now: read before `compute` runs, so the answer is never older than its key.
    pub async fn public_answer<F, Fut>(
        &self,
        req: &actix_web::HttpRequest,
        key: String,
        compute: F,
    ) -> ApiResult<actix_web::HttpResponse>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ApiResult<bytes::Bytes>>,
    {
        let generation = self.catalog()?.applied_change();
        self.public.respond(req, generation, key, compute).await
    }

    /// The catalog index, or a 503 while it is still being built or warmed.
    pub fn catalog(&self) -> ApiResult<&CatalogIndex> {
        self.index.get().ok_or_else(warming)
    }
}

fn warming() -> ApiError {
    ApiError::Unavailable("the catalog index is warming up; retry shortly".into())
}

/// Cancels a read's budget when the future holding it is dropped.
struct CancelOnDrop(Budget);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
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
