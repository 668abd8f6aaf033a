//! Connecting: waiting for the database to be reachable, then opening the writer's and the
//! readers' pools for the backend at hand.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use prometheus::{IntCounterVec, Opts};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

use super::router::Router;
use super::{Backend, Db, Pool, Queries};
use crate::config::Config;

/// A PostgreSQL pool whose connections are all opened on the runtime that creates the pool
/// (by `Db::connect` for the primary, by the pool's own task for a replica), and kept open.
///
/// A socket belongs to the runtime that opened it, and each actix worker runs a runtime of
/// its own that a graceful stop ends as soon as that worker is idle. A connection a request
/// opened on one worker, then lent by the pool to a request on another, failed that request
/// ("A Tokio 1.x context was found, but it is being shutdown") once the first worker had
/// stopped: a purchase got a 500 during a rolling update. Opened up front (the minimum is the
/// maximum) and never retired for age, no connection is opened on a worker, except one that
/// replaces a connection an error closed, which the pool's task or the next request opens.
pub(crate) fn born_here(options: AnyPoolOptions, connections: u32) -> AnyPoolOptions {
    options
        .max_connections(connections)
        .min_connections(connections)
        .max_lifetime(None)
}

impl Db {
    /// Connects to the configured database, retrying with backoff for
    /// `config.db_connect_timeout` before giving up with the last error.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let url = &config.database_url;
        let backend = url.backend();
        if backend == Backend::Sqlite {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("cannot create data directory {}", config.data_dir.display())
            })?;
        }
        wait_until_reachable(url.expose(), config.db_connect_timeout)
            .await
            .with_context(|| format!("database {url} is unreachable"))?;

        let options = AnyConnectOptions::from_str(url.expose())
            .context("invalid database URL")?
            .log_statements(tracing::log::LevelFilter::Debug)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
        let queries = IntCounterVec::new(
            Opts::new(
                "db_queries_total",
                "Statements run on each database pool, during a request or in the background",
            ),
            &["role", "during"],
        )?;
        let counter = |role: &str| Queries::of(&queries, role);
        let router = Arc::new(Router::new(config, &queries)?);
        let db = match backend {
            Backend::Sqlite => {
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                // The writer has created the file and switched it to WAL; readers may now open it.
                let reader_options =
                    AnyConnectOptions::from_str(&read_only_sqlite_url(url.expose())?)?
                        .log_statements(tracing::log::LevelFilter::Debug);
                let reader = AnyPoolOptions::new()
                    .max_connections(config.db_max_connections)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 5000;").await?;
                            Ok(())
                        })
                    })
                    .connect_lazy_with(reader_options);
                Db {
                    backend,
                    writer: Pool::new(writer, counter("writer")),
                    reader: Pool::new(reader, counter("reader")),
                    queries,
                    router,
                }
            }
            Backend::Postgres => {
                // The primary's reads share the writer's pool, and its role.
                let pool = born_here(AnyPoolOptions::new(), config.db_max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                // Opened now rather than by the pool's task a moment later, so that no
                // request on a worker finds the pool short and opens one itself.
                let mut opened = Vec::new();
                for _ in 0..config.db_max_connections {
                    opened.push(pool.acquire().await?);
                }
                drop(opened);
                let pool = Pool::new(pool, counter("writer"));
                Db {
                    backend,
                    writer: pool.clone(),
                    reader: pool,
                    queries,
                    router,
                }
            }
        };
        Ok(db)
    }
}

async fn wait_until_reachable(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(100);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let attempt = tokio::time::timeout(
            remaining.max(Duration::from_millis(100)),
            sqlx::AnyConnection::connect(url),
        )
        .await;
        let error = match attempt {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                return Ok(());
            }
            // Only a server that is not there (yet) is worth waiting for; a wrong password,
            // a missing database or a file that cannot be opened will not heal by retrying.
            Ok(Err(e @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut))) => anyhow::Error::new(e),
            Ok(Err(e)) => return Err(anyhow::Error::new(e)),
            Err(_) => anyhow::anyhow!("connection attempt timed out"),
        };
        if Instant::now() + delay >= deadline {
            return Err(error.context(format!(
                "gave up after {attempts} attempts in {:.1}s",
                timeout.as_secs_f64()
            )));
        }
        tracing::warn!(attempt = attempts, error = %error, "database not reachable yet; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// The same SQLite database, opened read-only.
fn read_only_sqlite_url(url: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url).context("invalid SQLite URL")?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "mode")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("mode", "ro");
    Ok(parsed.to_string())
}
