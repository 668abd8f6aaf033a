//! What employees see of the store: the customers in their care, those customers' invoices,
//! and sales reports over them. Which customers an employee may see is their `Scope`.

mod customers;
mod invoices;
pub mod reports;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use customers::{customer, customers, CustomerDetail, CustomerFilter, CustomerSummary, Rep};
pub use invoices::{invoice, invoices, InvoiceDetail, InvoiceLine, InvoiceSummary};

use crate::catalog::list::PageInfo;
use crate::error::{ApiError, ApiResult};
use crate::http::page;
use crate::store::accounts::Account;
use crate::store::Role;

/// The customers an employee may see, as the accounts model has it: a sales agent sees the
/// customers they support, a manager also those of the agents who report to them, and an
/// admin sees everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// `None` for everyone.
    employee_id: Option<i64>,
}

/// The scope as a condition on the customer `c`, with the scope's employee bound as the
/// query's `$1` (NULL for everyone). Only direct reports count: the hierarchy says who
/// manages the agents, and anyone higher up is an admin, who sees everyone anyway.
pub(crate) const IN_SCOPE: &str = "($1 IS NULL \
     OR c.support_rep_id = $1 \
     OR c.support_rep_id IN (SELECT m.employee_id FROM employee m WHERE m.reports_to = $1))";

impl Scope {
    pub fn everyone() -> Self {
        Self { employee_id: None }
    }

    /// The employee's own customers and those of the employees who report to them.
    pub fn team_of(employee_id: i64) -> Self {
        Self {
            employee_id: Some(employee_id),
        }
    }

    /// What a signed-in account may see; customers see no one else.
    pub fn of(account: &Account) -> ApiResult<Self> {
        match (account.role, account.employee_id) {
            (Role::Admin, _) => Ok(Self::everyone()),
            (Role::Staff, Some(employee_id)) => Ok(Self::team_of(employee_id)),
            (Role::Staff, None) => Err(ApiError::Internal(anyhow::anyhow!(
                "staff account {} has no employee record",
                account.id
            ))),
            (Role::Customer, _) => Err(ApiError::Forbidden(
                "only employees (staff and admins) may see this".into(),
            )),
        }
    }

    /// The value to bind as `$1` of `IN_SCOPE`.
    pub(crate) fn employee(self) -> Option<i64> {
        self.employee_id
    }
}

/// A page of rows as lists send it: `{"data": [...], "page": {"next_cursor", "limit"}}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub page: PageInfo,
}

/// A checked `limit` and `cursor`: how many rows to send, and the keyset position to start
/// after. The fingerprint names the list and its filters, so a cursor is only good for the
/// list that made it.
pub struct PageRequest<K> {
    pub limit: usize,
    pub after: Option<K>,
    fingerprint: String,
}

impl<K: Serialize + DeserializeOwned> PageRequest<K> {
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        fingerprint: String,
        secret: &[u8],
    ) -> ApiResult<Self> {
        let limit = page::limit(limit)?;
        let after = cursor
            .map(|c| page::decode_cursor(c, &fingerprint, secret))
            .transpose()?;
        Ok(Self {
            limit,
            after,
            fingerprint,
        })
    }

    /// How many rows to ask the database for: one more than the page, to learn whether
    /// there is a next one without counting.
    pub fn fetch(&self) -> i64 {
        self.limit as i64 + 1
    }

    /// The page from up to `fetch()` rows, with a cursor after its last row when more follow.
    pub fn finish<T>(self, mut rows: Vec<T>, key: impl Fn(&T) -> K, secret: &[u8]) -> Page<T> {
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(page::encode_cursor(&key(last), &self.fingerprint, secret)),
            _ => None,
        };
        Page {
            data: rows,
            page: PageInfo {
                next_cursor,
                limit: self.limit,
            },
        }
    }
}

/// The 404 for a customer who does not exist or is outside the caller's scope: the same
/// answer for both, so it never confirms that someone else's customer exists.
fn no_customer(id: i64) -> ApiError {
    ApiError::NotFound(format!("there is no customer with id {id} among yours"))
}
