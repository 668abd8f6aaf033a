//! `GET /me/invoices` and `GET /me/invoices/{id}`: a customer's own invoices.

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::auth::Customer;
use crate::paging::{PageParams, Paged};
use crate::state::AppState;
use crate::store::invoices::{self, Invoice, InvoiceSummary};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(detail);
}

/// The signed-in customer's invoices, newest first.
#[utoipa::path(
    tag = "store",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<InvoiceSummary>),
        (status = 400, description = "A bad limit or cursor, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admin accounts have no invoices of their own", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/invoices")]
async fn list(
    state: web::Data<AppState>,
    customer: Customer,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Paged<InvoiceSummary>>> {
    Ok(web::Json(
        invoices::list(
            &state.db,
            customer.customer_id,
            invoices::page_request(
                customer.customer_id,
                query.limit.as_deref(),
                query.cursor.as_deref(),
                &state.cursor_secret,
            )?,
            &state.cursor_secret,
        )
        .await?,
    ))
}

/// One of the signed-in customer's invoices, with its lines.
#[utoipa::path(
    tag = "store",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, body = Invoice),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admin accounts have no invoices of their own", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No invoice of yours has this id (another customer's is not found either)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/invoices/{id}")]
async fn detail(
    state: web::Data<AppState>,
    customer: Customer,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Invoice>> {
    let id = id.into_inner();
    let mut conn = state.db.read_connection().await?;
    invoices::load(&mut conn, customer.customer_id, id)
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::NotFound(format!("you have no invoice with id {id}")))
}
