//! Admin writes to artists, albums and tracks. Each answers with the entry as the catalog
//! now serves it: the write is in the index before the response is sent.

use actix_web::http::header::{self, ContentType};
use actix_web::{delete, patch, post, web, HttpResponse};
use serde_json::{Map, Value};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::write::{self, AlbumInput, ArtistInput, TrackInput};
use crate::catalog::{Album, Artist, Kind, Track};
use crate::error::{ApiError, ApiResult, Problem, WriteProblems};
use crate::http::auth::Admin;
use crate::http::json::{merge_patch, Json};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_artist)
        .service(update_artist)
        .service(delete_artist)
        .service(create_album)
        .service(update_album)
        .service(delete_album)
        .service(create_track)
        .service(update_track)
        .service(delete_track);
}

/// The entry as the index now has it.
/// `created` is the collection the entry was created in, for its `Location`.
fn entry(state: &AppState, kind: Kind, id: i64, created: Option<&str>) -> ApiResult<HttpResponse> {
    let body = state.catalog()?.get(kind, id)?.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "{kind:?} {id} was written but is not in the index"
        ))
    })?;
    let mut response = match created {
        Some(collection) => {
            let public = collection.trim_start_matches("/admin");
            let mut r = HttpResponse::Created();
            r.insert_header((header::LOCATION, format!("/api/v1{public}/{id}")));
            r
        }
        None => HttpResponse::Ok(),
    };
    Ok(response.content_type(ContentType::json()).body(body))
}

macro_rules! admin_routes {
    (
        $create:ident, $update:ident, $remove:ident,
        $collection:literal, $item:literal, $noun:literal,
        $input:ty, $schema:ty, $kind:expr,
        $read:path, $insert:path, $change:path, $erase:path,
        $conflict:literal
    ) => {
        #[doc = concat!("Creates ", $noun, ".")]
        #[utoipa::path(
            tag = "admin",
            request_body = $input,
            security(("bearer" = [])),
            responses(
                (status = 201, description = "Created; `Location` names it", body = $schema),
                WriteProblems,
            )
        )]
        #[post($collection)]
        async fn $create(
            _: Admin,
            state: web::Data<AppState>,
            body: Json<$input>,
        ) -> ApiResult<HttpResponse> {
            let id = state
                .write_catalog(async |db| $insert(db, body.into_inner()).await)
                .await?;
            entry(&state, $kind, id, Some($collection))
        }

        #[doc = concat!("Changes ", $noun, ": a JSON merge patch of the fields to change.")]
        #[utoipa::path(
            tag = "admin",
            request_body(content = Object, description = "Fields of the create body to change; `null` clears an optional one"),
            params(("id" = i64, Path)),
            security(("bearer" = [])),
            responses(
                (status = 200, body = $schema),
                (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
                WriteProblems,
            )
        )]
        #[patch($item)]
        async fn $update(
            _: Admin,
            state: web::Data<AppState>,
            id: web::Path<i64>,
            patch: Json<Map<String, Value>>,
        ) -> ApiResult<HttpResponse> {
            let id = id.into_inner();
            let current = $read(&state.db, id).await?;
            let changed: $input = merge_patch(&current, patch.into_inner())?;
            state
                .write_catalog(async |db| $change(db, id, changed).await)
                .await?;
            entry(&state, $kind, id, None)
        }

        #[doc = concat!("Deletes ", $noun, ".")]
        #[utoipa::path(
            tag = "admin",
            params(("id" = i64, Path)),
            security(("bearer" = [])),
            responses(
                (status = 204, description = "Deleted"),
                (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = $conflict, body = Problem, content_type = "application/problem+json"),
                WriteProblems,
            )
        )]
        #[delete($item)]
        async fn $remove(
            _: Admin,
            state: web::Data<AppState>,
            id: web::Path<i64>,
        ) -> ApiResult<HttpResponse> {
            let id = id.into_inner();
            state
                .write_catalog(async |db| {
                    $erase(db, id).await?;
                    if $kind == Kind::Track {
                        // Its `track_audio` row went with it: no instance may keep serving it.
                        state.media.master_changed(id);
                    }
                    Ok(())
                })
                .await?;
            Ok(HttpResponse::NoContent().finish())
        }
    };
}

admin_routes!(
    create_artist,
    update_artist,
    delete_artist,
    "/admin/artists",
    "/admin/artists/{id}",
    "an artist",
    ArtistInput,
    Artist,
    Kind::Artist,
    write::artist,
    write::create_artist,
    write::update_artist,
    write::delete_artist,
    "The artist still has albums"
);
admin_routes!(
    create_album,
    update_album,
    delete_album,
    "/admin/albums",
    "/admin/albums/{id}",
    "an album",
    AlbumInput,
    Album,
    Kind::Album,
    write::album,
    write::create_album,
    write::update_album,
    write::delete_album,
    "The album still has tracks"
);
admin_routes!(
    create_track,
    update_track,
    delete_track,
    "/admin/tracks",
    "/admin/tracks/{id}",
    "a track",
    TrackInput,
    Track,
    Kind::Track,
    write::track,
    write::create_track,
    write::update_track,
    write::delete_track,
    "The track was sold or is on a playlist"
);
