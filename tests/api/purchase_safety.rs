//! Money and crashes: totals equal their lines to the cent across thousands of random
//! orders, and a `kill -9` in the middle of a burst of purchases loses no acknowledged
//! purchase and leaves no invoice half-written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::{stream, StreamExt};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{chinook, serve, TestApp, TestDatabase};
use crate::purchases::{buy, new_customer};

/// Every invoice in the database whose total is not the sum of its lines, or that has no
/// lines at all.
async fn invoices_that_do_not_add_up(pool: &chinook::db::Pool) -> Vec<(i64, i64, Option<i64>)> {
    sqlx::query(
        "SELECT i.invoice_id, i.total_cents, \
         (SELECT CAST(SUM(l.unit_price_cents * l.quantity) AS BIGINT) FROM invoice_line l \
         WHERE l.invoice_id = i.invoice_id) \
         FROM invoice i",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|row| {
        (
            row.get::<i64, _>(0),
            row.get::<i64, _>(1),
            row.get::<Option<i64>, _>(2),
        )
    })
    .filter(|(_, total, sum)| Some(*total) != *sum)
    .collect()
}

fn cents(amount: &Value) -> i64 {
    chinook::money::parse_cents(amount.as_str().expect("an amount is a string")).unwrap()
}

#[tokio::test]
async fn totals_equal_their_line_prices_exactly_across_two_thousand_random_orders() {
    let app = TestApp::spawn().await;
    let prices: BTreeMap<i64, i64> = sqlx::query("SELECT track_id, unit_price_cents FROM track")
        .fetch_all(app.state.db.writer())
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let tracks: Vec<i64> = prices.keys().copied().collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut orders = Vec::new();
    for customer in 0..4 {
        let token = new_customer(&app, &format!("buyer{customer}@example.com")).await;
        // Each customer's orders draw from their own shuffled catalog, so none overlaps.
        let mut pool = tracks.clone();
        pool.shuffle(&mut rng);
        let mut pool = pool.into_iter();
        for n in 0..500 {
            let count = rng.random_range(1..=3);
            let ids: Vec<i64> = pool.by_ref().take(count).collect();
            let expected: i64 = ids.iter().map(|id| prices[id]).sum();
            orders.push((
                token.clone(),
                format!("money-{customer}-{n}"),
                ids,
                expected,
            ));
        }
    }
    let expected_grand_total: i64 = orders.iter().map(|o| o.3).sum();
    let totals: Vec<(i64, i64)> = stream::iter(orders.iter())
        .map(|(token, key, ids, expected)| {
            let app = &app;
            async move {
                let response = buy(app, token, key, &json!({ "track_ids": ids })).await;
                assert_eq!(response.status(), 201, "order {key}");
                let invoice: Value = response.json().await.unwrap();
                let lines: i64 = invoice["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| cents(&l["amount"]))
                    .sum();
                assert_eq!(cents(&invoice["total"]), lines, "order {key}");
                (cents(&invoice["total"]), *expected)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(totals.len(), 2000);
    for (total, expected) in &totals {
        assert_eq!(total, expected);
    }
    let grand_total: i64 = totals.iter().map(|t| t.0).sum();
    assert_eq!(grand_total, expected_grand_total);
    assert!(invoices_that_do_not_add_up(app.state.db.writer())
        .await
        .is_empty());
}

/// A server process that is killed when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the client saw of one purchase before the server died.
enum Seen {
    Created(i64),
    Lost,
}

#[tokio::test]
async fn a_kill_9_mid_burst_loses_no_acknowledged_purchase_and_leaves_nothing_half_written() {
    let database = TestDatabase::chinook().await;
    let (server, port) = serve(chinook(&database)).await;
    let mut server = Server(server);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let register = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(
            &json!({"email": "crash@example.com", "password": "correct horse battery",
                      "first_name": "Cr", "last_name": "Ash"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let token = register.json::<Value>().await.unwrap()["session"]["token"]
        .as_str()
        .unwrap()
        .to_string();

    // Eight clients buy three tracks at a time until the server is killed under them.
    let created = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..8i64)
        .map(|worker| {
            let (client, base, token, created) =
                (client.clone(), base.clone(), token.clone(), created.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for n in 0..100i64 {
                    let first = 1 + (worker * 100 + n) * 3;
                    let key = format!("crash-{worker}-{n}");
                    let tracks = vec![first, first + 1, first + 2];
                    let answer = client
                        .post(format!("{base}/api/v1/purchases"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &key)
                        .json(&json!({ "track_ids": tracks }))
                        .send()
                        .await;
                    match answer {
                        Ok(response) if response.status() == 201 => {
                            let invoice: Value = response.json().await.unwrap();
                            created.fetch_add(1, Ordering::SeqCst);
                            seen.push((
                                key,
                                tracks,
                                Seen::Created(invoice["id"].as_i64().unwrap()),
                            ));
                        }
                        Ok(response) => panic!("purchase {key} answered {}", response.status()),
                        Err(_) => {
                            seen.push((key, tracks, Seen::Lost));
                            break;
                        }
                    }
                }
                seen
            })
        })
        .collect();
    while created.load(Ordering::SeqCst) < 60 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.0.kill().expect("SIGKILL is delivered");
    server.0.wait().unwrap();
    let mut seen = Vec::new();
    for client in clients {
        seen.extend(client.await.unwrap());
    }
    let acknowledged = seen
        .iter()
        .filter(|s| matches!(s.2, Seen::Created(_)))
        .count();
    assert!(acknowledged >= 60);

    let (server, port) = serve(chinook(&database)).await;
    let _server = Server(server);
    let base = format!("http://127.0.0.1:{port}");
    // Every purchase the client saw succeed is there, whole.
    for (key, tracks, outcome) in &seen {
        let Seen::Created(id) = outcome else { continue };
        let invoice: Value = client
            .get(format!("{base}/api/v1/me/invoices/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let lines: BTreeSet<i64> = invoice["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["track_id"].as_i64().unwrap())
            .collect();
        assert_eq!(lines, tracks.iter().copied().collect(), "invoice of {key}");
    }
    // Retrying every purchase gets its one invoice: the stored one, or a fresh one when the
    // crash took the first attempt with it; never a second charge.
    for (key, tracks, outcome) in &seen {
        let response = client
            .post(format!("{base}/api/v1/purchases"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&json!({ "track_ids": tracks }))
            .send()
            .await
            .unwrap();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        assert_eq!(response.status(), 201, "retry of {key}");
        let invoice: Value = response.json().await.unwrap();
        if let Seen::Created(id) = outcome {
            assert!(replayed, "an acknowledged purchase is replayed");
            assert_eq!(invoice["id"].as_i64(), Some(*id));
        }
    }
    let db = database.connect().await;
    assert!(invoices_that_do_not_add_up(db.writer()).await.is_empty());
    let sold_twice: Vec<(i64, i64)> = sqlx::query(
        "SELECT l.track_id, COUNT(*) FROM invoice_line l JOIN invoice i ON i.invoice_id = l.invoice_id \
         JOIN account a ON a.customer_id = i.customer_id WHERE a.email = 'crash@example.com' \
         GROUP BY l.track_id HAVING COUNT(*) > 1",
    )
    .fetch_all(db.writer())
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    assert!(sold_twice.is_empty(), "tracks sold twice: {sold_twice:?}");
    let invoices: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoice i JOIN account a ON a.customer_id = i.customer_id \
         WHERE a.email = 'crash@example.com'",
    )
    .fetch_one(db.writer())
    .await
    .unwrap();
    assert_eq!(
        invoices as usize,
        seen.len(),
        "one invoice per purchase attempted"
    );
    db.close().await;
}
