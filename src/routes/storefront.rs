//! The web store front: its page at `/` and at each of its own paths (the page routes in the
//! browser), and its assets under `/assets/<version>/`. Nothing here shadows `/api`,
//! `/health`, `/metrics` or `/docs`: every path is listed, none is a catch-all.

use actix_web::http::header;
use actix_web::{route, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::compression;
use crate::storefront::{Asset, StoreFront};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(home)
        .service(search)
        .service(album)
        .service(artist)
        .service(genre)
        .service(cart)
        .service(account)
        .service(library)
        .service(invoices)
        .service(asset_file);
}

/// A year: asset URLs change whenever any file does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page, and assets asked for under another version, are checked at every use.
const REVALIDATE: &str = "no-cache";
/// The page runs only its own scripts: an injected `<script>` or `onclick=` does not run, so
/// markup that slipped into the page cannot read the token it keeps. Inline `style`
/// attributes stay allowed (the page's SVG sprite has one); they run no code.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// An asset for `req`: the encoding it accepts, its ETag, and a 304 when it has it already.
pub(super) fn respond(
    req: &HttpRequest,
    asset: &Asset,
    cache_control: &'static str,
) -> HttpResponse {
    let wanted = compression::negotiate(req);
    let (encoding, body) = asset.encoded(wanted);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| asset.is_current(tags));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, asset.etag(encoding)))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept-Encoding"));
    if fresh {
        return response.finish();
    }
    if let Some(coding) = encoding.header() {
        response.insert_header((header::CONTENT_ENCODING, coding));
    }
    response
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(body)
}

fn page(req: HttpRequest) -> HttpResponse {
    let mut response = respond(&req, StoreFront::get().page(), REVALIDATE);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(POLICY),
    );
    response
}

/// The store front's home: popular tracks and albums, and the genre tree.
#[utoipa::path(tag = "store front", responses((status = 200, description = "The store front's page (HTML); ETag, `no-cache`, brotli or gzip by Accept-Encoding", content_type = "text/html")))]
#[route("/", method = "GET", method = "HEAD")]
async fn home(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's search page (its state is in the query string).
#[utoipa::path(tag = "store front", responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/search", method = "GET", method = "HEAD")]
async fn search(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's album page.
#[utoipa::path(tag = "store front", params(("id" = String, Path, description = "The album's id")), responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/albums/{id}", method = "GET", method = "HEAD")]
async fn album(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's artist page.
#[utoipa::path(tag = "store front", params(("id" = String, Path, description = "The artist's id")), responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/artists/{id}", method = "GET", method = "HEAD")]
async fn artist(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's page of a genre and what is filed below it.
#[utoipa::path(tag = "store front", params(("slug" = String, Path, description = "The genre term's slug")), responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/genres/{slug}", method = "GET", method = "HEAD")]
async fn genre(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's cart and checkout.
#[utoipa::path(tag = "store front", responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/cart", method = "GET", method = "HEAD")]
async fn cart(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's sign-in and registration.
#[utoipa::path(tag = "store front", responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/account", method = "GET", method = "HEAD")]
async fn account(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's library of owned tracks.
#[utoipa::path(tag = "store front", responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/library", method = "GET", method = "HEAD")]
async fn library(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// The store front's invoices.
#[utoipa::path(tag = "store front", responses((status = 200, description = "The store front's page (HTML)", content_type = "text/html")))]
#[route("/invoices", method = "GET", method = "HEAD")]
async fn invoices(req: HttpRequest) -> HttpResponse {
    page(req)
}

/// A script, style sheet or image of the store front. Under the current version it may be
/// cached for a year; under another (a page from before a deploy) it is sent but revalidated.
#[utoipa::path(
    tag = "store front",
    params(
        ("version" = String, Path, description = "The store front's version, as its page links it"),
        ("name" = String, Path, description = "The file's name"),
    ),
    responses(
        (status = 200, description = "The file; ETag, Cache-Control, brotli or gzip by Accept-Encoding"),
        (status = 304, description = "The client's copy is current (If-None-Match)"),
        (status = 404, description = "The store front has no such file", body = Problem, content_type = "application/problem+json"),
    )
)]
#[route("/assets/{version}/{name}", method = "GET", method = "HEAD")]
async fn asset_file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (version, name) = path.into_inner();
    let store = StoreFront::get();
    let asset = store
        .asset(&name)
        .ok_or_else(|| ApiError::NotFound(format!("the store front has no file named {name}")))?;
    let cache_control = if version == store.version {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    Ok(respond(&req, asset, cache_control))
}
