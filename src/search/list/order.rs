//! The order terms: for every sort a list offers, one indexed term per entry that spells its
//! place in that order, so the term dictionary, read from a cursor, is the sorted list.
//!
//! A term is `[kind, sort]`, then the sort value, then the entry's id, all big-endian, so
//! byte order is list order and no two entries share a term. Names use their sort key and a
//! 0 byte before the id: folded names hold no 0 byte, so a name sorts before every longer
//! name it begins (as the strings compare).
//!
//! Each order is indexed twice: ascending, and descending with every byte after the prefix
//! inverted, which reverses the order (the 0 byte ending a name becomes the greatest, so a
//! longer name now sorts first). Walking a term dictionary forward is fast from any bound;
//! walking it backward is not, so a descending order has terms of its own.
//!
//! Lists walk `ranked` orders built from the columns; these terms remain for `position`,
//! which finds a far offset from their ordinals.

use super::{Key, SortField, SortValue};
use crate::catalog::{Entry, Kind};

impl SortField {
    fn code(self) -> u8 {
        match self {
            SortField::Id => 0,
            SortField::Name => 1,
            SortField::Milliseconds => 2,
            SortField::Price => 3,
            SortField::Popularity => 4,
        }
    }

    /// The sorts a kind's lists offer.
    pub fn of(kind: Kind) -> &'static [SortField] {
        match kind {
            Kind::Track => &[
                SortField::Id,
                SortField::Name,
                SortField::Milliseconds,
                SortField::Price,
                SortField::Popularity,
            ],
            Kind::Artist
            | Kind::Album
            | Kind::Genre
            | Kind::MediaType
            | Kind::Playlist
            | Kind::Term => &[SortField::Id, SortField::Name],
        }
    }
}

const DESCENDING: u8 = 0x80;

/// The bytes every order term of `kind` sorted by `sort` begins with: `[kind, sort]`, with
/// the high bit of the second byte set for a descending order.
pub fn prefix(kind: Kind, sort: SortField, descending: bool) -> Vec<u8> {
    let mut bytes = vec![kind.code() as u8, sort.code()];
    if descending {
        bytes[1] |= DESCENDING;
    }
    bytes
}

/// The bytes just past every term with `prefix`, an exclusive upper bound.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            break;
        }
    }
    end
}

/// The term of the entry at `key` in the order `sort` of `kind`, ascending or descending.
pub fn term(kind: Kind, sort: SortField, descending: bool, key: &Key) -> Vec<u8> {
    let mut bytes = prefix(kind, sort, descending);
    let start = bytes.len();
    match (&key.value, sort) {
        (_, SortField::Id) => {}
        (SortValue::Number(value), _) => bytes.extend_from_slice(&value.to_be_bytes()),
        (SortValue::Text(text), _) => {
            bytes.extend_from_slice(text.as_bytes());
            bytes.push(0);
        }
    }
    bytes.extend_from_slice(&key.id.to_be_bytes());
    if descending {
        invert(&mut bytes[start..]);
    }
    bytes
}

fn invert(bytes: &mut [u8]) {
    for b in bytes {
        *b = !*b;
    }
}

/// The key an order term spells, or `None` for bytes that are not one.
pub fn key_of(sort: SortField, term: &[u8]) -> Option<Key> {
    let flags = *term.get(1)?;
    let mut rest = term.get(2..)?.to_vec();
    if flags & DESCENDING != 0 {
        invert(&mut rest);
    }
    let (value, id) = rest.split_at_checked(rest.len().checked_sub(8)?)?;
    let id = u64::from_be_bytes(id.try_into().ok()?);
    let value = match sort {
        SortField::Id => SortValue::Number(id),
        SortField::Name => {
            let text = value.strip_suffix(&[0])?;
            SortValue::Text(String::from_utf8(text.to_vec()).ok()?)
        }
        SortField::Milliseconds | SortField::Price | SortField::Popularity => {
            SortValue::Number(u64::from_be_bytes(value.try_into().ok()?))
        }
    };
    Some(Key { value, id })
}

/// Every order term of an entry.
pub fn terms(entry: &Entry) -> Vec<Vec<u8>> {
    let kind = entry.kind();
    let id = entry.id().max(0) as u64;
    SortField::of(kind)
        .iter()
        .flat_map(|&sort| {
            let number = |v: i64| SortValue::Number(v.max(0) as u64);
            let value = match (sort, entry) {
                (SortField::Id, _) => SortValue::Number(id),
                (SortField::Name, _) => SortValue::Text(crate::model::sort_key(entry.name())),
                (SortField::Milliseconds, Entry::Track(track, ..)) => number(track.milliseconds),
                (SortField::Price, Entry::Track(track, ..)) => number(track.unit_price.0),
                (SortField::Popularity, Entry::Track(track, ..)) => number(track.popularity),
                (SortField::Milliseconds | SortField::Price | SortField::Popularity, _) => {
                    SortValue::Number(0)
                }
            };
            let key = Key { value, id };
            [term(kind, sort, false, &key), term(kind, sort, true, &key)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, id: u64) -> Key {
        Key {
            value: SortValue::Text(s.into()),
            id,
        }
    }

    #[test]
    fn terms_sort_as_their_keys_and_spell_them() {
        let keys = [
            text("", 9),
            text("ab", 3),
            text("ab", 7),
            text("ab c", 1),
            text("abc", 2),
            text("b", 1),
        ];
        for descending in [false, true] {
            let terms: Vec<Vec<u8>> = keys
                .iter()
                .map(|k| term(Kind::Track, SortField::Name, descending, k))
                .collect();
            let mut sorted = terms.clone();
            sorted.sort();
            if descending {
                sorted.reverse();
            }
            assert_eq!(terms, sorted, "byte order is key order, or its reverse");
            for (key, term) in keys.iter().zip(&terms) {
                assert_eq!(key_of(SortField::Name, term).as_ref(), Some(key));
            }
        }
        let number = Key {
            value: SortValue::Number(258),
            id: 4,
        };
        let t = term(Kind::Track, SortField::Popularity, false, &number);
        assert_eq!(key_of(SortField::Popularity, &t), Some(number.clone()));
        let t = term(Kind::Track, SortField::Popularity, true, &number);
        assert_eq!(key_of(SortField::Popularity, &t), Some(number.clone()));
        let id = Key {
            value: SortValue::Number(12),
            id: 12,
        };
        let t = term(Kind::Genre, SortField::Id, false, &id);
        assert_eq!(t.len(), 10);
        assert_eq!(key_of(SortField::Id, &t), Some(id));
    }
}
