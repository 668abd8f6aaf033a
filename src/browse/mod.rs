//! The catalog's read API, served from the index: lists with their sorts, filters, cursors,
//! `fields=` and `include=`, details, search and suggest, and public playlists' tracks. It
//! shapes answers; the index engine (`search`) finds what goes in them.

mod filters;
mod includes;
pub mod list;
pub mod playlists;
pub mod search;
