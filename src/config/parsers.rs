//! The parsers settings share: text, booleans, bounded numbers, durations and replica lists.

use std::time::Duration;

use super::{Backend, DatabaseUrl};

pub(super) fn non_empty(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(raw.to_string())
    }
}

pub(super) fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("`{raw}` is not true or false")),
    }
}

pub(super) fn number_in(raw: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = raw
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("{n} is outside {min}..={max}"));
    }
    Ok(n)
}

/// Comma-separated PostgreSQL URLs; blanks between commas are ignored.
pub(super) fn replica_urls(raw: &str) -> Result<Vec<DatabaseUrl>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .enumerate()
        .map(|(i, part)| {
            let url = DatabaseUrl::parse(part).map_err(|e| format!("replica {}: {e}", i + 1))?;
            if url.backend() != Backend::Postgres {
                return Err(format!("replica {} is not a postgres:// URL", i + 1));
            }
            Ok(url)
        })
        .collect()
}

pub(super) fn seconds(raw: &str) -> Result<Duration, String> {
    number_in(raw, 0, 24 * 3600).map(Duration::from_secs)
}
