//! Chinook: a music store and streaming service over the Chinook catalog.
//!
//! The binary (`main.rs`) is a thin command line over this library; the integration tests
//! start the same application on a random port.

pub mod browse;
pub mod cache;
pub mod catalog;
pub mod cidr;
pub mod config;
pub mod db;
pub mod error;
pub mod hex;
pub mod http;
pub mod ids;
pub mod media;
pub mod memo;
pub mod metrics;
pub mod model;
pub mod money;
pub mod paging;
pub mod progress;
pub mod routes;
pub mod search;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod storefront;
pub mod streaming;
pub mod subsonic;
pub mod taxonomy;
pub mod telemetry;
pub mod text;

/// Rust's allocations go to mimalloc, in the binary and in the tests alike: with glibc's
/// malloc, allocating and freeing took a seventh of a cold catalog list (many small,
/// short-lived strings and vectors), which mimalloc's thread-local free lists make cheap.
/// C code (SQLite, LAME) keeps the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
