//! Customers as employees see them: a list of those in scope, filtered and paged by id, and
//! one customer with their support rep and what they have spent.

use serde::Serialize;
use utoipa::ToSchema;

use super::{no_customer, Scope, IN_SCOPE};
use crate::db::Db;
use crate::error::ApiResult;
use crate::money::Cents;
use crate::paging::{PageRequest, Paged};

/// A customer in a list.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CustomerSummary {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "Luís")]
    pub first_name: String,
    #[schema(example = "Gonçalves")]
    pub last_name: String,
    pub company: Option<String>,
    #[schema(example = "luisg@embraer.com.br")]
    pub email: String,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    #[schema(example = "Brazil")]
    pub country: Option<String>,
    /// The employee who supports this customer.
    #[schema(example = 3)]
    pub support_rep_id: Option<i64>,
}

/// Filters of the customer list; they combine.
#[derive(Debug, Default)]
pub struct CustomerFilter {
    /// Exactly this country.
    pub country: Option<String>,
    /// Supported by this employee.
    pub support_rep_id: Option<i64>,
}

impl CustomerFilter {
    /// Names the filters, so a cursor made under some is refused under others.
    pub fn fingerprint(&self) -> String {
        format!(
            "staff/customers?country={:?}&support_rep_id={:?}",
            self.country, self.support_rep_id
        )
    }
}

const SUMMARY_COLUMNS: &str = "c.customer_id AS id, c.first_name, c.last_name, c.company, \
     c.email, c.phone, c.city, c.state, c.country, c.support_rep_id";

/// A page of the customers in scope, by id.
pub async fn customers(
    db: &Db,
    scope: Scope,
    filter: &CustomerFilter,
    page: PageRequest<i64>,
    secret: &[u8],
) -> ApiResult<Paged<CustomerSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM customer c \
         WHERE {IN_SCOPE} \
           AND ($2 IS NULL OR c.country = $2) \
           AND ($3 IS NULL OR c.support_rep_id = $3) \
           AND c.customer_id > $4 \
         ORDER BY c.customer_id LIMIT $5"
    );
    let (after, fetch) = (page.after.unwrap_or(i64::MIN), page.fetch());
    let rows: Vec<CustomerSummary> = db
        .read(|pool| {
            let sql = &sql;
            async move {
                sqlx::query_as(sql)
                    .bind(scope.employee())
                    .bind(filter.country.as_deref())
                    .bind(filter.support_rep_id)
                    .bind(after)
                    .bind(fetch)
                    .fetch_all(&pool)
                    .await
            }
        })
        .await?;
    Ok(page.finish(rows, |c| c.id, secret))
}

/// The employee who supports a customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rep {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "Jane")]
    pub first_name: String,
    #[schema(example = "Peacock")]
    pub last_name: String,
    #[schema(example = "Sales Support Agent")]
    pub title: Option<String>,
}

/// One customer, whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: CustomerSummary,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub fax: Option<String>,
    pub support_rep: Option<Rep>,
    /// How many invoices the customer has.
    pub invoice_count: i64,
    /// The sum of their invoices.
    pub total_spent: Cents,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    customer: CustomerSummary,
    address: Option<String>,
    postal_code: Option<String>,
    fax: Option<String>,
    rep_first_name: Option<String>,
    rep_last_name: Option<String>,
    rep_title: Option<String>,
    invoice_count: i64,
    spent_cents: i64,
}

/// One customer in scope; a 404 for anyone else, whether they exist or not.
pub async fn customer(db: &Db, scope: Scope, id: i64) -> ApiResult<CustomerDetail> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, c.address, c.postal_code, c.fax, \
                e.first_name AS rep_first_name, e.last_name AS rep_last_name, \
                e.title AS rep_title, \
                (SELECT COUNT(*) FROM invoice i WHERE i.customer_id = c.customer_id) \
                    AS invoice_count, \
                (SELECT CAST(COALESCE(SUM(i.total_cents), 0) AS BIGINT) FROM invoice i \
                 WHERE i.customer_id = c.customer_id) AS spent_cents \
         FROM customer c LEFT JOIN employee e ON e.employee_id = c.support_rep_id \
         WHERE {IN_SCOPE} AND c.customer_id = $2"
    );
    let row: DetailRow = sqlx::query_as(&sql)
        .bind(scope.employee())
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| no_customer(id))?;
    let support_rep = match (row.customer.support_rep_id, row.rep_first_name) {
        (Some(id), Some(first_name)) => Some(Rep {
            id,
            first_name,
            last_name: row.rep_last_name.unwrap_or_default(),
            title: row.rep_title,
        }),
        _ => None,
    };
    Ok(CustomerDetail {
        customer: row.customer,
        address: row.address,
        postal_code: row.postal_code,
        fax: row.fax,
        support_rep,
        invoice_count: row.invoice_count,
        total_spent: Cents(row.spent_cents),
    })
}

/// Whether a customer is in scope, as a 404 when not.
pub(super) async fn require(db: &Db, scope: Scope, id: i64) -> ApiResult<()> {
    let sql =
        format!("SELECT c.customer_id FROM customer c WHERE {IN_SCOPE} AND c.customer_id = $2");
    sqlx::query_scalar::<_, i64>(&sql)
        .bind(scope.employee())
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .map(|_| ())
        .ok_or_else(|| no_customer(id))
}
