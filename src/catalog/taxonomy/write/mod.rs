//! Admin writes to taxonomies: create, update (rename, re-slug, move) and delete terms, and
//! attach them to or detach them from tracks, albums and artists. Like catalog writes, each
//! is one transaction that logs the index entries it touched.
//!
//! A term's slug path is part of the facets of everything filed under it, so re-slugging or
//! moving a term touches its descendants and every entry attached to any of them.

mod input;

use std::collections::BTreeMap;

use sqlx::Row;

use crate::catalog::changes::CatalogWrite;
use crate::catalog::Kind;
use crate::db::{Db, Tx};
use crate::error::{ApiError, ApiResult};
use crate::model::terms::ENTITY_KINDS;
use input::{check_term, empty_object};
pub use input::{check_type, Attachments, TermInput, MAX_ATTACH};

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Validation(message.into())
}

fn sql(e: sqlx::Error) -> ApiError {
    e.into()
}

fn no_term(taxonomy: &str, slug: &str) -> ApiError {
    ApiError::NotFound(format!("there is no {taxonomy} term `{slug}`"))
}

async fn term_id(tx: &mut Tx<'static>, taxonomy: &str, slug: &str) -> ApiResult<Option<i64>> {
    sqlx::query_scalar("SELECT term_id FROM taxonomy_term WHERE type = $1 AND slug = $2")
        .bind(taxonomy)
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await
        .map_err(sql)
}

/// The parent's id, or a 422 when it names no term of the type (a dangling parent).
async fn parent_id(
    tx: &mut Tx<'static>,
    taxonomy: &str,
    parent: Option<&str>,
) -> ApiResult<Option<i64>> {
    let Some(parent) = parent else {
        return Ok(None);
    };
    term_id(tx, taxonomy, parent)
        .await?
        .map(Some)
        .ok_or_else(|| invalid(format!("parent `{parent}` is no {taxonomy} term")))
}

async fn slug_taken(tx: &mut Tx<'static>, taxonomy: &str, slug: &str) -> ApiResult<()> {
    if term_id(tx, taxonomy, slug).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "the {taxonomy} taxonomy already has a term `{slug}`"
        )));
    }
    Ok(())
}

/// The term and every term below it.
async fn subtree(tx: &mut Tx<'static>, id: i64) -> ApiResult<Vec<i64>> {
    sqlx::query_scalar(
        "WITH RECURSIVE sub (id) AS ( \
             SELECT CAST($1 AS BIGINT) \
             UNION ALL SELECT t.term_id FROM taxonomy_term t JOIN sub ON t.parent_id = sub.id) \
         SELECT id FROM sub",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(sql)
}

/// Touches every entry attached to any of `terms`.
async fn touch_attached(
    tx: &mut Tx<'static>,
    write_touch: &mut Vec<(Kind, i64)>,
    terms: &[i64],
) -> ApiResult<()> {
    for chunk in terms.chunks(500) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let query = format!(
            "SELECT DISTINCT entity_kind, entity_id FROM term_attachment WHERE term_id IN ({})",
            list.join(",")
        );
        for row in sqlx::query(&query).fetch_all(&mut *tx).await.map_err(sql)? {
            let kind: String = row.try_get(0).map_err(sql)?;
            let id: i64 = row.try_get(1).map_err(sql)?;
            if let Some((kind, _)) = ENTITY_KINDS.iter().find(|(_, name)| *name == kind) {
                write_touch.push((*kind, id));
            }
        }
    }
    Ok(())
}

/// The term as its update body would restate it.
pub async fn term(db: &Db, taxonomy: &str, slug: &str) -> ApiResult<TermInput> {
    let row = sqlx::query(
        "SELECT t.slug, t.name, t.description, p.slug, t.sort_order, t.meta FROM taxonomy_term t \
         LEFT JOIN taxonomy_term p ON p.term_id = t.parent_id WHERE t.type = $1 AND t.slug = $2",
    )
    .bind(taxonomy)
    .bind(slug)
    .fetch_optional(db.writer())
    .await
    .map_err(sql)?
    .ok_or_else(|| no_term(taxonomy, slug))?;
    let meta: String = row.try_get(5).map_err(sql)?;
    Ok(TermInput {
        slug: row.try_get(0).map_err(sql)?,
        name: row.try_get(1).map_err(sql)?,
        description: row.try_get(2).map_err(sql)?,
        parent: row.try_get(3).map_err(sql)?,
        sort_order: row.try_get(4).map_err(sql)?,
        meta: serde_json::from_str(&meta).unwrap_or_else(|_| empty_object()),
    })
}

/// Creates a term; returns its slug.
pub async fn create(db: &Db, taxonomy: &str, input: TermInput) -> ApiResult<String> {
    check_type(taxonomy)?;
    let (slug, name, description, meta) = check_term(&input)?;
    let mut write = CatalogWrite::begin(db).await?;
    slug_taken(&mut write.tx, taxonomy, &slug).await?;
    let parent = parent_id(&mut write.tx, taxonomy, input.parent.as_deref()).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO taxonomy_term (type, slug, name, description, parent_id, sort_order, meta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING term_id",
    )
    .bind(taxonomy)
    .bind(&slug)
    .bind(name)
    .bind(description)
    .bind(parent)
    .bind(input.sort_order)
    .bind(meta)
    .fetch_one(&mut write.tx)
    .await
    .map_err(sql)?;
    write.touch(Kind::Term, id);
    write.commit().await?;
    Ok(slug)
}

