//! Catalog list requests as clients send them: query parameters checked per kind, cursors,
//! `fields=` selection and `include=` of related entries.

use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

pub(crate) use super::filters::{term_facets, TrackFilters, FILTER_KINDS, MAX_TERMS};
pub(crate) use super::includes::one_value;
pub use super::includes::{Includes, Related, MAX_EMBEDDED};
use crate::error::{ApiError, ApiResult};
use crate::model::Kind;
pub use crate::paging::PageInfo;
pub(crate) use crate::paging::{decode_cursor, encode_cursor, DEFAULT_LIMIT, MAX_LIMIT};
use crate::search::{Budget, CatalogIndex, ListRequest, SortField};

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

pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

pub(crate) fn whole_number(name: &str, raw: &str) -> ApiResult<u64> {
    raw.trim()
        .parse::<u64>()
        .map_err(|_| bad(format!("{name} must be a whole number, not `{raw}`")))
}

/// The names of a comma-separated parameter that, when present, must name at least one.
pub(crate) fn some_names<'a>(param: &str, raw: &'a Option<String>) -> ApiResult<Vec<&'a str>> {
    let list = names(raw);
    if raw.is_some() && list.is_empty() {
        return Err(bad(format!("{param} names nothing; leave it out instead")));
    }
    Ok(list)
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
pub(crate) fn known_fields(kind: Kind) -> &'static [&'static str] {
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

pub(crate) fn known_includes(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Track => &["album", "artist", "genre", "media_type"],
        Kind::Album => &["artist", "tracks"],
        Kind::Artist => &["albums"],
        Kind::Playlist => &["tracks"],
        Kind::Genre | Kind::MediaType | Kind::Term => &[],
    }
}

/// What each kind sorts by; a leading `-` sorts descending.
pub(crate) fn sort_names(kind: Kind) -> &'static [&'static str] {
    if kind == Kind::Track {
        &["id", "name", "milliseconds", "unit_price", "popularity"]
    } else {
        &["id", "name"]
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
    includes: Includes,
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
        let limit = crate::paging::limit(params.limit.as_deref())?;

        let (sort, descending) = match params.sort.as_deref().map(str::trim) {
            None => (SortField::Id, false),
            Some("") => return Err(bad("sort names nothing; leave it out instead")),
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
                        return Err(bad(format!(
                            "{} cannot be sorted by `{name}`; use {}, with - for descending",
                            plural(kind),
                            sort_names(kind).join(", ")
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

        let fields: Vec<String> = some_names("fields", &params.fields)?
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
        let includes = Includes::parse(kind, &params.include)?;

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

    /// What makes this page differ from another, for the answer cache: the query the cursor
    /// is bound to, where the page starts, its size and its shape.
    pub fn cache_key(&self) -> String {
        format!(
            "list|{}|{:?}|{}|{:?}|{:?}",
            self.fingerprint, self.request.after, self.request.limit, self.fields, self.includes
        )
    }

    /// Runs the query and shapes the page: each entry's stored JSON is spliced in as it is,
    /// with its includes after its own fields; only `fields=` makes an entry be parsed.
    pub fn run(&self, index: &CatalogIndex, secret: &[u8], budget: &Budget) -> ApiResult<String> {
        let page = if self.terms.is_empty() {
            index.list(&self.request, budget)?
        } else {
            let mut request = self.request.clone();
            request.facets = term_facets(index, &self.terms)?;
            index.list(&request, budget)?
        };
        let mut related = Related::new(index);
        let mut out = String::with_capacity(page.items.iter().map(String::len).sum::<usize>() + 64);
        out.push_str("{\"data\":[");
        for (i, item) in page.items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let kind = self.request.kind;
            if self.fields.is_empty() {
                self.includes
                    .splice(&mut related, kind, item, item, &mut out)?;
            } else {
                let shown = select(item, &self.fields)?;
                self.includes
                    .splice(&mut related, kind, item, &shown, &mut out)?;
            }
        }
        out.push_str("],\"page\":");
        let info = PageInfo {
            next_cursor: page
                .next
                .map(|key| encode_cursor(&key, &self.fingerprint, secret)),
            limit: self.request.limit,
        };
        out.push_str(&serde_json::to_string(&info).map_err(anyhow::Error::from)?);
        out.push('}');
        // Not parsed again to check it: every piece is stored or serialised JSON.
        Ok(out)
    }
}

/// An entry's JSON cut down to the fields asked for.
fn select(body: &str, fields: &[String]) -> ApiResult<String> {
    let mut value: Value = serde_json::from_str(body).map_err(anyhow::Error::from)?;
    if let Value::Object(object) = &mut value {
        object.retain(|k, _| fields.iter().any(|f| f == k));
    }
    Ok(value.to_string())
}
