//! The taxonomies every seeded catalog starts with, derived from its data:
//! - `genre`: the catalog's genres in a hierarchy (Heavy Metal under Metal under Rock, Opera
//!   under Classical, the TV and film genres under one parent), attached to their tracks;
//! - `format`: media types under Audio or Video (AAC kinds under AAC), attached to tracks;
//! - `length`: four duration bands, attached to tracks.
//!
//! Attachments are written with `INSERT … SELECT`, so a million tracks cost a few statements.

use std::collections::HashMap;

use sqlx::Row;

use crate::db::{Connected, Counted};
use crate::model::terms::slugify;

/// Where each known genre goes, by slug: (child, parent).
const GENRE_PARENTS: &[(&str, &str)] = &[
    ("metal", "rock"),
    ("heavy-metal", "metal"),
    ("alternative-and-punk", "rock"),
    ("alternative", "rock"),
    ("rock-and-roll", "rock"),
    ("bossa-nova", "latin"),
    ("easy-listening", "pop"),
    ("opera", "classical"),
    ("tv-shows", "tv-and-film"),
    ("drama", "tv-and-film"),
    ("comedy", "tv-and-film"),
    ("science-fiction", "tv-and-film"),
    ("sci-fi-and-fantasy", "tv-and-film"),
];

/// Parents that are no genre of their own: (slug, name, description).
const GENRE_GROUPS: &[(&str, &str, &str)] = &[(
    "tv-and-film",
    "TV & Film",
    "Episodes and features sold as video",
)];

/// Duration bands: (slug, name, from ms inclusive, to ms exclusive).
const LENGTHS: &[(&str, &str, i64, i64)] = &[
    ("under-3-minutes", "Under 3 minutes", 0, 180_000),
    ("3-to-6-minutes", "3 to 6 minutes", 180_000, 360_000),
    ("6-to-10-minutes", "6 to 10 minutes", 360_000, 600_000),
    ("over-10-minutes", "Over 10 minutes", 600_000, i64::MAX),
];

struct NewTerm<'a> {
    taxonomy: &'a str,
    slug: String,
    name: String,
    description: Option<&'a str>,
    sort_order: i64,
    meta: serde_json::Value,
}

async fn insert(conn: &mut Counted<impl Connected>, term: NewTerm<'_>) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO taxonomy_term (type, slug, name, description, sort_order, meta) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING term_id",
    )
    .bind(term.taxonomy)
    .bind(term.slug)
    .bind(term.name)
    .bind(term.description)
    .bind(term.sort_order)
    .bind(term.meta.to_string())
    .fetch_one(conn)
    .await?)
}

async fn set_parent(
    conn: &mut Counted<impl Connected>,
    child: i64,
    parent: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE taxonomy_term SET parent_id = $1 WHERE term_id = $2")
        .bind(parent)
        .bind(child)
        .execute(conn)
        .await?;
    Ok(())
}

/// Attaches `term` to every track that `condition` (over `track`, with `$2` and `$3`)
/// selects.
async fn attach_tracks(
    conn: &mut Counted<impl Connected>,
    term: i64,
    condition: &str,
    a: i64,
    b: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO term_attachment (term_id, entity_kind, entity_id) \
         SELECT $1, 'track', track_id FROM track WHERE {condition}"
    );
    sqlx::query(&sql)
        .bind(term)
        .bind(a)
        .bind(b)
        .execute(conn)
        .await?;
    Ok(())
}

