//! The fast-field columns lists read, opened once per segment instead of once per request
//! (opening one reads the segment's column directory: a tenth of a cold list), with the
//! sampled values that estimate a range's share.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

use super::ranked::Orders;
use super::SortField;
use crate::catalog::Kind;
use crate::search::schema::FAST_U64_FIELDS;

/// How many documents of a segment, at even steps, a range's share is estimated from.
const RANGE_SAMPLES: u32 = 256;

/// The fields lists filter by range, whose values are sampled.
const RANGE_FIELDS: [&str; 2] = ["milliseconds", "price_cents"];

pub(crate) struct SegmentColumns {
    numbers: Vec<(&'static str, Column<u64>)>,
    pub name: StrColumn,
    /// Of each range field: the values of the sampled documents that have one, sorted.
    samples: Vec<(&'static str, Vec<u64>)>,
    /// How many documents each sample stands for.
    step: u32,
    pub max_doc: u32,
    /// The segment's list orders, built as lists ask for them.
    pub(super) orders: Orders,
}

impl SegmentColumns {
    fn open(segment: &SegmentReader) -> anyhow::Result<Self> {
        let fast = segment.fast_fields();
        let numbers = FAST_U64_FIELDS
            .iter()
            .map(|name| Ok((*name, fast.u64(name)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let name = fast
            .str("name_sort")?
            .ok_or_else(|| anyhow::anyhow!("name_sort is not a fast field"))?;
        let step = (segment.max_doc() / RANGE_SAMPLES).max(1);
        let mut columns = Self {
            numbers,
            name,
            samples: Vec::new(),
            step,
            max_doc: segment.max_doc(),
            orders: Orders::default(),
        };
        for field in RANGE_FIELDS {
            let column = columns.u64(field)?;
            let mut values: Vec<u64> = (step / 2..segment.max_doc())
                .step_by(step as usize)
                .filter_map(|doc| column.first(doc))
                .collect();
            values.sort_unstable();
            columns.samples.push((field, values));
        }
        Ok(columns)
    }

    pub fn u64(&self, field: &str) -> anyhow::Result<&Column<u64>> {
        self.numbers
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, column)| column)
            .ok_or_else(|| anyhow::anyhow!("{field} is not a numeric fast field"))
    }

    /// Of the sampled documents that have `field`, how many there were and how many lie in
    /// `min..=max`, each weighted by the documents it stands for.
    fn sampled(&self, field: &str, min: u64, max: u64) -> anyhow::Result<(u64, u64)> {
        let (_, values) = self
            .samples
            .iter()
            .find(|(name, _)| *name == field)
            .ok_or_else(|| anyhow::anyhow!("{field} is not a range field"))?;
        let inside = values.partition_point(|v| *v <= max) - values.partition_point(|v| *v < min);
        let step = u64::from(self.step);
        Ok((values.len() as u64 * step, inside as u64 * step))
    }
}

/// About what share of the entries that have `field` lie in `min..=max`, from the sampled
/// values of every segment. A walk's expected length depends on it (a narrow range turns
/// most entries away), and counting exactly would cost what a scan costs.
pub(crate) fn range_share(
    columns: &[Arc<SegmentColumns>],
    field: &str,
    min: u64,
    max: u64,
) -> anyhow::Result<f64> {
    let (mut valued, mut inside, mut steps) = (0u64, 0u64, 0u64);
    for segment in columns {
        let (v, i) = segment.sampled(field, min, max)?;
        valued += v;
        inside += i;
        steps += u64::from(segment.step);
    }
    // Half a sample when none was inside: a range the samples missed is narrow, not empty.
    let sample = steps as f64 / columns.len().max(1) as f64;
    Ok(((inside as f64 + sample / 2.0) / (valued as f64 + sample)).min(1.0))
}

/// The columns of the segments read last; a segment never changes, so its columns hold
/// for as long as it is searched.
#[derive(Default)]
pub(crate) struct ColumnCache {
    segments: Mutex<Vec<(SegmentId, Arc<SegmentColumns>)>>,
    /// Whether a thread is building the orders of new segments.
    warming: AtomicBool,
}

impl ColumnCache {
    /// Opens the columns and builds every list order of the searcher's segments on a thread
    /// of its own, so the first lists after a reload (a merge makes a segment as large as
    /// the catalog) find them ready instead of building them. One such thread at a time: a
    /// reload meanwhile leaves its new segments to the lists that read them first.
    pub fn warm_soon(self: &Arc<Self>, searcher: Searcher) {
        if self.warming.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        let spawned = std::thread::Builder::new()
            .name("list-orders".into())
            .spawn(move || {
                if let Err(e) = cache.warm(&searcher) {
                    tracing::warn!(error = format!("{e:#}"), "building list orders failed");
                }
                cache.warming.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the thread that builds list orders");
            self.warming.store(false, Ordering::Release);
        }
    }

    fn warm(&self, searcher: &Searcher) -> anyhow::Result<()> {
        for columns in self.of(searcher)? {
            for kind in Kind::ALL {
                for &sort in SortField::of(kind) {
                    columns.orders.of(&columns, kind, sort)?;
                }
            }
        }
        Ok(())
    }

    /// The columns of each of the searcher's segments, in its order.
    pub fn of(&self, searcher: &Searcher) -> anyhow::Result<Vec<Arc<SegmentColumns>>> {
        let mut cached = self.segments.lock().unwrap_or_else(|e| e.into_inner());
        let segments = searcher.segment_readers();
        if cached.len() != segments.len()
            || !segments
                .iter()
                .zip(cached.iter())
                .all(|(segment, (id, _))| segment.segment_id() == *id)
        {
            let mut fresh = Vec::with_capacity(segments.len());
            for segment in segments {
                let id = segment.segment_id();
                let columns = match cached.iter().find(|(known, _)| *known == id) {
                    Some((_, columns)) => columns.clone(),
                    None => Arc::new(SegmentColumns::open(segment)?),
                };
                fresh.push((id, columns));
            }
            *cached = fresh;
        }
        Ok(cached.iter().map(|(_, columns)| columns.clone()).collect())
    }
}
