//! Catalog entries as Subsonic shapes them: songs (`Child`), albums (`AlbumID3`), artists
//! (`ArtistID3`) and directories, from the index's stored JSON and the account's own marks
//! (ownership, stars, ratings, plays), fetched once per page.
//!
//! Beyond the spec, a song says what the store knows: `owned` (the caller may stream and
//! download it in full), `preview` (`stream` gives the 30-second preview instead) and
//! `unitPrice` (a decimal string, as in the REST API).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::ids::Id;
pub use super::marks::Marks;
use super::reads::on_index;
use super::{Failure, Shared};
use crate::catalog::Kind;
use crate::search::CatalogIndex;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::Item;

/// Chinook records no release or added dates; this stands for "unknown" where the spec
/// requires a date.
pub const UNKNOWN_DATE: &str = "1970-01-01T00:00:00Z";

/// What an album is made of, derived from the index and kept per catalog version.
pub struct AlbumFact {
    pub tracks: Vec<i64>,
    pub seconds: i64,
    /// The genre most of its tracks have.
    pub genre: Option<String>,
}

pub struct AlbumFacts(moka::sync::Cache<(i64, i64), Arc<AlbumFact>>);

impl Default for AlbumFacts {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        )
    }
}

/// A stored entry of the index as JSON, or `None`.
pub fn entry(index: &CatalogIndex, kind: Kind, id: i64) -> Result<Option<Value>, Failure> {
    match index.get(kind, id)? {
        Some(body) => Ok(Some(
            serde_json::from_str(&body).map_err(anyhow::Error::from)?,
        )),
        None => Ok(None),
    }
}

pub fn int(value: &Value, field: &str) -> Option<i64> {
    value.get(field).and_then(Value::as_i64)
}

pub fn text<'v>(value: &'v Value, field: &str) -> &'v str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn content_type_of(media_type: &str) -> &'static str {
    match media_type {
        "MPEG audio file" => "audio/mpeg",
        "Protected MPEG-4 video file" => "video/mp4",
        _ => "audio/mp4",
    }
}

fn suffix_of(content_type: &str) -> &'static str {
    match content_type {
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/mpeg" => "mp3",
        "audio/flac" => "flac",
        "audio/ogg" => "ogg",
        "video/mp4" => "mp4",
        _ => "m4a",
    }
}

/// Shaped artists, albums and songs.
pub type Shaped = (Vec<Value>, Vec<Value>, Vec<Value>);

/// Shapes entries for one answer, looking each related entry up once.
pub struct Shaper<'a> {
    pub index: &'a CatalogIndex,
    shared: &'a Shared,
    pub marks: Marks,
    version: i64,
    names: HashMap<(Kind, i64), Option<Value>>,
}

impl<'a> Shaper<'a> {
    pub fn new(index: &'a CatalogIndex, shared: &'a Shared, marks: Marks) -> Self {
        Self {
            index,
            shared,
            marks,
            version: index.applied_change(),
            names: HashMap::new(),
        }
    }

    fn related(&mut self, kind: Kind, id: Option<i64>) -> Result<Option<Value>, Failure> {
        let Some(id) = id else { return Ok(None) };
        if let Some(found) = self.names.get(&(kind, id)) {
            return Ok(found.clone());
        }
        let found = entry(self.index, kind, id)?;
        self.names.insert((kind, id), found.clone());
        Ok(found)
    }

    /// The album's tracks, length and genre, from the cache or the index.
    pub fn album_fact(&mut self, album: i64) -> Result<Arc<AlbumFact>, Failure> {
        if let Some(fact) = self.shared.albums.0.get(&(self.version, album)) {
            return Ok(fact);
        }
        let tracks = self.index.album_track_ids(album)?;
        let mut milliseconds = 0;
        let mut genres: HashMap<i64, usize> = HashMap::new();
        for track in &tracks {
            if let Some(t) = entry(self.index, Kind::Track, *track)? {
                milliseconds += int(&t, "milliseconds").unwrap_or(0);
                if let Some(genre) = int(&t, "genre_id") {
                    *genres.entry(genre).or_default() += 1;
                }
            }
        }
        let top = genres
            .into_iter()
            .max_by_key(|(id, n)| (*n, -id))
            .map(|(id, _)| id);
        let genre = self
            .related(Kind::Genre, top)?
            .map(|g| text(&g, "name").to_string());
        let fact = Arc::new(AlbumFact {
            tracks,
            seconds: milliseconds / 1000,
            genre,
        });
        self.shared
            .albums
            .0
            .insert((self.version, album), fact.clone());
        Ok(fact)
    }

