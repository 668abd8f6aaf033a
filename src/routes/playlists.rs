//! Playlists: customers' own (`/me/playlists`, the owner alone, from SQL) and a public
//! playlist's tracks in order (`/playlists/{id}/tracks`, anyone, from the index). Writes are
//! in this instance's index before the response is sent.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use serde_json::{Map, Value};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::playlists::{
    self, OwnPlaylist, PlaylistInput, PlaylistSummary, TrackAddition, TrackOrder,
};
use crate::catalog::Track;
use crate::error::{ApiResult, Problem};
use crate::http::auth::Customer;
use crate::http::json::{merge_patch, Json};
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(public_tracks)
        .service(list_own)
        .service(create)
        .service(show)
        .service(update)
        .service(remove)
        .service(add_tracks)
        .service(reorder)
        .service(remove_track);
}

fn problems(
    codes: &[(&str, &str)],
) -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
    codes
        .iter()
        .map(|(code, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build();
            (code.to_string(), response.into())
        })
        .collect()
}

/// What any `/me/playlists` request may answer besides its own.
struct OwnerProblems;

impl utoipa::IntoResponses for OwnerProblems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        problems(&[
            (
                "400",
                "A path or query parameter is malformed; `detail` says which",
            ),
            ("401", "Not signed in"),
            ("403", "Signed in, but not as a customer"),
            ("500", "A bug or an outage; quote the X-Request-Id"),
            (
                "503",
                "The catalog index is warming up, or the database is unreachable",
            ),
        ])
    }
}

/// What a request with a JSON body may answer besides `OwnerProblems`.
struct BodyProblems;

impl utoipa::IntoResponses for BodyProblems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        problems(&[
            (
                "400",
                "The body is not valid JSON, or a path parameter is malformed",
            ),
            (
                "408",
                "The body did not arrive within its time budget; the connection is closed",
            ),
            ("413", "The body is too large"),
            ("415", "The body is not sent as JSON"),
            ("422", "A field is invalid; `detail` says which and why"),
        ])
    }
}

/// A track of a playlist, as the catalog serves it, with its place.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // Only describes the response in the OpenAPI document.
struct PlaylistTrack {
    /// From 1, in playlist order.
    position: i64,
    #[serde(flatten)]
    track: Track,
}

/// A public playlist's tracks in playlist order, each with its position; a track that is on
/// the playlist twice is listed twice.
#[utoipa::path(
    tag = "catalog",
    params(("id" = i64, Path, description = "The playlist's id"), PageParams),
    responses(
        (status = 200, body = Paged<PlaylistTrack>),
        (status = 400, description = "The id, `limit` or `cursor` is malformed, or another parameter was sent", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "There is no such public playlist", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/playlists/{id}/tracks")]
async fn public_tracks(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = crate::browse::playlists::public_tracks(
        state.catalog()?,
        id.into_inner(),
        &params,
        &state.cursor_secret,
    )?;
    Ok(HttpResponse::Ok().json(page))
}

/// Your playlists, oldest first, private and public.
#[utoipa::path(
    tag = "playlists",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Paged<PlaylistSummary>), OwnerProblems)
)]
#[get("/me/playlists")]
async fn list_own(
    customer: Customer,
    state: web::Data<AppState>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = playlists::own_page(
        &state.db,
        customer.customer_id,
        &params,
        &state.cursor_secret,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a playlist of yours, empty and private unless you say `public`.
#[utoipa::path(
    tag = "playlists",
    request_body = PlaylistInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names it", body = OwnPlaylist),
        (status = 409, description = "You have as many playlists as an account may keep (`CHINOOK_MAX_PLAYLISTS_PER_ACCOUNT`, 1,000 by default); the problem names the cap", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
        BodyProblems,
    )
)]
#[post("/me/playlists")]
async fn create(
    customer: Customer,
    state: web::Data<AppState>,
    body: Json<PlaylistInput>,
) -> ApiResult<HttpResponse> {
    let caps = state.config.playlist_caps;
    let playlist = state
        .write_catalog(async |db| {
            playlists::create(db, caps, customer.customer_id, body.into_inner()).await
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/me/playlists/{}", playlist.id),
        ))
        .json(playlist))
}

