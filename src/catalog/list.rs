//! Catalog list requests as clients send them: query parameters checked per kind, cursors,
//! `fields=` selection and `include=` of related entries.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::IntoParams;

pub(crate) use super::filters::{term_facets, TrackFilters};
use super::Kind;
use crate::error::{ApiError, ApiResult};
pub use crate::http::page::PageInfo;
pub(crate) use crate::http::page::{decode_cursor, encode_cursor, DEFAULT_LIMIT, MAX_LIMIT};
use crate::search::{CatalogIndex, ListRequest, SortField};

/// Query parameters of every catalog list. Which filters, sorts and includes apply depends
/// on the kind; one that does not apply is a 400 naming it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Entries per page, 1 to 100 (default 25).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `id`, `name`, and for tracks `milliseconds`, `unit_price`, `popularity`; a leading
    /// `-` sorts descending. Default `id`.
    pub sort: Option<String>,
    /// Comma-separated fields to return, e.g. `id,name`.
    pub fields: Option<String>,
    /// Comma-separated relations to embed: tracks take `album,artist,genre,media_type`;
    /// albums `artist,tracks`; artists `albums`; playlists `tracks`.
    pub include: Option<String>,
    /// Tracks: genre id.
    pub genre: Option<String>,
    /// Tracks: album id.
    pub album_id: Option<String>,
    /// Tracks and albums: artist id.
    pub artist_id: Option<String>,
    /// Tracks: media type id.
    pub media_type: Option<String>,
    /// Tracks: lowest unit price, e.g. `0.99`.
    pub min_price: Option<String>,
    /// Tracks: highest unit price, e.g. `1.99`.
    pub max_price: Option<String>,
    /// Tracks: shortest duration in milliseconds.
    pub min_ms: Option<String>,
    /// Tracks: longest duration in milliseconds.
    pub max_ms: Option<String>,
    /// Tracks, albums and artists: a taxonomy term as `type:slug`, e.g. `genre:rock`; the
    /// term's descendants match too. Comma-separate several; an entry must match them all.
    pub taxonomy: Option<String>,
    /// Only for a term's tracks: `false` leaves out tracks filed only below the term
    /// (default `true`).
    pub descendants: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub data: Vec<Value>,
    pub page: PageInfo,
}

pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

pub(crate) fn whole_number(name: &str, raw: &str) -> ApiResult<u64> {
    raw.trim()
        .parse::<u64>()
        .map_err(|_| bad(format!("{name} must be a whole number, not `{raw}`")))
}

pub(crate) fn names(raw: &Option<String>) -> Vec<&str> {
    raw.as_deref()
        .map(|r| {
            r.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The fields of each kind's representation, for `fields=`.
fn known_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Artist => &["id", "name", "album_count"],
        Kind::Album => &["id", "title", "artist_id", "track_count"],
        Kind::Track => &[
            "id",
            "name",
            "album_id",
            "artist_id",
            "media_type_id",
            "genre_id",
            "composer",
            "milliseconds",
            "bytes",
            "unit_price",
            "popularity",
        ],
        Kind::Genre | Kind::MediaType | Kind::Playlist => &["id", "name", "track_count"],
        Kind::Term => &[
            "id",
            "type",
            "slug",
            "name",
            "description",
            "parent_id",
            "sort_order",
            "meta",
            "path",
        ],
    }
}

fn known_includes(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Track => &["album", "artist", "genre", "media_type"],
        Kind::Album => &["artist", "tracks"],
        Kind::Artist => &["albums"],
        Kind::Playlist => &["tracks"],
        Kind::Genre | Kind::MediaType | Kind::Term => &[],
    }
}

pub(crate) fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Artist => "artists",
        Kind::Album => "albums",
        Kind::Track => "tracks",
        Kind::Genre => "genres",
        Kind::MediaType => "media types",
        Kind::Playlist => "playlists",
        Kind::Term => "taxonomy terms",
    }
}

/// A checked list request, ready for the index.
pub struct ListQuery {
    pub request: ListRequest,
    /// Taxonomy terms to filter by, resolved against the index when the query runs.
    terms: Vec<(String, String)>,
    fields: Vec<String>,
    includes: Vec<String>,
    fingerprint: String,
}

impl ListQuery {
    pub fn parse(kind: Kind, params: &ListParams, secret: &[u8]) -> ApiResult<Self> {
        Self::parse_within(kind, params, &[], secret)
    }

