//! Reading the catalog out of SQL, entry by entry, to build the index.

use futures_util::TryStreamExt;
use sqlx::Row;
use tokio::sync::mpsc::Sender;

use super::{Album, Artist, Entry, Group, Track};
use crate::db::Db;
use crate::money::Cents;

/// Sends every catalog entry to `out`, returning how many there were. Rows are streamed,
/// not collected, so a million tracks need no more memory than the channel holds.
pub async fn load(db: &Db, out: &Sender<Entry>) -> anyhow::Result<u64> {
    let pool = db.reader();
    let mut count = 0u64;
    let sink = |entry: Entry| async move {
        out.send(entry)
            .await
            .map_err(|_| anyhow::anyhow!("the receiver of catalog entries stopped"))
    };

    let mut rows = sqlx::query(
        "SELECT a.artist_id, a.name, (SELECT COUNT(*) FROM album b WHERE b.artist_id = a.artist_id) \
         FROM artist a",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        sink(Entry::Artist(Artist {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            album_count: row.try_get(2)?,
        }))
        .await?;
        count += 1;
    }

    let mut rows = sqlx::query(
        "SELECT a.album_id, a.title, a.artist_id, (SELECT COUNT(*) FROM track t WHERE t.album_id = a.album_id), r.name \
         FROM album a LEFT JOIN artist r ON r.artist_id = a.artist_id",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        sink(Entry::Album(
            Album {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                artist_id: row.try_get(2)?,
                track_count: row.try_get(3)?,
            },
            row.try_get(4)?,
        ))
        .await?;
        count += 1;
    }

    for (table, id, wrap) in [
        ("genre", "genre_id", Entry::Genre as fn(Group) -> Entry),
        ("media_type", "media_type_id", Entry::MediaType),
    ] {
        let sql = format!(
            "SELECT g.{id}, g.name, (SELECT COUNT(*) FROM track t WHERE t.{id} = g.{id}) FROM {table} g"
        );
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            sink(wrap(Group {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                track_count: row.try_get(2)?,
            }))
            .await?;
            count += 1;
        }
    }

    // Members in order, read in one pass and handed out per playlist.
    let mut members: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    let mut rows = sqlx::query(
        "SELECT playlist_id, track_id FROM playlist_track ORDER BY playlist_id, position",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        members
            .entry(row.try_get(0)?)
            .or_default()
            .push(row.try_get(1)?);
    }
    drop(rows);
    let mut rows = sqlx::query("SELECT playlist_id, name FROM playlist").fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let id: i64 = row.try_get(0)?;
        let tracks = members.remove(&id).unwrap_or_default();
        let group = Group {
            id,
            name: row.try_get(1)?,
            track_count: tracks.len() as i64,
        };
        sink(Entry::Playlist(group, tracks)).await?;
        count += 1;
    }

    // Popularity is units sold; it is summed once per track here, not per request.
    let mut rows = sqlx::query(
        "SELECT t.track_id, t.name, t.album_id, t.media_type_id, t.genre_id, t.composer, \
                t.milliseconds, t.bytes, t.unit_price_cents, COALESCE(s.units, 0), a.artist_id, \
                a.title, r.name \
         FROM track t LEFT JOIN album a ON a.album_id = t.album_id \
              LEFT JOIN artist r ON r.artist_id = a.artist_id LEFT JOIN \
              (SELECT track_id, CAST(SUM(quantity) AS BIGINT) AS units FROM invoice_line GROUP BY track_id) s \
              ON s.track_id = t.track_id",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        sink(Entry::Track(
            Track {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                album_id: row.try_get(2)?,
                artist_id: row.try_get(10)?,
                media_type_id: row.try_get(3)?,
                genre_id: row.try_get(4)?,
                composer: row.try_get(5)?,
                milliseconds: row.try_get(6)?,
                bytes: row.try_get(7)?,
                unit_price: Cents(row.try_get(8)?),
                popularity: row.try_get(9)?,
            },
            row.try_get(11)?,
            row.try_get(12)?,
        ))
        .await?;
        count += 1;
    }
    Ok(count)
}
