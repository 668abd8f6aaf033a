//! The catalog's entries: their kinds, their API representations, and the record the index
//! keeps for each.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::Term;
use crate::money::Cents;

/// The kinds of catalog entries, as stored in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Artist,
    Album,
    Track,
    Genre,
    MediaType,
    Playlist,
    /// A taxonomy term (see `taxonomy`).
    Term,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Artist,
        Kind::Album,
        Kind::Track,
        Kind::Genre,
        Kind::MediaType,
        Kind::Playlist,
        Kind::Term,
    ];

    pub fn code(self) -> u64 {
        match self {
            Kind::Artist => 1,
            Kind::Album => 2,
            Kind::Track => 3,
            Kind::Genre => 4,
            Kind::MediaType => 5,
            Kind::Playlist => 6,
            Kind::Term => 7,
        }
    }

    pub fn from_code(code: u64) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The singular noun, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Artist => "artist",
            Kind::Album => "album",
            Kind::Track => "track",
            Kind::Genre => "genre",
            Kind::MediaType => "media type",
            Kind::Playlist => "playlist",
            Kind::Term => "taxonomy term",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Artist {
    pub id: i64,
    pub name: String,
    pub album_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Album {
    pub id: i64,
    pub title: String,
    pub artist_id: i64,
    pub track_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Track {
    pub id: i64,
    pub name: String,
    pub album_id: Option<i64>,
    /// The album's artist.
    pub artist_id: Option<i64>,
    pub media_type_id: i64,
    pub genre_id: Option<i64>,
    pub composer: Option<String>,
    pub milliseconds: i64,
    pub bytes: Option<i64>,
    pub unit_price: Cents,
    /// Units sold.
    pub popularity: i64,
}

/// A genre, media type or playlist: a name and how many tracks it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub track_count: i64,
}

/// One entry of the catalog, as loaded from SQL for indexing.
#[derive(Debug, Clone)]
pub enum Entry {
    Artist(Artist),
    /// An album, with its artist's name for search.
    Album(Album, Option<String>),
    /// A track, with its album's title and artist's name for search.
    Track(Track, Option<String>, Option<String>),
    Genre(Group),
    MediaType(Group),
    /// A playlist and its tracks in order.
    Playlist(Group, Vec<i64>),
    Term(Term),
}

/// An entry with the taxonomy terms attached to it, as (id, facet path).
#[derive(Debug, Clone)]
pub struct Record {
    pub entry: Entry,
    pub terms: Vec<(i64, String)>,
}

impl Entry {
    pub fn kind(&self) -> Kind {
        match self {
            Entry::Artist(_) => Kind::Artist,
            Entry::Album(..) => Kind::Album,
            Entry::Track(..) => Kind::Track,
            Entry::Genre(_) => Kind::Genre,
            Entry::MediaType(_) => Kind::MediaType,
            Entry::Playlist(..) => Kind::Playlist,
            Entry::Term(_) => Kind::Term,
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            Entry::Artist(a) => a.id,
            Entry::Album(a, _) => a.id,
            Entry::Track(t, ..) => t.id,
            Entry::Genre(g) | Entry::MediaType(g) | Entry::Playlist(g, _) => g.id,
            Entry::Term(t) => t.id,
        }
    }

    /// The name people search and sort by.
    pub fn name(&self) -> &str {
        match self {
            Entry::Artist(a) => &a.name,
            Entry::Album(a, _) => &a.title,
            Entry::Track(t, ..) => &t.name,
            Entry::Genre(g) | Entry::MediaType(g) | Entry::Playlist(g, _) => &g.name,
            Entry::Term(t) => &t.name,
        }
    }

    /// The API representation, as JSON.
    pub fn to_json(&self) -> String {
        let value = match self {
            Entry::Artist(a) => serde_json::to_string(a),
            Entry::Album(a, _) => serde_json::to_string(a),
            Entry::Track(t, ..) => serde_json::to_string(t),
            Entry::Genre(g) | Entry::MediaType(g) | Entry::Playlist(g, _) => {
                serde_json::to_string(g)
            }
            Entry::Term(t) => serde_json::to_string(t),
        };
        value.expect("catalog entries serialise")
    }
}
