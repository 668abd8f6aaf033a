//! Signing in: the account password (plain and `enc:`), API keys made and revoked through
//! REST, token auth with an app password only, conflicting and missing credentials, the
//! login rate limit, and `getOpenSubsonicExtensions` without credentials.

use chinook::config::{Rate, RateLimits};
use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::{call, code, ok, password, spawn, OWNER};
use crate::helpers::{TestApp, DEMO_PASSWORD};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn token(secret: &str, salt: &str) -> String {
    let mut hasher = Md5::new();
    hasher.update(secret.as_bytes());
    hasher.update(salt.as_bytes());
    format!("{:x}", hasher.finalize())
}

/// `GET /api/v1/me/subsonic/app-password`: its status and body.
async fn app_password_status(app: &TestApp, bearer: &str) -> (u16, Value) {
    let path = "/api/v1/me/subsonic/app-password";
    let got = rest(app, reqwest::Method::GET, path, bearer, None).await;
    let status = got.status().as_u16();
    (status, got.json().await.unwrap())
}

async fn rest(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_account_password_works_plain_and_hex_encoded() {
    let app = spawn().await;
    let user = ok(&app, "getUser", &password(OWNER), &[]).await;
    assert_eq!(user["user"]["username"], OWNER);
    assert_eq!(user["user"]["adminRole"], false);
    let enc = format!("enc:{}", hex(DEMO_PASSWORD));
    ok(&app, "ping", &pairs(&[("u", OWNER), ("p", &enc)]), &[]).await;
    // The username is the email, in any case.
    ok(
        &app,
        "ping",
        &pairs(&[("u", &OWNER.to_uppercase()), ("p", DEMO_PASSWORD)]),
        &[],
    )
    .await;

    assert_eq!(
        code(
            &call(
                &app,
                "ping",
                &pairs(&[("u", OWNER), ("p", "wrong password")]),
                &[]
            )
            .await
        ),
        40
    );
    assert_eq!(
        code(
            &call(
                &app,
                "ping",
                &pairs(&[("u", "nobody@example.com"), ("p", DEMO_PASSWORD)]),
                &[]
            )
            .await
        ),
        40
    );
    assert_eq!(
        code(&call(&app, "ping", &pairs(&[("u", OWNER), ("p", "enc:4")]), &[]).await),
        40
    );
    assert_eq!(code(&call(&app, "ping", &[], &[]).await), 10);
    assert_eq!(
        code(&call(&app, "ping", &pairs(&[("u", OWNER)]), &[]).await),
        10
    );
    // Another account is not the caller's to read.
    assert_eq!(
        code(
            &call(
                &app,
                "getUser",
                &password(OWNER),
                &[("username", "jane@chinookcorp.com")]
            )
            .await
        ),
        50
    );
}

#[tokio::test]
async fn api_keys_are_shown_once_and_revocable() {
    let app = spawn().await;
    let bearer = app.login(OWNER, DEMO_PASSWORD).await;
    let made = rest(
        &app,
        reqwest::Method::POST,
        "/api/v1/me/subsonic/api-keys",
        &bearer,
        Some(json!({"name": "Symfonium"})),
    )
    .await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let key = made["key"].as_str().unwrap().to_string();
    let key_auth = pairs(&[("apiKey", &key)]);
    let user = ok(&app, "getUser", &key_auth, &[]).await;
    assert_eq!(user["user"]["username"], OWNER);

    let listed: Value = rest(
        &app,
        reqwest::Method::GET,
        "/api/v1/me/subsonic/api-keys",
        &bearer,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(listed[0]["name"], "Symfonium");
    assert!(
        listed[0].get("key").is_none(),
        "a listed key shows no secret: {listed}"
    );
    let stored: String = sqlx::query_scalar("SELECT key_hash FROM subsonic_api_key")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_ne!(stored, key);

    // apiKey with u is two mechanisms at once.
    assert_eq!(
        code(&call(&app, "ping", &pairs(&[("apiKey", &key), ("u", OWNER)]), &[]).await),
        43
    );
    assert_eq!(
        code(&call(&app, "ping", &pairs(&[("apiKey", "chs_made_up")]), &[]).await),
        44
    );

    let id = made["id"].as_i64().unwrap();
    let revoked = rest(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/me/subsonic/api-keys/{id}"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(code(&call(&app, "ping", &key_auth, &[]).await), 44);
    let again = rest(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/me/subsonic/api-keys/{id}"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(again.status(), 404);
    let nameless = rest(
        &app,
        reqwest::Method::POST,
        "/api/v1/me/subsonic/api-keys",
        &bearer,
        Some(json!({"name": " "})),
    )
    .await;
    assert_eq!(nameless.status(), 422);
}

#[tokio::test]
async fn an_api_key_name_follows_the_name_rules() {
    let app = spawn().await;
    let bearer = app.login(OWNER, DEMO_PASSWORD).await;
    for (name, says) in [
        ("", "required"),
        ("\u{200B}", "name"),
        ("evil\u{202E}gpj", "name"),
        ("a\u{0007}b", "control"),
    ] {
        let refused = rest(
            &app,
            reqwest::Method::POST,
            "/api/v1/me/subsonic/api-keys",
            &bearer,
            Some(json!({ "name": name })),
        )
        .await;
        let problem = crate::helpers::assert_problem(refused, 422).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{name:?}: {problem}"
        );
    }
}

#[tokio::test]
async fn token_auth_needs_an_app_password_and_never_takes_the_account_password() {
    let app = spawn().await;
    let salt = "c19b2d";
    let with_account_password = pairs(&[
        ("u", OWNER),
        ("t", &token(DEMO_PASSWORD, salt)),
        ("s", salt),
    ]);
    assert_eq!(
        code(&call(&app, "ping", &with_account_password, &[]).await),
        41
    );

    let bearer = app.login(OWNER, DEMO_PASSWORD).await;
    let made = rest(
        &app,
        reqwest::Method::POST,
        "/api/v1/me/subsonic/app-password",
        &bearer,
        None,
    )
    .await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let secret = made["password"].as_str().unwrap().to_string();
    // GET says there is one and since when, never what it is.
    let (got, body) = app_password_status(&app, &bearer).await;
    assert_eq!(got, 200);
    assert_eq!(
        body,
        serde_json::json!({ "created_at": made["created_at"] })
    );
    let (nonce, ciphertext): (String, String) =
        sqlx::query_as("SELECT nonce, ciphertext FROM subsonic_app_password")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert!(
        !ciphertext.contains(&secret) && !nonce.is_empty(),
        "stored encrypted"
    );

    let with_app_password = pairs(&[("u", OWNER), ("t", &token(&secret, salt)), ("s", salt)]);
    assert_eq!(
        ok(&app, "getUser", &with_app_password, &[]).await["user"]["username"],
        OWNER
    );
    // The account password still does not work for tokens, and a wrong salt is wrong.
    assert_eq!(
        code(&call(&app, "ping", &with_account_password, &[]).await),
        40
    );
    let wrong_salt = pairs(&[("u", OWNER), ("t", &token(&secret, salt)), ("s", "other")]);
    assert_eq!(code(&call(&app, "ping", &wrong_salt, &[]).await), 40);
    // The app password works as p too.
    ok(&app, "ping", &pairs(&[("u", OWNER), ("p", &secret)]), &[]).await;
    assert_eq!(
        code(
            &call(
                &app,
                "ping",
                &pairs(&[("u", OWNER), ("p", &secret), ("t", "x"), ("s", "y")]),
                &[]
            )
            .await
        ),
        43
    );
    assert_eq!(
        code(&call(&app, "ping", &pairs(&[("u", OWNER), ("t", "x")]), &[]).await),
        10
    );

    let deleted = rest(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/me/subsonic/app-password",
        &bearer,
        None,
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(code(&call(&app, "ping", &with_app_password, &[]).await), 41);
    let (got, body) = app_password_status(&app, &bearer).await;
    assert_eq!(got, 404, "{body}");
}

#[tokio::test]
async fn without_a_configured_key_there_are_no_app_passwords() {
    let app = TestApp::spawn().await;
    let bearer = app.login(OWNER, DEMO_PASSWORD).await;
    let refused = rest(
        &app,
        reqwest::Method::POST,
        "/api/v1/me/subsonic/app-password",
        &bearer,
        None,
    )
    .await;
    assert_eq!(refused.status(), 409);
    let salt = "abc";
    assert_eq!(
        code(
            &call(
                &app,
                "ping",
                &pairs(&[
                    ("u", OWNER),
                    ("t", &token(DEMO_PASSWORD, salt)),
                    ("s", salt)
                ]),
                &[]
            )
            .await
        ),
        41
    );
}

/// An app with these login and Subsonic limits, every other limit generous.
async fn limited(login: &str, subsonic: &str) -> TestApp {
    let (login, subsonic) = (Rate::parse(login).unwrap(), Rate::parse(subsonic).unwrap());
    TestApp::spawn_with(move |config| {
        super::configure(config);
        let generous = Rate::parse("100000/min").unwrap();
        config.rate_limits = Some(RateLimits {
            anonymous: generous,
            account: generous,
            login,
            writes: generous,
            subsonic,
        });
    })
    .await
}

#[tokio::test]
async fn an_accounts_requests_meet_the_subsonic_limit_in_the_requested_format() {
    let app = limited("100000/min", "60/min burst 3").await;
    for _ in 0..3 {
        ok(&app, "ping", &password(OWNER), &[]).await;
    }
    let refused = app
        .client
        .get(app.url("/rest/ping.view"))
        .query(&[
            ("u", OWNER),
            ("p", DEMO_PASSWORD),
            ("v", "1.16.1"),
            ("c", "t"),
        ])
        .send()
        .await
        .unwrap();
    // HTTP 200 with a Subsonic error in XML (the default format), and when to retry.
    assert_eq!(refused.status(), 200);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let xml = refused.text().await.unwrap();
    assert!(
        xml.contains(r#"status="failed""#) && xml.contains(r#"code="0""#),
        "{xml}"
    );
    assert!(xml.contains("too many requests from this account"), "{xml}");
    let json = call(&app, "getUser", &password(OWNER), &[]).await;
    assert_eq!(code(&json), 0);
    // The allowance is the account's: another account still gets answers.
    ok(&app, "ping", &password(super::OTHER), &[]).await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with(r#"rate_limited_total{class="subsonic"}"#) && !l.ends_with(" 0")),
        "{metrics}"
    );
}

#[tokio::test]
async fn wrong_passwords_meet_the_login_limit_and_a_verified_one_is_not_charged_again() {
    let app = limited("3/min burst 3", "100000/min").await;
    // One verification draws one allowance; afterwards the same password is remembered.
    ok(&app, "ping", &password(OWNER), &[]).await;
    for _ in 0..5 {
        ok(&app, "ping", &password(OWNER), &[]).await;
    }
    let wrong = pairs(&[("u", OWNER), ("p", "not the password")]);
    assert_eq!(code(&call(&app, "ping", &wrong, &[]).await), 40);
    assert_eq!(code(&call(&app, "ping", &wrong, &[]).await), 40);
    let limited = call(&app, "ping", &wrong, &[]).await;
    assert_eq!(code(&limited), 0);
    assert!(
        limited["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many"),
        "{limited}"
    );
    // The right password, already verified, still answers.
    ok(&app, "ping", &password(OWNER), &[]).await;
}

#[tokio::test]
async fn extensions_are_listed_without_credentials() {
    let app = spawn().await;
    let answer = ok(&app, "getOpenSubsonicExtensions", &[], &[]).await;
    let names: Vec<&str> = answer["openSubsonicExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apiKeyAuthentication", "formPost"]);
    assert_eq!(answer["openSubsonicExtensions"][0]["versions"], json!([1]));
}
