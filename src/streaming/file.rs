//! Reading a file range as a stream of chunks whose size follows the listener: small while
//! the client drains slowly, growing to the configured chunk size while it keeps up.
//!
//! A fixed chunk costs its whole size per connection for as long as a slow client takes to
//! drain it (actix copies each chunk into the connection's write buffer), so a thousand slow
//! listeners at 128 KiB would hold hundreds of megabytes; a fast client, though, wants big
//! chunks, since every read is a round trip through the blocking pool. Reads are positional
//! (`pread`) on the blocking pool, into a buffer of exactly the chunk's size, with no second
//! buffer kept between reads; tokio-util's `poll_read_buf` fills it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::task::JoinHandle;

/// The smallest chunk, and the first.
pub const MIN_CHUNK: usize = 16 * 1024;
/// A client that asks for the next chunk this soon is keeping up: the chunk doubles.
const KEEPING_UP: Duration = Duration::from_millis(5);
/// One that takes this long is slow: the chunk halves.
const FALLING_BEHIND: Duration = Duration::from_millis(100);

/// `pread` on the blocking pool: each read fills at most what the caller's buffer has room
/// for, at the next position.
struct PositionalReader {
    file: Arc<std::fs::File>,
    position: u64,
    end: u64,
    pending: Option<JoinHandle<io::Result<Vec<u8>>>>,
}

impl AsyncRead for PositionalReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            let wanted = (this.end - this.position).min(buf.remaining() as u64) as usize;
            if wanted == 0 {
                return Poll::Ready(Ok(()));
            }
            let file = this.file.clone();
            let at = this.position;
            this.pending = Some(tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::FileExt;
                let mut data = vec![0u8; wanted];
                let mut filled = 0;
                while filled < wanted {
                    match file.read_at(&mut data[filled..], at + filled as u64)? {
                        0 => break,
                        n => filled += n,
                    }
                }
                data.truncate(filled);
                Ok(data)
            }));
        }
        let pending = this.pending.as_mut().expect("a read is pending");
        let result = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        this.pending = None;
        let data = result.map_err(io::Error::other)??;
        if data.is_empty() {
            // The file is shorter than its row says: fail once rather than send short.
            this.position = this.end;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file ended before the range did",
            )));
        }
        this.position += data.len() as u64;
        buf.put_slice(&data);
        Poll::Ready(Ok(()))
    }
}

use std::future::Future;

/// The bytes `offset..offset + len` of `file`, in chunks from `MIN_CHUNK` up to `max_chunk`.
pub struct Chunks {
    reader: PositionalReader,
    max_chunk: usize,
    chunk: usize,
    buf: Option<BytesMut>,
    /// When the last chunk was handed over, to tell how fast the client takes them.
    handed: Option<Instant>,
}

impl Chunks {
    pub fn new(file: std::fs::File, offset: u64, len: u64, max_chunk: usize) -> Self {
        Self {
            reader: PositionalReader {
                file: Arc::new(file),
                position: offset,
                end: offset + len,
                pending: None,
            },
            max_chunk: max_chunk.max(MIN_CHUNK),
            chunk: MIN_CHUNK,
            buf: None,
            handed: None,
        }
    }
}

impl Stream for Chunks {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.reader.position >= this.reader.end && this.reader.pending.is_none() {
            return Poll::Ready(None);
        }
        if this.buf.is_none() {
            if let Some(handed) = this.handed {
                let waited = handed.elapsed();
                if waited <= KEEPING_UP {
                    this.chunk = (this.chunk * 2).min(this.max_chunk);
                } else if waited >= FALLING_BEHIND {
                    this.chunk = (this.chunk / 2).max(MIN_CHUNK);
                }
            }
            this.buf = Some(BytesMut::with_capacity(this.chunk));
        }
        let buf = this.buf.as_mut().expect("a buffer is ready");
        match tokio_util::io::poll_read_buf(Pin::new(&mut this.reader), cx, buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                this.buf = None;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(0)) => Poll::Ready(None),
            Poll::Ready(Ok(_)) => {
                let chunk = this.buf.take().expect("a buffer was read into").freeze();
                this.handed = Some(Instant::now());
                Poll::Ready(Some(Ok(chunk)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_range_is_read_whole_in_chunks_that_grow_for_a_fast_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let chunks: Vec<Bytes> = Chunks::new(file, 1000, 900_000, 256 * 1024)
            .map(|c| c.unwrap())
            .collect()
            .await;
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(joined, content[1000..901_000]);
        assert_eq!(chunks[0].len(), MIN_CHUNK);
        assert!(chunks.iter().all(|c| c.len() <= 256 * 1024));
        assert!(
            chunks.iter().any(|c| c.len() > MIN_CHUNK),
            "a fast reader gets bigger chunks"
        );
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_is_an_error_not_a_short_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [1u8; 100]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let results: Vec<io::Result<Bytes>> = Chunks::new(file, 0, 200, MIN_CHUNK).collect().await;
        assert!(results.last().unwrap().is_err());
    }
}
