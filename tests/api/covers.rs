//! Album covers: every album has one at every offered size in lossy WebP (the default) and
//! JPEG, the same on every instance; admins replace it with an upload that is decoded under limits, so
//! garbage, truncated files, bombs and oversize bodies are refused with a 4xx.

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{ImageFormat, Rgb, RgbImage};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const ADMIN: &str = "andrew@chinookcorp.com";
const CUSTOMER: &str = "luisg@embraer.com.br";
const SIZES: [u32; 4] = [64, 128, 300, 600];

async fn get_cover(
    app: &TestApp,
    album: i64,
    query: &str,
    accept: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/albums/{album}/cover{query}")));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.expect("the request is answered")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A successful cover response: its content type, ETag and bytes.
async fn cover_of(response: reqwest::Response) -> (String, String, Vec<u8>) {
    let url = response.url().to_string();
    assert_eq!(response.status(), 200, "{url}");
    let content_type = header(&response, "content-type");
    let etag = header(&response, "etag");
    let bytes = response.bytes().await.expect("a body").to_vec();
    (content_type, etag, bytes)
}

fn decode(bytes: &[u8], format: ImageFormat) -> image::DynamicImage {
    image::load_from_memory_with_format(bytes, format).expect("the cover decodes")
}

async fn upload(
    app: &TestApp,
    album: i64,
    token: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .client
        .put(app.url(&format!("/api/v1/admin/albums/{album}/cover")))
        .header("content-type", "application/octet-stream")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the request is answered")
}

fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .expect("the test image encodes");
    out.into_inner()
}

/// A wide picture: red on the left half, blue on the right.
fn red_and_blue(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    })
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real, small PNG whose IHDR is patched (with a correct CRC) to declare `width`×`height`.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(
        &RgbImage::from_pixel(16, 16, Rgb([1, 2, 3])),
        ImageFormat::Png,
    );
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height.
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[tokio::test]
async fn every_size_in_both_formats_decodes_at_its_size() {
    let app = TestApp::spawn().await;
    for size in SIZES {
        for (name, format, content_type) in [
            ("webp", ImageFormat::WebP, "image/webp"),
            ("jpeg", ImageFormat::Jpeg, "image/jpeg"),
        ] {
            let response = get_cover(&app, 1, &format!("?size={size}&format={name}"), None).await;
            let (got_type, etag, bytes) = cover_of(response).await;
            assert_eq!(got_type, content_type, "size {size} {name}");
            assert!(
                etag.starts_with('"') && etag.len() > 10,
                "a strong ETag: {etag}"
            );
            let image = decode(&bytes, format);
            assert_eq!(image.width(), size, "{name} at {size}");
            assert_eq!(image.height(), size, "{name} at {size}");
        }
    }
}

/// The default format is the smaller: lossy WebP under the JPEG at every size. The sizes are
/// printed (`--nocapture`) as the measure of what each format costs.
#[tokio::test]
async fn the_default_webp_is_smaller_than_the_jpeg_at_every_size() {
    let app = TestApp::spawn().await;
    for album in [1, 4] {
        for size in SIZES {
            let query = format!("?size={size}");
            let (webp_type, _, webp) =
                cover_of(get_cover(&app, album, &query, Some("")).await).await;
            let (jpeg_type, _, jpeg) =
                cover_of(get_cover(&app, album, &query, Some("image/jpeg")).await).await;
            assert_eq!(
                (webp_type.as_str(), jpeg_type.as_str()),
                ("image/webp", "image/jpeg")
            );
            println!(
                "album {album} at {size}: webp {} bytes, jpeg {} bytes",
                webp.len(),
                jpeg.len()
            );
            assert!(
                webp.len() < jpeg.len(),
                "album {album} at {size}: webp {} ≥ jpeg {}",
                webp.len(),
                jpeg.len()
            );
            assert_eq!(decode(&webp, ImageFormat::WebP).width(), size);
        }
    }
}

