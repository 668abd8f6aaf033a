//! Lists read in order from the cursor on, through each segment's ranked documents
//! (`ranked`), checking filters per entry from fast-field columns: the cost is the page
//! (plus the entries a filter turns away, a few nanoseconds each), not the catalog.

use std::sync::Arc;

use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query};
use tantivy::{BitSet, DocAddress, DocId, DocSet, SegmentOrdinal, SegmentReader, TERMINATED};

use super::ranked;
use super::scan::SegmentRanks;
use super::{Key, ListRequest, SegmentColumns, SortField};
use crate::search::budget::{Budget, CHECK_EVERY};
use crate::search::CatalogIndex;

/// What an entry must satisfy besides its kind, checked per document.
struct SegmentFilter {
    equal: Vec<(tantivy::columnar::Column<u64>, u64)>,
    ranges: Vec<(tantivy::columnar::Column<u64>, u64, u64)>,
    /// Documents filed under every facet asked for, when facets are asked for.
    facets: Option<BitSet>,
}

impl SegmentFilter {
    fn new(
        index: &CatalogIndex,
        searcher: &tantivy::Searcher,
        segment: &SegmentReader,
        columns: &SegmentColumns,
        request: &ListRequest,
    ) -> anyhow::Result<Self> {
        let equal = request
            .equal
            .iter()
            .map(|(field, value)| Ok((columns.u64(field)?.clone(), *value)))
            .collect::<anyhow::Result<_>>()?;
        let ranges = request
            .ranges
            .iter()
            .map(|(field, min, max)| Ok((columns.u64(field)?.clone(), *min, *max)))
            .collect::<anyhow::Result<_>>()?;
        let facets = if request.facets.is_empty() {
            None
        } else {
            let clauses = request
                .facets
                .iter()
                .map(|facet| Ok((Occur::Must, index.facet_query(facet)?)))
                .collect::<anyhow::Result<Vec<(Occur, Box<dyn Query>)>>>()?;
            let query = BooleanQuery::new(clauses);
            let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
            let mut scorer = weight.scorer(segment, 1.0)?;
            let mut docs = BitSet::with_max_value(segment.max_doc().max(1));
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                docs.insert(doc);
                doc = scorer.advance();
            }
            Some(docs)
        };
        Ok(Self {
            equal,
            ranges,
            facets,
        })
    }

    fn accepts(&self, doc: DocId) -> bool {
        self.equal
            .iter()
            .all(|(column, value)| column.values_for_doc(doc).any(|v| v == *value))
            && self
                .ranges
                .iter()
                .all(|(column, min, max)| column.first(doc).is_some_and(|v| v >= *min && v <= *max))
            && self.facets.as_ref().is_none_or(|docs| docs.contains(doc))
    }
}

/// The next `limit + 1` entries after the cursor, in order; `None` when some segment had to
/// pass over more than `at_most` entries (a filter that turns most entries away), where a
/// scan of the filter's matches costs less.
pub(super) fn walk(
    index: &CatalogIndex,
    searcher: &tantivy::Searcher,
    columns: &[Arc<SegmentColumns>],
    request: &ListRequest,
    at_most: Option<usize>,
    budget: &Budget,
) -> anyhow::Result<Option<Vec<(Key, DocAddress)>>> {
    let keep = request.limit + 1;
    let mut found: Vec<(Key, DocAddress)> = Vec::new();
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let columns = &columns[ordinal];
        let genre = ranked::genre_scope(request);
        let order = columns
            .orders
            .within_genre(columns, request.kind, request.sort, genre)?;
        let ranks = SegmentRanks::new(columns, request)?;
        let filter = SegmentFilter::new(index, searcher, segment, columns, request)?;
        let (start, end) = bounds(&order, &ranks, request);
        let alive = segment.alive_bitset();
        let mut docs = Vec::with_capacity(keep);
        let mut entries = order[start..end].iter();
        let mut walked = 0usize;
        while docs.len() < keep {
            let next = if request.descending {
                entries.next_back()
            } else {
                entries.next()
            };
            let Some(&doc) = next else { break };
            walked += 1;
            if walked.is_multiple_of(CHECK_EVERY as usize) {
                budget.check()?;
            }
            if at_most.is_some_and(|most| walked > most) {
                return Ok(None);
            }
            if alive.is_none_or(|alive| alive.is_alive(doc)) && filter.accepts(doc) {
                docs.push(doc);
            }
        }
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
    Ok(Some(found))
}

/// The part of a segment's order a list may take its entries from: after the cursor, and
/// within a range on the sorted field (which bounds the walk instead of turning entries
/// away), as `start..end` in ascending order.
fn bounds(order: &[DocId], ranks: &SegmentRanks, request: &ListRequest) -> (usize, usize) {
    let (mut start, mut end) = match sort_range(request) {
        Some((_, min, max)) => ranked::span(order, ranks, min, max),
        None => (0, order.len()),
    };
    if let Some(after) = ranks.after_raw() {
        let place = order.partition_point(|&doc| {
            let raw = ranks.raw(doc);
            if request.descending {
                raw < after
            } else {
                raw <= after
            }
        });
        if request.descending {
            end = end.min(place);
        } else {
            start = start.max(place);
        }
    }
    (start, end.max(start))
}

/// The range on the field a numeric list is sorted by, when it has one (the first, if
/// several: the others are checked per entry).
pub(super) fn sort_range(request: &ListRequest) -> Option<(&'static str, u64, u64)> {
    if matches!(request.sort, SortField::Id | SortField::Name) {
        return None;
    }
    request
        .ranges
        .iter()
        .find(|(field, ..)| *field == request.sort.column())
        .copied()
}
