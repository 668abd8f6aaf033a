//! Bad input never hurts: every nasty request gets a 4xx problem that says what was wrong.

use serde_json::json;

use crate::helpers::{assert_problem, TestApp};

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the request is answered")
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let huge = format!(
        r#"{{"email": "a@example.com", "password": "{}"}}"#,
        "x".repeat(100_000)
    );
    let response = post_raw(&app, "/api/v1/auth/login", "application/json", huge.clone()).await;
    let problem = assert_problem(response, 413).await;
    assert!(problem["detail"].as_str().unwrap().contains("65536 bytes"));

    // Without a Content-Length the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = huge
        .into_bytes()
        .chunks(8192)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    let response = post_raw(
        &app,
        "/api/v1/auth/login",
        "application/json",
        reqwest::Body::wrap_stream(stream),
    )
    .await;
    assert_problem(response, 413).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::spawn().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let response = post_raw(
            &app,
            "/api/v1/auth/login",
            content_type,
            "email=a&password=b",
        )
        .await;
        let problem = assert_problem(response, 415).await;
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"));
    }
}

#[tokio::test]
async fn malformed_json_is_400_saying_where() {
    let app = TestApp::spawn().await;
    let truncated = r#"{"email": "a@example.com", "password": "#;
    let response = post_raw(&app, "/api/v1/auth/login", "application/json", truncated).await;
    let problem = assert_problem(response, 400).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("line 1 column"),
        "{problem}"
    );
    for body in ["not json at all", "", "{\"email\": \"\u{1}\"}"] {
        let response = post_raw(
            &app,
            "/api/v1/auth/login",
            "application/json",
            body.to_string(),
        )
        .await;
        let problem = assert_problem(response, 400).await;
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    let invalid_utf8 = vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'];
    let response = post_raw(&app, "/api/v1/auth/login", "application/json", invalid_utf8).await;
    assert_problem(response, 400).await;
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_a_crash() {
    let app = TestApp::spawn().await;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let response = post_raw(&app, "/api/v1/auth/login", "application/json", nested).await;
    assert_problem(response, 400).await;
    // Still serving.
    assert_eq!(app.get("/health/live").await.unwrap().status(), 200);
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!("just a string"), "expected struct"),
        (json!({"email": "a@example.com"}), "password"),
        (json!({"email": ["a"], "password": "x"}), "email"),
        (
            json!({"email": "a@example.com", "password": null}),
            "password",
        ),
    ] {
        let response = app.post_json("/api/v1/auth/login", &body).await;
        let problem = assert_problem(response, 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{field}: {problem}"
        );
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem() {
    let app = TestApp::spawn().await;
    for path in [
        "/nope",
        "/api/v1/does-not-exist",
        "/api/v1/me/../../etc/passwd",
        "/%00",
        "/api/v1/%ff",
    ] {
        let response = app.get(path).await.unwrap();
        assert_problem(response, 404).await;
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .delete(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    assert_problem(response, 405).await;
    let response = app
        .client
        .get(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_problem(response, 405).await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let given = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-123");

    let generated = app.get("/health/live").await.unwrap();
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let again = app.get("/health/live").await.unwrap().headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        id.len() >= 20 && again != id,
        "a new id each time: {id}, {again}"
    );

    // An id that could forge log lines is replaced, not echoed.
    let hostile = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "x\" injected=\"1 ".repeat(20))
        .send()
        .await
        .unwrap();
    let replaced = hostile.headers()["x-request-id"].to_str().unwrap();
    assert!(!replaced.contains(['"', ' ', '=']), "{replaced}");
    assert_ne!(replaced, id);
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/nope", "/api/v1/me"] {
        let response = app.get(path).await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(headers.contains_key("permissions-policy"), "{path}");
    }
}

#[tokio::test]
async fn a_detail_refuses_query_parameters_it_does_not_take() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/tracks/1?sort=name",
        "/api/v1/albums/1?colour=red",
        "/api/v1/artists/1?fields=name",
    ] {
        let problem = assert_problem(app.get(path).await.unwrap(), 400).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("unknown field"), "{path}: {detail}");
    }
    let (status, track) = app.get_json("/api/v1/tracks/1").await;
    assert_eq!(status, 200);
    assert_eq!(track["id"], 1);
}
