//! Purchases: one invoice per order, priced from the catalog to the cent, once per
//! idempotency key however the client retries or races itself; and the invoices and
//! library that show what was bought.

use chinook::config::SeedAudio;
use futures_util::future::join_all;
use reqwest::Response;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

const STAFF: &str = "jane@chinookcorp.com";
/// Luís Gonçalves, customer 1, with imported invoices.
const LUIS: &str = "luisg@embraer.com.br";
/// Album 1 ("For Those About To Rock We Salute You") has tracks 1 and 6 to 14.
const ALBUM_ONE: [i64; 10] = [1, 6, 7, 8, 9, 10, 11, 12, 13, 14];

/// Registers a new customer, who owns nothing yet, and returns their token.
pub async fn new_customer(app: &TestApp, email: &str) -> String {
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": email, "password": "correct horse battery",
                "first_name": "Ada", "last_name": "Lovelace",
                "address": "12 St James's Square", "city": "London",
                "country": "United Kingdom", "postal_code": "SW1Y 4JH",
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["session"]["token"].as_str().unwrap().to_string()
}

pub async fn buy(app: &TestApp, token: &str, key: &str, order: &Value) -> Response {
    app.client
        .post(app.url("/api/v1/purchases"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(order)
        .send()
        .await
        .expect("the purchase is answered")
}

async fn json_of(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "unexpected answer: {body}");
    body
}

async fn invoice_ids(app: &TestApp, token: &str) -> Vec<i64> {
    let page = json_of(
        app.get_authed("/api/v1/me/invoices?limit=100", token).await,
        200,
    )
    .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

fn cents(amount: &Value) -> i64 {
    chinook::money::parse_cents(amount.as_str().expect("an amount is a string")).unwrap()
}

#[tokio::test]
async fn an_order_becomes_one_invoice_priced_from_the_catalog_and_billed_to_the_customer() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    let response = buy(
        &app,
        &token,
        "order-1",
        &json!({"track_ids": [3, 3, 15], "album_ids": [1]}),
    )
    .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(response.headers().get("idempotent-replayed").is_none());
    let invoice = json_of(response, 201).await;

    let mut bought: Vec<i64> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["track_id"].as_i64().unwrap())
        .collect();
    bought.sort();
    let mut expected: Vec<i64> = ALBUM_ONE.iter().copied().chain([3, 15]).collect();
    expected.sort();
    assert_eq!(
        bought, expected,
        "the album's tracks, and each named track once"
    );
    let line_sum: i64 = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| cents(&l["amount"]))
        .sum();
    assert_eq!(cents(&invoice["total"]), line_sum);
    assert_eq!(invoice["total"], "11.88", "twelve tracks at 0.99");
    assert_eq!(invoice["billing"]["city"], "London");
    assert_eq!(invoice["billing"]["postal_code"], "SW1Y 4JH");
    assert_eq!(
        invoice["lines"][0]["track_name"],
        "For Those About To Rock (We Salute You)"
    );

    let id = invoice["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/me/invoices/{id}"));
    let shown = json_of(app.get_authed(&location, &token).await, 200).await;
    assert_eq!(shown, invoice, "the invoice reads back as it was answered");
    assert_eq!(invoice_ids(&app, &token).await, vec![id]);

    let library = json_of(
        app.get_authed("/api/v1/me/library?limit=100", &token).await,
        200,
    )
    .await;
    let owned: Vec<i64> = library["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["track_id"].as_i64().unwrap())
        .collect();
    assert_eq!(owned, expected);
    assert_eq!(library["data"][0]["artist_name"], "AC/DC");
}

#[tokio::test]
async fn a_bought_track_streams_at_once_and_an_unbought_one_does_not() {
    let app = TestApp::spawn().await;
    chinook::media::seed_audio(&app.state.db, &app.state.media, SeedAudio::First(3), 1)
        .await
        .unwrap();
    let token = new_customer(&app, "ada@example.com").await;
    assert_problem(app.get_authed("/api/v1/tracks/2/stream", &token).await, 403).await;
    json_of(
        buy(&app, &token, "k", &json!({"track_ids": [2]})).await,
        201,
    )
    .await;
    let stream = app.get_authed("/api/v1/tracks/2/stream", &token).await;
    assert_eq!(stream.status(), 200);
    let download = app.get_authed("/api/v1/tracks/2/download", &token).await;
    assert_eq!(download.status(), 200);
    assert_problem(app.get_authed("/api/v1/tracks/3/stream", &token).await, 403).await;
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_answer_and_charges_once() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    let first = json_of(
        buy(&app, &token, "retry-me", &json!({"track_ids": [20, 21]})).await,
        201,
    )
    .await;
    // The same order, written another way, is the same body.
    let again = buy(
        &app,
        &token,
        "retry-me",
        &json!({"track_ids": [21, 20, 20], "album_ids": []}),
    )
    .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again, 201).await, first);
    assert_eq!(invoice_ids(&app, &token).await.len(), 1);
}

