//! Every track has audio on default settings: generated songs rendered on first request,
//! once however many ask at once, kept in a cache within its cap, and judged by ffprobe and
//! ffmpeg: every rendition decodes at its length, and every range is byte-exact.

use rand::{RngExt, SeedableRng};
use reqwest::header;
use serde_json::Value;

use crate::helpers::{TestApp, DEMO_PASSWORD};
use crate::judge;

const STAFF: &str = "jane@chinookcorp.com";
/// Customer 1 of the imported dataset, Luís Gonçalves: 38 tracks on imported invoices.
const LUIS: &str = "luisg@embraer.com.br";

async fn milliseconds(app: &TestApp, track: i64) -> u64 {
    let (status, entry) = app.get_json(&format!("/api/v1/tracks/{track}")).await;
    assert_eq!(status, 200);
    entry["milliseconds"].as_u64().unwrap()
}

async fn body(app: &TestApp, path: &str, token: Option<&str>, range: Option<&str>) -> Vec<u8> {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(range) = range {
        request = request.header(header::RANGE, range);
    }
    let response = request.send().await.unwrap();
    let expected = if range.is_some() { 206 } else { 200 };
    assert_eq!(response.status(), expected, "GET {path} {range:?}");
    let length: usize = response.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = response.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len(), length, "GET {path} {range:?}: Content-Length");
    bytes
}

#[tokio::test]
async fn a_sample_of_tracks_decodes_at_its_length_in_every_rendition_with_exact_ranges() {
    let cap = 10;
    let app = TestApp::spawn_with(|config| {
        config.audio_max_secs = cap;
        config.max_streams_per_account = 100;
    })
    .await;
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let sample: Vec<i64> = (0..4).map(|_| rng.random_range(1..=3503)).collect();
    for track in sample {
        let seconds = (milliseconds(&app, track).await.min(cap * 1000) as f64 / 1000.0).max(1.0);
        for (kind, codec, expected) in [
            ("stream", "mp3", seconds),
            ("preview", "mp3", seconds.min(30.0)),
            ("download?format=flac", "flac", seconds),
            ("download?format=mp3", "mp3", seconds),
        ] {
            let path = format!("/api/v1/tracks/{track}/{kind}");
            let whole = body(&app, &path, Some(&staff), None).await;
            let probed = judge::probe(&whole);
            assert_eq!(
                (probed.codec.as_str(), probed.sample_rate, probed.channels),
                (codec, 44_100, 2),
                "{path}"
            );
            assert!(
                (probed.duration - expected).abs() < 0.1,
                "{path}: {probed:?}"
            );
            let decoded = judge::decoded_seconds(&whole);
            assert!((decoded - expected).abs() < 0.1, "{path}: {decoded} s");
            for _ in 0..5 {
                let start = rng.random_range(0..whole.len());
                let end = rng.random_range(start..whole.len());
                let range = format!("bytes={start}-{end}");
                let part = body(&app, &path, Some(&staff), Some(&range)).await;
                assert!(part[..] == whole[start..=end], "{path} {range}");
            }
            // A seek to the middle starts where the file does.
            let middle = whole.len() / 2;
            let tail = body(&app, &path, Some(&staff), Some(&format!("bytes={middle}-"))).await;
            assert!(tail[..] == whole[middle..], "{path}: from the middle");
        }
    }
}

#[tokio::test]
async fn twenty_concurrent_first_requests_for_one_track_make_one_file() {
    let app = TestApp::spawn_with(|config| config.max_streams_per_account = 100).await;
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let before = app.state.media.cache().renders();
    for path in ["/api/v1/tracks/77/stream", "/api/v1/tracks/77/preview"] {
        let requests = (0..20).map(|_| body(&app, path, Some(&staff), None));
        let bodies = futures_util::future::join_all(requests).await;
        assert!(bodies.iter().all(|b| b == &bodies[0]), "{path}: one file");
        assert!(judge::decoded_seconds(&bodies[0]) > 7.9);
    }
    assert_eq!(
        app.state.media.cache().renders() - before,
        2,
        "one render for the stream, one for the preview"
    );
    let shard = app.state.media.cache().dir().join("generated/077");
    let mut files: Vec<String> = std::fs::read_dir(shard)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files
        .iter()
        .all(|f| f.starts_with("77-") && f.ends_with(".mp3")));
}

