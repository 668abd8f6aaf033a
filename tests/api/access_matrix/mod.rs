//! OWASP API1 (broken object-level authorization): every customer, staff and admin endpoint,
//! called by each role and by customers holding another customer's ids. Each test is a table
//! of cases that read as sentences, e.g. "customer A: GET /api/v1/me/invoices/414 → 404, as
//! for GET /api/v1/me/invoices/99999999", and reports every case that failed, not the first.
//!
//! The world is the imported Chinook data, looked up in SQL: an agent, the manager they report
//! to and an admin; customer A (the agent's), customer B (another agent's, same manager) and
//! customer C, registered here. Each customer buys a track none of the others owns (whose
//! audio the admin uploads), takes a signed stream URL of it, and makes a private and a
//! public playlist.

mod case;
mod customers;
mod roles;
mod staff;

pub use case::Case;

use std::fmt;

use serde_json::{json, Value};

use crate::helpers::{TestApp, DEMO_PASSWORD};
use crate::purchases::{buy, new_customer};

/// An id nothing has.
pub const MISSING: i64 = 99_999_999;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Who {
    Anonymous,
    Customer(usize),
    Agent,
    Manager,
    Admin,
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Who::Anonymous => write!(f, "anonymous"),
            Who::Customer(i) => write!(f, "customer {}", ["A", "B", "C"][*i]),
            Who::Agent => write!(f, "the agent"),
            Who::Manager => write!(f, "the manager"),
            Who::Admin => write!(f, "the admin"),
        }
    }
}

pub struct Shopper {
    pub id: i64,
    pub token: String,
    /// Every invoice of theirs, imported or bought here.
    pub invoices: Vec<i64>,
    /// The invoice of the purchase made here.
    pub invoice: i64,
    pub owned: Vec<i64>,
    /// The track bought here, which neither of the other two owns.
    pub only: i64,
    pub private: i64,
    pub public: i64,
    /// A signed stream URL of `only`, issued to them.
    pub signed: String,
}

pub struct Employee {
    pub id: i64,
    pub token: String,
}

pub struct World {
    pub app: TestApp,
    pub shoppers: Vec<Shopper>,
    /// A track on every private playlist, which none of the three owns.
    pub filler: i64,
    pub agent: Employee,
    pub manager: Employee,
    pub admin: Employee,
}

pub async fn scalar(app: &TestApp, sql: &str, bind: Option<i64>) -> i64 {
    let mut query = sqlx::query_scalar(sql);
    if let Some(value) = bind {
        query = query.bind(value);
    }
    query.fetch_one(app.state.db.reader()).await.expect(sql)
}

pub async fn column(app: &TestApp, sql: &str, bind: i64) -> Vec<i64> {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_all(app.state.db.reader())
        .await
        .expect(sql)
}

/// Signs in the account of customer or employee `id`, as `column` says.
async fn sign_in(app: &TestApp, column: &str, id: i64) -> String {
    let sql = format!("SELECT email FROM account WHERE {column} = $1");
    let email: String = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    app.login(&email, DEMO_PASSWORD).await
}

async fn answer(request: reqwest::RequestBuilder, status: u16) -> Value {
    let response = request.send().await.expect("the request is answered");
    let got = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "setting up: {body}");
    body
}

/// A WAV the service accepts.
pub fn wav() -> Vec<u8> {
    crate::judge::wav(4000, 0)
}

/// Makes a customer a playlist holding `tracks`, and returns its id.
async fn playlist(app: &TestApp, token: &str, visibility: &str, tracks: &[i64]) -> i64 {
    let body = json!({"name": format!("A {visibility} mix"), "visibility": visibility});
    let post = app.client.post(app.url("/api/v1/me/playlists"));
    let id = answer(post.bearer_auth(token).json(&body), 201).await["id"]
        .as_i64()
        .unwrap();
    let add = app
        .client
        .post(app.url(&format!("/api/v1/me/playlists/{id}/tracks")));
    answer(
        add.bearer_auth(token).json(&json!({"track_ids": tracks})),
        200,
    )
    .await;
    id
}