#[tokio::test]
async fn a_refusal_is_replayed_too_and_the_key_cannot_be_reused_for_another_order() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    let refused = assert_problem(
        buy(&app, &token, "k1", &json!({"track_ids": [999999]})).await,
        404,
    )
    .await;
    let replayed = buy(&app, &token, "k1", &json!({"track_ids": [999999]})).await;
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(assert_problem(replayed, 404).await, refused);

    json_of(
        buy(&app, &token, "k2", &json!({"track_ids": [30]})).await,
        201,
    )
    .await;
    let other = assert_problem(
        buy(&app, &token, "k2", &json!({"track_ids": [31]})).await,
        409,
    )
    .await;
    assert!(other["detail"]
        .as_str()
        .unwrap()
        .contains("different order"));
    assert_eq!(invoice_ids(&app, &token).await.len(), 1);
}

#[tokio::test]
async fn keys_belong_to_their_account() {
    let app = TestApp::spawn().await;
    let ada = new_customer(&app, "ada@example.com").await;
    let bob = new_customer(&app, "bob@example.com").await;
    let a = json_of(
        buy(&app, &ada, "shared-key", &json!({"track_ids": [40]})).await,
        201,
    )
    .await;
    let b = json_of(
        buy(&app, &bob, "shared-key", &json!({"track_ids": [40]})).await,
        201,
    )
    .await;
    assert_ne!(
        a["id"], b["id"],
        "one account's key does not replay another's purchase"
    );
}

#[tokio::test]
async fn fifty_parallel_requests_with_one_key_make_one_invoice() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    let order = json!({"album_ids": [1]});
    let answers = join_all((0..50).map(|_| buy(&app, &token, "one-key", &order))).await;
    let mut ids = Vec::new();
    for answer in answers {
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        match status {
            201 => ids.push(body["id"].as_i64().unwrap()),
            409 => assert!(body["detail"].as_str().is_some()),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every 201 is the same invoice"
    );
    assert_eq!(invoice_ids(&app, &token).await, vec![ids[0]]);
}

#[tokio::test]
async fn parallel_purchases_with_different_keys_never_sell_a_track_twice() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    // Twenty orders over five tracks, overlapping.
    let orders: Vec<Value> = (0..20)
        .map(|i| json!({"track_ids": [50 + i % 5, 50 + (i + 1) % 5]}))
        .collect();
    let answers = join_all(orders.iter().enumerate().map(|(i, order)| {
        let (app, token) = (&app, &token);
        async move { buy(app, token, &format!("key-{i}"), order).await }
    }))
    .await;
    let mut sold = Vec::new();
    for answer in answers {
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        match status {
            201 => sold.extend(
                body["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["track_id"].as_i64().unwrap()),
            ),
            409 => assert!(body["detail"].as_str().unwrap().contains("own")),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let mut unique = sold.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(sold.len(), unique.len(), "a track was sold twice: {sold:?}");
    let library = json_of(app.get_authed("/api/v1/me/library", &token).await, 200).await;
    assert_eq!(library["data"].as_array().unwrap().len(), unique.len());
}

#[tokio::test]
async fn owned_tracks_are_a_conflict_that_names_them_and_charges_nothing() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    json_of(
        buy(&app, &token, "first", &json!({"track_ids": [7]})).await,
        201,
    )
    .await;
    let refused = assert_problem(
        buy(&app, &token, "second", &json!({"album_ids": [1]})).await,
        409,
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains(": 7;"),
        "{refused}"
    );
    assert_eq!(invoice_ids(&app, &token).await.len(), 1);

    // Imported invoices count: track 262 is on one of Luís's.
    let luis = app.login(LUIS, DEMO_PASSWORD).await;
    let before = invoice_ids(&app, &luis).await.len();
    assert_problem(
        buy(&app, &luis, "old", &json!({"track_ids": [262]})).await,
        409,
    )
    .await;
    assert_eq!(invoice_ids(&app, &luis).await.len(), before);
}

#[tokio::test]
async fn unknown_ids_are_a_404_that_lists_every_one() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    let problem = assert_problem(
        buy(
            &app,
            &token,
            "k",
            &json!({"track_ids": [1, 999999], "album_ids": [88888]}),
        )
        .await,
        404,
    )
    .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("track 999999") && detail.contains("album 88888"),
        "{detail}"
    );
    assert!(invoice_ids(&app, &token).await.is_empty());
}

