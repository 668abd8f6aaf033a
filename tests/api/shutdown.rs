//! Graceful shutdown: readiness turns 503 at once, in-flight requests finish, the server
//! then stops cleanly.

use std::time::Duration;

use chinook::config::Backend;

use crate::helpers::{assert_problem, backend, TestApp, TestDatabase};

#[tokio::test]
async fn draining_turns_readiness_503_while_in_flight_requests_finish() {
    let app = TestApp::spawn_with(|c| c.shutdown_delay = Duration::from_secs(1)).await;

    // A download that has started but not finished when the stop comes. Its own client, so
    // no pooled connection is shared with the probes below.
    let expected = app
        .get("/docs/rapidoc-min.js")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut download = reqwest::Client::new()
        .get(app.url("/docs/rapidoc-min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let mut received = download
        .chunk()
        .await
        .unwrap()
        .expect("a first chunk")
        .to_vec();

    app.shutdown_token().cancel();
    let response = app.get("/health/ready").await.unwrap();
    let problem = assert_problem(response, 503).await;
    assert_eq!(problem["detail"], "shutting down");
    let (status, health) = app.get_json("/health").await;
    assert_eq!(status, 503);
    assert_eq!(health["draining"], true);
    // Liveness stays green: draining is not dying.
    assert_eq!(app.get("/health/live").await.unwrap().status(), 200);

    // The listener closes after the delay; the download must still complete intact.
    let mut closed = false;
    for _ in 0..400 {
        let address = app.address.trim_start_matches("http://");
        if tokio::net::TcpStream::connect(address).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed, "the listener never closed");
    while let Some(chunk) = download.chunk().await.expect("the download is not cut off") {
        received.extend_from_slice(&chunk);
    }
    assert_eq!(received.len(), expected.len());
    assert!(received == expected.as_ref(), "the bytes arrived intact");

    app.stop().await.expect("the server stops cleanly");
}

#[tokio::test]
async fn while_draining_each_answer_closes_its_keep_alive_connection() {
    let app = TestApp::spawn_with(|c| c.shutdown_delay = Duration::from_secs(2)).await;
    let before = app.get("/health/live").await.unwrap();
    assert_eq!(before.headers().get("connection"), None);

    app.shutdown_token().cancel();
    // Still served during the delay, but a proxy's pooled connection is let go, so the
    // instance does not wait out the shutdown timeout for connections that never idle.
    let during = app.get("/api/v1/tracks/1").await.unwrap();
    assert_eq!(during.status(), 200);
    assert_eq!(during.headers().get("connection").unwrap(), "close");
    app.stop().await.expect("the server stops cleanly");
}

#[tokio::test]
async fn after_stopping_the_port_is_closed() {
    let app = TestApp::spawn().await;
    let url = app.url("/health/live");
    app.stop().await.unwrap();
    assert!(reqwest::get(url).await.is_err());
}

/// Each actix worker runs a runtime of its own, and a graceful stop ends an idle worker's
/// runtime while the others still serve. A PostgreSQL connection is a socket of the runtime
/// that opened it: one that a request on a worker had opened, lent to a request on another
/// worker, failed mid-request when the first worker stopped (a purchase got a 500 during a
/// rolling update). The pools open every connection up front, on the runtime that makes them.
#[tokio::test]
async fn database_connections_outlive_the_worker_runtimes_that_used_them() {
    let database = TestDatabase::chinook().await;
    let db = database.connect().await;
    let connections = database.config().db_max_connections as usize;
    // What keeps them all on this runtime: on PostgreSQL the pool is full before any request
    // could open one (SQLite's connections use no runtime, and its readers open lazily).
    if backend() == Backend::Postgres {
        let open: u32 = db.pools().iter().map(|(_, pool)| pool.size()).sum();
        assert_eq!(
            open as usize, connections,
            "every connection is open at start"
        );
    }

    // A worker takes every connection at once, as a burst of requests would, gives them
    // back, and goes on serving until it is told to stop.
    let (used, all_used) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker_db = db.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut held = Vec::new();
            for _ in 0..connections {
                held.push(worker_db.reader().acquire().await.unwrap());
            }
            for conn in &mut held {
                sqlx::query("SELECT 1").execute(conn).await.unwrap();
            }
            drop(held);
            used.send(()).unwrap();
            let _ = stopped.await;
        });
    });

    // Another worker's requests hold every connection when the first worker stops.
    all_used.await.unwrap();
    let mut held = Vec::new();
    for _ in 0..connections {
        held.push(db.reader().acquire().await.unwrap());
    }
    stop.send(()).unwrap();
    worker.await.unwrap();
    for conn in &mut held {
        sqlx::query("SELECT 1").execute(conn).await.unwrap();
    }
}
