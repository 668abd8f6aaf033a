//! Catalog lists and details by id, served from the search index.

use actix_web::{get, web, HttpRequest, HttpResponse};
use bytes::Bytes;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::browse::list::{Includes, ListParams, ListQuery, PageInfo, Related};
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

/// Details take only `include=`; another parameter (say `sort=`, which only lists take) is
/// a 400 rather than silently ignored.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DetailParams {
    /// Comma-separated relations to embed, as lists take them: tracks take
    /// `album,artist,genre,media_type`; albums `artist,tracks`; artists `albums`; playlists
    /// `tracks`. Embedded lists hold at most 100 entries.
    include: Option<String>,
}

/// One entry as stored in the index, already JSON, with the includes asked for.
async fn detail(
    req: &HttpRequest,
    state: &AppState,
    kind: Kind,
    id: i64,
    params: &DetailParams,
) -> ApiResult<HttpResponse> {
    let includes = Includes::parse(kind, &params.include)?;
    let key = format!("detail|{}|{id}|{includes:?}", kind.code());
    state
        .public_answer(req, key, || {
            state.read_catalog(move |index, _| {
                let body = index.get(kind, id)?.ok_or_else(|| {
                    ApiError::NotFound(format!("there is no {} with id {id}", kind.noun()))
                })?;
                let mut out = String::with_capacity(body.len());
                includes.splice(&mut Related::new(index), kind, &body, &body, &mut out)?;
                Ok(Bytes::from(out))
            })
        })
        .await
}

macro_rules! detail_route {
    ($handler:ident, $path:literal, $kind:expr, $schema:ty, $noun:literal) => {
        #[doc = concat!("One ", $noun, " by id.")]
        #[utoipa::path(
            tag = "catalog",
            params(("id" = i64, Path, description = concat!("The ", $noun, "'s id")), DetailParams),
            responses(
                (status = 200, body = $schema, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
                (status = 304, description = "`If-None-Match` names the current ETag"),
                (status = 400, description = "The id is not a whole number, or a parameter is unknown or an include does not apply", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = concat!("There is no such ", $noun), body = Problem, content_type = "application/problem+json"),
                (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
                (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        async fn $handler(
            req: HttpRequest,
            state: web::Data<AppState>,
            id: web::Path<i64>,
            params: web::Query<DetailParams>,
        ) -> ApiResult<HttpResponse> {
            detail(&req, &state, $kind, id.into_inner(), &params).await
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

/// One page of a list.
async fn list(
    req: &HttpRequest,
    state: &AppState,
    kind: Kind,
    params: &ListParams,
) -> ApiResult<HttpResponse> {
    let query = ListQuery::parse(kind, params, &state.cursor_secret)?;
    let key = query.cache_key();
    let secret = state.cursor_secret.clone();
    state
        .public_answer(req, key, || async move {
            let page = state
                .read_catalog(move |index, budget| query.run(index, &secret, budget))
                .await?;
            Ok(Bytes::from(page))
        })
        .await
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
                (status = 200, body = $page, headers(("ETag" = String, description = "Strong validator of this answer at this catalog generation"), ("Cache-Control" = String, description = "`public, no-cache` unless CHINOOK_PUBLIC_MAX_AGE_SECS is set"))),
                (status = 304, description = "`If-None-Match` names the current ETag"),
                (status = 400, description = "A parameter is invalid or does not apply; `detail` names it", body = Problem, content_type = "application/problem+json"),
                (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
                (status = 503, description = "The catalog index is warming up", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        async fn $handler(
            req: HttpRequest,
            state: web::Data<AppState>,
            params: web::Query<ListParams>,
        ) -> ApiResult<HttpResponse> {
            list(&req, &state, $kind, &params).await
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
