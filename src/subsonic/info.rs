//! Info: `getArtistInfo2` and `getAlbumInfo2` (valid and empty: the store holds no
//! biographies or notes), and `getSimilarSongs2`, songs bought together with the song (or
//! with the artist's songs) on the store's invoices, the most often first.

use std::sync::Arc;

use serde_json::{json, Value};

use super::entries;
use super::ids::Id;
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::state::AppState;
use crate::store::accounts::Account;

async fn exists(
    state: &AppState,
    shared: &Arc<Shared>,
    kind: Kind,
    id: i64,
) -> Result<(), Failure> {
    let found = on_index(state, shared, move |index, _, _| {
        entries::entry(index, kind, id)
    })
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Failure::not_found(format!(
            "there is no {} with id {id}",
            kind.noun()
        ))),
    }
}

pub async fn artist_info2(
    state: &AppState,
    shared: &Arc<Shared>,
    params: &Params,
) -> Result<Value, Failure> {
    let id = Id::expect("id", params.required("id")?, Id::Artist)?;
    exists(state, shared, Kind::Artist, id).await?;
    Ok(json!({ "artistInfo2": {} }))
}

pub async fn album_info2(
    state: &AppState,
    shared: &Arc<Shared>,
    params: &Params,
) -> Result<Value, Failure> {
    let id = Id::expect("id", params.required("id")?, Id::Album)?;
    exists(state, shared, Kind::Album, id).await?;
    Ok(json!({ "albumInfo": {} }))
}

/// Tracks sharing invoices with the given ones, by how many invoices they share. The
/// invoices read are those holding the given tracks, so the cost follows their sales.
async fn bought_with(state: &AppState, of: &str, id: i64, count: u64) -> Result<Vec<i64>, Failure> {
    let sql = format!(
        "SELECT l2.track_id FROM invoice_line l1 \
         JOIN invoice_line l2 ON l2.invoice_id = l1.invoice_id \
         WHERE l1.track_id IN ({of}) AND l2.track_id NOT IN ({of}) \
         GROUP BY l2.track_id ORDER BY COUNT(DISTINCT l1.invoice_id) DESC, l2.track_id \
         LIMIT $2"
    );
    let sql = sql.as_str();
    Ok(state
        .db
        .read(|pool| async move {
            sqlx::query_scalar(sql)
                .bind(id)
                .bind(count as i64)
                .fetch_all(&pool)
                .await
        })
        .await?)
}

pub async fn similar_songs2(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let raw = params.required("id")?;
    let count = params.bounded("count", 50, 0, super::lists::MAX_SIZE)?;
    let id = Id::parse(raw)
        .or_else(|| {
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Id::Track)
        })
        .ok_or_else(|| Failure::not_found(format!("{raw} names no song, album or artist")))?;
    let of = match id {
        Id::Track(n) => {
            exists(state, shared, Kind::Track, n).await?;
            "SELECT track_id FROM track WHERE track_id = $1"
        }
        Id::Album(n) => {
            exists(state, shared, Kind::Album, n).await?;
            "SELECT track_id FROM track WHERE album_id = $1"
        }
        Id::Artist(n) => {
            exists(state, shared, Kind::Artist, n).await?;
            "SELECT t.track_id FROM track t JOIN album a ON a.album_id = t.album_id \
             WHERE a.artist_id = $1"
        }
        Id::Playlist(_) => return Err(Failure::not_found(format!("{raw} is a playlist"))),
    };
    let ids = if count == 0 {
        Vec::new()
    } else {
        bought_with(state, of, id.number(), count).await?
    };
    let tracks = on_index(state, shared, move |index, _, _| {
        entries::load(index, Kind::Track, &ids)
    })
    .await?;
    let songs = entries::songs(state, shared, account, tracks).await?;
    Ok(json!({ "similarSongs2": { "song": songs } }))
}
