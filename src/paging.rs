//! Pages of lists: the `limit` parameter, and opaque cursors. A cursor is a keyset position
//! bound to the query that made it and signed with the service's secret, so a tampered
//! cursor, or one from another query, is a 400. Index lists and SQL lists share them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

/// The query parameters of a list with nothing to filter: `limit` and `cursor`. Any other
/// parameter is a 400 rather than ignored.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Entries per page, 1 to 100 (default 25).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a list is: pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub limit: usize,
}

/// A page of a list read from SQL: `{"data": [...], "page": {...}}`, as every list answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
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
        limit_param: Option<&str>,
        cursor: Option<&str>,
        fingerprint: String,
        secret: &[u8],
    ) -> ApiResult<Self> {
        let limit = limit(limit_param)?;
        let after = cursor
            .map(|c| decode_cursor(c, &fingerprint, secret))
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
    pub fn finish<T>(self, mut rows: Vec<T>, key: impl Fn(&T) -> K, secret: &[u8]) -> Paged<T> {
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(encode_cursor(&key(last), &self.fingerprint, secret)),
            _ => None,
        };
        Paged {
            data: rows,
            page: PageInfo {
                next_cursor,
                limit: self.limit,
            },
        }
    }
}

/// A page's length when the client does not say.
pub const DEFAULT_LIMIT: usize = 25;
/// The longest page; more is a 400.
pub const MAX_LIMIT: usize = 100;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// The `limit` parameter: `DEFAULT_LIMIT` when absent, else a whole number from 1 to
/// `MAX_LIMIT`.
pub fn limit(raw: Option<&str>) -> ApiResult<usize> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(bad(format!(
                "limit must be a whole number from 1 to {MAX_LIMIT}, not `{raw}`"
            ))),
        },
    }
}

#[derive(Serialize, Deserialize)]
struct CursorBody<K> {
    q: String,
    k: K,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload);
    mac
}

pub fn encode_cursor<K: Serialize>(key: &K, fingerprint: &str, secret: &[u8]) -> String {
    let query = crate::hex::sha256(fingerprint.as_bytes());
    let body = serde_json::to_vec(&CursorBody {
        q: query[..16].to_string(),
        k: key,
    })
    .expect("cursors serialise");
    let tag = mac(secret, &body).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&body),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

pub fn decode_cursor<K: DeserializeOwned>(
    cursor: &str,
    fingerprint: &str,
    secret: &[u8],
) -> ApiResult<K> {
    let invalid = || bad("the cursor is not one this service issued; start again without it");
    let (body, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(secret, &body)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let parsed: CursorBody<K> = serde_json::from_slice(&body).map_err(|_| invalid())?;
    let query = crate::hex::sha256(fingerprint.as_bytes());
    if parsed.q != query[..16] {
        return Err(bad(
            "the cursor belongs to a list with other filters or another sort",
        ));
    }
    Ok(parsed.k)
}
