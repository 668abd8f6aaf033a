//! Customers against each other (A, B and C, every ordered pair): another's invoice or
//! playlist is a 404 exactly like an id that does not exist, whether read or written, and
//! changes nothing; another's track is the 403 any unowned track gets; lists hold nothing of
//! another's; a private playlist stays out of the catalog; a cursor works only on its list.

use reqwest::Method;
use serde_json::json;

use super::roles::{playlist_path, streaming, CUSTOMERS};
use super::{cursor, scalar, Shopper, Who, World, MISSING};

/// Every customer's playlists as their owner sees them.
async fn playlists(world: &World) -> Vec<String> {
    let mut seen = Vec::new();
    for s in &world.shoppers {
        for id in [s.private, s.public] {
            let response = world.app.get_authed(&playlist_path(id), &s.token).await;
            seen.push(response.text().await.unwrap());
        }
    }
    seen
}

#[tokio::test]
async fn a_customer_with_anothers_ids_finds_nothing_changes_nothing_and_streams_nothing() {
    let world = World::open().await;
    let (app, shoppers) = (&world.app, &world.shoppers);
    let before = playlists(&world).await;
    let rows = "SELECT (SELECT COUNT(*) FROM invoice) + (SELECT COUNT(*) FROM playlist_track)";
    let rows_before = scalar(app, rows, None).await;

    let mut cases = Vec::new();
    for (x, me) in CUSTOMERS.into_iter().zip(shoppers) {
        let others: Vec<&Shopper> = shoppers.iter().filter(|s| s.id != me.id).collect();
        let their = |f: fn(&Shopper) -> Vec<i64>| -> Vec<i64> {
            let mine = f(me);
            others
                .iter()
                .flat_map(|s| f(s))
                .filter(|id| !mine.contains(id))
                .collect()
        };
        // Their own lists hold all of theirs and nothing of anyone else's.
        cases.extend([
            x.get("/api/v1/me/invoices?limit=100")
                .lists("id", &me.invoices)
                .never("id", &their(|s| s.invoices.clone())),
            x.get("/api/v1/me/library?limit=100")
                .lists("track_id", &me.owned)
                .never("track_id", &their(|s| s.owned.clone())),
            x.get("/api/v1/me/playlists?limit=100")
                .lists("id", &[me.private, me.public])
                .never("id", &their(|s| vec![s.private, s.public])),
            x.get(format!("/api/v1/me/invoices/{}", me.invoice))
                .with("/id", json!(me.invoice)),
            x.get(playlist_path(me.private))
                .with("/track_ids", json!([me.only, world.filler])),
            // Everyone used this key for their first purchase: a retry replays their own.
            x.call(Method::POST, "/api/v1/purchases")
                .header("Idempotency-Key", "access-matrix")
                .json(json!({"track_ids": [me.only]}))
                .is(201)
                .with("/id", json!(me.invoice)),
            x.call(Method::POST, format!("/api/v1/tracks/{MISSING}/stream-url"))
                .problem(404),
            Who::Anonymous.get(&me.signed),
        ]);
        cases.extend(
            streaming(x, me)
                .into_iter()
                .map(|(case, status, _)| case.is(status)),
        );

        for y in others {
            let mut invoices = vec![y.invoice, y.invoices[0]];
            invoices.dedup();
            for invoice in invoices {
                cases.push(
                    x.get(format!("/api/v1/me/invoices/{invoice}"))
                        .hidden(invoice),
                );
            }
            let (private, public) = (playlist_path(y.private), playlist_path(y.public));
            cases.extend([
                x.get(&private).hidden(y.private),
                x.get(&public).hidden(y.public),
                x.call(Method::PATCH, &private)
                    .json(json!({"visibility": "public"}))
                    .hidden(y.private),
                x.call(Method::PATCH, &public)
                    .json(json!({"name": "Taken"}))
                    .hidden(y.public),
                // Bad input does not tell another's playlist from none either.
                x.call(Method::PATCH, &private)
                    .json(json!({"name": ""}))
                    .hidden(y.private),
                x.call(Method::POST, format!("{public}/tracks"))
                    .json(json!({"track_ids": [MISSING]}))
                    .hidden(y.public),
                x.call(Method::PUT, format!("{private}/tracks"))
                    .json(json!({"track_ids": [y.only]}))
                    .hidden(y.private),
                x.call(Method::DELETE, &private).hidden(y.private),
                x.call(Method::DELETE, &public).hidden(y.public),
                x.call(Method::POST, format!("{public}/tracks"))
                    .json(json!({"track_ids": [me.only]}))
                    .hidden(y.public),
                x.call(Method::PUT, format!("{private}/tracks"))
                    .json(json!({"track_ids": [world.filler, y.only]}))
                    .hidden(y.private),
                x.call(Method::DELETE, format!("{public}/tracks/1"))
                    .hidden(y.public),
                x.get(format!("/api/v1/playlists/{}", y.private))
                    .hidden(y.private),
            ]);
            // Nor can a body hand something to another customer.
            cases.push(
                x.call(Method::POST, "/api/v1/purchases")
                    .header("Idempotency-Key", &format!("for-{}", y.id))
                    .json(json!({"track_ids": [world.filler], "customer_id": y.id}))
                    .problem(422),
            );
            cases.push(
                x.call(Method::PATCH, playlist_path(me.public))
                    .json(json!({"customer_id": y.id}))
                    .problem(422),
            );
            // A signed URL names its track and account: neither can be swapped for another's.
            let track = me
                .signed
                .replace(&format!("/{}/", me.only), &format!("/{}/", y.only));
            let account = me
                .signed
                .replace(&account_of(&me.signed), &account_of(&y.signed));
            cases.push(Who::Anonymous.get(track).problem(403));
            cases.push(Who::Anonymous.get(account).problem(403));
            // Another's track: the same 403, in the same words, as a track nobody has.
            for (case, _, missing) in streaming(x, y) {
                cases.push(case.refused_as(y.only, missing));
            }
        }
    }
    let publics: Vec<i64> = shoppers.iter().map(|s| s.public).collect();
    let privates: Vec<i64> = shoppers.iter().map(|s| s.private).collect();
    let catalog = Who::Anonymous.get("/api/v1/playlists?limit=100");
    cases.push(catalog.lists("id", &publics).never("id", &privates));
    for id in &privates {
        let tracks = Who::Anonymous.get(format!("/api/v1/playlists/{id}/tracks"));
        cases.push(tracks.hidden(*id));
    }
    // A cursor is good only for the list that made it.
    let (a, b) = (Who::Customer(0), Who::Customer(1));
    for list in [
        "/api/v1/me/invoices",
        "/api/v1/me/library",
        "/api/v1/me/playlists",
    ] {
        let cursor = cursor(&world, &shoppers[0].token, list).await;
        cases.push(a.get(format!("{list}?limit=1&cursor={cursor}")));
        cases.push(
            b.get(format!("{list}?limit=1&cursor={cursor}"))
                .problem(400),
        );
    }
    world.run(&cases).await;

    assert_eq!(playlists(&world).await, before, "no playlist changed");
    let rows_after = scalar(app, rows, None).await;
    assert_eq!(
        rows_after, rows_before,
        "no invoice or playlist entry was made"
    );

    // A public playlist made private leaves the catalog at once.
    let (id, b) = (shoppers[1].public, Who::Customer(1));
    let private = json!({"visibility": "private"});
    world
        .run(&[
            b.call(Method::PATCH, playlist_path(id))
                .json(private)
                .with("/visibility", json!("private")),
            Who::Anonymous
                .get("/api/v1/playlists?limit=100")
                .never("id", &[id]),
            Who::Anonymous
                .get(format!("/api/v1/playlists/{id}"))
                .hidden(id),
            Who::Anonymous
                .get(format!("/api/v1/playlists/{id}/tracks"))
                .hidden(id),
            Who::Customer(0).get(playlist_path(id)).hidden(id),
        ])
        .await;
}

/// The `account=N` of a signed URL.
fn account_of(url: &str) -> String {
    let account = url.split(['?', '&']).find(|p| p.starts_with("account="));
    account.expect("a signed URL names its account").to_string()
}
