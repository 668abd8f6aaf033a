//! A customer's invoices, read back for that customer alone: newest first, with their lines
//! and track names. Another customer's invoice is simply not there (a 404, never a 403).

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::{Connected, Counted, Db};
use crate::error::ApiResult;
use crate::money::Cents;
use crate::paging::{PageRequest, Paged};

/// Where an invoice was billed: the customer's address when they bought.
#[derive(Debug, Serialize, ToSchema)]
pub struct Billing {
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLine {
    pub id: i64,
    pub track_id: i64,
    pub track_name: String,
    pub album_id: Option<i64>,
    pub unit_price: Cents,
    pub quantity: i64,
    /// `unit_price` times `quantity`.
    pub amount: Cents,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: i64,
    pub customer_id: i64,
    /// RFC 3339, UTC.
    pub invoice_date: String,
    pub billing: Billing,
    /// The sum of the lines' amounts, exactly.
    pub total: Cents,
    pub lines: Vec<InvoiceLine>,
}

/// An invoice in a list: its lines are one more request away.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceSummary {
    pub id: i64,
    pub customer_id: i64,
    /// RFC 3339, UTC.
    pub invoice_date: String,
    pub billing: Billing,
    /// The sum of the lines' amounts, exactly.
    pub total: Cents,
    pub line_count: i64,
}

/// Invoice `id` with its lines, when it is `customer`'s.
pub async fn load(
    conn: &mut Counted<impl Connected>,
    customer: i64,
    id: i64,
) -> ApiResult<Option<Invoice>> {
    let row = sqlx::query(
        "SELECT invoice_date, billing_address, billing_city, billing_state, billing_country, \
         billing_postal_code, total_cents FROM invoice WHERE invoice_id = $1 AND customer_id = $2",
    )
    .bind(id)
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let lines = sqlx::query(
        "SELECT l.invoice_line_id, l.track_id, t.name, t.album_id, l.unit_price_cents, l.quantity \
         FROM invoice_line l JOIN track t ON t.track_id = l.track_id \
         WHERE l.invoice_id = $1 ORDER BY l.invoice_line_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|line| {
        let unit: i64 = line.try_get(4)?;
        let quantity: i64 = line.try_get(5)?;
        Ok(InvoiceLine {
            id: line.try_get(0)?,
            track_id: line.try_get(1)?,
            track_name: line.try_get(2)?,
            album_id: line.try_get(3)?,
            unit_price: Cents(unit),
            quantity,
            amount: Cents(unit * quantity),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(Invoice {
        id,
        customer_id: customer,
        invoice_date: row.try_get(0)?,
        billing: billing(&row, 1)?,
        total: Cents(row.try_get(6)?),
        lines,
    }))
}

/// The position after an invoice in the newest-first order.
#[derive(Serialize, Deserialize)]
pub struct After {
    date: String,
    id: i64,
}

/// The page request of a customer's invoice list, from its `limit` and `cursor`.
pub fn page_request(
    customer: i64,
    limit: Option<&str>,
    cursor: Option<&str>,
    secret: &[u8],
) -> ApiResult<PageRequest<After>> {
    PageRequest::parse(
        limit,
        cursor,
        format!("invoices|customer={customer}"),
        secret,
    )
}

/// A page of `customer`'s invoices, newest first.
pub async fn list(
    db: &Db,
    customer: i64,
    page: PageRequest<After>,
    secret: &[u8],
) -> ApiResult<Paged<InvoiceSummary>> {
    let (date, id) = page
        .after
        .as_ref()
        .map_or((None, None), |a| (Some(a.date.clone()), Some(a.id)));
    let fetch = page.fetch();
    let rows = db
        .read(|pool| {
            let date = date.clone();
            async move {
                sqlx::query(
                    "SELECT i.invoice_id, i.invoice_date, i.billing_address, i.billing_city, \
                     i.billing_state, i.billing_country, i.billing_postal_code, i.total_cents, \
                     (SELECT COUNT(*) FROM invoice_line l WHERE l.invoice_id = i.invoice_id) \
                     FROM invoice i WHERE i.customer_id = $1 \
                     AND ($2 IS NULL OR i.invoice_date < $2 \
                          OR (i.invoice_date = $2 AND i.invoice_id < $3)) \
                     ORDER BY i.invoice_date DESC, i.invoice_id DESC LIMIT $4",
                )
                .bind(customer)
                .bind(date)
                .bind(id)
                .bind(fetch)
                .fetch_all(&pool)
                .await
            }
        })
        .await?
        .into_iter()
        .map(|row| {
            Ok(InvoiceSummary {
                id: row.try_get(0)?,
                customer_id: customer,
                invoice_date: row.try_get(1)?,
                billing: billing(&row, 2)?,
                total: Cents(row.try_get(7)?),
                line_count: row.try_get(8)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(page.finish(
        rows,
        |last| After {
            date: last.invoice_date.clone(),
            id: last.id,
        },
        secret,
    ))
}

/// The five billing columns starting at `first`.
fn billing(row: &sqlx::any::AnyRow, first: usize) -> Result<Billing, sqlx::Error> {
    Ok(Billing {
        address: row.try_get(first)?,
        city: row.try_get(first + 1)?,
        state: row.try_get(first + 2)?,
        country: row.try_get(first + 3)?,
        postal_code: row.try_get(first + 4)?,
    })
}
