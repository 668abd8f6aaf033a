//! Catalog lists: filtered, sorted, keyset-paginated reads of one kind of entry.
//!
//! Equality filters are posting-list queries; range filters and the sort key are read from
//! fast fields by a collector that keeps the next `limit + 1` entries after the cursor. The
//! key is `(sort value, id)`, so pages stay stable while entries are added or removed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
    TERMINATED,
};

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
    fn column(self) -> &'static str {
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

/// The sort key of a name: lower-cased, accents folded, punctuation dropped.
pub fn sort_key(name: &str) -> String {
    let mut analyzer = super::schema::folded_analyzer();
    let mut stream = analyzer.token_stream(name);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    words.join(" ")
}

impl CatalogIndex {
    pub fn list(&self, request: &ListRequest) -> anyhow::Result<ListPage> {
        let searcher = self.reader.searcher();
        let term = |field: &str, value: u64| {
            let field = self.schema.field(field);
            let query: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_u64(field, value),
                IndexRecordOption::Basic,
            ));
            (Occur::Must, query)
        };
        let mut clauses = vec![term("kind", request.kind.code())];
        clauses.extend(
            request
                .equal
                .iter()
                .map(|(field, value)| term(field, *value)),
        );
        for facet in &request.facets {
            clauses.push((Occur::Must, self.facet_query(facet)?));
        }
        let query = BooleanQuery::new(clauses);
        let keys = match self.list_by_id(&searcher, request)? {
            Some(keys) => keys,
            None => searcher.search(&query, &KeysetCollector { request })?,
        };

        // The collector keeps one entry more than a page: if it is there, so is a next page.
        let more = keys.len() > request.limit;
        let mut items = Vec::with_capacity(keys.len().min(request.limit));
        let mut next = None;
        for (i, (key, address)) in keys.into_iter().enumerate() {
            if i == request.limit {
                break;
            }
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
}

impl CatalogIndex {
    /// Entries filed under a taxonomy facet or anywhere below it.
    pub(super) fn facet_query(&self, facet: &str) -> anyhow::Result<Box<dyn Query>> {
        let facet = Facet::from_text(facet)
            .map_err(|e| anyhow::anyhow!("a stored term has an invalid facet {facet}: {e}"))?;
        Ok(Box::new(TermQuery::new(
            Term::from_facet(self.schema.taxonomy, &facet),
            IndexRecordOption::Basic,
        )))
    }

    /// The commonest list, by ascending id with no filter, read straight off the id term
    /// dictionary (sorted by value) from the cursor on: the cost is the page, not the
    /// catalog. Other lists return `None` and go through the collector.
    fn list_by_id(
        &self,
        searcher: &tantivy::Searcher,
        request: &ListRequest,
    ) -> anyhow::Result<Option<Vec<(Key, DocAddress)>>> {
        let plain = request.sort == SortField::Id
            && !request.descending
            && request.equal.is_empty()
            && request.ranges.is_empty()
            && request.facets.is_empty();
        if !plain {
            return Ok(None);
        }
        let start = request
            .after
            .as_ref()
            .map_or(0, |key| key.id.saturating_add(1));
        let kind = request.kind.code();
        let mut found: Vec<(Key, DocAddress)> = Vec::new();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let kinds = segment.fast_fields().u64("kind")?;
            let inverted = segment.inverted_index(self.schema.field("id"))?;
            let mut terms = inverted
                .terms()
                .range()
                .ge(start.to_be_bytes())
                .into_stream()?;
            let mut taken = 0;
            'terms: while terms.advance() {
                let id = u64::from_be_bytes(terms.key().try_into()?);
                let mut postings = inverted
                    .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let alive = segment
                        .alive_bitset()
                        .is_none_or(|alive| alive.is_alive(doc));
                    if alive && kinds.first(doc) == Some(kind) {
                        let key = Key {
                            value: SortValue::Number(id),
                            id,
                        };
                        found.push((key, DocAddress::new(ordinal as SegmentOrdinal, doc)));
                        taken += 1;
                        if taken > request.limit {
                            break 'terms;
                        }
                    }
                    doc = postings.advance();
                }
            }
        }
        found.sort();
        found.truncate(request.limit + 1);
        Ok(Some(found))
    }
}

