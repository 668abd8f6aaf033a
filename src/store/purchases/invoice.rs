//! Pricing an order and writing its invoice, inside the purchase's transaction.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Any, Row, Transaction};

use super::{Canonical, MAX_ORDER_IDS, MAX_ORDER_TRACKS};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::store::invoices::{self, Invoice};

/// A track to sell, at the catalog's price now.
pub(super) struct Line {
    track_id: i64,
    unit_price_cents: i64,
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines of the order, in track id order, or the refusal it earns: unknown ids (422),
/// too many tracks (422), or tracks the customer owns already (409).
pub(super) async fn price(
    tx: &mut Transaction<'static, Any>,
    customer: i64,
    order: &Canonical,
) -> ApiResult<Result<Vec<Line>, ApiError>> {
    let mut unknown = Vec::new();
    let mut tracks: BTreeSet<i64> = BTreeSet::new();
    if !order.albums.is_empty() {
        let sql = format!(
            "SELECT a.album_id, t.track_id FROM album a LEFT JOIN track t ON t.album_id = a.album_id \
             WHERE a.album_id IN ({})",
            placeholders(1, order.albums.len())
        );
        let mut query = sqlx::query(&sql);
        for id in &order.albums {
            query = query.bind(*id);
        }
        let mut found = BTreeSet::new();
        for row in query.fetch_all(&mut **tx).await? {
            found.insert(row.try_get::<i64, _>(0)?);
            if let Some(track) = row.try_get::<Option<i64>, _>(1)? {
                tracks.insert(track);
            }
        }
        unknown.extend(
            order
                .albums
                .difference(&found)
                .map(|id| format!("album {id}")),
        );
    }
    let mut prices = BTreeMap::new();
    if !order.tracks.is_empty() {
        let sql = format!(
            "SELECT track_id, unit_price_cents FROM track WHERE track_id IN ({})",
            placeholders(1, order.tracks.len())
        );
        let mut query = sqlx::query(&sql);
        for id in &order.tracks {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            prices.insert(row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?);
        }
        unknown.extend(
            order
                .tracks
                .iter()
                .filter(|id| !prices.contains_key(id))
                .map(|id| format!("track {id}")),
        );
    }
    if !unknown.is_empty() {
        return Ok(Err(ApiError::Validation(format!(
            "the catalog has no {}",
            unknown.join(", ")
        ))));
    }
    let album_tracks: Vec<i64> = tracks.difference(&order.tracks).copied().collect();
    tracks.extend(&order.tracks);
    if tracks.len() > MAX_ORDER_TRACKS {
        return Ok(Err(ApiError::Validation(format!(
            "an order buys at most {MAX_ORDER_TRACKS} tracks; with its albums this one buys {}",
            tracks.len()
        ))));
    }
    if tracks.is_empty() {
        return Ok(Err(ApiError::Validation(
            "the order is empty: its albums have no tracks".into(),
        )));
    }
    for chunk in album_tracks.chunks(MAX_ORDER_IDS) {
        let sql = format!(
            "SELECT track_id, unit_price_cents FROM track WHERE track_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            prices.insert(row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?);
        }
    }
    let wanted: Vec<i64> = tracks.iter().copied().collect();
    let mut owned = Vec::new();
    for chunk in wanted.chunks(MAX_ORDER_IDS) {
        let sql = format!(
            "SELECT track_id FROM customer_track WHERE customer_id = $1 AND track_id IN ({}) \
             ORDER BY track_id",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(customer);
        for id in chunk {
            query = query.bind(*id);
        }
        owned.extend(query.fetch_all(&mut **tx).await?);
    }
    if !owned.is_empty() {
        let list: Vec<String> = owned.iter().map(i64::to_string).collect();
        return Ok(Err(ApiError::Conflict(format!(
            "you own these tracks already, so nothing was charged: {}; \
             leave them out of the order",
            list.join(", ")
        ))));
    }
    tracks
        .iter()
        .map(|id| {
            let unit_price_cents = *prices
                .get(id)
                .ok_or_else(|| anyhow::anyhow!("track {id} vanished while being priced"))?;
            Ok(Line {
                track_id: *id,
                unit_price_cents,
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Ok)
}

/// Writes the invoice, its lines and the customer's new tracks. `None` when a concurrent
/// purchase made one of the tracks the customer's first (the caller rolls back).
pub(super) async fn record(
    tx: &mut Transaction<'static, Any>,
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
    .fetch_one(&mut **tx)
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
        query.execute(&mut **tx).await?;

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
        let added = query.execute(&mut **tx).await?.rows_affected();
        if added != chunk.len() as u64 {
            return Ok(None);
        }
    }
    let invoice = invoices::load(tx, customer, invoice_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("invoice {invoice_id} vanished in its own transaction"))?;
    Ok(Some(invoice))
}
