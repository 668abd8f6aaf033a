//! Each segment's entries of one kind in one list order, as document ids: built once per
//! segment from its columns, so a walk steps from the cursor through plain numbers instead
//! of reading a term and its postings per entry (about 1 us each).

use std::sync::{Arc, Mutex};

use tantivy::DocId;

use super::scan::{raw, SegmentRanks};
use super::{ListRequest, SegmentColumns, SortField};
use crate::catalog::Kind;

/// The orders of one segment built so far. An order costs 4 bytes per entry of its kind,
/// and is built the first time a list asks for it (about 100 ms for 1M tracks).
#[derive(Default)]
pub(super) struct Orders(Mutex<Vec<Order>>);

/// One order: whose entries (a kind, and for tracks perhaps one genre's), by what, and
/// their documents in it.
type Order = (Kind, SortField, Option<u64>, Arc<[DocId]>);

impl Orders {
    /// The segment's documents of `kind` in ascending `sort` order, ties by id.
    pub fn of(
        &self,
        columns: &SegmentColumns,
        kind: Kind,
        sort: SortField,
    ) -> anyhow::Result<Arc<[DocId]>> {
        self.within_genre(columns, kind, sort, None)
    }

    /// As `of`, for only the tracks of `genre` when one is given: a genre's list walks its
    /// own tracks, where the catalog's order would first pass over every track of the
    /// others before it (in length or price order, every long video). Taken from the
    /// catalog's order in one pass, so each costs 4 bytes per track of its genre.
    pub fn within_genre(
        &self,
        columns: &SegmentColumns,
        kind: Kind,
        sort: SortField,
        genre: Option<u64>,
    ) -> anyhow::Result<Arc<[DocId]>> {
        // Held while building, so concurrent first lists wait for one build.
        let mut built = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let find = |built: &[Order], genre: Option<u64>| {
            built
                .iter()
                .find(|(k, s, g, _)| *k == kind && *s == sort && *g == genre)
                .map(|(.., order)| order.clone())
        };
        if let Some(order) = find(&built, genre) {
            return Ok(order);
        }
        let all = match find(&built, None) {
            Some(order) => order,
            None => {
                let order = build(columns, kind, sort)?;
                built.push((kind, sort, None, order.clone()));
                order
            }
        };
        let Some(genre) = genre else {
            return Ok(all);
        };
        let genres = columns.u64("genre_id")?;
        let order: Arc<[DocId]> = all
            .iter()
            .copied()
            .filter(|&doc| genres.first(doc) == Some(genre))
            .collect();
        built.push((kind, sort, Some(genre), order.clone()));
        Ok(order)
    }
}

/// The genre whose own order a list walks: a track list filtered to one genre.
pub(super) fn genre_scope(request: &ListRequest) -> Option<u64> {
    if request.kind != Kind::Track {
        return None;
    }
    request
        .equal
        .iter()
        .find(|(field, _)| *field == "genre_id")
        .map(|(_, genre)| *genre)
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

/// Where the entries whose sort value lies in `min..=max` sit in `order`, as `start..end`:
/// two binary searches, for `ranks` of the order's own sort.
pub(super) fn span(order: &[DocId], ranks: &SegmentRanks, min: u64, max: u64) -> (usize, usize) {
    let (low, high) = (raw(min, 0), raw(max, u64::MAX));
    let start = order.partition_point(|&doc| ranks.raw(doc) < low);
    let end = order.partition_point(|&doc| ranks.raw(doc) <= high);
    (start, end.max(start))
}

/// The segment's documents of `kind` whose `sort` value lies in `min..=max`, in document
/// order: read from the order's span, so the cost is the range's documents, where a
/// column's range scan reads every document of the segment.
pub(super) fn within(
    columns: &SegmentColumns,
    kind: Kind,
    sort: SortField,
    min: u64,
    max: u64,
) -> anyhow::Result<Vec<DocId>> {
    let order = columns.orders.of(columns, kind, sort)?;
    let ranks = SegmentRanks::new(columns, &ListRequest::unfiltered(kind, sort, false))?;
    let (start, end) = span(&order, &ranks, min, max);
    let mut docs = order[start..end].to_vec();
    docs.sort_unstable();
    Ok(docs)
}
