//! Annotation: stars, ratings, scrobbles and the saved play queue, per account, in the store
//! (the REST API shows the same stars and ratings under `/api/v1/me/annotations`).

use std::sync::Arc;

use serde_json::{json, Value};

use super::entries;
use super::ids::Id;
use super::reads::on_index;
use super::{Failure, Params, Shared};
use crate::catalog::Kind;
use crate::search::CatalogIndex;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::{self, Item};
use crate::store::plays::{self, PlayQueue};

fn kind_of(id: Id) -> Option<(Item, Kind)> {
    match id {
        Id::Track(_) => Some((Item::Track, Kind::Track)),
        Id::Album(_) => Some((Item::Album, Kind::Album)),
        Id::Artist(_) => Some((Item::Artist, Kind::Artist)),
        Id::Playlist(_) => None,
    }
}

/// An id that names an existing track, album or artist (bare numbers are tracks).
fn item(index: &CatalogIndex, raw: &str, bare: fn(i64) -> Id) -> Result<(Item, i64), Failure> {
    let id = Id::parse(raw)
        .or_else(|| raw.trim().parse::<i64>().ok().filter(|n| *n > 0).map(bare))
        .ok_or_else(|| {
            Failure::not_found(format!("{raw} names nothing that can be starred or rated"))
        })?;
    let (item, kind) = kind_of(id).ok_or_else(|| {
        Failure::not_found(format!(
            "{raw} is a playlist; only songs, albums and artists take stars and ratings"
        ))
    })?;
    if entries::entry(index, kind, id.number())?.is_none() {
        return Err(Failure::not_found(format!(
            "there is no {} {raw}",
            id.noun()
        )));
    }
    Ok((item, id.number()))
}

/// How a bare number reads, per parameter.
type Bare = fn(i64) -> Id;

/// The items named by `id`, `albumId` and `artistId`, each checked against the index.
async fn items(
    state: &AppState,
    shared: &Arc<Shared>,
    params: &Params,
) -> Result<Vec<(Item, i64)>, Failure> {
    let mut raw: Vec<(String, Bare)> = Vec::new();
    for (name, bare) in [
        ("id", Id::Track as Bare),
        ("albumId", Id::Album),
        ("artistId", Id::Artist),
    ] {
        raw.extend(params.all(name).into_iter().map(|r| (r.to_string(), bare)));
    }
    if raw.is_empty() {
        return Err(Failure::missing("id"));
    }
    if raw.len() > 500 {
        return Err(Failure::generic("at most 500 ids at once"));
    }
    on_index(state, shared, move |index, _, _| {
        raw.iter().map(|(r, bare)| item(index, r, *bare)).collect()
    })
    .await
}

pub async fn star(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
    on: bool,
) -> Result<Value, Failure> {
    let targets = items(state, shared, params).await?;
    if on {
        annotations::star(&state.db, account.id, &targets).await?;
    } else {
        annotations::unstar(&state.db, account.id, &targets).await?;
    }
    Ok(json!({}))
}

pub async fn set_rating(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let raw = params.required("id")?.to_string();
    let (item, id) = on_index(state, shared, move |index, _, _| {
        item(index, &raw, Id::Track)
    })
    .await?;
    let rating = params.required("rating")?;
    let rating: u8 = rating
        .trim()
        .parse()
        .ok()
        .filter(|r| *r <= 5)
        .ok_or_else(|| Failure::generic(format!("rating must be 0 to 5, not `{rating}`")))?;
    annotations::rate(&state.db, account.id, item, id, rating).await?;
    Ok(json!({}))
}

/// Counts plays. `submission=false` is a "now playing" notice, which counts nothing.
pub async fn scrobble(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let ids = params.all("id");
    if ids.is_empty() {
        return Err(Failure::missing("id"));
    }
    if ids.len() > 500 {
        return Err(Failure::generic("at most 500 ids at once"));
    }
    let times = params.all("time");
    if params.flag("submission")? == Some(false) {
        for raw in ids {
            Id::expect("id", raw, Id::Track)?;
        }
        return Ok(json!({}));
    }
    let tracks = ids
        .iter()
        .map(|raw| Id::expect("id", raw, Id::Track))
        .collect::<Result<Vec<_>, _>>()?;
    let albums = on_index(state, shared, move |index, _, _| {
        tracks
            .into_iter()
            .map(|id| {
                let track = entries::entry(index, Kind::Track, id)?
                    .ok_or_else(|| Failure::not_found(format!("there is no song tr-{id}")))?;
                Ok((id, entries::int(&track, "album_id")))
            })
            .collect::<Result<Vec<_>, Failure>>()
    })
    .await?;
    for (i, (id, album)) in albums.into_iter().enumerate() {
        let at = match times.get(i) {
            Some(ms) => {
                let ms: i64 = ms.trim().parse().map_err(|_| {
                    Failure::generic(format!("time must be milliseconds since 1970, not `{ms}`"))
                })?;
                chrono::DateTime::from_timestamp_millis(ms)
                    .map(crate::db::timestamp)
                    .ok_or_else(|| Failure::generic(format!("time {ms} is out of range")))?
            }
            None => crate::db::timestamp_now(),
        };
        plays::scrobble(&state.db, account.id, id, album, &at).await?;
    }
    Ok(json!({}))
}

pub async fn play_queue(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
) -> Result<Value, Failure> {
    let Some(queue) = plays::queue(&state.db, account.id).await? else {
        // Nothing saved: an empty queue, which the spec's required fields still describe.
        return Ok(json!({ "playQueue": {
            "username": account.email,
            "changed": entries::UNKNOWN_DATE,
            "changedBy": "",
            "entry": [],
        }}));
    };
    let ids = queue.tracks.clone();
    let tracks = on_index(state, shared, move |index, _, _| {
        entries::load(index, Kind::Track, &ids)
    })
    .await?;
    let entry = entries::songs(state, shared, account, tracks).await?;
    let mut out = json!({
        "username": account.email,
        "changed": queue.changed_at,
        "changedBy": queue.changed_by,
        "position": queue.position_ms,
        "entry": entry,
    });
    if let Some(current) = queue.current {
        out["current"] = Value::from(Id::Track(current).to_string());
    }
    Ok(json!({ "playQueue": out }))
}

pub async fn save_play_queue(
    state: &AppState,
    shared: &Arc<Shared>,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let tracks = params
        .all("id")
        .into_iter()
        .map(|raw| Id::expect("id", raw, Id::Track))
        .collect::<Result<Vec<_>, _>>()?;
    let tracks = on_index(state, shared, move |index, _, _| {
        for id in &tracks {
            if entries::entry(index, Kind::Track, *id)?.is_none() {
                return Err(Failure::not_found(format!("there is no song tr-{id}")));
            }
        }
        Ok(tracks)
    })
    .await?;
    let current = params
        .get("current")
        .map(|raw| Id::expect("current", raw, Id::Track))
        .transpose()?;
    if let Some(current) = current {
        if !tracks.contains(&current) {
            return Err(Failure::generic("current must be one of the queue's ids"));
        }
    }
    let position = params.number::<i64>("position")?.unwrap_or(0);
    if position < 0 {
        return Err(Failure::generic("position must not be negative"));
    }
    let queue = PlayQueue {
        tracks,
        current,
        position_ms: position,
        changed_at: crate::db::timestamp_now(),
        changed_by: params
            .get("c")
            .unwrap_or("unknown")
            .chars()
            .take(100)
            .collect(),
    };
    plays::save_queue(&state.db, account.id, &queue).await?;
    Ok(json!({}))
}
