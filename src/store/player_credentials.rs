//! How Subsonic players sign in: the account password checked as at login, API keys (stored
//! hashed, shown once, revocable) and one app password per account for token auth. Token
//! auth needs the secret itself (the client sends md5(secret + salt)), so the app password
//! is stored encrypted with XChaCha20-Poly1305 under the configured key, the account id
//! bound in as associated data; the account password is never usable for tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use md5::{Digest as _, Md5};
use rand::Rng;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::accounts::{self, normalize_email, Account};
use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};

/// Most live API keys one account may hold.
pub const MAX_KEYS: i64 = 20;
const MAX_NAME_CHARS: usize = 80;

/// The key app passwords are encrypted under: 32 bytes from configuration.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl SealKey {
    /// From 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self, String> {
        crate::hex::decode_key(hex).map(Self)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// The account id and password hash behind an email, for a password check.
pub async fn password_of(db: &Db, email: &str) -> ApiResult<Option<(i64, String)>> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    let found = sqlx::query("SELECT account_id, password_hash FROM account WHERE email = $1")
        .bind(&email)
        // On the primary: an account registered a moment ago can sign in at once.
        .fetch_optional(db.primary())
        .await?;
    found
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
        .map_err(|e: sqlx::Error| e.into())
}

/// An account by its email (for token auth, which proves itself otherwise).
pub async fn by_email(db: &Db, email: &str) -> ApiResult<Option<Account>> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    let id: Option<i64> = sqlx::query_scalar("SELECT account_id FROM account WHERE email = $1")
        .bind(&email)
        .fetch_optional(db.primary())
        .await?;
    match id {
        Some(id) => accounts::by_id(db, id).await,
        None => Ok(None),
    }
}

fn random_secret(prefix: &str, bytes: usize) -> String {
    let mut secret = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut secret);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(secret))
}

