//! Identities and names: look-alike email addresses are one account or none, and names other
//! people see carry no bidirectional overrides and are never only invisible characters.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::purchases::new_customer;

fn sign_up(email: &str, first_name: &str) -> Value {
    json!({
        "email": email, "password": "correct horse battery",
        "first_name": first_name, "last_name": "Lovelace",
    })
}

#[tokio::test]
async fn look_alike_and_non_plain_addresses_are_refused() {
    let app = TestApp::spawn().await;
    new_customer(&app, "ada@example.com").await;
    new_customer(&app, "sam@example.com").await;
    let cases = [
        // The same mailbox, written differently: the existing account's.
        ("ＡＤＡ@ｅｘａｍｐｌｅ.ｃｏｍ", 409, "already exists"),
        ("ADA@Example.com", 409, "already exists"),
        ("ſam@example.com", 409, "already exists"),
        // Not plain mailbox syntax, or a look-alike of one.
        ("ada\u{200B}@example.com", 422, "invisible"),
        ("ada@ex\u{0430}mple.com", 422, "mixes scripts"),
        (
            "ada@\u{0430}\u{0440}\u{0440}\u{04CF}\u{0435}.com",
            422,
            "looks like",
        ),
        ("\"ada\"@example.com", 422, "quoted"),
        ("ada@[127.0.0.1]", 422, "IP-address"),
    ];
    let mut wrong = Vec::new();
    for (email, status, says) in cases {
        let response = app
            .post_json("/api/v1/auth/register", &sign_up(email, "Ada"))
            .await;
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let detail = body["detail"].as_str().unwrap_or_default();
        if got != status || !detail.contains(says) {
            wrong.push(format!(
                "{email:?} → {got} {detail:?}, expected {status} saying {says:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The canonical form signs in however it is written.
    let login = json!({"email": "ＡＤＡ@example.com", "password": "correct horse battery"});
    assert_eq!(
        app.post_json("/api/v1/auth/login", &login).await.status(),
        200
    );
    // A real internationalized domain is welcome, stored in its ASCII form.
    let response = app
        .post_json("/api/v1/auth/register", &sign_up("ada@bücher.de", "Ada"))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["account"]["email"], "ada@xn--bcher-kva.de", "{body}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_address_that_looks_like_a_registered_one_is_refused() {
    let app = TestApp::spawn().await;
    new_customer(&app, "mary@example.com").await;
    new_customer(&app, "bill@example.com").await;
    let mut wrong = Vec::new();
    for (email, status, says) in [
        (
            "rnary@example.com",
            409,
            "looks like the address of an existing account",
        ),
        ("mary@exarnple.com", 409, "looks like"),
        ("bi11@example.com", 409, "looks like"),
        ("biil@example.com", 201, ""),
        ("MARY@example.com", 409, "already exists"),
        // A seeded customer's address (Luís, at embraer.com.br) is protected the same way.
        ("luisg@ernbraer.com.br", 409, "looks like"),
        ("iuisg@embraer.com.br", 201, ""),
    ] {
        let response = app
            .post_json("/api/v1/auth/register", &sign_up(email, "Mary"))
            .await;
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let detail = body["detail"].as_str().unwrap_or_default();
        if got != status || !detail.contains(says) {
            wrong.push(format!(
                "{email:?} → {got} {detail:?}, expected {status} saying {says:?}"
            ));
        }
        if status == 409 {
            assert_eq!(body["type"], "/problems/conflict", "{body}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let db = app.state.db.writer();
    let bare: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account WHERE email_skeleton IS NULL")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(
        bare, 0,
        "every seeded and registered account has its skeleton"
    );

    // Accounts stored before the column existed get theirs when the service starts.
    sqlx::query("UPDATE account SET email_skeleton = NULL WHERE email = 'mary@example.com'")
        .execute(db)
        .await
        .unwrap();
    chinook::store::accounts::backfill_email_skeletons(&app.state.db)
        .await
        .unwrap();
    let filled: Option<String> =
        sqlx::query_scalar("SELECT email_skeleton FROM account WHERE email = 'mary@example.com'")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(filled.as_deref(), Some("rnary@exarnple.corn"));
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &sign_up("rnary@example.com", "Mary"),
        )
        .await;
    assert_problem(response, 409).await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn names_refuse_bidirectional_overrides_and_invisible_only_text() {
    let app = TestApp::spawn().await;
    for (name, says) in [
        ("\u{202E}ecalevol", "bidirectional"),
        ("Ada\u{2066}", "bidirectional"),
        ("\u{200B}", "visible"),
        ("\u{200B}\u{2060}\u{3164}", "visible"),
    ] {
        let response = app
            .post_json(
                "/api/v1/auth/register",
                &sign_up("someone@example.com", name),
            )
            .await;
        let problem = assert_problem(response, 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{name:?}: {problem}"
        );
    }
    let token = new_customer(&app, "lister@example.com").await;
    let create = |name: &str| {
        app.client
            .post(app.url("/api/v1/me/playlists"))
            .bearer_auth(&token)
            .json(&json!({"name": name, "visibility": "public"}))
            .send()
    };
    for (name, says) in [
        ("gpj.\u{202E}xe", "bidirectional"),
        ("\u{200B}\u{200B}", "visible"),
    ] {
        let problem = assert_problem(create(name).await.unwrap(), 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{name:?}: {problem}"
        );
    }
    assert_eq!(
        create("Motörhead \u{05E9}\u{200F} mix")
            .await
            .unwrap()
            .status(),
        201
    );
    app.stop().await.unwrap();
}
