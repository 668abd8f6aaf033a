//! Accounts and sessions: registration, login with opaque bearer tokens, logout, and who a
//! token belongs to.

mod registration;
mod sessions;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Role;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

pub use registration::{backfill_email_skeletons, register};
pub use sessions::{
    authenticate, authenticate_live, issue_token, login, logout, session_account, session_id,
    session_live, token_hash, Live,
};

/// A signed-in account, as the rest of the service sees it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub customer_id: Option<i64>,
    pub employee_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    account_id: i64,
    email: String,
    role: String,
    customer_id: Option<i64>,
    employee_id: Option<i64>,
}

impl TryFrom<AccountRow> for Account {
    type Error = ApiError;
    fn try_from(row: AccountRow) -> ApiResult<Self> {
        let role = Role::parse(&row.role).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "account {} has unknown role {:?}",
                row.account_id,
                row.role
            ))
        })?;
        Ok(Account {
            id: row.account_id,
            email: row.email,
            role,
            customer_id: row.customer_id,
            employee_id: row.employee_id,
        })
    }
}

/// A new customer's sign-up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8 to 128 characters.
    #[schema(
        example = "correct horse battery",
        min_length = 8,
        max_length = 128,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub password: String,
    #[schema(example = "Ada")]
    pub first_name: String,
    #[schema(example = "Lovelace")]
    pub last_name: String,
    pub company: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    #[schema(example = "United Kingdom")]
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
}

/// A session just started. The token itself is shown once and stored only as a hash.
#[derive(Serialize, ToSchema)]
pub struct Session {
    /// The bearer token. Absent with `session=cookie`, where it is in the HttpOnly
    /// `chinook_session` cookie instead, out of page scripts' reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `Bearer`, or `Cookie` with `session=cookie`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// With `session=cookie` only: send it in `X-CSRF-Token` on every request other than
    /// GET, HEAD and OPTIONS (it is also in the readable `chinook_csrf` cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

// Passwords and tokens stay out of `Debug` output, and so out of any log line.
impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The signed-in person.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Profile {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
    pub customer_id: Option<i64>,
    pub employee_id: Option<i64>,
    /// Job title, for employees.
    pub title: Option<String>,
    pub country: Option<String>,
    /// The employee who looks after this customer.
    pub support_rep_id: Option<i64>,
    pub created_at: String,
}

pub const MAX_FIELD_CHARS: usize = 120;

/// The canonical form of an email address, or what is wrong with it (see `store::email`).
pub use super::email::normalize as normalize_email;

/// An account by id; `None` when it no longer exists.
pub async fn by_id(db: &Db, id: i64) -> ApiResult<Option<Account>> {
    let row: Option<AccountRow> = sqlx::query_as(
        "SELECT account_id, email, role, customer_id, employee_id FROM account WHERE account_id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.map(Account::try_from).transpose()
}

/// The person behind an account: their customer or employee record.
pub async fn profile(db: &Db, account: &Account) -> ApiResult<Profile> {
    let profile: Option<Profile> = db
        .read(|pool| async move {
            sqlx::query_as(
                "SELECT a.account_id AS id, a.email, a.role, \
                        COALESCE(c.first_name, e.first_name) AS first_name, \
                        COALESCE(c.last_name, e.last_name) AS last_name, \
                        a.customer_id, a.employee_id, e.title, \
                        COALESCE(c.country, e.country) AS country, c.support_rep_id, \
                        a.created_at \
                 FROM account a \
                 LEFT JOIN customer c ON c.customer_id = a.customer_id \
                 LEFT JOIN employee e ON e.employee_id = a.employee_id \
                 WHERE a.account_id = $1",
            )
            .bind(account.id)
            .fetch_optional(&pool)
            .await
        })
        .await?;
    profile.ok_or_else(|| ApiError::NotFound("this account no longer exists".into()))
}
