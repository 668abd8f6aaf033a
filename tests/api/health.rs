use std::time::Duration;

use crate::helpers::{TestApp, TestDatabase};

#[tokio::test]
async fn liveness_answers_ok() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/health/live").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readiness_is_ok_once_the_database_is_migrated() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/health/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn health_reports_every_check_with_figures() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_seconds"].is_u64());
    let database = &body["database"];
    assert_eq!(database["status"], "ok");
    assert!(database["response_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        database["migrations"]["applied"],
        database["migrations"]["expected"]
    );
    assert_eq!(database["rows"]["track"], 3503);
    assert_eq!(database["rows"]["customer"], 59);
    assert_eq!(body["problems"], serde_json::json!([]));

    let index = &body["index"];
    assert_eq!(index["warm"], true);
    assert!(
        index["documents"].as_u64().unwrap() > 3503,
        "tracks, albums, artists and more are indexed: {index}"
    );
    assert!(index["schema_version"].as_u64().unwrap() >= 1);

    let space = &body["media"]["space"];
    let (free, total) = (
        space["free_bytes"].as_u64().unwrap(),
        space["total_bytes"].as_u64().unwrap(),
    );
    assert!(free > 0 && free <= total, "{space}");
    let resident = body["process"]["resident_memory_bytes"].as_u64().unwrap();
    assert!(resident > 1 << 20, "{resident} bytes resident");
    assert!(
        !body
            .to_string()
            .contains(&app.state.config.data_dir.display().to_string()),
        "no file paths are shown: {body}"
    );
    // The PostgreSQL suite runs on Redis, the SQLite suite without.
    if app.state.redis.is_some() {
        assert_eq!(body["redis"]["status"], "ok");
        assert!(body["redis"]["response_ms"].as_f64().unwrap() >= 0.0);
    } else {
        assert_eq!(body["redis"]["status"], "not_configured");
        assert!(body["redis"]["response_ms"].is_null());
    }
}

#[tokio::test]
async fn the_dataset_is_imported_on_first_start_only() {
    let dataset = crate::helpers::dataset_path();
    let app = TestApp::spawn_on(crate::helpers::TestDatabase::empty().await, |c| {
        c.dataset = Some(dataset)
    })
    .await;
    let (_, body) = app.get_json("/health").await;
    assert_eq!(body["database"]["rows"]["track"], 3503);
    assert_eq!(body["database"]["rows"]["invoice_line"], 2240);

    // A later start leaves the catalog alone, even when the file is gone.
    let database = app.stop_keeping_database().await;
    let gone = database.dir.path().join("gone.json");
    let again = TestApp::spawn_on(database, |c| c.dataset = Some(gone)).await;
    let (_, body) = again.get_json("/health").await;
    assert_eq!(body["database"]["rows"]["track"], 3503);
}

#[tokio::test]
async fn with_migrate_on_start_off_a_server_waits_for_the_migration_job_and_never_migrates() {
    let database = TestDatabase::empty().await;
    let job = TestDatabase::sharing(database.url.clone());
    let dataset = crate::helpers::dataset_path();
    let mut starting = tokio::spawn(TestApp::spawn_on(database, move |c| {
        c.migrate_on_start = false;
        c.dataset = Some(dataset);
    }));

    // Nobody has migrated: the server keeps waiting and leaves the schema alone.
    let waited = tokio::time::timeout(Duration::from_secs(2), &mut starting).await;
    assert!(
        waited.is_err(),
        "the server started on an unmigrated database"
    );
    let db = job.connect().await;
    assert!(
        db.migration_status().await.is_err(),
        "the waiting server created the migrations table"
    );

    // The migration Job's command runs them; the server then starts and seeds.
    let migrated = crate::helpers::chinook(&job)
        .arg("migrate")
        .output()
        .expect("chinook migrate runs");
    assert!(migrated.status.success(), "{migrated:?}");
    let app = starting.await.expect("the server starts once migrated");
    let (status, body) = app.get_json("/health/ready").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = app.get_json("/health").await;
    let migrations = &body["database"]["migrations"];
    assert_eq!(migrations["applied"], migrations["expected"], "{body}");
    assert_eq!(body["database"]["rows"]["track"], 3503);
    db.close().await;
}

#[tokio::test]
async fn readiness_and_health_turn_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.close().await;

    let response = app.get("/health/ready").await.unwrap();
    let problem = crate::helpers::assert_problem(response, 503).await;
    assert!(problem["detail"].as_str().unwrap().contains("database"));

    let (status, body) = app.get_json("/health").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database"]["status"], "failing");
    assert_eq!(body["problems"][0], "database: unreachable", "{body}");

    let (status, _) = app.get_json("/health/live").await;
    assert_eq!(status, 200, "liveness must not depend on the database");
}

#[tokio::test]
async fn readiness_is_503_until_the_index_is_warm() {
    let database = crate::helpers::TestDatabase::chinook_unindexed().await;
    let app = chinook::startup::Application::build(database.config())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());

    // The server answers within milliseconds; building and warming the index takes longer,
    // so the first answers are 503 and say why.
    let client = reqwest::Client::new();
    let mut answers: Vec<(u16, String)> = Vec::new();
    for _ in 0..1000 {
        if let Ok(response) = client.get(format!("{base}/health/ready")).send().await {
            let status = response.status().as_u16();
            answers.push((status, response.text().await.unwrap_or_default()));
            if status == 200 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let (first_status, first_body) = &answers[0];
    assert_eq!(*first_status, 503, "{answers:?}");
    assert!(first_body.contains("warming up"), "{first_body}");
    assert_eq!(answers.last().unwrap().0, 200, "it became ready");
    shutdown.cancel();
    server.await.unwrap().unwrap();
}
