//! Facet counts of a search: genre, media type, price and taxonomy terms, from one small
//! number per document that names its combination of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

use super::passes::Matches;
use crate::model::tree::TermTally;

/// Counts of one facet by value: small values in an array, others in a map.
#[derive(Default)]
pub(super) struct Counts {
    small: Vec<u64>,
    other: HashMap<u64, u64>,
}

impl Counts {
    pub(super) fn add(&mut self, value: u64, count: u64) {
        match usize::try_from(value) {
            Ok(at) if at < 1 << 16 => {
                if at >= self.small.len() {
                    self.small.resize(at + 1, 0);
                }
                self.small[at] += count;
            }
            _ => *self.other.entry(value).or_default() += count,
        }
    }

    /// (value, count), by descending count.
    pub(super) fn sorted(self) -> Vec<(u64, u64)> {
        let mut counts: Vec<(u64, u64)> = self
            .small
            .into_iter()
            .enumerate()
            .filter(|(_, count)| *count > 0)
            .map(|(value, count)| (value as u64, count))
            .chain(self.other)
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counts
    }
}

const FACET_COLUMNS: [&str; 3] = ["genre_id", "media_type_id", "price_cents"];

/// The facets of a segment's documents as one small number each: the index of its
/// combination of genre, media type and price. Counting then reads one array, not three
/// columns.
pub(super) struct FacetTable {
    combinations: Vec<Combination>,
    of_doc: Vec<u16>,
}

/// A document's genre, media type and price, and the ids of its taxonomy terms.
type Combination = ([Option<u64>; 3], Box<[u64]>);

/// The tables of the segments searched last, `None` for a segment with too many combinations.
/// A segment never changes, so its table holds for as long as it is searched.
type FacetTables = Vec<(SegmentId, Option<Arc<FacetTable>>)>;

static FACET_TABLES: Mutex<FacetTables> = Mutex::new(Vec::new());

/// The table of a segment, built on first use.
pub(super) fn facet_table(
    searcher: &Searcher,
    reader: &SegmentReader,
) -> tantivy::Result<Option<Arc<FacetTable>>> {
    let id = reader.segment_id();
    let lock = || FACET_TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let cached = |tables: &FacetTables| {
        tables
            .iter()
            .find(|(segment, _)| *segment == id)
            .map(|(_, table)| table.clone())
    };
    if let Some(table) = cached(&lock()) {
        return Ok(table);
    }
    // Built without the lock, so that searches meanwhile do not wait for it.
    let table = build_facet_table(reader)?.map(Arc::new);
    let mut tables = lock();
    if let Some(table) = cached(&tables) {
        return Ok(table);
    }
    let searched: Vec<SegmentId> = searcher
        .segment_readers()
        .iter()
        .map(|reader| reader.segment_id())
        .collect();
    tables.retain(|(segment, _)| searched.contains(segment));
    tables.push((id, table.clone()));
    Ok(table)
}

/// `None` when the segment has more combinations than a `u16` numbers.
fn build_facet_table(reader: &SegmentReader) -> tantivy::Result<Option<FacetTable>> {
    let fast = reader.fast_fields();
    let columns = FACET_COLUMNS
        .iter()
        .map(|name| fast.u64(name))
        .collect::<tantivy::Result<Vec<Column<u64>>>>()?;
    let term_ids = fast.u64("term_id")?;
    let mut codes: HashMap<Combination, u16> = HashMap::new();
    let mut combinations = Vec::new();
    let mut of_doc = Vec::with_capacity(reader.max_doc() as usize);
    let mut last: Option<(Combination, u16)> = None;
    for doc in 0..reader.max_doc() {
        let key: Combination = (
            [
                columns[0].first(doc),
                columns[1].first(doc),
                columns[2].first(doc),
            ],
            term_ids.values_for_doc(doc).collect(),
        );
        let code = match &last {
            Some((last_key, code)) if *last_key == key => *code,
            _ => match codes.get(&key) {
                Some(code) => *code,
                None => {
                    let Ok(code) = u16::try_from(combinations.len()) else {
                        return Ok(None);
                    };
                    combinations.push(key.clone());
                    codes.insert(key.clone(), code);
                    code
                }
            },
        };
        of_doc.push(code);
        last = Some((key, code));
    }
    Ok(Some(FacetTable {
        combinations,
        of_doc,
    }))
}

/// Counts the matches of a segment by genre, media type, price and taxonomy term.
pub(super) fn count_facets(
    searcher: &Searcher,
    reader: &SegmentReader,
    matches: &Matches,
    counts: &mut [Counts; 3],
    tally: &mut TermTally,
) -> tantivy::Result<()> {
    if let Some(table) = facet_table(searcher, reader)? {
        // Four counters per combination, so that neighbours of the same combination do not
        // wait for each other's increment.
        let mut by_combination = vec![[0u64; 4]; table.combinations.len()];
        matches.for_each(|i, doc| {
            by_combination[table.of_doc[doc as usize] as usize][i % 4] += 1;
        });
        for ((values, terms), counters) in table.combinations.iter().zip(by_combination) {
            let count: u64 = counters.iter().sum();
            if count > 0 {
                for (facet, value) in counts.iter_mut().zip(values) {
                    if let Some(value) = value {
                        facet.add(*value, count);
                    }
                }
                // Every match of a combination has the same terms, so they count once each.
                tally.add_many(terms.iter().copied(), count);
            }
        }
    } else {
        let fast = reader.fast_fields();
        for (facet, name) in counts.iter_mut().zip(FACET_COLUMNS) {
            let column = fast.u64(name)?;
            for doc in matches.docs() {
                if let Some(value) = column.first(doc) {
                    facet.add(value, 1);
                }
            }
        }
        let term_ids = fast.u64("term_id")?;
        for doc in matches.docs() {
            tally.add(term_ids.values_for_doc(doc));
        }
    }
    Ok(())
}
