//! The per-account stream cap counts listeners, not bytes: a stream keeps its place for
//! `CHINOOK_STREAM_LINGER_SECS` after its last byte, so a file small enough to sit whole in
//! the socket buffers counts as much as a long one.

use std::time::Duration;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const STAFF: &str = "jane@chinookcorp.com";

#[tokio::test]
async fn two_hundred_concurrent_streams_of_a_small_file_from_one_account_stay_within_the_cap() {
    let cap = 3;
    let app = TestApp::spawn_with(|config| {
        config.max_streams_per_account = cap;
        config.stream_linger = Duration::from_secs(120);
        config.audio_max_secs = 1;
    })
    .await;
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let path = "/api/v1/tracks/9/stream";
    // A HEAD renders the file but takes no place.
    let head = app
        .client
        .head(app.url(path))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let length: usize = head.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        length < 64 * 1024,
        "a file the socket buffers hold whole: {length} bytes"
    );

    let requests = (0..200).map(|_| async {
        let response = app.get_authed(path, &staff).await;
        let status = response.status().as_u16();
        if status == 200 {
            assert_eq!(response.bytes().await.unwrap().len(), length);
        } else {
            assert_problem(response, 429).await;
        }
        status
    });
    let statuses = futures_util::future::join_all(requests).await;
    let played = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(
        played, cap,
        "{played} of 200 streams played under a cap of {cap}"
    );

    // Every body is finished, and the places are still held.
    assert_problem(app.get_authed(path, &staff).await, 429).await;
    // Another account is not affected.
    let admin = app.login("andrew@chinookcorp.com", DEMO_PASSWORD).await;
    assert_eq!(app.get_authed(path, &admin).await.status(), 200);
}
