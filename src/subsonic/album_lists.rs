//! `getAlbumList2` of every type: catalog orders (newest, by name, by artist) from the index
//! through offset checkpoints, random draws by id, genre albums from the kept genre map, and
//! the account's own orders (ratings, plays, stars) from its rows in the store.

use std::sync::Arc;

use serde_json::{json, Value};

use super::entries::{self, int};
use super::lists::{genre_named, parse_all, random, request, size_and_offset};
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::{Budget, CatalogIndex, ListRequest, SortField};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::{self, Item};

pub async fn album_list2(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let kind = params.required("type")?;
    let (size, offset) = size_and_offset(params, "size")?;
    let load = |ids: Vec<i64>| {
        on_index(state, shared, move |index, _, _| {
            entries::load(index, Kind::Album, &ids)
        })
    };
    let albums: Vec<Value> = match kind {
        "random" | "newest" | "alphabeticalByName" | "alphabeticalByArtist" => {
            let kind = kind.to_string();
            on_index(state, shared, move |index, budget, shared| {
                let page = |sort, descending| {
                    let request = request(Kind::Album, sort, descending);
                    parse_all(
                        shared
                            .checkpoints
                            .page(index, budget, &request, offset, size)?,
                    )
                };
                match kind.as_str() {
                    "random" => random(index, budget, Kind::Album, size, None),
                    "newest" => page(SortField::Id, true),
                    "alphabeticalByName" => page(SortField::Name, false),
                    _ => by_artist(index, budget, shared, offset, size),
                }
            })
            .await?
        }
        "highest" => {
            let ids =
                annotations::best_rated(&state.db, account.id, Item::Album, size as u64, offset)
                    .await?;
            load(ids).await?
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
            load(ids).await?
        }
        "starred" => {
            let starred =
                annotations::starred(&state.db, account.id, Item::Album, size as u64, offset)
                    .await?;
            load(starred.into_iter().map(|(id, _)| id).collect()).await?
        }
        "byGenre" => {
            let name = params.required("genre")?.to_string();
            let map = shared
                .genres
                .get(state, state.catalog()?.applied_change())
                .await?;
            on_index(state, shared, move |index, budget, _| {
                let genre = genre_named(index, budget, &name)?;
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
                entries::load(index, Kind::Album, &ids)
            })
            .await?
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
    let shaped = entries::albums(state, shared, account, albums).await?;
    Ok(json!({ "album": shaped }))
}

/// Albums ordered by artist name, then title. Artists are paged by name with checkpoints
/// kept in albums counted (an artist's entry knows its album count), so only the artists
/// that the page touches have their albums read.
fn by_artist(
    index: &CatalogIndex,
    budget: &Budget,
    shared: &Shared,
    offset: u64,
    size: usize,
) -> Result<Vec<Value>, Failure> {
    const ARTISTS: usize = 100;
    let list = format!("{}|albums-by-artist", index.applied_change());
    let (mut at, mut after) = shared.checkpoints.floor_of(&list, offset);
    let mut out = Vec::new();
    while out.len() < size {
        let artists = ListRequest {
            after: after.clone(),
            limit: ARTISTS,
            ..request(Kind::Artist, SortField::Name, false)
        };
        let page = index.list(&artists, budget)?;
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
                    let own = parse_all(index.list(&request, budget)?.items)?;
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
