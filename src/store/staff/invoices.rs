//! A customer's invoices as employees see them: newest first, paged, and one invoice with its
//! lines. Only for customers in the employee's scope.

use serde::Serialize;
use utoipa::ToSchema;

use super::customers::require;
use super::{Page, PageRequest, Scope};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::money::Cents;

/// An invoice in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceSummary {
    #[schema(example = 98)]
    pub id: i64,
    #[schema(example = 1)]
    pub customer_id: i64,
    /// RFC 3339, UTC.
    #[schema(example = "2022-01-11T00:00:00Z")]
    pub invoice_date: String,
    pub billing_address: Option<String>,
    pub billing_city: Option<String>,
    pub billing_state: Option<String>,
    pub billing_country: Option<String>,
    pub billing_postal_code: Option<String>,
    /// The sum of its lines.
    pub total: Cents,
    /// How many lines it has.
    pub line_count: i64,
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: i64,
    customer_id: i64,
    invoice_date: String,
    billing_address: Option<String>,
    billing_city: Option<String>,
    billing_state: Option<String>,
    billing_country: Option<String>,
    billing_postal_code: Option<String>,
    total_cents: i64,
    line_count: i64,
}

impl From<InvoiceRow> for InvoiceSummary {
    fn from(r: InvoiceRow) -> Self {
        Self {
            id: r.id,
            customer_id: r.customer_id,
            invoice_date: r.invoice_date,
            billing_address: r.billing_address,
            billing_city: r.billing_city,
            billing_state: r.billing_state,
            billing_country: r.billing_country,
            billing_postal_code: r.billing_postal_code,
            total: Cents(r.total_cents),
            line_count: r.line_count,
        }
    }
}

const COLUMNS: &str = "i.invoice_id AS id, i.customer_id, i.invoice_date, i.billing_address, \
     i.billing_city, i.billing_state, i.billing_country, i.billing_postal_code, i.total_cents, \
     (SELECT COUNT(*) FROM invoice_line l WHERE l.invoice_id = i.invoice_id) AS line_count";

/// A page of a customer's invoices, newest first (date, then id, both descending). The
/// cursor is the last invoice's (date, id).
pub async fn invoices(
    db: &Db,
    scope: Scope,
    customer_id: i64,
    page: PageRequest<(String, i64)>,
    secret: &[u8],
) -> ApiResult<Page<InvoiceSummary>> {
    require(db, scope, customer_id).await?;
    let (date, id) = match &page.after {
        Some((date, id)) => (Some(date.as_str()), *id),
        None => (None, 0),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM invoice i \
         WHERE i.customer_id = $1 \
           AND ($2 IS NULL OR i.invoice_date < $2 OR (i.invoice_date = $2 AND i.invoice_id < $3)) \
         ORDER BY i.invoice_date DESC, i.invoice_id DESC LIMIT $4"
    );
    let rows: Vec<InvoiceRow> = sqlx::query_as(&sql)
        .bind(customer_id)
        .bind(date)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(db.reader())
        .await?;
    let rows = rows.into_iter().map(InvoiceSummary::from).collect();
    Ok(page.finish(
        rows,
        |i: &InvoiceSummary| (i.invoice_date.clone(), i.id),
        secret,
    ))
}

/// A line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLine {
    #[schema(example = 530)]
    pub id: i64,
    #[schema(example = 2)]
    pub track_id: i64,
    #[schema(example = "Balls to the Wall")]
    pub track_name: String,
    /// The price paid for one.
    pub unit_price: Cents,
    #[schema(example = 1)]
    pub quantity: i64,
    /// `unit_price` × `quantity`.
    pub total: Cents,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: i64,
    track_id: i64,
    track_name: String,
    unit_price_cents: i64,
    quantity: i64,
}

/// One invoice with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceDetail {
    #[serde(flatten)]
    pub invoice: InvoiceSummary,
    /// In the order they were billed.
    pub lines: Vec<InvoiceLine>,
}

/// One invoice of a customer in scope; a 404 when the customer is out of scope or the
/// invoice is not theirs.
pub async fn invoice(
    db: &Db,
    scope: Scope,
    customer_id: i64,
    invoice_id: i64,
) -> ApiResult<InvoiceDetail> {
    require(db, scope, customer_id).await?;
    let sql =
        format!("SELECT {COLUMNS} FROM invoice i WHERE i.customer_id = $1 AND i.invoice_id = $2");
    let row: InvoiceRow = sqlx::query_as(&sql)
        .bind(customer_id)
        .bind(invoice_id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "customer {customer_id} has no invoice with id {invoice_id}"
            ))
        })?;
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT l.invoice_line_id AS id, l.track_id, t.name AS track_name, l.unit_price_cents, \
                l.quantity \
         FROM invoice_line l JOIN track t ON t.track_id = l.track_id \
         WHERE l.invoice_id = $1 ORDER BY l.invoice_line_id",
    )
    .bind(invoice_id)
    .fetch_all(db.reader())
    .await?;
    let lines = lines
        .into_iter()
        .map(|l| {
            let total = l.unit_price_cents.checked_mul(l.quantity).ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("invoice line {} overflows", l.id))
            })?;
            Ok(InvoiceLine {
                id: l.id,
                track_id: l.track_id,
                track_name: l.track_name,
                unit_price: Cents(l.unit_price_cents),
                quantity: l.quantity,
                total: Cents(total),
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(InvoiceDetail {
        invoice: row.into(),
        lines,
    })
}
