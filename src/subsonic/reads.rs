//! The Subsonic API's index work, on the blocking pool within the read deadline, through
//! `AppState::read_catalog`, as the REST API's reads are: a slow read never holds an HTTP
//! worker, and a client that hangs up cancels it.

use std::sync::Arc;

use super::{Failure, Shared};
use crate::search::{Budget, CatalogIndex};
use crate::state::AppState;

/// Runs `work` against the index on the blocking pool. A read past the deadline is a
/// Subsonic error (code 0, "retry shortly") in the requested format.
pub async fn on_index<T, F>(state: &AppState, shared: &Arc<Shared>, work: F) -> Result<T, Failure>
where
    T: Send + 'static,
    F: FnOnce(&CatalogIndex, &Budget, &Shared) -> Result<T, Failure> + Send + 'static,
{
    let shared = shared.clone();
    state
        .read_catalog(move |index, budget| Ok(work(index, budget, &shared)))
        .await?
}
