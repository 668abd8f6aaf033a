//! The catalog filters that lists and search share: ids, price and duration ranges, and
//! taxonomy terms, checked per kind.

use super::list::{bad, names, plural, whole_number};
use crate::error::{ApiError, ApiResult};
use crate::model::terms::{is_slug, Term};
use crate::model::Kind;
use crate::money::parse_cents;
use crate::search::CatalogIndex;

/// Most taxonomy terms one filter may name.
pub(crate) const MAX_TERMS: usize = 10;

/// Each filter and the kinds it applies to, in the order of `TrackFilters`' fields; the
/// OpenAPI document declares each list's filters from this table.
pub(crate) const FILTER_KINDS: [(&str, &[Kind]); 9] = [
    ("genre", &[Kind::Track]),
    ("album_id", &[Kind::Track]),
    ("artist_id", &[Kind::Track, Kind::Album]),
    ("media_type", &[Kind::Track]),
    ("min_price", &[Kind::Track]),
    ("max_price", &[Kind::Track]),
    ("min_ms", &[Kind::Track]),
    ("max_ms", &[Kind::Track]),
    ("taxonomy", &[Kind::Track, Kind::Album, Kind::Artist]),
];

/// The index facets of taxonomy terms, or a 404 naming one that does not exist: the
/// parameter is well formed (the document declares its form) but names nothing.
pub(crate) fn term_facets(
    index: &CatalogIndex,
    terms: &[(String, String)],
) -> ApiResult<Vec<String>> {
    let set = index.term_set()?;
    terms
        .iter()
        .map(|(taxonomy, slug)| {
            set.find(taxonomy, slug).map(Term::facet).ok_or_else(|| {
                ApiError::NotFound(format!("taxonomy names no term {taxonomy}:{slug}"))
            })
        })
        .collect()
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
    pub(crate) fn check_applies_to(&self, kind: Kind) -> ApiResult<()> {
        let values = [
            self.genre,
            self.album_id,
            self.artist_id,
            self.media_type,
            self.min_price,
            self.max_price,
            self.min_ms,
            self.max_ms,
            self.taxonomy,
        ];
        for ((name, applies_to), value) in FILTER_KINDS.iter().zip(values) {
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
        // Ids start at 1, as the document declares; 0 names nothing.
        let id = |name: &str, raw: &Option<String>| -> ApiResult<Option<u64>> {
            match number(name, raw)? {
                Some(n) if n == 0 || n > i64::MAX as u64 => {
                    Err(bad(format!("{name} is an id, from 1 to {}", i64::MAX)))
                }
                other => Ok(other),
            }
        };
        for (name, field, raw) in [
            ("genre", "genre_id", self.genre),
            ("album_id", "album_id", self.album_id),
            ("artist_id", "artist_id", self.artist_id),
            ("media_type", "media_type_id", self.media_type),
        ] {
            if let Some(value) = id(name, raw)? {
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
        // A minimum above its maximum is an empty range: it matches nothing, as any other
        // range that holds no entry does.
        Ok((equal, ranges))
    }
}
