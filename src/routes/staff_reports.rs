//! Sales reports for staff: invoice lines of the customers the caller may see, summed by a
//! grouping over a window of invoice dates.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::cache::answers;
use crate::error::{ApiResult, Problem};
use crate::http::auth::Staff;
use crate::state::AppState;
use crate::store::staff::reports::{self, GroupBy, SalesReport, Window};
use crate::store::staff::Scope;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(sales);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SalesParams {
    /// `genre`, `artist`, `country` (billing country), `month` (`YYYY-MM` of the invoice
    /// date) or `employee` (the customer's support rep). Required.
    group_by: Option<String>,
    /// The first invoice date to include, `YYYY-MM-DD`.
    from: Option<String>,
    /// The last invoice date to include, `YYYY-MM-DD` (the whole day counts).
    to: Option<String>,
}

/// Sales of the caller's customers (everyone's, for an admin) by genre, artist, country,
/// month or employee: per group the exact total of unit price × quantity, the units and the
/// distinct invoices, largest total first; `totals` sums the whole window.
#[utoipa::path(
    tag = "staff",
    params(SalesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = SalesReport),
        (status = 400, description = "group_by is missing or not one of the choices (the detail lists them), a date is not YYYY-MM-DD, or from is after to", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed in as a customer", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/reports/sales")]
async fn sales(
    Staff(caller): Staff,
    state: web::Data<AppState>,
    params: web::Query<SalesParams>,
) -> ApiResult<HttpResponse> {
    let scope = Scope::of(&caller.account)?;
    let group_by = GroupBy::parse(params.group_by.as_deref())?;
    let window = Window::parse(params.from.as_deref(), params.to.as_deref())?;
    // Keyed by the version of the data it sums, so a purchase on any instance makes every
    // instance compute the report afresh. A report is kept under the version of the snapshot
    // it was read from, never a newer one, so one read from a lagging replica cannot stand
    // in for the primary's data later.
    let key = |version: &str| format!("sales:{version}:{scope:?}:{group_by:?}:{window:?}");
    let latest = reports::data_version(&state.db).await?;
    let json = state
        .answers
        .json_as(key(&latest), || async {
            let report = reports::sales(&state.db, scope, group_by, window).await?;
            let true_for = key(&report.data_version);
            Ok((report, true_for))
        })
        .await?;
    Ok(answers::respond(json))
}
