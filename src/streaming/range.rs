//! HTTP byte ranges of one file of known length (RFC 9110 §14): reading `Range`, framing multipart/byteranges.

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

/// Reads a `Range` header value for a file of `len` bytes.
pub fn parse(header: &str, len: u64) -> Ranges {
    let Some(set) = range_set(header) else {
        return Ranges::Full;
    };
    let mut requested = 0;
    let mut wanted = Vec::new();
    for element in set.split(',') {
        let spec = element.trim_matches(is_ows);
        // RFC 9110 §5.6.1 has recipients accept and skip empty list elements.
        if spec.is_empty() {
            continue;
        }
        requested += 1;
        // Declining before parsing the rest keeps a header of thousands of ranges (CVE-2011-3192)
        // as cheap as one of seventeen.
        if requested > MAX_RANGES {
            return Ranges::Full;
        }
        match range_spec(spec, len) {
            Err(Invalid) => return Ranges::Full,
            Ok(Some(range)) => wanted.push(range),
            Ok(None) => {}
        }
    }
    if requested == 0 {
        return Ranges::Full;
    }
    if wanted.is_empty() {
        return Ranges::Unsatisfiable;
    }
    // Overlapping ranges that add up to more than the file only serve to amplify the response;
    // like Go's http.ServeContent, send the file once instead. Overflow counts as too much.
    let sum = wanted
        .iter()
        .try_fold(0u64, |sum, range| sum.checked_add(range.len()));
    if !matches!(sum, Some(sum) if sum <= len) {
        return Ranges::Full;
    }
    Ranges::Partial(coalesce(wanted))
}

/// The range-set after `bytes=`, or `None` when the header is not a byte-range request.
fn range_set(header: &str) -> Option<&str> {
    // Whitespace around a field value is not part of it (RFC 9110 §5.5).
    let value = header.trim_matches(is_ows);
    let (unit, set) = value.split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    // The grammar allows OWS only around commas: none before `=` (the unit check above rejects
    // it) and none between `=` and the first range-spec.
    if set.starts_with(is_ows) {
        return None;
    }
    Some(set)
}

struct Invalid;

/// One range-spec clamped to the file; `None` when it is valid but not satisfiable.
fn range_spec(spec: &str, len: u64) -> Result<Option<ByteRange>, Invalid> {
    let (first, last) = spec.split_once('-').ok_or(Invalid)?;
    if first.is_empty() {
        let suffix = number(last)?;
        // RFC 9110 §14.1.1: a suffix of 0 is never satisfiable; and an empty file has no last
        // bytes to give, so a suffix of it would be a 206 of nothing.
        if suffix == 0 || len == 0 {
            return Ok(None);
        }
        return Ok(Some(ByteRange {
            start: len - suffix.min(len),
            end: len - 1,
        }));
    }
    let first = number(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(number(last)?)
    };
    if matches!(last, Some(last) if last < first) {
        return Err(Invalid);
    }
    if first >= len {
        return Ok(None);
    }
    let end = last.map_or(len - 1, |last| last.min(len - 1));
    Ok(Some(ByteRange { start: first, end }))
}

/// `1*DIGIT` as a u64. Not `str::parse`, which also takes a leading `+`.
fn number(digits: &str) -> Result<u64, Invalid> {
    if digits.is_empty() {
        return Err(Invalid);
    }
    digits.bytes().try_fold(0u64, |n, b| {
        if !b.is_ascii_digit() {
            return Err(Invalid);
        }
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(Invalid)
    })
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Sorted by start, with overlapping and adjacent ranges merged.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    ranges.sort_unstable_by_key(|range| (range.start, range.end));
    let mut merged: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(1) => {
                last.end = last.end.max(range.end);
            }
            _ => merged.push(range),
        }
    }
    merged
}

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

#[cfg(test)]
mod tests {
    use super::Ranges::{Full, Partial, Unsatisfiable};
    use super::*;

