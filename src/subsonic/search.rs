//! `search3`: typo-tolerant search of artists, albums and songs through the index's search,
//! each kind paged by its own count and offset. An empty query (`""` too, as players send
//! it) lists everything in id order, paged by keyset cursors, which is how players sync a
//! whole library for offline use.

use serde_json::{json, Value};

use std::sync::Arc;

use super::entries::{ids_of, Marks, Shaper};
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::{Budget, CatalogIndex, SearchRequest, SortField};
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
    budget: &Budget,
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
            budget,
            &super::lists::request(kind, SortField::Id, false),
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
    super::lists::parse_all(bodies)
}

pub async fn search3(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
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
    let pages = [
        (Kind::Artist, counts(params, "artist", 20)?),
        (Kind::Album, counts(params, "album", 20)?),
        (Kind::Track, counts(params, "song", 20)?),
    ];
    let [artists, albums, tracks] = on_index(state, shared, move |index, budget, shared| {
        let found_of = |(kind, page)| found(index, budget, shared, &words, kind, page);
        Ok([
            found_of(pages[0])?,
            found_of(pages[1])?,
            found_of(pages[2])?,
        ])
    })
    .await?;
    let marks = Marks::fetch(
        state,
        account,
        &ids_of(&tracks),
        &ids_of(&albums),
        &ids_of(&artists),
    )
    .await?;
    on_index(state, shared, move |index, _, shared| {
        let mut shaper = Shaper::new(index, shared, marks);
        let (artist, album, song) = shaper.all(&artists, &albums, &tracks)?;
        Ok(json!({ "searchResult3": { "artist": artist, "album": album, "song": song } }))
    })
    .await
}
