//! Staff views of customers and their invoices, limited to the customers the caller may see
//! (see `store::staff::Scope`); anyone else's customer is a 404, as if there were none.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::auth::Staff;
use crate::http::extractors::text_param;
use crate::paging::{PageParams, PageRequest, Paged};
use crate::state::AppState;
use crate::store::invoices::{self as customer_invoices, Invoice, InvoiceSummary};
use crate::store::staff::{self, CustomerDetail, CustomerFilter, CustomerSummary, Scope};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(customers)
        .service(customer)
        .service(invoices)
        .service(invoice);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct CustomerParams {
    /// Customers per page, 1 to 100 (default 25).
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only customers in this country, exactly as stored (e.g. `Brazil`, `USA`).
    country: Option<String>,
    /// Only customers this employee supports.
    support_rep_id: Option<String>,
}

/// Details take no query parameters; one sent anyway is a 400 rather than ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

fn filter(params: &CustomerParams) -> ApiResult<CustomerFilter> {
    let country = match params.country.as_deref() {
        Some(raw) if raw.trim().is_empty() => {
            return Err(ApiError::BadRequest("country must not be empty".into()))
        }
        raw => text_param("country", raw, 100)?,
    };
    let support_rep_id = params
        .support_rep_id
        .as_deref()
        .map(|raw| {
            raw.trim().parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "support_rep_id must be a whole number, not `{raw}`"
                ))
            })
        })
        .transpose()?;
    Ok(CustomerFilter {
        country,
        support_rep_id,
    })
}

/// A page of the customers the caller may see, by id: an agent's own, a manager's and
/// their agents', everyone for an admin.
#[utoipa::path(
    tag = "staff",
    params(CustomerParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Paged<CustomerSummary>),
        (status = 400, description = "A parameter is invalid, or the cursor was tampered with or belongs to other filters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in as a customer", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/customers")]
async fn customers(
    Staff(caller): Staff,
    state: web::Data<AppState>,
    params: web::Query<CustomerParams>,
) -> ApiResult<web::Json<Paged<CustomerSummary>>> {
    let scope = Scope::of(&caller.account)?;
    let filter = filter(&params)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        filter.fingerprint(),
        &state.cursor_secret,
    )?;
    let page = staff::customers(&state.db, scope, &filter, page, &state.cursor_secret).await?;
    Ok(web::Json(page))
}

/// One customer the caller may see, with their support rep and what they have spent.
#[utoipa::path(
    tag = "staff",
    params(("id" = i64, Path, description = "The customer's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CustomerDetail),
        (status = 400, description = "The id is not a whole number, or a query parameter was sent", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in as a customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer among the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/customers/{id}")]
async fn customer(
    Staff(caller): Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    _: web::Query<NoParams>,
) -> ApiResult<web::Json<CustomerDetail>> {
    let scope = Scope::of(&caller.account)?;
    Ok(web::Json(
        staff::customer(&state.db, scope, id.into_inner()).await?,
    ))
}

/// A page of a customer's invoices, newest first.
#[utoipa::path(
    tag = "staff",
    params(("id" = i64, Path, description = "The customer's id"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Paged<InvoiceSummary>),
        (status = 400, description = "The id is not a whole number, a parameter is invalid, or the cursor was tampered with or belongs to another customer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in as a customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer among the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/customers/{id}/invoices")]
async fn invoices(
    Staff(caller): Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paged<InvoiceSummary>>> {
    let scope = Scope::of(&caller.account)?;
    let id = id.into_inner();
    let page = customer_invoices::page_request(
        id,
        params.limit.as_deref(),
        params.cursor.as_deref(),
        &state.cursor_secret,
    )?;
    let page = staff::invoices(&state.db, scope, id, page, &state.cursor_secret).await?;
    Ok(web::Json(page))
}

/// One invoice of a customer, with its lines and their tracks.
#[utoipa::path(
    tag = "staff",
    params(
        ("id" = i64, Path, description = "The customer's id"),
        ("invoice_id" = i64, Path, description = "The invoice's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Invoice),
        (status = 400, description = "An id is not a whole number, or a query parameter was sent", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in as a customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer among the caller's, or no such invoice of theirs", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/customers/{id}/invoices/{invoice_id}")]
async fn invoice(
    Staff(caller): Staff,
    state: web::Data<AppState>,
    ids: web::Path<(i64, i64)>,
    _: web::Query<NoParams>,
) -> ApiResult<web::Json<Invoice>> {
    let scope = Scope::of(&caller.account)?;
    let (customer_id, invoice_id) = ids.into_inner();
    Ok(web::Json(
        staff::invoice(&state.db, scope, customer_id, invoice_id).await?,
    ))
}
