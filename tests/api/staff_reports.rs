//! Sales reports agree exactly with sums computed here from the dataset's own invoice lines
//! (ChinookData.json, not the database), for every grouping, with and without a window of
//! dates, for an admin, a manager and an agent; bad input is a 400 that says what is wrong.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::helpers::{assert_problem, dataset_path, TestApp, DEMO_PASSWORD};
use crate::staff::{get, ADMIN, AGENT, AGENT_ID, MANAGER};

const GROUPINGS: [&str; 5] = ["genre", "artist", "country", "month", "employee"];

/// An invoice line of the dataset with everything a report groups by.
struct Line {
    invoice: i64,
    /// `YYYY-MM-DD`.
    day: String,
    country: String,
    rep: Option<i64>,
    rep_name: Option<String>,
    genre: (i64, String),
    artist: (i64, String),
    cents: i64,
    quantity: i64,
}

fn dataset_lines() -> Vec<Line> {
    let text = std::fs::read_to_string(dataset_path()).unwrap();
    let data: Value = serde_json::from_str(&text).unwrap();
    let table = |name: &str, id: &str| -> HashMap<i64, Value> {
        data[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row[id].as_i64().unwrap(), row.clone()))
            .collect()
    };
    let (tracks, albums, artists) = (
        table("Track", "TrackId"),
        table("Album", "AlbumId"),
        table("Artist", "ArtistId"),
    );
    let (genres, employees) = (table("Genre", "GenreId"), table("Employee", "EmployeeId"));
    let (customers, invoices) = (
        table("Customer", "CustomerId"),
        table("Invoice", "InvoiceId"),
    );
    let text_of = |v: &Value| v.as_str().unwrap().to_string();
    data["InvoiceLine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            let invoice = &invoices[&line["InvoiceId"].as_i64().unwrap()];
            let customer = &customers[&invoice["CustomerId"].as_i64().unwrap()];
            let track = &tracks[&line["TrackId"].as_i64().unwrap()];
            let genre_id = track["GenreId"].as_i64().unwrap();
            let album = &albums[&track["AlbumId"].as_i64().unwrap()];
            let artist_id = album["ArtistId"].as_i64().unwrap();
            let rep = customer["SupportRepId"].as_i64();
            let rep_name = rep.map(|id| {
                let e = &employees[&id];
                format!("{} {}", text_of(&e["FirstName"]), text_of(&e["LastName"]))
            });
            Line {
                invoice: invoice["InvoiceId"].as_i64().unwrap(),
                day: invoice["InvoiceDate"].as_str().unwrap()[..10].to_string(),
                country: text_of(&invoice["BillingCountry"]),
                rep,
                rep_name,
                genre: (genre_id, text_of(&genres[&genre_id]["Name"])),
                artist: (artist_id, text_of(&artists[&artist_id]["Name"])),
                cents: (line["UnitPrice"].as_f64().unwrap() * 100.0).round() as i64,
                quantity: line["Quantity"].as_i64().unwrap(),
            }
        })
        .collect()
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn group_of(line: &Line, group_by: &str) -> (Value, Value) {
    match group_by {
        "genre" => (json!(line.genre.0), json!(line.genre.1)),
        "artist" => (json!(line.artist.0), json!(line.artist.1)),
        "country" => (json!(line.country), json!(line.country)),
        "month" => (json!(line.day[..7]), json!(line.day[..7])),
        "employee" => (json!(line.rep), json!(line.rep_name)),
        other => panic!("no grouping {other}"),
    }
}

/// Keys in the report's order: ids by number, text by bytes, none last.
fn key_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x.as_i64().cmp(&y.as_i64()),
        (x, y) => x.as_str().unwrap().cmp(y.as_str().unwrap()),
    }
}

/// The report as it must be: rows and totals, summed over the lines that pass `keep`.
fn expected(lines: &[Line], group_by: &str, keep: impl Fn(&Line) -> bool) -> (Vec<Value>, Value) {
    let mut groups: HashMap<String, (Value, Value, i64, i64, HashSet<i64>)> = HashMap::new();
    let (mut cents, mut units, mut invoices) = (0, 0, HashSet::new());
    for line in lines.iter().filter(|l| keep(l)) {
        let (key, name) = group_of(line, group_by);
        let group = groups
            .entry(key.to_string())
            .or_insert_with(|| (key, name, 0, 0, HashSet::new()));
        group.2 += line.cents * line.quantity;
        group.3 += line.quantity;
        group.4.insert(line.invoice);
        cents += line.cents * line.quantity;
        units += line.quantity;
        invoices.insert(line.invoice);
    }
    let mut rows: Vec<_> = groups.into_values().collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| key_order(&a.0, &b.0)));
    let rows = rows
        .into_iter()
        .map(|(key, name, cents, units, invoices)| {
            json!({"key": key, "name": name, "total": money(cents), "units": units, "invoices": invoices.len()})
        })
        .collect();
    let totals = json!({"total": money(cents), "units": units, "invoices": invoices.len()});
    (rows, totals)
}

