//! A public playlist's tracks in playlist order, as the catalog serves them: from the index,
//! so a private playlist, which is never indexed, is a 404 here.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::model::Kind;
use crate::paging::{PageParams, PageRequest, Paged};
use crate::search::CatalogIndex;

/// A page of a public playlist's tracks in playlist order, from the index; a private or
/// missing playlist is a 404. The cursor is the last position served.
pub fn public_tracks(
    index: &CatalogIndex,
    id: i64,
    params: &PageParams,
    secret: &[u8],
) -> ApiResult<Paged<Value>> {
    let page: PageRequest<usize> = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        format!("playlist-tracks|{id}"),
        secret,
    )?;
    if index.get(Kind::Playlist, id)?.is_none() {
        return Err(ApiError::NotFound(format!(
            "there is no playlist with id {id}"
        )));
    }
    let members = index.members(id)?;
    let after = page.after.unwrap_or(0);
    let mut data = Vec::new();
    for (at, track) in members.iter().enumerate().skip(after) {
        if data.len() as i64 == page.fetch() {
            break;
        }
        // A track on a playlist cannot be deleted, so every member is in the index.
        let Some(body) = index.get(Kind::Track, *track)? else {
            continue;
        };
        let mut value: Value = serde_json::from_str(&body).map_err(anyhow::Error::from)?;
        if let Value::Object(fields) = &mut value {
            fields.insert("position".into(), Value::from(at + 1));
        }
        data.push(value);
    }
    Ok(page.finish(
        data,
        |last| last["position"].as_u64().unwrap_or(0) as usize,
        secret,
    ))
}
