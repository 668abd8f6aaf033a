//! `GET /me/library`: the tracks the signed-in customer owns.

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiResult, Problem};
use crate::http::auth::Customer;
use crate::paging::Paged;
use crate::state::AppState;
use crate::store::library::{self, LibraryQuery, OwnedTrack};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

/// The tracks the signed-in customer owns (bought here or on an imported invoice), by
/// track id, with album and artist. Every one can be streamed and downloaded.
#[utoipa::path(
    tag = "store",
    security(("bearer" = [])),
    params(LibraryQuery),
    responses(
        (status = 200, body = Paged<OwnedTrack>),
        (status = 400, description = "A bad filter, limit or cursor, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admin accounts have no library (they may stream everything)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/library")]
async fn list(
    state: web::Data<AppState>,
    customer: Customer,
    query: web::Query<LibraryQuery>,
) -> ApiResult<web::Json<Paged<OwnedTrack>>> {
    Ok(web::Json(
        library::list(
            &state.db,
            customer.customer_id,
            &query,
            &state.cursor_secret,
        )
        .await?,
    ))
}
