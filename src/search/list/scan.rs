//! Lists of the entries a filter matches, for filters narrow enough that reading all their
//! matches costs less than walking the order: each match is ranked from fast-field columns
//! (a name by its ordinal in the segment's sorted column, never by its text) and only the
//! best `limit + 1` after the cursor are kept.

use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, DocSet, SegmentOrdinal, TERMINATED};

use super::{ranked, Filter, Key, ListRequest, SegmentColumns, SortField, SortValue};
use crate::search::budget::{Budget, CHECK_EVERY};

/// How a segment ranks its documents: a position in the list as one number, smaller first
/// whatever the direction.
enum Ranker {
    Number(Column<u64>),
    /// Names by ordinal: doubled plus one, so a cursor between two ordinals has a place.
    Name(StrColumn),
}

pub(super) struct SegmentRanks {
    ranker: Ranker,
    ids: Column<u64>,
    descending: bool,
    /// Only entries ranked after this are wanted.
    after: Option<u128>,
    /// The same place in the ascending order, whatever the list's direction.
    after_raw: Option<u128>,
}

impl SegmentRanks {
    pub(super) fn new(columns: &SegmentColumns, request: &ListRequest) -> anyhow::Result<Self> {
        let ranker = match request.sort {
            SortField::Name => Ranker::Name(columns.name.clone()),
            other => Ranker::Number(columns.u64(other.column())?.clone()),
        };
        let mut ranks = Self {
            ranker,
            ids: columns.u64("id")?.clone(),
            descending: request.descending,
            after: None,
            after_raw: None,
        };
        ranks.after_raw = match &request.after {
            None => None,
            Some(key) => Some(ranks.cursor_raw(key)?),
        };
        ranks.after = ranks.after_raw.map(|raw| ranks.directed(raw));
        Ok(ranks)
    }

    /// Where the cursor falls in the ascending order, when there is one.
    pub(super) fn after_raw(&self) -> Option<u128> {
        self.after_raw
    }

    fn directed(&self, raw: u128) -> u128 {
        if self.descending {
            !raw
        } else {
            raw
        }
    }

    /// Where the cursor falls among this segment's entries, in the ascending order.
    fn cursor_raw(&self, key: &Key) -> anyhow::Result<u128> {
        let (value, id) = match (&self.ranker, &key.value) {
            (Ranker::Number(_), SortValue::Number(v)) => (*v, key.id),
            (Ranker::Name(column), SortValue::Text(text)) => {
                let mut terms = column
                    .dictionary()
                    .range()
                    .ge(text.as_bytes())
                    .into_stream()?;
                if terms.advance() {
                    let ordinal = terms.term_ord();
                    if terms.key() == text.as_bytes() {
                        (2 * ordinal + 1, key.id)
                    } else {
                        // Between two names: no entry ranks here, so the id does not matter.
                        (2 * ordinal, 0)
                    }
                } else {
                    (2 * column.dictionary().num_terms() as u64, 0)
                }
            }
            _ => anyhow::bail!("a cursor's key does not fit its sort"),
        };
        Ok(raw(value, id))
    }

    /// A document's place in the ascending order, whatever the list's direction.
    pub(super) fn raw(&self, doc: tantivy::DocId) -> u128 {
        let value = match &self.ranker {
            Ranker::Number(column) => column.first(doc).unwrap_or(0),
            Ranker::Name(column) => column.ords().first(doc).map_or(0, |ord| 2 * ord + 1),
        };
        raw(value, self.ids.first(doc).unwrap_or(0))
    }

    fn rank(&self, doc: tantivy::DocId) -> u128 {
        self.directed(self.raw(doc))
    }

    /// The list keys of ranked documents. Names come from the column's dictionary in one
    /// pass over their ordinals, in order: a page's names sit side by side there, mostly
    /// in one block, where looking each up alone would decode its block once per name.
    pub(super) fn keys(&self, docs: &[tantivy::DocId]) -> anyhow::Result<Vec<Key>> {
        let ids = docs.iter().map(|&doc| self.ids.first(doc).unwrap_or(0));
        match &self.ranker {
            Ranker::Number(column) => Ok(docs
                .iter()
                .zip(ids)
                .map(|(&doc, id)| Key {
                    value: SortValue::Number(column.first(doc).unwrap_or(0)),
                    id,
                })
                .collect()),
            Ranker::Name(column) => {
                let ords: Vec<Option<u64>> =
                    docs.iter().map(|&doc| column.ords().first(doc)).collect();
                let mut sorted: Vec<u64> = ords.iter().flatten().copied().collect();
                sorted.sort_unstable();
                sorted.dedup();
                let mut names = Vec::with_capacity(sorted.len());
                column
                    .dictionary()
                    .sorted_ords_to_term_cb(&sorted, |bytes| {
                        names.push(String::from_utf8_lossy(bytes).into_owned());
                    })?;
                Ok(ords
                    .iter()
                    .zip(ids)
                    .map(|(ord, id)| {
                        let name = ord
                            .and_then(|ord| sorted.binary_search(&ord).ok())
                            .and_then(|at| names.get(at).cloned())
                            .unwrap_or_default();
                        Key {
                            value: SortValue::Text(name),
                            id,
                        }
                    })
                    .collect())
            }
        }
    }
}

