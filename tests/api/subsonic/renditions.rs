//! `stream`'s `format` and `maxBitRate` pick the rendition an owner hears, the same bytes
//! the REST API serves for it; `format=raw` is the stored master itself; anyone else hears
//! the preview whatever they ask.

use bytes::Bytes;

use super::{spawn, OTHER, OWNER};
use crate::helpers::{TestApp, DEMO_PASSWORD};
use crate::streaming::give_audio;

/// `stream` for `email` with `extra` parameters (and a `Range`, if given).
async fn stream(
    app: &TestApp,
    email: &str,
    id: &str,
    extra: &[(&str, &str)],
    range: Option<&str>,
) -> reqwest::Response {
    let mut query = vec![
        ("v", "1.16.1"),
        ("c", "t"),
        ("u", email),
        ("p", DEMO_PASSWORD),
        ("id", id),
    ];
    query.extend_from_slice(extra);
    let mut request = app.client.get(app.url("/rest/stream")).query(&query);
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

/// A REST answer's content type and bytes, for `email`.
async fn rest(app: &TestApp, email: &str, path: &str) -> (String, Bytes) {
    let token = app.login(email, DEMO_PASSWORD).await;
    let response = app.get_authed(path, &token).await;
    assert_eq!(response.status(), 200, "{path}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (kind, response.bytes().await.unwrap())
}

/// A case: who asks, what it is called, the parameters, and what REST serves for it.
type Case<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    &'a (String, Bytes),
);

async fn body(response: reqwest::Response) -> (u16, String, Bytes) {
    let status = response.status().as_u16();
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (status, kind, response.bytes().await.unwrap())
}

#[tokio::test]
async fn format_and_max_bit_rate_pick_the_owners_rendition_and_others_hear_the_preview() {
    let app = spawn().await;
    // Track 1 gets a stored master, as an upload would give it; its owner is OWNER.
    let master = give_audio(&app, 1, 4_000).await;
    let master_bytes = std::fs::read(app.state.media.path_of(&master.path).unwrap()).unwrap();
    let stream128 = rest(&app, OWNER, "/api/v1/tracks/1/stream").await;
    let mp3_320 = rest(&app, OWNER, "/api/v1/tracks/1/download?format=mp3").await;
    let flac = rest(&app, OWNER, "/api/v1/tracks/1/download?format=flac").await;
    let preview = rest(&app, OTHER, "/api/v1/tracks/1/preview").await;
    assert_ne!(stream128.1, mp3_320.1, "two MP3 rates, two files");

    let cases: Vec<Case> = vec![
        (OWNER, "nothing asked", vec![], &stream128),
        (OWNER, "128", vec![("maxBitRate", "128")], &stream128),
        (
            OWNER,
            "mp3 under 128",
            vec![("format", "mp3"), ("maxBitRate", "96")],
            &stream128,
        ),
        (
            OWNER,
            "an unmade codec",
            vec![("format", "opus"), ("maxBitRate", "192")],
            &stream128,
        ),
        (OWNER, "320", vec![("maxBitRate", "320")], &mp3_320),
        (OWNER, "no limit", vec![("maxBitRate", "0")], &mp3_320),
        (OWNER, "flac", vec![("format", "flac")], &flac),
        (OTHER, "not owned", vec![], &preview),
        (OTHER, "not owned, flac", vec![("format", "flac")], &preview),
        (OTHER, "not owned, raw", vec![("format", "raw")], &preview),
        (
            OTHER,
            "not owned, 320",
            vec![("maxBitRate", "320")],
            &preview,
        ),
    ];
    for (email, label, extra, (kind, bytes)) in cases {
        let (status, got_kind, got) = body(stream(&app, email, "tr-1", &extra, None).await).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(&got_kind, kind, "{label}");
        assert!(
            got == bytes,
            "{label}: {} bytes, not {}",
            got.len(),
            bytes.len()
        );
    }

    // `raw` is the master as stored, with ranges.
    let (status, kind, raw) =
        body(stream(&app, OWNER, "tr-1", &[("format", "raw")], None).await).await;
    assert_eq!(status, 200);
    assert_eq!(kind, master.content_type);
    assert_eq!(raw.as_ref(), master_bytes.as_slice());
    let ranged = stream(
        &app,
        OWNER,
        "tr-1",
        &[("format", "raw")],
        Some("bytes=10-19"),
    )
    .await;
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 10-19/{}", master_bytes.len()).as_str()
    );
    assert_eq!(ranged.headers()["etag"], master.etag.as_str());
    assert_eq!(
        ranged.bytes().await.unwrap().as_ref(),
        &master_bytes[10..20]
    );

    // A bit rate that is not a number is a Subsonic error, not a stream.
    let (status, kind, text) =
        body(stream(&app, OWNER, "tr-1", &[("maxBitRate", "lots")], None).await).await;
    assert_eq!(status, 200);
    assert!(kind.contains("xml"), "{kind}");
    assert!(
        String::from_utf8_lossy(&text).contains("<error code=\"0\""),
        "{}",
        String::from_utf8_lossy(&text)
    );
}

#[tokio::test]
async fn raw_of_a_generated_master_is_its_lossless_rendition() {
    let app = spawn().await;
    // OTHER owns track 2, whose audio is generated: there is no file to send as it is.
    let flac = rest(&app, OTHER, "/api/v1/tracks/2/download").await;
    let (status, kind, raw) =
        body(stream(&app, OTHER, "tr-2", &[("format", "raw")], None).await).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "audio/flac");
    assert!(raw == flac.1, "{} bytes, not {}", raw.len(), flac.1.len());
}
