//! Accounts and sessions: registration, login with opaque bearer tokens, logout, and who a
//! token belongs to.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::TryRng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{password, Role};
use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};

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

/// A trimmed required text field, or a 422 naming it.
fn required(field: &str, value: &str) -> ApiResult<String> {
    if value.trim().is_empty() {
        return Err(ApiError::Validation(format!("{field} is required")));
    }
    optional(field, Some(value)).map(|v| v.unwrap_or_default())
}

fn optional(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    // The length is of the value as sent, as the OpenAPI document's `maxLength` says.
    let long = value.is_some_and(|v| v.chars().count() > MAX_FIELD_CHARS);
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if long {
        return Err(ApiError::Validation(format!(
            "{field} has more than {MAX_FIELD_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::Validation(format!(
            "{field} must not contain control characters"
        )));
    }
    if let Some(problem) = crate::text::name_problem(field, value) {
        return Err(ApiError::Validation(problem));
    }
    Ok(Some(value.to_string()))
}

/// Creates a customer and their account. A taken email is a 409.
pub async fn register(db: &Db, form: Registration) -> ApiResult<Account> {
    let email = normalize_email(&form.email).map_err(ApiError::Validation)?;
    password::validate(&form.password).map_err(ApiError::Validation)?;
    let first_name = required("first_name", &form.first_name)?;
    let last_name = required("last_name", &form.last_name)?;
    let company = optional("company", form.company.as_deref())?;
    let address = optional("address", form.address.as_deref())?;
    let city = optional("city", form.city.as_deref())?;
    let state = optional("state", form.state.as_deref())?;
    let country = optional("country", form.country.as_deref())?;
    let postal_code = optional("postal_code", form.postal_code.as_deref())?;
    let phone = optional("phone", form.phone.as_deref())?;

    let looks = super::email::skeleton(&email);
    let taken = || ApiError::Conflict(format!("an account with email {email} already exists"));
    let look_alike = || {
        ApiError::Conflict(format!(
            "email {email} looks like the address of an existing account (as `rn` can pass \
             for `m`, or `1` for `l`); use another address"
        ))
    };
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT email FROM account WHERE email = $1 OR email_skeleton = $2 \
         ORDER BY email = $1 DESC LIMIT 1",
    )
    .bind(&email)
    .bind(&looks)
    .fetch_optional(db.writer())
    .await?;
    match existing {
        Some(same) if same == email => return Err(taken()),
        Some(_) => return Err(look_alike()),
        None => {}
    }
    let password_hash = password::hash(form.password).await?;

    let mut tx = db.writer().begin().await?;
    // New customers go to the sales support agent with the fewest customers.
    let support_rep: Option<i64> = sqlx::query_scalar(
        "SELECT e.employee_id FROM employee e \
         LEFT JOIN customer c ON c.support_rep_id = e.employee_id \
         WHERE e.title = 'Sales Support Agent' \
         GROUP BY e.employee_id ORDER BY COUNT(c.customer_id), e.employee_id LIMIT 1",
    )
    .fetch_optional(&mut tx)
    .await?;
    let customer_id: i64 = sqlx::query_scalar(
        "INSERT INTO customer (first_name, last_name, company, address, city, state, country, \
         postal_code, phone, email, support_rep_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING customer_id",
    )
    .bind(&first_name)
    .bind(&last_name)
    .bind(company)
    .bind(address)
    .bind(city)
    .bind(state)
    .bind(country)
    .bind(postal_code)
    .bind(phone)
    .bind(&email)
    .bind(support_rep)
    .fetch_one(&mut tx)
    .await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO account (email, email_skeleton, password_hash, role, customer_id, \
         created_at) VALUES ($1, $2, $3, 'customer', $4, $5) RETURNING account_id",
    )
    .bind(&email)
    .bind(&looks)
    .bind(&password_hash)
    .bind(customer_id)
    .bind(db::timestamp_now())
    .fetch_one(&mut tx)
    .await;
    let account_id = match inserted {
        Ok(id) => id,
        // Two sign-ups with one email (or two look-alikes) raced past the check above; the
        // constraints decide.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(if e.message().contains("skeleton") {
                look_alike()
            } else {
                taken()
            });
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(Account {
        id: account_id,
        email,
        role: Role::Customer,
        customer_id: Some(customer_id),
        employee_id: None,
    })
}

