//! The web store front as served: the page at its paths, revalidated with ETags; assets under
//! a version, cached for a year, precompressed in brotli and gzip; nothing of the API shadowed.

use std::io::Read;

use crate::helpers::{assert_problem, TestApp};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the request is answered")
}

/// The asset paths the page links, `/assets/<version>/<name>`.
fn linked_assets(page: &str) -> Vec<String> {
    page.split('"')
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_page_is_served_at_the_root_and_at_its_own_paths_and_revalidated_by_etag() {
    let app = TestApp::spawn().await;
    let home = get_with(&app, "/", &[]).await;
    assert_eq!(home.status(), 200);
    assert_eq!(header(&home, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&home, "cache-control"), "no-cache");
    let etag = header(&home, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let page = home.text().await.unwrap();
    assert!(page.contains("<main"), "the page has a main landmark");
    assert!(!page.contains("%ASSETS%"), "the placeholder is replaced");

    for path in [
        "/search?q=metallica&genre=3",
        "/albums/1",
        "/artists/50",
        "/genres/rock",
        "/cart",
        "/account",
        "/library",
        "/invoices",
    ] {
        let response = get_with(&app, path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.text().await.unwrap(),
            page,
            "{path} is the same page"
        );
    }

    let again = get_with(&app, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn assets_carry_the_version_and_are_cached_for_a_year() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await.unwrap().text().await.unwrap();
    let assets = linked_assets(&page);
    assert!(
        assets.iter().any(|a| a.ends_with("/app.js")) && assets.iter().any(|a| a.ends_with(".css")),
        "the page links its script and style sheet: {assets:?}"
    );
    for path in &assets {
        let response = get_with(&app, path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert!(!header(&response, "etag").is_empty(), "{path}");
        let etag = header(&response, "etag");
        let again = get_with(&app, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{path}");
    }
    let script = assets.iter().find(|a| a.ends_with("/app.js")).unwrap();
    let response = get_with(&app, script, &[]).await;
    assert_eq!(
        header(&response, "content-type"),
        "text/javascript; charset=utf-8"
    );

    // A page from before a deploy asks for its assets under the old version: it gets
    // today's file, but may not keep it.
    let name = script.rsplit('/').next().unwrap();
    let stale = get_with(&app, &format!("/assets/0123456789ab/{name}"), &[]).await;
    assert_eq!(stale.status(), 200);
    assert_eq!(header(&stale, "cache-control"), "no-cache");
}

#[tokio::test]
async fn assets_come_precompressed_as_the_client_accepts_and_decode_to_the_same_bytes() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await.unwrap().text().await.unwrap();
    let script = linked_assets(&page)
        .into_iter()
        .find(|a| a.ends_with("/app.js"))
        .unwrap();
    let plain = get_with(&app, &script, &[]).await;
    assert_eq!(header(&plain, "content-encoding"), "");
    assert_eq!(header(&plain, "vary"), "Accept-Encoding");
    let plain_etag = header(&plain, "etag");
    let plain = plain.bytes().await.unwrap();

    let br = get_with(&app, &script, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(header(&br, "content-encoding"), "br");
    let br_etag = header(&br, "etag");
    let br = br.bytes().await.unwrap();
    assert!(br.len() < plain.len(), "{} < {}", br.len(), plain.len());
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);

    let gz = get_with(&app, &script, &[("accept-encoding", "gzip, br;q=0")]).await;
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    let gz_etag = header(&gz, "etag");
    let gz = gz.bytes().await.unwrap();
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);

    // Each representation has its own ETag, as their bytes differ.
    assert_ne!(plain_etag, br_etag);
    assert_ne!(br_etag, gz_etag);

    // The page is precompressed too.
    let html = get_with(&app, "/", &[("accept-encoding", "br")]).await;
    assert_eq!(header(&html, "content-encoding"), "br");
}

#[tokio::test]
async fn the_store_front_shadows_no_api_path_and_a_missing_asset_is_a_problem() {
    let app = TestApp::spawn().await;
    let missing = get_with(&app, "/assets/0123456789ab/nothing-here.js", &[]).await;
    let problem = assert_problem(missing, 404).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("nothing-here.js"));

    // The API, probes, metrics and docs answer as before; unknown API paths stay problems.
    assert_problem(get_with(&app, "/api/v1/no-such-thing", &[]).await, 404).await;
    assert_problem(get_with(&app, "/api/v1/albums/999999", &[]).await, 404).await;
    assert_problem(get_with(&app, "/nowhere", &[]).await, 404).await;
    let (status, track) = app.get_json("/api/v1/tracks/1").await;
    assert_eq!((status, track["id"].as_i64()), (200, Some(1)));
    assert_eq!(app.get("/health/ready").await.unwrap().status(), 200);
    let metrics = app.get("/metrics").await.unwrap();
    assert!(header(&metrics, "content-type").starts_with("text/plain"));
    let docs = app.get("/docs").await.unwrap().text().await.unwrap();
    assert!(docs.contains("rapi-doc"));

    // Writing to a page path is refused with the methods it has.
    let post = app.post_json("/cart", &serde_json::json!({})).await;
    assert_eq!(post.status(), 405);
    assert_eq!(header(&post, "allow"), "GET, HEAD");
}

#[tokio::test]
async fn the_page_runs_only_its_own_scripts() {
    let app = TestApp::spawn().await;
    for path in ["/", "/cart"] {
        let response = get_with(&app, path, &[]).await;
        assert_eq!(response.status(), 200);
        let policy = header(&response, "content-security-policy");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy:?}");
        assert!(policy.contains("object-src 'none'"), "{policy:?}");
        assert!(!policy.contains("unsafe-eval"), "{policy:?}");
        assert!(!policy
            .split(';')
            .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")));
        // Every script the page loads is its own.
        let page = response.text().await.unwrap();
        assert!(!page.contains("<script>"), "an inline script would not run");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_docs_script_is_precompressed_once_with_an_etag() {
    let app = TestApp::spawn().await;
    let plain = get_with(
        &app,
        "/docs/rapidoc-min.js",
        &[("Accept-Encoding", "identity")],
    )
    .await;
    assert_eq!(plain.status(), 200);
    let etag = header(&plain, "etag");
    assert!(etag.starts_with('"'), "{etag:?}");
    let original = plain.bytes().await.unwrap();
    let brotli = get_with(&app, "/docs/rapidoc-min.js", &[("Accept-Encoding", "br")]).await;
    assert_eq!(header(&brotli, "content-encoding"), "br");
    let brotli_tag = header(&brotli, "etag");
    assert_ne!(brotli_tag, etag, "each encoding has its own tag");
    let packed = brotli.bytes().await.unwrap();
    assert!(
        packed.len() * 3 < original.len(),
        "{} of {}",
        packed.len(),
        original.len()
    );
    let mut unpacked = Vec::new();
    brotli::Decompressor::new(&packed[..], 4096)
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, original);
    let again = get_with(
        &app,
        "/docs/rapidoc-min.js",
        &[("Accept-Encoding", "br"), ("If-None-Match", &brotli_tag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    app.stop().await.unwrap();
}
