//! Health probes: `/health/live` (the process answers), `/health/ready` (it can serve), and
//! `/health` (every check with its figures).

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::{self, MigrationStatus};
use crate::error::{ApiError, ApiResult};
use crate::media::VolumeSpace;
use crate::search::OpenReport;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready).service(health);
}

#[derive(Serialize, ToSchema)]
struct Status {
    #[schema(example = "ok")]
    status: &'static str,
}

/// The process is up. Needs nothing else, so an orchestrator restarts only a hung process.
#[utoipa::path(tag = "operations", responses((status = 200, body = Status)))]
#[get("/health/live")]
async fn live() -> web::Json<Status> {
    web::Json(Status { status: "ok" })
}

/// Ready for traffic: the search index is open and warm, the database answers, migrations
/// are current and the process is not shutting down.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = Status),
        (status = 503, description = "Not ready; `detail` says why",
         body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<Status>> {
    if state.lifecycle.is_draining() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    state.catalog()?;
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        return Err(ApiError::Unavailable("the database is unreachable".into()));
    }
    let migrations = state.db.migration_status().await.map_err(|e| {
        tracing::warn!(error = format!("{e:#}"), "readiness: migrations unreadable");
        ApiError::Unavailable("the database's migrations cannot be read".into())
    })?;
    if !migrations.is_current() {
        return Err(ApiError::Unavailable(format!(
            "{} of {} migrations applied",
            migrations.applied, migrations.expected
        )));
    }
    Ok(web::Json(Status { status: "ok" }))
}

#[derive(Serialize, ToSchema)]
struct DatabaseCheck {
    status: &'static str,
    #[schema(example = "sqlite")]
    backend: &'static str,
    /// Round trip of `SELECT 1`.
    response_ms: Option<f64>,
    error: Option<String>,
    migrations: Option<MigrationStatus>,
    /// Rows per table.
    rows: BTreeMap<String, i64>,
    /// The read replicas (PostgreSQL with `CHINOOK_REPLICA_URLS`). One that is down or
    /// lagging does not make the service unhealthy: its reads go elsewhere.
    replicas: Vec<db::ReplicaStatus>,
}

