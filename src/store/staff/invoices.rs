//! A customer's invoices as employees see them: the customer's own invoice views
//! (`store::invoices`), behind the employee's scope.

use super::customers::require;
use super::Scope;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::paging::{PageRequest, Paged};
use crate::store::invoices::{self, Invoice, InvoiceSummary};

/// A page of a customer's invoices, newest first; a 404 when the customer is out of scope.
pub async fn invoices(
    db: &Db,
    scope: Scope,
    customer_id: i64,
    page: PageRequest<invoices::After>,
    secret: &[u8],
) -> ApiResult<Paged<InvoiceSummary>> {
    require(db, scope, customer_id).await?;
    invoices::list(db, customer_id, page, secret).await
}

/// One invoice of a customer in scope; a 404 when the customer is out of scope or the
/// invoice is not theirs.
pub async fn invoice(
    db: &Db,
    scope: Scope,
    customer_id: i64,
    invoice_id: i64,
) -> ApiResult<Invoice> {
    require(db, scope, customer_id).await?;
    let mut conn = db.read_connection().await?;
    invoices::load(&mut conn, customer_id, invoice_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "customer {customer_id} has no invoice with id {invoice_id}"
            ))
        })
}
