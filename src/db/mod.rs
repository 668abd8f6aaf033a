//! Database access: the pool router (a writer side, and a reader side that may be read
//! replicas), connection with retry, and migrations, on SQLite and PostgreSQL through sqlx's
//! `Any` driver.
//!
//! One SQL dialect serves both backends: `$1` placeholders, `BIGINT` integers, integer cents,
//! and RFC 3339 UTC text for timestamps. Aggregates that PostgreSQL widens to `NUMERIC`
//! (`SUM`) are cast back to `BIGINT`, since the `Any` driver cannot decode `NUMERIC`.

mod connect;
mod counted;
mod migrate;
mod replica;
pub mod request;
mod router;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use sqlx::AnyPool;

pub use crate::config::Backend;
pub(crate) use connect::born_here;
pub use counted::{during_request, Conn, Connected, Counted, Pool, Queries, Tx};
pub use migrate::MigrationStatus;
pub use replica::ReplicaStatus;
use router::{ReadFor, Router};

/// The pools every domain module shares. Writes and transactions go to `writer()`; reads go
/// through `read()` (retried on the primary when a replica fails) or `reader()`.
///
/// On SQLite the writer is a single connection, so writers queue in the pool instead of
/// failing with `SQLITE_BUSY`, and readers are read-only connections that WAL mode lets run
/// beside it. On PostgreSQL the writer is the primary, and reads go to the configured
/// replicas (see `router`), or to the primary when there are none or none is healthy.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    writer: Pool,
    reader: Pool,
    router: Arc<Router>,
    /// Statements run on each pool (`db_queries_total{role}`), counted by its executors.
    queries: IntCounterVec,
}

impl Db {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for writes and transactions. Taking it marks the current request as having
    /// written, so its later reads, and its account's reads until the replicas catch up, go
    /// to the primary.
    pub fn writer(&self) -> &Pool {
        request::wrote();
        &self.writer
    }

    /// The primary, for a read that must see every committed write (bearer tokens, which a
    /// logout revokes), without counting as a write.
    pub fn primary(&self) -> &Pool {
        &self.reader
    }

    /// Whether reads may go to replicas at all.
    pub fn has_replicas(&self) -> bool {
        self.router.has_replicas()
    }

    /// Each distinct pool with its role, for metrics: the writer, SQLite's reader, and every
    /// replica (role `replica`; several replicas add up under that one role). On PostgreSQL
    /// the primary's reads share the writer's pool, so it is listed once, as the writer.
    pub fn pools(&self) -> Vec<(&'static str, &AnyPool)> {
        let mut pools = match self.backend {
            Backend::Sqlite => vec![("writer", self.writer.raw()), ("reader", self.reader.raw())],
            Backend::Postgres => vec![("writer", self.writer.raw())],
        };
        pools.extend(self.router.pools().map(|pool| ("replica", pool.raw())));
        pools
    }

    /// `db_queries_total{role}`, for the metrics registry.
    pub fn queries(&self) -> IntCounterVec {
        self.queries.clone()
    }

    /// A pool for one read: a replica in the rotation that has replayed the current
    /// account's latest write, or the primary. Prefer `read`, which also survives the
    /// replica failing mid-read.
    pub fn reader(&self) -> &Pool {
        self.router
            .choose(Self::reading_for())
            .map_or(&self.reader, |replica| &replica.pool)
    }

    /// Runs `read` where `reader()` would, and once more on the primary when the replica it
    /// picked cannot answer. `read` must not write.
    pub async fn read<T, F, Fut>(&self, read: F) -> Result<T, sqlx::Error>
    where
        F: Fn(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.router
            .read(&self.reader, Self::reading_for(), read)
            .await
    }

    /// A connection from where `reader()` would read, or from the primary when that replica
    /// cannot give one; for reads that need one connection (a snapshot, or a function that
    /// takes a connection).
    pub async fn read_connection(&self) -> Result<Conn, sqlx::Error> {
        self.router.acquire(&self.reader, Self::reading_for()).await
    }

    /// Like `read_connection`, for reports (see `analytics`).
    pub async fn analytics_connection(&self) -> Result<Conn, sqlx::Error> {
        self.router.acquire(&self.reader, ReadFor::Analytics).await
    }

    fn reading_for() -> ReadFor {
        match request::acting() {
            request::Acting::Anyone => ReadFor::Anyone,
            request::Acting::Account(id) => ReadFor::Account(id),
            request::Acting::Wrote => ReadFor::Primary,
        }
    }