/// Named rows of a two-column table, `(id, name)`.
async fn named(
    conn: &mut Counted<impl Connected>,
    sql: &str,
) -> anyhow::Result<Vec<(i64, String)>> {
    let rows = sqlx::query(sql).fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Writes the default taxonomies for the catalog already in the transaction.
pub async fn seed(conn: &mut Counted<impl Connected>) -> anyhow::Result<()> {
    genres(conn).await?;
    formats(conn).await?;
    lengths(conn).await
}

async fn genres(conn: &mut Counted<impl Connected>) -> anyhow::Result<()> {
    let mut ids: HashMap<String, i64> = HashMap::new();
    for (genre_id, name) in
        named(conn, "SELECT genre_id, name FROM genre ORDER BY genre_id").await?
    {
        let slug = slugify(&name).unwrap_or_else(|| format!("genre-{genre_id}"));
        if ids.contains_key(&slug) {
            continue;
        }
        let id = insert(
            conn,
            NewTerm {
                taxonomy: "genre",
                slug: slug.clone(),
                name,
                description: None,
                sort_order: 0,
                meta: serde_json::json!({ "genre_id": genre_id }),
            },
        )
        .await?;
        attach_tracks(conn, id, "genre_id = $2 AND $3 = 0", genre_id, 0).await?;
        ids.insert(slug, id);
    }
    for (slug, name, description) in GENRE_GROUPS {
        let id = insert(
            conn,
            NewTerm {
                taxonomy: "genre",
                slug: slug.to_string(),
                name: name.to_string(),
                description: Some(description),
                sort_order: 0,
                meta: serde_json::json!({}),
            },
        )
        .await?;
        ids.insert(slug.to_string(), id);
    }
    for (child, parent) in GENRE_PARENTS {
        if let (Some(&child), Some(&parent)) = (ids.get(*child), ids.get(*parent)) {
            set_parent(conn, child, parent).await?;
        }
    }
    Ok(())
}

async fn formats(conn: &mut Counted<impl Connected>) -> anyhow::Result<()> {
    let group = |slug: &'static str, name: &'static str, order: i64| NewTerm {
        taxonomy: "format",
        slug: slug.to_string(),
        name: name.to_string(),
        description: None,
        sort_order: order,
        meta: serde_json::json!({}),
    };
    let audio = insert(conn, group("audio", "Audio", 1)).await?;
    let video = insert(conn, group("video", "Video", 2)).await?;
    let aac = insert(conn, group("aac", "AAC", 0)).await?;
    set_parent(conn, aac, audio).await?;
    let media_types = named(
        conn,
        "SELECT media_type_id, name FROM media_type ORDER BY media_type_id",
    )
    .await?;
    for (media_type_id, name) in media_types {
        let slug = slugify(&name).unwrap_or_else(|| format!("media-type-{media_type_id}"));
        let lower = name.to_lowercase();
        let parent = if lower.contains("video") {
            video
        } else if lower.contains("aac") {
            aac
        } else {
            audio
        };
        let id = insert(
            conn,
            NewTerm {
                taxonomy: "format",
                slug,
                name,
                description: None,
                sort_order: 0,
                meta: serde_json::json!({ "media_type_id": media_type_id }),
            },
        )
        .await?;
        set_parent(conn, id, parent).await?;
        attach_tracks(conn, id, "media_type_id = $2 AND $3 = 0", media_type_id, 0).await?;
    }
    Ok(())
}

async fn lengths(conn: &mut Counted<impl Connected>) -> anyhow::Result<()> {
    for (order, (slug, name, from, to)) in LENGTHS.iter().enumerate() {
        let id = insert(
            conn,
            NewTerm {
                taxonomy: "length",
                slug: slug.to_string(),
                name: name.to_string(),
                description: None,
                sort_order: order as i64,
                meta: serde_json::json!({ "min_ms": from, "max_ms": (*to != i64::MAX).then_some(to) }),
            },
        )
        .await?;
        attach_tracks(
            conn,
            id,
            "milliseconds >= $2 AND milliseconds < $3",
            *from,
            *to,
        )
        .await?;
    }
    Ok(())
}

/// The columns of a track that the seeded taxonomies file it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filing {
    pub genre_id: Option<i64>,
    pub media_type_id: i64,
    pub milliseconds: i64,
}

/// Whether a seeded term (known by its `meta`) files a track with these columns.
fn files(meta: &serde_json::Value, track: &Filing) -> bool {
    let number = |key: &str| meta.get(key).and_then(serde_json::Value::as_i64);
    if let Some(genre) = number("genre_id") {
        return track.genre_id == Some(genre);
    }
    if let Some(media_type) = number("media_type_id") {
        return track.media_type_id == media_type;
    }
    match number("min_ms") {
        Some(min) => {
            track.milliseconds >= min && number("max_ms").is_none_or(|max| track.milliseconds < max)
        }
        None => false,
    }
}

/// Keeps a written track filed under the seeded terms its columns name: those that filed it
/// `before` and no longer do let go of it, and those that file it now take it. Terms an
/// admin attached by hand are left alone.
pub async fn refile_track(
    conn: &mut Counted<impl Connected>,
    track: i64,
    before: Option<&Filing>,
    after: &Filing,
) -> anyhow::Result<()> {
    if before == Some(after) {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT term_id, meta FROM taxonomy_term WHERE type IN ('genre', 'format', 'length')",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let term: i64 = row.try_get(0)?;
        let meta: String = row.try_get(1)?;
        let meta: serde_json::Value = serde_json::from_str(&meta).unwrap_or_default();
        let was = before.is_some_and(|b| files(&meta, b));
        let is = files(&meta, after);
        let statement = match (was, is) {
            (true, false) => {
                "DELETE FROM term_attachment WHERE term_id = $1 AND entity_kind = 'track' AND entity_id = $2"
            }
            (false, true) => {
                "INSERT INTO term_attachment (term_id, entity_kind, entity_id) VALUES ($1, 'track', $2) \
                 ON CONFLICT DO NOTHING"
            }
            (true, true) | (false, false) => continue,
        };
        sqlx::query(statement)
            .bind(term)
            .bind(track)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
