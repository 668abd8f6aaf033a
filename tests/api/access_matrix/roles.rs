//! Each role against the endpoints of the others: the anonymous must sign in (401), customers
//! are refused staff and admin endpoints, employees customer-only ones (403).

use reqwest::Method;
use serde_json::json;

use super::{wav, Case, Shopper, Who, World, MISSING};

pub const CUSTOMERS: [Who; 3] = [Who::Customer(0), Who::Customer(1), Who::Customer(2)];
pub const EMPLOYEES: [Who; 3] = [Who::Agent, Who::Manager, Who::Admin];

pub fn playlist_path(id: i64) -> String {
    format!("/api/v1/me/playlists/{id}")
}

/// Every customer-only endpoint, on `s`'s objects.
fn customer_only(who: Who, s: &Shopper) -> Vec<Case> {
    let (mine, tracks) = (
        playlist_path(s.public),
        format!("{}/tracks", playlist_path(s.public)),
    );
    vec![
        who.call(Method::POST, "/api/v1/purchases")
            .header("Idempotency-Key", "matrix")
            .json(json!({"track_ids": [1]})),
        who.get("/api/v1/me/invoices"),
        who.get(format!("/api/v1/me/invoices/{}", s.invoice)),
        who.get("/api/v1/me/library"),
        who.get("/api/v1/me/playlists"),
        who.call(Method::POST, "/api/v1/me/playlists")
            .json(json!({"name": "Taken"})),
        who.get(&mine),
        who.call(Method::PATCH, &mine)
            .json(json!({"name": "Taken"})),
        who.call(Method::DELETE, &mine),
        who.call(Method::POST, &tracks)
            .json(json!({"track_ids": [1]})),
        who.call(Method::PUT, &tracks)
            .json(json!({"track_ids": [s.only]})),
        who.call(Method::DELETE, format!("{tracks}/1")),
    ]
}

/// The full stream (also through its alias), download and signed URL of `s`'s track, each
/// with what it answers someone entitled, and the GET that refuses a track nobody has.
pub fn streaming(who: Who, s: &Shopper) -> Vec<(Case, u16, String)> {
    let (track, missing) = (
        format!("/api/v1/tracks/{}", s.only),
        format!("/api/v1/tracks/{MISSING}"),
    );
    vec![
        (
            who.get(format!("{track}/stream")),
            200,
            format!("{missing}/stream"),
        ),
        (
            who.get(format!("/stream/track/{}", s.only)),
            200,
            format!("/stream/track/{MISSING}"),
        ),
        (
            who.get(format!("{track}/download")),
            200,
            format!("{missing}/download"),
        ),
        (
            who.call(Method::POST, format!("{track}/stream-url")),
            201,
            format!("{missing}/stream"),
        ),
    ]
}

/// Every staff endpoint, on `s`.
fn staff_only(who: Who, s: &Shopper) -> Vec<Case> {
    let customer = format!("/api/v1/staff/customers/{}", s.id);
    vec![
        who.get("/api/v1/staff/customers"),
        who.get(&customer),
        who.get(format!("{customer}/invoices")),
        who.get(format!("{customer}/invoices/{}", s.invoice)),
        who.get("/api/v1/staff/reports/sales?group_by=country"),
    ]
}

/// A representative set of admin endpoints, harmless when they succeed.
fn admin_only(who: Who, s: &Shopper) -> Vec<Case> {
    let admin = |path: &str| format!("/api/v1/admin{path}");
    vec![
        who.get(admin("/export?format=ndjson")),
        who.call(Method::POST, admin("/artists"))
            .json(json!({"name": "Matrix"})),
        who.call(Method::PATCH, admin("/artists/1"))
            .json(json!({"name": "AC/DC"})),
        who.call(Method::DELETE, admin(&format!("/tracks/{MISSING}"))),
        who.call(Method::PUT, admin(&format!("/tracks/{}/audio", s.only)))
            .bytes(wav()),
        who.call(Method::PUT, admin(&format!("/albums/{MISSING}/cover")))
            .bytes(vec![0; 64]),
        who.call(Method::POST, admin("/taxonomies/mood"))
            .json(json!({"name": "Calm"})),
        who.call(Method::DELETE, admin("/taxonomies/genre/no-such-term")),
    ]
}

fn all(cases: Vec<Case>, expect: impl Fn(Case) -> Case) -> Vec<Case> {
    cases.into_iter().map(expect).collect()
}

#[tokio::test]
async fn the_anonymous_get_401_on_every_account_staff_and_admin_endpoint() {
    let world = World::open().await;
    let (who, a) = (Who::Anonymous, &world.shoppers[0]);
    let mut cases = vec![who.get("/api/v1/me")];
    cases.extend(customer_only(who, a));
    cases.extend(streaming(who, a).into_iter().map(|(case, ..)| case));
    cases.extend(staff_only(who, a));
    cases.extend(admin_only(who, a));
    world.run(&all(cases, |c| c.problem(401))).await;
}

#[tokio::test]
async fn each_role_is_refused_the_endpoints_of_the_others_with_403() {
    let world = World::open().await;
    let a = &world.shoppers[0];
    let mut cases = Vec::new();
    for (who, s) in CUSTOMERS.into_iter().zip(&world.shoppers) {
        cases.push(who.get("/api/v1/me").with("/customer_id", json!(s.id)));
        cases.extend(all(staff_only(who, s), |c| c.problem(403)));
        cases.extend(all(admin_only(who, s), |c| c.problem(403)));
    }
    let ids = [world.agent.id, world.manager.id, world.admin.id];
    for (who, id) in EMPLOYEES.into_iter().zip(ids) {
        cases.push(who.get("/api/v1/me").with("/employee_id", json!(id)));
        cases.extend(all(customer_only(who, a), |c| c.problem(403)));
        // Staff and admins may stream everything.
        let streams = streaming(who, &world.shoppers[1]).into_iter();
        cases.extend(streams.map(|(case, status, _)| case.is(status)));
    }
    for who in [Who::Agent, Who::Manager] {
        cases.extend(all(admin_only(who, a), |c| c.problem(403)));
    }
    cases.extend(all(admin_only(Who::Admin, a), Case::allowed));
    world.run(&cases).await;
}
