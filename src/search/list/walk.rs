//! Lists read straight off the order terms' dictionary, from the cursor on: the cost is the
//! page (plus the entries a filter turns away), not the catalog.

use std::sync::Arc;

use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocAddress, DocId, DocSet, SegmentOrdinal, SegmentReader, TERMINATED};

use super::order;
use super::{Key, ListRequest, SegmentColumns, SortField, SortValue};
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
        let equal = beyond_scope(request)
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
/// pass over more than `at_most` terms (a filter that turns most entries away), where a scan
/// of the filter's matches costs less.
pub(super) fn walk(
    index: &CatalogIndex,
    searcher: &tantivy::Searcher,
    columns: &[Arc<SegmentColumns>],
    request: &ListRequest,
    at_most: Option<usize>,
    budget: &Budget,
) -> anyhow::Result<Option<Vec<(Key, DocAddress)>>> {
    // Descending orders have terms of their own, read forward like the ascending ones.
    let genre = order::genre_scope(request);
    let term = |value: u64, id: u64| {
        let key = Key {
            value: SortValue::Number(value),
            id,
        };
        order::term(request.kind, request.sort, request.descending, genre, &key)
    };
    // A range on the sorted field bounds the walk instead of turning entries away: it
    // starts where the range begins in the list's direction and ends where it ends.
    let prefix = order::prefix(request.kind, request.sort, request.descending, genre);
    let (start, end, end_inclusive) = match (sort_range(request), request.descending) {
        (None, _) => {
            let end = order::prefix_end(&prefix);
            (prefix, end, false)
        }
        (Some((_, min, max)), false) => (term(min, 0), term(max, u64::MAX), true),
        (Some((_, min, max)), true) => (term(max, u64::MAX), term(min, 0), true),
    };
    let cursor = request
        .after
        .as_ref()
        .map(|key| order::term(request.kind, request.sort, request.descending, genre, key))
        .filter(|cursor| *cursor >= start);
    let keep = request.limit + 1;
    let mut found: Vec<(Key, DocAddress)> = Vec::new();
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let filter = SegmentFilter::new(index, searcher, segment, &columns[ordinal], request)?;
        let inverted = segment.inverted_index(index.schema.order)?;
        let range = inverted.terms().range();
        let range = match &cursor {
            None => range.ge(&start),
            Some(cursor) => range.gt(cursor),
        };
        let range = if end_inclusive {
            range.le(&end)
        } else {
            range.lt(&end)
        };
        let mut terms = range.into_stream()?;
        let (mut taken, mut walked) = (0, 0usize);
        'terms: while terms.advance() {
            walked += 1;
            if walked.is_multiple_of(CHECK_EVERY as usize) {
                budget.check()?;
            }
            if at_most.is_some_and(|most| walked > most) {
                return Ok(None);
            }
            let mut postings =
                inverted.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                let alive = segment
                    .alive_bitset()
                    .is_none_or(|alive| alive.is_alive(doc));
                if alive && filter.accepts(doc) {
                    let key = order::key_of(request.sort, terms.key())
                        .ok_or_else(|| anyhow::anyhow!("an order term is malformed"))?;
                    found.push((key, DocAddress::new(ordinal as SegmentOrdinal, doc)));
                    taken += 1;
                    if taken == keep {
                        break 'terms;
                    }
                }
                doc = postings.advance();
            }
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

/// The equality filters a walk checks per entry: all but the genre whose own order it walks.
pub(super) fn beyond_scope(request: &ListRequest) -> impl Iterator<Item = &(&'static str, u64)> {
    let genre = order::genre_scope(request);
    request
        .equal
        .iter()
        .filter(move |(field, value)| !(*field == "genre_id" && Some(*value) == genre))
}

/// The range on the field a numeric list is sorted by, when it has one (the first, if
/// several: the walk checks the others per entry).
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
