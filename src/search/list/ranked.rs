//! Each segment's entries of one kind in one list order, as document ids: built once per
//! segment from its columns, so a walk steps from the cursor through plain numbers instead
//! of reading a term and its postings per entry (about 1 us each).

use std::sync::{Arc, Mutex};

use tantivy::DocId;

use super::scan::SegmentRanks;
use super::{ListRequest, SegmentColumns, SortField};
use crate::catalog::Kind;

/// The orders of one segment built so far. An order costs 4 bytes per entry of its kind,
/// and is built the first time a list asks for it (about 100 ms for 1M tracks).
#[derive(Default)]
pub(super) struct Orders(Mutex<Vec<Order>>);

/// One order: whose entries, by what, and their documents in it.
type Order = (Kind, SortField, Arc<[DocId]>);

impl Orders {
    /// The segment's documents of `kind` in ascending `sort` order, ties by id.
    pub fn of(
        &self,
        columns: &SegmentColumns,
        kind: Kind,
        sort: SortField,
    ) -> anyhow::Result<Arc<[DocId]>> {
        // Held while building, so concurrent first lists wait for one build.
        let mut built = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((.., order)) = built.iter().find(|(k, s, _)| *k == kind && *s == sort) {
            return Ok(order.clone());
        }
        let order = build(columns, kind, sort)?;
        built.push((kind, sort, order.clone()));
        Ok(order)
    }
}

fn build(columns: &SegmentColumns, kind: Kind, sort: SortField) -> anyhow::Result<Arc<[DocId]>> {
    let kinds = columns.u64("kind")?;
    let ranks = SegmentRanks::new(columns, &ListRequest::unfiltered(kind, sort, false))?;
    let mut ranked: Vec<(u128, DocId)> = (0..columns.max_doc)
        .filter(|&doc| kinds.first(doc) == Some(kind.code()))
        .map(|doc| (ranks.raw(doc), doc))
        .collect();
    ranked.sort_unstable();
    Ok(ranked.into_iter().map(|(_, doc)| doc).collect())
}

/// The segment's documents of `kind` whose `sort` value lies in `min..=max`, in document
/// order: read from the order between two binary searches, so the cost is the range's
/// documents, where a column's range scan reads every document of the segment.
pub(super) fn within(
    columns: &SegmentColumns,
    kind: Kind,
    sort: SortField,
    min: u64,
    max: u64,
) -> anyhow::Result<Vec<DocId>> {
    let order = columns.orders.of(columns, kind, sort)?;
    let ranks = SegmentRanks::new(columns, &ListRequest::unfiltered(kind, sort, false))?;
    let (low, high) = (
        u128::from(min) << 64,
        (u128::from(max) << 64) | u128::from(u64::MAX),
    );
    let start = order.partition_point(|&doc| ranks.raw(doc) < low);
    let end = order.partition_point(|&doc| ranks.raw(doc) <= high);
    let mut docs = order[start..end.max(start)].to_vec();
    docs.sort_unstable();
    Ok(docs)
}
