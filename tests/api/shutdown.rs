//! Graceful shutdown: readiness turns 503 at once, in-flight requests finish, the server
//! then stops cleanly.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

#[tokio::test]
async fn draining_turns_readiness_503_while_in_flight_requests_finish() {
    let app = TestApp::spawn_with(|c| c.shutdown_delay = Duration::from_secs(1)).await;

    // A login whose body is still arriving when the stop comes.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (sent_head, head_sent) = tokio::sync::oneshot::channel::<()>();
    let body = format!(r#"{{"email": "luisg@embraer.com.br", "password": "{DEMO_PASSWORD}"}}"#);
    let (head, tail) = body.split_at(10);
    let (head, tail) = (head.to_string(), tail.to_string());
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(
        futures_util::stream::once(async move {
            // Polled only once the connection is up and the head is on the wire.
            let _ = sent_head.send(());
            let _ = released.await;
            Ok(tail)
        }),
    );
    // A connection of its own, not one the pool reuses and the server may close as idle.
    let in_flight = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let in_flight = tokio::spawn(in_flight);
    head_sent.await.expect("the request started");

    app.shutdown_token().cancel();
    let response = app.get("/health/ready").await.unwrap();
    let problem = assert_problem(response, 503).await;
    assert_eq!(problem["detail"], "shutting down");
    let (status, health) = app.get_json("/health").await;
    assert_eq!(status, 503);
    assert_eq!(health["draining"], true);
    // Liveness stays green: draining is not dying.
    assert_eq!(app.get("/health/live").await.unwrap().status(), 200);

    // The listener closes after the delay; only then may the held request finish, so the
    // test fails if stopping dropped in-flight requests.
    let mut closed = false;
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed, "the listener never closed");
    release.send(()).expect("the request is still in flight");
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let session: Value = response.json().await.unwrap();
    assert!(session["token"].as_str().unwrap().starts_with("chk_"));

    app.stop().await.expect("the server stops cleanly");
}

#[tokio::test]
async fn after_stopping_the_port_is_closed() {
    let app = TestApp::spawn().await;
    let url = app.url("/health/live");
    app.stop().await.unwrap();
    assert!(reqwest::get(url).await.is_err());
}
