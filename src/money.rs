//! Money: integer cents inside, decimal strings such as `"0.99"` at the edges.

/// `99` → `"0.99"`, `-150` → `"-1.50"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::format_cents;

    #[test]
    fn cents_print_as_exact_decimals() {
        assert_eq!(format_cents(0), "0.00");
        assert_eq!(format_cents(99), "0.99");
        assert_eq!(format_cents(199), "1.99");
        assert_eq!(format_cents(123_456), "1234.56");
        assert_eq!(format_cents(-150), "-1.50");
    }
}
