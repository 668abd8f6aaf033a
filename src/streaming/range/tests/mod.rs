//! `parse`'s and `Multipart`'s unit tests: the shared case helpers, properties over every
//! table and random headers, and the multipart framing. The tables themselves are in
//! `selection` (what a valid header selects) and `syntax` (what makes one invalid).

mod selection;
mod syntax;

use super::Ranges::{Full, Partial, Unsatisfiable};
use super::*;
use selection::*;
use syntax::*;

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
        let multipart = Multipart::new(&ranges, file.len() as u64, "audio/flac", "3d6b6a416f9b5");
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