impl World {
    pub async fn open() -> Self {
        let app = TestApp::spawn().await;
        let boss = "SELECT reports_to FROM employee WHERE employee_id = $1";
        let agents = "SELECT MIN(employee_id) FROM employee \
                      WHERE title = 'Sales Support Agent' AND employee_id > $1";
        let agent = scalar(&app, agents, Some(0)).await;
        let colleague = scalar(&app, agents, Some(agent)).await;
        let manager = scalar(&app, boss, Some(agent)).await;
        assert_eq!(scalar(&app, boss, Some(colleague)).await, manager);
        let admin = "SELECT MIN(a.employee_id) FROM account a JOIN employee e \
                     ON e.employee_id = a.employee_id \
                     WHERE a.role = 'admin' AND e.reports_to IS NULL";
        let admin = scalar(&app, admin, None).await;
        let first = "SELECT MIN(customer_id) FROM customer WHERE support_rep_id = $1";
        let a = scalar(&app, first, Some(agent)).await;
        let b = scalar(&app, first, Some(colleague)).await;

        let tokens = [
            sign_in(&app, "customer_id", a).await,
            sign_in(&app, "customer_id", b).await,
            new_customer(&app, "carol@example.com").await,
        ];
        let agent = Employee {
            id: agent,
            token: sign_in(&app, "employee_id", agent).await,
        };
        let manager = Employee {
            id: manager,
            token: sign_in(&app, "employee_id", manager).await,
        };
        let admin = Employee {
            id: admin,
            token: sign_in(&app, "employee_id", admin).await,
        };

        let unowned: Vec<i64> = sqlx::query_scalar(
            "SELECT track_id FROM track WHERE track_id NOT IN \
             (SELECT track_id FROM customer_track WHERE customer_id IN ($1, $2)) \
             ORDER BY track_id LIMIT 4",
        )
        .bind(a)
        .bind(b)
        .fetch_all(app.state.db.reader())
        .await
        .unwrap();
        let filler = unowned[3];
        let mut shoppers = Vec::new();
        for (token, only) in tokens.into_iter().zip(unowned) {
            let me = answer(
                app.client.get(app.url("/api/v1/me")).bearer_auth(&token),
                200,
            )
            .await;
            let id = me["customer_id"].as_i64().expect("a customer");
            let bought = buy(&app, &token, "access-matrix", &json!({"track_ids": [only]})).await;
            assert_eq!(bought.status(), 201);
            let upload = format!("/api/v1/admin/tracks/{only}/audio");
            let upload = app.client.put(app.url(&upload)).bearer_auth(&admin.token);
            answer(upload.body(wav()), 200).await;
            let signed = format!("/api/v1/tracks/{only}/stream-url");
            let signed = app.client.post(app.url(&signed)).bearer_auth(&token);
            let signed = answer(signed, 201).await["url"]
                .as_str()
                .unwrap()
                .to_string();
            let invoices =
                "SELECT invoice_id FROM invoice WHERE customer_id = $1 ORDER BY invoice_id";
            let owned =
                "SELECT track_id FROM customer_track WHERE customer_id = $1 ORDER BY track_id";
            shoppers.push(Shopper {
                id,
                invoices: column(&app, invoices, id).await,
                invoice: bought.json::<Value>().await.unwrap()["id"]
                    .as_i64()
                    .unwrap(),
                owned: column(&app, owned, id).await,
                only,
                private: playlist(&app, &token, "private", &[only, filler]).await,
                public: playlist(&app, &token, "public", &[only]).await,
                signed,
                token,
            });
        }
        assert_eq!(shoppers.len(), 3);
        World {
            app,
            shoppers,
            filler,
            agent,
            manager,
            admin,
        }
    }

    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous => None,
            Who::Customer(i) => Some(&self.shoppers[i].token),
            Who::Agent => Some(&self.agent.token),
            Who::Manager => Some(&self.manager.token),
            Who::Admin => Some(&self.admin.token),
        }
    }
}

/// The `next_cursor` of the first one-entry page of `path`.
pub async fn cursor(world: &World, token: &str, path: &str) -> String {
    let response = world
        .app
        .get_authed(&format!("{path}?limit=1"), token)
        .await;
    let page: Value = response.json().await.unwrap();
    let cursor = page["page"]["next_cursor"].as_str().expect("a next page");
    cursor.to_string()
}
