//! The order of checks: who is calling (401), then whether they may (403), and only then the
//! path, query and body (400, 413, 415, 422). A customer probing the admin API with `{}` must
//! learn nothing of its shapes. With and without the rate limiter, which resolves tokens too.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, DEMO_PASSWORD};
use crate::purchases::new_customer;

/// Requests whose path, query or body is wrong in some way, to endpoints for one role.
fn probes() -> Vec<(Method, &'static str, Option<Value>)> {
    let empty = Some(json!({}));
    let wrong = Some(json!({"name": 5, "unknown": true}));
    vec![
        (Method::POST, "/api/v1/admin/artists", empty.clone()),
        (Method::POST, "/api/v1/admin/albums", empty.clone()),
        (Method::POST, "/api/v1/admin/tracks", wrong.clone()),
        (Method::PATCH, "/api/v1/admin/artists/1", wrong.clone()),
        (
            Method::PATCH,
            "/api/v1/admin/albums/not-a-number",
            empty.clone(),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/tracks/1",
            Some(json!({"milliseconds": "x"})),
        ),
        (Method::DELETE, "/api/v1/admin/artists/0", None),
        (
            Method::POST,
            "/api/v1/admin/taxonomies/genre",
            empty.clone(),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/taxonomies/genre/rock",
            wrong.clone(),
        ),
        (
            Method::POST,
            "/api/v1/admin/taxonomies/genre/rock/attach",
            empty.clone(),
        ),
        (
            Method::POST,
            "/api/v1/admin/taxonomies/nope/rock/detach",
            wrong,
        ),
        (Method::PUT, "/api/v1/admin/tracks/1/audio", empty.clone()),
        (Method::PUT, "/api/v1/admin/albums/1/cover", empty),
        (Method::GET, "/api/v1/admin/export?format=nonsense", None),
        (Method::GET, "/api/v1/staff/customers?limit=100000", None),
        (Method::GET, "/api/v1/staff/customers/x", None),
        (
            Method::GET,
            "/api/v1/staff/customers/1/invoices?cursor=@@",
            None,
        ),
        (
            Method::GET,
            "/api/v1/staff/reports/sales?group_by=nonsense",
            None,
        ),
    ]
}

async fn status(
    app: &TestApp,
    method: &Method,
    path: &str,
    body: &Option<Value>,
    token: Option<&str>,
) -> (u16, String) {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn staff_token(app: &TestApp) -> String {
    let email: String = sqlx::query_scalar(
        "SELECT email FROM account WHERE role = 'staff' ORDER BY account_id LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    app.login(&email, DEMO_PASSWORD).await
}

async fn check(app: TestApp) {
    let customer = new_customer(&app, "prober@example.com").await;
    let staff = staff_token(&app).await;
    let mut wrong = Vec::new();
    for (method, path, body) in probes() {
        let admin_only = path.starts_with("/api/v1/admin/");
        let mut callers = vec![
            ("anonymous", None, 401),
            ("a stranger's token", Some("chk_made-up"), 401),
            ("a customer", Some(customer.as_str()), 403),
        ];
        if admin_only {
            callers.push(("staff", Some(staff.as_str()), 403));
        }
        for (who, token, expected) in callers {
            let (got, text) = status(&app, &method, path, &body, token).await;
            if got != expected {
                wrong.push(format!(
                    "{who}: {method} {path} → {got}, expected {expected}: {text}"
                ));
            }
        }
    }
    // An anonymous request for a signed stream URL is a 401 whatever its path says.
    let (got, text) = status(
        &app,
        &Method::POST,
        "/api/v1/tracks/abc/stream-url",
        &None,
        None,
    )
    .await;
    if got != 401 {
        wrong.push(format!(
            "anonymous: POST /api/v1/tracks/abc/stream-url → {got}: {text}"
        ));
    }
    assert!(
        wrong.is_empty(),
        "{} checks out of order:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn identity_then_role_then_input_with_the_rate_limiter() {
    check(TestApp::spawn().await).await;
}

#[tokio::test]
async fn identity_then_role_then_input_without_the_rate_limiter() {
    check(TestApp::spawn_with(|config| config.rate_limits = None).await).await;
}
