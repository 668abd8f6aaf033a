//! Taxonomy reads from the index: the term documents as a `TermSet`, and how many tracks,
//! albums and artists each term has. Both are computed once per index version and cached
//! until the next reload. Counts are kept per segment as well, over every document a
//! segment holds (segments never change), so after a write only the new segment is counted
//! and the documents the write deleted elsewhere are taken away: a reload costs the change,
//! not the catalog.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use super::CatalogIndex;
use crate::catalog::Kind;
use crate::model::tree::{TermCounts, TermSet, TermTally};
use crate::model::Term as TaxonomyTerm;

#[derive(Default)]
pub struct TermCache {
    set: RwLock<Option<Arc<TermSet>>>,
    counts: RwLock<Option<Arc<TermCounts>>>,
    /// Each segment's counts over all its documents, deleted or not, and the term set they
    /// were made under.
    segments: Mutex<HashMap<SegmentId, SegmentCounts>>,
}

/// A segment's counts and the term set they were made under.
type SegmentCounts = (Arc<TermSet>, Arc<TermCounts>);

impl TermCache {
    pub fn clear(&self) {
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = None;
        *self.counts.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

fn cached<T>(
    slot: &RwLock<Option<Arc<T>>>,
    make: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Arc<T>> {
    if let Some(value) = slot.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Ok(value.clone());
    }
    let value = Arc::new(make()?);
    *slot.write().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
    Ok(value)
}

impl CatalogIndex {
    /// Every taxonomy term in the index.
    pub fn term_set(&self) -> anyhow::Result<Arc<TermSet>> {
        cached(&self.terms.set, || {
            let searcher = self.reader.searcher();
            let term = Term::from_field_u64(self.schema.field("kind"), Kind::Term.code());
            let query = TermQuery::new(term, IndexRecordOption::Basic);
            let addresses = searcher.search(&query, &DocSetCollector)?;
            let mut terms = Vec::with_capacity(addresses.len());
            for address in addresses {
                let doc: TantivyDocument = searcher.doc(address)?;
                if let Some(body) = doc.get_first(self.schema.body).and_then(|v| v.as_str()) {
                    terms.push(serde_json::from_str::<TaxonomyTerm>(body)?);
                }
            }
            Ok(TermSet::new(terms))
        })
    }

    /// How many tracks, albums and artists every term has, directly and with its
    /// descendants.
    pub fn term_counts(&self) -> anyhow::Result<Arc<TermCounts>> {
        let set = self.term_set()?;
        cached(&self.terms.counts, || {
            let searcher = self.reader.searcher();
            let counter = TermCounter { set: set.clone() };
            let mut segments = self
                .terms
                .segments
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            segments.retain(|id, _| {
                searcher
                    .segment_readers()
                    .iter()
                    .any(|s| s.segment_id() == *id)
            });
            let mut total = TermCounts::new();
            for segment in searcher.segment_readers() {
                let id = segment.segment_id();
                let whole = match segments.get(&id) {
                    Some((made_under, counts)) if made_under.counts_alike(&set) => counts.clone(),
                    _ => {
                        let counts = Arc::new(counter.count(segment, |_| true)?);
                        segments.insert(id, (set.clone(), counts.clone()));
                        counts
                    }
                };
                add(&mut total, &whole, 1);
                if let Some(alive) = segment.alive_bitset() {
                    let deleted = counter.count(segment, |doc| !alive.is_alive(doc))?;
                    add(&mut total, &deleted, -1);
                }
            }
            Ok(total)
        })
    }
}

fn add(total: &mut TermCounts, part: &TermCounts, sign: i64) {
    for (id, counts) in part {
        total.entry(*id).or_default().add(counts, sign);
    }
}

impl TermCounter {
    /// The counts of one segment's documents that `wanted` keeps, deleted or not.
    fn count(
        &self,
        segment: &SegmentReader,
        wanted: impl Fn(DocId) -> bool,
    ) -> tantivy::Result<TermCounts> {
        let mut counting = self.for_segment(0, segment)?;
        for doc in 0..segment.max_doc() {
            if wanted(doc) {
                counting.collect(doc, 0.0);
            }
        }
        Ok(counting.harvest())
    }
}

/// Counts terms per kind of entry, each entry once per term.
struct TermCounter {
    set: Arc<TermSet>,
}

struct TermCounterSegment {
    kinds: Column<u64>,
    terms: Column<u64>,
    /// Direct counts by (term, kind).
    direct: HashMap<(i64, Kind), u64>,
    /// Counts with descendants: tracks, albums, artists.
    tallies: [TermTally; 3],
}

const COUNTED: [Kind; 3] = [Kind::Track, Kind::Album, Kind::Artist];

impl Collector for TermCounter {
    type Fruit = TermCounts;
    type Child = TermCounterSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        Ok(TermCounterSegment {
            kinds: fast.u64("kind")?,
            terms: fast.u64("term_id")?,
            direct: HashMap::new(),
            tallies: COUNTED.map(|_| TermTally::new(self.set.clone())),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<TermCounts>) -> tantivy::Result<TermCounts> {
        let mut all = TermCounts::new();
        for fruit in fruits {
            for (id, counts) in fruit {
                let total = all.entry(id).or_default();
                for kind in [Kind::Track, Kind::Album, Kind::Artist] {
                    let mut part = counts;
                    if let (Some(t), Some(p)) = (total.of_kind(kind), part.of_kind(kind)) {
                        t.direct += p.direct;
                        t.with_descendants += p.with_descendants;
                    }
                }
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for TermCounterSegment {
    type Fruit = TermCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(kind) = self.kinds.first(doc).and_then(Kind::from_code) else {
            return;
        };
        let Some(at) = COUNTED.iter().position(|k| *k == kind) else {
            return;
        };
        for term in self.terms.values_for_doc(doc) {
            *self.direct.entry((term as i64, kind)).or_default() += 1;
        }
        self.tallies[at].add(self.terms.values_for_doc(doc));
    }

    fn harvest(self) -> TermCounts {
        let mut counts = TermCounts::new();
        for ((term, kind), n) in self.direct {
            if let Some(c) = counts.entry(term).or_default().of_kind(kind) {
                c.direct = n;
            }
        }
        for (kind, tally) in COUNTED.iter().zip(&self.tallies) {
            for (term, n) in tally.counts() {
                if let Some(c) = counts.entry(term).or_default().of_kind(*kind) {
                    c.with_descendants = n;
                }
            }
        }
        counts
    }
}
