//! Subsonic pages by `offset`; the index pages by cursor (keyset). Each page served records
//! the cursor where the next one starts, so a client walking forward (an offline sync, an
//! endless album list) costs one keyset page per request however deep it goes, and a jump
//! to a far offset starts from the nearest recorded cursor or, in an unfiltered list, from
//! the index's own count of its order terms (`CatalogIndex::position`), and steps from there,
//! recording as it goes, instead of collecting and discarding everything before it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::search::{Budget, CatalogIndex, Key, ListRequest};

/// How far one step of a walk to an unrecorded offset goes.
const STEP: usize = 1_000;
/// Lists (kind, sort and filters, at one catalog version) remembered at once.
const MAX_LISTS: usize = 256;
/// Cursors remembered per list.
const MAX_CURSORS: usize = 8_192;

#[derive(Default)]
pub struct Checkpoints(Mutex<HashMap<String, BTreeMap<u64, Key>>>);

impl Checkpoints {
    /// The nearest recorded cursor at or before `offset`: where it is, and the cursor.
    pub fn floor_of(&self, list: &str, offset: u64) -> (u64, Option<Key>) {
        self.floor(list, offset)
    }

    pub fn remember(&self, list: &str, offset: u64, key: Key) {
        self.record(list, offset, key)
    }

    fn floor(&self, list: &str, offset: u64) -> (u64, Option<Key>) {
        let lists = self.0.lock().expect("not poisoned");
        lists
            .get(list)
            .and_then(|cursors| cursors.range(..=offset).next_back())
            .map_or((0, None), |(at, key)| (*at, Some(key.clone())))
    }

    fn record(&self, list: &str, offset: u64, key: Key) {
        let mut lists = self.0.lock().expect("not poisoned");
        if !lists.contains_key(list) && lists.len() >= MAX_LISTS {
            lists.clear();
        }
        let cursors = lists.entry(list.to_string()).or_default();
        if cursors.len() >= MAX_CURSORS {
            cursors.clear();
        }
        cursors.insert(offset, key);
    }

    /// The entries of `request` (its own cursor and limit ignored) from `offset`, at most
    /// `size` of them, as stored JSON.
    pub fn page(
        &self,
        index: &CatalogIndex,
        budget: &Budget,
        request: &ListRequest,
        offset: u64,
        size: usize,
    ) -> anyhow::Result<Vec<String>> {
        let mut base = request.clone();
        base.after = None;
        base.limit = 0;
        let list = format!("{}|{base:?}", index.applied_change());
        let (mut at, mut after) = self.floor(&list, offset);
        // Far from every recorded cursor: an unfiltered list's order terms are numbered,
        // so the way there is a search, not a walk.
        if offset - at > STEP as u64 {
            if let Some((position, cursor)) = index.position(&base, offset)? {
                if position > at {
                    (at, after) = (position, Some(cursor));
                }
            }
        }
        while at < offset {
            let step = STEP.min((offset - at) as usize);
            let page = index.list(
                &ListRequest {
                    after: after.clone(),
                    limit: step,
                    ..base.clone()
                },
                budget,
            )?;
            match page.next {
                Some(next) if page.items.len() == step => {
                    at += step as u64;
                    self.record(&list, at, next.clone());
                    after = Some(next);
                }
                // The list ends before the offset.
                _ => return Ok(Vec::new()),
            }
        }
        if size == 0 {
            return Ok(Vec::new());
        }
        let page = index.list(
            &ListRequest {
                after,
                limit: size,
                ..base
            },
            budget,
        )?;
        if let Some(next) = page.next {
            self.record(&list, offset + page.items.len() as u64, next);
        }
        Ok(page.items)
    }
}
