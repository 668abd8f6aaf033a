//! Song lists: `getRandomSongs`, `getSongsByGenre`, `getTopSongs` and `getStarred2`, and the
//! helpers album lists share with them (genres by name, random draws, the genre map).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rand::RngExt;
use serde_json::{json, Value};

use super::entries::{self, int, text, Marks, Shaper};
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::{Budget, CatalogIndex, ListRequest, SortField};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::{self, Item};

/// Most entries one list answer carries, as the spec says for `size` and `count`.
pub const MAX_SIZE: u64 = 500;

pub(super) fn request(kind: Kind, sort: SortField, descending: bool) -> ListRequest {
    ListRequest::unfiltered(kind, sort, descending)
}

pub(super) fn parse_all(items: Vec<String>) -> Result<Vec<Value>, Failure> {
    items
        .iter()
        .map(|body| serde_json::from_str(body).map_err(|e| anyhow::Error::from(e).into()))
        .collect()
}

/// Every genre in the index, by name (a small list: the catalog's genres).
pub fn genres(index: &CatalogIndex, budget: &Budget) -> Result<Vec<Value>, Failure> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let request = ListRequest {
            after,
            limit: 500,
            ..request(Kind::Genre, SortField::Name, false)
        };
        let page = index.list(&request, budget)?;
        all.extend(parse_all(page.items)?);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// The genre called `name` (case-insensitive), or a code 70.
pub fn genre_named(index: &CatalogIndex, budget: &Budget, name: &str) -> Result<Value, Failure> {
    genres(index, budget)?
        .into_iter()
        .find(|g| text(g, "name").eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| Failure::not_found(format!("there is no genre called {name}")))
}

/// Which albums have tracks of each genre, per catalog version. Tracks know their genre and
/// albums do not, so this is read from SQL once per catalog change and kept.
#[derive(Default)]
pub struct GenreAlbums(Mutex<Option<(i64, Arc<AlbumsByGenre>)>>);

/// Album ids (ascending) per genre id.
pub type AlbumsByGenre = HashMap<i64, Vec<i64>>;

impl GenreAlbums {
    /// The map at catalog version `version`.
    pub async fn get(&self, state: &AppState, version: i64) -> Result<Arc<AlbumsByGenre>, Failure> {
        if let Some((at, map)) = self.0.lock().expect("not poisoned").as_ref() {
            if *at == version {
                return Ok(map.clone());
            }
        }
        let rows: Vec<(i64, i64)> = state
            .db
            .read(|pool| async move {
                sqlx::query_as(
                    "SELECT DISTINCT genre_id, album_id FROM track \
                     WHERE genre_id IS NOT NULL AND album_id IS NOT NULL \
                     ORDER BY genre_id, album_id",
                )
                .fetch_all(&pool)
                .await
            })
            .await?;
        let mut map: HashMap<i64, Vec<i64>> = HashMap::new();
        for (genre, album) in rows {
            map.entry(genre).or_default().push(album);
        }
        let map = Arc::new(map);
        *self.0.lock().expect("not poisoned") = Some((version, map.clone()));
        Ok(map)
    }
}

/// Up to `size` distinct random entries of `kind`, drawn by id.
pub(super) fn random(
    index: &CatalogIndex,
    budget: &Budget,
    kind: Kind,
    size: usize,
    genre: Option<i64>,
) -> Result<Vec<Value>, Failure> {
    let newest = index.list(
        &ListRequest {
            limit: 1,
            ..request(kind, SortField::Id, true)
        },
        budget,
    )?;
    let Some(max) = parse_all(newest.items)?.first().and_then(|e| int(e, "id")) else {
        return Ok(Vec::new());
    };
    let mut rng = rand::rng();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    // Ids have gaps (deletions), and a genre filter refuses most draws: a bounded number
    // of tries keeps the cost to the page.
    for _ in 0..size * 8 {
        if out.len() == size {
            break;
        }
        budget.check().map_err(anyhow::Error::from)?;
        let id = rng.random_range(1..=max);
        if !seen.insert(id) {
            continue;
        }
        if let Some(found) = entries::entry(index, kind, id)? {
            if genre.is_none() || int(&found, "genre_id") == genre {
                out.push(found);
            }
        }
    }
    Ok(out)
}

pub(super) fn size_and_offset(params: &Params, size: &str) -> Result<(usize, u64), Failure> {
    let count = params.bounded(size, 10, 0, MAX_SIZE)? as usize;
    // SQL takes offsets as signed 64-bit numbers.
    let offset = params.bounded("offset", 0, 0, i64::MAX as u64)?;
    Ok((count, offset))
}

