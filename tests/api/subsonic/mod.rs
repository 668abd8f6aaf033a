//! The OpenSubsonic API against the real app on the real dataset: the wire format and its
//! errors, each way of signing in, browsing and lists equal to SQL, and the store's rules
//! (owners stream in full, others hear previews; private playlists stay private).

mod auth;
mod browse;
mod marks;
mod playlists;
mod renditions;
mod store;
mod wire;

use chinook::config::{Config, Secret};
use serde_json::Value;

use crate::helpers::{TestApp, DEMO_PASSWORD};

/// Owns track 1 (on an imported invoice).
pub const OWNER: &str = "lucas.mancini@yahoo.it";
/// Owns track 2, not track 1.
pub const OTHER: &str = "leonekohler@surfeu.de";
pub const APP_PASSWORD_KEY: &str =
    "5f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

pub fn configure(config: &mut Config) {
    config.app_password_key = Some(Secret::new(APP_PASSWORD_KEY));
    config.max_streams_per_account = 100;
}

pub async fn spawn() -> TestApp {
    TestApp::spawn_with(configure).await
}

/// `u` and `p` for a demo account.
pub fn password(email: &str) -> Vec<(String, String)> {
    vec![
        ("u".into(), email.into()),
        ("p".into(), DEMO_PASSWORD.into()),
    ]
}

/// Sends `method` with `auth` and `extra` by GET, as JSON; the HTTP status and the
/// `subsonic-response` object.
pub async fn call_status(
    app: &TestApp,
    method: &str,
    auth: &[(String, String)],
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut query: Vec<(String, String)> =
        vec![("c".into(), "tests".into()), ("f".into(), "json".into())];
    if !extra.iter().any(|(k, _)| *k == "v") {
        query.push(("v".into(), "1.16.1".into()));
    }
    query.extend(auth.iter().cloned());
    query.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let response = app
        .client
        .get(app.url(&format!("/rest/{method}")))
        .query(&query)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["subsonic-response"].clone())
}

/// As `call_status`, asserting HTTP 200.
pub async fn call(
    app: &TestApp,
    method: &str,
    auth: &[(String, String)],
    extra: &[(&str, &str)],
) -> Value {
    let (status, body) = call_status(app, method, auth, extra).await;
    assert_eq!(status, 200, "{method}: {body}");
    body
}

/// As `call`, asserting success.
pub async fn ok(
    app: &TestApp,
    method: &str,
    auth: &[(String, String)],
    extra: &[(&str, &str)],
) -> Value {
    let body = call(app, method, auth, extra).await;
    assert_eq!(body["status"], "ok", "{method}: {body}");
    body
}

/// The error code of a failed answer.
pub fn code(body: &Value) -> i64 {
    assert_eq!(body["status"], "failed", "{body}");
    body["error"]["code"].as_i64().unwrap()
}

pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}
