//! Catalog lists: filtered, sorted, keyset-paginated reads of one kind of entry, each
//! costing what its page costs whatever the catalog's size.
//!
//! A list is read in its order from the cursor on (`walk`, through each segment's
//! documents ranked once per order, `ranked`), checking filters per entry; a filter narrow
//! enough is read whole instead, ranked from fast fields (`scan`). The key is `(sort value,
//! id)`, so pages stay stable while entries are added or removed.

mod columns;
pub mod order;
mod position;
mod ranked;
mod scan;
mod walk;

use std::sync::Arc;

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{DocAddress, Term};

use super::budget::Budget;
use super::CatalogIndex;
use crate::catalog::Kind;
use columns::range_share;
pub(crate) use columns::{ColumnCache, SegmentColumns};

/// What a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Id,
    /// The folded name (see `sort_key`).
    Name,
    Milliseconds,
    Price,
    Popularity,
}

impl SortField {
    pub(crate) fn column(self) -> &'static str {
        match self {
            SortField::Id => "id",
            SortField::Name => "name_sort",
            SortField::Milliseconds => "milliseconds",
            SortField::Price => "price_cents",
            SortField::Popularity => "popularity",
        }
    }

    /// The sort whose order is that of a numeric column, when there is one.
    pub(crate) fn of_column(column: &str) -> Option<Self> {
        [
            SortField::Id,
            SortField::Milliseconds,
            SortField::Price,
            SortField::Popularity,
        ]
        .into_iter()
        .find(|sort| sort.column() == column)
    }
}

