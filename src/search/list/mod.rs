//! Catalog lists: filtered, sorted, keyset-paginated reads of one kind of entry, each
//! costing what its page costs whatever the catalog's size.
//!
//! A list is read in the order's own index terms from the cursor on (`walk`), checking
//! filters per entry; a filter narrow enough is read whole instead, ranked from fast fields
//! (`scan`). The key is `(sort value, id)`, so pages stay stable while entries are added or
//! removed.

pub mod order;
mod scan;
mod walk;

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{DocAddress, TantivyDocument, Term};

use super::budget::Budget;
use super::CatalogIndex;
use crate::catalog::Kind;

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

pub struct ListPage {
    /// Entries as stored JSON, in order.
    pub items: Vec<String>,
    /// Where the next page starts, when there is one.
    pub next: Option<Key>,
}

/// When a filtered list walks the order and when it reads the filter's matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListTuning {
    /// Lists whose filters match at most this many entries read all their matches; wider
    /// ones walk the order and check each entry against the filters.
    pub scan_at_most: u64,
    /// A walk that passes over this many entries without filling its page (a filter
    /// turning most away) stops and reads the filter's matches instead.
    pub walk_at_most: usize,
}

impl Default for ListTuning {
    fn default() -> Self {
        Self {
            scan_at_most: 10_000,
            walk_at_most: 20_000,
        }
    }
}

impl CatalogIndex {
    pub fn list(&self, request: &ListRequest, budget: &Budget) -> anyhow::Result<ListPage> {
        let searcher = self.reader.searcher();
        let keys = self.page_keys(&searcher, request, budget)?;

        // One entry more than a page is read: if it is there, so is a next page.
        let more = keys.len() > request.limit;
        let mut items = Vec::with_capacity(keys.len().min(request.limit));
        let mut next = None;
        for (key, address) in keys.into_iter().take(request.limit) {
            let doc: TantivyDocument = searcher.doc(address)?;
            let body = doc
                .get_first(self.schema.body)
                .and_then(|v| v.as_str())
                .unwrap_or("{}")
                .to_string();
            items.push(body);
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
        request: &ListRequest,
        budget: &Budget,
    ) -> anyhow::Result<Vec<(Key, DocAddress)>> {
        let unfiltered =
            request.equal.is_empty() && request.ranges.is_empty() && request.facets.is_empty();
        if unfiltered {
            if let Some(keys) = walk::walk(self, searcher, request, None, budget)? {
                return Ok(keys);
            }
        }
        let tuning = self.list_tuning();
        let (query, matches) = self.filter_query(searcher, request)?;
        if matches > tuning.scan_at_most {
            let at_most = Some(tuning.walk_at_most);
            if let Some(keys) = walk::walk(self, searcher, request, at_most, budget)? {
                return Ok(keys);
            }
        }
        scan::scan(searcher, &query, request, budget)
    }

    /// The query of a list's kind and term filters, and at most how many entries it matches
    /// (its narrowest term's document frequency).
    fn filter_query(
        &self,
        searcher: &tantivy::Searcher,
        request: &ListRequest,
    ) -> anyhow::Result<(BooleanQuery, u64)> {
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
        let mut matches = u64::MAX;
        for term in &terms {
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
        Ok((BooleanQuery::new(clauses), matches))
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
        let mut ids = Vec::new();
        for address in searcher.search(&query, &tantivy::collector::DocSetCollector)? {
            let segment = searcher.segment_reader(address.segment_ord);
            if let Some(id) = segment.fast_fields().u64("id")?.first(address.doc_id) {
                ids.push(id as i64);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}
