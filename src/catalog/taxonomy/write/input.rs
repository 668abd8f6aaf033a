//! The bodies of term and attachment writes, and the checks a term's fields pass before any
//! SQL runs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invalid;
use crate::catalog::write::check_name;
use crate::error::ApiResult;
use crate::model::terms::{is_slug, slugify, MAX_SLUG};

const MAX_DESCRIPTION: usize = 2_000;
const MAX_META_BYTES: usize = 16 * 1024;
/// Most entries one attach or detach request may name.
pub const MAX_ATTACH: usize = 10_000;

/// A term as written. On create, `slug` defaults to one made from the name; on update the
/// body is a merge patch of this.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermInput {
    #[serde(default)]
    pub slug: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The parent's slug, in the same type; `null` makes the term a root.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub sort_order: i64,
    /// A JSON object.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub meta: serde_json::Value,
}

pub(super) fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

/// Entries to attach a term to or detach it from.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachments {
    #[serde(default, deserialize_with = "crate::ids::whole_numbers")]
    pub tracks: Vec<i64>,
    #[serde(default, deserialize_with = "crate::ids::whole_numbers")]
    pub albums: Vec<i64>,
    #[serde(default, deserialize_with = "crate::ids::whole_numbers")]
    pub artists: Vec<i64>,
}

pub fn check_type(taxonomy: &str) -> ApiResult<()> {
    if is_slug(taxonomy) {
        Ok(())
    } else {
        Err(invalid(format!(
            "a taxonomy type is lower-case letters and digits in words joined by hyphens, at most {MAX_SLUG} characters; `{taxonomy}` is not"
        )))
    }
}

/// The checked fields of a term: (slug, name, description, meta as text).
pub(super) fn check_term(input: &TermInput) -> ApiResult<(String, String, Option<String>, String)> {
    let name = check_name("name", &input.name)?;
    let slug = match &input.slug {
        Some(slug) if is_slug(slug) => slug.clone(),
        Some(slug) => {
            return Err(invalid(format!(
                "slug must be lower-case letters and digits in words joined by hyphens, at most {MAX_SLUG} characters; `{slug}` is not"
            )))
        }
        None => slugify(&name).ok_or_else(|| {
            invalid("the name has no letters or digits to make a slug of; send a slug")
        })?,
    };
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(invalid(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    if !input.meta.is_object() {
        return Err(invalid("meta must be a JSON object"));
    }
    let meta = input.meta.to_string();
    if meta.len() > MAX_META_BYTES {
        return Err(invalid(format!(
            "meta is larger than {MAX_META_BYTES} bytes"
        )));
    }
    Ok((
        slug,
        name.to_string(),
        description.map(str::to_string),
        meta,
    ))
}