    /// A song (`Child`) from a track's stored JSON.
    pub fn song(&mut self, track: &Value) -> Result<Value, Failure> {
        let id = int(track, "id").unwrap_or(0);
        let album_id = int(track, "album_id");
        let artist_id = int(track, "artist_id");
        let album = self.related(Kind::Album, album_id)?;
        let artist = self.related(Kind::Artist, artist_id)?;
        let genre = self.related(Kind::Genre, int(track, "genre_id"))?;
        let media = self.related(Kind::MediaType, int(track, "media_type_id"))?;
        let seconds = int(track, "milliseconds").unwrap_or(0) / 1000;
        let (content_type, size) = match self.marks.audio.get(&id) {
            Some((content_type, bytes)) => (content_type.clone(), *bytes),
            None => (
                content_type_of(media.as_ref().map_or("", |m| text(m, "name"))).to_string(),
                int(track, "bytes").unwrap_or(0),
            ),
        };
        let full = self.marks.full_stream(id);
        let mut out = Map::new();
        out.insert("id".into(), Value::from(Id::Track(id).to_string()));
        out.insert("isDir".into(), Value::Bool(false));
        out.insert("title".into(), Value::from(text(track, "name")));
        out.insert(
            "isVideo".into(),
            Value::Bool(content_type.starts_with("video/")),
        );
        out.insert("type".into(), Value::from("music"));
        out.insert("mediaType".into(), Value::from("song"));
        out.insert("size".into(), Value::from(size));
        out.insert("suffix".into(), Value::from(suffix_of(&content_type)));
        out.insert("contentType".into(), Value::from(content_type));
        out.insert("duration".into(), Value::from(seconds));
        if seconds > 0 {
            out.insert("bitRate".into(), Value::from(size * 8 / seconds / 1000));
        }
        out.insert("discNumber".into(), Value::from(1));
        if let Some(album_id) = album_id {
            let cover = Id::Album(album_id).to_string();
            out.insert("parent".into(), Value::from(cover.clone()));
            out.insert("albumId".into(), Value::from(cover.clone()));
            out.insert("coverArt".into(), Value::from(cover));
            let fact = self.album_fact(album_id)?;
            if let Some(at) = fact.tracks.iter().position(|t| *t == id) {
                out.insert("track".into(), Value::from(at + 1));
            }
        }
        if let Some(album) = &album {
            out.insert("album".into(), Value::from(text(album, "title")));
        }
        if let (Some(artist), Some(artist_id)) = (&artist, artist_id) {
            let name = text(artist, "name");
            let artists = json!([{"id": Id::Artist(artist_id).to_string(), "name": name}]);
            out.insert("artist".into(), Value::from(name));
            out.insert(
                "artistId".into(),
                Value::from(Id::Artist(artist_id).to_string()),
            );
            out.insert("displayArtist".into(), Value::from(name));
            out.insert("displayAlbumArtist".into(), Value::from(name));
            out.insert("artists".into(), artists.clone());
            out.insert("albumArtists".into(), artists);
        }
        if let Some(genre) = &genre {
            let name = text(genre, "name");
            out.insert("genre".into(), Value::from(name));
            out.insert("genres".into(), json!([{"name": name}]));
        }
        if let Some(composer) = track.get("composer").and_then(Value::as_str) {
            out.insert("displayComposer".into(), Value::from(composer));
        }
        let (plays, played) = self
            .marks
            .plays
            .get(&id)
            .map_or((0, None), |(n, at)| (*n, Some(at.clone())));
        out.insert("playCount".into(), Value::from(plays));
        if let Some(played) = played {
            out.insert("played".into(), Value::from(played));
        }
        self.marks.annotate(&mut out, Item::Track, id);
        out.insert("owned".into(), Value::Bool(full));
        out.insert("preview".into(), Value::Bool(!full));
        if let Some(price) = track.get("unit_price") {
            out.insert("unitPrice".into(), price.clone());
        }
        Ok(Value::Object(out))
    }

