//! The change feed that keeps every instance's index true to SQL.
//!
//! Catalog writes log the entries they touch (`catalog::changes`). After the commit the
//! writing instance applies the log to its index, so its next read sees the write. Other
//! instances hear of it through PostgreSQL `NOTIFY` and, with Redis configured, a Redis
//! message the writer publishes (on any backend); as a safety net they also check the log
//! periodically. Each only wakes them: they apply the same log, read from SQL. Because the
//! log is in SQL, an instance that missed a message or was down catches up instead of
//! drifting.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use prometheus::IntCounterVec;

use tokio_util::sync::CancellationToken;

use crate::cache::Redis;
use crate::config::{Backend, Config};
use crate::db::Db;
use crate::search::IndexSlot;

/// The Redis channel (under the key prefix) that announces new changes.
pub const REDIS_CHANNEL: &str = "catalog-changes";

/// Tells the other instances, through Redis, that the log has grown to `seq`.
pub async fn announce(redis: Option<&Redis>, seq: i64) {
    if let Some(redis) = redis {
        redis.publish(REDIS_CHANNEL, seq.to_string()).await;
    }
}

/// How often the log is checked without a notification: the only way on SQLite, and a
/// safety net for notifications lost while the listening connection was down.
fn poll_interval(backend: Backend) -> Duration {
    match backend {
        Backend::Sqlite => Duration::from_millis(500),
        Backend::Postgres => Duration::from_secs(5),
    }
}

/// What the follower needs besides the database.
pub struct Follower {
    pub config: Arc<Config>,
    pub slot: Arc<IndexSlot>,
    pub redis: Option<Arc<Redis>>,
    /// Wake-ups by source: `notify` (PostgreSQL), `redis` or `poll`.
    pub wakeups: IntCounterVec,
}

/// Applies other instances' changes to this instance's index until `shutdown`.
pub async fn follow(db: Db, follower: Follower, shutdown: CancellationToken) {
    let Follower {
        config,
        slot,
        redis,
        wakeups,
    } = follower;
    let backend = db.backend();
    let mut listener = match backend {
        Backend::Postgres => listen(&config).await,
        Backend::Sqlite => None,
    };
    let mut messages = match &redis {
        Some(redis) => subscribe(redis).await,
        None => None,
    };
    let mut tick = tokio::time::interval(poll_interval(backend));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let woken = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.map(|_| ()).map_err(anyhow::Error::from),
                None => std::future::pending().await,
            }
        };
        let announced = async {
            match messages.as_mut() {
                Some(m) => m.on_message().next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => wakeups.with_label_values(&["poll"]).inc(),
            result = woken => {
                wakeups.with_label_values(&["notify"]).inc();
                if let Err(e) = result {
                    tracing::warn!(error = %e, "listening for catalog changes failed; polling until it reconnects");
                    listener = None;
                }
            }
            message = announced => {
                if message.is_some() {
                    wakeups.with_label_values(&["redis"]).inc();
                } else {
                    tracing::warn!("the Redis subscription for catalog changes ended; polling until it is back");
                    messages = None;
                }
            }
        }
        if listener.is_none() && backend == Backend::Postgres {
            listener = listen(&config).await;
        }
        if messages.is_none() {
            if let Some(redis) = &redis {
                // Skipped while the breaker is open, so an outage costs no connection
                // attempts beyond the breaker's own probes.
                if !redis.degraded() {
                    messages = subscribe(redis).await;
                }
            }
        }
        if let Some(index) = slot.get() {
            if let Err(e) = index.catch_up(&db).await {
                tracing::error!(
                    error = format!("{e:#}"),
                    "applying catalog changes to the index failed"
                );
            }
        }
    }
}

async fn subscribe(redis: &Redis) -> Option<redis::aio::PubSub> {
    match redis.subscriber(REDIS_CHANNEL).await {
        Ok(pubsub) => Some(pubsub),
        Err(e) => {
            tracing::debug!(error = %e, "cannot subscribe to catalog changes on Redis; polling");
            None
        }
    }
}

async fn listen(config: &Config) -> Option<sqlx::postgres::PgListener> {
    let attempt = async {
        let mut listener =
            sqlx::postgres::PgListener::connect(config.database_url.expose()).await?;
        listener.listen(crate::catalog::changes::CHANNEL).await?;
        anyhow::Ok(listener)
    };
    match attempt.await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for catalog changes; polling instead");
            None
        }
    }
}
