//! Taxonomy terms: typed, hierarchical, with slugs that name them in URLs and filters.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest slug or type name, in characters.
pub const MAX_SLUG: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Term {
    pub id: i64,
    /// The taxonomy the term belongs to, e.g. `genre`.
    #[serde(rename = "type")]
    pub taxonomy: String,
    /// Unique within the type; used in URLs and filters (`taxonomy=genre:rock`).
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// The parent term's id; `null` for a root.
    pub parent_id: Option<i64>,
    /// Siblings are ordered by `sort_order`, then by name.
    pub sort_order: i64,
    /// Free-form JSON object.
    #[schema(value_type = Object)]
    pub meta: serde_json::Value,
    /// The slugs from the root down to this term, joined by `/`.
    pub path: String,
}

impl Term {
    /// The term's hierarchical facet in the index: `/type/root/…/slug`.
    pub fn facet(&self) -> String {
        format!("/{}/{}", self.taxonomy, self.path)
    }
}

/// Whether `text` is a valid slug or type name: lower-case letters and digits in words
/// joined by single hyphens.
pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_SLUG
        && text.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A slug made from a name: "Alternative & Punk" becomes `alternative-and-punk`.
pub fn slugify(name: &str) -> Option<String> {
    let words = crate::model::words::sort_key(&name.replace('&', " and "));
    let mut slug = String::new();
    for word in words.split(' ').filter(|w| !w.is_empty()) {
        let word: String = word
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .collect();
        if word.is_empty() {
            continue;
        }
        if slug.len() + word.len() + 1 > MAX_SLUG {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    (!slug.is_empty()).then_some(slug)
}

/// The kinds of entries terms attach to, as stored in `term_attachment.entity_kind`.
pub const ENTITY_KINDS: [(crate::model::Kind, &str); 3] = [
    (crate::model::Kind::Track, "track"),
    (crate::model::Kind::Album, "album"),
    (crate::model::Kind::Artist, "artist"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_folded_hyphenated_words() {
        assert_eq!(
            slugify("Alternative & Punk").as_deref(),
            Some("alternative-and-punk")
        );
        assert_eq!(slugify("R&B/Soul").as_deref(), Some("r-and-b-soul"));
        assert_eq!(slugify("Música Popular").as_deref(), Some("musica-popular"));
        assert_eq!(slugify("!!!"), None);
        assert!(is_slug("heavy-metal"));
        assert!(!is_slug("Heavy-Metal"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
        assert!(!is_slug(""));
    }
}
