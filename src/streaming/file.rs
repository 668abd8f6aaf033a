//! Reading a file range as a stream of chunks whose size follows the listener: small while
//! the client drains slowly, growing while it keeps up, and past `STEADY_CHUNK` only for a
//! client that has proved itself fast over many megabytes.
//!
//! Memory is what a chunk costs: actix copies each chunk into the connection's write buffer
//! and keeps it until the client has taken it, so a listener who stalls holds the last chunk
//! it was handed. A slow listener's socket buffers swallow the first few megabytes at once,
//! which looks fast, so growth beyond `STEADY_CHUNK` waits until a client has taken more
//! than any socket buffer holds (`PROVEN_BYTES`) at `PROVEN_RATE`. Big chunks, in turn, are
//! what a fast client needs: fewer reads, fewer wake-ups.
//!
//! Reads are positional (`pread`). On Linux a read is first tried on the async thread with
//! `RWF_NOWAIT`, which succeeds only from the page cache and so cannot block; a read that
//! would wait for the disk goes to the blocking pool. tokio-util's `poll_read_buf` fills
//! the chunk.

use std::future::Future;
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
/// The largest chunk for a client that has not yet proved itself fast.
pub const STEADY_CHUNK: usize = 128 * 1024;
/// A client proves itself fast by taking this much more than any socket buffer holds...
const PROVEN_BYTES: u64 = 16 << 20;
/// ...at this average rate, in bytes per second, since its stream began.
const PROVEN_RATE: u64 = 64 << 20;
/// A client that asks for the next chunk this soon is keeping up: the chunk doubles.
const KEEPING_UP: Duration = Duration::from_millis(5);
/// One that takes this long is slow: the chunk halves.
const FALLING_BEHIND: Duration = Duration::from_millis(100);

/// What a read on the async thread gave.
enum Nowait {
    /// This many bytes were copied into the buffer from the page cache.
    Read(usize),
    /// The bytes are not all in the page cache: read on the blocking pool.
    WouldBlock,
    /// The kernel or file system has no `RWF_NOWAIT` reads: stop trying them.
    Unsupported,
    /// The file ends here.
    End,
}

/// `preadv2(..., RWF_NOWAIT)` into the unfilled part of `buf`.
#[cfg(target_os = "linux")]
fn read_cached(
    file: &std::fs::File,
    at: u64,
    buf: &mut ReadBuf<'_>,
    wanted: usize,
) -> io::Result<Nowait> {
    use std::os::fd::AsRawFd;
    let Ok(offset) = libc::off_t::try_from(at) else {
        return Ok(Nowait::Unsupported);
    };
    // SAFETY: the iovec covers `wanted` bytes of the buffer's unfilled, writable part (which
    // `wanted` never exceeds); the kernel writes at most that many bytes into it, and only
    // the count it reports is marked initialised and filled.
    let n = unsafe {
        let unfilled = buf.unfilled_mut();
        let iov = libc::iovec {
            iov_base: unfilled.as_mut_ptr().cast(),
            iov_len: wanted.min(unfilled.len()),
        };
        libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT)
    };
    if n < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            // Not cached, or a signal came first: the blocking pool reads it either way.
            Some(libc::EAGAIN | libc::EINTR) => Ok(Nowait::WouldBlock),
            Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => Ok(Nowait::Unsupported),
            _ => Err(error),
        };
    }
    let n = n as usize;
    if n == 0 {
        return Ok(Nowait::End);
    }
    // SAFETY: the kernel initialised the first `n` bytes of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(Nowait::Read(n))
}

#[cfg(not(target_os = "linux"))]
fn read_cached(_: &std::fs::File, _: u64, _: &mut ReadBuf<'_>, _: usize) -> io::Result<Nowait> {
    Ok(Nowait::Unsupported)
}

/// Positional reads of `position..end`: each fills at most what the caller's buffer has
/// room for.
struct PositionalReader {
    file: Arc<std::fs::File>,
    position: u64,
    end: u64,
    /// Cleared once the file system refuses `RWF_NOWAIT` reads, so they are not retried.
    try_cached: bool,
    pending: Option<JoinHandle<io::Result<Vec<u8>>>>,
}

