//! `POST /purchases`: a customer buys tracks and albums, once per `Idempotency-Key`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::auth::Customer;
use crate::http::json::Json;
use crate::state::AppState;
use crate::store::invoices::Invoice;
use crate::store::purchases::{self, Buyer, Order};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(purchase);
}

/// Buys tracks and whole albums in one invoice, priced from the catalog now and billed to
/// the customer's address. Send a new `Idempotency-Key` with each purchase and the same one
/// when retrying it: a retry gets the first answer again (with `Idempotent-Replayed: true`)
/// and is never charged twice. Ids are bought once however often they are named.
#[utoipa::path(
    tag = "store",
    security(("bearer" = [])),
    request_body = Order,
    params(
        ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters, new for each purchase (a UUID, say), the same for its retries; kept 7 days per account"),
    ),
    responses(
        (status = 201, description = "The invoice; the tracks can be streamed and downloaded at once", body = Invoice,
            headers(
                ("Location" = String, description = "The invoice under /api/v1/me/invoices"),
                ("Idempotent-Replayed" = String, description = "`true` when this answer was stored by an earlier request with the same key"),
            )),
        (status = 400, description = "No or a malformed Idempotency-Key, or the body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admin accounts buy nothing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Ids the catalog does not have (`detail` lists every one); stored with the key and replayed like a success", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Some tracks are owned already (`detail` lists them; nothing was charged), the key was already used for a different order, or concurrent purchases kept winning the race", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within its time budget; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty order, too many ids (500 at most, 2,000 tracks with albums expanded), or ids below 1", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A bug or an outage; quote the X-Request-Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/purchases")]
async fn purchase(
    req: HttpRequest,
    state: web::Data<AppState>,
    customer: Customer,
    Json(order): Json<Order>,
) -> ApiResult<HttpResponse> {
    let raw_key = req
        .headers()
        .get("Idempotency-Key")
        .map(|value| {
            value.to_str().map_err(|_| {
                ApiError::BadRequest("the Idempotency-Key must be visible ASCII".into())
            })
        })
        .transpose()?;
    let key = purchases::idempotency_key(raw_key)?;
    let buyer = Buyer {
        account_id: customer.caller.account.id,
        customer_id: customer.customer_id,
    };
    let answer = purchases::purchase(&state.db, buyer, &key, &order).await?;
    if !answer.sold.is_empty() {
        popularity_changed(&state, &answer.sold).await;
    }
    let status = StatusCode::from_u16(answer.status).map_err(anyhow::Error::from)?;
    let mut response = HttpResponse::build(status);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    response.insert_header((header::CONTENT_TYPE, content_type));
    if let Some(invoice) = answer.invoice_id {
        response.insert_header((header::LOCATION, format!("/api/v1/me/invoices/{invoice}")));
    }
    if answer.replayed {
        response.insert_header(("Idempotent-Replayed", HeaderValue::from_static("true")));
    }
    Ok(response.body(answer.body))
}

/// Tells every instance's index that these tracks sold, so `sort=popularity` follows
/// purchases. The purchase has committed by now and stands whatever happens here: a failure
/// is logged, and the tracks' popularity is read again at their next change or rebuild.
async fn popularity_changed(state: &AppState, tracks: &[i64]) {
    let logged = state.write_catalog(async |db| {
        let mut write = crate::catalog::changes::CatalogWrite::begin(db).await?;
        write.touch_all(crate::catalog::Kind::Track, tracks.iter().copied());
        write.commit().await?;
        Ok(())
    });
    if let Err(e) = logged.await {
        tracing::warn!(error = %e, "the index did not learn of a purchase's popularity");
    }
}
