//! The store's people and money: customers, employees and their accounts, sessions, staff views,
//! purchases, invoices and the library of what each customer owns.

pub mod accounts;
pub mod annotations;
pub mod email;
pub mod invoices;
pub mod library;
pub mod page_marks;
pub mod password;
pub mod player_credentials;
pub mod plays;
pub mod purchases;
pub mod staff;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an account may do. Derived from the Chinook data: customers buy; sales employees are
/// staff who see their own customers (or their agents' customers, for a manager); IT staff
/// and the General Manager are admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Staff,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(Role::Customer),
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The role of an employee by job title: sales people are staff, the rest run the place.
    pub fn for_employee_title(title: Option<&str>) -> Self {
        match title {
            Some(t) if t.to_ascii_lowercase().contains("sales") => Role::Staff,
            _ => Role::Admin,
        }
    }
}
