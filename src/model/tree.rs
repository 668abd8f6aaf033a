//! The terms of every taxonomy as one in-memory set, with the hierarchy walks the read API
//! and facets need. It is built from the index's term documents and rebuilt when the index
//! changes, so it is never stale and never touches SQL.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{Kind, Term};

#[derive(Debug, Default)]
pub struct TermSet {
    terms: HashMap<i64, Term>,
    by_slug: HashMap<(String, String), i64>,
    /// Children of each term (or of each type's root, under `None`), in display order.
    children: HashMap<(String, Option<i64>), Vec<i64>>,
    /// By term id: the term and its ancestors, for counting. Ids are small integers from
    /// the database's sequence, so a vector indexed by id beats a map in the hot loop.
    lineage: Vec<Vec<u32>>,
}

/// How many entries of one kind carry a term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct KindCounts {
    /// Attached to the term itself.
    pub direct: u64,
    /// Attached to the term or any term below it, each entry counted once.
    pub with_descendants: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub tracks: KindCounts,
    pub albums: KindCounts,
    pub artists: KindCounts,
}

impl Counts {
    /// Adds `other`'s counts to these, or takes them away.
    pub fn add(&mut self, other: &Counts, sign: i64) {
        for (mine, theirs) in [
            (&mut self.tracks, &other.tracks),
            (&mut self.albums, &other.albums),
            (&mut self.artists, &other.artists),
        ] {
            mine.direct = mine
                .direct
                .saturating_add_signed(sign * theirs.direct as i64);
            mine.with_descendants = mine
                .with_descendants
                .saturating_add_signed(sign * theirs.with_descendants as i64);
        }
    }

    pub fn of_kind(&mut self, kind: Kind) -> Option<&mut KindCounts> {
        match kind {
            Kind::Track => Some(&mut self.tracks),
            Kind::Album => Some(&mut self.albums),
            Kind::Artist => Some(&mut self.artists),
            Kind::Genre | Kind::MediaType | Kind::Playlist | Kind::Term => None,
        }
    }
}

/// Counts of every term, by term id.
pub type TermCounts = HashMap<i64, Counts>;

impl TermSet {
    /// Whether counts made under `other` hold under this set: the same terms with the same
    /// ancestors.
    pub fn counts_alike(&self, other: &TermSet) -> bool {
        self.lineage == other.lineage
    }

    pub fn new(terms: impl IntoIterator<Item = Term>) -> Self {
        let mut set = TermSet::default();
        for term in terms {
            set.by_slug
                .insert((term.taxonomy.clone(), term.slug.clone()), term.id);
            set.children
                .entry((term.taxonomy.clone(), term.parent_id))
                .or_default()
                .push(term.id);
            set.terms.insert(term.id, term);
        }
        let terms = &set.terms;
        for siblings in set.children.values_mut() {
            siblings.sort_by(|a, b| {
                let (a, b) = (&terms[a], &terms[b]);
                (a.sort_order, &a.name, a.id).cmp(&(b.sort_order, &b.name, b.id))
            });
        }
        let slots = set
            .terms
            .keys()
            .filter_map(|&id| usize::try_from(id).ok())
            .filter(|&id| id <= MAX_DENSE_ID)
            .max()
            .map_or(0, |max| max + 1);
        let mut lineage = vec![Vec::new(); slots];
        for &id in set.terms.keys() {
            if let Some(slot) = usize::try_from(id).ok().and_then(|i| lineage.get_mut(i)) {
                slot.push(id as u32);
                slot.extend(set.ancestors(id).iter().map(|t| t.id as u32));
            }
        }
        set.lineage = lineage;
        set
    }

    pub fn get(&self, id: i64) -> Option<&Term> {
        self.terms.get(&id)
    }

    pub fn find(&self, taxonomy: &str, slug: &str) -> Option<&Term> {
        self.by_slug
            .get(&(taxonomy.to_string(), slug.to_string()))
            .and_then(|id| self.terms.get(id))
    }

    /// Every type with its number of terms, by name.
    pub fn types(&self) -> Vec<(String, usize)> {
        let mut types: HashMap<&str, usize> = HashMap::new();
        for term in self.terms.values() {
            *types.entry(&term.taxonomy).or_default() += 1;
        }
        let mut types: Vec<(String, usize)> =
            types.into_iter().map(|(t, n)| (t.to_string(), n)).collect();
        types.sort();
        types
    }

    /// The children of `parent` (the roots for `None`), in display order.
    pub fn children(&self, taxonomy: &str, parent: Option<i64>) -> Vec<&Term> {
        self.children
            .get(&(taxonomy.to_string(), parent))
            .map(|ids| ids.iter().filter_map(|id| self.terms.get(id)).collect())
            .unwrap_or_default()
    }

    /// The ancestors of a term, root first.
    pub fn ancestors(&self, id: i64) -> Vec<&Term> {
        let mut chain = Vec::new();
        let mut next = self.terms.get(&id).and_then(|t| t.parent_id);
        // The bound guards against a cycle, which writes refuse but a bug could make.
        while let Some(parent) = next.and_then(|p| self.terms.get(&p)) {
            if chain.len() > self.terms.len() {
                break;
            }
            chain.push(parent);
            next = parent.parent_id;
        }
        chain.reverse();
        chain
    }
}

/// Term ids above this are not counted (sequences this far apart mean something is off).
const MAX_DENSE_ID: usize = 1 << 24;

/// Counts entries per term, each entry once under every term it is filed under or below,
/// with no allocation or hashing per entry.
pub struct TermTally {
    set: Arc<TermSet>,
    counts: Vec<u64>,
    /// The entry that last counted each term, so one entry counts an ancestor once.
    seen: Vec<u32>,
    entry: u32,
}

impl TermTally {
    pub fn new(set: Arc<TermSet>) -> Self {
        let slots = set.lineage.len();
        Self {
            set,
            counts: vec![0; slots],
            seen: vec![0; slots],
            entry: 0,
        }
    }

    /// Counts one entry with these terms.
    pub fn add(&mut self, terms: impl Iterator<Item = u64>) {
        self.add_many(terms, 1);
    }

    /// Counts `entries` entries that all have these terms.
    pub fn add_many(&mut self, terms: impl Iterator<Item = u64>, entries: u64) {
        self.entry = self.entry.wrapping_add(1);
        for term in terms {
            let Some(lineage) = self.set.lineage.get(term as usize) else {
                continue;
            };
            for &id in lineage {
                let id = id as usize;
                if self.seen[id] != self.entry {
                    self.seen[id] = self.entry;
                    self.counts[id] += entries;
                }
            }
        }
    }

    /// The terms counted, with their counts.
    pub fn counts(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(id, n)| (id as i64, *n))
    }
}
