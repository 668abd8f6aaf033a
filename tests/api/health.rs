use crate::helpers::TestApp;

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
    assert_eq!(body["status"], "ok");
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

    let (status, _) = app.get_json("/health/live").await;
    assert_eq!(status, 200, "liveness must not depend on the database");
}
