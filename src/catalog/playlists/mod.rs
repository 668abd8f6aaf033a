//! Customers' own playlists: what they look like to their owner, and the owner's reads (from
//! SQL, so a private playlist never passes through the catalog). A public playlist's tracks
//! as the catalog serves them are read from the index (`browse::playlists`).
//!
//! A playlist with no customer is one of the store's (Chinook's imported ones): always
//! public, and nobody's to change. Only public playlists are indexed, so every catalog read
//! (lists, details, includes) shows them alone and a private one is a 404 there.

mod order;
mod write;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::{Connected, Counted, Db};
use crate::error::{ApiError, ApiResult};
use crate::paging::{PageParams, PageRequest, Paged};

pub use write::{add_tracks, create, delete, remove_track, reorder, update};

/// Most tracks one request may add.
pub const MAX_TRACKS_AT_ONCE: usize = 1_000;

/// Who may read a playlist: its owner alone, or anyone through the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Private by default: sharing is a choice.
    #[default]
    Private,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }

    fn from_column(raw: &str) -> ApiResult<Self> {
        match raw {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            other => Err(anyhow::anyhow!("a playlist has the unknown visibility {other:?}").into()),
        }
    }
}

/// A new playlist, or the whole of one after a merge patch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaylistInput {
    /// 1 to 200 characters.
    pub name: String,
    /// `private` (the default) or `public`.
    #[serde(default)]
    pub visibility: Visibility,
}

/// Tracks to add to a playlist.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackAddition {
    /// Track ids in the order they go in; 1 to 1,000 of them.
    #[serde(deserialize_with = "crate::ids::whole_numbers")]
    pub track_ids: Vec<i64>,
    /// Where the first of them goes, from 1 to the playlist's length + 1; later entries move
    /// down. Default: the end.
    #[serde(default, deserialize_with = "crate::ids::optional_whole_number")]
    pub position: Option<i64>,
    /// Add tracks the playlist already has, or that the list repeats. Default `false`.
    #[serde(default)]
    pub allow_duplicates: bool,
}

/// A playlist's whole new order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackOrder {
    /// The playlist's track ids in their new order: the same entries, rearranged.
    #[serde(deserialize_with = "crate::ids::whole_numbers")]
    pub track_ids: Vec<i64>,
}

/// One of the customer's playlists, in their list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlaylistSummary {
    pub id: i64,
    pub name: String,
    pub visibility: Visibility,
    pub track_count: i64,
}

/// One of the customer's playlists, with its tracks in order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OwnPlaylist {
    pub id: i64,
    pub name: String,
    pub visibility: Visibility,
    pub track_count: i64,
    /// Track ids in playlist order; position `n` is the `n`-th (from 1). A track may appear
    /// more than once.
    pub track_ids: Vec<i64>,
}

/// The 404 for a playlist that is not the caller's: another's, the store's, or none at all
/// look the same, so ids reveal nothing.
fn not_yours(id: i64) -> ApiError {
    ApiError::NotFound(format!("you have no playlist with id {id}"))
}

/// The name and visibility of `customer`'s playlist `id`.
async fn owned(
    conn: &mut Counted<impl Connected>,
    customer: i64,
    id: i64,
) -> ApiResult<(String, Visibility)> {
    let row = sqlx::query(
        "SELECT name, visibility FROM playlist WHERE playlist_id = $1 AND customer_id = $2",
    )
    .bind(id)
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_yours(id))?;
    let name: String = row.try_get(0).map_err(anyhow::Error::from)?;
    let visibility: String = row.try_get(1).map_err(anyhow::Error::from)?;
    Ok((name, Visibility::from_column(&visibility)?))
}

/// A playlist's track ids in order.
async fn entries(conn: &mut Counted<impl Connected>, id: i64) -> ApiResult<Vec<i64>> {
    let keyed = write::keyed(conn, id).await?;
    Ok(keyed.into_iter().map(|(_, track)| track).collect())
}

async fn view(
    conn: &mut Counted<impl Connected>,
    customer: i64,
    id: i64,
) -> ApiResult<OwnPlaylist> {
    let (name, visibility) = owned(conn, customer, id).await?;
    let track_ids = entries(conn, id).await?;
    Ok(OwnPlaylist {
        id,
        name,
        visibility,
        track_count: track_ids.len() as i64,
        track_ids,
    })
}

/// `customer`'s playlist `id`, or a 404.
pub async fn own(db: &Db, customer: i64, id: i64) -> ApiResult<OwnPlaylist> {
    let mut conn = db.read_connection().await?;
    view(&mut conn, customer, id).await
}

/// A page of `customer`'s playlists, oldest first. The cursor is bound to the customer.
pub async fn own_page(
    db: &Db,
    customer: i64,
    params: &PageParams,
    secret: &[u8],
) -> ApiResult<Paged<PlaylistSummary>> {
    let page: PageRequest<i64> = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        format!("own-playlists|{customer}"),
        secret,
    )?;
    let (after, fetch) = (page.after.unwrap_or(0), page.fetch());
    let rows = db
        .read(|pool| async move {
            sqlx::query(
                "SELECT p.playlist_id, p.name, p.visibility, \
                        (SELECT COUNT(*) FROM playlist_track e \
                         WHERE e.playlist_id = p.playlist_id) \
                 FROM playlist p WHERE p.customer_id = $1 AND p.playlist_id > $2 \
                 ORDER BY p.playlist_id LIMIT $3",
            )
            .bind(customer)
            .bind(after)
            .bind(fetch)
            .fetch_all(&pool)
            .await
        })
        .await?;
    let mut data = Vec::with_capacity(rows.len());
    for row in &rows {
        let visibility: String = row.try_get(2)?;
        data.push(PlaylistSummary {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            visibility: Visibility::from_column(&visibility)?,
            track_count: row.try_get(3)?,
        });
    }
    Ok(page.finish(data, |last| last.id, secret))
}