    /// A header, the file's length, and what `parse` must make of them.
    type Case = (String, u64, Ranges);

    const MAX: u64 = u64::MAX;

    fn case(header: impl Into<String>, len: u64, expected: Ranges) -> Case {
        (header.into(), len, expected)
    }

    fn p(ranges: &[(u64, u64)]) -> Ranges {
        Partial(
            ranges
                .iter()
                .map(|&(start, end)| ByteRange { start, end })
                .collect(),
        )
    }

    /// `bytes=` followed by `specs` joined with commas.
    fn bytes(specs: impl IntoIterator<Item = String>) -> String {
        format!("bytes={}", specs.into_iter().collect::<Vec<_>>().join(","))
    }

    fn check(cases: &[Case]) {
        for (header, len, expected) in cases {
            assert_eq!(&parse(header, *len), expected, "{header:?} of {len} bytes");
        }
    }

    fn single_ranges() -> Vec<Case> {
        vec![
            case("bytes=0-0", 10, p(&[(0, 0)])),
            case("bytes=0-9", 10, p(&[(0, 9)])),
            case("bytes=0-", 10, p(&[(0, 9)])),
            case("bytes=3-5", 10, p(&[(3, 5)])),
            case("bytes=5-5", 10, p(&[(5, 5)])),
            case("bytes=9-9", 10, p(&[(9, 9)])),
            case("bytes=9-", 10, p(&[(9, 9)])),
            case("bytes=3-100", 10, p(&[(3, 9)])),
            case("bytes=0-10", 10, p(&[(0, 9)])),
            case("bytes=000-001", 10, p(&[(0, 1)])),
            case("bytes=00000000000000000000000000000001-2", 10, p(&[(1, 2)])),
            case("bytes=0-18446744073709551615", 10, p(&[(0, 9)])),
            case("bytes=10-", 10, Unsatisfiable),
            case("bytes=10-10", 10, Unsatisfiable),
            case("bytes=10-20", 10, Unsatisfiable),
            case("bytes=11-", 10, Unsatisfiable),
            case("bytes=18446744073709551615-", 10, Unsatisfiable),
            case(
                "bytes=18446744073709551615-18446744073709551615",
                10,
                Unsatisfiable,
            ),
            case("bytes=0-0", 1, p(&[(0, 0)])),
            case("bytes=0-", 1, p(&[(0, 0)])),
            case("bytes=0-5", 1, p(&[(0, 0)])),
            case("bytes=1-", 1, Unsatisfiable),
            case("bytes=1-1", 1, Unsatisfiable),
            case("bytes=999-", 1000, p(&[(999, 999)])),
            case("bytes=1000-", 1000, Unsatisfiable),
            case("bytes=0-", MAX, p(&[(0, MAX - 1)])),
            case("bytes=18446744073709551614-", MAX, p(&[(MAX - 1, MAX - 1)])),
            case("bytes=18446744073709551615-", MAX, Unsatisfiable),
        ]
    }

    #[test]
    fn a_single_range_is_clamped_to_the_file_and_unsatisfiable_from_its_length_on() {
        check(&single_ranges());
    }

    fn suffixes() -> Vec<Case> {
        vec![
            case("bytes=-1", 10, p(&[(9, 9)])),
            case("bytes=-3", 10, p(&[(7, 9)])),
            case("bytes=-10", 10, p(&[(0, 9)])),
            case("bytes=-11", 10, p(&[(0, 9)])),
            case("bytes=-18446744073709551615", 10, p(&[(0, 9)])),
            case("bytes=-0", 10, Unsatisfiable),
            case("bytes=-000", 10, Unsatisfiable),
            case("bytes=-1", 1, p(&[(0, 0)])),
            case("bytes=-5", 1, p(&[(0, 0)])),
            case("bytes=-1", MAX, p(&[(MAX - 1, MAX - 1)])),
            case("bytes=-18446744073709551615", MAX, p(&[(0, MAX - 1)])),
        ]
    }

