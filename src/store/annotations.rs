//! What an account says about the catalog, whichever client it uses: stars and ratings of
//! tracks, albums and artists, plays (scrobbles), and the saved play queue. Every read is of
//! one account's own rows, bounded by the page or the ids asked about.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};

/// What can be starred and rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Item {
    Track,
    Album,
    Artist,
}

impl Item {
    pub fn as_str(self) -> &'static str {
        match self {
            Item::Track => "track",
            Item::Album => "album",
            Item::Artist => "artist",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "track" => Some(Item::Track),
            "album" => Some(Item::Album),
            "artist" => Some(Item::Artist),
            _ => None,
        }
    }
}

/// Ids inlined into an `IN (...)` list: they are integers, so nothing can be injected.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Stars the items; starring twice keeps the first date.
pub async fn star(db: &Db, account: i64, items: &[(Item, i64)]) -> ApiResult<()> {
    let now = db::timestamp_now();
    let mut tx = db.writer().begin().await?;
    for (item, id) in items {
        sqlx::query(
            "INSERT INTO star (account_id, kind, item_id, starred_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, kind, item_id) DO NOTHING",
        )
        .bind(account)
        .bind(item.as_str())
        .bind(id)
        .bind(&now)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    db.note_write(account).await;
    Ok(())
}

pub async fn unstar(db: &Db, account: i64, items: &[(Item, i64)]) -> ApiResult<()> {
    let mut tx = db.writer().begin().await?;
    for (item, id) in items {
        sqlx::query("DELETE FROM star WHERE account_id = $1 AND kind = $2 AND item_id = $3")
            .bind(account)
            .bind(item.as_str())
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    db.note_write(account).await;
    Ok(())
}

/// When each of `ids` was starred, for those that are.
pub async fn stars_of(
    db: &Db,
    account: i64,
    item: Item,
    ids: &[i64],
) -> ApiResult<HashMap<i64, String>> {
    marks_of(db, account, item, ids, "star", "starred_at").await
}

/// The account's starred items of one kind, newest star first.
pub async fn starred(
    db: &Db,
    account: i64,
    item: Item,
    limit: u64,
    offset: u64,
) -> ApiResult<Vec<(i64, String)>> {
    let rows = db
        .read(|pool| async move {
            sqlx::query(
                "SELECT item_id, starred_at FROM star WHERE account_id = $1 AND kind = $2 \
                 ORDER BY starred_at DESC, item_id LIMIT $3 OFFSET $4",
            )
            .bind(account)
            .bind(item.as_str())
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&pool)
            .await
        })
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Sets a rating from 1 to 5; 0 removes it.
pub async fn rate(db: &Db, account: i64, item: Item, id: i64, rating: u8) -> ApiResult<()> {
    if rating > 5 {
        return Err(ApiError::Validation(format!(
            "a rating is 1 to 5 (0 removes it), not {rating}"
        )));
    }
    let mut tx = db.writer().begin().await?;
    sqlx::query("DELETE FROM rating WHERE account_id = $1 AND kind = $2 AND item_id = $3")
        .bind(account)
        .bind(item.as_str())
        .bind(id)
        .execute(&mut tx)
        .await?;
    if rating > 0 {
        sqlx::query(
            "INSERT INTO rating (account_id, kind, item_id, rating, rated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account)
        .bind(item.as_str())
        .bind(id)
        .bind(i64::from(rating))
        .bind(db::timestamp_now())
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    db.note_write(account).await;
    Ok(())
}

pub async fn ratings_of(
    db: &Db,
    account: i64,
    item: Item,
    ids: &[i64],
) -> ApiResult<HashMap<i64, i64>> {
    marks_of(db, account, item, ids, "rating", "rating").await
}

/// One column of the account's marks (stars or ratings) on `ids`, for those that have one.
/// `table` and `column` are this module's own names, never input.
async fn marks_of<T>(
    db: &Db,
    account: i64,
    item: Item,
    ids: &[i64],
    table: &'static str,
    column: &'static str,
) -> ApiResult<HashMap<i64, T>>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT item_id, {column} FROM {table} WHERE account_id = $1 AND kind = $2 \
         AND item_id IN ({})",
        id_list(ids)
    );
    let sql = sql.as_str();
    let rows = db
        .read(|pool| async move {
            sqlx::query(sql)
                .bind(account)
                .bind(item.as_str())
                .fetch_all(&pool)
                .await
        })
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The account's rated items of one kind, best first.
pub async fn best_rated(
    db: &Db,
    account: i64,
    item: Item,
    limit: u64,
    offset: u64,
) -> ApiResult<Vec<i64>> {
    Ok(db
        .read(|pool| async move {
            sqlx::query_scalar(
                "SELECT item_id FROM rating WHERE account_id = $1 AND kind = $2 \
                 ORDER BY rating DESC, item_id LIMIT $3 OFFSET $4",
            )
            .bind(account)
            .bind(item.as_str())
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&pool)
            .await
        })
        .await?)
}

/// One star or rating, as the REST API lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Annotation {
    pub kind: Item,
    pub id: i64,
    /// RFC 3339 UTC, when starred; absent when only rated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred_at: Option<String>,
    /// 1 to 5, when rated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<i64>,
}

/// A page of the account's stars and ratings, by kind then id, after `after`.
pub async fn annotations(
    db: &Db,
    account: i64,
    after: Option<(String, i64)>,
    fetch: i64,
) -> ApiResult<Vec<Annotation>> {
    let (kind, id) = after.unwrap_or_default();
    let kind = kind.as_str();
    let rows = db
        .read(|pool| async move {
            sqlx::query(
                "SELECT kind, item_id, MAX(starred_at), MAX(rating) FROM ( \
                   SELECT kind, item_id, starred_at, NULL AS rating FROM star WHERE account_id = $1 \
                   UNION ALL \
                   SELECT kind, item_id, NULL AS starred_at, rating FROM rating WHERE account_id = $1 \
                 ) a WHERE kind > $2 OR (kind = $2 AND item_id > $3) \
                 GROUP BY kind, item_id ORDER BY kind, item_id LIMIT $4",
            )
            .bind(account)
            .bind(kind)
            .bind(id)
            .bind(fetch)
            .fetch_all(&pool)
            .await
        })
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get(0)?;
        out.push(Annotation {
            kind: Item::parse(&kind)
                .ok_or_else(|| anyhow::anyhow!("an annotation has the unknown kind {kind:?}"))?,
            id: row.try_get(1)?,
            starred_at: row.try_get(2)?,
            rating: row.try_get(3)?,
        });
    }
    Ok(out)
}

/// Which of `tracks` the customer owns (bought, or on an imported invoice).
pub async fn owned_among(
    db: &Db,
    customer: i64,
    tracks: &[i64],
) -> ApiResult<std::collections::HashSet<i64>> {
    if tracks.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT track_id FROM customer_track WHERE customer_id = $1 AND track_id IN ({})",
        id_list(tracks)
    );
    let sql = sql.as_str();
    let owned: Vec<i64> = db
        .read(|pool| async move {
            sqlx::query_scalar(sql)
                .bind(customer)
                .fetch_all(&pool)
                .await
        })
        .await?;
    Ok(owned.into_iter().collect())
}

/// The content type and size of the audio file of each of `tracks` that has one.
pub async fn audio_among(db: &Db, tracks: &[i64]) -> ApiResult<HashMap<i64, (String, i64)>> {
    if tracks.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT track_id, content_type, bytes FROM track_audio WHERE track_id IN ({})",
        id_list(tracks)
    );
    let sql = sql.as_str();
    let rows = db
        .read(|pool| async move { sqlx::query(sql).fetch_all(&pool).await })
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