    /// Records that `account` has just written, so its reads stay on the primary until the
    /// replicas have replayed the write.
    pub async fn note_write(&self, account: i64) {
        if !self.router.has_replicas() {
            return;
        }
        let lsn = match router::current_lsn(&self.writer).await {
            Ok(lsn) => Some(lsn),
            Err(e) => {
                tracing::warn!(error = %e, "the primary's WAL position is unreadable; using the read-your-writes window");
                None
            }
        };
        self.router.note_write(account, lsn);
    }

    /// Checks the replicas once, then every `CHINOOK_REPLICA_CHECK_INTERVAL_MS` in a task
    /// that ends with `shutdown`. Until the first check no read goes to a replica.
    pub async fn watch_replicas(&self, shutdown: tokio_util::sync::CancellationToken) {
        if !self.router.has_replicas() {
            return;
        }
        self.router.check(&self.writer).await;
        let router = self.router.clone();
        let primary = self.writer.clone();
        tokio::spawn(async move { router.watch(primary, shutdown).await });
    }

    /// Each replica's state, for `/health`.
    pub fn replicas(&self) -> Vec<ReplicaStatus> {
        self.router.statuses()
    }

    /// Runs the migrations that have not run yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        migrate::run(self).await
    }

    /// Waits until another process (`chinook migrate`) has applied this build's migrations.
    pub async fn wait_until_migrated(&self) {
        migrate::wait(self).await
    }

    /// How many migrations the database has applied against how many this build has.
    pub async fn migration_status(&self) -> anyhow::Result<MigrationStatus> {
        migrate::status(self).await
    }

    /// Round-trips a trivial query through the reader; returns how long it took.
    pub async fn ping(&self) -> Result<Duration, sqlx::Error> {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(started.elapsed())
    }

    /// Closes both pools. On SQLite the WAL is checkpointed first, so a cleanly stopped
    /// database is one self-contained file, safe to copy or back up.
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite && !self.writer.raw().is_closed() {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.writer)
                .await
            {
                tracing::warn!(error = %e, "checkpointing the SQLite WAL failed");
            }
        }
        // Closing waits for borrowed connections to come back. By now the HTTP workers have
        // stopped, and a connection whose return was scheduled on a worker's runtime as it
        // shut down never comes back; so the wait is short, and the OS closes what is left.
        for pool in [&self.reader, &self.writer] {
            if tokio::time::timeout(Duration::from_secs(1), pool.raw().close())
                .await
                .is_err()
            {
                tracing::warn!("gave up waiting for database connections to be returned");
            }
        }
        self.router.close().await;
    }
}

/// Every table of the model, parents before children.
pub const TABLES: &[&str] = &[
    "genre",
    "media_type",
    "artist",
    "album",
    "track",
    "playlist",
    "playlist_track",
    "employee",
    "customer",
    "invoice",
    "invoice_line",
    "account",
    "access_token",
    "taxonomy_term",
    "term_attachment",
];

/// Row counts of every table, in one round trip.
pub async fn table_counts(pool: &Pool) -> Result<Vec<(&'static str, i64)>, sqlx::Error> {
    use sqlx::Row;
    let sql = format!(
        "SELECT {}",
        TABLES
            .iter()
            .map(|t| format!("(SELECT COUNT(*) FROM {t})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let row = sqlx::query(&sql).fetch_one(pool).await?;
    TABLES
        .iter()
        .enumerate()
        .map(|(i, table)| Ok((*table, row.try_get::<i64, _>(i)?)))
        .collect()
}

/// A secret every instance shares through the database (in `catalog_meta`), created on
/// first use: 32 random bytes as hex.
pub async fn shared_secret(db: &Db, name: &str) -> anyhow::Result<Vec<u8>> {
    let read = || {
        sqlx::query_scalar::<_, String>("SELECT value FROM catalog_meta WHERE key = $1")
            .bind(name)
            .fetch_optional(db.writer())
    };
    if read().await?.is_none() {
        let mut secret = [0u8; 32];
        rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut secret)
            .map_err(|e| anyhow::anyhow!("the operating system's random source failed: {e}"))?;
        let hex = crate::hex::encode(&secret);
        sqlx::query(
            "INSERT INTO catalog_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(name)
        .bind(hex)
        .execute(db.writer())
        .await?;
    }
    let hex = read()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the shared secret {name} vanished"))?;
    Ok(hex.into_bytes())
}

/// The current time as stored: RFC 3339 in UTC with whole seconds, which sorts as it reads.
pub fn timestamp_now() -> String {
    timestamp(chrono::Utc::now())
}

pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
