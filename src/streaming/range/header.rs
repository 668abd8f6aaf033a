//! Reading a `Range` header value into the ranges to send: syntax, clamping to the file,
//! declining abusive requests, coalescing.

use super::{ByteRange, Ranges, MAX_RANGES};

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
