//! Search requests as clients send them: the text, the kinds to search, the catalog filters,
//! and a signed cursor for the next page.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::list::{
    bad, decode_cursor, encode_cursor, term_facets, PageInfo, TrackFilters, DEFAULT_LIMIT,
    MAX_LIMIT,
};
use crate::error::ApiResult;
use crate::metrics::Metrics;
use crate::model::tree::TermSet;
use crate::model::Kind;
use crate::money::format_cents;
use crate::search::{self, CatalogIndex, Key, SearchRequest, SortValue};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The text to search for: words are matched in any order, with accents, case and
    /// punctuation ignored (`&`, `and` and `n'` are one word); words may be typed joined
    /// ("acdc") or split ("super nova"); a word found nowhere as typed is matched with one
    /// edit from four letters, two from eight; the last word is also completed as a prefix.
    /// When no entry matches every word, the words matching fewest are dropped (see
    /// `dropped_words`). Ties rank by type, then id.
    pub q: Option<String>,
    /// `track`, `album`, `artist`, or a comma-separated mix (default all three).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Results per page, 1 to 100 (default 25); suggestions 1 to 20 (default 8).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Genre id (tracks).
    pub genre: Option<String>,
    /// Album id (tracks).
    pub album_id: Option<String>,
    /// Artist id (tracks and albums).
    pub artist_id: Option<String>,
    /// Media type id (tracks).
    pub media_type: Option<String>,
    /// Lowest unit price, e.g. `0.99` (tracks).
    pub min_price: Option<String>,
    /// Highest unit price (tracks).
    pub max_price: Option<String>,
    /// Shortest duration in milliseconds (tracks).
    pub min_ms: Option<String>,
    /// Longest duration in milliseconds (tracks).
    pub max_ms: Option<String>,
    /// A taxonomy term as `type:slug` (its descendants match too); comma-separate several.
    pub taxonomy: Option<String>,
    /// `album`, `artist` or both, comma-separated: embedded in each track hit (both) and
    /// album hit (`artist`), as catalog lists embed them.
    pub include: Option<String>,
}

/// The relations a search hit may embed, checked.
fn includes(params: &SearchParams) -> ApiResult<Vec<&'static str>> {
    let Some(raw) = params.include.as_deref() else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let known = match name {
            "album" => "album",
            "artist" => "artist",
            other => {
                return Err(bad(format!(
                    "include `{other}` is not one of album, artist"
                )))
            }
        };
        if !names.contains(&known) {
            names.push(known);
        }
    }
    Ok(names)
}