/// A sort value and an id as one number, in their order.
pub(super) fn raw(value: u64, id: u64) -> u128 {
    (u128::from(value) << 64) | u128::from(id)
}

pub(super) fn scan(
    searcher: &tantivy::Searcher,
    columns: &[Arc<SegmentColumns>],
    filter: &Filter,
    request: &ListRequest,
    budget: &Budget,
) -> anyhow::Result<Vec<(Key, DocAddress)>> {
    let keep = request.limit + 1;
    let query = &filter.query;
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut found = Vec::new();
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let columns = &columns[ordinal];
        let ranks = SegmentRanks::new(columns, request)?;
        // The narrowest range first: it is the one that can go first (below).
        let mut ranged = request.ranges.clone();
        if let Some((at, _)) = filter.narrowest_range {
            ranged.swap(0, at);
        }
        let ranges = ranged
            .iter()
            .map(|(field, min, max)| Ok((columns.u64(field)?, *min, *max)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let ranged_field = ranged.first().map_or("", |(field, ..)| *field);
        // The best `keep` so far; the top is the worst of them.
        let mut best: BinaryHeap<(u128, tantivy::DocId)> = BinaryHeap::with_capacity(keep + 1);
        // `known` ranges are known to hold for the document offered.
        let mut offer = |doc: tantivy::DocId, known: usize| {
            let alive = segment
                .alive_bitset()
                .is_none_or(|alive| alive.is_alive(doc));
            let in_ranges = ranges[known..].iter().all(|(column, min, max)| {
                column.first(doc).is_some_and(|v| v >= *min && v <= *max)
            });
            if alive && in_ranges {
                let rank = ranks.rank(doc);
                let wanted = ranks.after.is_none_or(|after| rank > after);
                if wanted && (best.len() < keep || best.peek().is_some_and(|worst| rank < worst.0))
                {
                    best.push((rank, doc));
                    if best.len() > keep {
                        best.pop();
                    }
                }
            }
        };
        let mut scorer = weight.scorer(segment, 1.0)?;
        let mut seen = 0u32;
        match ranges.first() {
            // The range's documents come from its order, at a few nanoseconds each, where
            // each of the query's matches costs tens: the range goes first when the query's
            // matches are many and the range keeps few of them.
            Some((_, min, max))
                if by_range(
                    scorer.size_hint(),
                    segment.max_doc(),
                    filter.narrowest_range.map(|(_, share)| share),
                ) =>
            {
                let sort = SortField::of_column(ranged_field)
                    .ok_or_else(|| anyhow::anyhow!("{ranged_field} has no list order"))?;
                let candidates = ranked::within(columns, request.kind, sort, *min, *max)?;
                // An order holds the documents without a value too (ranked as 0), so a
                // range from 0 is checked again.
                let known = usize::from(*min > 0);
                for doc in candidates {
                    seen = seen.wrapping_add(1);
                    if seen.is_multiple_of(CHECK_EVERY) {
                        budget.check()?;
                    }
                    if scorer.doc() <= doc && scorer.seek(doc) == doc {
                        offer(doc, known);
                    }
                }
            }
            _ => {
                let mut doc = scorer.doc();
                while doc != TERMINATED {
                    seen = seen.wrapping_add(1);
                    if seen.is_multiple_of(CHECK_EVERY) {
                        budget.check()?;
                    }
                    offer(doc, 0);
                    doc = scorer.advance();
                }
            }
        }
        let docs: Vec<tantivy::DocId> = best
            .into_sorted_vec()
            .into_iter()
            .map(|(_, doc)| doc)
            .collect();
        for (key, doc) in ranks.keys(&docs)?.into_iter().zip(docs) {
            found.push((key, DocAddress::new(ordinal as SegmentOrdinal, doc)));
        }
    }
    found.sort_by(|a, b| {
        let order = a.0.cmp(&b.0);
        if request.descending {
            order.reverse()
        } else {
            order
        }
    });
    found.truncate(keep);
    Ok(found)
}

/// Whether a segment's scan reads a range's documents from its column first: when the
/// query matches a good part of the segment, and the range keeps under half of that.
fn by_range(query_matches: u32, docs: u32, share: Option<f64>) -> bool {
    let in_range = share.unwrap_or(1.0) * f64::from(docs);
    query_matches > docs / 16 && in_range < f64::from(query_matches) / 2.0
}