/// A position in a sorted list: the sort value and the id of the last entry seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Key {
    pub value: SortValue,
    pub id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum SortValue {
    Number(u64),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct ListRequest {
    pub kind: Kind,
    /// Fields that must equal a value (`album_id = 1`).
    pub equal: Vec<(&'static str, u64)>,
    /// Fields that must lie in an inclusive range.
    pub ranges: Vec<(&'static str, u64, u64)>,
    /// Taxonomy facets the entry must have (or have below it), e.g. `/genre/rock`.
    pub facets: Vec<String>,
    pub sort: SortField,
    pub descending: bool,
    pub after: Option<Key>,
    pub limit: usize,
}

impl ListRequest {
    /// Every entry of `kind` in one order, from the start; `limit` is 0 until set.
    pub fn unfiltered(kind: Kind, sort: SortField, descending: bool) -> Self {
        Self {
            kind,
            equal: Vec::new(),
            ranges: Vec::new(),
            facets: Vec::new(),
            sort,
            descending,
            after: None,
            limit: 0,
        }
    }
}

pub struct ListPage {
    /// Entries as stored JSON, in order.
    pub items: Vec<String>,
    /// Where the next page starts, when there is one.
    pub next: Option<Key>,
}

/// When a filtered list walks the order and when it reads the filter's matches.
///
/// A walk passes over about `entries / matches` entries of the kind for each one the filter
/// keeps (if the filter's entries are spread through the order); a scan ranks every match.
/// The list walks when the walk it expects fits its allowance, and scans otherwise or when
/// the walk overruns it (the filter's entries sit far down the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListTuning {
    /// Lists whose filters match at most this many entries read all their matches.
    pub scan_at_most: u64,
    /// A walk that passes over this many entries without filling its page stops and reads
    /// the filter's matches instead.
    pub walk_at_most: usize,
    /// How many entries a walk passes over in the time a scan ranks one of a filter's
    /// matches. A walk's allowance is also `matches * walk_per_scan` entries, so a walk that
    /// fails costs about what the scan after it costs, whatever the filter's width; and a
    /// list whose expected walk is longer scans at once. 0: walks are allowed
    /// `walk_at_most` whatever they are expected to cost.
    pub walk_per_scan: u64,
}

impl Default for ListTuning {
    fn default() -> Self {
        Self {
            scan_at_most: 256,
            // About 50 ms, the most a walk that was expected to be short may cost.
            walk_at_most: 2_000_000,
            // Measured at 1M tracks: a walk's step (an id from the order, the filter's
            // column reads) costs about 25 ns (57,604 price-filtered steps of
            // `sort=-milliseconds&max_price=0.99` in 1.4 ms), a scanned match (its
            // postings, two column reads and a heap compare) about 75 ns.
            walk_per_scan: 3,
        }
    }
}

impl ListTuning {
    /// How far a walk may go, or `None` when a scan costs less than the walk expected.
    fn walk_allowance(&self, keep: usize, matches: u64, entries: u64) -> Option<usize> {
        if matches <= self.scan_at_most {
            return None;
        }
        if self.walk_per_scan == 0 {
            return Some(self.walk_at_most);
        }
        let allowance = usize::try_from(matches.saturating_mul(self.walk_per_scan))
            .unwrap_or(usize::MAX)
            .min(self.walk_at_most);
        let expected = (keep as u128 * u128::from(entries)) / u128::from(matches.max(1));
        (expected <= allowance as u128).then_some(allowance)
    }
}

impl CatalogIndex {
    pub fn list(&self, request: &ListRequest, budget: &Budget) -> anyhow::Result<ListPage> {
        let searcher = self.reader.searcher();
        let columns = self.columns.of(&searcher)?;
        let keys = self.page_keys(&searcher, &columns, request, budget)?;

        // One entry more than a page is read: if it is there, so is a next page.
        let more = keys.len() > request.limit;
        let mut items = Vec::with_capacity(keys.len().min(request.limit));
        let mut next = None;
        for (key, address) in keys.into_iter().take(request.limit) {
            items.push(self.body_at(&searcher, address)?);
            next = Some(key);
        }
        Ok(ListPage {
            items,
            next: if more { next } else { None },
        })
    }

    /// The keys and addresses of the page and the entry after it, by the cheaper of two
    /// ways: walking the order (its cost the page, plus what a filter turns away), or
    /// ranking every match of a narrow filter.
    fn page_keys(
        &self,
        searcher: &tantivy::Searcher,
        columns: &[Arc<SegmentColumns>],
        request: &ListRequest,
        budget: &Budget,
    ) -> anyhow::Result<Vec<(Key, DocAddress)>> {
        let unfiltered =
            request.equal.is_empty() && request.ranges.is_empty() && request.facets.is_empty();
        if unfiltered {
            if let Some(keys) = walk::walk(self, searcher, columns, request, None, budget)? {
                return Ok(keys);
            }
        }
        let filter = self.filter_query(searcher, columns, request)?;
        // A genre's list walks only its tracks (`ranked::genre_scope`).
        let in_scope = match ranked::genre_scope(request) {
            Some(genre) => {
                searcher.doc_freq(&Term::from_field_u64(self.schema.field("genre_id"), genre))?
            }
            None => filter.entries,
        };
        // A range on the sorted field bounds the walk: it passes over only what lies inside.
        let walked = (in_scope as f64 * filter.sort_range_share.unwrap_or(1.0)).ceil() as u64;
        let allowance =
            self.list_tuning()
                .walk_allowance(request.limit + 1, filter.matches, walked);
        if let Some(at_most) = allowance {
            if let Some(keys) = walk::walk(self, searcher, columns, request, Some(at_most), budget)?
            {
                return Ok(keys);
            }
        }
        scan::scan(searcher, columns, &filter, request, budget)
    }

    /// The query of a list's kind and term filters, and what its filters are estimated to
    /// keep.
    fn filter_query(
        &self,
        searcher: &tantivy::Searcher,
        columns: &[Arc<SegmentColumns>],
        request: &ListRequest,
    ) -> anyhow::Result<Filter> {
        let mut terms = vec![Term::from_field_u64(
            self.schema.field("kind"),
            request.kind.code(),
        )];
        terms.extend(
            request
                .equal
                .iter()
                .map(|(field, value)| Term::from_field_u64(self.schema.field(field), *value)),
        );
        let entries = searcher.doc_freq(&terms[0])?;
        let mut matches = entries;
        for term in &terms[1..] {
            matches = matches.min(searcher.doc_freq(term)?);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|term| {
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                (Occur::Must, query)
            })
            .collect();
        for facet in &request.facets {
            let parsed = Facet::from_text(facet)
                .map_err(|e| anyhow::anyhow!("a stored term has an invalid facet {facet}: {e}"))?;
            matches =
                matches.min(searcher.doc_freq(&Term::from_facet(self.schema.taxonomy, &parsed))?);
            clauses.push((Occur::Must, self.facet_query(facet)?));
        }
        let (mut narrowest_range, mut sort_range_share) = (None::<(usize, f64)>, None);
        let sort_range = walk::sort_range(request);
        for (at, range @ (field, min, max)) in request.ranges.iter().enumerate() {
            let share = range_share(columns, field, *min, *max)?;
            if narrowest_range.is_none_or(|(_, narrowest)| share < narrowest) {
                narrowest_range = Some((at, share));
            }
            if Some(*range) == sort_range {
                sort_range_share = Some(share);
            }
            matches = matches.min((matches as f64 * share).ceil() as u64);
        }
        Ok(Filter {
            query: BooleanQuery::new(clauses),
            matches,
            entries,
            narrowest_range,
            sort_range_share,
        })
    }

    pub fn list_tuning(&self) -> ListTuning {
        *self.tuning.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes how filtered lists choose their way; tests use it to take each way on a
    /// small catalog.
    pub fn set_list_tuning(&self, tuning: ListTuning) {
        *self.tuning.write().unwrap_or_else(|e| e.into_inner()) = tuning;
    }

    /// Entries filed under a taxonomy facet or anywhere below it.
    pub(crate) fn facet_query(&self, facet: &str) -> anyhow::Result<Box<dyn Query>> {
        let facet = Facet::from_text(facet)
            .map_err(|e| anyhow::anyhow!("a stored term has an invalid facet {facet}: {e}"))?;
        Ok(Box::new(TermQuery::new(
            Term::from_facet(self.schema.taxonomy, &facet),
            IndexRecordOption::Basic,
        )))
    }
}

/// A list's term filters as a query, with what the filters are estimated to keep.
struct Filter {
    query: BooleanQuery,
    /// About how many entries every filter keeps (at most the narrowest term's document
    /// frequency, times each range's share).
    matches: u64,
    /// How many entries the kind has.
    entries: u64,
    /// Which range keeps the fewest entries, and about what share of them it keeps.
    narrowest_range: Option<(usize, f64)>,
    /// The same for a range on the sorted field, which bounds a walk (`walk::sort_range`).
    sort_range_share: Option<f64>,
}

impl CatalogIndex {
    /// The ids of an album's tracks, in id order (which is track order).
    pub fn album_track_ids(&self, album: i64) -> anyhow::Result<Vec<i64>> {
        let Ok(album) = u64::try_from(album) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let term = |field: &str, value: u64| -> (Occur, Box<dyn Query>) {
            let term = Term::from_field_u64(self.schema.field(field), value);
            (
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            )
        };
        let query = BooleanQuery::new(vec![
            term("kind", Kind::Track.code()),
            term("album_id", album),
        ]);
        let columns = self.columns.of(&searcher)?;
        let mut ids = Vec::new();
        for address in searcher.search(&query, &tantivy::collector::DocSetCollector)? {
            let column = columns[address.segment_ord as usize].u64("id")?;
            if let Some(id) = column.first(address.doc_id) {
                ids.push(id as i64);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}
