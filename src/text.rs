//! What a name shown to other people may contain: no bidirectional overrides, embeddings or
//! isolates (which make text read differently from how it is stored), and not only invisible
//! characters (which make a blank look like a name); and what a password must be.

/// Unicode's Default_Ignorable_Code_Point set: characters that render as nothing.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The explicit bidirectional formatting characters: embeddings, overrides and isolates.
pub fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `name_problem` and the control-character rule as a JSON Schema pattern, for the OpenAPI
/// document: no control characters or bidirectional controls, and at least one character
/// that is neither whitespace nor invisible (the invisible set past the Basic Multilingual
/// Plane is left out, as patterns there are not portable). Names are trimmed before they are
/// checked, so whitespace at either end may be anything Rust's `trim` takes away.
pub const NAME_PATTERN: &str = concat!(
    r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*",
    r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f",
    r"\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8]",
    r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*",
    r"[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
);

/// A JSON Schema pattern for what trims to nothing: Rust's whitespace, which differs from
/// ECMAScript's `\s` (that has U+FEFF and lacks U+0085).
pub const BLANK_PATTERN: &str =
    r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// What is wrong with `value` as a name people see, if anything. `field` names it.
pub fn name_problem(field: &str, value: &str) -> Option<String> {
    if value.chars().any(bidi_control) {
        return Some(format!(
            "{field} must not contain bidirectional overrides, embeddings or isolates \
             (U+202A–U+202E, U+2066–U+2069)"
        ));
    }
    if value.chars().all(|c| c.is_whitespace() || invisible(c)) {
        return Some(format!("{field} must contain a visible character"));
    }
    None
}

/// A free-text query parameter, trimmed: at most `max` characters and no control characters
/// (a NUL is more than some databases will store, so it must never reach a query). `None`
/// when it is absent or blank.
pub fn text_param(
    name: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, crate::error::ApiError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(crate::error::ApiError::BadRequest(format!(
            "{name} is at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(crate::error::ApiError::BadRequest(format!(
            "{name} must not contain control characters"
        )));
    }
    Ok(Some(value.to_string()))
}

/// What a new password must be. A leaf, so that settings are checked by the same rules.
pub mod password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// Checks a new password against the rules; the error says which rule failed.
    pub fn validate(password: &str) -> Result<(), String> {
        let chars = password.chars().count();
        if chars < MIN_CHARS {
            return Err(format!("a password needs at least {MIN_CHARS} characters"));
        }
        if chars > MAX_CHARS {
            return Err(format!("a password has at most {MAX_CHARS} characters"));
        }
        if password.chars().any(char::is_control) {
            return Err("a password must not contain control characters".into());
        }
        if password.trim().is_empty() {
            return Err("a password must not be only spaces".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::name_problem;

    #[test]
    fn overrides_and_invisible_names_are_refused_and_real_names_are_not() {
        assert!(name_problem("name", "evil\u{202E}gpj.exe")
            .unwrap()
            .contains("bidirectional"));
        assert!(name_problem("name", "\u{2066}x\u{2069}").is_some());
        assert!(name_problem("name", "\u{200B}")
            .unwrap()
            .contains("visible"));
        assert!(name_problem("name", "\u{200B}\u{2060}\u{FEFF} \u{3164}").is_some());
        for fine in ["Ada", "Motörhead", "עברית\u{200F}", "東京", "AC/DC"] {
            assert_eq!(name_problem("name", fine), None, "{fine}");
        }
    }
}
