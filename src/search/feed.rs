//! The change feed that keeps every instance's index true to SQL.
//!
//! A catalog write runs in a `CatalogWrite`: it takes the catalog write lock, names the
//! index entries it touches, and appends them to `catalog_change` in its own transaction.
//! After the commit the writing instance applies the log to its index, so its next read
//! sees the write. Other instances hear of it through PostgreSQL `NOTIFY` and, with Redis
//! configured, a Redis message the writer publishes (on any backend); as a safety net they
//! also check the log periodically. Each only wakes them: they apply the same log, read from
//! SQL. Because the log is in SQL, an instance that missed a message or was down catches up
//! instead of drifting.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use prometheus::IntCounterVec;
use sqlx::Row;

use crate::db::Tx;
use tokio_util::sync::CancellationToken;

use crate::cache::Redis;
use crate::catalog::Kind;
use crate::config::{Backend, Config};
use crate::db::Db;
use crate::search::IndexSlot;

/// The PostgreSQL channel that announces new changes.
pub const CHANNEL: &str = "chinook_catalog";

/// The Redis channel (under the key prefix) that announces new changes.
pub const REDIS_CHANNEL: &str = "catalog-changes";

/// Tells the other instances, through Redis, that the log has grown to `seq`.
pub async fn announce(redis: Option<&Redis>, seq: i64) {
    if let Some(redis) = redis {
        redis.publish(REDIS_CHANNEL, seq.to_string()).await;
    }
}

/// A transaction that changes the catalog or a taxonomy.
pub struct CatalogWrite {
    pub tx: Tx<'static>,
    backend: Backend,
    touched: BTreeSet<(u64, i64)>,
}

impl CatalogWrite {
    /// Opens the transaction and takes the catalog write lock, so concurrent writes commit
    /// one at a time and the log's sequence numbers become visible in order.
    pub async fn begin(db: &Db) -> Result<Self, sqlx::Error> {
        let mut tx = db.writer().begin().await?;
        sqlx::query("UPDATE catalog_meta SET value = value WHERE key = 'catalog_write_lock'")
            .execute(&mut tx)
            .await?;
        Ok(Self {
            tx,
            backend: db.backend(),
            touched: BTreeSet::new(),
        })
    }

    /// Marks an index entry for refreshing from SQL (or removal, when it is gone).
    pub fn touch(&mut self, kind: Kind, id: i64) {
        self.touched.insert((kind.code(), id));
    }

    pub fn touch_all(&mut self, kind: Kind, ids: impl IntoIterator<Item = i64>) {
        for id in ids {
            self.touch(kind, id);
        }
    }

    /// Logs the touched entries and commits.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if !self.touched.is_empty() {
            let entries: Vec<(u64, i64)> = self.touched.into_iter().collect();
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO catalog_change (changed_at, entries) VALUES ($1, $2) RETURNING seq",
            )
            .bind(crate::db::timestamp_now())
            .bind(serde_json::to_string(&entries).expect("pairs of numbers serialise"))
            .fetch_one(&mut self.tx)
            .await?;
            if self.backend == Backend::Postgres {
                // Delivered when the transaction commits, never before.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(seq.to_string())
                    .execute(&mut self.tx)
                    .await?;
            }
        }
        self.tx.commit().await?;
        Ok(())
    }
}

// The feed reads the primary: a change the index applies must be the committed state.

/// The sequence number of the last logged change, 0 when there is none.
pub async fn last_change(db: &Db) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM catalog_change")
            .fetch_one(db.primary())
            .await?
            .unwrap_or(0),
    )
}

/// Logged changes after `seq`, oldest first: (seq, entries as (kind, id)).
pub(super) async fn changes_after(
    db: &Db,
    seq: i64,
    limit: i64,
) -> anyhow::Result<Vec<(i64, Vec<(Kind, i64)>)>> {
    let rows =
        sqlx::query("SELECT seq, entries FROM catalog_change WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(seq)
            .bind(limit)
            .fetch_all(db.primary())
            .await?;
    rows.into_iter()
        .map(|row| {
            let seq: i64 = row.try_get(0)?;
            let raw: String = row.try_get(1)?;
            let entries: Vec<(u64, i64)> = serde_json::from_str(&raw)
                .with_context(|| format!("change {seq} has unreadable entries"))?;
            let entries = entries
                .into_iter()
                .filter_map(|(code, id)| Kind::from_code(code).map(|kind| (kind, id)))
                .collect();
            Ok((seq, entries))
        })
        .collect()
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
        listener.listen(CHANNEL).await?;
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
