//! A customer's library: the tracks they own, from `customer_track`, with album and artist,
//! filtered and paginated by track id.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::config::Backend;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::money::Cents;
use crate::paging::{PageRequest, Paged};
use crate::text::text_param;

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnedTrack {
    pub track_id: i64,
    pub name: String,
    pub album_id: Option<i64>,
    pub album_title: Option<String>,
    pub artist_id: Option<i64>,
    pub artist_name: Option<String>,
    pub genre_id: Option<i64>,
    pub milliseconds: i64,
    /// The catalog's price now; the invoice keeps what was paid.
    pub unit_price: Cents,
    /// The invoice that first bought it.
    pub invoice_id: i64,
}

/// Filters of the library; every one is optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Words the track's name contains, ignoring the case of ASCII letters.
    pub q: Option<String>,
    pub album_id: Option<String>,
    pub artist_id: Option<String>,
    pub genre_id: Option<String>,
    /// 1 to 100, default 25.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn id_filter(name: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|raw| {
        raw.trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id >= 1)
            .ok_or_else(|| {
                ApiError::BadRequest(format!("{name} must be a whole number from 1, not `{raw}`"))
            })
    })
    .transpose()
}

/// `%words%` for `LIKE ... ESCAPE '\'`, with the pattern characters escaped.
fn contains_pattern(q: &str) -> String {
    let mut pattern = String::from("%");
    for c in q.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A page of the tracks `customer` owns, by track id.
pub async fn list(
    db: &Db,
    customer: i64,
    query: &LibraryQuery,
    secret: &[u8],
) -> ApiResult<Paged<OwnedTrack>> {
    let album = id_filter("album_id", query.album_id.as_deref())?;
    let artist = id_filter("artist_id", query.artist_id.as_deref())?;
    let genre = id_filter("genre_id", query.genre_id.as_deref())?;
    let q = text_param("q", query.q.as_deref(), 200)?.map(|q| contains_pattern(&q));
    let page: PageRequest<i64> = PageRequest::parse(
        query.limit.as_deref(),
        query.cursor.as_deref(),
        format!("library|{customer}|{q:?}|{album:?}|{artist:?}|{genre:?}"),
        secret,
    )?;
    // Both ignore the case of ASCII letters; PostgreSQL folds others as its locale says,
    // SQLite's LIKE does not.
    let like = match db.backend() {
        Backend::Sqlite => "LIKE",
        Backend::Postgres => "ILIKE",
    };
    let sql = format!(
        "SELECT t.track_id, t.name, t.album_id, al.title, ar.artist_id, ar.name, t.genre_id, \
         t.milliseconds, t.unit_price_cents, o.invoice_id \
         FROM customer_track o JOIN track t ON t.track_id = o.track_id \
         LEFT JOIN album al ON al.album_id = t.album_id \
         LEFT JOIN artist ar ON ar.artist_id = al.artist_id \
         WHERE o.customer_id = $1 AND o.track_id > $2 \
         AND ($3 IS NULL OR t.name {like} $3 ESCAPE '\\') \
         AND ($4 IS NULL OR t.album_id = $4) \
         AND ($5 IS NULL OR al.artist_id = $5) \
         AND ($6 IS NULL OR t.genre_id = $6) \
         ORDER BY o.track_id LIMIT $7"
    );
    let (after, fetch) = (page.after.unwrap_or(0), page.fetch());
    let rows = db
        .read(|pool| {
            let (sql, q) = (&sql, q.clone());
            async move {
                sqlx::query(sql)
                    .bind(customer)
                    .bind(after)
                    .bind(q)
                    .bind(album)
                    .bind(artist)
                    .bind(genre)
                    .bind(fetch)
                    .fetch_all(&pool)
                    .await
            }
        })
        .await?
        .into_iter()
        .map(|row| {
            Ok(OwnedTrack {
                track_id: row.try_get(0)?,
                name: row.try_get(1)?,
                album_id: row.try_get(2)?,
                album_title: row.try_get(3)?,
                artist_id: row.try_get(4)?,
                artist_name: row.try_get(5)?,
                genre_id: row.try_get(6)?,
                milliseconds: row.try_get(7)?,
                unit_price: Cents(row.try_get(8)?),
                invoice_id: row.try_get(9)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(page.finish(rows, |last| last.track_id, secret))
}

/// Whether `customer` owns `track`. A "no" from a replica is asked again of the primary: the
/// purchase may have been made a moment ago through another instance, whose read-your-writes
/// record this one does not have, and a customer who has just paid must be able to listen.
pub async fn owns(db: &Db, customer: i64, track: i64) -> ApiResult<bool> {
    const OWNS: &str =
        "SELECT track_id FROM customer_track WHERE customer_id = $1 AND track_id = $2";
    let owned: Option<i64> = db
        .read(|pool| async move {
            sqlx::query_scalar(OWNS)
                .bind(customer)
                .bind(track)
                .fetch_optional(&pool)
                .await
        })
        .await?;
    if owned.is_some() || !db.has_replicas() {
        return Ok(owned.is_some());
    }
    let on_primary: Option<i64> = sqlx::query_scalar(OWNS)
        .bind(customer)
        .bind(track)
        .fetch_optional(db.primary())
        .await?;
    Ok(on_primary.is_some())
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn patterns_escape_what_like_would_read_as_wildcards() {
        assert_eq!(contains_pattern(" Rock "), "%Rock%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