async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = get(app, token, &format!("/api/v1/staff/reports/sales?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn in_window(line: &Line, from: &str, to: &str) -> bool {
    line.day.as_str() >= from && line.day.as_str() <= to
}

#[tokio::test]
async fn every_grouping_of_an_admins_report_matches_the_dataset_to_the_cent() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let lines = dataset_lines();
    assert_eq!(lines.len(), 2240);
    for group_by in GROUPINGS {
        let body = report(&app, &token, &format!("group_by={group_by}")).await;
        let (rows, totals) = expected(&lines, group_by, |_| true);
        assert_eq!(body["group_by"], group_by);
        assert_eq!(body["data"], Value::Array(rows), "group_by={group_by}");
        assert_eq!(body["totals"], totals, "group_by={group_by}");
        assert_eq!(body["totals"]["invoices"], 412);
    }
}

#[tokio::test]
async fn a_window_includes_both_of_its_days_and_nothing_outside() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let lines = dataset_lines();
    let (from, to) = ("2021-02-02", "2021-06-06");
    assert!(lines.iter().any(|l| l.day == from) && lines.iter().any(|l| l.day == to));
    for group_by in GROUPINGS {
        let body = report(
            &app,
            &token,
            &format!("group_by={group_by}&from={from}&to={to}"),
        )
        .await;
        let (rows, totals) = expected(&lines, group_by, |l| in_window(l, from, to));
        assert_eq!(body["data"], Value::Array(rows), "group_by={group_by}");
        assert_eq!(body["totals"], totals);
        assert_eq!((&body["from"], &body["to"]), (&json!(from), &json!(to)));
    }
    let one_day = report(&app, &token, "group_by=month&from=2021-01-01&to=2021-01-01").await;
    let (rows, _) = expected(&lines, "month", |l| l.day == "2021-01-01");
    assert_eq!(one_day["data"], Value::Array(rows));
    let open_ended = report(&app, &token, "group_by=country&from=2025-01-01").await;
    let (rows, _) = expected(&lines, "country", |l| l.day.as_str() >= "2025-01-01");
    assert_eq!(open_ended["data"], Value::Array(rows));
}

#[tokio::test]
async fn an_agents_report_covers_only_the_customers_they_support() {
    let app = TestApp::spawn().await;
    let token = app.login(AGENT, DEMO_PASSWORD).await;
    let lines = dataset_lines();
    let (from, to) = ("2022-01-01", "2023-12-31");
    for group_by in GROUPINGS {
        let body = report(&app, &token, &format!("group_by={group_by}")).await;
        let (rows, totals) = expected(&lines, group_by, |l| l.rep == Some(AGENT_ID));
        assert_eq!(body["data"], Value::Array(rows), "group_by={group_by}");
        assert_eq!(body["totals"], totals);

        let query = format!("group_by={group_by}&from={from}&to={to}");
        let body = report(&app, &token, &query).await;
        let (rows, _) = expected(&lines, group_by, |l| {
            l.rep == Some(AGENT_ID) && in_window(l, from, to)
        });
        assert_eq!(body["data"], Value::Array(rows), "{query}");
    }
    let by_employee = report(&app, &token, "group_by=employee").await;
    assert_eq!(by_employee["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_employee["data"][0]["name"], "Jane Peacock");
}

#[tokio::test]
async fn a_managers_report_covers_every_customer_of_their_agents() {
    let app = TestApp::spawn().await;
    let token = app.login(MANAGER, DEMO_PASSWORD).await;
    let lines = dataset_lines();
    let body = report(&app, &token, "group_by=employee").await;
    let (rows, totals) = expected(&lines, "employee", |l| matches!(l.rep, Some(3..=5)));
    assert_eq!(body["data"], Value::Array(rows));
    assert_eq!(body["totals"], totals);
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_window_without_sales_is_an_empty_report_with_zero_totals() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let body = report(&app, &token, "group_by=genre&from=1999-01-01&to=1999-12-31").await;
    assert_eq!(body["data"], json!([]));
    assert_eq!(
        body["totals"],
        json!({"total": "0.00", "units": 0, "invoices": 0})
    );
}

#[tokio::test]
async fn a_bad_grouping_or_date_is_a_400_that_says_what_is_allowed() {
    let app = TestApp::spawn().await;
    let token = app.login(MANAGER, DEMO_PASSWORD).await;
    let sales = |query: &str| format!("/api/v1/staff/reports/sales{query}");
    for query in ["", "?group_by=album", "?group_by=", "?group_by=GENRE"] {
        let problem = assert_problem(app.get_authed(&sales(query), &token).await, 400).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("genre, artist, country, month, employee"),
            "{query}: {detail}"
        );
    }
    for (query, says) in [
        ("?group_by=genre&from=2021-13-01", "from"),
        ("?group_by=genre&from=2021-02-30", "from"),
        ("?group_by=genre&to=2021-1-1", "to"),
        ("?group_by=genre&to=yesterday", "to"),
        ("?group_by=genre&from=2021-01-01T00:00:00Z", "from"),
        ("?group_by=genre&from=+2021-01-01", "from"),
        ("?group_by=genre&from=", "from"),
        ("?group_by=genre&from=2022-01-02&to=2022-01-01", "after"),
        ("?group_by=genre&limit=5", "limit"),
    ] {
        let problem = assert_problem(app.get_authed(&sales(query), &token).await, 400).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{query}: {detail}");
    }
}
