//! Counts and times every request by its route pattern (`/api/v1/tracks/{id}`), never by
//! its raw path: ids, and whatever a scanner makes up, would each start a series of their
//! own. Requests that match no route share the one label `unmatched`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    // The pattern comes from the path alone, so it is known before routing.
    let route = req.match_pattern();
    let method = req.method().clone();
    let result = crate::db::during_request(next.call(req)).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    state
        .metrics
        .observe_request(method.as_str(), route.as_deref(), status.as_u16(), started);
    result
}
