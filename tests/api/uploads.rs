//! Audio uploads: typed by their bytes, bounded in size, and swapped in without breaking a
//! listener who is halfway through the old file.

use chinook::media::audio;
use futures_util::StreamExt;
use serde_json::Value;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";
const CUSTOMER: &str = "luisg@embraer.com.br";

async fn put_audio(
    app: &TestApp,
    track: i64,
    token: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .client
        .put(app.url(&format!("/api/v1/admin/tracks/{track}/audio")))
        // The declared type is deliberately wrong: the bytes decide.
        .header("content-type", "text/plain")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the request is answered")
}

/// A WAV this service would accept: a canonical header and `samples` bytes of a ramp.
fn wav(samples: usize, offset: u8) -> Vec<u8> {
    let mut content = audio::header(samples as u32).to_vec();
    content.extend((0..samples).map(|i| (i as u8).wrapping_add(offset)));
    content
}

#[tokio::test]
async fn an_uploaded_file_is_typed_by_its_bytes_and_streamed_with_a_new_etag() {
    let app = TestApp::spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let content = wav(20_000, 0);
    let response = put_audio(&app, 5, Some(&admin), content.clone()).await;
    assert_eq!(response.status(), 200);
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["content_type"], "audio/wav");
    assert_eq!(stored["bytes"], content.len());

    let streamed = app
        .client
        .get(app.url("/api/v1/tracks/5/stream"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(streamed.headers()["etag"], stored["etag"].as_str().unwrap());
    assert_eq!(streamed.headers()["content-type"], "audio/wav");
    assert_eq!(streamed.bytes().await.unwrap().as_ref(), content.as_slice());
}

#[tokio::test]
async fn what_is_not_audio_too_big_or_empty_is_refused_and_nothing_changes() {
    let app = TestApp::spawn_with(|config| config.max_audio_bytes = 4096).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let customer = app.login(CUSTOMER, DEMO_PASSWORD).await;

    assert_problem(put_audio(&app, 5, None, wav(100, 0)).await, 401).await;
    assert_problem(put_audio(&app, 5, Some(&customer), wav(100, 0)).await, 403).await;
    assert_problem(
        put_audio(&app, 999_999, Some(&admin), wav(100, 0)).await,
        404,
    )
    .await;
    for garbage in [
        b"<html><body>not audio</body></html>".to_vec(),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        vec![0u8; 64],
    ] {
        let problem = assert_problem(put_audio(&app, 5, Some(&admin), garbage).await, 415).await;
        assert!(problem["detail"].as_str().unwrap().contains("WAV"));
    }
    assert_problem(put_audio(&app, 5, Some(&admin), Vec::new()).await, 422).await;
    let problem = assert_problem(put_audio(&app, 5, Some(&admin), wav(8_000, 0)).await, 413).await;
    assert!(problem["detail"].as_str().unwrap().contains("4096"));

    assert!(chinook::media::audio_of(&app.state.db, 5)
        .await
        .unwrap()
        .is_none());
    let incoming = app.state.media.path_of("audio/incoming").unwrap();
    let leftovers = std::fs::read_dir(incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "refused uploads leave no temporary files");
}

#[tokio::test]
async fn a_listener_mid_stream_keeps_the_old_file_while_new_requests_get_the_new_one() {
    let app = TestApp::spawn_with(|config| config.stream_chunk_bytes = 4096).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    // Larger than the socket buffers, so the first response cannot be finished early.
    let old = wav(30_000_000, 0);
    let new = wav(50_000, 7);
    assert_eq!(
        put_audio(&app, 5, Some(&admin), old.clone()).await.status(),
        200
    );

    let listening = app
        .client
        .get(app.url("/api/v1/tracks/5/stream"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(listening.status(), 200);
    let old_etag = listening.headers()["etag"].to_str().unwrap().to_string();
    let mut body = listening.bytes_stream();
    let mut heard = Vec::with_capacity(old.len());
    heard.extend_from_slice(&body.next().await.unwrap().unwrap());

    let replaced: Value = put_audio(&app, 5, Some(&admin), new.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(replaced["etag"].as_str().unwrap(), old_etag);

    while let Some(chunk) = body.next().await {
        heard.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        heard.len(),
        old.len(),
        "the listener heard the old file to its end"
    );
    assert!(heard == old, "and every byte of it");

    let fresh = app
        .client
        .get(app.url("/api/v1/tracks/5/stream"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.headers()["etag"], replaced["etag"].as_str().unwrap());
    assert_eq!(fresh.bytes().await.unwrap().as_ref(), new.as_slice());
}