    /// An album (`AlbumID3`) from its stored JSON.
    pub fn album(&mut self, album: &Value) -> Result<Value, Failure> {
        let id = int(album, "id").unwrap_or(0);
        let artist_id = int(album, "artist_id");
        let artist = self.related(Kind::Artist, artist_id)?;
        let fact = self.album_fact(id)?;
        let mut out = Map::new();
        out.insert("id".into(), Value::from(Id::Album(id).to_string()));
        out.insert("name".into(), Value::from(text(album, "title")));
        out.insert("coverArt".into(), Value::from(Id::Album(id).to_string()));
        out.insert("songCount".into(), Value::from(fact.tracks.len()));
        out.insert("duration".into(), Value::from(fact.seconds));
        out.insert("created".into(), Value::from(UNKNOWN_DATE));
        if let (Some(artist), Some(artist_id)) = (&artist, artist_id) {
            let name = text(artist, "name");
            out.insert("artist".into(), Value::from(name));
            out.insert(
                "artistId".into(),
                Value::from(Id::Artist(artist_id).to_string()),
            );
            out.insert("displayArtist".into(), Value::from(name));
            out.insert(
                "artists".into(),
                json!([{"id": Id::Artist(artist_id).to_string(), "name": name}]),
            );
        }
        if let Some(genre) = &fact.genre {
            out.insert("genre".into(), Value::from(genre.clone()));
            out.insert("genres".into(), json!([{"name": genre}]));
        }
        self.marks.annotate(&mut out, Item::Album, id);
        Ok(Value::Object(out))
    }

    /// An album as a directory entry of its artist (`Child` with `isDir`).
    pub fn album_dir(&mut self, album: &Value) -> Result<Value, Failure> {
        let mut shaped = self.album(album)?;
        if let Value::Object(out) = &mut shaped {
            let name = out.get("name").cloned().unwrap_or_default();
            out.insert("isDir".into(), Value::Bool(true));
            out.insert("title".into(), name.clone());
            out.insert("album".into(), name);
            if let Some(artist) = out.get("artistId").cloned() {
                out.insert("parent".into(), artist);
            }
        }
        Ok(shaped)
    }

    /// The artists, albums and songs of one answer, shaped, in that order.
    pub fn all(
        &mut self,
        artists: &[Value],
        albums: &[Value],
        tracks: &[Value],
    ) -> Result<Shaped, Failure> {
        let artist = artists.iter().map(|a| self.artist(a)).collect();
        let album = albums
            .iter()
            .map(|a| self.album(a))
            .collect::<Result<_, _>>()?;
        let song = tracks
            .iter()
            .map(|t| self.song(t))
            .collect::<Result<_, _>>()?;
        Ok((artist, album, song))
    }

    /// An artist (`ArtistID3`) from its stored JSON.
    pub fn artist(&mut self, artist: &Value) -> Value {
        let id = int(artist, "id").unwrap_or(0);
        let mut out = Map::new();
        out.insert("id".into(), Value::from(Id::Artist(id).to_string()));
        out.insert("name".into(), Value::from(text(artist, "name")));
        out.insert(
            "albumCount".into(),
            Value::from(int(artist, "album_count").unwrap_or(0)),
        );
        self.marks.annotate(&mut out, Item::Artist, id);
        Value::Object(out)
    }
}

/// The ids of a list of stored entries.
pub fn ids_of(entries: &[Value]) -> Vec<i64> {
    entries.iter().filter_map(|e| int(e, "id")).collect()
}

/// A whole answer's worth of songs: marks fetched once, then each shaped.
pub async fn songs(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    tracks: Vec<Value>,
) -> Result<Vec<Value>, Failure> {
    let marks = Marks::fetch(state, account, &ids_of(&tracks), &[], &[]).await?;
    on_index(state, shared, move |index, _, shared| {
        let mut shaper = Shaper::new(index, shared, marks);
        tracks.iter().map(|t| shaper.song(t)).collect()
    })
    .await
}

/// A whole answer's worth of albums.
pub async fn albums(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    albums: Vec<Value>,
) -> Result<Vec<Value>, Failure> {
    let marks = Marks::fetch(state, account, &[], &ids_of(&albums), &[]).await?;
    on_index(state, shared, move |index, _, shared| {
        let mut shaper = Shaper::new(index, shared, marks);
        albums.iter().map(|a| shaper.album(a)).collect()
    })
    .await
}

/// Stored entries by id, in the order given, leaving out any no longer in the catalog.
pub fn load(index: &CatalogIndex, kind: Kind, ids: &[i64]) -> Result<Vec<Value>, Failure> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(found) = entry(index, kind, *id)? {
            out.push(found);
        }
    }
    Ok(out)
}