struct KeysetCollector<'a> {
    request: &'a ListRequest,
}

/// An entry's place in the order, ready to compare whatever the direction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ranked {
    key: Key,
    descending: bool,
    address: DocAddress,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        let order = self.key.cmp(&other.key);
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

enum SortColumn {
    Number(Column<u64>),
    Text(StrColumn),
}

pub struct KeysetSegment {
    segment: SegmentOrdinal,
    ids: Column<u64>,
    sort: SortColumn,
    ranges: Vec<(Column<u64>, u64, u64)>,
    after: Option<Key>,
    descending: bool,
    keep: usize,
    /// The best `keep` entries so far; the heap's top is the worst of them.
    best: BinaryHeap<Ranked>,
    scratch: Vec<u8>,
}

impl Collector for KeysetCollector<'_> {
    type Fruit = Vec<(Key, DocAddress)>;
    type Child = KeysetSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<KeysetSegment> {
        let fast = reader.fast_fields();
        let sort = match self.request.sort {
            SortField::Name => SortColumn::Text(fast.str("name_sort")?.ok_or_else(|| {
                tantivy::TantivyError::SchemaError("name_sort is not a fast field".into())
            })?),
            other => SortColumn::Number(fast.u64(other.column())?),
        };
        let ranges = self
            .request
            .ranges
            .iter()
            .map(|(field, min, max)| Ok((fast.u64(field)?, *min, *max)))
            .collect::<tantivy::Result<_>>()?;
        Ok(KeysetSegment {
            segment,
            ids: fast.u64("id")?,
            sort,
            ranges,
            after: self.request.after.clone(),
            descending: self.request.descending,
            keep: self.request.limit + 1,
            best: BinaryHeap::new(),
            scratch: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(Key, DocAddress)>>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<Ranked> = fruits
            .into_iter()
            .flatten()
            .map(|(key, address)| Ranked {
                key,
                descending: self.request.descending,
                address,
            })
            .collect();
        all.sort();
        all.truncate(self.request.limit + 1);
        Ok(all.into_iter().map(|r| (r.key, r.address)).collect())
    }
}

impl SegmentCollector for KeysetSegment {
    type Fruit = Vec<(Key, DocAddress)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, min, max) in &self.ranges {
            match column.first(doc) {
                Some(v) if v >= *min && v <= *max => {}
                _ => return,
            }
        }
        let value = match &self.sort {
            SortColumn::Number(column) => SortValue::Number(column.first(doc).unwrap_or(0)),
            SortColumn::Text(column) => {
                self.scratch.clear();
                if let Some(ord) = column.ords().first(doc) {
                    let _ = column.ord_to_bytes(ord, &mut self.scratch);
                }
                SortValue::Text(String::from_utf8_lossy(&self.scratch).into_owned())
            }
        };
        let ranked = Ranked {
            key: Key {
                value,
                id: self.ids.first(doc).unwrap_or(0),
            },
            descending: self.descending,
            address: DocAddress::new(self.segment, doc),
        };
        if let Some(after) = &self.after {
            let position = ranked.key.cmp(after);
            let past = if self.descending {
                position == Ordering::Less
            } else {
                position == Ordering::Greater
            };
            if !past {
                return;
            }
        }
        if self.best.len() < self.keep {
            self.best.push(ranked);
        } else if self.best.peek().is_some_and(|worst| ranked < *worst) {
            self.best.pop();
            self.best.push(ranked);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.best
            .into_sorted_vec()
            .into_iter()
            .map(|r| (r.key, r.address))
            .collect()
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
