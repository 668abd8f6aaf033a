//! Browsing: the one music folder, the artist index (`getIndexes`, `getArtists`), folder-style
//! directories (artist → albums → songs), and the ID3 views of an artist, an album, a song
//! and the genres, all from the index.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::entries::{self, int, text, Marks, Shaper};
use super::ids::Id;
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::{Budget, CatalogIndex, ListRequest, SortField};
use crate::state::AppState;
use crate::store::accounts::Account;

/// The store is one library.
pub const FOLDER_ID: i64 = 1;
const FOLDER_NAME: &str = "Chinook";
const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";

pub fn music_folders() -> Value {
    json!({ "musicFolders": { "musicFolder": [{ "id": FOLDER_ID, "name": FOLDER_NAME }] } })
}

fn all_of(
    index: &CatalogIndex,
    budget: &Budget,
    kind: Kind,
    equal: Vec<(&'static str, u64)>,
) -> Result<Vec<Value>, Failure> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let request = ListRequest {
            equal: equal.clone(),
            after,
            limit: 1_000,
            ..super::lists::request(kind, SortField::Name, false)
        };
        let page = index.list(&request, budget)?;
        for body in page.items {
            out.push(serde_json::from_str(&body).map_err(anyhow::Error::from)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// The letter an artist is filed under, leading articles ignored.
fn letter(name: &str) -> String {
    let mut rest = name.trim();
    for article in IGNORED_ARTICLES.split(' ') {
        if let Some(after) = rest.strip_prefix(article).and_then(|r| r.strip_prefix(' ')) {
            rest = after.trim_start();
            break;
        }
    }
    match rest.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".into(),
    }
}

fn check_folder(params: &Params) -> Result<(), Failure> {
    match params.number::<i64>("musicFolderId")? {
        Some(id) if id != FOLDER_ID => Err(Failure::not_found(format!(
            "there is no music folder {id}; the store has one, id {FOLDER_ID}"
        ))),
        _ => Ok(()),
    }
}

/// Every artist, by index letter. The marks (stars) are left to `getStarred2`: fetching
/// them for the whole catalog would cost what the catalog costs.
async fn indexed(state: &AppState, shared: &Arc<Shared>) -> Result<Vec<Value>, Failure> {
    on_index(state, shared, |index, budget, shared| {
        let mut shaper = Shaper::new(index, shared, Marks::default());
        let mut letters: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for artist in all_of(index, budget, Kind::Artist, Vec::new())? {
            letters
                .entry(letter(text(&artist, "name")))
                .or_default()
                .push(shaper.artist(&artist));
        }
        Ok(letters
            .into_iter()
            .map(|(name, artist)| json!({ "name": name, "artist": artist }))
            .collect())
    })
    .await
}

pub async fn artists(
    state: &AppState,
    shared: &Arc<Shared>,
    params: &Params,
) -> Result<Value, Failure> {
    check_folder(params)?;
    Ok(json!({ "artists": {
        "ignoredArticles": IGNORED_ARTICLES,
        "index": indexed(state, shared).await?,
    }}))
}

/// When the catalog last changed, in milliseconds since 1970: the time of the last change
/// the index holds, or 0 when it holds none since the catalog was seeded.
async fn last_modified(state: &AppState, seq: i64) -> Result<i64, Failure> {
    if seq <= 0 {
        return Ok(0);
    }
    let at: Option<String> = state
        .db
        .read(|pool| async move {
            sqlx::query_scalar("SELECT changed_at FROM catalog_change WHERE seq = $1")
                .bind(seq)
                .fetch_optional(&pool)
                .await
        })
        .await?;
    Ok(at
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
        .map_or(0, |at| at.timestamp_millis()))
}

/// `getIndexes`; with `ifModifiedSince` at or after the last change, the artists are left
/// out, as the spec allows, so a player polling for changes costs nothing.
pub async fn indexes(
    state: &AppState,
    shared: &Arc<Shared>,
    params: &Params,
) -> Result<Value, Failure> {
    check_folder(params)?;
    let modified = last_modified(state, state.catalog()?.applied_change()).await?;
    let since = params.number::<i64>("ifModifiedSince")?.unwrap_or(0);
    let index = if since > 0 && since >= modified {
        Vec::new()
    } else {
        indexed(state, shared).await?
    };
    Ok(json!({ "indexes": {
        "ignoredArticles": IGNORED_ARTICLES,
        "lastModified": modified,
        "index": index,
    }}))
}

fn found(index: &CatalogIndex, kind: Kind, id: i64) -> Result<Value, Failure> {
    entries::entry(index, kind, id)?
        .ok_or_else(|| Failure::not_found(format!("there is no {} with id {id}", kind.noun())))
}

/// An album's tracks in album order.
fn album_tracks(index: &CatalogIndex, album: i64) -> Result<Vec<Value>, Failure> {
    let ids = index.album_track_ids(album)?;
    entries::load(index, Kind::Track, &ids)
}

/// An artist and its albums, with the account's marks on them.
async fn artist_and_albums(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    id: i64,
) -> Result<(Value, Vec<Value>, Marks), Failure> {
    let (artist, albums) = on_index(state, shared, move |index, budget, _| {
        let albums = all_of(index, budget, Kind::Album, vec![("artist_id", id as u64)])?;
        Ok((found(index, Kind::Artist, id)?, albums))
    })
    .await?;
    let marks = Marks::fetch(state, account, &[], &entries::ids_of(&albums), &[id]).await?;
    Ok((artist, albums, marks))
}

/// An album and its tracks in album order, with the account's marks on them.
async fn album_and_tracks(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    id: i64,
) -> Result<(Value, Vec<Value>, Marks), Failure> {
    let (album, tracks) = on_index(state, shared, move |index, _, _| {
        Ok((found(index, Kind::Album, id)?, album_tracks(index, id)?))
    })
    .await?;
    let marks = Marks::fetch(state, account, &entries::ids_of(&tracks), &[id], &[]).await?;
    Ok((album, tracks, marks))
}

pub async fn artist(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let id = Id::expect("id", params.required("id")?, Id::Artist)?;
    let (artist, albums, marks) = artist_and_albums(state, shared, account, id).await?;
    on_index(state, shared, move |index, _, shared| {
        let mut shaper = Shaper::new(index, shared, marks);
        let mut out = shaper.artist(&artist);
        let (_, album, _) = shaper.all(&[], &albums, &[])?;
        out["album"] = Value::from(album);
        Ok(json!({ "artist": out }))
    })
    .await
}

pub async fn album(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let id = Id::expect("id", params.required("id")?, Id::Album)?;
    let (album, tracks, marks) = album_and_tracks(state, shared, account, id).await?;
    on_index(state, shared, move |index, _, shared| {
        let mut shaper = Shaper::new(index, shared, marks);
        let mut out = shaper.album(&album)?;
        let (_, _, song) = shaper.all(&[], &[], &tracks)?;
        out["song"] = Value::from(song);
        Ok(json!({ "album": out }))
    })
    .await
}

pub async fn song(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let id = Id::expect("id", params.required("id")?, Id::Track)?;
    let track = on_index(state, shared, move |index, _, _| {
        found(index, Kind::Track, id)
    })
    .await?;
    let mut songs = entries::songs(state, shared, account, vec![track]).await?;
    Ok(json!({ "song": songs.remove(0) }))
}

pub async fn directory(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let raw = params.required("id")?;
    match Id::parse(raw) {
        Some(Id::Artist(id)) => {
            let (artist, albums, marks) = artist_and_albums(state, shared, account, id).await?;
            on_index(state, shared, move |index, _, shared| {
                let mut shaper = Shaper::new(index, shared, marks);
                let child = albums
                    .iter()
                    .map(|a| shaper.album_dir(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(json!({ "directory": {
                    "id": Id::Artist(id).to_string(),
                    "parent": FOLDER_ID.to_string(),
                    "name": text(&artist, "name"),
                    "child": child,
                }}))
            })
            .await
        }
        Some(Id::Album(id)) => {
            let (album, tracks, marks) = album_and_tracks(state, shared, account, id).await?;
            on_index(state, shared, move |index, _, shared| {
                let mut shaper = Shaper::new(index, shared, marks);
                let (_, _, child) = shaper.all(&[], &[], &tracks)?;
                let mut directory = json!({
                    "id": Id::Album(id).to_string(),
                    "name": text(&album, "title"),
                    "child": child,
                });
                if let Some(artist) = int(&album, "artist_id") {
                    directory["parent"] = Value::from(Id::Artist(artist).to_string());
                }
                Ok(json!({ "directory": directory }))
            })
            .await
        }
        _ => Err(Failure::not_found(format!(
            "{raw} is no directory: use an artist (ar-) or album (al-) id"
        ))),
    }
}

pub async fn genres(state: &AppState, shared: &Arc<Shared>) -> Result<Value, Failure> {
    let albums = shared
        .genres
        .get(state, state.catalog()?.applied_change())
        .await?;
    on_index(state, shared, move |index, budget, _| {
        let genre: Vec<Value> = super::lists::genres(index, budget)?
            .iter()
            .map(|g| {
                let id = int(g, "id").unwrap_or(0);
                json!({
                    "value": text(g, "name"),
                    "songCount": int(g, "track_count").unwrap_or(0),
                    "albumCount": albums.get(&id).map_or(0, Vec::len),
                })
            })
            .collect();
        Ok(json!({ "genres": { "genre": genre } }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::letter;

    #[test]
    fn artists_are_filed_by_letter_without_articles() {
        assert_eq!(letter("The Black Crowes"), "B");
        assert_eq!(letter("AC/DC"), "A");
        assert_eq!(letter("Øystein"), "Ø");
        assert_eq!(letter("2 Unlimited"), "#");
        assert_eq!(letter("Theodore"), "T");
    }
}