#[tokio::test]
async fn the_format_follows_accept_unless_the_query_names_one() {
    let app = TestApp::spawn().await;
    let browser = "image/avif,image/webp,image/apng,*/*;q=0.8";

    let response = get_cover(&app, 2, "", Some(browser)).await;
    assert_eq!(header(&response, "vary"), "Accept");
    assert!(header(&response, "cache-control").contains("max-age="));
    let (content_type, _, bytes) = cover_of(response).await;
    assert_eq!(content_type, "image/webp");
    assert_eq!(
        decode(&bytes, ImageFormat::WebP).width(),
        300,
        "300 is the default"
    );

    // An empty `Accept` (reqwest sends `*/*` when none is set) takes any type: the default.
    for accept in [
        Some(""),
        Some("image/webp"),
        Some("image/avif,image/webp,*/*"),
        Some("image/png"),
    ] {
        let (content_type, _, _) = cover_of(get_cover(&app, 2, "", accept).await).await;
        assert_eq!(content_type, "image/webp", "Accept: {accept:?}");
    }
    // Old clients send wildcards alone; a client may prefer JPEG or refuse WebP.
    for accept in [
        None,
        Some("*/*"),
        Some("image/*"),
        Some("image/jpeg"),
        Some("image/webp;q=0.5, image/jpeg"),
        Some("image/webp;q=0, */*"),
    ] {
        let (content_type, _, bytes) = cover_of(get_cover(&app, 2, "", accept).await).await;
        assert_eq!(content_type, "image/jpeg", "Accept: {accept:?}");
        assert_eq!(decode(&bytes, ImageFormat::Jpeg).width(), 300);
    }

    let (content_type, _, _) =
        cover_of(get_cover(&app, 2, "?format=jpeg", Some(browser)).await).await;
    assert_eq!(content_type, "image/jpeg", "format= wins over Accept");
    let (content_type, _, _) =
        cover_of(get_cover(&app, 2, "?format=webp", Some("image/jpeg")).await).await;
    assert_eq!(content_type, "image/webp", "format= wins over Accept");
}

#[tokio::test]
async fn a_current_etag_gets_a_304_and_each_variant_has_its_own() {
    let app = TestApp::spawn().await;
    let (_, etag, _) = cover_of(get_cover(&app, 3, "?size=128", None).await).await;

    let response = app
        .client
        .get(app.url("/api/v1/albums/3/cover?size=128"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(header(&response, "etag"), etag);
    assert_eq!(header(&response, "vary"), "Accept");
    assert!(response.bytes().await.unwrap().is_empty());

    let stale = app
        .client
        .get(app.url("/api/v1/albums/3/cover?size=128"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    let (_, other_size, _) = cover_of(get_cover(&app, 3, "?size=64", None).await).await;
    let (_, other_format, _) =
        cover_of(get_cover(&app, 3, "?size=128&format=webp", None).await).await;
    assert_ne!(other_size, etag);
    assert_ne!(other_format, etag);
}

#[tokio::test]
async fn two_instances_draw_the_same_cover_and_albums_differ() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn().await;
    for format in ["webp", "jpeg"] {
        let query = format!("?size=128&format={format}");
        let (_, etag_here, here) = cover_of(get_cover(&app, 5, &query, None).await).await;
        let (_, etag_there, there) = cover_of(get_cover(&other, 5, &query, None).await).await;
        assert_eq!(here, there, "{format}: the same bytes on both instances");
        assert_eq!(etag_here, etag_there);

        let (_, _, next_album) = cover_of(get_cover(&app, 6, &query, None).await).await;
        assert_ne!(here, next_album, "{format}: albums 5 and 6 look different");
    }
}

#[tokio::test]
async fn sizes_formats_and_albums_that_do_not_exist_are_refused() {
    let app = TestApp::spawn().await;
    for query in ["?size=100", "?size=0", "?size=big", "?size=-64"] {
        let body = assert_problem(get_cover(&app, 1, query, None).await, 400).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("64, 128, 300 or 600"), "{query}: {detail}");
    }
    for query in ["?format=png", "?format=gif"] {
        let body = assert_problem(get_cover(&app, 1, query, None).await, 400).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("webp or jpeg"), "{query}: {detail}");
    }
    assert_problem(get_cover(&app, 1, "?colour=red", None).await, 400).await;
    let body = assert_problem(get_cover(&app, 999_999, "", None).await, 404).await;
    assert!(
        body["detail"].as_str().unwrap().contains("999999"),
        "{body}"
    );
}

#[tokio::test]
async fn an_admin_upload_replaces_the_cover_and_its_cached_variants() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let (_, before, generated) = cover_of(get_cover(&app, 7, "?size=300", None).await).await;
    let cached = app
        .data_dir()
        .join("media/covers/variants")
        .join(&before[1..3])
        .join(format!("{}.jpg", before.trim_matches('"')));
    assert!(
        cached.is_file(),
        "the variant is cached at {}",
        cached.display()
    );

    // A wide picture: the square served is its centre, half red and half blue.
    let response = upload(
        &app,
        7,
        Some(&token),
        encoded(&red_and_blue(800, 400), ImageFormat::Png),
    )
    .await;
    assert_eq!(response.status(), 200);
    let stored: serde_json::Value = response.json().await.unwrap();
    assert_eq!(stored["album_id"], 7);
    assert_eq!(stored["content_type"], "image/png");
    assert_eq!(stored["width"], 800);
    assert_eq!(stored["height"], 400);

    let (_, after, bytes) = cover_of(get_cover(&app, 7, "?size=300", None).await).await;
    assert_ne!(after, before, "a new cover has a new ETag");
    assert_ne!(bytes, generated);
    assert!(!cached.exists(), "the old cover's variant is removed");
    let image = decode(&bytes, ImageFormat::Jpeg).to_rgb8();
    assert_eq!(image.dimensions(), (300, 300));
    let left = image.get_pixel(40, 150).0;
    let right = image.get_pixel(260, 150).0;
    assert!(left[0] > 180 && left[2] < 70, "the left is red: {left:?}");
    assert!(
        right[2] > 180 && right[0] < 70,
        "the right is blue: {right:?}"
    );

    let stale = app
        .client
        .get(app.url("/api/v1/albums/7/cover?size=300"))
        .header("if-none-match", &before)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200, "the old ETag is no longer current");

    // A JPEG and a WebP are taken too; the same picture again changes nothing.
    for format in [ImageFormat::Jpeg, ImageFormat::WebP] {
        let body = encoded(&red_and_blue(64, 64), format);
        let response = upload(&app, 7, Some(&token), body).await;
        assert_eq!(response.status(), 200, "{format:?}");
    }
    let again = upload(
        &app,
        7,
        Some(&token),
        encoded(&red_and_blue(64, 64), ImageFormat::WebP),
    )
    .await;
    assert_eq!(again.status(), 200);
    let (_, last, _) = cover_of(get_cover(&app, 7, "?size=64&format=webp", None).await).await;
    let (_, same, _) = cover_of(get_cover(&app, 7, "?size=64&format=webp", None).await).await;
    assert_eq!(last, same);
}

