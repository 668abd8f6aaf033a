//! Taxonomies: typed, hierarchical terms (`genre`, `format`, `length`, and any type an admin
//! adds) attached to tracks, albums and artists.
//!
//! SQL holds the terms and attachments; the index holds a document per term and, on every
//! track, album and artist, the hierarchical facet paths of its terms, so a filter on
//! `genre:rock` also finds what is filed under `genre:heavy-metal` below it. Trees, counts
//! and term pages are read from the index (see `TermSet`).

pub mod views;

pub use crate::model::terms::{is_slug, slugify, Term, ENTITY_KINDS, MAX_SLUG};
pub use crate::model::tree::{Counts, KindCounts, TermCounts, TermSet, TermTally};
