//! `search3`: typo-tolerant search of artists, albums and songs through the index's search,
//! each kind paged by its own count and offset. An empty query (`""` too, as players send
//! it) lists everything in id order, paged by keyset cursors, which is how players sync a
//! whole library for offline use.

use serde_json::{json, Value};

use super::entries::{ids_of, Marks, Shaper};
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::{CatalogIndex, ListRequest, SearchRequest, SortField};
use crate::state::AppState;
use crate::store::accounts::Account;

/// Search results deeper than this cost more with every step; an empty query (a sync) has
/// no such limit, since it pages by cursor.
const MAX_SEARCH_OFFSET: u64 = 10_000;

fn counts(params: &Params, kind: &str, default: u64) -> Result<(usize, u64), Failure> {
    let count = params.bounded(&format!("{kind}Count"), default, 0, super::lists::MAX_SIZE)?;
    let offset = params.bounded(&format!("{kind}Offset"), 0, 0, i64::MAX as u64)?;
    Ok((count as usize, offset))
}

fn found(
    index: &CatalogIndex,
    shared: &Shared,
    words: &Option<Vec<String>>,
    kind: Kind,
    (count, offset): (usize, u64),
) -> Result<Vec<Value>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let bodies: Vec<String> = match words {
        None => shared.checkpoints.page(
            index,
            &ListRequest {
                kind,
                equal: Vec::new(),
                ranges: Vec::new(),
                facets: Vec::new(),
                sort: SortField::Id,
                descending: false,
                after: None,
                limit: 0,
            },
            offset,
            count,
        )?,
        Some(words) => {
            if offset > MAX_SEARCH_OFFSET {
                return Err(Failure::generic(
                    "search results past 10,000 are not served; refine the query",
                ));
            }
            let results = index.search(&SearchRequest {
                words: words.clone(),
                kinds: vec![kind],
                equal: Vec::new(),
                ranges: Vec::new(),
                terms: Vec::new(),
                facets: Vec::new(),
                offset: offset as usize,
                limit: count,
            })?;
            results.hits.into_iter().map(|hit| hit.body).collect()
        }
    };
    bodies
        .iter()
        .map(|body| serde_json::from_str(body).map_err(|e| anyhow::Error::from(e).into()))
        .collect()
}

pub async fn search3(
    state: &AppState,
    shared: &Shared,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let index = state.catalog()?;
    let query = params.get("query").unwrap_or("").trim();
    let query = query.trim_matches('"').trim();
    let words = if query.is_empty() {
        None
    } else {
        let words = crate::search::words(query).map_err(Failure::generic)?;
        // A query of punctuation alone matches nothing rather than everything.
        Some(words)
    };
    if words.as_ref().is_some_and(Vec::is_empty) {
        return Ok(json!({ "searchResult3": {} }));
    }
    let artists = found(
        index,
        shared,
        &words,
        Kind::Artist,
        counts(params, "artist", 20)?,
    )?;
    let albums = found(
        index,
        shared,
        &words,
        Kind::Album,
        counts(params, "album", 20)?,
    )?;
    let tracks = found(
        index,
        shared,
        &words,
        Kind::Track,
        counts(params, "song", 20)?,
    )?;
    let marks = Marks::fetch(
        state,
        account,
        &ids_of(&tracks),
        &ids_of(&albums),
        &ids_of(&artists),
    )
    .await?;
    let mut shaper = Shaper::new(index, shared, marks);
    let artist: Vec<Value> = artists.iter().map(|a| shaper.artist(a)).collect();
    let album = albums
        .iter()
        .map(|a| shaper.album(a))
        .collect::<Result<Vec<_>, _>>()?;
    let song = tracks
        .iter()
        .map(|t| shaper.song(t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "searchResult3": { "artist": artist, "album": album, "song": song } }))
}