#[tokio::test]
async fn only_admins_upload_covers() {
    let app = TestApp::spawn().await;
    let png = encoded(&red_and_blue(32, 32), ImageFormat::Png);
    assert_problem(upload(&app, 1, None, png.clone()).await, 401).await;
    let customer = app.login(CUSTOMER, DEMO_PASSWORD).await;
    assert_problem(upload(&app, 1, Some(&customer), png.clone()).await, 403).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    assert_problem(upload(&app, 999_999, Some(&admin), png).await, 404).await;
}

#[tokio::test]
async fn what_is_not_a_whole_image_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;

    let body = assert_problem(
        upload(
            &app,
            1,
            Some(&token),
            b"<html>this is no image at all</html>".to_vec(),
        )
        .await,
        415,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("PNG, JPEG or WebP"),
        "{body}"
    );
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    assert_problem(upload(&app, 1, Some(&token), gif).await, 415).await;
    assert_problem(upload(&app, 1, Some(&token), Vec::new()).await, 422).await;

    let png = encoded(&red_and_blue(200, 200), ImageFormat::Png);
    let truncated = png[..png.len() / 2].to_vec();
    let body = assert_problem(upload(&app, 1, Some(&token), truncated).await, 422).await;
    assert!(
        body["detail"].as_str().unwrap().contains("truncated"),
        "{body}"
    );

    let jpeg = encoded(&red_and_blue(200, 200), ImageFormat::Jpeg);
    for cut in [200, jpeg.len() / 2, jpeg.len() - 2] {
        let truncated = jpeg[..cut].to_vec();
        let body = assert_problem(upload(&app, 1, Some(&token), truncated).await, 422).await;
        assert!(
            body["detail"].as_str().unwrap().contains("truncated"),
            "{cut}: {body}"
        );
    }
    // Cut, with an end-of-image marker stuck on: the markers look whole, the scan is not.
    for cut in [jpeg.len() / 3, jpeg.len() / 2, jpeg.len() - 40] {
        let mut patched = jpeg[..cut].to_vec();
        patched.extend_from_slice(&[0xFF, 0xD9]);
        let body = assert_problem(upload(&app, 1, Some(&token), patched).await, 422).await;
        assert!(
            body["detail"].as_str().unwrap().contains("truncated"),
            "{cut} + FFD9: {body}"
        );
    }
    let webp = encoded(&red_and_blue(200, 200), ImageFormat::WebP);
    let truncated = webp[..webp.len() / 2].to_vec();
    assert_problem(upload(&app, 1, Some(&token), truncated).await, 422).await;

    // Nothing was stored: the cover is still the generated one.
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM album_cover")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header_in_milliseconds() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let bomb = png_declaring(60_000, 60_000);
    assert!(bomb.len() < 1024, "a tiny file: {} bytes", bomb.len());

    let started = Instant::now();
    let body = assert_problem(upload(&app, 1, Some(&token), bomb).await, 422).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused in {:?}",
        started.elapsed()
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("60000×60000") && detail.contains("4096×4096"),
        "{detail}"
    );

    let wide = png_declaring(5_000, 16);
    assert_problem(upload(&app, 1, Some(&token), wide).await, 422).await;
}