    #[test]
    fn a_suffix_takes_the_last_bytes_and_the_whole_file_when_longer_than_it() {
        check(&suffixes());
    }

    fn empty_files() -> Vec<Case> {
        vec![
            case("bytes=0-", 0, Unsatisfiable),
            case("bytes=0-0", 0, Unsatisfiable),
            case("bytes=-1", 0, Unsatisfiable),
            case("bytes=-0", 0, Unsatisfiable),
            case("bytes=0-0,-1", 0, Unsatisfiable),
            case("bytes=5-4", 0, Full),
            case("bytes=x", 0, Full),
            case("", 0, Full),
        ]
    }

    #[test]
    fn nothing_in_an_empty_file_is_satisfiable_but_bad_syntax_still_means_the_whole_file() {
        check(&empty_files());
    }

    fn overflows() -> Vec<Case> {
        vec![
            case("bytes=18446744073709551616-", 10, Full),
            case("bytes=0-18446744073709551616", 10, Full),
            case("bytes=-18446744073709551616", 10, Full),
            case("bytes=99999999999999999999999-", 10, Full),
            case("bytes=0-99999999999999999999999", 10, Full),
            case("bytes=-99999999999999999999999", 10, Full),
            case("bytes=0-1,99999999999999999999999-", 10, Full),
            case("bytes=99999999999999999999999-", MAX, Full),
            // Two ranges of a file of u64::MAX bytes add up past u64::MAX.
            case("bytes=0-,-1", MAX, Full),
            case("bytes=0-0,-1", MAX, p(&[(0, 0), (MAX - 1, MAX - 1)])),
        ]
    }

    #[test]
    fn numbers_past_u64_make_the_header_invalid() {
        check(&overflows());
    }

    fn signs_and_dashes() -> Vec<Case> {
        vec![
            case("bytes=-1-2", 10, Full),
            case("bytes=--1", 10, Full),
            case("bytes=-1-", 10, Full),
            case("bytes=1--2", 10, Full),
            case("bytes=-1--2", 10, Full),
            case("bytes=+1-2", 10, Full),
            case("bytes=1-+2", 10, Full),
            case("bytes=-+2", 10, Full),
            case("bytes=1-2-3", 10, Full),
            case("bytes=--", 10, Full),
            case("bytes=-", 10, Full),
            case("bytes=5", 10, Full),
            case("bytes=0-1,5", 10, Full),
            case("bytes=0-1,-", 10, Full),
        ]
    }

    #[test]
    fn signs_missing_dashes_and_extra_dashes_make_the_header_invalid() {
        check(&signs_and_dashes());
    }

    fn reversed() -> Vec<Case> {
        vec![
            case("bytes=5-4", 10, Full),
            case("bytes=9-0", 10, Full),
            case("bytes=1-0", 10, Full),
            case("bytes=0-1,5-4", 10, Full),
            case("bytes=5-4,0-1", 10, Full),
            // Invalid beats unsatisfiable: the whole header is ignored.
            case("bytes=20-15", 10, Full),
            case("bytes=20-,15-14", 10, Full),
        ]
    }

    #[test]
    fn a_range_that_ends_before_it_starts_makes_the_header_invalid() {
        check(&reversed());
    }

    fn not_digits() -> Vec<Case> {
        vec![
            case("bytes=a-b", 10, Full),
            case("bytes=0-a", 10, Full),
            case("bytes=a-", 10, Full),
            case("bytes=-a", 10, Full),
            case("bytes=0x1-0x2", 10, Full),
            case("bytes=1.0-2.0", 10, Full),
            case("bytes=1e3-", 10, Full),
            case("bytes=0-1;2-3", 10, Full),
            case("bytes=0-1 2-3", 10, Full),
            case("bytes=0-\u{ff11}", 10, Full),
            case("bytes=\u{663}-", 10, Full),
            case("bytes=0-1\0", 10, Full),
            case("bytes=0-1\r\n", 10, Full),
            case("bytes=0-1,abc", 10, Full),
            case("bytes=0-1,10-,x", 10, Full),
        ]
    }

