//! Taxonomy terms and attachments in SQL: the seeded taxonomies, and admin writes, which run
//! in a `CatalogWrite` like every catalog write.

pub mod seed;
pub mod write;
