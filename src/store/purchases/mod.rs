//! Purchases: an order of tracks and albums turned into one invoice, priced from the catalog
//! in integer cents, exactly once per idempotency key.
//!
//! Everything happens in one transaction that starts by inserting the idempotency key. A
//! second request with the same key blocks on that row (PostgreSQL, for up to 5 s; then a
//! 409 says it is in flight) or queues for SQLite's single writer connection until the first
//! commits, then finds the stored answer and replays it. A purchase
//! that fails or whose process dies rolls back with its key, so its retry runs afresh; one
//! that commits has its invoice, every line, the tracks it made owned and its answer, or none.

mod invoice;

use std::collections::BTreeSet;

use serde::Deserialize;
use sqlx::Row;

use crate::db::{Connected, Counted, Tx};
use utoipa::ToSchema;

use invoice::{price, record, Priced};

use crate::config::Backend;
use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};

/// The most ids one order may name (tracks and albums together).
pub const MAX_ORDER_IDS: usize = 500;
/// The most tracks one order may buy once its albums are expanded.
pub const MAX_ORDER_TRACKS: usize = 2_000;
/// The longest `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 255;
/// Keys older than this are forgotten (at least 24 hours, as clients are promised).
pub const KEY_RETENTION_DAYS: i64 = 7;
/// A purchase that lost a race for a track to a concurrent purchase is run again this many
/// times; the next run sees the track owned and answers 409.
const ATTEMPTS: usize = 3;
/// How long a request waits for a purchase in flight with the same key (PostgreSQL; on
/// SQLite purchases queue for the single writer connection instead).
const KEY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What to buy. Duplicates are bought once; an album stands for all of its tracks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Order {
    #[serde(default, deserialize_with = "crate::ids::whole_numbers")]
    #[schema(example = json!([1, 2]))]
    pub track_ids: Vec<i64>,
    #[serde(default, deserialize_with = "crate::ids::whole_numbers")]
    #[schema(example = json!([]))]
    pub album_ids: Vec<i64>,
}

/// An order reduced to what it means: sorted, without duplicates.
#[derive(Debug, PartialEq, Eq)]
struct Canonical {
    tracks: BTreeSet<i64>,
    albums: BTreeSet<i64>,
}

impl Order {
    fn canonical(&self) -> ApiResult<Canonical> {
        let named = self.track_ids.len() + self.album_ids.len();
        if named == 0 {
            return Err(ApiError::Validation(
                "the order is empty: name at least one id in `track_ids` or `album_ids`".into(),
            ));
        }
        if named > MAX_ORDER_IDS {
            return Err(ApiError::Validation(format!(
                "an order names at most {MAX_ORDER_IDS} ids; this one names {named}"
            )));
        }
        if let Some(problem) =
            crate::ids::below_one("ids", self.track_ids.iter().chain(&self.album_ids))
        {
            return Err(ApiError::Validation(problem));
        }
        Ok(Canonical {
            tracks: self.track_ids.iter().copied().collect(),
            albums: self.album_ids.iter().copied().collect(),
        })
    }
}

impl Canonical {
    /// What "the same body" means for a key: the same tracks and albums, in any order.
    fn hash(&self) -> String {
        let list = |ids: &BTreeSet<i64>| ids.iter().map(i64::to_string).collect::<Vec<_>>();
        let text = format!(
            "tracks={}|albums={}",
            list(&self.tracks).join(","),
            list(&self.albums).join(",")
        );
        crate::hex::sha256(text.as_bytes())
    }
}

