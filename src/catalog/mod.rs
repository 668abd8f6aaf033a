//! The catalog: artists, albums, tracks, genres, media types and playlists. Their API
//! representations live here, with the SQL that reads them to build the search index; reads
//! of the API are served from that index (see `search`), never from SQL.

pub mod changes;
pub mod export;
mod load;
pub mod playlists;
pub mod taxonomy;
pub mod write;

pub use crate::model::{Album, Artist, Entry, Group, Kind, Record, Track};

pub use load::{load, terms, Scope};

/// The key that signs list cursors, shared by every instance through the database.
pub async fn cursor_secret(db: &crate::db::Db) -> anyhow::Result<Vec<u8>> {
    crate::db::shared_secret(db, "cursor_secret").await
}
