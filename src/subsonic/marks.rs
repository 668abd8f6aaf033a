//! The account's marks on the entries of one answer: which tracks it owns (or that it may
//! hear in full as staff), their audio files, and its stars, ratings and plays, fetched once
//! per page in one query bounded by the page's ids.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::Failure;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::Item;
use crate::store::page_marks::{page_marks, PageIds};
use crate::store::Role;

/// The account's marks on the entries of one answer.
#[derive(Default)]
pub struct Marks {
    /// Staff and admins stream everything in full.
    pub(super) everything: bool,
    pub(super) owned: HashSet<i64>,
    pub(super) audio: HashMap<i64, (String, i64)>,
    pub(super) stars: HashMap<(Item, i64), String>,
    pub(super) ratings: HashMap<(Item, i64), i64>,
    pub(super) plays: HashMap<i64, (i64, String)>,
}

impl Marks {
    /// Fetches the marks for these tracks, albums and artists: one query for the page,
    /// bounded by the ids given.
    pub async fn fetch(
        state: &AppState,
        account: &Account,
        tracks: &[i64],
        albums: &[i64],
        artists: &[i64],
    ) -> Result<Self, Failure> {
        let customer = match account.role {
            Role::Customer => account.customer_id,
            Role::Staff | Role::Admin => None,
        };
        let ids = PageIds {
            tracks,
            albums,
            artists,
        };
        let found = page_marks(&state.db, account.id, customer, ids).await?;
        Ok(Marks {
            everything: matches!(account.role, Role::Staff | Role::Admin),
            owned: found.owned,
            audio: found.audio,
            stars: found.stars,
            ratings: found.ratings,
            plays: found.plays,
        })
    }

    pub fn full_stream(&self, track: i64) -> bool {
        self.everything || self.owned.contains(&track)
    }

    pub(super) fn annotate(&self, out: &mut Map<String, Value>, item: Item, id: i64) {
        if let Some(at) = self.stars.get(&(item, id)) {
            out.insert("starred".into(), Value::from(at.clone()));
        }
        if let Some(rating) = self.ratings.get(&(item, id)) {
            out.insert("userRating".into(), Value::from(*rating));
        }
    }
}
