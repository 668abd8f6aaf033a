//! Audio uploads: typed by their bytes, decoded whole to prove they are the audio they claim
//! to be, rendered at once into every rendition (ffprobe and ffmpeg judge them), bounded in
//! size, and swapped in without breaking a listener who is halfway through the old file.

use chinook::media::encode::Rendition;
use futures_util::StreamExt;
use serde_json::Value;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};
use crate::judge;
use crate::streaming::place_rendition;

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

async fn get(app: &TestApp, path: &str, token: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = app.get_authed(path, token).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn every_accepted_format_is_decoded_rendered_and_played_at_its_own_length() {
    let app = TestApp::spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let uploads: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "FLAC",
            judge::make(3.0, &["-c:a", "flac"], "flac"),
            "audio/flac",
        ),
        (
            "WAV, 16-bit 48 kHz",
            judge::make(3.0, &["-c:a", "pcm_s16le", "-ar", "48000"], "wav"),
            "audio/wav",
        ),
        ("WAV, 8-bit 8 kHz mono", judge::wav(24_000, 0), "audio/wav"),
        (
            "MP3",
            judge::make(3.0, &["-c:a", "libmp3lame", "-b:a", "192k"], "mp3"),
            "audio/mpeg",
        ),
        (
            "AAC in M4A",
            judge::make(3.0, &["-c:a", "aac", "-b:a", "128k"], "m4a"),
            "audio/mp4",
        ),
        (
            "ALAC in M4A",
            judge::make(3.0, &["-c:a", "alac"], "m4a"),
            "audio/mp4",
        ),
        (
            "Ogg Vorbis",
            judge::make(3.0, &["-c:a", "libvorbis", "-q:a", "4"], "ogg"),
            "audio/ogg",
        ),
    ];
    for (kind, content, content_type) in uploads {
        let track = 5;
        let response = put_audio(&app, track, Some(&admin), content.clone()).await;
        let status = response.status();
        let stored: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{kind}: {stored}");
        assert_eq!(stored["content_type"], content_type, "{kind}");
        assert_eq!(stored["bytes"], content.len(), "{kind}");
        let duration = stored["duration_ms"].as_i64().unwrap();
        assert!((duration - 3000).abs() <= 60, "{kind}: {duration} ms");
        let kinds: Vec<&str> = stored["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["stream", "preview", "flac", "mp3"], "{kind}");

        // The catalog says how long the track is now: the file's length.
        let entry: Value = app
            .client
            .get(app.url(&format!("/api/v1/tracks/{track}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(entry["milliseconds"].as_i64(), Some(duration), "{kind}");

        let renders = app.state.media.cache().renders();
        for (path, codec) in [
            (format!("/api/v1/tracks/{track}/stream"), "mp3"),
            (format!("/api/v1/tracks/{track}/preview"), "mp3"),
            (format!("/api/v1/tracks/{track}/download"), "flac"),
            (format!("/api/v1/tracks/{track}/download?format=mp3"), "mp3"),
        ] {
            let (_, body) = get(&app, &path, &admin).await;
            let probed = judge::probe(&body);
            assert_eq!(probed.codec, codec, "{kind}: {path}");
            let seconds = judge::decoded_seconds(&body);
            assert!((seconds - 3.0).abs() < 0.1, "{kind}: {path}: {seconds} s");
        }
        assert_eq!(
            app.state.media.cache().renders(),
            renders,
            "{kind}: the renditions were made at upload, not on request"
        );
    }
}

/// A WAV header declaring `rate` Hz and `data_len` bytes, followed by `actual` bytes.
fn wav_declaring(rate: u32, data_len: u32, actual: usize) -> Vec<u8> {
    let mut wav = judge::wav(actual, 0);
    wav[24..28].copy_from_slice(&rate.to_le_bytes());
    wav[28..32].copy_from_slice(&rate.to_le_bytes());
    wav[40..44].copy_from_slice(&data_len.to_le_bytes());
    wav[4..8].copy_from_slice(&data_len.saturating_add(36).to_le_bytes());
    wav
}

#[tokio::test]
async fn what_is_not_audio_not_what_it_claims_truncated_or_too_big_is_refused_and_nothing_changes()
{
    let app = TestApp::spawn_with(|config| config.max_audio_bytes = 1 << 20).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let customer = app.login(CUSTOMER, DEMO_PASSWORD).await;
    let small = judge::wav(4000, 0);

    assert_problem(put_audio(&app, 5, None, small.clone()).await, 401).await;
    assert_problem(
        put_audio(&app, 5, Some(&customer), small.clone()).await,
        403,
    )
    .await;
    assert_problem(
        put_audio(&app, 999_999, Some(&admin), small.clone()).await,
        404,
    )
    .await;

    let flac = judge::make(4.0, &["-c:a", "flac"], "flac");
    let mp3 = judge::make(4.0, &["-c:a", "libmp3lame"], "mp3");
    let wav = judge::make(4.0, &["-c:a", "pcm_s16le"], "wav");
    let mut id3_then_noise = b"ID3\x04\x00\x00\x00\x00\x00\x0a".to_vec();
    id3_then_noise.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let refusals: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "HTML",
            b"<html><body>not audio</body></html>".to_vec(),
            415,
            "WAV",
        ),
        ("PNG", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), 415, "WAV"),
        ("zeros", vec![0u8; 64], 415, "WAV"),
        (
            "a bare RIFF WAVE header",
            b"RIFF\x04\0\0\0WAVE".to_vec(),
            422,
            "WAV",
        ),
        ("ID3 and noise", id3_then_noise, 422, "MP3"),
        ("a video", judge::video(2.0), 415, "not one audio track"),
        (
            "Ogg Opus",
            judge::make(2.0, &["-c:a", "libopus"], "opus"),
            415,
            "Opus",
        ),
        ("a WAV at 0 Hz", wav_declaring(0, 4000, 4000), 422, "0 Hz"),
        (
            "a WAV declaring 4 GB",
            wav_declaring(8000, 0xFFFF_FFC0, 4000),
            422,
            "truncated",
        ),
        (
            "a WAV whose data outgrows its RIFF",
            {
                let mut wav = judge::wav(4000, 0);
                wav[40..44].copy_from_slice(&0xFFFF_FFC0u32.to_le_bytes());
                wav
            },
            422,
            "chunk length",
        ),
        ("half a FLAC", flac[..flac.len() / 2].to_vec(), 422, "FLAC"),
        (
            "half an MP3",
            mp3[..mp3.len() / 2].to_vec(),
            422,
            "truncated",
        ),
        (
            "half a WAV",
            wav[..wav.len() / 2].to_vec(),
            422,
            "truncated",
        ),
        ("empty", Vec::new(), 422, "empty"),
        ("too big", judge::wav(2 << 20, 0), 413, "1048576"),
    ];
    for (kind, content, status, says) in refusals {
        let problem = assert_problem(put_audio(&app, 5, Some(&admin), content).await, status).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{kind}: {detail}");
    }

    assert!(chinook::media::audio_of(&app.state.db, 5)
        .await
        .unwrap()
        .is_none());
    let incoming = app.state.media.path_of("audio/incoming").unwrap();
    let leftovers = std::fs::read_dir(incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "refused uploads leave no temporary files");
    let renditions = app.state.media.path_of("renditions").unwrap();
    assert!(!renditions.exists(), "and no renditions");
}