    /// A list within a scope the path sets, such as the tracks attached to one term:
    /// `scope` adds equality filters to those of the parameters.
    pub fn parse_within(
        kind: Kind,
        params: &ListParams,
        scope: &[(&'static str, u64)],
        secret: &[u8],
    ) -> ApiResult<Self> {
        if params.descendants.is_some() {
            return Err(bad(
                "descendants applies only to a taxonomy term's tracks (/taxonomies/{type}/{slug}/tracks)",
            ));
        }
        let limit = crate::http::page::limit(params.limit.as_deref())?;

        let (sort, descending) = match params.sort.as_deref().map(str::trim) {
            None | Some("") => (SortField::Id, false),
            Some(raw) => {
                let (descending, name) = match raw.strip_prefix('-') {
                    Some(name) => (true, name),
                    None => (false, raw),
                };
                let field = match (name, kind) {
                    ("id", _) => SortField::Id,
                    ("name", _) => SortField::Name,
                    ("milliseconds", Kind::Track) => SortField::Milliseconds,
                    ("unit_price", Kind::Track) => SortField::Price,
                    ("popularity", Kind::Track) => SortField::Popularity,
                    _ => {
                        let allowed = if kind == Kind::Track {
                            "id, name, milliseconds, unit_price, popularity"
                        } else {
                            "id, name"
                        };
                        return Err(bad(format!(
                            "{} cannot be sorted by `{name}`; use {allowed}, with - for descending",
                            plural(kind)
                        )));
                    }
                };
                (field, descending)
            }
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
        filters.check_applies_to(kind)?;
        let (mut equal, ranges) = filters.parse()?;
        equal.extend_from_slice(scope);
        let terms = filters.terms()?;

        let fields: Vec<String> = names(&params.fields)
            .into_iter()
            .map(String::from)
            .collect();
        for field in &fields {
            if !known_fields(kind).contains(&field.as_str()) {
                return Err(bad(format!(
                    "{} have no field `{field}`; they have {}",
                    plural(kind),
                    known_fields(kind).join(", ")
                )));
            }
        }
        let includes: Vec<String> = names(&params.include)
            .into_iter()
            .map(String::from)
            .collect();
        for include in &includes {
            if !known_includes(kind).contains(&include.as_str()) {
                let allowed = known_includes(kind);
                let hint = if allowed.is_empty() {
                    "they include nothing".to_string()
                } else {
                    format!("they include {}", allowed.join(", "))
                };
                return Err(bad(format!(
                    "{} cannot include `{include}`; {hint}",
                    plural(kind)
                )));
            }
        }

        // The cursor is bound to the query that made it: same kind, sort and filters.
        let fingerprint = format!(
            "{}|{sort:?}|{descending}|{equal:?}|{ranges:?}|{terms:?}",
            kind.code()
        );
        let after = params
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, &fingerprint, secret))
            .transpose()?;
        Ok(Self {
            request: ListRequest {
                kind,
                equal,
                ranges,
                facets: Vec::new(),
                sort,
                descending,
                after,
                limit,
            },
            terms,
            fields,
            includes,
            fingerprint,
        })
    }

    /// Runs the query and shapes the page.
    pub fn run(&self, index: &CatalogIndex, secret: &[u8]) -> ApiResult<Page> {
        let page = if self.terms.is_empty() {
            index.list(&self.request)?
        } else {
            let mut request = self.request.clone();
            request.facets = term_facets(index, &self.terms)?;
            index.list(&request)?
        };
        let mut data = Vec::with_capacity(page.items.len());
        for item in page.items {
            let mut value: Value = serde_json::from_str(&item).map_err(anyhow::Error::from)?;
            if let Value::Object(object) = &mut value {
                self.embed(index, object)?;
                if !self.fields.is_empty() {
                    object.retain(|k, _| {
                        self.fields.iter().any(|f| f == k) || self.includes.iter().any(|i| i == k)
                    });
                }
            }
            data.push(value);
        }
        Ok(Page {
            data,
            page: PageInfo {
                next_cursor: page
                    .next
                    .map(|key| encode_cursor(&key, &self.fingerprint, secret)),
                limit: self.request.limit,
            },
        })
    }

    fn embed(&self, index: &CatalogIndex, object: &mut Map<String, Value>) -> ApiResult<()> {
        let id_of =
            |object: &Map<String, Value>, field: &str| object.get(field).and_then(Value::as_i64);
        for include in &self.includes {
            let embedded = match (self.request.kind, include.as_str()) {
                (Kind::Track, "album") => one(index, Kind::Album, id_of(object, "album_id"))?,
                (Kind::Track | Kind::Album, "artist") => {
                    one(index, Kind::Artist, id_of(object, "artist_id"))?
                }
                (Kind::Track, "genre") => one(index, Kind::Genre, id_of(object, "genre_id"))?,
                (Kind::Track, "media_type") => {
                    one(index, Kind::MediaType, id_of(object, "media_type_id"))?
                }
                (Kind::Album, "tracks") => {
                    children(index, Kind::Track, "album_id", id_of(object, "id"))?
                }
                (Kind::Artist, "albums") => {
                    children(index, Kind::Album, "artist_id", id_of(object, "id"))?
                }
                (Kind::Playlist, "tracks") => {
                    let id = id_of(object, "id").unwrap_or(0);
                    let tracks = index
                        .members(id)?
                        .into_iter()
                        .map(|track| one(index, Kind::Track, Some(track)))
                        .collect::<ApiResult<Vec<Value>>>()?;
                    Value::Array(tracks)
                }
                (kind, other) => {
                    return Err(
                        anyhow::anyhow!("include {other} of {kind:?} passed the checks").into(),
                    )
                }
            };
            object.insert(include.clone(), embedded);
        }
        Ok(())
    }
}

pub(crate) fn one(index: &CatalogIndex, kind: Kind, id: Option<i64>) -> ApiResult<Value> {
    let Some(id) = id else {
        return Ok(Value::Null);
    };
    match index.get(kind, id)? {
        Some(body) => Ok(serde_json::from_str(&body).map_err(anyhow::Error::from)?),
        None => Ok(Value::Null),
    }
}

/// Every entry of `kind` whose `field` is `id`, in id order (an album's tracks in track
/// order, an artist's albums).
fn children(
    index: &CatalogIndex,
    kind: Kind,
    field: &'static str,
    id: Option<i64>,
) -> ApiResult<Value> {
    let Some(id) = id.and_then(|id| u64::try_from(id).ok()) else {
        return Ok(Value::Array(Vec::new()));
    };
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = index.list(&ListRequest {
            kind,
            equal: vec![(field, id)],
            ranges: Vec::new(),
            facets: Vec::new(),
            sort: SortField::Id,
            descending: false,
            after,
            limit: 1000,
        })?;
        for item in page.items {
            all.push(serde_json::from_str(&item).map_err(anyhow::Error::from)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(Value::Array(all))
}
