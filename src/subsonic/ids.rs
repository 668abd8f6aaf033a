//! Subsonic ids are strings in one space shared by every kind (a directory id may name an
//! artist or an album; `getCoverArt` takes anything with a cover), so each carries its kind:
//! `ar-1`, `al-1`, `tr-1`, `pl-1`. A bare number is accepted where one kind is expected.

use super::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Id {
    Artist(i64),
    Album(i64),
    Track(i64),
    Playlist(i64),
}

impl Id {
    pub fn parse(raw: &str) -> Option<Id> {
        let raw = raw.trim();
        let (prefix, number) = raw.split_once('-')?;
        let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
        match prefix {
            "ar" => Some(Id::Artist(number)),
            "al" => Some(Id::Album(number)),
            "tr" => Some(Id::Track(number)),
            "pl" => Some(Id::Playlist(number)),
            _ => None,
        }
    }

    /// An id that must be of one kind: `ar-1` style, or a bare positive number.
    pub fn expect(name: &str, raw: &str, kind: fn(i64) -> Id) -> Result<i64, Failure> {
        let bare = raw.trim().parse::<i64>().ok().filter(|n| *n > 0);
        let parsed = Id::parse(raw).or(bare.map(kind));
        match parsed {
            Some(id) if std::mem::discriminant(&id) == std::mem::discriminant(&kind(1)) => {
                Ok(id.number())
            }
            _ => Err(Failure::not_found(format!(
                "{name}={raw} names no {}",
                kind(1).noun()
            ))),
        }
    }

    pub fn number(self) -> i64 {
        match self {
            Id::Artist(n) | Id::Album(n) | Id::Track(n) | Id::Playlist(n) => n,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Id::Artist(_) => "artist",
            Id::Album(_) => "album",
            Id::Track(_) => "song",
            Id::Playlist(_) => "playlist",
        }
    }

    /// The kind as the annotation tables store it.
    pub fn kind(self) -> &'static str {
        match self {
            Id::Artist(_) => "artist",
            Id::Album(_) => "album",
            Id::Track(_) => "track",
            Id::Playlist(_) => "playlist",
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Artist(n) => write!(f, "ar-{n}"),
            Id::Album(n) => write!(f, "al-{n}"),
            Id::Track(n) => write!(f, "tr-{n}"),
            Id::Playlist(n) => write!(f, "pl-{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Id;

    #[test]
    fn ids_round_trip_and_kinds_are_checked() {
        assert_eq!(Id::parse("al-12"), Some(Id::Album(12)));
        assert_eq!(Id::Album(12).to_string(), "al-12");
        assert_eq!(Id::parse("x-1"), None);
        assert_eq!(Id::parse("al-0"), None);
        assert_eq!(Id::expect("id", "7", Id::Track).unwrap(), 7);
        assert_eq!(Id::expect("id", "al-7", Id::Track).unwrap_err().code, 70);
    }
}