/// Fills in the skeleton of accounts stored before it was kept (or seeded without it). An
/// address whose skeleton another account has already is left without one, and said so:
/// both keep signing in, and new look-alikes of either are still refused by the other's.
pub async fn backfill_email_skeletons(db: &Db) -> ApiResult<()> {
    let missing: Vec<(i64, String)> =
        sqlx::query_as("SELECT account_id, email FROM account WHERE email_skeleton IS NULL")
            .fetch_all(db.writer())
            .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut tx = db.writer().begin().await?;
    let mut clashes = Vec::new();
    for (id, email) in &missing {
        let looks = super::email::skeleton(email);
        let clash: Option<i64> =
            sqlx::query_scalar("SELECT account_id FROM account WHERE email_skeleton = $1")
                .bind(&looks)
                .fetch_optional(&mut tx)
                .await?;
        if clash.is_some() {
            clashes.push(email.as_str());
            continue;
        }
        sqlx::query("UPDATE account SET email_skeleton = $1 WHERE account_id = $2")
            .bind(&looks)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    if !clashes.is_empty() {
        tracing::warn!(
            accounts = ?clashes,
            "these addresses look like another account's; they keep no skeleton of their own"
        );
    }
    tracing::info!(
        filled = missing.len() - clashes.len(),
        "email skeletons filled in"
    );
    Ok(())
}

/// Checks credentials and issues a token. Every failure is the same 401, so the answer
/// never tells whether an email has an account.
pub async fn login(db: &Db, email: &str, password: &str, ttl: Duration) -> ApiResult<Session> {
    #[derive(sqlx::FromRow)]
    struct Credentials {
        account_id: i64,
        password_hash: String,
    }
    let unauthorized = || ApiError::Unauthorized("email or password is wrong".into());
    // A malformed address has no account; PostgreSQL would also refuse a NUL byte in it.
    let Some(email) = super::email::for_login(email) else {
        return Err(unauthorized());
    };
    let found: Option<Credentials> =
        sqlx::query_as("SELECT account_id, password_hash FROM account WHERE email = $1")
            .bind(&email)
            // On the primary: an account registered a moment ago can sign in at once.
            .fetch_optional(db.primary())
            .await?;
    let (account_id, stored) = match found {
        Some(c) => (Some(c.account_id), Some(c.password_hash)),
        None => (None, None),
    };
    // Over-long passwords are refused without hashing them, but only after the lookup, so
    // timing stays alike.
    let plausible = password.chars().count() <= password::MAX_CHARS;
    let verified = plausible && password::verify(password.to_string(), stored).await?;
    match account_id {
        Some(id) if verified => issue_token(db, id, ttl).await,
        _ => Err(unauthorized()),
    }
}

/// A new bearer token for an account that has just proved who it is.
pub async fn issue_token(db: &Db, account_id: i64, ttl: Duration) -> ApiResult<Session> {
    let mut secret = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut secret)
        .map_err(|e| anyhow::anyhow!("the operating system's random source failed: {e}"))?;
    let token = format!("chk_{}", URL_SAFE_NO_PAD.encode(secret));
    let now = chrono::Utc::now();
    let ttl = chrono::Duration::from_std(ttl).map_err(anyhow::Error::from)?;
    let expires_at = db::timestamp(now + ttl);
    let mut tx = db.writer().begin().await?;
    // Expired tokens of this account are swept here, so the table does not grow forever.
    sqlx::query("DELETE FROM access_token WHERE account_id = $1 AND expires_at <= $2")
        .bind(account_id)
        .bind(db::timestamp(now))
        .execute(&mut tx)
        .await?;
    sqlx::query(
        "INSERT INTO access_token (token_hash, account_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(account_id)
    .bind(db::timestamp(now))
    .bind(&expires_at)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(Session {
        token: Some(token),
        token_type: "Bearer",
        expires_at,
        csrf_token: None,
    })
}

/// How a token is stored: hex SHA-256. Tokens are 256 random bits, so no salt is needed.
pub fn token_hash(token: &str) -> String {
    crate::hex::sha256(token.as_bytes())
}

/// The account a live token belongs to.
pub async fn authenticate(db: &Db, token: &str) -> ApiResult<Account> {
    Ok(authenticate_live(db, token).await?.account)
}

/// An account behind a live token, and when that token expires (RFC 3339, as stored), so a
/// remembered answer can stop at the expiry.
#[derive(Debug, Clone)]
pub struct Live {
    pub account: Account,
    pub expires_at: String,
}

impl Live {
    /// Whether the token is still unexpired.
    pub fn is_live(&self) -> bool {
        self.expires_at > db::timestamp_now()
    }
}

#[derive(sqlx::FromRow)]
struct LiveRow {
    #[sqlx(flatten)]
    account: AccountRow,
    expires_at: String,
}

impl TryFrom<LiveRow> for Live {
    type Error = ApiError;
    fn try_from(row: LiveRow) -> ApiResult<Self> {
        Ok(Live {
            account: row.account.try_into()?,
            expires_at: row.expires_at,
        })
    }
}

/// `authenticate`, with the token's expiry.
pub async fn authenticate_live(db: &Db, token: &str) -> ApiResult<Live> {
    let row: Option<LiveRow> = sqlx::query_as(
        "SELECT a.account_id, a.email, a.role, a.customer_id, a.employee_id, t.expires_at \
         FROM access_token t JOIN account a ON a.account_id = t.account_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(db::timestamp_now())
    // On the primary: a replica behind a logout would still accept the revoked token.
    .fetch_optional(db.primary())
    .await?;
    row.map(Live::try_from).transpose()?.ok_or_else(|| {
        ApiError::Unauthorized("the bearer token is unknown, expired or revoked".into())
    })
}

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

/// The public name of the session a token opened: the first 128 bits of its stored hash.
/// Signed stream URLs carry it, so that logging out revokes them; it reveals nothing of the
/// token, which the hash cannot be turned back into.
pub fn session_id(token: &str) -> String {
    token_hash(token)[..32].to_string()
}

/// The account of `session` (a `session_id`) when that session is live and belongs to
/// `account`; `None` once it is logged out or expired, or when it never was.
pub async fn session_account(db: &Db, account: i64, session: &str) -> ApiResult<Option<Account>> {
    Ok(session_live(db, account, session)
        .await?
        .map(|live| live.account))
}

/// `session_account`, with the session's expiry.
pub async fn session_live(db: &Db, account: i64, session: &str) -> ApiResult<Option<Live>> {
    if session.len() != 32
        || !session
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Ok(None);
    }
    // Hashes starting with `session`: from it (inclusive) to it followed by `g`, which sorts
    // after every hex digit; a range, so the primary key's index serves it on both backends.
    let row: Option<LiveRow> = sqlx::query_as(
        "SELECT a.account_id, a.email, a.role, a.customer_id, a.employee_id, t.expires_at \
         FROM access_token t JOIN account a ON a.account_id = t.account_id \
         WHERE t.token_hash >= $1 AND t.token_hash < $2 AND t.account_id = $3 \
         AND t.revoked_at IS NULL AND t.expires_at > $4 LIMIT 1",
    )
    .bind(session)
    .bind(format!("{session}g"))
    .bind(account)
    .bind(db::timestamp_now())
    // On the primary, as for bearer tokens: a replica behind a logout would still stream.
    .fetch_optional(db.primary())
    .await?;
    row.map(Live::try_from).transpose()
}

/// Revokes a token; later requests with it are 401.
pub async fn logout(db: &Db, token: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE access_token SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
    )
    .bind(db::timestamp_now())
    .bind(token_hash(token))
    .execute(db.writer())
    .await?;
    Ok(())
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
