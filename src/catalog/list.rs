//! Catalog list requests as clients send them: query parameters checked per kind, signed
//! opaque cursors, `fields=` selection and `include=` of related entries.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::Kind;
use crate::error::{ApiError, ApiResult};
use crate::money::parse_cents;
use crate::search::{CatalogIndex, Key, ListRequest, SortField};
use crate::taxonomy::{is_slug, Term};

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;
/// Most taxonomy terms one filter may name.
const MAX_TERMS: usize = 10;

/// The index facets of taxonomy terms, or a 400 naming one that does not exist.
pub(crate) fn term_facets(
    index: &CatalogIndex,
    terms: &[(String, String)],
) -> ApiResult<Vec<String>> {
    let set = index.term_set()?;
    terms
        .iter()
        .map(|(taxonomy, slug)| {
            set.find(taxonomy, slug)
                .map(Term::facet)
                .ok_or_else(|| bad(format!("taxonomy names no term {taxonomy}:{slug}")))
        })
        .collect()
}

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

#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub data: Vec<Value>,
    pub page: PageInfo,
}

pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

fn whole_number(name: &str, raw: &str) -> ApiResult<u64> {
    raw.trim()
        .parse::<u64>()
        .map_err(|_| bad(format!("{name} must be a whole number, not `{raw}`")))
}

fn names(raw: &Option<String>) -> Vec<&str> {
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

fn plural(kind: Kind) -> &'static str {
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

/// The filters lists and search share, as sent.
pub(crate) struct TrackFilters<'a> {
    pub genre: &'a Option<String>,
    pub album_id: &'a Option<String>,
    pub artist_id: &'a Option<String>,
    pub media_type: &'a Option<String>,
    pub min_price: &'a Option<String>,
    pub max_price: &'a Option<String>,
    pub min_ms: &'a Option<String>,
    pub max_ms: &'a Option<String>,
    pub taxonomy: &'a Option<String>,
}

pub(crate) type Filters = (Vec<(&'static str, u64)>, Vec<(&'static str, u64, u64)>);

impl TrackFilters<'_> {
    fn check_applies_to(&self, kind: Kind) -> ApiResult<()> {
        let filters: [(&str, &Option<String>, &[Kind]); 9] = [
            ("genre", self.genre, &[Kind::Track]),
            ("album_id", self.album_id, &[Kind::Track]),
            ("artist_id", self.artist_id, &[Kind::Track, Kind::Album]),
            ("media_type", self.media_type, &[Kind::Track]),
            ("min_price", self.min_price, &[Kind::Track]),
            ("max_price", self.max_price, &[Kind::Track]),
            ("min_ms", self.min_ms, &[Kind::Track]),
            ("max_ms", self.max_ms, &[Kind::Track]),
            (
                "taxonomy",
                self.taxonomy,
                &[Kind::Track, Kind::Album, Kind::Artist],
            ),
        ];
        for (name, value, applies_to) in filters {
            if value.is_some() && !applies_to.contains(&kind) {
                return Err(bad(format!(
                    "{} cannot be filtered by {name}",
                    plural(kind)
                )));
            }
        }
        Ok(())
    }

    /// The taxonomy terms asked for, as (type, slug).
    pub(crate) fn terms(&self) -> ApiResult<Vec<(String, String)>> {
        let mut terms = Vec::new();
        for raw in names(self.taxonomy) {
            let parsed = raw
                .split_once(':')
                .filter(|(t, s)| is_slug(t) && is_slug(s));
            let Some((taxonomy, slug)) = parsed else {
                return Err(bad(format!(
                    "taxonomy must be type:slug in lower-case words joined by hyphens, e.g. genre:heavy-metal, not `{raw}`"
                )));
            };
            terms.push((taxonomy.to_string(), slug.to_string()));
        }
        if terms.len() > MAX_TERMS {
            return Err(bad(format!("taxonomy takes at most {MAX_TERMS} terms")));
        }
        Ok(terms)
    }

    /// Equality filters and inclusive ranges on index fields.
    pub(crate) fn parse(&self) -> ApiResult<Filters> {
        let mut equal: Vec<(&'static str, u64)> = Vec::new();
        let mut ranges: Vec<(&'static str, u64, u64)> = Vec::new();
        let price = |name: &str, raw: &Option<String>| -> ApiResult<Option<u64>> {
            raw.as_deref()
                .map(|r| {
                    parse_cents(r.trim())
                        .ok()
                        .and_then(|c| u64::try_from(c).ok())
                        .ok_or_else(|| {
                            bad(format!("{name} must be an amount like 0.99, not `{r}`"))
                        })
                })
                .transpose()
        };
        let number = |name: &str, raw: &Option<String>| -> ApiResult<Option<u64>> {
            raw.as_deref().map(|r| whole_number(name, r)).transpose()
        };
        for (name, field, raw) in [
            ("genre", "genre_id", self.genre),
            ("album_id", "album_id", self.album_id),
            ("artist_id", "artist_id", self.artist_id),
            ("media_type", "media_type_id", self.media_type),
        ] {
            if let Some(value) = number(name, raw)? {
                equal.push((field, value));
            }
        }
        let min_price = price("min_price", self.min_price)?;
        let max_price = price("max_price", self.max_price)?;
        if min_price.is_some() || max_price.is_some() {
            ranges.push((
                "price_cents",
                min_price.unwrap_or(0),
                max_price.unwrap_or(u64::MAX),
            ));
        }
        let min_ms = number("min_ms", self.min_ms)?;
        let max_ms = number("max_ms", self.max_ms)?;
        if min_ms.is_some() || max_ms.is_some() {
            ranges.push((
                "milliseconds",
                min_ms.unwrap_or(0),
                max_ms.unwrap_or(u64::MAX),
            ));
        }
        for (_, min, max) in &ranges {
            if min > max {
                return Err(bad("a minimum is above its maximum"));
            }
        }
        Ok((equal, ranges))
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
        let limit = match &params.limit {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(bad(format!(
                        "limit must be a whole number from 1 to {MAX_LIMIT}, not `{raw}`"
                    )))
                }
            },
        };

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

fn one(index: &CatalogIndex, kind: Kind, id: Option<i64>) -> ApiResult<Value> {
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

#[derive(Serialize, Deserialize)]
struct CursorBody {
    q: String,
    k: Key,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload);
    mac
}

pub(crate) fn encode_cursor(key: &Key, fingerprint: &str, secret: &[u8]) -> String {
    let query = format!("{:x}", Sha256::digest(fingerprint.as_bytes()));
    let body = serde_json::to_vec(&CursorBody {
        q: query[..16].to_string(),
        k: key.clone(),
    })
    .expect("cursors serialise");
    let tag = mac(secret, &body).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&body),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

pub(crate) fn decode_cursor(cursor: &str, fingerprint: &str, secret: &[u8]) -> ApiResult<Key> {
    let invalid = || bad("the cursor is not one this service issued; start again without it");
    let (body, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(secret, &body)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let parsed: CursorBody = serde_json::from_slice(&body).map_err(|_| invalid())?;
    let query = format!("{:x}", Sha256::digest(fingerprint.as_bytes()));
    if parsed.q != query[..16] {
        return Err(bad(
            "the cursor belongs to a list with other filters or another sort",
        ));
    }
    Ok(parsed.k)
}
