//! What an account says about the catalog, whichever client it uses: stars and ratings of
//! tracks, albums and artists, plays (scrobbles), and the saved play queue. Every read is of
//! one account's own rows, bounded by the page or the ids asked about.

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
