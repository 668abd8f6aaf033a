//! The OpenSubsonic API (`/rest/{method}`) over the same index, media and store as the REST
//! API: the wire format and its errors, authentication (password, API keys, app passwords),
//! and one module per group of methods. Nothing here builds an HTTP type; `routes::subsonic`
//! turns what `dispatch` answers into a response.

mod album_lists;
mod annotate;
pub mod auth;
mod browse;
pub mod dispatch;
mod entries;
pub mod ids;
mod info;
mod lists;
mod marks;
mod media;
mod offsets;
pub mod params;
mod playlists;
mod reads;
mod search;
mod system;
pub mod wire;
mod xml;

use std::sync::Arc;

pub use dispatch::{dispatch, Reply};
pub use params::Params;
pub use wire::{Failure, Output};

/// What the Subsonic API keeps between requests within one process: list checkpoints that
/// turn offsets into index cursors, facts about albums derived from the index, and recently
/// verified passwords (so a player sending `u`+`p` on every request costs one argon2 check
/// per few minutes, not one per request).
pub struct Shared {
    pub(crate) checkpoints: offsets::Checkpoints,
    pub(crate) albums: entries::AlbumFacts,
    pub(crate) genres: lists::GenreAlbums,
    pub(crate) lengths: playlists::Lengths,
    pub(crate) verified: auth::Verified,
}

impl Shared {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            checkpoints: offsets::Checkpoints::default(),
            albums: entries::AlbumFacts::default(),
            genres: lists::GenreAlbums::default(),
            lengths: playlists::Lengths::default(),
            verified: auth::Verified::default(),
        })
    }
}
