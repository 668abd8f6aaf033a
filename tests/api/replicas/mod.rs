//! The pool router against a real primary and a real streaming replica (`pg_basebackup -R`,
//! started by `scripts/services.sh`'s `start_replica`). Each test points an app at its own
//! database on the primary and at the same database on the replica.
//!
//! These tests stop the replica and pause its replay, which would disturb each other, so
//! they take turns behind one lock; no other suite uses the replica. On SQLite, or without
//! `CHINOOK_TEST_REPLICA_URL`, they say so and pass, except under `CI=true` with PostgreSQL.

mod harness;
mod many;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::helpers::DEMO_PASSWORD;
use harness::{
    app_with, eventually, read_hits_replica, replica_pool, wait_for_status, Replica, LEONIE, LUIS,
};

#[tokio::test]
async fn reads_go_to_the_replica_and_writes_to_the_primary() {
    let Some(replica) = Replica::take().await else {
        return;
    };
    let app = app_with(&replica, Duration::from_secs(5)).await;
    let db = &app.state.db;

    assert!(
        read_hits_replica(db).await,
        "a read is answered by the standby"
    );
    let on_standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert!(on_standby, "reader() hands out the replica's pool");
    let on_primary: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(db.writer())
        .await
        .unwrap();
    assert!(!on_primary, "writes go to the primary");

    let token = app.login(LUIS, DEMO_PASSWORD).await;
    let invoices = app.get_authed("/api/v1/me/invoices", &token).await;
    assert_eq!(invoices.status(), 200, "a signed-in read is served");
    let (status, health) = app.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(
        health["database"]["replicas"][0]["status"], "ok",
        "{health}"
    );
    assert!(
        !health["database"]["replicas"][0]["name"]
            .as_str()
            .unwrap()
            .is_empty(),
        "{health}"
    );
    // The lag the health check measured is exported for Prometheus, one series a replica.
    let metrics = app.get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("# TYPE db_replica_lag_seconds gauge"),
        "{metrics}"
    );
    assert_eq!(
        metrics
            .lines()
            .filter(|l| l.starts_with("db_replica_lag_seconds{replica="))
            .count(),
        1
    );
    // The replica's pool is counted beside the writer's.
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("db_pool_connections{") && l.contains(r#"role="replica""#)),
        "{metrics}"
    );
}

