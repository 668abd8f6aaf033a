//! The HTTP routes, one module per resource. Each is thin: parse, call the domain, respond.
//! Every route is registered through `utoipa_actix_web`, which only accepts handlers that
//! carry an OpenAPI description, so an undocumented route does not compile.

mod accounts;
mod admin;
mod admin_export;
mod admin_media;
mod admin_taxonomy;
mod catalog;
mod contract;
mod covers;
mod docs;
mod fallback;
mod health;
mod invoices;
mod library;
mod metrics;
mod player_credentials;
mod playlists;
mod purchases;
mod search;
mod staff;
mod staff_reports;
mod storefront;
mod streaming;
mod subsonic;
mod taxonomy;

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

pub use contract::tighten;
pub use docs::OpenApiJson;
pub use fallback::{fallback, KnownRoutes};
pub use subsonic::SharedState as SubsonicState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chinook",
        description = "A music store and streaming service over the Chinook catalog. \
                       Errors are RFC 9457 problem documents (`application/problem+json`)."
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, sessions and the signed-in person"),
        (name = "catalog", description = "Artists, albums, tracks, genres, media types and playlists, served from the search index"),
        (name = "search", description = "Typo-tolerant search with highlights and facets (hits embed album and artist with `include`), and autocomplete"),
        (name = "taxonomy", description = "Typed, hierarchical terms (genre, format, length, ...) and what is filed under them"),
        (name = "streaming", description = "Full streams (MP3 128 kbit/s) and downloads (FLAC or MP3 320 kbit/s) for owners, 30 s previews (MP3 128 kbit/s) for everyone, signed stream URLs; ranges on all, a per-account cap on streams and downloads, a send timeout"),
        (name = "playlists", description = "Customers' own playlists: private or public, in an exact order"),
        (name = "covers", description = "Album cover art at fixed sizes in lossy WebP (the default) or JPEG, generated or uploaded (PNG, JPEG or WebP, decoded completely before it is kept)"),
        (name = "store", description = "Purchases (exact, idempotent), the customer's invoices and library"),
        (name = "admin", description = "Catalog and taxonomy writes; admin accounts only"),
        (name = "staff", description = "Customers, invoices and sales reports, for employees within their scope"),
        (name = "operations", description = "Health probes, metrics and the API description"),
        (name = "subsonic", description = "The OpenSubsonic API for music players, at /rest/{method}; see the README's section on connecting a player"),
        (name = "store front", description = "The web store front: its page at each of its paths, and its assets"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "chinook_session",
                "The store front's HttpOnly session cookie, from `POST /auth/login?session=cookie`. \
                 Every request other than GET, HEAD and OPTIONS it authenticates must carry the \
                 session's CSRF token in `X-CSRF-Token`, or it is a 403.",
            ))),
        );
    }
}

/// Every operation a bearer token opens is open to the session cookie too: added once the
/// routes are registered, so no route can declare one and forget the other.
pub fn cookie_alternative(doc: &mut utoipa::openapi::OpenApi) {
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    let cookie = SecurityRequirement::new("session_cookie", Vec::<String>::new());
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
        ];
        for operation in operations.into_iter().flatten() {
            if let Some(security) = &mut operation.security {
                if security.contains(&bearer) && !security.contains(&cookie) {
                    security.push(cookie.clone());
                }
            }
        }
    }
}

/// Registers every route of the service.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .configure(accounts::configure)
            .configure(catalog::configure)
            .configure(search::configure)
            .configure(taxonomy::configure)
            .configure(admin::configure)
            .configure(admin_taxonomy::configure)
            .configure(admin_media::configure)
            .configure(streaming::configure)
            .configure(covers::configure)
            .configure(purchases::configure)
            .configure(invoices::configure)
            .configure(library::configure)
            .configure(playlists::configure)
            .configure(player_credentials::configure)
            .configure(staff::configure)
            .configure(staff_reports::configure)
            .configure(admin_export::configure),
    );
    streaming::configure_alias(cfg);
    subsonic::configure(cfg);
    health::configure(cfg);
    metrics::configure(cfg);
    docs::configure(cfg);
    storefront::configure(cfg);
}

/// The OpenAPI document of every route, built without starting a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    let mut doc = doc;
    cookie_alternative(&mut doc);
    contract::tighten(&mut doc);
    doc
}
