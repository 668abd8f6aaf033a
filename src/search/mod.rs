//! The catalog's tantivy index: its schema, building it from SQL, persisting and reusing it
//! in the data directory, warming it before the process reports ready, and reading entries.
//!
//! The index lives in `<data_dir>/index`, stamped with the schema version and the catalog it
//! was built from (source and version). A start reuses it when both match; otherwise it is
//! rebuilt beside the old one (`index.building`) and swapped in whole, so a crash mid-build
//! never leaves a half-built index in place. The process keeps one long-lived reader.

mod budget;
mod build;
mod entries;
pub mod feed;
mod list;
mod query;
mod schema;
mod terms;
mod update;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

use crate::db::Db;
pub use budget::{Budget, Exhausted};
pub use list::{Key, ListPage, ListRequest, ListTuning, SortField, SortValue};
pub use query::{
    words, Facets, Hit, SearchRequest, SearchResults, MAX_QUERY_CHARS, MAX_QUERY_WORDS,
};
use schema::CatalogSchema;
pub use schema::SCHEMA_VERSION;

/// Memory each indexing thread may buffer before it flushes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// The long-lived writer's budget: changes are small, and tantivy's floor is 15 MB.
const UPDATE_WRITER_MEMORY: usize = 16 * 1024 * 1024;
const STAMP_FILE: &str = "chinook-index.json";

/// What the index was built from; it is reused only when this matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub schema_version: u32,
    pub catalog_source: String,
    pub catalog_version: String,
    /// The last change of the catalog's change log that the index holds.
    #[serde(default)]
    pub change_seq: i64,
}

impl Stamp {
    /// The stamp an index built now from `db` would carry.
    pub async fn current(db: &Db) -> anyhow::Result<Self> {
        let read = |key: &'static str| async move {
            sqlx::query_scalar::<_, String>("SELECT value FROM catalog_meta WHERE key = $1")
                .bind(key)
                .fetch_optional(db.primary())
                .await
                .map(Option::unwrap_or_default)
        };
        Ok(Self {
            schema_version: SCHEMA_VERSION,
            catalog_source: read("source").await?,
            catalog_version: read("catalog_version").await?,
            change_seq: crate::catalog::changes::last_change(db).await?,
        })
    }

    /// Whether an index with this stamp can be brought up to `current` by applying the
    /// change log, rather than rebuilt.
    fn can_catch_up_to(&self, current: &Stamp) -> bool {
        self.schema_version == current.schema_version
            && self.catalog_source == current.catalog_source
            && self.catalog_version == current.catalog_version
            && self.change_seq <= current.change_seq
    }
}

/// How the index came to be open, for logs and `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The persisted index was current and reused.
    Reused,
    /// It was built from SQL.
    Built,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenReport {
    pub origin: Origin,
    pub documents: u64,
    pub open_ms: u64,
    pub warm_ms: u64,
}

/// Index reads that may run at once on the blocking pool; more wait for a place, within
/// their deadline, so a burst of expensive reads queues instead of taking every thread.
const CONCURRENT_READS: usize = 8;

/// The index as the running app holds it: empty until it is open and warm.
pub struct IndexSlot {
    ready: std::sync::OnceLock<(CatalogIndex, OpenReport)>,
    reads: tokio::sync::Semaphore,
}

impl Default for IndexSlot {
    fn default() -> Self {
        Self {
            ready: std::sync::OnceLock::new(),
            reads: tokio::sync::Semaphore::new(CONCURRENT_READS),
        }
    }
}

impl IndexSlot {
    pub fn fill(&self, index: CatalogIndex, report: OpenReport) {
        if self.ready.set((index, report)).is_err() {
            tracing::error!("the search index was opened twice; keeping the first");
        }
    }

    pub fn get(&self) -> Option<&CatalogIndex> {
        self.ready.get().map(|(index, _)| index)
    }

    pub fn report(&self) -> Option<&OpenReport> {
        self.ready.get().map(|(_, report)| report)
    }

    /// Places for reads on the blocking pool (see `AppState::read_catalog`).
    pub fn reads(&self) -> &tokio::sync::Semaphore {
        &self.reads
    }
}

pub struct CatalogIndex {
    /// The process's one long-lived reader.
    reader: IndexReader,
    /// The process's one writer, for changes; building a whole index uses its own.
    writer: Arc<Mutex<IndexWriter>>,
    dir: PathBuf,
    schema: CatalogSchema,
    /// The last change applied; holding the lock is what serialises updates.
    applied: tokio::sync::Mutex<i64>,
    /// The same, readable without waiting, for `/health`.
    applied_seen: std::sync::atomic::AtomicI64,
    /// The taxonomy terms and their counts, derived from the index as of the last reload.
    terms: terms::TermCache,
    tuning: std::sync::RwLock<ListTuning>,
    /// The fast-field columns lists read, per segment.
    columns: Arc<list::ColumnCache>,
}

fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

fn write_stamp(dir: &Path, stamp: &Stamp) -> anyhow::Result<()> {
    // Written beside and renamed, so a crash never leaves half a stamp.
    let partial = dir.join(format!("{STAMP_FILE}.partial"));
    std::fs::write(&partial, serde_json::to_vec_pretty(stamp)?)?;
    std::fs::rename(&partial, dir.join(STAMP_FILE))?;
    Ok(())
}

