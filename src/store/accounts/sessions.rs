//! Sessions: login, bearer tokens and how they are stored, who a live token or session belongs
//! to, and logout.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::TryRng;

use super::{Account, AccountRow, Session};
use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};
use crate::store::password;

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
    let Some(email) = crate::store::email::for_login(email) else {
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
