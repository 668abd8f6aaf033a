//! System methods: `ping`, `getLicense`, `getOpenSubsonicExtensions`, `getUser` (the caller
//! only) and `getScanStatus` (the index is the library; it is never being scanned).

use serde_json::{json, Value};

use super::{Failure, Params};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::Role;

/// The OpenSubsonic extensions this server implements, each with its versions.
pub const EXTENSIONS: &[(&str, &[u32])] = &[("apiKeyAuthentication", &[1]), ("formPost", &[1])];

pub fn extensions() -> Value {
    let list: Vec<Value> = EXTENSIONS
        .iter()
        .map(|(name, versions)| json!({ "name": name, "versions": versions }))
        .collect();
    json!({ "openSubsonicExtensions": list })
}

pub fn license() -> Value {
    json!({ "license": { "valid": true } })
}

pub fn user(account: &Account, params: &Params) -> Result<Value, Failure> {
    if let Some(name) = params.get("username") {
        if !name.trim().eq_ignore_ascii_case(&account.email) {
            return Err(Failure::not_authorized(
                "getUser answers for the signed-in account only",
            ));
        }
    }
    let admin = account.role == Role::Admin;
    let customer = account.role == Role::Customer;
    Ok(json!({ "user": {
        "username": account.email,
        "email": account.email,
        "scrobblingEnabled": true,
        "adminRole": admin,
        "settingsRole": false,
        "downloadRole": true,
        "uploadRole": false,
        "playlistRole": customer,
        "coverArtRole": false,
        "commentRole": false,
        "podcastRole": false,
        "streamRole": true,
        "jukeboxRole": false,
        "shareRole": false,
        "videoConversionRole": false,
        "folder": [super::browse::FOLDER_ID],
    }}))
}

pub fn scan_status(state: &AppState) -> Result<Value, Failure> {
    let index = state.catalog()?;
    Ok(json!({ "scanStatus": { "scanning": false, "count": index.documents() } }))
}