    #[test]
    fn letters_hex_decimals_and_non_ascii_digits_make_the_header_invalid() {
        check(&not_digits());
    }

    fn whitespace() -> Vec<Case> {
        vec![
            case("bytes=0-1, 3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1 ,3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1 , 3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1,\t3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1\t,3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1,   3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1, ,3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=, 0-1", 10, p(&[(0, 1)])),
            case(" bytes=0-1", 10, p(&[(0, 1)])),
            case("bytes=0-1 ", 10, p(&[(0, 1)])),
            case("\tbytes=0-1\t", 10, p(&[(0, 1)])),
            case("bytes= 0-1", 10, Full),
            case("bytes=\t0-1", 10, Full),
            case("bytes =0-1", 10, Full),
            case("bytes = 0-1", 10, Full),
            case("bytes\t=0-1", 10, Full),
            case("bytes=0 -1", 10, Full),
            case("bytes=0- 1", 10, Full),
            case("bytes=- 1", 10, Full),
            case("bytes=1 0-20", 10, Full),
            case("bytes=0-1,\u{a0}3-4", 10, Full),
            case("bytes=0-1,\n3-4", 10, Full),
            case("bytes=0-1,\x0b3-4", 10, Full),
            case("bytes=0-1,\r3-4", 10, Full),
        ]
    }

    #[test]
    fn whitespace_is_allowed_around_commas_and_the_value_but_nowhere_else() {
        check(&whitespace());
    }

    fn units() -> Vec<Case> {
        vec![
            case("", 10, Full),
            case("bytes", 10, Full),
            case("bytes=", 10, Full),
            case("bytes= ", 10, Full),
            case("BYTES=0-1", 10, p(&[(0, 1)])),
            case("Bytes=0-1", 10, p(&[(0, 1)])),
            case("bYtEs=0-1", 10, p(&[(0, 1)])),
            case("items=0-1", 10, Full),
            case("byte=0-1", 10, Full),
            case("bytess=0-1", 10, Full),
            case("bits=0-1", 10, Full),
            case("none", 10, Full),
            case("=0-1", 10, Full),
            case("0-1", 10, Full),
            case("bytes:0-1", 10, Full),
            case("bytes==0-1", 10, Full),
            case("bytes=0-1=", 10, Full),
            case("bytes 0-1", 10, Full),
            case("\u{ff42}ytes=0-1", 10, Full),
            // An unknown unit beats unsatisfiable: the header is ignored.
            case("items=10-", 10, Full),
        ]
    }

    #[test]
    fn only_the_bytes_unit_in_any_case_is_understood() {
        check(&units());
    }

    fn empty_elements() -> Vec<Case> {
        vec![
            case("bytes=,", 10, Full),
            case("bytes=,,,", 10, Full),
            case("bytes=, ,", 10, Full),
            case("bytes=0-1,,3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-1,", 10, p(&[(0, 1)])),
            case("bytes=0-1, ", 10, p(&[(0, 1)])),
            case("bytes=,0-1", 10, p(&[(0, 1)])),
            case("bytes=,,0-1,,", 10, p(&[(0, 1)])),
            case(
                format!("bytes=0-1{}3-4", ",".repeat(40)),
                10,
                p(&[(0, 1), (3, 4)]),
            ),
        ]
    }

    #[test]
    fn empty_list_elements_are_skipped_but_a_list_of_nothing_is_invalid() {
        check(&empty_elements());
    }

