//! The store front's session cookie: HttpOnly and SameSite=Strict, a CSRF proof on every
//! unsafe request it authenticates, logout that clears it and revokes the session (with its
//! signed stream URLs), and bearer clients unchanged.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const LUIS: &str = "luisg@embraer.com.br";

struct CookieSession {
    cookie: String,
    csrf: String,
}

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn named<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

async fn sign_in(app: &TestApp, email: &str) -> CookieSession {
    let response = app
        .client
        .post(app.url("/api/v1/auth/login?session=cookie"))
        .json(&json!({"email": email, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    let body: Value = response.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "the answer names no token: {body}"
    );
    assert_eq!(body["token_type"], "Cookie");
    let session = named(&cookies, "chinook_session");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attribute), "{session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let csrf = named(&cookies, "chinook_csrf");
    assert!(
        !csrf.contains("HttpOnly"),
        "scripts read the CSRF token: {csrf}"
    );
    let token = session.split(';').next().unwrap().to_string();
    let csrf_value = csrf.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(body["csrf_token"], csrf_value);
    assert!(!csrf_value.contains(token.split_once('=').unwrap().1));
    CookieSession {
        cookie: format!("{token}; chinook_csrf={csrf_value}"),
        csrf: csrf_value.to_string(),
    }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    session: &CookieSession,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header(COOKIE, &session.cookie);
    if let Some(csrf) = csrf {
        request = request.header("X-CSRF-Token", csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_cookie_signs_reads_in_and_unsafe_requests_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let session = sign_in(&app, LUIS).await;

    let me = call(&app, Method::GET, "/api/v1/me", &session, None, None).await;
    assert_eq!(me.status(), 200, "a read needs no CSRF proof");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], LUIS);

    let new = || Some(json!({"name": "By cookie"}));
    let path = "/api/v1/me/playlists";
    for csrf in [None, Some("0".repeat(64)), Some(String::new())] {
        let response = call(&app, Method::POST, path, &session, csrf.as_deref(), new()).await;
        let problem = assert_problem(response, 403).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("X-CSRF-Token"),
            "{problem}"
        );
    }
    // Refused before the body is read: even a malformed one is a 403.
    let response = app
        .client
        .post(app.url(path))
        .header(COOKIE, &session.cookie)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let own: Value = call(&app, Method::GET, path, &session, None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["data"].as_array().unwrap().len(), 0, "nothing was made");

    let response = call(
        &app,
        Method::POST,
        path,
        &session,
        Some(&session.csrf),
        new(),
    )
    .await;
    assert_eq!(response.status(), 201);
    let own: Value = call(&app, Method::GET, path, &session, None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["data"][0]["name"], "By cookie");

    // Another session's CSRF token is no proof for this one.
    let other = sign_in(&app, LUIS).await;
    let response = call(&app, Method::POST, path, &session, Some(&other.csrf), new()).await;
    assert_problem(response, 403).await;
}

#[tokio::test]
async fn bearer_clients_are_unchanged_and_need_no_csrf_token() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": LUIS, "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        set_cookies(&response).is_empty(),
        "no cookie without asking"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("csrf_token").is_none(), "{body}");
    let token = body["token"].as_str().unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/me/playlists"))
        .bearer_auth(token)
        .json(&json!({"name": "By token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let response = app
        .post_json(
            "/api/v1/auth/login?session=jar",
            &json!({"email": LUIS, "password": DEMO_PASSWORD}),
        )
        .await;
    assert_problem(response, 400).await;
}

#[tokio::test]
async fn registering_by_cookie_signs_the_new_customer_in() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            "/api/v1/auth/register?session=cookie",
            &json!({
                "email": "ada@example.com",
                "password": "correct horse battery",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "country": "United Kingdom"
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let cookies = set_cookies(&response);
    let body: Value = response.json().await.unwrap();
    assert!(body["session"].get("token").is_none(), "{body}");
    let token = named(&cookies, "chinook_session")
        .split(';')
        .next()
        .unwrap();
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .header(COOKIE, token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn logout_by_cookie_clears_it_and_revokes_the_session_and_its_stream_urls() {
    let app = TestApp::spawn().await;
    let owner: String = sqlx::query_scalar(
        "SELECT a.email FROM account a JOIN invoice i ON i.customer_id = a.customer_id \
         JOIN invoice_line l ON l.invoice_id = i.invoice_id \
         WHERE l.track_id = 1 AND a.role = 'customer' ORDER BY a.email LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let session = sign_in(&app, &owner).await;
    let ask = "/api/v1/tracks/1/stream-url";
    let response = call(&app, Method::POST, ask, &session, None, None).await;
    assert_problem(response, 403).await;
    let response = call(&app, Method::POST, ask, &session, Some(&session.csrf), None).await;
    assert_eq!(response.status(), 201);
    let url = response.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    // `<audio>` sends no header of ours: the signed URL alone plays.
    let played = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(played.status(), 200);
    assert!(!played.bytes().await.unwrap().is_empty());

    let logout = "/api/v1/auth/logout";
    let response = call(&app, Method::POST, logout, &session, None, None).await;
    assert_problem(response, 403).await;
    let response = call(
        &app,
        Method::POST,
        logout,
        &session,
        Some(&session.csrf),
        None,
    )
    .await;
    assert_eq!(response.status(), 204);
    let cleared = set_cookies(&response);
    for name in ["chinook_session", "chinook_csrf"] {
        let cookie = named(&cleared, name);
        assert!(cookie.starts_with(&format!("{name}=;")), "{cookie}");
        assert!(cookie.contains("Max-Age=0"), "{cookie}");
    }
    let me = call(&app, Method::GET, "/api/v1/me", &session, None, None).await;
    assert_problem(me, 401).await;
    let played = app.client.get(app.url(&url)).send().await.unwrap();
    assert_problem(played, 403).await;
}
