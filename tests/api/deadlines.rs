//! Catalog reads are bounded: they run off the async workers under a deadline, and a
//! request cannot multiply its own work.

use std::time::{Duration, Instant};

use crate::helpers::{assert_problem, TestApp};

#[tokio::test]
async fn a_read_that_cannot_run_in_time_is_a_503_with_retry_after_while_live_answers() {
    let app = TestApp::spawn_with(|c| c.read_deadline = Duration::from_millis(300)).await;
    let reads = app.state.index.reads();
    let held = reads
        .acquire_many(reads.available_permits() as u32)
        .await
        .unwrap();
    let started = Instant::now();
    let response = app.get("/api/v1/tracks?sort=name").await.unwrap();
    let waited = started.elapsed();
    assert_eq!(response.headers()["retry-after"], "1");
    let problem = assert_problem(response, 503).await;
    assert_eq!(problem["type"], "/problems/busy");
    assert!(
        waited < Duration::from_secs(3),
        "given up at the deadline, not later: {waited:?}"
    );
    let live = app.get("/health/live").await.unwrap();
    assert_eq!(live.status(), 200, "the workers are free while reads queue");
    drop(held);
    let (status, page) = app.get_json("/api/v1/tracks?sort=name&limit=3").await;
    assert_eq!(status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_repeated_include_is_embedded_once_and_costs_what_one_does() {
    let app = TestApp::spawn().await;
    let once = app
        .get_json("/api/v1/playlists?limit=100&include=tracks")
        .await;
    let repeated = format!(
        "/api/v1/playlists?limit=100&include={}",
        vec!["tracks"; 300].join(",")
    );
    let started = Instant::now();
    let many = app.get_json(&repeated).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(many, once);
    for playlist in once.1["data"].as_array().unwrap() {
        let embedded = playlist["tracks"].as_array().unwrap().len() as i64;
        assert_eq!(embedded, playlist["track_count"].as_i64().unwrap().min(100));
    }
}

#[tokio::test]
async fn details_take_the_includes_of_their_lists() {
    let app = TestApp::spawn().await;
    let (status, album) = app
        .get_json("/api/v1/albums/156?include=tracks,artist")
        .await;
    assert_eq!(status, 200, "{album}");
    let listed = app
        .get_json("/api/v1/albums?include=tracks,artist&limit=100&cursor=")
        .await;
    assert_eq!(listed.0, 400, "an empty cursor is refused");
    let (_, tracks) = app.get_json("/api/v1/tracks?album_id=156&limit=100").await;
    assert_eq!(album["tracks"], tracks["data"]);
    assert_eq!(
        album["artist"],
        app.get_json(&format!("/api/v1/artists/{}", album["artist_id"]))
            .await
            .1
    );
    let (_, track) = app
        .get_json("/api/v1/tracks/1?include=album,artist,genre,media_type")
        .await;
    assert_eq!(track["album"]["id"], 1);
    assert_eq!(track["genre"]["name"], "Rock");
    assert_eq!(track["media_type"]["id"], track["media_type_id"]);
    let (_, artist) = app.get_json("/api/v1/artists/1?include=albums").await;
    assert_eq!(artist["albums"].as_array().unwrap().len(), 2);
    let (_, playlist) = app.get_json("/api/v1/playlists/3?include=tracks").await;
    assert!(playlist["tracks"].is_array());
    let problem = assert_problem(
        app.get("/api/v1/genres/1?include=tracks").await.unwrap(),
        400,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("include"),
        "{problem}"
    );
}
