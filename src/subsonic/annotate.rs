//! Annotation: stars, ratings, scrobbles and the saved play queue, per account, in the store
//! (the REST API shows the same stars and ratings under `/api/v1/me/annotations`).

use serde_json::{json, Value};

use super::entries::{self, Marks, Shaper};
use super::ids::Id;
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

fn items(index: &CatalogIndex, params: &Params) -> Result<Vec<(Item, i64)>, Failure> {
    let mut out = Vec::new();
    for raw in params.all("id") {
        out.push(item(index, raw, Id::Track)?);
    }
    for raw in params.all("albumId") {
        out.push(item(index, raw, Id::Album)?);
    }
    for raw in params.all("artistId") {
        out.push(item(index, raw, Id::Artist)?);
    }
    if out.is_empty() {
        return Err(Failure::missing("id"));
    }
    if out.len() > 500 {
        return Err(Failure::generic("at most 500 ids at once"));
    }
    Ok(out)
}

pub async fn star(
    state: &AppState,
    account: &Account,
    params: &Params,
    on: bool,
) -> Result<Value, Failure> {
    let targets = items(state.catalog()?, params)?;
    if on {
        annotations::star(&state.db, account.id, &targets).await?;
    } else {
        annotations::unstar(&state.db, account.id, &targets).await?;
    }
    Ok(json!({}))
}

pub async fn set_rating(
    state: &AppState,
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let (item, id) = item(state.catalog()?, params.required("id")?, Id::Track)?;
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
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let index = state.catalog()?;
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
    for (i, raw) in ids.iter().enumerate() {
        let id = Id::expect("id", raw, Id::Track)?;
        let track = entries::entry(index, Kind::Track, id)?
            .ok_or_else(|| Failure::not_found(format!("there is no song {raw}")))?;
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
        plays::scrobble(
            &state.db,
            account.id,
            id,
            entries::int(&track, "album_id"),
            &at,
        )
        .await?;
    }
    Ok(json!({}))
}

pub async fn play_queue(
    state: &AppState,
    shared: &Shared,
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
    let index = state.catalog()?;
    let tracks = entries::load(index, Kind::Track, &queue.tracks)?;
    let marks = Marks::fetch(state, account, &entries::ids_of(&tracks), &[], &[]).await?;
    let mut shaper = Shaper::new(index, shared, marks);
    let entry = tracks
        .iter()
        .map(|t| shaper.song(t))
        .collect::<Result<Vec<_>, _>>()?;
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
    account: &Account,
    params: &Params,
) -> Result<Value, Failure> {
    let index = state.catalog()?;
    let mut tracks = Vec::new();
    for raw in params.all("id") {
        let id = Id::expect("id", raw, Id::Track)?;
        if entries::entry(index, Kind::Track, id)?.is_none() {
            return Err(Failure::not_found(format!("there is no song {raw}")));
        }
        tracks.push(id);
    }
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