pub async fn random_songs(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let size = params.bounded("size", 10, 0, MAX_SIZE)? as usize;
    let genre = params.get("genre").map(str::to_string);
    params.number::<i64>("fromYear")?;
    params.number::<i64>("toYear")?;
    // No track has a year.
    let no_year = params.has("fromYear") || params.has("toYear");
    let tracks = on_index(state, shared, move |index, budget, _| {
        let genre = match genre {
            Some(name) => Some(int(&genre_named(index, budget, &name)?, "id").unwrap_or(0)),
            None => None,
        };
        if no_year {
            return Ok(Vec::new());
        }
        random(index, budget, Kind::Track, size, genre)
    })
    .await?;
    let songs = entries::songs(state, shared, account, tracks).await?;
    Ok(json!({ "randomSongs": { "song": songs } }))
}

pub async fn songs_by_genre(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let name = params.required("genre")?.to_string();
    let (count, offset) = size_and_offset(params, "count")?;
    let tracks = on_index(state, shared, move |index, budget, shared| {
        let genre = genre_named(index, budget, &name)?;
        let mut request = request(Kind::Track, SortField::Id, false);
        request.equal = vec![("genre_id", int(&genre, "id").unwrap_or(0) as u64)];
        parse_all(
            shared
                .checkpoints
                .page(index, budget, &request, offset, count)?,
        )
    })
    .await?;
    let songs = entries::songs(state, shared, account, tracks).await?;
    Ok(json!({ "songsByGenre": { "song": songs } }))
}

/// The artist called `name`, found through search and then matched exactly.
pub fn artist_named(index: &CatalogIndex, name: &str) -> Result<Option<Value>, Failure> {
    let words = crate::search::words(name).map_err(Failure::generic)?;
    if words.is_empty() {
        return Ok(None);
    }
    let results = index.search(&crate::search::SearchRequest {
        words,
        kinds: vec![Kind::Artist],
        equal: Vec::new(),
        ranges: Vec::new(),
        terms: Vec::new(),
        facets: Vec::new(),
        offset: 0,
        limit: 20,
    })?;
    for hit in results.hits {
        let artist: Value = serde_json::from_str(&hit.body).map_err(anyhow::Error::from)?;
        if text(&artist, "name").eq_ignore_ascii_case(name.trim()) {
            return Ok(Some(artist));
        }
    }
    Ok(None)
}

/// An artist's best-selling tracks (Chinook's popularity is units sold).
pub async fn top_songs(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let name = params.required("artist")?.to_string();
    let count = params.bounded("count", 50, 0, MAX_SIZE)? as usize;
    let tracks = on_index(state, shared, move |index, budget, _| {
        match artist_named(index, &name)? {
            Some(artist) if count > 0 => {
                let mut request = request(Kind::Track, SortField::Popularity, true);
                request.equal = vec![("artist_id", int(&artist, "id").unwrap_or(0) as u64)];
                request.limit = count;
                parse_all(index.list(&request, budget)?.items)
            }
            _ => Ok(Vec::new()),
        }
    })
    .await?;
    let songs = entries::songs(state, shared, account, tracks).await?;
    Ok(json!({ "topSongs": { "song": songs } }))
}

/// Most starred entries of each kind one `getStarred2` carries.
const MAX_STARRED: u64 = 1_000;

pub async fn starred2(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
) -> Result<Value, Failure> {
    let mut ids: HashMap<Item, Vec<i64>> = HashMap::new();
    for item in [Item::Artist, Item::Album, Item::Track] {
        let starred = annotations::starred(&state.db, account.id, item, MAX_STARRED, 0).await?;
        ids.insert(item, starred.into_iter().map(|(id, _)| id).collect());
    }
    let marks = Marks::fetch(
        state,
        account,
        &ids[&Item::Track],
        &ids[&Item::Album],
        &ids[&Item::Artist],
    )
    .await?;
    on_index(state, shared, move |index, _, shared| {
        let artists = entries::load(index, Kind::Artist, &ids[&Item::Artist])?;
        let albums = entries::load(index, Kind::Album, &ids[&Item::Album])?;
        let tracks = entries::load(index, Kind::Track, &ids[&Item::Track])?;
        let mut shaper = Shaper::new(index, shared, marks);
        let (artist, album, song) = shaper.all(&artists, &albums, &tracks)?;
        Ok(json!({ "starred2": { "artist": artist, "album": album, "song": song } }))
    })
    .await
}
