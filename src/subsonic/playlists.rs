//! Playlists: the public ones (the store's and customers' shared ones, from the index) and
//! the caller's own (from the store, private ones included). Only a playlist's owner may
//! change or delete it; another account's private playlist is "not found", as in REST.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::entries::{self, int, text, Marks, Shaper, UNKNOWN_DATE};
use super::ids::Id;
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::playlists::{self, OwnPlaylist, PlaylistInput, TrackAddition, Visibility};
use crate::catalog::Kind;
use crate::paging::PageParams;
use crate::search::{CatalogIndex, ListRequest, SortField};
use crate::state::AppState;
use crate::store::accounts::Account;

/// Most public playlists one `getPlaylists` lists, besides the caller's own.
const MAX_PUBLIC: usize = 500;

/// Playlist lengths in seconds, per catalog version and playlist contents.
pub struct Lengths(moka::sync::Cache<(i64, i64, usize), i64>);

impl Default for Lengths {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        )
    }
}

fn seconds(index: &CatalogIndex, shared: &Shared, id: i64, tracks: &[i64]) -> Result<i64, Failure> {
    let key = (index.applied_change(), id, tracks.len());
    if let Some(known) = shared.lengths.0.get(&key) {
        return Ok(known);
    }
    let mut ms = 0;
    for track in tracks {
        if let Some(t) = entries::entry(index, Kind::Track, *track)? {
            ms += int(&t, "milliseconds").unwrap_or(0);
        }
    }
    shared.lengths.0.insert(key, ms / 1000);
    Ok(ms / 1000)
}

fn customer(account: &Account) -> Result<i64, Failure> {
    account.customer_id.ok_or_else(|| {
        Failure::not_authorized("only customer accounts have playlists of their own")
    })
}

fn shape(id: i64, name: &str, owner: &str, public: bool, count: usize, seconds: i64) -> Value {
    json!({
        "id": Id::Playlist(id).to_string(),
        "name": name,
        "owner": owner,
        "public": public,
        "songCount": count,
        "duration": seconds,
        "created": UNKNOWN_DATE,
        "changed": UNKNOWN_DATE,
    })
}

/// Every playlist of the caller's, oldest first.
async fn own_all(state: &AppState, customer: i64) -> Result<Vec<OwnPlaylist>, Failure> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = playlists::own_page(
            &state.db,
            customer,
            &PageParams {
                limit: Some("100".into()),
                cursor: cursor.take(),
            },
            &state.cursor_secret,
        )
        .await?;
        for summary in page.data {
            out.push(playlists::own(&state.db, customer, summary.id).await?);
        }
        match page.page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

pub async fn list(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    if let Some(name) = params.get("username") {
        if !name.trim().eq_ignore_ascii_case(&account.email) {
            return Err(Failure::not_authorized(
                "getPlaylists lists the signed-in account's view only",
            ));
        }
    }
    let own = match account.customer_id {
        Some(customer) => own_all(state, customer).await?,
        None => Vec::new(),
    };
    let email = account.email.clone();
    on_index(state, shared, move |index, budget, shared| {
        let mut out = Vec::new();
        for playlist in &own {
            out.push(shape(
                playlist.id,
                &playlist.name,
                &email,
                playlist.visibility == Visibility::Public,
                playlist.track_ids.len(),
                seconds(index, shared, playlist.id, &playlist.track_ids)?,
            ));
        }
        let request = ListRequest {
            limit: MAX_PUBLIC,
            ..super::lists::request(Kind::Playlist, SortField::Id, false)
        };
        for public in super::lists::parse_all(index.list(&request, budget)?.items)? {
            let id = int(&public, "id").unwrap_or(0);
            if own.iter().any(|p| p.id == id) {
                continue;
            }
            let members = index.members(id)?;
            out.push(shape(
                id,
                text(&public, "name"),
                "Chinook",
                true,
                members.len(),
                seconds(index, shared, id, &members)?,
            ));
        }
        Ok(json!({ "playlists": { "playlist": out } }))
    })
    .await
}

