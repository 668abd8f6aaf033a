//! Schema migrations: one folder per backend under `migrations/`, embedded in the binary.

use std::collections::HashSet;

use anyhow::Context;
use serde::Serialize;
use sqlx::migrate::Migrator;

use super::{Backend, Db};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct MigrationStatus {
    /// Migrations this build knows and the database has applied.
    pub applied: usize,
    /// Migrations this build knows.
    pub expected: usize,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.applied == self.expected
    }
}

pub(super) async fn run(db: &Db) -> anyhow::Result<()> {
    // On PostgreSQL the migrator holds an advisory lock, so pods starting together take turns.
    // It takes a raw pool, so migrations are not in `db_queries_total`.
    migrator(db.backend)
        .run(db.writer.raw())
        .await
        .context("running migrations failed")
}

/// Waits until every migration this build knows is applied, by someone else (a migration
/// Job). Until the first migration runs there is no migrations table, which reads as an
/// error; that is waited out the same way.
pub(super) async fn wait(db: &Db) {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(500);
    let mut waited = 0u32;
    loop {
        let pending = match status(db).await {
            Ok(status) if status.is_current() => return,
            Ok(status) => format!("{} of {} applied", status.applied, status.expected),
            Err(e) => format!("{e:#}"),
        };
        // Once at first, then every 10 s: a pod that waits says why, without flooding.
        if waited.is_multiple_of(20) {
            tracing::info!(%pending, "waiting for the migrations to be run (CHINOOK_MIGRATE_ON_START=false)");
        }
        waited += 1;
        tokio::time::sleep(EVERY).await;
    }
}

pub(super) async fn status(db: &Db) -> anyhow::Result<MigrationStatus> {
    let known: Vec<i64> = migrator(db.backend)
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    let applied: HashSet<i64> =
        sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_all(&db.reader)
            .await
            .context("reading applied migrations failed")?
            .into_iter()
            .collect();
    Ok(MigrationStatus {
        applied: known.iter().filter(|v| applied.contains(v)).count(),
        expected: known.len(),
    })
}
