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