#[tokio::test]
async fn a_listener_mid_stream_keeps_the_old_file_while_new_requests_get_the_new_one() {
    let app = TestApp::spawn_with(|config| config.stream_chunk_bytes = 4096).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let first = judge::make(2.0, &["-c:a", "flac"], "flac");
    assert_eq!(put_audio(&app, 5, Some(&admin), first).await.status(), 200);
    // Larger than the socket buffers, so the first response cannot be finished early.
    let old: Vec<u8> = (0..30_000_000u32).map(|i| (i % 251) as u8).collect();
    place_rendition(&app, 5, Rendition::Stream, &old).await;

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

    let second = judge::make(5.0, &["-c:a", "flac"], "flac");
    let replaced = put_audio(&app, 5, Some(&admin), second).await;
    assert_eq!(replaced.status(), 200);

    while let Some(chunk) = body.next().await {
        heard.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        heard.len(),
        old.len(),
        "the listener heard the old file to its end"
    );
    assert!(heard == old, "and every byte of it");

    let (headers, fresh) = get(&app, "/api/v1/tracks/5/stream", &admin).await;
    assert_ne!(headers["etag"].to_str().unwrap(), old_etag);
    assert!((judge::decoded_seconds(&fresh) - 5.0).abs() < 0.1);
}
