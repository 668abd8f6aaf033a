//! Money: integer cents inside, decimal strings such as `"0.99"` at the edges.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact amount of money in cents, written as a decimal string (`"0.99"`) in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_cents(self.0))
    }
}

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_cents(self.0))
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_cents(&text)
            .map(Cents)
            .map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Cents {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An exact amount with two decimals, e.g. \"0.99\""))
            .examples(["0.99"])
            .into()
    }
}

impl utoipa::ToSchema for Cents {}

/// `"0.99"` or `"12"` → cents; anything else, or a fraction of a cent, is an error.
pub fn parse_cents(text: &str) -> Result<i64, String> {
    let bad = || format!("`{text}` is not an amount like 0.99");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 15
        || !all_digits(whole)
        || fraction.len() > 2
        || !all_digits(fraction)
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let cents = whole * 100 + fraction;
    Ok(if negative { -cents } else { cents })
}

/// `99` → `"0.99"`, `-150` → `"-1.50"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::{format_cents, parse_cents};

    #[test]
    fn decimal_strings_parse_exactly() {
        assert_eq!(parse_cents("0.99"), Ok(99));
        assert_eq!(parse_cents("1.9"), Ok(190));
        assert_eq!(parse_cents("12"), Ok(1200));
        assert_eq!(parse_cents("-1.50"), Ok(-150));
        for bad in [
            "",
            ".5",
            "0.999",
            "1,00",
            "abc",
            "1.2.3",
            "+1",
            "1e3",
            "99999999999999999",
        ] {
            assert!(parse_cents(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cents_print_as_exact_decimals() {
        assert_eq!(format_cents(0), "0.00");
        assert_eq!(format_cents(99), "0.99");
        assert_eq!(format_cents(199), "1.99");
        assert_eq!(format_cents(123_456), "1234.56");
        assert_eq!(format_cents(-150), "-1.50");
    }
}
