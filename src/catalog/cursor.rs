//! Opaque list cursors: a keyset position bound to the query that made it and signed with
//! the catalog's secret, so a tampered cursor, or one from another query, is a 400.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::list::bad;
use crate::error::ApiResult;
use crate::search::Key;

#[derive(Serialize, Deserialize)]
struct CursorBody {
    q: String,
    k: Key,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload);
    mac
}

pub(crate) fn encode_cursor(key: &Key, fingerprint: &str, secret: &[u8]) -> String {
    let query = format!("{:x}", Sha256::digest(fingerprint.as_bytes()));
    let body = serde_json::to_vec(&CursorBody {
        q: query[..16].to_string(),
        k: key.clone(),
    })
    .expect("cursors serialise");
    let tag = mac(secret, &body).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&body),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

pub(crate) fn decode_cursor(cursor: &str, fingerprint: &str, secret: &[u8]) -> ApiResult<Key> {
    let invalid = || bad("the cursor is not one this service issued; start again without it");
    let (body, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(secret, &body)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let parsed: CursorBody = serde_json::from_slice(&body).map_err(|_| invalid())?;
    let query = format!("{:x}", Sha256::digest(fingerprint.as_bytes()));
    if parsed.q != query[..16] {
        return Err(bad(
            "the cursor belongs to a list with other filters or another sort",
        ));
    }
    Ok(parsed.k)
}
