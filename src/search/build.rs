//! Building the index: a fresh one from SQL beside the live one, swapped in whole, and
//! folding a built index's segments into one once it serves.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tantivy::IndexWriter;

use super::schema::CatalogSchema;
use super::{index_dir, write_stamp, CatalogIndex, Stamp, WRITER_MEMORY};
use crate::catalog;
use crate::db::Db;
use crate::progress::Progress;

impl CatalogIndex {
    /// Folds every segment into one, then shows and warms it, unless one segment already
    /// holds nearly every document. The index is read far more than written, and one
    /// segment makes every list one pass; a built index has one per writer flush (live
    /// writes add small ones, which tantivy's own policy merges). Called once the index
    /// serves, so boot does not wait for the merge (about a third of a large build); reads
    /// and writes go on meanwhile, and a merge cut short by a stop is done at the next.
    pub fn merge_segments(&self) -> anyhow::Result<()> {
        let searcher = self.reader.searcher();
        let readers = searcher.segment_readers();
        let largest = readers.iter().map(|s| u64::from(s.max_doc())).max();
        let all: u64 = readers.iter().map(|s| u64::from(s.max_doc())).sum();
        if readers.len() < 2 || largest.unwrap_or(0) * 10 >= all * 9 {
            return Ok(());
        }
        let segments: Vec<tantivy::index::SegmentId> =
            readers.iter().map(|segment| segment.segment_id()).collect();
        drop(searcher);
        let started = Instant::now();
        let merging = self
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(&segments);
        merging
            .wait()
            .context("merging the index's segments failed")?;
        self.reload()?;
        self.warm()?;
        tracing::info!(
            segments = segments.len(),
            ms = started.elapsed().as_millis() as u64,
            "merged the index's segments into one"
        );
        Ok(())
    }
}

/// Builds a fresh index from SQL beside the live one and swaps it in; returns the number of
/// documents.
pub(super) async fn build(
    db: &Db,
    data_dir: &Path,
    stamp: &Stamp,
    interactive: bool,
) -> anyhow::Result<u64> {
    let live = index_dir(data_dir);
    let building = data_dir.join("index.building");
    if building.exists() {
        std::fs::remove_dir_all(&building)
            .with_context(|| format!("cannot clear {}", building.display()))?;
    }
    std::fs::create_dir_all(&building)
        .with_context(|| format!("cannot create {}", building.display()))?;
    let (index, schema) = CatalogSchema::create(&building)?;

    let total: i64 = crate::db::table_counts(db.primary())
        .await?
        .into_iter()
        .filter(|(table, _)| {
            [
                "artist",
                "album",
                "track",
                "genre",
                "media_type",
                "playlist",
                "taxonomy_term",
            ]
            .contains(table)
        })
        .map(|(_, n)| n)
        .sum();
    let progress = Progress::new("indexing the catalog", total.max(0) as u64, interactive);

    // Entries cross to a blocking thread that owns the writer; the channel bounds memory.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<catalog::Record>(4096);
    let indexer = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut writer: IndexWriter = index
            .writer_with_num_threads(2, 2 * WRITER_MEMORY)
            .context("cannot open a writer for the new index")?;
        // The one merge is ours, at the end; a background merge racing it would fail it.
        writer.set_merge_policy(Box::new(tantivy::merge_policy::NoMergePolicy));
        let mut count = 0u64;
        while let Some(entry) = receiver.blocking_recv() {
            writer.add_document(schema.document(&entry))?;
            progress.inc(1);
            count += 1;
        }
        writer.commit().context("committing the new index failed")?;
        // Its segments (one per flush) are merged once it serves (`merge_segments`): the
        // merge is a third of a large build, and reads are right over any segments.
        writer
            .wait_merging_threads()
            .context("closing the building writer failed")?;
        progress.finish();
        Ok(count)
    });
    let loaded = catalog::load(db, &catalog::Scope::All, &sender).await;
    drop(sender);
    let indexed = indexer.await.context("the indexing thread panicked")?;
    let loaded = loaded.context("reading the catalog for the index failed")?;
    let indexed = indexed?;
    anyhow::ensure!(indexed == loaded, "indexed {indexed} of {loaded} entries");

    write_stamp(&building, stamp)?;
    let old = data_dir.join("index.old");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if live.exists() {
        std::fs::rename(&live, &old)?;
    }
    std::fs::rename(&building, &live)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    tracing::info!(documents = indexed, "built the search index");
    Ok(indexed)
}
