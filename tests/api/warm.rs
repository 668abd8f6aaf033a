//! The warm path: once a customer's first range request has run, later ones run no SQL
//! (`db_queries_total{during="request"}` stays put), and what would make the remembered
//! answers wrong (a purchase, a logout, an upload) is seen at once by this instance and,
//! over Redis, by a peer.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{request_statements, TestApp, DEMO_PASSWORD};
use crate::purchases::{buy, new_customer};
use crate::redis::{on_redis, until};
use crate::streaming::{flac_song, owner_of};

const ADMIN: &str = "andrew@chinookcorp.com";
const TRACK: i64 = 1;
const STREAM: &str = "/api/v1/tracks/1/stream";

async fn range(app: &TestApp, token: &str, from: u64) -> reqwest::Response {
    app.client
        .get(app.url(STREAM))
        .bearer_auth(token)
        .header("range", format!("bytes={from}-{}", from + 999))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_authenticated_range_request_after_a_first_one_runs_no_sql() {
    let app = TestApp::spawn_with(|c| c.max_streams_per_account = 100).await;
    let owner = app.login(&owner_of(&app, TRACK).await, DEMO_PASSWORD).await;
    let cold = request_statements(&app);
    let first = range(&app, &owner, 0).await;
    assert_eq!(first.status(), 206);
    let first_body = first.bytes().await.unwrap();
    let warm = request_statements(&app);
    assert!(
        warm > cold,
        "the first request reads the token, the ownership and the master: {cold} -> {warm}"
    );
    for from in [0, 5_000, 20_000, 1_000, 60_000, 0] {
        let response = range(&app, &owner, from).await;
        assert_eq!(response.status(), 206);
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len(), 1000);
        if from == 0 {
            assert_eq!(body, first_body, "the same bytes from memory");
        }
    }
    assert_eq!(
        request_statements(&app),
        warm,
        "six warm range requests ran no statement"
    );
}

async fn status(app: &TestApp, token: &str) -> u16 {
    range(app, token, 0).await.status().as_u16()
}

#[tokio::test]
async fn a_purchase_is_streamable_at_once_here_and_on_a_peer() {
    let first = on_redis(|c| c.max_streams_per_account = 100).await;
    let second = first.spawn_peer().await;
    let customer = new_customer(&first, "warm-buyer@example.com").await;
    assert_eq!(status(&first, &customer).await, 403);
    assert_eq!(status(&second, &customer).await, 403);
    let bought = buy(&first, &customer, "warm-1", &json!({"track_ids": [TRACK]})).await;
    assert_eq!(bought.status(), 201);
    assert_eq!(status(&first, &customer).await, 206, "here, at once");
    assert_eq!(
        status(&second, &customer).await,
        206,
        "on the peer, at once"
    );
}

#[tokio::test]
async fn a_logout_stops_the_token_at_once_here_and_on_a_peer() {
    let first = on_redis(|c| c.max_streams_per_account = 100).await;
    let second = first.spawn_peer().await;
    let token = first.login(ADMIN, DEMO_PASSWORD).await;
    // Both instances remember the token.
    assert_eq!(status(&first, &token).await, 206);
    assert_eq!(status(&second, &token).await, 206);
    let out = first
        .client
        .post(first.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(status(&first, &token).await, 401, "here, at once");
    until(
        "the logout on the peer",
        Duration::from_secs(5),
        async || status(&second, &token).await == 401,
    )
    .await;
}

async fn etag(app: &TestApp, token: &str) -> String {
    let response = range(app, token, 0).await;
    assert_eq!(response.status(), 206);
    response.headers()["etag"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn an_upload_is_streamed_at_once_here_and_on_a_peer() {
    let first = on_redis(|c| c.max_streams_per_account = 100).await;
    let media = first.state.config.media_dir.clone();
    let second = first.spawn_peer_with(|c| c.media_dir = media).await;
    let admin = first.login(ADMIN, DEMO_PASSWORD).await;
    let before = etag(&first, &admin).await;
    assert_eq!(
        etag(&second, &admin).await,
        before,
        "both remember the master"
    );
    let uploaded = first
        .client
        .put(first.url(&format!("/api/v1/admin/tracks/{TRACK}/audio")))
        .bearer_auth(&admin)
        .body(flac_song(TRACK + 2000, 3_000))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    let after = etag(&first, &admin).await;
    assert_ne!(after, before, "here, at once");
    until(
        "the upload on the peer",
        Duration::from_secs(5),
        async || etag(&second, &admin).await == after,
    )
    .await;
}