#[tokio::test]
async fn everything_an_imported_customer_owns_streams_and_downloads() {
    let app = TestApp::spawn_with(|config| {
        config.audio_max_secs = 2;
        config.max_streams_per_account = 100;
    })
    .await;
    let token = app.login(LUIS, DEMO_PASSWORD).await;
    let mut owned = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/me/library?limit=100&cursor={c}"),
            None => "/api/v1/me/library?limit=100".to_string(),
        };
        let page: Value = app.get_authed(&path, &token).await.json().await.unwrap();
        for entry in page["data"].as_array().unwrap() {
            owned.push(entry["track_id"].as_i64().unwrap());
        }
        match page["page"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        owned.len(),
        38,
        "customer 1 owns 38 tracks through imported invoices"
    );
    for track in owned {
        for kind in ["stream", "download", "download?format=mp3", "preview"] {
            let path = format!("/api/v1/tracks/{track}/{kind}");
            let audio = body(&app, &path, Some(&token), None).await;
            assert!(judge::decoded_seconds(&audio) > 1.9, "{path}");
        }
    }
}

#[tokio::test]
async fn the_cache_keeps_within_its_cap_evicting_the_least_recently_used_and_uploads_stay() {
    let cap: u64 = 1 << 20;
    let app = TestApp::spawn_with(|config| {
        config.media_cache_bytes = cap;
        config.max_streams_per_account = 100;
    })
    .await;
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let admin = app.login("andrew@chinookcorp.com", DEMO_PASSWORD).await;
    let upload = judge::make(2.0, &["-c:a", "flac"], "flac");
    let stored = app
        .client
        .put(app.url("/api/v1/admin/tracks/3/audio"))
        .bearer_auth(&admin)
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    let first = body(&app, "/api/v1/tracks/10/stream", Some(&staff), None).await;
    // Each 8 s stream is about 128 KiB: twenty are more than twice the cap.
    for track in 11..31 {
        body(
            &app,
            &format!("/api/v1/tracks/{track}/stream"),
            Some(&staff),
            None,
        )
        .await;
        let cached = app.state.media.cache().cached_bytes().await.unwrap();
        assert!(cached <= cap, "{cached} bytes cached, over the cap");
    }
    let on_disk: u64 = walk(app.state.media.cache().dir());
    assert!(on_disk <= cap, "{on_disk} bytes on disk, over the cap");
    let generated = app.state.media.cache().dir().join("generated/010");
    assert!(
        std::fs::read_dir(generated).unwrap().next().is_none(),
        "the least recently used stream was evicted"
    );
    let renders = app.state.media.cache().renders();
    let again = body(&app, "/api/v1/tracks/10/stream", Some(&staff), None).await;
    assert!(again == first, "rendered again, the same bytes");
    assert_eq!(app.state.media.cache().renders(), renders + 1);
    // The upload's renditions live in the media store, outside the cache.
    let kept = app.state.media.path_of("renditions/003").unwrap();
    assert_eq!(std::fs::read_dir(kept).unwrap().count(), 4);
    let renders = app.state.media.cache().renders();
    body(&app, "/api/v1/tracks/3/stream", Some(&staff), None).await;
    assert_eq!(
        app.state.media.cache().renders(),
        renders,
        "not rendered again"
    );
}

fn walk(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

#[tokio::test]
async fn seeded_masters_come_with_their_renditions_so_no_instance_renders_them() {
    let app = TestApp::spawn().await;
    let seeded = chinook::media::seed_audio(
        &app.state.db,
        &app.state.media,
        chinook::config::SeedAudio::First(2),
        5,
    )
    .await
    .unwrap();
    assert_eq!(seeded, 2);
    for track in [1, 2] {
        let kept = app
            .state
            .media
            .path_of(&format!("renditions/{track:03}"))
            .unwrap();
        assert_eq!(std::fs::read_dir(kept).unwrap().count(), 4, "track {track}");
    }
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let renders = app.state.media.cache().renders();
    for path in [
        "/api/v1/tracks/1/stream",
        "/api/v1/tracks/1/preview",
        "/api/v1/tracks/2/download?format=mp3",
        "/api/v1/tracks/2/download?format=flac",
    ] {
        let bytes = body(&app, path, Some(&staff), None).await;
        assert!(!bytes.is_empty(), "{path}");
    }
    assert_eq!(
        app.state.media.cache().renders(),
        renders,
        "nothing was rendered on request"
    );
}
