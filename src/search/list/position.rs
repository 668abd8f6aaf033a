//! Where the n-th entry of an unfiltered list is, from the order terms' ordinals: each
//! segment's dictionary numbers its terms, so a far offset costs a binary search over one
//! segment's ordinals (counting the others' terms below each probe), not a walk past every
//! entry before it.
//!
//! A deleted entry keeps its terms in its segment until a merge, so the terms of deleted
//! entries are counted out of every rank.

use std::sync::Arc;

use tantivy::termdict::TermDictionary;
use tantivy::InvertedIndexReader;

use super::{order, Key, ListRequest, SortField, SortValue};
use crate::search::CatalogIndex;

/// Deleted documents whose terms are counted out of each rank; with more than this left
/// unmerged, a caller steps to its offset instead.
const MAX_DELETED: u64 = 20_000;

impl CatalogIndex {
    /// A cursor for an unfiltered list and the position it stands at: listing after the
    /// cursor starts at entry `position` (from 0), the greatest position at most `n` that
    /// one segment's terms fall on. Entries from the cursor on are read as any page is.
    ///
    /// `None` for a filtered list (its entries are not the order's terms), an `n` of 0, an
    /// empty list, or too many deleted documents to count out.
    pub fn position(&self, request: &ListRequest, n: u64) -> anyhow::Result<Option<(u64, Key)>> {
        let filtered =
            !request.equal.is_empty() || !request.ranges.is_empty() || !request.facets.is_empty();
        if filtered || request.after.is_some() || n == 0 {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let Some(deleted) = self.deleted_terms(&searcher, request)? else {
            return Ok(None);
        };
        let prefix = order::prefix(request.kind, request.sort, request.descending);
        let end = order::prefix_end(&prefix);
        let mut segments: Vec<(Arc<InvertedIndexReader>, u64, u64)> = Vec::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.schema.order)?;
            let low = first_at(inverted.terms(), &prefix)?;
            let high = first_at(inverted.terms(), &end)?;
            segments.push((inverted, low, high));
        }
        // Live entries before `term`, in every segment.
        let rank = |term: &[u8]| -> anyhow::Result<u64> {
            let mut before = 0;
            for (inverted, low, _) in &segments {
                before += first_at(inverted.terms(), term)? - low;
            }
            let dead = deleted.partition_point(|d| d.as_slice() < term) as u64;
            Ok(before.saturating_sub(dead))
        };
        let Some((largest, _)) = segments
            .iter()
            .enumerate()
            .max_by_key(|(_, (_, low, high))| high - low)
        else {
            return Ok(None);
        };
        let (inverted, mut low, mut high) = segments[largest].clone();
        if low == high {
            return Ok(None);
        }
        // The greatest ordinal of the largest segment whose term ranks at most `n`, in
        // `low..high` if the segment's first term does (other segments may hold entries
        // before it; then there is no such ordinal, and the list is read from its start).
        let mut term = Vec::new();
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            inverted.terms().ord_to_term(middle, &mut term)?;
            if rank(&term)? <= n {
                low = middle;
            } else {
                high = middle;
            }
        }
        inverted.terms().ord_to_term(low, &mut term)?;
        let position = rank(&term)?;
        if position > n {
            return Ok(None);
        }
        let key = order::key_of(request.sort, &term)
            .ok_or_else(|| anyhow::anyhow!("an order term is malformed"))?;
        // The cursor just before the term in the list's direction: its value, the next id
        // back (no entry lies between the two).
        let id = if request.descending {
            key.id.checked_add(1)
        } else {
            key.id.checked_sub(1)
        };
        Ok(id
            .filter(|_| position > 0)
            .map(|id| (position, Key { id, ..key })))
    }

    /// The order terms of the deleted documents of the list's kind, sorted; `None` when
    /// there are more deleted documents than `MAX_DELETED`.
    fn deleted_terms(
        &self,
        searcher: &tantivy::Searcher,
        request: &ListRequest,
    ) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
        let all: u64 = searcher
            .segment_readers()
            .iter()
            .map(|s| u64::from(s.num_deleted_docs()))
            .sum();
        if all > MAX_DELETED {
            return Ok(None);
        }
        let mut terms = Vec::new();
        let mut name = Vec::new();
        let columns = self.columns.of(searcher)?;
        for (segment, columns) in searcher.segment_readers().iter().zip(&columns) {
            let Some(alive) = segment.alive_bitset() else {
                continue;
            };
            if segment.num_deleted_docs() == 0 {
                continue;
            }
            let (kinds, ids, names) = (columns.u64("kind")?, columns.u64("id")?, &columns.name);
            let values = match request.sort {
                SortField::Id | SortField::Name => None,
                other => Some(columns.u64(other.column())?),
            };
            for doc in (0..segment.max_doc()).filter(|&doc| alive.is_deleted(doc)) {
                if kinds.first(doc) != Some(request.kind.code()) {
                    continue;
                }
                let id = ids.first(doc).unwrap_or(0);
                let value = match (&values, request.sort) {
                    (_, SortField::Id) => SortValue::Number(id),
                    (Some(column), _) => SortValue::Number(column.first(doc).unwrap_or(0)),
                    (None, _) => {
                        name.clear();
                        if let Some(ord) = names.ords().first(doc) {
                            names.ord_to_bytes(ord, &mut name)?;
                        }
                        SortValue::Text(String::from_utf8_lossy(&name).into_owned())
                    }
                };
                let key = Key { value, id };
                terms.push(order::term(
                    request.kind,
                    request.sort,
                    request.descending,
                    &key,
                ));
            }
        }
        terms.sort_unstable();
        Ok(Some(terms))
    }
}

/// The ordinal of the first term at or after `bound` (the number of terms when none is).
fn first_at(terms: &TermDictionary, bound: &[u8]) -> std::io::Result<u64> {
    let mut stream = terms.range().ge(bound).into_stream()?;
    Ok(if stream.advance() {
        stream.term_ord()
    } else {
        terms.num_terms() as u64
    })
}
