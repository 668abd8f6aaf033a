//! Staff views: an agent sees the customers they support, a manager also those of the agents
//! reporting to them, an admin everyone; anyone else's customer is a 404 as if there were
//! none; customers are refused with 403 and the anonymous with 401.

use serde_json::Value;

use crate::helpers::{assert_problem, TestApp, DEMO_PASSWORD};

pub const ADMIN: &str = "andrew@chinookcorp.com";
/// Nancy Edwards, the Sales Manager (employee 2): the three agents report to her.
pub const MANAGER: &str = "nancy@chinookcorp.com";
/// Jane Peacock, a Sales Support Agent (employee 3).
pub const AGENT: &str = "jane@chinookcorp.com";
pub const AGENT_ID: i64 = 3;
/// Luís Gonçalves, customer 1, supported by Jane.
pub const CUSTOMER: &str = "luisg@embraer.com.br";

/// A GET with a bearer token, as status and JSON body.
pub async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app.get_authed(path, token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Follows `next_cursor` to the end, `limit` at a time, and returns every entry.
async fn all_pages(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{separator}limit={limit}");
    let mut out = Vec::new();
    for _ in 0..1000 {
        let (status, body) = get(app, token, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        assert_eq!(body["page"]["limit"], limit);
        out.extend(data.iter().cloned());
        match body["page"]["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(data.len(), limit, "only full pages have a next page");
                url = format!("{path}{separator}limit={limit}&cursor={cursor}");
            }
            None => return out,
        }
    }
    panic!("{path} never ended");
}

fn ids(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

async fn sql_ids(app: &TestApp, sql: &str) -> Vec<i64> {
    sqlx::query_scalar(sql)
        .fetch_all(app.state.db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_agent_sees_exactly_the_customers_they_support_page_by_page() {
    let app = TestApp::spawn().await;
    let token = app.login(AGENT, DEMO_PASSWORD).await;
    let seen = all_pages(&app, &token, "/api/v1/staff/customers", 4).await;
    let theirs = sql_ids(
        &app,
        "SELECT customer_id FROM customer WHERE support_rep_id = 3 ORDER BY customer_id",
    )
    .await;
    assert_eq!(theirs.len(), 21);
    assert_eq!(ids(&seen), theirs);
    assert!(seen.iter().all(|c| c["support_rep_id"] == AGENT_ID));
    assert_eq!(seen[0]["first_name"], "Luís");
    assert_eq!(seen[0]["email"], CUSTOMER);
}

#[tokio::test]
async fn a_manager_sees_the_customers_of_every_agent_who_reports_to_them() {
    let app = TestApp::spawn().await;
    let token = app.login(MANAGER, DEMO_PASSWORD).await;
    let seen = all_pages(&app, &token, "/api/v1/staff/customers", 25).await;
    let their_agents = sql_ids(
        &app,
        "SELECT c.customer_id FROM customer c JOIN employee e ON e.employee_id = c.support_rep_id \
         WHERE e.reports_to = 2 ORDER BY c.customer_id",
    )
    .await;
    assert_eq!(
        their_agents.len(),
        59,
        "Jane, Margaret and Steve support everyone"
    );
    assert_eq!(ids(&seen), their_agents);

    let margarets = all_pages(
        &app,
        &token,
        "/api/v1/staff/customers?support_rep_id=4",
        100,
    )
    .await;
    let expected = sql_ids(
        &app,
        "SELECT customer_id FROM customer WHERE support_rep_id = 4 ORDER BY customer_id",
    )
    .await;
    assert_eq!(ids(&margarets), expected);
}

#[tokio::test]
async fn a_manager_loses_the_customers_of_an_agent_who_no_longer_reports_to_them() {
    let app = TestApp::spawn().await;
    sqlx::query("UPDATE employee SET reports_to = 1 WHERE employee_id = 5")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let token = app.login(MANAGER, DEMO_PASSWORD).await;
    let seen = all_pages(&app, &token, "/api/v1/staff/customers", 100).await;
    let expected = sql_ids(
        &app,
        "SELECT customer_id FROM customer WHERE support_rep_id IN (3, 4) ORDER BY customer_id",
    )
    .await;
    assert_eq!(ids(&seen), expected);
    let steves: i64 =
        sqlx::query_scalar("SELECT MIN(customer_id) FROM customer WHERE support_rep_id = 5")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let (status, _) = get(&app, &token, &format!("/api/v1/staff/customers/{steves}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_admin_sees_every_customer_even_one_nobody_supports() {
    let app = TestApp::spawn().await;
    sqlx::query("UPDATE customer SET support_rep_id = NULL WHERE customer_id = 7")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let seen = all_pages(&app, &admin, "/api/v1/staff/customers", 100).await;
    assert_eq!(ids(&seen), (1..=59).collect::<Vec<i64>>());
    assert_eq!(seen[6]["support_rep_id"], Value::Null);

    let manager = app.login(MANAGER, DEMO_PASSWORD).await;
    let (status, _) = get(&app, &manager, "/api/v1/staff/customers/7").await;
    assert_eq!(status, 404, "a customer without a rep is no manager's");
}

#[tokio::test]
async fn the_country_filter_narrows_the_callers_customers() {
    let app = TestApp::spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let brazil = all_pages(&app, &admin, "/api/v1/staff/customers?country=Brazil", 2).await;
    let expected = sql_ids(
        &app,
        "SELECT customer_id FROM customer WHERE country = 'Brazil' ORDER BY customer_id",
    )
    .await;
    assert_eq!(expected.len(), 5);
    assert_eq!(ids(&brazil), expected);

    let agent = app.login(AGENT, DEMO_PASSWORD).await;
    let janes = all_pages(&app, &agent, "/api/v1/staff/customers?country=Brazil", 100).await;
    let expected = sql_ids(
        &app,
        "SELECT customer_id FROM customer WHERE country = 'Brazil' AND support_rep_id = 3 \
         ORDER BY customer_id",
    )
    .await;
    assert_eq!(ids(&janes), expected);
    let (_, nobody) = get(&app, &agent, "/api/v1/staff/customers?country=Atlantis").await;
    assert_eq!(nobody["data"], serde_json::json!([]));
    assert_eq!(nobody["page"]["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_customer_detail_names_the_rep_and_what_the_customer_spent() {
    let app = TestApp::spawn().await;
    let token = app.login(AGENT, DEMO_PASSWORD).await;
    let (status, luis) = get(&app, &token, "/api/v1/staff/customers/1").await;
    assert_eq!(status, 200, "{luis}");
    assert_eq!(luis["id"], 1);
    assert_eq!(luis["country"], "Brazil");
    assert_eq!(luis["support_rep"]["first_name"], "Jane");
    assert_eq!(luis["support_rep"]["title"], "Sales Support Agent");
    let (count, cents): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(total_cents) AS BIGINT) FROM invoice WHERE customer_id = 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(luis["invoice_count"], count);
    assert_eq!(
        luis["total_spent"],
        format!("{}.{:02}", cents / 100, cents % 100)
    );
}

#[tokio::test]
async fn invoices_come_newest_first_with_exact_totals() {
    let app = TestApp::spawn().await;
    let token = app.login(AGENT, DEMO_PASSWORD).await;
    let seen = all_pages(&app, &token, "/api/v1/staff/customers/1/invoices", 3).await;
    let expected: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT invoice_id, invoice_date, total_cents FROM invoice WHERE customer_id = 1 \
         ORDER BY invoice_date DESC, invoice_id DESC",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(seen.len(), expected.len());
    assert!(seen.len() >= 7);
    for (invoice, (id, date, cents)) in seen.iter().zip(&expected) {
        assert_eq!(invoice["id"], *id);
        assert_eq!(invoice["customer_id"], 1);
        assert_eq!(invoice["invoice_date"], *date);
        assert_eq!(
            invoice["total"],
            format!("{}.{:02}", cents / 100, cents % 100)
        );
    }
}

#[tokio::test]
async fn an_invoice_detail_lists_its_lines_with_track_names() {
    let app = TestApp::spawn().await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let (_, page) = get(&app, &admin, "/api/v1/staff/customers/2/invoices?limit=100").await;
    // Invoice 1 of the dataset: customer 2 bought tracks 2 and 4 for 0.99 each.
    assert!(ids(page["data"].as_array().unwrap()).contains(&1));
    let (status, invoice) = get(&app, &admin, "/api/v1/staff/customers/2/invoices/1").await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["total"], "1.98");
    let lines = invoice["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    let tracks: Vec<(i64, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["track_id"].as_i64().unwrap(),
                l["track_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(tracks, [(2, "Balls to the Wall"), (4, "Restless and Wild")]);
    assert!(lines
        .iter()
        .all(|l| l["unit_price"] == "0.99" && l["amount"] == "0.99"));

    let (status, _) = get(&app, &admin, "/api/v1/staff/customers/1/invoices/1").await;
    assert_eq!(status, 404, "invoice 1 is not customer 1's");
}

#[tokio::test]
async fn someone_elses_customer_is_a_404_just_like_a_customer_who_does_not_exist() {
    let app = TestApp::spawn().await;
    let token = app.login(AGENT, DEMO_PASSWORD).await;
    let margarets: i64 =
        sqlx::query_scalar("SELECT MIN(customer_id) FROM customer WHERE support_rep_id = 4")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let invoice: i64 =
        sqlx::query_scalar("SELECT MIN(invoice_id) FROM invoice WHERE customer_id = $1")
            .bind(margarets)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    for (theirs, missing) in [
        (
            format!("/api/v1/staff/customers/{margarets}"),
            "/api/v1/staff/customers/99999".to_string(),
        ),
        (
            format!("/api/v1/staff/customers/{margarets}/invoices"),
            "/api/v1/staff/customers/99999/invoices".into(),
        ),
        (
            format!("/api/v1/staff/customers/{margarets}/invoices/{invoice}"),
            format!("/api/v1/staff/customers/99999/invoices/{invoice}"),
        ),
    ] {
        let hidden = assert_problem(app.get_authed(&theirs, &token).await, 404).await;
        let absent = assert_problem(app.get_authed(&missing, &token).await, 404).await;
        assert_eq!(hidden["type"], absent["type"]);
        assert_eq!(hidden["title"], absent["title"]);
        let unmasked = hidden["detail"]
            .as_str()
            .unwrap()
            .replace(&margarets.to_string(), "99999");
        assert_eq!(unmasked, absent["detail"].as_str().unwrap(), "{theirs}");
    }
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;
    let (status, _) = get(
        &app,
        &admin,
        &format!("/api/v1/staff/customers/{margarets}"),
    )
    .await;
    assert_eq!(status, 200, "the customer does exist");
}

#[tokio::test]
async fn customers_get_403_and_the_anonymous_401_everywhere() {
    let app = TestApp::spawn().await;
    let customer = app.login(CUSTOMER, DEMO_PASSWORD).await;
    for path in [
        "/api/v1/staff/customers",
        "/api/v1/staff/customers/1",
        "/api/v1/staff/customers/1/invoices",
        "/api/v1/staff/customers/2/invoices/1",
        "/api/v1/staff/reports/sales?group_by=genre",
    ] {
        assert_problem(app.get_authed(path, &customer).await, 403).await;
        assert_problem(app.get(path).await.unwrap(), 401).await;
        assert_problem(app.get_authed(path, "chk_not-a-token").await, 401).await;
    }
}

#[tokio::test]
async fn bad_ids_limits_cursors_and_parameters_are_4xx_problems() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    for path in [
        "/api/v1/staff/customers/99999999999999999999",
        "/api/v1/staff/customers/1.5",
        "/api/v1/staff/customers/abc/invoices",
        "/api/v1/staff/customers/1/invoices/99999999999999999999",
        "/api/v1/staff/customers?limit=0",
        "/api/v1/staff/customers?limit=101",
        "/api/v1/staff/customers?limit=-1",
        "/api/v1/staff/customers?limit=ten",
        "/api/v1/staff/customers/1/invoices?limit=1000",
        "/api/v1/staff/customers?cursor=garbage",
        "/api/v1/staff/customers?support_rep_id=three",
        "/api/v1/staff/customers?country=",
        "/api/v1/staff/customers?country=Bra%00zil",
        "/api/v1/staff/customers?sort=name",
        "/api/v1/staff/customers/1?include=invoices",
    ] {
        let problem = assert_problem(app.get_authed(path, &token).await, 400).await;
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{path}");
    }
    for path in [
        "/api/v1/staff/customers/-1",
        "/api/v1/staff/customers/0/invoices",
        "/api/v1/staff/customers/9223372036854775807",
        "/api/v1/staff/customers/1/invoices/-5",
    ] {
        assert_problem(app.get_authed(path, &token).await, 404).await;
    }
}

#[tokio::test]
async fn a_cursor_is_good_only_for_the_list_that_made_it() {
    let app = TestApp::spawn().await;
    let token = app.login(ADMIN, DEMO_PASSWORD).await;
    let (_, first) = get(&app, &token, "/api/v1/staff/customers?limit=2").await;
    let cursor = first["page"]["next_cursor"].as_str().unwrap().to_string();
    let (status, second) = get(
        &app,
        &token,
        &format!("/api/v1/staff/customers?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ids(second["data"].as_array().unwrap()), [3, 4]);

    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for path in [
        format!("/api/v1/staff/customers?cursor={tampered}"),
        format!("/api/v1/staff/customers?country=USA&cursor={cursor}"),
        format!("/api/v1/staff/customers/1/invoices?cursor={cursor}"),
    ] {
        assert_problem(app.get_authed(&path, &token).await, 400).await;
    }
    let (_, invoices) = get(&app, &token, "/api/v1/staff/customers/1/invoices?limit=1").await;
    let invoice_cursor = invoices["page"]["next_cursor"].as_str().unwrap();
    let other = format!("/api/v1/staff/customers/2/invoices?cursor={invoice_cursor}");
    assert_problem(app.get_authed(&other, &token).await, 400).await;
}
