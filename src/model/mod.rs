//! The catalog's vocabulary, shared by SQL, the index and the read API: entry kinds and
//! their representations, taxonomy terms and trees, and the words and sort keys names are
//! read as. A leaf: it depends on nothing of the service above `money`.

pub mod entries;
pub mod terms;
pub mod tree;
pub mod words;

pub use entries::{Album, Artist, Entry, Group, Kind, Record, Track};
pub use terms::Term;
pub use words::sort_key;