fn read_stamp(dir: &Path) -> Option<Stamp> {
    let text = std::fs::read_to_string(dir.join(STAMP_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

impl CatalogIndex {
    /// Opens the persisted index when it matches the database, or builds it; then warms it.
    pub async fn open_or_build(
        db: &Db,
        data_dir: &Path,
        interactive: bool,
    ) -> anyhow::Result<(Self, OpenReport)> {
        let started = Instant::now();
        let stamp = Stamp::current(db).await?;
        let dir = index_dir(data_dir);
        let persisted = read_stamp(&dir).filter(|old| old.can_catch_up_to(&stamp));
        let origin = if persisted.is_some() {
            Origin::Reused
        } else {
            tracing::info!(?stamp, "the search index is missing or stale; building it");
            build::build(db, data_dir, &stamp, interactive).await?;
            Origin::Built
        };
        let applied = persisted.map_or(stamp.change_seq, |old| old.change_seq);
        let opened = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || Self::open(&dir, applied))
                .await
                .context("opening the index panicked")?
        };
        let (index, origin) = match (opened, origin) {
            (Ok(index), origin) => (index, origin),
            // A current stamp on a damaged index: build it again rather than never start.
            (Err(e), Origin::Reused) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the persisted index is damaged; rebuilding it"
                );
                build::build(db, data_dir, &stamp, interactive).await?;
                let seq = stamp.change_seq;
                let index = tokio::task::spawn_blocking(move || Self::open(&dir, seq))
                    .await
                    .context("opening the index panicked")??;
                (index, Origin::Built)
            }
            (Err(e), Origin::Built) => return Err(e),
        };
        // Changes logged since the index was stamped, by this instance or another.
        index.catch_up(db).await?;
        let open_ms = started.elapsed().as_millis() as u64;
        let (index, warm) = tokio::task::spawn_blocking(move || {
            let warm = index.warm();
            (index, warm)
        })
        .await
        .context("warming the index panicked")?;
        let warm = warm?;
        let report = OpenReport {
            origin,
            documents: index.documents(),
            open_ms,
            warm_ms: warm.as_millis() as u64,
        };
        Ok((index, report))
    }

    /// Rebuilds the index from SQL whatever its stamp says (`chinook reindex`).
    pub async fn rebuild(db: &Db, data_dir: &Path, interactive: bool) -> anyhow::Result<u64> {
        let stamp = Stamp::current(db).await?;
        let documents = build::build(db, data_dir, &stamp, interactive).await?;
        // Offline there is time to merge; a server reusing the index takes it as it is.
        let (dir, applied) = (index_dir(data_dir), stamp.change_seq);
        tokio::task::spawn_blocking(move || Self::open(&dir, applied)?.merge_segments())
            .await
            .context("merging the index panicked")??;
        Ok(documents)
    }

    fn open(dir: &Path, applied: i64) -> anyhow::Result<Self> {
        let index = Index::open_in_dir(dir)
            .with_context(|| format!("cannot open the index in {}", dir.display()))?;
        schema::register_tokenizers(&index);
        let schema = CatalogSchema::from(index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("cannot open an index reader")?;
        let writer = index
            .writer_with_num_threads(1, UPDATE_WRITER_MEMORY)
            .context("cannot open the index writer; is another process using the index?")?;
        Ok(Self {
            reader,
            writer: Arc::new(Mutex::new(writer)),
            dir: dir.to_path_buf(),
            schema,
            applied: tokio::sync::Mutex::new(applied),
            applied_seen: std::sync::atomic::AtomicI64::new(applied),
            terms: terms::TermCache::default(),
            columns: Arc::default(),
            tuning: std::sync::RwLock::new(ListTuning::default()),
        })
    }

    /// Touches what queries read, so the first requests do not pay for cold pages: every
    /// term dictionary of the indexed fields, every fast-field column, the facet tables and
    /// the taxonomy's counts.
    fn warm(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let searcher = self.reader.searcher();
        // Opened through the lists' cache, so the first list finds its columns (and their
        // range samples) ready.
        let columns = self.columns.of(&searcher)?;
        for (segment, columns) in searcher.segment_readers().iter().zip(&columns) {
            for field in self.schema.indexed_fields() {
                let inverted = segment.inverted_index(field)?;
                let mut terms = inverted.terms().stream()?;
                while terms.advance() {}
            }
            for name in schema::FAST_U64_FIELDS {
                let column = columns.u64(name)?;
                let mut sum = 0u64;
                for doc in 0..segment.max_doc() {
                    sum = sum.wrapping_add(column.first(doc).unwrap_or(0));
                }
                std::hint::black_box(sum);
            }
        }
        self.warm_facets()?;
        // The taxonomy's counts per segment, which every tree view reads (100 ms at 1M
        // tracks, on the first request otherwise).
        self.term_counts()?;
        // The list orders take 0.6 s at 1M tracks, too long to wait for before ready: they
        // are built just after, and a list meanwhile builds (or waits for) its own.
        self.columns.warm_soon(searcher.clone());
        Ok(started.elapsed())
    }

    /// The last change of the change log this index holds.
    pub fn applied_change(&self) -> i64 {
        self.applied_seen.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many segments the index has; each live write adds one until merges fold them.
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Makes the latest commit visible to searches. Tests call it instead of waiting.
    pub fn reload(&self) -> anyhow::Result<()> {
        self.reader
            .reload()
            .context("reloading the index reader failed")?;
        self.terms.clear();
        self.columns.warm_soon(self.reader.searcher());
        Ok(())
    }
}