/// A checked `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn idempotency_key(raw: Option<&str>) -> ApiResult<String> {
    let Some(raw) = raw else {
        return Err(ApiError::BadRequest(
            "the Idempotency-Key header is required: send a new unique value (a UUID, say) \
             with each purchase, and the same value when retrying it"
                .into(),
        ));
    };
    let visible = raw.bytes().all(|b| b.is_ascii_graphic());
    if raw.is_empty() || raw.len() > MAX_KEY_LEN || !visible {
        return Err(ApiError::BadRequest(format!(
            "the Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        )));
    }
    Ok(raw.to_string())
}

/// The answer to a purchase: a status and a JSON body, kept with the key so a retry gets
/// them again.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub invoice_id: Option<i64>,
    /// Whether this answer was stored by an earlier request with the same key.
    pub replayed: bool,
    /// The tracks this request sold, whose popularity has changed (none when replayed or
    /// refused).
    pub sold: Vec<i64>,
}

/// Who is buying.
#[derive(Debug, Clone, Copy)]
pub struct Buyer {
    pub account_id: i64,
    pub customer_id: i64,
}

/// Buys `order` for `buyer` once per `key`. Refusals that depend on the catalog or the
/// buyer's library (unknown ids, tracks already owned) are answers too, and stored; a
/// malformed order is an error, not stored, as nothing was attempted.
pub async fn purchase(db: &Db, buyer: Buyer, key: &str, order: &Order) -> ApiResult<Answer> {
    let order = order.canonical()?;
    let hash = order.hash();
    for _ in 0..ATTEMPTS {
        match attempt(db, buyer, key, &hash, &order).await {
            Ok(Some(answer)) => return Ok(answer),
            Ok(None) => continue,
            // A track was deleted by an admin while this purchase priced it: run again,
            // and the next run names it as unknown.
            Err(e) if database_code(&e) == Some("23503") => continue,
            Err(e) if database_code(&e) == Some("55P03") => {
                return Err(ApiError::Conflict(format!(
                    "a purchase with this Idempotency-Key is still in progress; retry with the \
                     same key in a few seconds (it waited {}s)",
                    KEY_WAIT.as_secs()
                )))
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::Conflict(
        "other purchases of these tracks kept getting in first, so nothing was charged; \
         retry with the same key"
            .into(),
    ))
}

/// The SQLSTATE of a database error behind `error`, if that is what it is.
fn database_code(error: &ApiError) -> Option<&str> {
    let ApiError::Internal(cause) = error else {
        return None;
    };
    match cause.downcast_ref::<sqlx::Error>()? {
        sqlx::Error::Database(e) => match e.code()? {
            std::borrow::Cow::Borrowed(code) => Some(code),
            // Codes this module tests for are all borrowed from the driver's message.
            std::borrow::Cow::Owned(_) => None,
        },
        _ => None,
    }
}

/// One run of the purchase transaction: the answer, or `None` when a concurrent purchase
/// got in first and the run must start again.
async fn attempt(
    db: &Db,
    buyer: Buyer,
    key: &str,
    hash: &str,
    order: &Canonical,
) -> ApiResult<Option<Answer>> {
    let mut tx = db.writer().begin().await?;
    if db.backend() == Backend::Postgres {
        // A request whose key is held by a purchase in flight waits at most this long for
        // it, rather than holding a pooled connection for as long as that one takes.
        sqlx::query(&format!(
            "SET LOCAL lock_timeout = '{}s'",
            KEY_WAIT.as_secs()
        ))
        .execute(&mut tx)
        .await?;
    }
    let claimed = sqlx::query(
        "INSERT INTO idempotency_key \
         (account_id, idempotency_key, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, 0, '', $4) \
         ON CONFLICT (account_id, idempotency_key) DO NOTHING",
    )
    .bind(buyer.account_id)
    .bind(key)
    .bind(hash)
    .bind(db::timestamp_now())
    .execute(&mut tx)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        let stored = stored_answer(&mut tx, buyer.account_id, key).await?;
        tx.rollback().await?;
        return match stored {
            Some((stored_hash, answer)) if stored_hash == hash => Ok(Some(answer)),
            // A conflict with the key's state. The IETF draft suggests 422, but the request
            // itself is valid; what it conflicts with is the order the key already holds.
            Some(_) => Err(ApiError::Conflict(
                "this Idempotency-Key was used for a different order; \
                 send a new key with a new order"
                    .into(),
            )),
            // Forgotten between the insert and the read: claim it again.
            None => Ok(None),
        };
    }
    let answer = match price(&mut tx, buyer.customer_id, order).await? {
        Priced::Refused(refusal) => {
            let problem = refusal.problem();
            Answer {
                status: problem.status,
                body: serde_json::to_string(&problem).map_err(anyhow::Error::from)?,
                invoice_id: None,
                replayed: false,
                sold: Vec::new(),
            }
        }
        Priced::Lines(lines) => match record(&mut tx, buyer.customer_id, &lines).await? {
            Some(invoice) => Answer {
                status: 201,
                body: serde_json::to_string(&invoice).map_err(anyhow::Error::from)?,
                invoice_id: Some(invoice.id),
                replayed: false,
                sold: lines.iter().map(|line| line.track_id).collect(),
            },
            // A concurrent purchase bought one of these tracks first: start again.
            None => {
                tx.rollback().await?;
                return Ok(None);
            }
        },
    };
    sqlx::query(
        "UPDATE idempotency_key SET status = $1, response = $2, invoice_id = $3 \
         WHERE account_id = $4 AND idempotency_key = $5",
    )
    .bind(i32::from(answer.status))
    .bind(&answer.body)
    .bind(answer.invoice_id)
    .bind(buyer.account_id)
    .bind(key)
    .execute(&mut tx)
    .await?;
    forget_old_keys(&mut tx, buyer.account_id).await?;
    tx.commit().await?;
    Ok(Some(answer))
}

async fn stored_answer(
    tx: &mut Tx<'static>,
    account: i64,
    key: &str,
) -> ApiResult<Option<(String, Answer)>> {
    let row = sqlx::query(
        "SELECT request_hash, status, response, invoice_id FROM idempotency_key \
         WHERE account_id = $1 AND idempotency_key = $2",
    )
    .bind(account)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status: i32 = row.try_get(1)?;
    Ok(Some((
        row.try_get(0)?,
        Answer {
            status: u16::try_from(status).map_err(anyhow::Error::from)?,
            body: row.try_get(2)?,
            invoice_id: row.try_get(3)?,
            replayed: true,
            sold: Vec::new(),
        },
    )))
}

async fn forget_old_keys(tx: &mut Tx<'static>, account: i64) -> ApiResult<()> {
    let cutoff = chrono::Utc::now() - chrono::Duration::days(KEY_RETENTION_DAYS);
    sqlx::query("DELETE FROM idempotency_key WHERE account_id = $1 AND created_at < $2")
        .bind(account)
        .bind(db::timestamp(cutoff))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Makes every invoiced track owned by its customer; run after a seed writes invoices.
pub async fn derive_ownership(conn: &mut Counted<impl Connected>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO customer_track (customer_id, track_id, invoice_id) \
         SELECT i.customer_id, l.track_id, MIN(i.invoice_id) \
         FROM invoice_line l JOIN invoice i ON i.invoice_id = l.invoice_id \
         GROUP BY i.customer_id, l.track_id \
         ON CONFLICT (customer_id, track_id) DO NOTHING",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(tracks: &[i64], albums: &[i64]) -> Order {
        Order {
            track_ids: tracks.to_vec(),
            album_ids: albums.to_vec(),
        }
    }

    #[test]
    fn the_same_order_in_another_arrangement_has_the_same_hash() {
        let a = order(&[3, 1, 2, 1], &[5]).canonical().unwrap();
        let b = order(&[1, 2, 3], &[5, 5]).canonical().unwrap();
        assert_eq!(a.hash(), b.hash());
        let c = order(&[1, 2], &[5]).canonical().unwrap();
        assert_ne!(a.hash(), c.hash());
        let tracks_as_albums = order(&[], &[1, 2, 3, 5]).canonical().unwrap();
        assert_ne!(a.hash(), tracks_as_albums.hash());
    }

    #[test]
    fn empty_oversized_and_non_positive_orders_are_refused() {
        assert!(order(&[], &[]).canonical().is_err());
        let many: Vec<i64> = (1..=MAX_ORDER_IDS as i64 + 1).collect();
        assert!(order(&many, &[]).canonical().is_err());
        assert!(order(&[1, 0], &[]).canonical().is_err());
        assert!(order(&[1], &[-7]).canonical().is_err());
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(idempotency_key(None).is_err());
        assert!(idempotency_key(Some("")).is_err());
        assert!(idempotency_key(Some("has space")).is_err());
        assert!(idempotency_key(Some(&"k".repeat(MAX_KEY_LEN + 1))).is_err());
        assert_eq!(
            idempotency_key(Some("0b6c-4e1f")).unwrap(),
            "0b6c-4e1f".to_string()
        );
    }
}
