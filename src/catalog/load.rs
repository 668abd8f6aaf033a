//! Reading catalog entries out of SQL for the index: all of them to build it, or the few a
//! change touched to update it.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use sqlx::Row;
use tokio::sync::mpsc::Sender;

use super::{Album, Artist, Entry, Group, Kind, Record, Track};
use crate::config::Backend;
use crate::db::Db;
use crate::model::Term;
use crate::money::Cents;

/// Which entries to read.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    /// These ids of each kind; kinds not named are not read.
    Only(HashMap<Kind, Vec<i64>>),
}

impl Scope {
    /// `WHERE` clauses selecting this scope's entries of `kind` by `column`, one per chunk
    /// of ids; none when the kind is not wanted. Ids are integers, so they are inlined.
    fn filters(&self, kind: Kind, column: &str) -> Vec<String> {
        match self {
            Scope::All => vec![String::new()],
            Scope::Only(ids) => ids
                .get(&kind)
                .map(|ids| {
                    ids.chunks(500)
                        .map(|chunk| {
                            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
                            format!(" WHERE {column} IN ({})", list.join(","))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The ids of the terms attached to an entry, as one comma-separated column.
fn attached_terms(backend: Backend, kind: &str, id: &str) -> String {
    let aggregate = match backend {
        Backend::Sqlite => "group_concat(x.term_id)",
        Backend::Postgres => "string_agg(CAST(x.term_id AS TEXT), ',')",
    };
    format!(
        "(SELECT {aggregate} FROM term_attachment x WHERE x.entity_kind = '{kind}' AND x.entity_id = {id})"
    )
}

/// Every taxonomy term, with its path from the root.
pub async fn terms(db: &Db) -> anyhow::Result<Vec<Term>> {
    let rows = sqlx::query(
        "SELECT term_id, type, slug, name, description, parent_id, sort_order, meta \
         FROM taxonomy_term",
    )
    .fetch_all(db.primary())
    .await?;
    let mut terms: HashMap<i64, Term> = HashMap::with_capacity(rows.len());
    for row in rows {
        let meta: String = row.try_get(7)?;
        let term = Term {
            id: row.try_get(0)?,
            taxonomy: row.try_get(1)?,
            slug: row.try_get(2)?,
            name: row.try_get(3)?,
            description: row.try_get(4)?,
            parent_id: row.try_get(5)?,
            sort_order: row.try_get(6)?,
            meta: serde_json::from_str(&meta).unwrap_or(serde_json::Value::Null),
            path: String::new(),
        };
        terms.insert(term.id, term);
    }
    let paths: HashMap<i64, String> = terms
        .keys()
        .map(|&id| {
            let mut slugs = Vec::new();
            let mut at = terms.get(&id);
            while let Some(term) = at {
                if slugs.len() > terms.len() {
                    break;
                }
                slugs.push(term.slug.as_str());
                at = term.parent_id.and_then(|p| terms.get(&p));
            }
            slugs.reverse();
            (id, slugs.join("/"))
        })
        .collect();
    let mut terms: Vec<Term> = terms.into_values().collect();
    for term in &mut terms {
        term.path = paths[&term.id].clone();
    }
    Ok(terms)
}

fn term_ids(raw: Option<String>, facets: &HashMap<i64, String>) -> Vec<(i64, String)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    raw.split(',')
        .filter_map(|id| id.trim().parse::<i64>().ok())
        .filter_map(|id| facets.get(&id).map(|facet| (id, facet.clone())))
        .collect()
}

/// Sends the entries in `scope` to `out`, returning how many there were. Rows are streamed,
/// not collected, so a million tracks need no more memory than the channel holds.
pub async fn load(db: &Db, scope: &Scope, out: &Sender<Record>) -> anyhow::Result<u64> {
    // The index must hold exactly what is committed, and its stamp says so; a replica may
    // be behind.
    let pool = db.primary();
    let backend = db.backend();
    let mut count = 0u64;
    let sink = |entry: Entry, terms: Vec<(i64, String)>| async move {
        out.send(Record { entry, terms })
            .await
            .map_err(|_| anyhow::anyhow!("the receiver of catalog entries stopped"))
    };

    let all_terms = terms(db).await?;
    let facets: HashMap<i64, String> = all_terms.iter().map(|t| (t.id, t.facet())).collect();
    let wanted = |kind: Kind, id: i64| match scope {
        Scope::All => true,
        Scope::Only(ids) => ids.get(&kind).is_some_and(|ids| ids.contains(&id)),
    };
    for term in all_terms {
        if wanted(Kind::Term, term.id) {
            sink(Entry::Term(term), Vec::new()).await?;
            count += 1;
        }
    }

    for filter in scope.filters(Kind::Artist, "a.artist_id") {
        let sql = format!(
            "SELECT a.artist_id, a.name, (SELECT COUNT(*) FROM album b WHERE b.artist_id = a.artist_id), {} \
             FROM artist a{filter}",
            attached_terms(backend, "artist", "a.artist_id")
        );
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let artist = Artist {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                album_count: row.try_get(2)?,
            };
            sink(Entry::Artist(artist), term_ids(row.try_get(3)?, &facets)).await?;
            count += 1;
        }
    }

    for filter in scope.filters(Kind::Album, "a.album_id") {
        let sql = format!(
            "SELECT a.album_id, a.title, a.artist_id, (SELECT COUNT(*) FROM track t WHERE t.album_id = a.album_id), r.name, {} \
             FROM album a LEFT JOIN artist r ON r.artist_id = a.artist_id{filter}",
            attached_terms(backend, "album", "a.album_id")
        );
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let album = Album {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                artist_id: row.try_get(2)?,
                track_count: row.try_get(3)?,
            };
            let terms = term_ids(row.try_get(5)?, &facets);
            sink(Entry::Album(album, row.try_get(4)?), terms).await?;
            count += 1;
        }
    }

    for (kind, table, id, wrap) in [
        (
            Kind::Genre,
            "genre",
            "genre_id",
            Entry::Genre as fn(Group) -> Entry,
        ),
        (
            Kind::MediaType,
            "media_type",
            "media_type_id",
            Entry::MediaType,
        ),
    ] {
        for filter in scope.filters(kind, &format!("g.{id}")) {
            let sql = format!(
                "SELECT g.{id}, g.name, (SELECT COUNT(*) FROM track t WHERE t.{id} = g.{id}) FROM {table} g{filter}"
            );
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                let group = Group {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    track_count: row.try_get(2)?,
                };
                sink(wrap(group), Vec::new()).await?;
                count += 1;
            }
        }
    }

    // Only public playlists are indexed: a private one is its owner's alone, read from SQL
    // through their own endpoints, so no catalog read can show it. A playlist made private
    // is touched like any change, finds nothing here, and so leaves the index.
    for filter in scope.filters(Kind::Playlist, "p.playlist_id") {
        let filter = if filter.is_empty() {
            " WHERE p.visibility = 'public'".to_string()
        } else {
            format!("{filter} AND p.visibility = 'public'")
        };
        // Members in order, read in one pass and handed out per playlist.
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        let sql = format!(
            "SELECT e.playlist_id, e.track_id FROM playlist_track e \
             JOIN playlist p ON p.playlist_id = e.playlist_id{filter} \
             ORDER BY e.playlist_id, e.position"
        );
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            members
                .entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        drop(rows);
        let sql = format!("SELECT p.playlist_id, p.name FROM playlist p{filter}");
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let id: i64 = row.try_get(0)?;
            let tracks = members.remove(&id).unwrap_or_default();
            let group = Group {
                id,
                name: row.try_get(1)?,
                track_count: tracks.len() as i64,
            };
            sink(Entry::Playlist(group, tracks), Vec::new()).await?;
            count += 1;
        }
    }

    // Popularity is units sold; it is summed once per track here, not per request.
    for filter in scope.filters(Kind::Track, "t.track_id") {
        let units_filter = filter.replace("t.track_id", "track_id");
        let sql = format!(
            "SELECT t.track_id, t.name, t.album_id, t.media_type_id, t.genre_id, t.composer, \
                    t.milliseconds, t.bytes, t.unit_price_cents, COALESCE(s.units, 0), a.artist_id, \
                    a.title, r.name, {} \
             FROM track t LEFT JOIN album a ON a.album_id = t.album_id \
                  LEFT JOIN artist r ON r.artist_id = a.artist_id LEFT JOIN \
                  (SELECT track_id, CAST(SUM(quantity) AS BIGINT) AS units FROM invoice_line{units_filter} GROUP BY track_id) s \
                  ON s.track_id = t.track_id{filter}",
            attached_terms(backend, "track", "t.track_id")
        );
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let track = Track {
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
            };
            let terms = term_ids(row.try_get(13)?, &facets);
            sink(
                Entry::Track(track, row.try_get(11)?, row.try_get(12)?),
                terms,
            )
            .await?;
            count += 1;
        }
    }
    Ok(count)
}
