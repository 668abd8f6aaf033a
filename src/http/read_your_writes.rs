//! Read-your-writes across requests: a request that wrote on behalf of an account records
//! the primary's WAL position once it is answered, so that account's next reads go to a
//! replica only once it has replayed that far (`db::router`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::db::request;
use crate::state::AppState;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let db = req.app_data::<web::Data<AppState>>().map(|s| s.db.clone());
    let (response, wrote_as) = request::scope(next.call(req)).await;
    if let (Some(db), Some(account)) = (db, wrote_as) {
        // Recorded before the answer leaves, so a client that reads right after it has its
        // write routed correctly. A failed request may have written too; it is recorded alike.
        db.note_write(account).await;
    }
    response
}
