//! What employees see of the store: the customers in their care, those customers' invoices,
//! and sales reports over them. Which customers an employee may see is their `Scope`.

mod customers;
mod invoices;
pub mod reports;

pub use customers::{customer, customers, CustomerDetail, CustomerFilter, CustomerSummary, Rep};
pub use invoices::{invoice, invoices};

use crate::error::{ApiError, ApiResult};
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

/// The 404 for a customer who does not exist or is outside the caller's scope: the same
/// answer for both, so it never confirms that someone else's customer exists.
fn no_customer(id: i64) -> ApiError {
    ApiError::NotFound(format!("there is no customer with id {id} among yours"))
}
