//! Catalog lists and details by id, served from the search index.

use actix_web::http::header::ContentType;
use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::catalog::list::{ListParams, ListQuery, PageInfo};
use crate::catalog::{Album, Artist, Group, Kind, Track};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(artists)
        .service(albums)
        .service(tracks)
        .service(genres)
        .service(media_types)
        .service(playlists)
        .service(artist)
        .service(album)
        .service(track)
        .service(genre)
        .service(media_type)
        .service(playlist);
}

/// Details take no query parameters; sending one (say `include=`, which only lists take)
/// is a 400 rather than silently ignored.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// One entry as stored in the index, already JSON.
fn detail(state: &AppState, kind: Kind, id: i64) -> ApiResult<HttpResponse> {
    let body = state
        .catalog()?
        .get(kind, id)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no {} with id {id}", kind.noun())))?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

macro_rules! detail_route {
    ($handler:ident, $path:literal, $kind:expr, $schema:ty, $noun:literal) => {
        #[doc = concat!("One ", $noun, " by id.")]
        #[utoipa::path(
            tag = "catalog",
            params(("id" = i64, Path, description = concat!("The ", $noun, "'s id"))),
            responses(
                (status = 200, body = $schema),
                (status = 400, description = "The id is not a whole number, or a query parameter was sent", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = concat!("There is no such ", $noun), body = Problem, content_type = "application/problem+json"),
                (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
                (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        async fn $handler(
            state: web::Data<AppState>,
            id: web::Path<i64>,
            _: web::Query<NoParams>,
        ) -> ApiResult<HttpResponse> {
            detail(&state, $kind, id.into_inner())
        }
    };
}

detail_route!(artist, "/artists/{id}", Kind::Artist, Artist, "artist");
detail_route!(album, "/albums/{id}", Kind::Album, Album, "album");
detail_route!(track, "/tracks/{id}", Kind::Track, Track, "track");
detail_route!(genre, "/genres/{id}", Kind::Genre, Group, "genre");
detail_route!(
    media_type,
    "/media-types/{id}",
    Kind::MediaType,
    Group,
    "media type"
);
detail_route!(
    playlist,
    "/playlists/{id}",
    Kind::Playlist,
    Group,
    "playlist"
);

/// One page of a list. Pages of the most popular tracks, the store's front page, are cached
/// by the last change the index holds.
async fn list(state: &AppState, kind: Kind, params: &ListParams) -> ApiResult<HttpResponse> {
    let query = ListQuery::parse(kind, params, &state.cursor_secret)?;
    let index = state.catalog()?;
    if kind == Kind::Track && params.sort.as_deref().map(str::trim) == Some("-popularity") {
        let key = format!("popular:{}:{params:?}", index.applied_change());
        let json = state
            .answers
            .json(key, || async { query.run(index, &state.cursor_secret) })
            .await?;
        return Ok(crate::cache::answers::respond(json));
    }
    let page = query.run(index, &state.cursor_secret)?;
    Ok(HttpResponse::Ok().json(page))
}

macro_rules! list_route {
    ($handler:ident, $page:ident, $path:literal, $kind:expr, $schema:ty, $nouns:literal) => {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)] // Only describes the response in the OpenAPI document.
        struct $page {
            data: Vec<$schema>,
            page: PageInfo,
        }

        #[doc = concat!("A page of ", $nouns, ", filtered and sorted.")]
        #[utoipa::path(
            tag = "catalog",
            params(ListParams),
            responses(
                (status = 200, body = $page),
                (status = 400, description = "A parameter is invalid or does not apply; `detail` names it", body = Problem, content_type = "application/problem+json"),
                (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
                (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        async fn $handler(
            state: web::Data<AppState>,
            params: web::Query<ListParams>,
        ) -> ApiResult<HttpResponse> {
            list(&state, $kind, &params).await
        }
    };
}

list_route!(
    artists,
    ArtistPage,
    "/artists",
    Kind::Artist,
    Artist,
    "artists"
);
list_route!(albums, AlbumPage, "/albums", Kind::Album, Album, "albums");
list_route!(tracks, TrackPage, "/tracks", Kind::Track, Track, "tracks");
list_route!(genres, GenrePage, "/genres", Kind::Genre, Group, "genres");
list_route!(
    media_types,
    MediaTypePage,
    "/media-types",
    Kind::MediaType,
    Group,
    "media types"
);
list_route!(
    playlists,
    PlaylistPage,
    "/playlists",
    Kind::Playlist,
    Group,
    "playlists"
);