    fn several_ranges() -> Vec<Case> {
        vec![
            case("bytes=0-1,3-4", 10, p(&[(0, 1), (3, 4)])),
            case("bytes=0-0,9-9", 10, p(&[(0, 0), (9, 9)])),
            case("bytes=0-0,-1", 10, p(&[(0, 0), (9, 9)])),
            case("bytes=0-1,-2", 10, p(&[(0, 1), (8, 9)])),
            case("bytes=0-1,20-30", 10, p(&[(0, 1)])),
            case("bytes=20-30,0-1", 10, p(&[(0, 1)])),
            case("bytes=10-,-0,0-0", 10, p(&[(0, 0)])),
            case("bytes=0-,20-", 10, p(&[(0, 9)])),
            case("bytes=10-,11-", 10, Unsatisfiable),
            case("bytes=10-,-0", 10, Unsatisfiable),
            case("bytes=10-,5", 10, Full),
        ]
    }

    #[test]
    fn unsatisfiable_ranges_among_satisfiable_ones_are_dropped() {
        check(&several_ranges());
    }

    fn coalescing() -> Vec<Case> {
        vec![
            case("bytes=0-1,2-3", 10, p(&[(0, 3)])),
            case("bytes=2-3,0-1", 10, p(&[(0, 3)])),
            case("bytes=0-4,3-6", 10, p(&[(0, 6)])),
            case("bytes=0-2,1-1", 10, p(&[(0, 2)])),
            case("bytes=1-1,0-2", 10, p(&[(0, 2)])),
            case("bytes=0-0,0-0", 10, p(&[(0, 0)])),
            case("bytes=5-5,5-5,5-5", 10, p(&[(5, 5)])),
            case("bytes=-1,9-9", 10, p(&[(9, 9)])),
            case("bytes=9-,-1", 10, p(&[(9, 9)])),
            case("bytes=0-4,5-", 10, p(&[(0, 9)])),
            case("bytes=-5,0-4", 10, p(&[(0, 9)])),
            case("bytes=0-4,0-4", 10, p(&[(0, 4)])),
            case("bytes=8-9,0-1,4-5", 10, p(&[(0, 1), (4, 5), (8, 9)])),
            case("bytes=6-7,2-3,4-5", 10, p(&[(2, 7)])),
            case("bytes=0-1,5-6,2-3", 10, p(&[(0, 3), (5, 6)])),
            case("bytes=3-3,1-1", 10, p(&[(1, 1), (3, 3)])),
            case("bytes=-1,0-0", 10, p(&[(0, 0), (9, 9)])),
            case(
                "bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9",
                10,
                p(&[(0, 9)]),
            ),
            case(
                "bytes=9-9,7-7,5-5,3-3,1-1",
                10,
                p(&[(1, 1), (3, 3), (5, 5), (7, 7), (9, 9)]),
            ),
            case("bytes=8-9,0-1,2-3,6-7,4-5", 10, p(&[(0, 9)])),
        ]
    }

    #[test]
    fn ranges_are_sorted_and_overlapping_or_adjacent_ones_merged() {
        check(&coalescing());
    }

    fn overlap_abuse() -> Vec<Case> {
        vec![
            case("bytes=0-,0-", 10, Full),
            case("bytes=0-9,0-0", 10, Full),
            case("bytes=0-,-1", 10, Full),
            case("bytes=-10,-1", 10, Full),
            case("bytes=-6,0-4", 10, Full),
            case("bytes=0-3,2-5,4-7", 10, Full),
            case("bytes=0-5,4-", 10, Full),
            case("bytes=0-4,0-4,0-0", 10, Full),
            case("bytes=0-0,0-0", 1, Full),
            case("bytes=-1,-1", 1, Full),
        ]
    }

    #[test]
    fn ranges_adding_up_to_more_than_the_file_get_the_whole_file() {
        check(&overlap_abuse());
    }

    /// `count` one-byte ranges two bytes apart: `0-0,2-2,4-4,...`.
    fn spaced(count: u64) -> Vec<String> {
        (0..count).map(|i| format!("{0}-{0}", i * 2)).collect()
    }

