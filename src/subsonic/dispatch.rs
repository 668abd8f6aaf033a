//! One Subsonic request, from its method name and parameters to its answer: the protocol
//! version is checked, the caller authenticated (except for `getOpenSubsonicExtensions`),
//! and the method run. Media methods answer with what to send, for the route to stream.

use std::sync::Arc;

use serde_json::Value;

use super::wire::{Payload, API_VERSION};
use super::{album_lists, annotate, auth, browse, info, lists, media, playlists, search, system};
use super::{Failure, Params, Shared};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::streaming::tracks::Cut;

/// What a request gets.
pub enum Reply {
    /// An envelope: the method's elements, or its error.
    Answer(Result<Payload, Failure>),
    /// A track's audio: the whole file for an owner, else the preview.
    Audio {
        track: i64,
        cut: Cut,
        account: Account,
    },
    /// An album's cover at one of the offered sizes.
    Cover { album: i64, size: u32 },
}

/// Every method served, for `getOpenSubsonicExtensions`-style discovery and for telling an
/// unknown method from a known one.
pub const METHODS: &[&str] = &[
    "ping",
    "getLicense",
    "getOpenSubsonicExtensions",
    "getUser",
    "getScanStatus",
    "getMusicFolders",
    "getIndexes",
    "getMusicDirectory",
    "getArtists",
    "getArtist",
    "getAlbum",
    "getSong",
    "getGenres",
    "getAlbumList2",
    "getRandomSongs",
    "getSongsByGenre",
    "getTopSongs",
    "getStarred2",
    "search3",
    "stream",
    "download",
    "getCoverArt",
    "getPlaylists",
    "getPlaylist",
    "createPlaylist",
    "updatePlaylist",
    "deletePlaylist",
    "star",
    "unstar",
    "setRating",
    "scrobble",
    "getPlayQueue",
    "savePlayQueue",
    "getArtistInfo2",
    "getAlbumInfo2",
    "getSimilarSongs2",
];

/// The method a path names: `ping` and `ping.view` are the same.
pub fn method_name(path: &str) -> &str {
    path.strip_suffix(".view").unwrap_or(path)
}

/// Code 20 when the client speaks an older major version, 30 when it speaks a newer one.
fn check_version(params: &Params) -> Result<(), Failure> {
    let raw = params.required("v")?;
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().unwrap_or("0").parse().ok()?;
        Some((major, minor))
    };
    let (major, minor) = parse(raw).ok_or_else(|| {
        Failure::generic(format!("v must be a version such as 1.16.1, not `{raw}`"))
    })?;
    let (ours_major, ours_minor) = parse(API_VERSION).expect("our version parses");
    if major < ours_major {
        return Err(Failure::client_too_old(format!(
            "this server speaks {API_VERSION}; the client must upgrade"
        )));
    }
    if major > ours_major || minor > ours_minor {
        return Err(Failure::server_too_old(format!(
            "this server speaks {API_VERSION}; the client asked for {raw}"
        )));
    }
    Ok(())
}

fn payload(value: Value) -> Result<Payload, Failure> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Payload::new()),
    }
}

pub async fn dispatch(
    state: &AppState,
    shared: &Arc<Shared>,
    method: &str,
    params: &Params,
    client: &str,
) -> Reply {
    match run(state, shared, method, params, client).await {
        Ok(reply) => reply,
        Err(failure) => Reply::Answer(Err(failure)),
    }
}

async fn run(
    state: &AppState,
    shared: &Arc<Shared>,
    method: &str,
    params: &Params,
    client: &str,
) -> Result<Reply, Failure> {
    if !METHODS.contains(&method) {
        return Err(Failure::not_found(format!(
            "there is no method {method}; this server implements {}",
            METHODS.join(", ")
        )));
    }
    if method == "getOpenSubsonicExtensions" {
        return Ok(Reply::Answer(payload(system::extensions())));
    }
    check_version(params)?;
    let account = auth::authenticate(state, shared, params, client).await?;
    auth::within_allowance(state, &account).await?;
    let answer = |value: Result<Value, Failure>| Ok(Reply::Answer(value.and_then(payload)));
    match method {
        "ping" => answer(Ok(Value::Object(Payload::new()))),
        "getLicense" => answer(Ok(system::license())),
        "getUser" => answer(system::user(&account, params)),
        "getScanStatus" => answer(system::scan_status(state)),
        "getMusicFolders" => answer(Ok(browse::music_folders())),
        "getIndexes" => answer(browse::indexes(state, shared, params).await),
        "getArtists" => answer(browse::artists(state, shared, params).await),
        "getMusicDirectory" => answer(browse::directory(state, shared, &account, params).await),
        "getArtist" => answer(browse::artist(state, shared, &account, params).await),
        "getAlbum" => answer(browse::album(state, shared, &account, params).await),
        "getSong" => answer(browse::song(state, shared, &account, params).await),
        "getGenres" => answer(browse::genres(state, shared).await),
        "getAlbumList2" => answer(
            album_lists::album_list2(state, shared, &account, params)
                .await
                .map(|list| serde_json::json!({ "albumList2": list })),
        ),
        "getRandomSongs" => answer(lists::random_songs(state, shared, &account, params).await),
        "getSongsByGenre" => answer(lists::songs_by_genre(state, shared, &account, params).await),
        "getTopSongs" => answer(lists::top_songs(state, shared, &account, params).await),
        "getStarred2" => answer(lists::starred2(state, shared, &account).await),
        "search3" => answer(search::search3(state, shared, &account, params).await),
        "getPlaylists" => answer(playlists::list(state, shared, &account, params).await),
        "getPlaylist" => answer(playlists::get(state, shared, &account, params).await),
        "createPlaylist" => answer(playlists::create(state, shared, &account, params).await),
        "updatePlaylist" => answer(playlists::update(state, &account, params).await),
        "deletePlaylist" => answer(playlists::delete(state, &account, params).await),
        "star" => answer(annotate::star(state, shared, &account, params, true).await),
        "unstar" => answer(annotate::star(state, shared, &account, params, false).await),
        "setRating" => answer(annotate::set_rating(state, shared, &account, params).await),
        "scrobble" => answer(annotate::scrobble(state, shared, &account, params).await),
        "getPlayQueue" => answer(annotate::play_queue(state, shared, &account).await),
        "savePlayQueue" => answer(annotate::save_play_queue(state, shared, &account, params).await),
        "getArtistInfo2" => answer(info::artist_info2(state, shared, params).await),
        "getAlbumInfo2" => answer(info::album_info2(state, shared, params).await),
        "getSimilarSongs2" => answer(info::similar_songs2(state, shared, &account, params).await),
        "stream" => media::stream(state, account, params).await,
        "download" => media::download(state, account, params).await,
        "getCoverArt" => media::cover(state, shared, params).await,
        other => Err(Failure::not_found(format!("there is no method {other}"))),
    }
}
