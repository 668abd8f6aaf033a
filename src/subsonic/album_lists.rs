//! `getAlbumList2` of every type: catalog orders (newest, by name, by artist) from the index
//! through offset checkpoints, random draws by id, genre albums from the kept genre map, and
//! the account's own orders (ratings, plays, stars) from its rows in the store.

use serde_json::{json, Value};

use super::entries::{self, int};
use super::lists::{genre_named, parse_all, random, request, size_and_offset};
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::{CatalogIndex, ListRequest, SortField};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::{self, Item};

pub async fn album_list2(
    state: &AppState,
    shared: &Shared,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let index = state.catalog()?;
    let kind = params.required("type")?;
    let (size, offset) = size_and_offset(params, "size")?;
    let albums: Vec<Value> = match kind {
        "random" => random(index, Kind::Album, size, None)?,
        "newest" => parse_all(shared.checkpoints.page(
            index,
            &request(Kind::Album, SortField::Id, true),
            offset,
            size,
        )?)?,
        "alphabeticalByName" => parse_all(shared.checkpoints.page(
            index,
            &request(Kind::Album, SortField::Name, false),
            offset,
            size,
        )?)?,
        "alphabeticalByArtist" => by_artist(index, shared, offset, size)?,
        "highest" => {
            let ids =
                annotations::best_rated(&state.db, account.id, Item::Album, size as u64, offset)
                    .await?;
            entries::load(index, Kind::Album, &ids)?
        }
        "frequent" | "recent" => {
            let ids = crate::store::plays::played_albums(
                &state.db,
                account.id,
                kind == "frequent",
                size as u64,
                offset,
            )
            .await?;
            entries::load(index, Kind::Album, &ids)?
        }
        "starred" => {
            let starred =
                annotations::starred(&state.db, account.id, Item::Album, size as u64, offset)
                    .await?;
            let ids: Vec<i64> = starred.into_iter().map(|(id, _)| id).collect();
            entries::load(index, Kind::Album, &ids)?
        }
        "byGenre" => {
            let genre = genre_named(index, params.required("genre")?)?;
            let map = shared.genres.get(state, index).await?;
            let ids = map
                .get(&int(&genre, "id").unwrap_or(0))
                .map(|ids| {
                    ids.iter()
                        .skip(offset as usize)
                        .take(size)
                        .copied()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            entries::load(index, Kind::Album, &ids)?
        }
        "byYear" => {
            params.required("fromYear")?;
            params.required("toYear")?;
            params.number::<i64>("fromYear")?;
            params.number::<i64>("toYear")?;
            // Chinook records no years: no album is in any range.
            Vec::new()
        }
        other => {
            return Err(Failure::generic(format!(
                "unknown list type {other}; use random, newest, highest, frequent, recent, \
                 alphabeticalByName, alphabeticalByArtist, starred, byYear or byGenre"
            )))
        }
    };
    let shaped = entries::albums(state, shared, account, &albums).await?;
    Ok(json!({ "album": shaped }))
}

/// Albums ordered by artist name, then title. Artists are paged by name with checkpoints
/// kept in albums counted (an artist's entry knows its album count), so only the artists
/// that the page touches have their albums read.
fn by_artist(
    index: &CatalogIndex,
    shared: &Shared,
    offset: u64,
    size: usize,
) -> Result<Vec<Value>, Failure> {
    const ARTISTS: usize = 100;
    let list = format!("{}|albums-by-artist", index.applied_change());
    let (mut at, mut after) = shared.checkpoints.floor_of(&list, offset);
    let mut out = Vec::new();
    while out.len() < size {
        let page = index.list_bounded(&ListRequest {
            after: after.clone(),
            limit: ARTISTS,
            ..request(Kind::Artist, SortField::Name, false)
        })?;
        let artists = parse_all(page.items)?;
        let albums: u64 = artists
            .iter()
            .map(|a| int(a, "album_count").unwrap_or(0) as u64)
            .sum();
        if at + albums > offset {
            let mut position = at;
            for artist in &artists {
                let count = int(artist, "album_count").unwrap_or(0) as u64;
                if position + count > offset && out.len() < size {
                    let mut request = request(Kind::Album, SortField::Name, false);
                    request.equal = vec![("artist_id", int(artist, "id").unwrap_or(0) as u64)];
                    request.limit = count.max(1) as usize;
                    let own = parse_all(index.list_bounded(&request)?.items)?;
                    for (i, album) in own.into_iter().enumerate() {
                        if position + i as u64 >= offset && out.len() < size {
                            out.push(album);
                        }
                    }
                }
                position += count;
            }
        }
        at += albums;
        match page.next {
            Some(next) => {
                shared.checkpoints.remember(&list, at, next.clone());
                after = Some(next);
            }
            None => break,
        }
    }
    Ok(out)
}