    fn counts() -> Vec<Case> {
        let sixteen: Vec<(u64, u64)> = (0..16).map(|i| (i * 2, i * 2)).collect();
        let mut sixteen_then_unsatisfiable = spaced(16);
        sixteen_then_unsatisfiable.push("100-".into());
        let mut sixteen_then_invalid = spaced(16);
        sixteen_then_invalid.push("x".into());
        let mut sixteen_with_empties = spaced(16);
        sixteen_with_empties.extend(std::iter::repeat_n(String::new(), 8));
        let mut thousand_then_invalid = vec!["0-0".to_owned(); 1000];
        thousand_then_invalid.push("x".into());
        vec![
            case(bytes(spaced(16)), 100, p(&sixteen)),
            case(bytes(spaced(17)), 100, Full),
            case(bytes(sixteen_with_empties), 100, p(&sixteen)),
            case(bytes(sixteen_then_unsatisfiable), 100, Full),
            case(bytes(sixteen_then_invalid), 100, Full),
            case(bytes(vec!["100-".to_owned(); 16]), 100, Unsatisfiable),
            case(bytes(vec!["100-".to_owned(); 17]), 100, Full),
            case(bytes(vec!["0-0".to_owned(); 16]), 100, p(&[(0, 0)])),
            case(bytes(vec!["0-0".to_owned(); 17]), 100, Full),
            case(bytes(vec!["0-".to_owned(); 1000]), 100, Full),
            case(
                bytes((0..1000).map(|i| format!("{i}-{}", i + 1))),
                100,
                Full,
            ),
            case(bytes(vec!["-1".to_owned(); 1000]), 100, Full),
            case(bytes(thousand_then_invalid), 100, Full),
            case(format!("bytes={}0-0", ",".repeat(1000)), 100, p(&[(0, 0)])),
        ]
    }

    #[test]
    fn more_than_sixteen_ranges_as_requested_get_the_whole_file() {
        check(&counts());
    }

    fn all_cases() -> Vec<Case> {
        [
            single_ranges(),
            suffixes(),
            empty_files(),
            overflows(),
            signs_and_dashes(),
            reversed(),
            not_digits(),
            whitespace(),
            units(),
            empty_elements(),
            several_ranges(),
            coalescing(),
            overlap_abuse(),
            counts(),
        ]
        .concat()
    }

    #[test]
    fn the_tables_hold_at_least_150_distinct_cases() {
        let cases = all_cases();
        let mut seen = std::collections::HashSet::new();
        for (header, len, _) in &cases {
            assert!(
                seen.insert((header, len)),
                "{header:?} of {len} bytes twice"
            );
        }
        assert!(cases.len() >= 150, "only {} cases", cases.len());
    }

    #[test]
    fn a_huge_header_is_declined_after_seventeen_ranges() {
        // Linear by construction: parsing stops at the seventeenth range, so this is no slower
        // than the 1,000-range cases above.
        let header = bytes((0..100_000).map(|i| format!("{i}-")));
        assert_eq!(parse(&header, 1 << 40), Full);
    }