/// Replaces a term's fields (a rename, a new slug, a move); returns its slug.
pub async fn update(db: &Db, taxonomy: &str, slug: &str, input: TermInput) -> ApiResult<String> {
    let (new_slug, name, description, meta) = check_term(&input)?;
    let mut write = CatalogWrite::begin(db).await?;
    let id = term_id(&mut write.tx, taxonomy, slug)
        .await?
        .ok_or_else(|| no_term(taxonomy, slug))?;
    if new_slug != slug {
        slug_taken(&mut write.tx, taxonomy, &new_slug).await?;
    }
    let parent = parent_id(&mut write.tx, taxonomy, input.parent.as_deref()).await?;
    let below = subtree(&mut write.tx, id).await?;
    if let Some(parent) = parent.filter(|p| below.contains(p)) {
        let parent_slug = input.parent.as_deref().unwrap_or_default();
        return Err(ApiError::Conflict(if parent == id {
            format!("{taxonomy}:{slug} cannot be its own parent")
        } else {
            format!("{taxonomy}:{parent_slug} is below {taxonomy}:{slug}; moving it there would make a cycle")
        }));
    }
    let old_parent: Option<i64> =
        sqlx::query_scalar("SELECT parent_id FROM taxonomy_term WHERE term_id = $1")
            .bind(id)
            .fetch_one(&mut write.tx)
            .await
            .map_err(sql)?;
    sqlx::query(
        "UPDATE taxonomy_term SET slug = $1, name = $2, description = $3, parent_id = $4, \
         sort_order = $5, meta = $6 WHERE term_id = $7",
    )
    .bind(&new_slug)
    .bind(name)
    .bind(description)
    .bind(parent)
    .bind(input.sort_order)
    .bind(meta)
    .bind(id)
    .execute(&mut write.tx)
    .await
    .map_err(sql)?;
    if new_slug != slug || parent != old_parent {
        // Paths change below the term, and so do the facets of what is filed there.
        let mut touched = Vec::new();
        touch_attached(&mut write.tx, &mut touched, &below).await?;
        write.touch_all(Kind::Term, below.iter().copied());
        for (kind, entity) in touched {
            write.touch(kind, entity);
        }
    } else {
        write.touch(Kind::Term, id);
    }
    write.commit().await?;
    Ok(new_slug)
}

pub async fn delete(db: &Db, taxonomy: &str, slug: &str) -> ApiResult<()> {
    let mut write = CatalogWrite::begin(db).await?;
    let id = term_id(&mut write.tx, taxonomy, slug)
        .await?
        .ok_or_else(|| no_term(taxonomy, slug))?;
    let children: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM taxonomy_term WHERE parent_id = $1")
            .bind(id)
            .fetch_one(&mut write.tx)
            .await
            .map_err(sql)?;
    if children > 0 {
        return Err(ApiError::Conflict(format!(
            "{taxonomy}:{slug} has {children} child term(s); move or delete them first"
        )));
    }
    let mut touched = Vec::new();
    touch_attached(&mut write.tx, &mut touched, &[id]).await?;
    sqlx::query("DELETE FROM term_attachment WHERE term_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await
        .map_err(sql)?;
    sqlx::query("DELETE FROM taxonomy_term WHERE term_id = $1")
        .bind(id)
        .execute(&mut write.tx)
        .await
        .map_err(sql)?;
    write.touch(Kind::Term, id);
    for (kind, entity) in touched {
        write.touch(kind, entity);
    }
    write.commit().await?;
    Ok(())
}

/// Attaches (`attach = true`) or detaches a term; returns how many attachments changed.
pub async fn attachments(
    db: &Db,
    taxonomy: &str,
    slug: &str,
    entries: Attachments,
    attach: bool,
) -> ApiResult<u64> {
    let lists: [(Kind, &str, &str, Vec<i64>); 3] = [
        (Kind::Track, "track", "tracks", entries.tracks),
        (Kind::Album, "album", "albums", entries.albums),
        (Kind::Artist, "artist", "artists", entries.artists),
    ];
    let total: usize = lists.iter().map(|l| l.3.len()).sum();
    if total == 0 {
        return Err(invalid("name at least one of tracks, albums or artists"));
    }
    if total > MAX_ATTACH {
        return Err(invalid(format!("at most {MAX_ATTACH} entries per request")));
    }
    let mut write = CatalogWrite::begin(db).await?;
    let id = term_id(&mut write.tx, taxonomy, slug)
        .await?
        .ok_or_else(|| no_term(taxonomy, slug))?;
    let mut missing: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut changed = 0u64;
    for (kind, entity, field, mut wanted) in lists {
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let found: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT {entity}_id FROM {entity} WHERE {entity}_id IN ({})",
                list.join(",")
            ))
            .fetch_all(&mut write.tx)
            .await
            .map_err(sql)?;
            let absent = chunk.iter().filter(|id| !found.contains(id));
            missing.entry(field).or_default().extend(absent);
            for entry in found {
                let statement = if attach {
                    "INSERT INTO term_attachment (term_id, entity_kind, entity_id) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM term_attachment WHERE term_id = $1 AND entity_kind = $2 AND entity_id = $3"
                };
                let done = sqlx::query(statement)
                    .bind(id)
                    .bind(entity)
                    .bind(entry)
                    .execute(&mut write.tx)
                    .await
                    .map_err(sql)?;
                if done.rows_affected() > 0 {
                    changed += 1;
                    write.touch(kind, entry);
                }
            }
        }
    }
    missing.retain(|_, ids| !ids.is_empty());
    if !missing.is_empty() {
        let named: Vec<String> = missing
            .iter()
            .map(|(field, ids)| {
                let shown: Vec<String> = ids.iter().take(20).map(i64::to_string).collect();
                let more = if ids.len() > 20 { ", …" } else { "" };
                format!("{field} {}{more}", shown.join(", "))
            })
            .collect();
        return Err(invalid(format!(
            "these do not exist: {}; nothing was changed",
            named.join("; ")
        )));
    }
    write.commit().await?;
    Ok(changed)
}
