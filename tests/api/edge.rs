//! The HTTP edge of a binary that faces clients itself: TLS with HTTP/2 and HSTS, response
//! compression for text formats only (never audio or images, whole or ranged), and CORS for
//! the configured origins only.

use std::io::Read;

use chinook::config::{CorsOrigins, CorsPolicy, TlsFiles};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, Version};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const STAFF: &str = "jane@chinookcorp.com";
const SHOP: &str = "https://shop.example.com";

fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers
        .get(name)
        .map(|v| v.to_str().expect("a text header"))
}

/// A self-signed certificate for `localhost`, written as PEM into the app's data directory.
fn self_signed(dir: &std::path::Path) -> TlsFiles {
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("rcgen issues a certificate");
    let files = TlsFiles {
        cert: dir.join("tls-cert.pem"),
        key: dir.join("tls-key.pem"),
    };
    std::fs::write(&files.cert, issued.cert.pem()).unwrap();
    std::fs::write(&files.key, issued.signing_key.serialize_pem()).unwrap();
    files
}

#[tokio::test]
async fn with_a_certificate_the_api_speaks_http2_over_tls_and_sends_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let tls = self_signed(dir.path());
    let app = TestApp::spawn_with(|c| c.tls = Some(tls)).await;
    assert!(
        app.address.starts_with("https://localhost:"),
        "{}",
        app.address
    );

    let response = app.get("/api/v1/tracks/1").await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2, "ALPN picks HTTP/2");
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response.headers(), header::STRICT_TRANSPORT_SECURITY),
        Some("max-age=31536000; includeSubDomains")
    );
    let track: serde_json::Value = response.json().await.unwrap();
    assert_eq!(track["name"], "For Those About To Rock (We Salute You)");

    // An HTTP/1.1-only client is still served, over TLS.
    let root =
        reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("tls-cert.pem")).unwrap())
            .unwrap();
    let port = app
        .address
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let http1 = reqwest::Client::builder()
        .add_root_certificate(root)
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .http1_only()
        .build()
        .unwrap();
    let response = http1.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(response.status(), 200);

    // Plain HTTP on the TLS port gets no API answer.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/health/live")).await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP must not be served on the TLS listener"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn without_tls_there_is_no_hsts() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/live").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response.headers(), header::STRICT_TRANSPORT_SECURITY),
        None
    );
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let tls = self_signed(dir.path());
    let other = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&tls.key, other.serialize_pem()).unwrap();
    let database = crate::helpers::TestDatabase::chinook().await;
    let mut config = database.config();
    config.tls = Some(tls);
    let error = chinook::startup::Application::build(config)
        .await
        .err()
        .expect("start-up refuses a mismatched key");
    assert!(
        format!("{error:#}").contains("do not make a TLS identity"),
        "{error:#}"
    );
}

fn brotli_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid brotli");
    out
}