impl PositionalReader {
    fn short_file(&mut self) -> io::Error {
        // The file is shorter than its row says: fail once rather than send short.
        self.position = self.end;
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file ended before the range did",
        )
    }
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
            if this.try_cached {
                match read_cached(&this.file, this.position, buf, wanted) {
                    Ok(Nowait::Read(n)) => {
                        this.position += n as u64;
                        return Poll::Ready(Ok(()));
                    }
                    Ok(Nowait::End) => return Poll::Ready(Err(this.short_file())),
                    Ok(Nowait::WouldBlock) => {}
                    Ok(Nowait::Unsupported) => this.try_cached = false,
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            let file = this.file.clone();
            let at = this.position;
            this.pending = Some(tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::FileExt;
                let mut data = vec![0u8; wanted];
                let mut filled = 0;
                while filled < wanted {
                    match file.read_at(&mut data[filled..], at + filled as u64) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
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
            return Poll::Ready(Err(this.short_file()));
        }
        // A caller may poll again with less room than the read was sized for; what does not
        // fit is read again next time, from the position (reads are positional).
        let fits = data.len().min(buf.remaining());
        this.position += fits as u64;
        buf.put_slice(&data[..fits]);
        Poll::Ready(Ok(()))
    }
}

/// The bytes `offset..offset + len` of `file`, in chunks from `MIN_CHUNK` up to `max_chunk`.
/// A range the client asked for that fits in one `max_chunk` is one chunk: a seek or a
/// player's next piece is then one read and one hand-over instead of a slow start of five
/// or more (16, 32, 64, 128, 128... KiB), the cost that kept 1 MiB ranges under half of
/// nginx's rate. A stalled reader of such a range holds at most `max_chunk` until the send
/// timeout; whole files and open ranges (`bytes=0-`, what `<audio>` asks for) keep the slow
/// start that keeps a thousand slow listeners small.
pub struct Chunks {
    reader: PositionalReader,
    max_chunk: usize,
    chunk: usize,
    buf: Option<BytesMut>,
    /// When the last chunk was handed over, to tell how fast the client takes them.
    handed: Option<Instant>,
    /// When the stream was opened, and how much has been handed over since.
    started: Instant,
    sent: u64,
}

impl Chunks {
    pub fn new(
        file: Arc<std::fs::File>,
        offset: u64,
        len: u64,
        max_chunk: usize,
        asked: bool,
    ) -> Self {
        let max_chunk = max_chunk.max(MIN_CHUNK);
        let first = if asked && len <= max_chunk as u64 {
            (len as usize).max(MIN_CHUNK)
        } else {
            MIN_CHUNK
        };
        Self {
            reader: PositionalReader {
                file,
                position: offset,
                end: offset + len,
                try_cached: true,
                pending: None,
            },
            max_chunk,
            chunk: first,
            buf: None,
            handed: None,
            started: Instant::now(),
            sent: 0,
        }
    }

    /// The largest chunk this client has earned: `STEADY_CHUNK` until it has taken more than
    /// socket buffers hold, quickly.
    fn ceiling(&self) -> usize {
        let proven = self.sent >= PROVEN_BYTES && {
            let micros = self.started.elapsed().as_micros().max(1);
            u128::from(self.sent) * 1_000_000 / micros >= u128::from(PROVEN_RATE)
        };
        if proven {
            self.max_chunk
        } else {
            self.max_chunk.min(STEADY_CHUNK)
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
                    this.chunk *= 2;
                } else if waited >= FALLING_BEHIND {
                    this.chunk = (this.chunk / 2).max(MIN_CHUNK);
                }
                // A client that slows down loses its proof, and its big chunks with it.
                this.chunk = this.chunk.min(this.ceiling());
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
                this.sent += chunk.len() as u64;
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
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        let chunks: Vec<Bytes> = Chunks::new(file, 1000, 900_000, 256 * 1024, false)
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
    async fn an_asked_range_that_fits_in_a_chunk_is_one_chunk_and_a_larger_one_starts_small() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        let chunks = |offset: u64, len: u64, asked: bool| {
            Chunks::new(file.clone(), offset, len, 1 << 20, asked)
                .map(|c| c.unwrap())
                .collect::<Vec<Bytes>>()
        };
        let one = chunks(123_456, 1 << 20, true).await;
        assert_eq!(one.len(), 1, "a 1 MiB range is one read and one hand-over");
        assert_eq!(one[0][..], content[123_456..123_456 + (1 << 20)]);
        let larger = chunks(0, 2 << 20, true).await;
        assert_eq!(
            larger[0].len(),
            MIN_CHUNK,
            "past a chunk, the slow start holds"
        );
        let whole = chunks(0, 1 << 20, false).await;
        assert_eq!(
            whole[0].len(),
            MIN_CHUNK,
            "a whole file keeps the slow start"
        );
    }

    #[tokio::test]
    async fn chunks_pass_the_steady_size_only_after_many_fast_megabytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let len = PROVEN_BYTES as usize * 2;
        let content: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        let chunks: Vec<Bytes> = Chunks::new(file, 0, len as u64, 1 << 20, false)
            .map(|c| c.unwrap())
            .collect()
            .await;
        let mut sent = 0;
        let mut largest_before_proof = 0;
        for chunk in &chunks {
            if sent < PROVEN_BYTES as usize {
                largest_before_proof = largest_before_proof.max(chunk.len());
            }
            sent += chunk.len();
        }
        assert_eq!(sent, len);
        assert!(largest_before_proof <= STEADY_CHUNK);
        assert!(
            chunks.iter().any(|c| c.len() > STEADY_CHUNK),
            "a reader this fast earns the configured chunk"
        );
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert!(joined == content, "every byte arrives in order");
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_is_an_error_not_a_short_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [1u8; 100]).unwrap();
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        let results: Vec<io::Result<Bytes>> =
            Chunks::new(file, 0, 200, MIN_CHUNK, false).collect().await;
        assert!(results.last().unwrap().is_err());
    }
}