/// A playlist the caller may read: their own, or a public one.
async fn readable(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    id: i64,
) -> Result<(Value, Vec<i64>), Failure> {
    if let Some(customer) = account.customer_id {
        match playlists::own(&state.db, customer, id).await {
            Ok(own) => {
                let head = json!({
                    "name": own.name,
                    "owner": account.email,
                    "public": own.visibility == Visibility::Public,
                });
                return Ok((head, own.track_ids));
            }
            Err(crate::error::ApiError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    on_index(state, shared, move |index, _, _| {
        let public = entries::entry(index, Kind::Playlist, id)?
            .ok_or_else(|| Failure::not_found(format!("there is no playlist pl-{id}")))?;
        let head = json!({ "name": text(&public, "name"), "owner": "Chinook", "public": true });
        Ok((head, index.members(id)?))
    })
    .await
}

pub async fn get(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let id = Id::expect("id", params.required("id")?, Id::Playlist)?;
    with_songs(state, shared, account, id).await
}

async fn with_songs(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    id: i64,
) -> Result<Value, Failure> {
    let (head, track_ids) = readable(state, shared, account, id).await?;
    let tracks = {
        let ids = track_ids.clone();
        on_index(state, shared, move |index, _, _| {
            entries::load(index, Kind::Track, &ids)
        })
        .await?
    };
    let marks = Marks::fetch(state, account, &entries::ids_of(&tracks), &[], &[]).await?;
    on_index(state, shared, move |index, _, shared| {
        let mut shaper = Shaper::new(index, shared, marks);
        let (_, _, entry) = shaper.all(&[], &[], &tracks)?;
        let mut out = shape(
            id,
            text(&head, "name"),
            text(&head, "owner"),
            head["public"].as_bool().unwrap_or(false),
            track_ids.len(),
            seconds(index, shared, id, &track_ids)?,
        );
        out["entry"] = Value::from(entry);
        Ok(json!({ "playlist": out }))
    })
    .await
}

fn song_ids(params: &Params, name: &str) -> Result<Vec<i64>, Failure> {
    params
        .all(name)
        .into_iter()
        .map(|raw| Id::expect(name, raw, Id::Track))
        .collect()
}

async fn add(state: &AppState, customer: i64, id: i64, tracks: Vec<i64>) -> Result<(), Failure> {
    for chunk in tracks.chunks(playlists::MAX_TRACKS_AT_ONCE) {
        playlists::add_tracks(
            &state.db,
            state.config.playlist_caps,
            customer,
            id,
            TrackAddition {
                track_ids: chunk.to_vec(),
                position: None,
                allow_duplicates: true,
            },
        )
        .await?;
    }
    Ok(())
}

/// `createPlaylist`: a new private playlist, or with `playlistId` the caller's playlist's
/// songs replaced.
pub async fn create(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let customer = customer(account)?;
    let songs = song_ids(params, "songId")?;
    let id = match params.get("playlistId") {
        Some(raw) => {
            let id = Id::expect("playlistId", raw, Id::Playlist)?;
            let own = playlists::own(&state.db, customer, id).await?;
            if let Some(name) = params.get("name") {
                playlists::update(
                    &state.db,
                    customer,
                    id,
                    PlaylistInput {
                        name: name.to_string(),
                        visibility: own.visibility,
                    },
                )
                .await?;
            }
            for _ in 0..own.track_ids.len() {
                playlists::remove_track(&state.db, customer, id, 1).await?;
            }
            id
        }
        None => {
            let name = params.required("name")?;
            playlists::create(
                &state.db,
                state.config.playlist_caps,
                customer,
                PlaylistInput {
                    name: name.to_string(),
                    visibility: Visibility::Private,
                },
            )
            .await?
            .id
        }
    };
    add(state, customer, id, songs).await?;
    with_songs(state, shared, account, id).await
}

pub async fn update(
    state: &AppState,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let customer = customer(account)?;
    let id = Id::expect("playlistId", params.required("playlistId")?, Id::Playlist)?;
    let own = playlists::own(&state.db, customer, id).await?;
    let public = params.flag("public")?;
    if params.has("name") || public.is_some() {
        let visibility = match public {
            Some(true) => Visibility::Public,
            Some(false) => Visibility::Private,
            None => own.visibility,
        };
        let name = params.get("name").map_or(own.name.clone(), str::to_string);
        playlists::update(&state.db, customer, id, PlaylistInput { name, visibility }).await?;
    }
    // Indexes refer to the playlist before this update: remove from the end first.
    let mut remove: Vec<i64> = Vec::new();
    for raw in params.all("songIndexToRemove") {
        let at: i64 = raw
            .trim()
            .parse()
            .ok()
            .filter(|i| *i >= 0 && (*i as usize) < own.track_ids.len())
            .ok_or_else(|| {
                Failure::generic(format!(
                    "songIndexToRemove {raw} is not an index into the playlist"
                ))
            })?;
        remove.push(at);
    }
    remove.sort_unstable();
    remove.dedup();
    for at in remove.into_iter().rev() {
        playlists::remove_track(&state.db, customer, id, at + 1).await?;
    }
    add(state, customer, id, song_ids(params, "songIdToAdd")?).await?;
    Ok(json!({}))
}

pub async fn delete(
    state: &AppState,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let customer = customer(account)?;
    let id = Id::expect("id", params.required("id")?, Id::Playlist)?;
    playlists::delete(&state.db, customer, id).await?;
    Ok(json!({}))
}
