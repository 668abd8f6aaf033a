//! HTTP byte ranges of one file of known length (RFC 9110 §14): reading `Range`, framing multipart/byteranges.

mod header;
mod multipart;
#[cfg(test)]
mod tests;

pub use header::parse;
pub use multipart::Multipart;

/// An inclusive byte range within a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// How many bytes the range covers; 0 when `end < start`, which `parse` never returns.
    pub fn len(&self) -> u64 {
        if self.is_empty() {
            0
        } else {
            // Saturates only for `0..=u64::MAX`, a range no file can hold.
            (self.end - self.start).saturating_add(1)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.end < self.start
    }

    /// `bytes start-end/total`, for a 206 response or a multipart/byteranges part.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, total)
    }
}

/// `bytes */len`, the `Content-Range` of a 416 response.
pub fn unsatisfied_content_range(len: u64) -> String {
    format!("bytes */{len}")
}

/// What to send for a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranges {
    /// Serve the whole file with 200: no Range header, a syntactically invalid one, a unit other
    /// than bytes, or a request the server declines (more than [`MAX_RANGES`] ranges, or ranges
    /// whose lengths add up to more than the file).
    Full,
    /// 206: one range (sorted, coalesced), or several for multipart/byteranges. Never empty; the
    /// ranges are sorted, within the file, and neither overlap nor touch.
    Partial(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */LEN` (see [`unsatisfied_content_range`]).
    Unsatisfiable,
}

/// Most ranges one request may ask for before the whole file is sent instead.
pub const MAX_RANGES: usize = 16;