#[tokio::test]
async fn the_upload_limits_are_configurable() {
    let app = TestApp::spawn_with(|config| {
        config.cover_max_bytes = 4096;
        config.cover_max_dimension = 100;
        config.cover_max_alloc_bytes = 1 << 20;
    })
    .await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;

    let oversize = vec![0x89; 5000];
    let body = assert_problem(upload(&app, 1, Some(&token), oversize).await, 413).await;
    assert!(
        body["detail"].as_str().unwrap().contains("4096 bytes"),
        "{body}"
    );

    let too_wide = encoded(&red_and_blue(101, 10), ImageFormat::Png);
    assert!(too_wide.len() < 4096);
    let body = assert_problem(upload(&app, 1, Some(&token), too_wide).await, 422).await;
    assert!(
        body["detail"].as_str().unwrap().contains("100×100"),
        "{body}"
    );

    let fits = encoded(&red_and_blue(100, 100), ImageFormat::Png);
    assert_eq!(upload(&app, 1, Some(&token), fits).await.status(), 200);
}

#[tokio::test]
async fn the_upload_limits_have_the_documented_defaults() {
    let config = chinook::config::Config::from_sources(None, &[]).unwrap();
    assert_eq!(config.cover_max_bytes, 5 << 20);
    assert_eq!(config.cover_max_dimension, 4096);
    assert_eq!(config.cover_max_alloc_bytes, 64 << 20);
    assert_eq!(
        config.seed_covers, 0,
        "covers are drawn on demand by default"
    );

    let with = |name: &str, value: &str| {
        chinook::config::Config::from_sources(None, &[(name.to_string(), value.to_string())])
    };
    assert_eq!(
        with("CHINOOK_SEED_COVERS", "all").unwrap().seed_covers,
        u64::MAX
    );
    assert_eq!(with("CHINOOK_SEED_COVERS", "347").unwrap().seed_covers, 347);
    let err = with("CHINOOK_SEED_COVERS", "many").unwrap_err();
    assert_eq!(err.setting, "CHINOOK_SEED_COVERS");
    let err = with("CHINOOK_COVER_MAX_DIMENSION", "8").unwrap_err();
    assert!(err.problem.contains("outside"), "{err}");
}

#[tokio::test]
async fn a_transparent_upload_is_served_on_white() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let clear = image::RgbaImage::from_pixel(40, 40, image::Rgba([0, 0, 0, 0]));
    let mut png = Cursor::new(Vec::new());
    clear.write_to(&mut png, ImageFormat::Png).unwrap();
    assert_eq!(
        upload(&app, 9, Some(&token), png.into_inner())
            .await
            .status(),
        200
    );

    let (_, _, bytes) = cover_of(get_cover(&app, 9, "?size=64&format=jpeg", None).await).await;
    let image = decode(&bytes, ImageFormat::Jpeg).to_rgb8();
    let centre = image.get_pixel(32, 32).0;
    assert!(
        centre.iter().all(|&c| c > 245),
        "white, not black: {centre:?}"
    );
}
