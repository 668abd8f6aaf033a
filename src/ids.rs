//! Ids and other integers in request bodies as JSON gives them: whole numbers, written `7` or `7.0`. JSON (and
//! the JSON Schema the API is documented in) counts `7.0` as the integer 7, so a client that
//! writes every number as a float must not be refused; `7.5` or `"7"` still are.

use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// Deserializes a list of ids, each a whole number in `i64`, for `#[serde(deserialize_with)]`.
pub fn whole_numbers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    struct Ids;

    impl<'de> Visitor<'de> for Ids {
        type Value = Vec<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of whole-number ids")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<i64>, A::Error> {
            let mut ids = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(Id(id)) = seq.next_element()? {
                ids.push(id);
            }
            Ok(ids)
        }
    }

    deserializer.deserialize_seq(Ids)
}

/// The problem with `ids` when some are below 1 (ids start at 1), naming those; `noun` is
/// what the request calls them ("track ids").
pub fn below_one<'a>(noun: &str, ids: impl IntoIterator<Item = &'a i64>) -> Option<String> {
    let bad: Vec<String> = ids
        .into_iter()
        .filter(|id| **id < 1)
        .map(i64::to_string)
        .collect();
    (!bad.is_empty()).then(|| format!("{noun} are whole numbers from 1, not {}", bad.join(", ")))
}

/// Deserializes one whole number in `i64` (an id, a position, a length), for
/// `#[serde(deserialize_with)]`.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    serde::Deserialize::deserialize(deserializer).map(|Id(v)| v)
}

/// Deserializes an optional whole number: `null` or missing (with `#[serde(default)]`) is
/// `None`.
pub fn optional_whole_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    let value: Option<Id> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.map(|Id(v)| v))
}

/// One id: an integer, or a float with no fractional part that fits in `i64`.
struct Id(i64);

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct One;

        impl Visitor<'_> for One {
            type Value = Id;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole-number id")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                i64::try_from(v)
                    .map(Id)
                    .map_err(|_| E::custom(format!("id {v} is too large")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                // 2^63 as f64 is exactly representable; anything at or above it overflows.
                if v.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v)
                {
                    Ok(Id(v as i64))
                } else {
                    Err(E::custom(format!("id {v} is not a whole number")))
                }
            }
        }

        deserializer.deserialize_any(One)
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::whole_numbers")]
        ids: Vec<i64>,
    }

    fn ids(json: &str) -> Result<Vec<i64>, String> {
        serde_json::from_str::<Body>(json)
            .map(|b| b.ids)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_are_ids_however_written_and_nothing_else_is() {
        assert_eq!(ids(r#"{"ids":[1,2751.0,-3]}"#).unwrap(), [1, 2751, -3]);
        assert!(ids(r#"{"ids":[1.5]}"#)
            .unwrap_err()
            .contains("not a whole number"));
        assert!(ids(r#"{"ids":["7"]}"#).is_err());
        assert!(ids(r#"{"ids":[1e300]}"#).is_err());
        assert!(ids(r#"{"ids":[18446744073709551615]}"#)
            .unwrap_err()
            .contains("too large"));
        assert!(ids(r#"{"ids":7}"#).is_err());
        // Exactly representable, so exactly read (serde_json's `float_roundtrip`).
        assert_eq!(
            ids(r#"{"ids":[4247470923423342.0]}"#).unwrap(),
            [4_247_470_923_423_342]
        );
    }

    #[derive(serde::Deserialize)]
    struct Position {
        #[serde(deserialize_with = "super::whole_number")]
        at: i64,
        #[serde(default, deserialize_with = "super::optional_whole_number")]
        then: Option<i64>,
    }

    #[test]
    fn one_whole_number_may_be_written_as_a_float_and_may_be_left_out_when_optional() {
        let read = |json: &str| serde_json::from_str::<Position>(json).map(|p| (p.at, p.then));
        assert_eq!(read(r#"{"at": 347.0}"#).unwrap(), (347, None));
        assert_eq!(read(r#"{"at": 1, "then": 2.0}"#).unwrap(), (1, Some(2)));
        assert_eq!(read(r#"{"at": 1, "then": null}"#).unwrap(), (1, None));
        assert!(read(r#"{"at": 1.5}"#).is_err());
        assert!(read(r#"{"at": "1"}"#).is_err());
    }
}
