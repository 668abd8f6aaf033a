//! Framing several ranges as one multipart/byteranges body (RFC 9110 §14.6, RFC 2046).

use super::ByteRange;

/// The multipart/byteranges body's framing: for each range, the part header that precedes its
/// bytes; and the closing delimiter.
///
/// The body is `parts[0].0`, the bytes of `parts[0].1`, `parts[1].0`, ..., `closing`. The first
/// part header starts with `--boundary`; every later one starts with the CRLF that, by RFC 2046,
/// belongs to the delimiter ending the previous part's bytes. That is what Go's mime/multipart
/// writes, and leaves no preamble for a strict parser to stumble on.
///
/// The boundary should be 1 to 70 of RFC 2046's bchars and not occur in the file (a random one
/// does); `Multipart` frames whatever it is given and leaves that choice to the caller.
pub struct Multipart {
    pub boundary: String,
    /// Each part's header (delimiter, `Content-Type`, `Content-Range`, blank line) and its range.
    pub parts: Vec<(String, ByteRange)>,
    pub closing: String,
}

impl Multipart {
    /// The framing of `ranges` of a file of `total` bytes whose type is `content_type`.
    ///
    /// RFC 9110 §14.6 wants at least two ranges here: one range is a plain 206.
    pub fn new(ranges: &[ByteRange], total: u64, content_type: &str, boundary: &str) -> Self {
        // An empty type means the file would have had none in a 200 either (RFC 9110 §14.6); a
        // type with control characters would break the framing, so it is left out as well.
        let type_line = if content_type.is_empty()
            || content_type.chars().any(|c| c.is_control() && c != '\t')
        {
            String::new()
        } else {
            format!("Content-Type: {content_type}\r\n")
        };
        let parts: Vec<(String, ByteRange)> = ranges
            .iter()
            .enumerate()
            .map(|(i, range)| {
                let crlf = if i == 0 { "" } else { "\r\n" };
                let header = format!(
                    "{crlf}--{boundary}\r\n{type_line}Content-Range: {}\r\n\r\n",
                    range.content_range(total)
                );
                (header, *range)
            })
            .collect();
        let crlf = if parts.is_empty() { "" } else { "\r\n" };
        Multipart {
            boundary: boundary.to_owned(),
            closing: format!("{crlf}--{boundary}--\r\n"),
            parts,
        }
    }

    /// The body's exact length: part headers, range bytes and the closing delimiter.
    pub fn content_length(&self) -> u64 {
        // Saturating: ranges that `parse` returns never add up to more than the file.
        self.parts
            .iter()
            .fold(self.closing.len() as u64, |sum, (header, range)| {
                sum.saturating_add(header.len() as u64)
                    .saturating_add(range.len())
            })
    }

    /// `multipart/byteranges; boundary=...`, quoting the boundary when it is not a token, as
    /// bchars such as space, `:` or `?` require.
    pub fn content_type(&self) -> String {
        if !self.boundary.is_empty() && self.boundary.bytes().all(is_tchar) {
            return format!("multipart/byteranges; boundary={}", self.boundary);
        }
        let mut quoted = String::with_capacity(self.boundary.len() + 2);
        for c in self.boundary.chars() {
            if c == '"' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        format!("multipart/byteranges; boundary=\"{quoted}\"")
    }
}

/// RFC 9110 §5.6.2 tchar.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
