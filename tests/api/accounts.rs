use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

fn registration(email: &str) -> Value {
    json!({
        "email": email,
        "password": "correct horse battery",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "country": "United Kingdom"
    })
}

#[tokio::test]
async fn a_seeded_customer_logs_in_with_the_demo_password_and_sees_themselves() {
    let app = TestApp::spawn().await;
    let token = app.login("luisg@embraer.com.br", DEMO_PASSWORD).await;
    let response = app.get_authed("/api/v1/me", &token).await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["role"], "customer");
    assert_eq!(me["customer_id"], 1);
    assert_eq!(me["first_name"], "Luís");
    assert_eq!(me["support_rep_id"], 3);
}

#[tokio::test]
async fn employees_get_roles_from_their_titles() {
    let app = TestApp::spawn().await;
    for (email, role, title) in [
        ("andrew@chinookcorp.com", "admin", "General Manager"),
        ("nancy@chinookcorp.com", "staff", "Sales Manager"),
        ("jane@chinookcorp.com", "staff", "Sales Support Agent"),
        ("michael@chinookcorp.com", "admin", "IT Manager"),
        ("robert@chinookcorp.com", "admin", "IT Staff"),
    ] {
        let token = app.login(email, DEMO_PASSWORD).await;
        let me: Value = app
            .get_authed("/api/v1/me", &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], role, "{email}");
        assert_eq!(me["title"], title, "{email}");
        assert!(me["employee_id"].is_i64());
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    let wrong_password = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "luisg@embraer.com.br", "password": "not-the-password"}),
        )
        .await;
    let unknown_email = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": "not-the-password"}),
        )
        .await;
    let a = assert_problem(wrong_password, 401).await;
    let b = assert_problem(unknown_email, 401).await;
    assert_eq!(a, b, "the two failures must be indistinguishable");
}

#[tokio::test]
async fn hostile_login_input_gets_the_same_401() {
    let app = TestApp::spawn().await;
    let reference = assert_problem(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": "x"}),
        )
        .await,
        401,
    )
    .await;
    let long = "x".repeat(10_000);
    for (email, password) in [
        ("luisg@embraer.com.br\u{0}", DEMO_PASSWORD),
        ("lu\u{0}isg@embraer.com.br", DEMO_PASSWORD),
        ("luisg@embraer.com.br", "chinook-demo\u{0}"),
        ("' OR 1=1 --", "' OR 1=1 --"),
        ("", ""),
        ("luisg@embraer.com.br", long.as_str()),
    ] {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(assert_problem(response, 401).await, reference, "{email:?}");
    }
}

#[tokio::test]
async fn login_ignores_email_case_and_surrounding_spaces() {
    let app = TestApp::spawn().await;
    app.login("  LuisG@Embraer.com.BR ", DEMO_PASSWORD).await;
}

#[tokio::test]
async fn registration_creates_a_customer_who_is_signed_in() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json("/api/v1/auth/register", &registration("ada@example.com"))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["account"]["email"], "ada@example.com");
    assert_eq!(body["account"]["role"], "customer");
    // Ids continue after the imported customers on both backends.
    assert_eq!(body["account"]["customer_id"], 60);
    assert!(
        body["account"]["support_rep_id"].is_i64(),
        "a support agent is assigned"
    );
    let token = body["session"]["token"].as_str().unwrap();
    let me: Value = app
        .get_authed("/api/v1/me", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["last_name"], "Lovelace");
    // The password works for a fresh login too.
    app.login("ada@example.com", "correct horse battery").await;
}

#[tokio::test]
async fn registering_a_taken_email_is_a_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    let first = app
        .post_json("/api/v1/auth/register", &registration("ada@example.com"))
        .await;
    assert_eq!(first.status(), 201);
    for email in ["ada@example.com", "ADA@Example.com", "luisg@embraer.com.br"] {
        let again = app
            .post_json("/api/v1/auth/register", &registration(email))
            .await;
        let problem = assert_problem(again, 409).await;
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("already exists"));
    }
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_account() {
    let app = TestApp::spawn().await;
    let body = registration("race@example.com");
    let attempts = (0..8).map(|_| app.post_json("/api/v1/auth/register", &body));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn concurrent_registrations_of_different_emails_all_succeed() {
    let app = TestApp::spawn().await;
    let app = &app;
    let attempts = (0..12).map(|i| async move {
        let body = registration(&format!("crowd{i}@example.com"));
        app.post_json("/api/v1/auth/register", &body)
            .await
            .status()
            .as_u16()
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

#[tokio::test]
async fn invalid_emails_are_422_naming_the_problem() {
    let app = TestApp::spawn().await;
    let long = format!("{}@example.com", "a".repeat(300));
    for email in [
        "",
        "plain",
        "@example.com",
        "ada@",
        "ada@localhost",
        "a b@example.com",
        "ada@@example.com",
        long.as_str(),
        "ada@exa\u{0}mple.com",
    ] {
        let response = app
            .post_json("/api/v1/auth/register", &registration(email))
            .await;
        let problem = assert_problem(response, 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("email"),
            "{email:?}: {problem}"
        );
    }
}

#[tokio::test]
async fn invalid_passwords_are_422_naming_the_rule() {
    let app = TestApp::spawn().await;
    for (password, rule) in [
        ("short", "at least 8"),
        ("x".repeat(129).as_str(), "at most 128"),
        ("tab\tinside-it", "control"),
        ("          ", "spaces"),
    ] {
        let mut body = registration("ada@example.com");
        body["password"] = json!(password);
        let response = app.post_json("/api/v1/auth/register", &body).await;
        let problem = assert_problem(response, 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(rule),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn registration_fields_are_checked() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"email": "a@example.com", "password": "long enough"}),
            "first_name",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "first_name": " ", "last_name": "B"}),
            "first_name",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "first_name": "A", "last_name": "B", "city": "x".repeat(500)}),
            "city",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "first_name": "A", "last_name": "B", "is_admin": true}),
            "is_admin",
        ),
        (
            json!({"email": 42, "password": "long enough", "first_name": "A", "last_name": "B"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let response = app.post_json("/api/v1/auth/register", &body).await;
        let problem = assert_problem(response, 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{field}: {problem}"
        );
    }
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = TestApp::spawn().await;
    let token = app.login("luisg@embraer.com.br", DEMO_PASSWORD).await;
    let other = app.login("luisg@embraer.com.br", DEMO_PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_problem(app.get_authed("/api/v1/me", &token).await, 401).await;
    // Only that session ends.
    assert_eq!(app.get_authed("/api/v1/me", &other).await.status(), 200);
}

#[tokio::test]
async fn me_needs_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    let anonymous = app.get("/api/v1/me").await.unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_problem(anonymous, 401).await;
    for header in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer chk_forged",
        "Bearer chk_\u{e9}",
    ] {
        let response = app
            .client
            .get(app.url("/api/v1/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_problem(response, 401).await;
    }
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.login("luisg@embraer.com.br", DEMO_PASSWORD).await;
    sqlx::query("UPDATE access_token SET expires_at = $1")
        .bind("2001-01-01T00:00:00Z")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let problem = assert_problem(app.get_authed("/api/v1/me", &token).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let token = app.login("luisg@embraer.com.br", DEMO_PASSWORD).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM access_token")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert_eq!(stored[0], chinook::store::accounts::token_hash(&token));
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM account")
        .fetch_all(app.state.db.reader())
        .await
        .unwrap();
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$")));
}
