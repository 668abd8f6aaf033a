//! What `stream`, `download` and `getCoverArt` serve: which cut of a track a caller gets
//! (the rendition `maxBitRate` and `format` pick for an owner, the preview for anyone else)
//! and which size of a cover.

use std::sync::Arc;

use super::dispatch::Reply;
use super::ids::Id;
use super::{Failure, Params, Shared};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::streaming::access;
use crate::streaming::tracks::Cut;

/// The bit rate of the high-rate MP3 rendition, in kbit/s; the default stream is 128.
const HIGH_KBPS: u64 = 320;

/// The cut an entitled caller's `stream` gets. `format=raw` is the master as stored;
/// `format=flac` the lossless rendition; anything else (`mp3`, none, or a codec this server
/// does not make, which players may ask for) an MP3: 320 kbit/s when `maxBitRate` allows it
/// (0 means no limit), else the 128 kbit/s stream, the lowest rate there is.
fn stream_cut(format: Option<&str>, max_bit_rate: Option<u64>) -> Cut {
    match format.map(str::trim) {
        Some(f) if f.eq_ignore_ascii_case("raw") => Cut::Master,
        Some(f) if f.eq_ignore_ascii_case("flac") => Cut::Download,
        _ => match max_bit_rate {
            Some(0) => Cut::StreamHigh,
            Some(kbps) if kbps >= HIGH_KBPS => Cut::StreamHigh,
            Some(_) | None => Cut::Stream,
        },
    }
}

fn track_of(params: &Params) -> Result<i64, Failure> {
    Id::expect("id", params.required("id")?, Id::Track)
}

/// An owner (or staff) gets the cut `format` and `maxBitRate` pick; anyone else the
/// preview, whatever they asked for.
pub async fn stream(state: &AppState, account: Account, params: &Params) -> Result<Reply, Failure> {
    let track = track_of(params)?;
    let max_bit_rate = params.number::<u64>("maxBitRate")?;
    // Every rendition starts at the beginning; the offset is checked, not honoured.
    params.number::<u64>("timeOffset")?;
    let entitled = access::entitled(&state.db, &state.warm, &account, track).await?;
    let cut = if entitled {
        stream_cut(params.get("format"), max_bit_rate)
    } else {
        Cut::Preview
    };
    Ok(Reply::Audio {
        track,
        cut,
        account,
    })
}

/// The lossless FLAC for an owner (or staff); code 50 for anyone else.
pub async fn download(
    state: &AppState,
    account: Account,
    params: &Params,
) -> Result<Reply, Failure> {
    let track = track_of(params)?;
    if !access::entitled(&state.db, &state.warm, &account, track).await? {
        return Err(Failure::not_authorized(format!(
            "song tr-{track} is not in your library: buy it to download it"
        )));
    }
    Ok(Reply::Audio {
        track,
        cut: Cut::Download,
        account,
    })
}

/// Covers come in fixed sizes: the smallest that is at least as large as asked, else the
/// largest.
pub async fn cover(
    state: &AppState,
    shared: &Arc<Shared>,
    params: &Params,
) -> Result<Reply, Failure> {
    use crate::media::cover::{DEFAULT_SIZE, SIZES};
    let raw = params.required("id")?;
    let album = match Id::parse(raw) {
        Some(Id::Album(id)) => id,
        Some(Id::Track(id)) => {
            let track = super::reads::on_index(state, shared, move |index, _, _| {
                super::entries::entry(index, crate::catalog::Kind::Track, id)
            })
            .await?
            .ok_or_else(|| Failure::not_found(format!("there is no song {raw}")))?;
            super::entries::int(&track, "album_id")
                .ok_or_else(|| Failure::not_found(format!("song {raw} has no album cover")))?
        }
        _ => return Err(Failure::not_found(format!("{raw} names no cover art"))),
    };
    let size = match params.number::<u32>("size")? {
        None => DEFAULT_SIZE,
        Some(asked) => SIZES
            .iter()
            .copied()
            .find(|s| *s >= asked)
            .unwrap_or(SIZES[SIZES.len() - 1]),
    };
    Ok(Reply::Cover { album, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_bit_rate_pick_the_rendition() {
        assert_eq!(stream_cut(None, None), Cut::Stream);
        assert_eq!(stream_cut(Some("mp3"), Some(128)), Cut::Stream);
        assert_eq!(stream_cut(Some("mp3"), Some(96)), Cut::Stream);
        assert_eq!(stream_cut(None, Some(0)), Cut::StreamHigh);
        assert_eq!(stream_cut(None, Some(320)), Cut::StreamHigh);
        assert_eq!(stream_cut(Some("opus"), Some(256)), Cut::Stream);
        assert_eq!(stream_cut(Some("flac"), Some(128)), Cut::Download);
        assert_eq!(stream_cut(Some("raw"), Some(128)), Cut::Master);
        assert_eq!(stream_cut(Some("RAW"), None), Cut::Master);
    }
}