fn gzip_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn json_is_compressed_with_brotli_or_gzip_as_the_client_prefers() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/tracks?limit=100";
    let plain = app.get(path).await.unwrap();
    assert_eq!(text(plain.headers(), header::CONTENT_ENCODING), None);
    assert_eq!(text(plain.headers(), header::VARY), Some("accept-encoding"));
    let identity = plain.bytes().await.unwrap();
    assert!(
        identity.len() > 10_000,
        "a page of 100 tracks is worth compressing"
    );

    for (accept, coding) in [
        ("gzip, deflate, br", "br"),
        ("br;q=0.4, gzip;q=0.9", "gzip"),
        ("gzip", "gzip"),
    ] {
        let response = app
            .client
            .get(app.url(path))
            .header(header::ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(
            text(&headers, header::CONTENT_ENCODING),
            Some(coding),
            "{accept}"
        );
        assert!(text(&headers, header::VARY)
            .unwrap()
            .contains("accept-encoding"));
        let body = response.bytes().await.unwrap();
        assert!(
            body.len() * 3 < identity.len(),
            "{coding}: {} of {}",
            body.len(),
            identity.len()
        );
        let decoded = if coding == "br" {
            brotli_decode(&body)
        } else {
            gzip_decode(&body)
        };
        assert!(
            decoded == identity,
            "{coding}: the decoded body is the JSON"
        );
    }

    // Problems are JSON too.
    let response = app
        .client
        .get(app.url("/api/v1/tracks?limit=1000"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        text(response.headers(), header::CONTENT_ENCODING),
        Some("gzip")
    );
    let problem: serde_json::Value =
        serde_json::from_slice(&gzip_decode(&response.bytes().await.unwrap())).unwrap();
    assert_eq!(problem["status"], 400);
}

#[tokio::test]
async fn audio_and_covers_are_never_compressed_whole_or_ranged() {
    let app = TestApp::spawn().await;
    let index = app.state.catalog().unwrap();
    let cut = chinook::streaming::tracks::Cut::Stream;
    let source = chinook::streaming::tracks::source(&app.state.db, &app.state.media, index, 1, cut)
        .await
        .unwrap();
    let wav = std::fs::read(&source.path).unwrap();
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    let stream = |range: Option<&str>| {
        let mut request = app
            .client
            .get(app.url("/api/v1/tracks/1/stream"))
            .bearer_auth(&staff)
            .header(header::ACCEPT_ENCODING, "br, gzip");
        if let Some(range) = range {
            request = request.header(header::RANGE, range);
        }
        request.send()
    };

    let whole = stream(None).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(text(whole.headers(), header::CONTENT_ENCODING), None);
    assert_eq!(
        text(whole.headers(), header::CONTENT_LENGTH),
        Some(wav.len().to_string().as_str())
    );
    assert!(
        whole.bytes().await.unwrap() == wav,
        "the stream is the file, byte for byte"
    );

    let ranged = stream(Some("bytes=1000-1999")).await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(text(ranged.headers(), header::CONTENT_ENCODING), None);
    let expected_range = format!("bytes 1000-1999/{}", wav.len());
    assert_eq!(
        text(ranged.headers(), header::CONTENT_RANGE),
        Some(expected_range.as_str())
    );
    assert!(ranged.bytes().await.unwrap()[..] == wav[1000..2000]);

    let preview = app
        .client
        .get(app.url("/api/v1/tracks/1/preview"))
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200);
    assert_eq!(text(preview.headers(), header::CONTENT_ENCODING), None);

    let cover = app
        .client
        .get(app.url("/api/v1/albums/1/cover"))
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(cover.status(), 200);
    assert!(text(cover.headers(), header::CONTENT_TYPE)
        .unwrap()
        .starts_with("image/"));
    assert_eq!(text(cover.headers(), header::CONTENT_ENCODING), None);
}

async fn spawn_with_cors(origins: CorsOrigins, credentials: bool) -> TestApp {
    TestApp::spawn_with(|c| {
        c.cors = CorsPolicy {
            origins,
            credentials,
        }
    })
    .await
}

async fn preflight(app: &TestApp, origin: &str, method: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/v1/me"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn listed_origins_get_cors_answers_with_credentials_and_others_get_none() {
    let app = spawn_with_cors(CorsOrigins::List(vec![SHOP.into()]), true).await;

    let response = preflight(&app, SHOP, "GET").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(
        text(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(SHOP)
    );
    assert_eq!(
        text(headers, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true")
    );
    assert!(text(headers, header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap()
        .contains("authorization"));

    let response = app
        .client
        .get(app.url("/api/v1/tracks/1"))
        .header(header::ORIGIN, SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(SHOP)
    );
    assert!(
        text(response.headers(), header::ACCESS_CONTROL_EXPOSE_HEADERS)
            .unwrap()
            .contains("x-request-id")
    );

    // Another origin is answered without CORS headers, so its browser withholds the body.
    let response = app
        .client
        .get(app.url("/api/v1/tracks/1"))
        .header(header::ORIGIN, "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(
        text(response.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        None
    );

    // A preflight for a method the API does not allow cross-origin is a problem.
    let problem = assert_problem(preflight(&app, SHOP, "TRACE").await, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().starts_with("CORS:"),
        "{problem}"
    );
}

#[tokio::test]
async fn any_origin_is_a_wildcard_without_credentials() {
    let app = spawn_with_cors(CorsOrigins::Any, false).await;
    let response = preflight(&app, "https://anyone.example.org", "POST").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("*")
    );
    assert_eq!(
        text(response.headers(), header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        None
    );
}

#[tokio::test]
async fn without_configured_origins_there_are_no_cors_headers() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/v1/tracks/1"))
        .header(header::ORIGIN, SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        None
    );
}
