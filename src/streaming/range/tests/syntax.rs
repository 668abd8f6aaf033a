//! Tables of what makes a `Range` header invalid (overflow, signs and dashes, reversed
//! ranges, non-digits, stray whitespace, other units) and what is tolerated (whitespace
//! around commas, empty list elements, the unit's case).

use super::*;

pub(super) fn overflows() -> Vec<Case> {
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

pub(super) fn signs_and_dashes() -> Vec<Case> {
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

pub(super) fn reversed() -> Vec<Case> {
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

pub(super) fn not_digits() -> Vec<Case> {
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

pub(super) fn whitespace() -> Vec<Case> {
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

pub(super) fn units() -> Vec<Case> {
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

pub(super) fn empty_elements() -> Vec<Case> {
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