/// Embeds the included relations that apply to the hit's kind (an artist has neither).
fn embed(index: &CatalogIndex, kind: Kind, includes: &[&str], item: &mut Value) -> ApiResult<()> {
    let Some(object) = item.as_object_mut() else {
        return Ok(());
    };
    for &include in includes {
        let (target, field) = match (kind, include) {
            (Kind::Track, "album") => (Kind::Album, "album_id"),
            (Kind::Track | Kind::Album, "artist") => (Kind::Artist, "artist_id"),
            _ => continue,
        };
        let id = object.get(field).and_then(Value::as_i64);
        object.insert(
            include.to_string(),
            super::list::one_value(index, target, id)?,
        );
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// `track`, `album` or `artist`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub score: f32,
    /// The name with matched words in `<b>` tags.
    pub highlight: Option<String>,
    /// The entry, as its detail endpoint returns it.
    #[schema(value_type = Object)]
    pub item: Box<RawValue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetCount {
    /// A genre or media type id, or a price such as `"0.99"`.
    #[schema(value_type = Object)]
    pub value: Value,
    pub name: Option<String>,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchFacets {
    pub genre: Vec<FacetCount>,
    pub media_type: Vec<FacetCount>,
    pub unit_price: Vec<FacetCount>,
    /// Per taxonomy type, the terms the results are filed under as a tree; a term's count
    /// includes what is filed below it. Terms with no results are left out.
    pub taxonomy: BTreeMap<String, Vec<TermFacet>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermFacet {
    pub slug: String,
    pub name: String,
    pub count: u64,
    #[schema(no_recursion)]
    pub children: Vec<TermFacet>,
}

/// The terms of one type with results, as a tree in display order.
fn term_facets_tree(
    set: &TermSet,
    counts: &HashMap<i64, u64>,
    taxonomy: &str,
    parent: Option<i64>,
) -> Vec<TermFacet> {
    set.children(taxonomy, parent)
        .into_iter()
        .filter_map(|term| {
            let count = counts.get(&term.id).copied().filter(|n| *n > 0)?;
            Some(TermFacet {
                slug: term.slug.clone(),
                name: term.name.clone(),
                count,
                children: term_facets_tree(set, counts, taxonomy, Some(term.id)),
            })
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub data: Vec<SearchHit>,
    /// How many entries match in all.
    pub total: usize,
    /// The words of `q` the results match, folded as they are searched (`&`, `and` and a lone
    /// `n` are all `and`). Normally every word; see `dropped_words`.
    pub matched_words: Vec<String>,
    /// Words of `q` left out: when no entry matches every word, the word matching fewest
    /// entries on its own is dropped, then the next, until something matches.
    pub dropped_words: Vec<String>,
    /// `q` as the results spell it, when a word was found only by its near spellings
    /// ("metalica" → "metallica"). Absent when every word matched as typed.
    pub did_you_mean: Option<String>,
    pub facets: SearchFacets,
    pub page: PageInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    pub data: Vec<Suggestion>,
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Track => "track",
        Kind::Album => "album",
        Kind::Artist => "artist",
        Kind::Genre => "genre",
        Kind::MediaType => "media_type",
        Kind::Playlist => "playlist",
        Kind::Term => "term",
    }
}

fn parse(
    params: &SearchParams,
    default_limit: usize,
    max_limit: usize,
) -> ApiResult<(SearchRequest, String)> {
    let text = params
        .q
        .as_deref()
        .ok_or_else(|| bad("q is required: the text to search for"))?;
    let words = search::words(text).map_err(bad)?;
    let kinds = match params.kind.as_deref() {
        None => vec![Kind::Track, Kind::Album, Kind::Artist],
        Some(raw) => raw
            .split(',')
            .map(|k| match k.trim() {
                "track" => Ok(Kind::Track),
                "album" => Ok(Kind::Album),
                "artist" => Ok(Kind::Artist),
                other => Err(bad(format!(
                    "type `{other}` is not one of track, album, artist"
                ))),
            })
            .collect::<ApiResult<Vec<Kind>>>()?,
    };
    let mut kinds = kinds;
    kinds.sort_by_key(|k| k.code());
    kinds.dedup();
    let limit = match &params.limit {
        None => default_limit,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=max_limit).contains(&n) => n,
            _ => {
                return Err(bad(format!(
                    "limit must be a whole number from 1 to {max_limit}, not `{raw}`"
                )))
            }
        },
    };
    let filters = TrackFilters {
        genre: &params.genre,
        album_id: &params.album_id,
        artist_id: &params.artist_id,
        media_type: &params.media_type,
        min_price: &params.min_price,
        max_price: &params.max_price,
        min_ms: &params.min_ms,
        max_ms: &params.max_ms,
        taxonomy: &params.taxonomy,
    };
    let (equal, ranges) = filters.parse()?;
    let terms = filters.terms()?;
    let fingerprint = format!("search|{words:?}|{kinds:?}|{equal:?}|{ranges:?}|{terms:?}|{limit}");
    Ok((
        SearchRequest {
            words,
            kinds,
            equal,
            ranges,
            terms,
            facets: Vec::new(),
            offset: 0,
            limit,
        },
        fingerprint,
    ))
}

/// Deep pages cost more with each step; past this many results, refine the query instead.
const MAX_OFFSET: usize = 10_000;

pub fn search(
    index: &CatalogIndex,
    params: &SearchParams,
    secret: &[u8],
    metrics: &Metrics,
) -> ApiResult<SearchPage> {
    let (mut request, fingerprint) = parse(params, DEFAULT_LIMIT, MAX_LIMIT)?;
    if let Some(cursor) = &params.cursor {
        let key: Key = decode_cursor(cursor, &fingerprint, secret)?;
        request.offset = match key.value {
            SortValue::Number(offset) if (offset as usize) <= MAX_OFFSET => offset as usize,
            _ => {
                return Err(bad(
                    "the cursor goes deeper than 10,000 results; refine the search",
                ))
            }
        };
    }
    let includes = includes(params)?;
    request.facets = term_facets(index, &request.terms)?;
    let results = metrics.time_search("search", || index.search(&request))?;
    let mut data = Vec::with_capacity(results.hits.len());
    for hit in results.hits {
        // The stored JSON as it is, unless something is embedded in it.
        let item = if includes.is_empty() {
            RawValue::from_string(hit.body).map_err(anyhow::Error::from)?
        } else {
            let mut item = serde_json::from_str(&hit.body).map_err(anyhow::Error::from)?;
            embed(index, hit.kind, &includes, &mut item)?;
            serde_json::value::to_raw_value(&item).map_err(anyhow::Error::from)?
        };
        data.push(SearchHit {
            kind: kind_name(hit.kind),
            score: hit.score,
            highlight: hit.highlight,
            item,
        });
    }
    let next_offset = request.offset + data.len();
    let next_cursor =
        (next_offset < results.total && next_offset <= MAX_OFFSET && !data.is_empty()).then(|| {
            let key = Key {
                value: SortValue::Number(next_offset as u64),
                id: 0,
            };
            encode_cursor(&key, &fingerprint, secret)
        });
    let named = |kind: Kind, counts: Vec<(u64, u64)>| -> ApiResult<Vec<FacetCount>> {
        counts
            .into_iter()
            .map(|(id, count)| {
                let name = index
                    .get(kind, id as i64)?
                    .and_then(|body| serde_json::from_str::<Value>(&body).ok())
                    .and_then(|v| v["name"].as_str().map(str::to_string));
                Ok(FacetCount {
                    value: Value::from(id),
                    name,
                    count,
                })
            })
            .collect()
    };
    let facets = SearchFacets {
        genre: named(Kind::Genre, results.facets.genre)?,
        media_type: named(Kind::MediaType, results.facets.media_type)?,
        unit_price: results
            .facets
            .price_cents
            .into_iter()
            .map(|(cents, count)| FacetCount {
                value: Value::from(format_cents(cents as i64)),
                name: None,
                count,
            })
            .collect(),
        taxonomy: {
            let set = index.term_set()?;
            set.types()
                .into_iter()
                .map(|(taxonomy, _)| {
                    let tree = term_facets_tree(&set, &results.facets.terms, &taxonomy, None);
                    (taxonomy, tree)
                })
                .filter(|(_, tree)| !tree.is_empty())
                .collect()
        },
    };
    Ok(SearchPage {
        data,
        total: results.total,
        matched_words: results.used,
        dropped_words: results.dropped,
        did_you_mean: results.did_you_mean,
        facets,
        page: PageInfo {
            next_cursor,
            limit: request.limit,
        },
    })
}

pub fn suggest(
    index: &CatalogIndex,
    params: &SearchParams,
    metrics: &Metrics,
) -> ApiResult<Suggestions> {
    if params.cursor.is_some() {
        return Err(bad("suggestions have no pages; drop the cursor"));
    }
    if params.include.is_some() {
        return Err(bad("suggestions are names only; drop include"));
    }
    let (mut request, _) = parse(params, 8, 20)?;
    request.facets = term_facets(index, &request.terms)?;
    let data = metrics
        .time_search("suggest", || index.suggest(&request))?
        .into_iter()
        .map(|(kind, name)| Suggestion {
            kind: kind_name(kind),
            name,
        })
        .collect();
    Ok(Suggestions { data })
}
