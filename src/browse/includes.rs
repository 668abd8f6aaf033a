//! `include=`: the related entries embedded in catalog answers, each read from the index
//! once per answer.

use std::collections::hash_map::{Entry, HashMap};

use serde::Deserialize;
use serde_json::Value;

use super::list::{bad, known_includes, plural, some_names};
use crate::error::ApiResult;
use crate::model::Kind;
use crate::search::{Budget, CatalogIndex, ListRequest, SortField};

/// Embedded lists (an album's tracks, an artist's albums, a playlist's tracks) hold at most
/// this many entries, so one entry never fans out without bound; longer ones are paged
/// through their own lists (`/tracks?album_id=`, `/albums?artist_id=`,
/// `/playlists/{id}/tracks`).
pub const MAX_EMBEDDED: usize = 100;

/// The relations to embed in each entry, checked and without repeats.
#[derive(Debug, Default)]
pub struct Includes(Vec<&'static str>);

/// The ids an entry refers to, read without building its whole JSON tree.
#[derive(Deserialize)]
struct Refs {
    id: Option<i64>,
    album_id: Option<i64>,
    artist_id: Option<i64>,
    genre_id: Option<i64>,
    media_type_id: Option<i64>,
}

impl Includes {
    pub fn parse(kind: Kind, raw: &Option<String>) -> ApiResult<Self> {
        let allowed = known_includes(kind);
        let mut wanted: Vec<&'static str> = Vec::new();
        for include in some_names("include", raw)? {
            let Some(known) = allowed.iter().find(|a| **a == include) else {
                let hint = if allowed.is_empty() {
                    "they include nothing".to_string()
                } else {
                    format!("they include {}", allowed.join(", "))
                };
                return Err(bad(format!(
                    "{} cannot include `{include}`; {hint}",
                    plural(kind)
                )));
            };
            if !wanted.contains(known) {
                wanted.push(known);
            }
        }
        Ok(Self(wanted))
    }

    pub fn names(&self) -> &[&'static str] {
        &self.0
    }

    /// Writes `shown` (what is shown of the entry whose whole JSON is `body`) to `out`
    /// with the includes added.
    pub fn splice(
        &self,
        related: &mut Related,
        kind: Kind,
        body: &str,
        shown: &str,
        out: &mut String,
    ) -> ApiResult<()> {
        if self.0.is_empty() {
            out.push_str(shown);
            return Ok(());
        }
        let open = shown
            .trim_end()
            .strip_suffix('}')
            .ok_or_else(|| anyhow::anyhow!("a stored entry is not a JSON object"))?;
        let refs: Refs = serde_json::from_str(body).map_err(anyhow::Error::from)?;
        out.push_str(open);
        let mut empty = open.trim_end().ends_with('{');
        for include in &self.0 {
            if !empty {
                out.push(',');
            }
            empty = false;
            out.push('"');
            out.push_str(include);
            out.push_str("\":");
            match (kind, *include) {
                (Kind::Track, "album") => related.one(Kind::Album, refs.album_id, out)?,
                (Kind::Track | Kind::Album, "artist") => {
                    related.one(Kind::Artist, refs.artist_id, out)?
                }
                (Kind::Track, "genre") => related.one(Kind::Genre, refs.genre_id, out)?,
                (Kind::Track, "media_type") => {
                    related.one(Kind::MediaType, refs.media_type_id, out)?
                }
                (Kind::Album, "tracks") => {
                    children(related.index, Kind::Track, "album_id", refs.id, out)?
                }
                (Kind::Artist, "albums") => {
                    children(related.index, Kind::Album, "artist_id", refs.id, out)?
                }
                (Kind::Playlist, "tracks") => {
                    let members = related.index.members(refs.id.unwrap_or(0))?;
                    out.push('[');
                    for (i, track) in members.into_iter().take(MAX_EMBEDDED).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        related.one(Kind::Track, Some(track), out)?;
                    }
                    out.push(']');
                }
                (kind, other) => {
                    return Err(
                        anyhow::anyhow!("include {other} of {kind:?} passed the checks").into(),
                    )
                }
            }
        }
        out.push('}');
        Ok(())
    }
}

/// The entries an answer's includes refer to, each read from the index once: a page of 25
/// tracks names a few albums, artists and genres, mostly the same ones again.
pub struct Related<'a> {
    index: &'a CatalogIndex,
    read: HashMap<(u64, i64), Option<String>>,
}

impl<'a> Related<'a> {
    pub fn new(index: &'a CatalogIndex) -> Self {
        Self {
            index,
            read: HashMap::new(),
        }
    }

    /// Writes one entry's JSON, or `null` when it does not exist.
    fn one(&mut self, kind: Kind, id: Option<i64>, out: &mut String) -> ApiResult<()> {
        let Some(id) = id else {
            out.push_str("null");
            return Ok(());
        };
        let body = match self.read.entry((kind.code(), id)) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(self.index.get(kind, id)?),
        };
        out.push_str(body.as_deref().unwrap_or("null"));
        Ok(())
    }
}

pub(crate) fn one_value(index: &CatalogIndex, kind: Kind, id: Option<i64>) -> ApiResult<Value> {
    let mut out = String::new();
    Related::new(index).one(kind, id, &mut out)?;
    Ok(serde_json::from_str(&out).map_err(anyhow::Error::from)?)
}

/// The first `MAX_EMBEDDED` entries of `kind` whose `field` is `id`, in id order (an
/// album's tracks in track order, an artist's albums), as a JSON array.
fn children(
    index: &CatalogIndex,
    kind: Kind,
    field: &'static str,
    id: Option<i64>,
    out: &mut String,
) -> ApiResult<()> {
    out.push('[');
    if let Some(id) = id.and_then(|id| u64::try_from(id).ok()) {
        let page = index.list(
            &ListRequest {
                kind,
                equal: vec![(field, id)],
                ranges: Vec::new(),
                facets: Vec::new(),
                sort: SortField::Id,
                descending: false,
                after: None,
                limit: MAX_EMBEDDED,
            },
            &Budget::unlimited(),
        )?;
        out.push_str(&page.items.join(","));
    }
    out.push(']');
    Ok(())
}