    #[test]
    fn whatever_the_header_partial_ranges_are_sorted_disjoint_within_the_file_and_few() {
        // A small xorshift instead of a dependency: headers from the characters that matter.
        let alphabet = b"bytes=-,0123456789 \t+xB";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let size = next() % 24;
            let mut header = if next() % 2 == 0 {
                "bytes=".to_owned()
            } else {
                String::new()
            };
            for _ in 0..size {
                header.push(char::from(
                    alphabet[(next() % alphabet.len() as u64) as usize],
                ));
            }
            let len = [0, 1, 2, 10, 1000, MAX][(next() % 6) as usize];
            if let Partial(ranges) = parse(&header, len) {
                assert!(
                    !ranges.is_empty() && ranges.len() <= MAX_RANGES,
                    "{header:?}"
                );
                assert!(
                    ranges.iter().all(|r| r.start <= r.end && r.end < len),
                    "{header:?}"
                );
                assert!(
                    ranges
                        .windows(2)
                        .all(|w| w[0].end.saturating_add(1) < w[1].start),
                    "{header:?}"
                );
                assert!(
                    ranges.iter().map(ByteRange::len).sum::<u64>() <= len,
                    "{header:?}"
                );
            }
        }
    }

    #[test]
    fn a_range_knows_its_length_and_content_range() {
        let range = ByteRange { start: 3, end: 5 };
        assert_eq!(range.len(), 3);
        assert!(!range.is_empty());
        assert_eq!(range.content_range(10), "bytes 3-5/10");
        assert_eq!(ByteRange { start: 5, end: 3 }.len(), 0);
        assert_eq!(ByteRange { start: 0, end: MAX }.len(), MAX);
        assert_eq!(unsatisfied_content_range(10), "bytes */10");
    }

    /// The body a handler would stream for `multipart` out of `file`.
    fn body(multipart: &Multipart, file: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for (header, range) in &multipart.parts {
            body.extend_from_slice(header.as_bytes());
            body.extend_from_slice(&file[range.start as usize..=range.end as usize]);
        }
        body.extend_from_slice(multipart.closing.as_bytes());
        body
    }

    #[test]
    fn a_multipart_body_is_framed_as_rfc_2046_says() {
        let file = b"0123456789";
        let Partial(ranges) = parse("bytes=0-1,-2", 10) else {
            panic!("two ranges expected");
        };
        let multipart = Multipart::new(&ranges, 10, "audio/mpeg", "B0undary");
        let expected = "--B0undary\r\n\
                        Content-Type: audio/mpeg\r\n\
                        Content-Range: bytes 0-1/10\r\n\
                        \r\n\
                        01\r\n\
                        --B0undary\r\n\
                        Content-Type: audio/mpeg\r\n\
                        Content-Range: bytes 8-9/10\r\n\
                        \r\n\
                        89\r\n\
                        --B0undary--\r\n";
        assert_eq!(String::from_utf8_lossy(&body(&multipart, file)), expected);
        assert_eq!(multipart.content_length(), expected.len() as u64);
        assert_eq!(
            multipart.content_type(),
            "multipart/byteranges; boundary=B0undary"
        );
    }

    #[test]
    fn the_multipart_content_length_is_the_length_of_the_body() {
        let file: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        for header in [
            "bytes=0-0,-1",
            "bytes=10-20,30-40,4990-",
            "bytes=0-99,200-299,-1000",
        ] {
            let Partial(ranges) = parse(header, file.len() as u64) else {
                panic!("{header:?} should be partial");
            };
            let multipart =
                Multipart::new(&ranges, file.len() as u64, "audio/flac", "3d6b6a416f9b5");
            assert_eq!(
                multipart.content_length(),
                body(&multipart, &file).len() as u64,
                "{header:?}"
            );
        }
    }

    #[test]
    fn parts_leave_out_a_content_type_that_is_empty_or_would_break_the_framing() {
        let ranges = [
            ByteRange { start: 0, end: 0 },
            ByteRange { start: 2, end: 2 },
        ];
        for content_type in ["", "audio/mpeg\r\nX-Injected: 1"] {
            let multipart = Multipart::new(&ranges, 3, content_type, "b");
            assert!(multipart
                .parts
                .iter()
                .all(|(header, _)| !header.contains("Content-Type") && !header.contains("X-")));
        }
    }

    #[test]
    fn a_boundary_that_is_not_a_token_is_quoted() {
        let multipart = Multipart::new(&[], 0, "audio/mpeg", "a b:c");
        assert_eq!(
            multipart.content_type(),
            "multipart/byteranges; boundary=\"a b:c\""
        );
        assert_eq!(multipart.content_length(), "--a b:c--\r\n".len() as u64);
    }
}
