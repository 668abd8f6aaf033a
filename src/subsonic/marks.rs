//! The account's marks on the entries of one answer: which tracks it owns (or that it may
//! hear in full as staff), their audio files, and its stars, ratings and plays, fetched once
//! per page with queries bounded by the page's ids.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::Failure;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::annotations::{self, Item};
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
    /// Fetches the marks for these tracks, albums and artists: a few queries, each bounded
    /// by the ids given.
    pub async fn fetch(
        state: &AppState,
        account: &Account,
        tracks: &[i64],
        albums: &[i64],
        artists: &[i64],
    ) -> Result<Self, Failure> {
        let db = &state.db;
        let mut marks = Marks {
            everything: matches!(account.role, Role::Staff | Role::Admin),
            ..Default::default()
        };
        if let (Role::Customer, Some(customer)) = (account.role, account.customer_id) {
            marks.owned = annotations::owned_among(db, customer, tracks).await?;
        }
        marks.audio = annotations::audio_among(db, tracks).await?;
        for (item, ids) in [
            (Item::Track, tracks),
            (Item::Album, albums),
            (Item::Artist, artists),
        ] {
            for (id, at) in annotations::stars_of(db, account.id, item, ids).await? {
                marks.stars.insert((item, id), at);
            }
            for (id, rating) in annotations::ratings_of(db, account.id, item, ids).await? {
                marks.ratings.insert((item, id), rating);
            }
        }
        marks.plays = crate::store::plays::plays_of(db, account.id, tracks).await?;
        Ok(marks)
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