/// An API key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// A key just created: the only time `key` is shown.
#[derive(Serialize, ToSchema)]
pub struct NewApiKey {
    pub id: i64,
    pub name: String,
    /// Send it as the `apiKey` parameter. Stored only as a hash: it cannot be shown again.
    pub key: String,
    pub created_at: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

fn key_name(raw: &str) -> ApiResult<String> {
    // The length is of the name as sent, as the OpenAPI document's `maxLength` says.
    let long = raw.chars().count() > MAX_NAME_CHARS;
    let name = raw.trim();
    if name.is_empty() {
        return Err(ApiError::Validation("name is required".into()));
    }
    // Shown on the account page like any name: no bidirectional controls, not only blanks.
    if let Some(problem) = crate::text::name_problem("name", name) {
        return Err(ApiError::Validation(problem));
    }
    if long || name.chars().any(char::is_control) {
        return Err(ApiError::Validation(format!(
            "name must be at most {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

pub async fn create_key(db: &Db, account: i64, name: &str) -> ApiResult<NewApiKey> {
    let name = key_name(name)?;
    let key = random_secret("chs_", 32);
    let created_at = db::timestamp_now();
    let mut tx = db.writer().begin().await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM subsonic_api_key WHERE account_id = $1 AND revoked_at IS NULL",
    )
    .bind(account)
    .fetch_one(&mut tx)
    .await?;
    if live >= MAX_KEYS {
        return Err(ApiError::Conflict(format!(
            "this account has {MAX_KEYS} API keys already; revoke one first"
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO subsonic_api_key (account_id, name, key_hash, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING key_id",
    )
    .bind(account)
    .bind(&name)
    .bind(accounts::token_hash(&key))
    .bind(&created_at)
    .fetch_one(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(NewApiKey {
        id,
        name,
        key,
        created_at,
    })
}

/// The account's live keys, oldest first (at most `MAX_KEYS`).
pub async fn list_keys(db: &Db, account: i64) -> ApiResult<Vec<ApiKey>> {
    let rows = sqlx::query(
        "SELECT key_id, name, created_at FROM subsonic_api_key \
         WHERE account_id = $1 AND revoked_at IS NULL ORDER BY key_id",
    )
    .bind(account)
    .fetch_all(db.primary())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ApiKey {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                created_at: row.try_get(2)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Revokes one of the account's keys; another account's key, or none, is a 404.
pub async fn revoke_key(db: &Db, account: i64, id: i64) -> ApiResult<()> {
    let done = sqlx::query(
        "UPDATE subsonic_api_key SET revoked_at = $1 \
         WHERE key_id = $2 AND account_id = $3 AND revoked_at IS NULL",
    )
    .bind(db::timestamp_now())
    .bind(id)
    .bind(account)
    .execute(db.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!(
            "you have no API key with id {id}"
        )));
    }
    Ok(())
}

/// The account a live API key belongs to.
pub async fn by_key(db: &Db, key: &str) -> ApiResult<Option<Account>> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT account_id FROM subsonic_api_key WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(accounts::token_hash(key))
    // On the primary: a replica behind a revocation would still accept the key.
    .fetch_optional(db.primary())
    .await?;
    match id {
        Some(id) => accounts::by_id(db, id).await,
        None => Ok(None),
    }
}

/// An app password just made: shown once, though it stays recoverable to the server.
#[derive(Serialize, ToSchema)]
pub struct NewAppPassword {
    /// Enter it as the password in the player.
    pub password: String,
    pub created_at: String,
}

impl std::fmt::Debug for NewAppPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewAppPassword([redacted])")
    }
}

fn aad(account: i64) -> Vec<u8> {
    format!("chinook subsonic app password for account {account}").into_bytes()
}

/// Makes (or replaces) the account's app password.
pub async fn set_app_password(db: &Db, key: &SealKey, account: i64) -> ApiResult<NewAppPassword> {
    // 18 bytes: 24 characters a person can type into a player, 144 random bits.
    let password = random_secret("", 18);
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: password.as_bytes(),
                aad: &aad(account),
            },
        )
        .map_err(|_| anyhow::anyhow!("encrypting an app password failed"))?;
    let created_at = db::timestamp_now();
    let mut tx = db.writer().begin().await?;
    sqlx::query("DELETE FROM subsonic_app_password WHERE account_id = $1")
        .bind(account)
        .execute(&mut tx)
        .await?;
    sqlx::query(
        "INSERT INTO subsonic_app_password (account_id, nonce, ciphertext, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(account)
    .bind(URL_SAFE_NO_PAD.encode(nonce))
    .bind(URL_SAFE_NO_PAD.encode(sealed))
    .bind(&created_at)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(NewAppPassword {
        password,
        created_at,
    })
}

/// When the account's app password was made, if it has one (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct AppPassword {
    /// RFC 3339 UTC.
    pub created_at: String,
}

pub async fn app_password_made(db: &Db, account: i64) -> ApiResult<Option<AppPassword>> {
    // From the primary, as the keys are: the page asks right after making or removing one.
    let created_at: Option<String> =
        sqlx::query_scalar("SELECT created_at FROM subsonic_app_password WHERE account_id = $1")
            .bind(account)
            .fetch_optional(db.primary())
            .await?;
    Ok(created_at.map(|created_at| AppPassword { created_at }))
}

pub async fn delete_app_password(db: &Db, account: i64) -> ApiResult<bool> {
    let done = sqlx::query("DELETE FROM subsonic_app_password WHERE account_id = $1")
        .bind(account)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The account's app password in clear, when it has one. A row that does not decrypt
/// (another key configured since) counts as none, and is logged.
pub async fn app_password(db: &Db, key: &SealKey, account: i64) -> ApiResult<Option<String>> {
    let row =
        sqlx::query("SELECT nonce, ciphertext FROM subsonic_app_password WHERE account_id = $1")
            .bind(account)
            .fetch_optional(db.primary())
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let nonce: String = row.try_get(0)?;
    let sealed: String = row.try_get(1)?;
    let (Ok(nonce), Ok(sealed)) = (
        URL_SAFE_NO_PAD.decode(nonce),
        URL_SAFE_NO_PAD.decode(sealed),
    ) else {
        tracing::error!(account, "a stored app password is not base64");
        return Ok(None);
    };
    if nonce.len() != 24 {
        tracing::error!(account, "a stored app password has a bad nonce");
        return Ok(None);
    }
    let opened = key.cipher().decrypt(
        XNonce::from_slice(&nonce),
        Payload {
            msg: &sealed,
            aad: &aad(account),
        },
    );
    match opened.ok().and_then(|bytes| String::from_utf8(bytes).ok()) {
        Some(password) => Ok(Some(password)),
        None => {
            tracing::error!(
                account,
                "a stored app password does not decrypt under the configured key"
            );
            Ok(None)
        }
    }
}

/// Whether `token` is md5(`secret` + `salt`) in hex, compared in constant time.
pub fn token_matches(secret: &str, salt: &str, token: &str) -> bool {
    let mut hasher = Md5::new();
    hasher.update(secret.as_bytes());
    hasher.update(salt.as_bytes());
    let expected = format!("{:x}", hasher.finalize());
    constant_eq(
        expected.as_bytes(),
        token.trim().to_ascii_lowercase().as_bytes(),
    )
}

pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_md5_of_secret_and_salt() {
        // The spec's own example: password "sesame", salt "c19b2d".
        assert!(token_matches(
            "sesame",
            "c19b2d",
            "26719a1196d2a940705a59634eb18eab"
        ));
        assert!(!token_matches(
            "sesame",
            "c19b2e",
            "26719a1196d2a940705a59634eb18eab"
        ));
    }

    #[test]
    fn seal_keys_are_64_hex_digits() {
        assert!(SealKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(SealKey::from_hex("abc").is_err());
        assert!(SealKey::from_hex(&"zz".repeat(32)).is_err());
    }
}