/// One of your playlists, with its track ids in order.
#[utoipa::path(
    tag = "playlists",
    params(("id" = i64, Path, description = "The playlist's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OwnPlaylist),
        (status = 404, description = "You have no playlist with this id (there is none, or it is another's)", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
    )
)]
#[get("/me/playlists/{id}")]
async fn show(
    customer: Customer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let playlist = playlists::own(&state.db, customer.customer_id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(playlist))
}

/// Renames one of your playlists or changes its visibility: a JSON merge patch of `name`
/// and `visibility`.
#[utoipa::path(
    tag = "playlists",
    params(("id" = i64, Path, description = "The playlist's id")),
    request_body(content = Object, description = "`name` and/or `visibility` to change"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OwnPlaylist),
        (status = 404, description = "You have no playlist with this id (there is none, or it is another's)", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
        BodyProblems,
    )
)]
#[patch("/me/playlists/{id}")]
async fn update(
    customer: Customer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    patch: Json<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let current = playlists::own(&state.db, customer.customer_id, id).await?;
    let before = PlaylistInput {
        name: current.name,
        visibility: current.visibility,
    };
    let changed: PlaylistInput = merge_patch(&before, patch.into_inner())?;
    let playlist = state
        .write_catalog(async |db| playlists::update(db, customer.customer_id, id, changed).await)
        .await?;
    Ok(HttpResponse::Ok().json(playlist))
}

/// Deletes one of your playlists.
#[utoipa::path(
    tag = "playlists",
    params(("id" = i64, Path, description = "The playlist's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "You have no playlist with this id (there is none, or it is another's)", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
    )
)]
#[delete("/me/playlists/{id}")]
async fn remove(
    customer: Customer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    state
        .write_catalog(async |db| {
            playlists::delete(db, customer.customer_id, id.into_inner()).await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds tracks to one of your playlists, at the end or from `position` on.
#[utoipa::path(
    tag = "playlists",
    params(("id" = i64, Path, description = "The playlist's id")),
    request_body = TrackAddition,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The playlist as it now is", body = OwnPlaylist),
        (status = 409, description = "`position` is past the playlist's end as it is now, a track is on the playlist already (without `allow_duplicates`), or the playlist would hold more entries than a playlist may (`CHINOOK_MAX_PLAYLIST_ENTRIES`, 5,000 by default); the problem says which, with the cap", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "You have no playlist with this id (there is none, or it is another's), or `track_ids` name tracks the catalog does not have (`detail` lists them)", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
        BodyProblems,
    )
)]
#[post("/me/playlists/{id}/tracks")]
async fn add_tracks(
    customer: Customer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<TrackAddition>,
) -> ApiResult<HttpResponse> {
    let caps = state.config.playlist_caps;
    let playlist = state
        .write_catalog(async |db| {
            let (id, addition) = (id.into_inner(), body.into_inner());
            playlists::add_tracks(db, caps, customer.customer_id, id, addition).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(playlist))
}

/// Puts one of your playlists in a new order: all its track ids, rearranged.
#[utoipa::path(
    tag = "playlists",
    params(("id" = i64, Path, description = "The playlist's id")),
    request_body = TrackOrder,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The playlist as it now is", body = OwnPlaylist),
        (status = 409, description = "`track_ids` is not the playlist's entries as they are now, in a new order; the problem names what it leaves out or adds", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "You have no playlist with this id (there is none, or it is another's)", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
        BodyProblems,
    )
)]
#[put("/me/playlists/{id}/tracks")]
async fn reorder(
    customer: Customer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<TrackOrder>,
) -> ApiResult<HttpResponse> {
    let caps = state.config.playlist_caps;
    let playlist = state
        .write_catalog(async |db| {
            let (id, order) = (id.into_inner(), body.into_inner());
            playlists::reorder(db, caps, customer.customer_id, id, order).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(playlist))
}

/// Takes the track at `position` off one of your playlists; those after it move up.
#[utoipa::path(
    tag = "playlists",
    params(
        ("id" = i64, Path, description = "The playlist's id"),
        ("position" = i64, Path, description = "The entry's position, from 1"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The playlist as it now is", body = OwnPlaylist),
        (status = 404, description = "You have no playlist with this id, or it has no such position", body = Problem, content_type = "application/problem+json"),
        OwnerProblems,
    )
)]
#[delete("/me/playlists/{id}/tracks/{position}")]
async fn remove_track(
    customer: Customer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, position) = path.into_inner();
    let playlist = state
        .write_catalog(async |db| {
            playlists::remove_track(db, customer.customer_id, id, position).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(playlist))
}