#[tokio::test]
async fn killing_the_replica_under_load_loses_no_read_and_it_rejoins_when_restarted() {
    let Some(replica) = Replica::take().await else {
        return;
    };
    let app = Arc::new(app_with(&replica, Duration::from_secs(5)).await);
    let token = Arc::new(app.login(LUIS, DEMO_PASSWORD).await);
    let answered = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = tokio_util::sync::CancellationToken::new();

    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (app, token, answered, failures, stop) = (
                app.clone(),
                token.clone(),
                answered.clone(),
                failures.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let path = if i % 2 == 0 {
                    "/api/v1/me/invoices"
                } else {
                    "/api/v1/me/library"
                };
                while !stop.is_cancelled() {
                    let response = app.get_authed(path, &token).await;
                    let status = response.status();
                    if status != 200 {
                        let body = response.text().await.unwrap_or_default();
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{path}: {status} {body}"));
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let reads_past = |n: usize| {
        let answered = answered.clone();
        move || {
            let answered = answered.clone();
            async move { (answered.load(Ordering::Relaxed) >= n).then_some(()) }
        }
    };
    eventually("reads are under way", reads_past(100)).await;
    replica.kill().await;
    let at_kill = answered.load(Ordering::Relaxed);
    eventually("reads continue past the kill", reads_past(at_kill + 300)).await;
    wait_for_status(&app.state.db, "ejected").await;
    assert!(
        !read_hits_replica(&app.state.db).await,
        "with no healthy replica, reads go to the primary"
    );

    replica.start().await;
    wait_for_status(&app.state.db, "ok").await;
    let at_restart = answered.load(Ordering::Relaxed);
    eventually(
        "reads continue after the restart",
        reads_past(at_restart + 100),
    )
    .await;
    stop.cancel();
    for client in clients {
        client.await.unwrap();
    }

    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {} reads failed: {:?}",
        failures.len(),
        answered.load(Ordering::Relaxed),
        &failures[..failures.len().min(5)]
    );
    assert!(
        read_hits_replica(&app.state.db).await,
        "the restarted replica is back in the rotation"
    );
}

#[tokio::test]
async fn an_account_reads_its_own_write_while_the_replica_replays_nothing() {
    let Some(replica) = Replica::take().await else {
        return;
    };
    // A lag allowance far beyond the test, so the paused replica stays in the rotation and
    // only read-your-writes keeps the writer's reads off it.
    let app = app_with(&replica, Duration::from_secs(3600)).await;
    let luis = app.login(LUIS, DEMO_PASSWORD).await;
    let leonie = app.login(LEONIE, DEMO_PASSWORD).await;
    replica.pause_replay().await;

    let created = app
        .client
        .post(app.url("/api/v1/me/playlists"))
        .bearer_auth(&luis)
        .json(&json!({"name": "Written while replay is paused"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

    for _ in 0..20 {
        let own = app.get_authed("/api/v1/me/playlists", &luis).await;
        assert_eq!(own.status(), 200);
        let body: serde_json::Value = own.json().await.unwrap();
        assert!(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["id"] == id),
            "the writer sees its playlist: {body}"
        );
        let detail = app
            .get_authed(&format!("/api/v1/me/playlists/{id}"), &luis)
            .await;
        assert_eq!(detail.status(), 200, "the writer opens its playlist");
    }
    let on_replica: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM playlist WHERE playlist_id = $1")
            .bind(id)
            .fetch_one(&replica_pool(&replica, &app).await)
            .await
            .unwrap();
    assert_eq!(
        on_replica, 0,
        "the replica really has not replayed the write"
    );
    assert!(
        read_hits_replica(&app.state.db).await,
        "reads of anyone else still go to the paused replica"
    );
    let others = app.get_authed("/api/v1/me/playlists", &leonie).await;
    assert_eq!(
        others.status(),
        200,
        "another account reads from the replica"
    );

    replica.sql("SELECT pg_wal_replay_resume()").await;
    let replica_pool = replica_pool(&replica, &app).await;
    eventually("the replica replays the write", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM playlist WHERE playlist_id = $1")
            .bind(id)
            .fetch_one(&replica_pool)
            .await
            .ok()?;
        (n == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_lagging_replica_leaves_the_rotation_and_rejoins_once_it_catches_up() {
    let Some(replica) = Replica::take().await else {
        return;
    };
    let app = app_with(&replica, Duration::from_secs(1)).await;
    let db = &app.state.db;
    assert!(read_hits_replica(db).await);

    replica.pause_replay().await;
    // A write the paused replica cannot replay puts it behind the primary.
    sqlx::query(
        "INSERT INTO catalog_meta (key, value) VALUES ('lag_test', 'a') \
         ON CONFLICT (key) DO UPDATE SET value = 'b'",
    )
    .execute(db.writer())
    .await
    .unwrap();
    wait_for_status(db, "lagging").await;
    assert!(
        !read_hits_replica(db).await,
        "a lagging replica gets no reads; the primary answers"
    );
    let (status, health) = app.get_json("/health").await;
    assert_eq!(
        status, 200,
        "a lagging replica leaves the service serving: {health}"
    );
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["problems"][0].as_str().unwrap().ends_with("lagging"),
        "the problem is named: {health}"
    );
    // Past the 1 s allowance; whole milliseconds, so 1.0004 s shows as 1000.
    assert!(
        health["database"]["replicas"][0]["lag_ms"]
            .as_u64()
            .unwrap()
            >= 1000,
        "{health}"
    );

    replica.sql("SELECT pg_wal_replay_resume()").await;
    wait_for_status(db, "ok").await;
    assert!(
        read_hits_replica(db).await,
        "the caught-up replica is read again"
    );
}
