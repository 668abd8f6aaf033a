//! Tables of valid headers and the bytes they select: single ranges and suffixes clamped to
//! the file, empty files, unsatisfiable ranges dropped, coalescing, and the requests declined
//! for overlapping or for naming too many ranges.

use super::*;

pub(super) fn single_ranges() -> Vec<Case> {
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

pub(super) fn suffixes() -> Vec<Case> {
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

pub(super) fn empty_files() -> Vec<Case> {
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

pub(super) fn several_ranges() -> Vec<Case> {
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

pub(super) fn coalescing() -> Vec<Case> {
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

pub(super) fn overlap_abuse() -> Vec<Case> {
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

pub(super) fn counts() -> Vec<Case> {
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