#[tokio::test]
async fn bad_purchase_input_is_a_4xx_problem_that_says_what_was_wrong() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    let post = || {
        app.client
            .post(app.url("/api/v1/purchases"))
            .bearer_auth(&token)
    };

    let missing = assert_problem(
        post()
            .json(&json!({"track_ids": [1]}))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(missing["detail"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    for key in ["", "has space", &"k".repeat(256), "tab\tkey"] {
        let response = post()
            .header("Idempotency-Key", key)
            .json(&json!({"track_ids": [1]}))
            .send()
            .await
            .unwrap();
        assert_problem(response, 400).await;
    }
    let ten_thousand: Vec<i64> = (1..=10_000).collect();
    let cases: Vec<(&str, &[u8], u16)> = vec![
        ("malformed", b"{\"track_ids\": [1,", 400),
        ("not an object", b"[1, 2]", 422),
        ("wrong type", br#"{"track_ids": "1"}"#, 422),
        ("strings for ids", br#"{"track_ids": ["1"]}"#, 422),
        ("fractions", br#"{"track_ids": [1.5]}"#, 422),
        ("negative", br#"{"track_ids": [-1]}"#, 422),
        ("zero", br#"{"album_ids": [0]}"#, 422),
        ("huge", br#"{"track_ids": [99999999999999999999999]}"#, 422),
        ("empty", br#"{}"#, 422),
        ("empty lists", br#"{"track_ids": [], "album_ids": []}"#, 422),
        (
            "unknown field",
            br#"{"track_ids": [1], "coupon": "FREE"}"#,
            422,
        ),
        ("null", b"null", 422),
    ];
    for (what, body, status) in cases {
        let response = post()
            .header("Idempotency-Key", format!("bad-{}", what.replace(' ', "-")))
            .header("Content-Type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_problem(response, status).await;
    }
    let capped = assert_problem(
        buy(&app, &token, "big", &json!({"track_ids": ten_thousand})).await,
        422,
    )
    .await;
    assert!(capped["detail"].as_str().unwrap().contains("at most 500"));
    let text = post()
        .header("Idempotency-Key", "text")
        .body("track 1")
        .send()
        .await
        .unwrap();
    assert_problem(text, 415).await;
    assert!(
        invoice_ids(&app, &token).await.is_empty(),
        "nothing was bought"
    );
}

#[tokio::test]
async fn only_signed_in_customers_buy() {
    let app = TestApp::spawn().await;
    let anonymous = app
        .client
        .post(app.url("/api/v1/purchases"))
        .header("Idempotency-Key", "k")
        .json(&json!({"track_ids": [1]}))
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
    let staff = app.login(STAFF, DEMO_PASSWORD).await;
    assert_problem(
        buy(&app, &staff, "k", &json!({"track_ids": [1]})).await,
        403,
    )
    .await;
    assert_problem(app.get_authed("/api/v1/me/invoices", &staff).await, 403).await;
    assert_problem(app.get_authed("/api/v1/me/library", &staff).await, 403).await;
}

#[tokio::test]
async fn invoices_list_newest_first_page_by_page_and_another_customers_is_not_found() {
    let app = TestApp::spawn().await;
    let luis = app.login(LUIS, DEMO_PASSWORD).await;
    let mut seen: Vec<Value> = Vec::new();
    let mut path = "/api/v1/me/invoices?limit=3".to_string();
    loop {
        let page = json_of(app.get_authed(&path, &luis).await, 200).await;
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["page"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/me/invoices?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "Luís has seven imported invoices");
    let dates: Vec<&str> = seen
        .iter()
        .map(|i| i["invoice_date"].as_str().unwrap())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );
    let newest = seen[0]["id"].as_i64().unwrap();
    let invoice = json_of(
        app.get_authed(&format!("/api/v1/me/invoices/{newest}"), &luis)
            .await,
        200,
    )
    .await;
    let sum: i64 = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| cents(&l["amount"]))
        .sum();
    assert_eq!(cents(&invoice["total"]), sum);
    assert_eq!(cents(&seen[0]["total"]), sum);
    assert_eq!(
        seen[0]["line_count"],
        invoice["lines"].as_array().unwrap().len()
    );

    // Someone else's invoice does not exist for Luís, and is the same 404 as a missing one.
    let ada = new_customer(&app, "ada@example.com").await;
    let hers = json_of(buy(&app, &ada, "k", &json!({"track_ids": [1]})).await, 201).await;
    let stranger = assert_problem(
        app.get_authed(&format!("/api/v1/me/invoices/{}", hers["id"]), &luis)
            .await,
        404,
    )
    .await;
    let missing = assert_problem(
        app.get_authed("/api/v1/me/invoices/99999999", &luis).await,
        404,
    )
    .await;
    assert_eq!(stranger["title"], missing["title"]);
    for bad in [
        "/api/v1/me/invoices/abc",
        "/api/v1/me/invoices/99999999999999999999",
        "/api/v1/me/invoices?limit=0",
        "/api/v1/me/invoices?limit=101",
        "/api/v1/me/invoices?cursor=forged",
        "/api/v1/me/invoices?page=2",
    ] {
        assert_problem(app.get_authed(bad, &luis).await, 400).await;
    }
    // A cursor from Luís's list means nothing in Ada's.
    let page = json_of(
        app.get_authed("/api/v1/me/invoices?limit=1", &luis).await,
        200,
    )
    .await;
    let cursor = page["page"]["next_cursor"].as_str().unwrap();
    let path = format!("/api/v1/me/invoices?limit=1&cursor={cursor}");
    assert_problem(app.get_authed(&path, &ada).await, 400).await;
}

#[tokio::test]
async fn the_library_filters_and_pages_what_the_customer_owns() {
    let app = TestApp::spawn().await;
    let token = new_customer(&app, "ada@example.com").await;
    // Album 1 is AC/DC's; track 15 ("Go Down") is on album 4, also AC/DC; track 3 is Accept's.
    json_of(
        buy(
            &app,
            &token,
            "k",
            &json!({"album_ids": [1], "track_ids": [3, 15]}),
        )
        .await,
        201,
    )
    .await;
    let ids = |page: &Value| -> Vec<i64> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["track_id"].as_i64().unwrap())
            .collect()
    };
    let album = json_of(
        app.get_authed("/api/v1/me/library?album_id=1&limit=100", &token)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&album), ALBUM_ONE.to_vec());
    let acdc = json_of(
        app.get_authed("/api/v1/me/library?artist_id=1&limit=100", &token)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&acdc).len(), 11);
    let named = json_of(
        app.get_authed("/api/v1/me/library?q=ROCK", &token).await,
        200,
    )
    .await;
    assert!(ids(&named).contains(&1));
    assert!(named["data"].as_array().unwrap().iter().all(|t| t["name"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("rock")));
    let wildcard = json_of(
        app.get_authed("/api/v1/me/library?q=%25", &token).await,
        200,
    )
    .await;
    assert!(
        ids(&wildcard).is_empty(),
        "a % is a character, not a wildcard"
    );

    let mut all = Vec::new();
    let mut path = "/api/v1/me/library?limit=5".to_string();
    loop {
        let page = json_of(app.get_authed(&path, &token).await, 200).await;
        all.extend(ids(&page));
        match page["page"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/me/library?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(all.len(), 12);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    for bad in [
        "album_id=x",
        "artist_id=-1",
        "genre_id=0",
        "limit=1000",
        "cursor=x.y",
        "sort=name",
        "q=a%00b",
        "q=a%0Ab",
    ] {
        assert_problem(
            app.get_authed(&format!("/api/v1/me/library?{bad}"), &token)
                .await,
            400,
        )
        .await;
    }
}

#[tokio::test]
async fn a_purchase_moves_the_tracks_popularity_here_and_on_another_instance() {
    let app = TestApp::spawn().await;
    let peer = app.spawn_peer().await;
    let popularity = |body: &Value| body["popularity"].as_i64().unwrap();
    let before = popularity(&app.get_json("/api/v1/tracks/3").await.1);
    let token = new_customer(&app, "ada@example.com").await;
    json_of(
        buy(&app, &token, "popular", &json!({"track_ids": [3]})).await,
        201,
    )
    .await;
    let (_, after) = app.get_json("/api/v1/tracks/3").await;
    assert_eq!(
        popularity(&after),
        before + 1,
        "the buying instance sees it at once"
    );
    // The peer follows the change feed; it is there within moments.
    let mut seen = 0;
    for _ in 0..200 {
        seen = popularity(&peer.get_json("/api/v1/tracks/3").await.1);
        if seen == before + 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(seen, before + 1, "the other instance follows");
    // A replay sells nothing more.
    buy(&app, &token, "popular", &json!({"track_ids": [3]})).await;
    assert_eq!(
        popularity(&app.get_json("/api/v1/tracks/3").await.1),
        before + 1
    );
}
