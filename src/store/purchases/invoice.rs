//! Pricing an order and writing its invoice, inside the purchase's transaction.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use crate::db::Tx;

use super::{Canonical, MAX_ORDER_IDS, MAX_ORDER_TRACKS};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::store::invoices::{self, Invoice};

/// A track to sell, at the catalog's price now.
pub(super) struct Line {
    pub(super) track_id: i64,
    unit_price_cents: i64,
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of `sql`, whose `{ids}` becomes `$first, ...` bound to `ids` after `before` (bound
/// first, as `$1..`). Callers keep `ids` to `MAX_ORDER_IDS`, far below either backend's
/// limit on parameters.
async fn rows_for_ids(
    tx: &mut Tx<'static>,
    sql: &str,
    before: &[i64],
    ids: &[i64],
) -> ApiResult<Vec<sqlx::any::AnyRow>> {
    let sql = sql.replace("{ids}", &placeholders(before.len() + 1, ids.len()));
    let mut query = sqlx::query(&sql);
    for value in before.iter().chain(ids) {
        query = query.bind(*value);
    }
    Ok(query.fetch_all(&mut *tx).await?)
}

/// What pricing an order came to.
pub(super) enum Priced {
    /// The lines to sell, in track id order.
    Lines(Vec<Line>),
    /// The refusal the order earns, an answer like any other: unknown ids (422), too many
    /// tracks (422), or tracks the customer owns already (409).
    Refused(ApiError),
}

/// Prices `order` for `customer` from the catalog as it is now.
pub(super) async fn price(
    tx: &mut Tx<'static>,
    customer: i64,
    order: &Canonical,
) -> ApiResult<Priced> {
    let mut unknown = Vec::new();
    let mut prices: BTreeMap<i64, i64> = BTreeMap::new();
    if !order.albums.is_empty() {
        let albums: Vec<i64> = order.albums.iter().copied().collect();
        let rows = rows_for_ids(
            tx,
            "SELECT a.album_id, t.track_id, t.unit_price_cents FROM album a \
             LEFT JOIN track t ON t.album_id = a.album_id WHERE a.album_id IN ({ids})",
            &[],
            &albums,
        )
        .await?;
        let mut found = BTreeSet::new();
        for row in rows {
            found.insert(row.try_get::<i64, _>(0)?);
            if let Some(track) = row.try_get::<Option<i64>, _>(1)? {
                prices.insert(track, row.try_get::<i64, _>(2)?);
            }
        }
        unknown.extend(
            order
                .albums
                .difference(&found)
                .map(|id| format!("album {id}")),
        );
    }
    if !order.tracks.is_empty() {
        let tracks: Vec<i64> = order.tracks.iter().copied().collect();
        let rows = rows_for_ids(
            tx,
            "SELECT track_id, unit_price_cents FROM track WHERE track_id IN ({ids})",
            &[],
            &tracks,
        )
        .await?;
        let mut found = BTreeSet::new();
        for row in rows {
            let track = row.try_get::<i64, _>(0)?;
            found.insert(track);
            prices.insert(track, row.try_get::<i64, _>(1)?);
        }
        unknown.extend(
            order
                .tracks
                .difference(&found)
                .map(|id| format!("track {id}")),
        );
    }
    if !unknown.is_empty() {
        // Well-formed ids the catalog lacks: what they name is not found.
        return Ok(Priced::Refused(ApiError::NotFound(format!(
            "the catalog has no {}",
            unknown.join(", ")
        ))));
    }
    if prices.len() > MAX_ORDER_TRACKS {
        return Ok(Priced::Refused(ApiError::Validation(format!(
            "an order buys at most {MAX_ORDER_TRACKS} tracks; with its albums this one buys {}",
            prices.len()
        ))));
    }
    if prices.is_empty() {
        return Ok(Priced::Refused(ApiError::Validation(
            "the order is empty: its albums have no tracks".into(),
        )));
    }
    let wanted: Vec<i64> = prices.keys().copied().collect();
    let mut owned = Vec::new();
    for chunk in wanted.chunks(MAX_ORDER_IDS) {
        let rows = rows_for_ids(
            tx,
            "SELECT track_id FROM customer_track WHERE customer_id = $1 \
             AND track_id IN ({ids}) ORDER BY track_id",
            &[customer],
            chunk,
        )
        .await?;
        for row in rows {
            owned.push(row.try_get::<i64, _>(0)?.to_string());
        }
    }
    if !owned.is_empty() {
        return Ok(Priced::Refused(ApiError::Conflict(format!(
            "you own these tracks already, so nothing was charged: {}; \
             leave them out of the order",
            owned.join(", ")
        ))));
    }
    Ok(Priced::Lines(
        prices
            .into_iter()
            .map(|(track_id, unit_price_cents)| Line {
                track_id,
                unit_price_cents,
            })
            .collect(),
    ))
}

/// Writes the invoice, its lines and the customer's new tracks. `None` when a concurrent
/// purchase made one of the tracks the customer's first (the caller rolls back).
pub(super) async fn record(
    tx: &mut Tx<'static>,
    customer: i64,
    lines: &[Line],
) -> ApiResult<Option<Invoice>> {
    let total: i64 = lines.iter().map(|l| l.unit_price_cents).sum();
    let invoice_id: i64 = sqlx::query_scalar(
        "INSERT INTO invoice (customer_id, invoice_date, billing_address, billing_city, \
         billing_state, billing_country, billing_postal_code, total_cents) \
         SELECT customer_id, $2, address, city, state, country, postal_code, $3 \
         FROM customer WHERE customer_id = $1 RETURNING invoice_id",
    )
    .bind(customer)
    .bind(db::timestamp_now())
    .bind(total)
    .fetch_one(&mut *tx)
    .await?;
    // Four values a line; 200 lines a statement stays far below either backend's limit.
    for chunk in lines.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, ${}, 1)", 2 + 2 * i, 3 + 2 * i))
            .collect();
        let sql = format!(
            "INSERT INTO invoice_line (invoice_id, track_id, unit_price_cents, quantity) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(invoice_id);
        for line in chunk {
            query = query.bind(line.track_id).bind(line.unit_price_cents);
        }
        query.execute(&mut *tx).await?;

        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, $2, ${})", 3 + i))
            .collect();
        let sql = format!(
            "INSERT INTO customer_track (customer_id, invoice_id, track_id) VALUES {} \
             ON CONFLICT (customer_id, track_id) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(customer).bind(invoice_id);
        for line in chunk {
            query = query.bind(line.track_id);
        }
        let added = query.execute(&mut *tx).await?.rows_affected();
        if added != chunk.len() as u64 {
            return Ok(None);
        }
    }
    let invoice = invoices::load(tx, customer, invoice_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("invoice {invoice_id} vanished in its own transaction"))?;
    Ok(Some(invoice))
}