#[derive(Serialize, ToSchema)]
struct IndexCheck {
    /// `ok` once open and warm, `warming` before.
    status: &'static str,
    warm: bool,
    /// Documents the live reader sees now (the report has the count at opening).
    documents: Option<u64>,
    /// Segments the live reader sees: many right after a build, one once the background
    /// merge is done (live writes add small ones that tantivy merges in turn).
    segments: Option<usize>,
    /// The index schema version this binary reads and writes.
    schema_version: u32,
    report: Option<OpenReport>,
    /// The last catalog change this instance's index holds.
    applied_change: Option<i64>,
    /// The last catalog change logged by any instance; when it stays ahead of
    /// `applied_change`, this instance is not following the change feed.
    latest_change: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct MediaCheck {
    /// `ok`, or `unknown` when the volume's space cannot be read.
    status: &'static str,
    /// Free and total bytes of the volume the audio and covers are on.
    space: Option<VolumeSpace>,
}

#[derive(Serialize, ToSchema)]
struct RedisCheck {
    /// `ok`, `degraded` (failing: its circuit breaker is open and every feature runs
    /// in-process) or `not_configured`.
    #[schema(example = "ok")]
    status: &'static str,
    /// Round trip of `PING`, when it answered.
    response_ms: Option<f64>,
}

impl RedisCheck {
    async fn of(state: &AppState) -> Self {
        let Some(redis) = &state.redis else {
            return Self {
                status: "not_configured",
                response_ms: None,
            };
        };
        match redis.ping().await {
            Some(took) => Self {
                status: "ok",
                response_ms: Some(took.as_secs_f64() * 1000.0),
            },
            None => Self {
                status: "degraded",
                response_ms: None,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ProcessCheck {
    resident_memory_bytes: Option<u64>,
}

#[derive(Serialize, ToSchema)]
struct HealthReport {
    /// `ok` when every check passes; `degraded` (still 200) when the service answers fully
    /// but something that only speeds it up or spreads its load is in trouble (a replica,
    /// Redis);
    /// `unhealthy` (503) when the primary is unreachable, migrations are behind, the index is
    /// not ready, or the process is draining.
    #[schema(example = "ok")]
    status: &'static str,
    /// What makes the service degraded or unhealthy, in words; empty when `ok`.
    problems: Vec<String>,
    version: &'static str,
    uptime_seconds: u64,
    draining: bool,
    database: DatabaseCheck,
    index: IndexCheck,
    media: MediaCheck,
    redis: RedisCheck,
    process: ProcessCheck,
}

/// Every check with its figures: 200 when healthy, 503 when not.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = HealthReport),
        (status = 503, description = "A check failed; the body says which", body = HealthReport),
    )
)]
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    let db = &state.db;
    let mut database = DatabaseCheck {
        status: "ok",
        backend: match db.backend() {
            db::Backend::Sqlite => "sqlite",
            db::Backend::Postgres => "postgres",
        },
        response_ms: None,
        error: None,
        migrations: None,
        rows: BTreeMap::new(),
        replicas: db.replicas(),
    };
    match db.ping().await {
        Ok(took) => database.response_ms = Some(took.as_secs_f64() * 1000.0),
        Err(e) => {
            tracing::warn!(error = %e, "health: database unreachable");
            database.status = "failing";
            database.error = Some("unreachable".into());
        }
    }
    if database.error.is_none() {
        match db.migration_status().await {
            Ok(m) => {
                if !m.is_current() {
                    database.status = "failing";
                    database.error = Some("migrations are behind".into());
                }
                database.migrations = Some(m);
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "health: migrations unreadable");
                database.status = "failing";
                database.error = Some("migrations cannot be read".into());
            }
        }
    }
    if database.error.is_none() {
        match db
            .read(|pool| async move { db::table_counts(&pool).await })
            .await
        {
            Ok(counts) => {
                database.rows = counts
                    .into_iter()
                    .map(|(t, n)| (t.to_string(), n))
                    .collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, "health: counting rows failed");
                database.status = "failing";
                database.error = Some("counting rows failed".into());
            }
        }
    }
    let live_index = state.index.get();
    let index = IndexCheck {
        status: if live_index.is_some() {
            "ok"
        } else {
            "warming"
        },
        warm: live_index.is_some(),
        documents: live_index.map(|index| index.documents()),
        segments: live_index.map(|index| index.segments()),
        schema_version: crate::search::SCHEMA_VERSION,
        report: state.index.report().cloned(),
        applied_change: state.index.get().map(|index| index.applied_change()),
        latest_change: if database.error.is_none() {
            crate::catalog::changes::last_change(db).await.ok()
        } else {
            None
        },
    };
    let media = match state.media.volume_space().await {
        Ok(space) => MediaCheck {
            status: "ok",
            space: Some(space),
        },
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "health: media volume space unreadable"
            );
            MediaCheck {
                status: "unknown",
                space: None,
            }
        }
    };
    let draining = state.lifecycle.is_draining();

    let mut failing = Vec::new();
    if let Some(error) = &database.error {
        failing.push(format!("database: {error}"));
    }
    if index.status != "ok" {
        failing.push("index: warming up".to_string());
    }
    if draining {
        failing.push("draining: shutting down".to_string());
    }
    let mut degraded = Vec::new();
    for replica in database.replicas.iter().filter(|r| r.status != "ok") {
        degraded.push(format!("replica {}: {}", replica.name, replica.status));
    }
    if media.status != "ok" {
        degraded.push("media volume: space unreadable".to_string());
    }
    let redis = RedisCheck::of(&state).await;
    if redis.status == "degraded" {
        degraded.push(
            "redis: failing; rate limits, the cache and the stream cap run in-process".to_string(),
        );
    }
    let healthy = failing.is_empty();
    let status = match (healthy, degraded.is_empty()) {
        (false, _) => "unhealthy",
        (true, false) => "degraded",
        (true, true) => "ok",
    };
    failing.extend(degraded);
    let report = HealthReport {
        status,
        problems: failing,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.lifecycle.uptime().as_secs(),
        draining,
        database,
        index,
        media,
        redis,
        process: ProcessCheck {
            resident_memory_bytes: crate::metrics::resident_memory_bytes(),
        },
    };
    if healthy {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}
