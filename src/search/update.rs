//! Bringing the live index up to date with the change log: each change names the entries
//! it touched; they are read again from SQL and replace their documents (or are removed,
//! when SQL no longer has them), through the process's one writer.

use std::collections::{BTreeSet, HashMap};

use anyhow::Context;
use tantivy::Term;

use super::{read_stamp, schema, write_stamp, CatalogIndex};
use crate::catalog::{self, Kind, Scope};
use crate::db::Db;

/// Changes applied per batch, so a long backlog does not load everything at once.
const BATCH: i64 = 200;

impl CatalogIndex {
    /// Applies every logged change this index has not seen, then makes it visible.
    pub async fn catch_up(&self, db: &Db) -> anyhow::Result<()> {
        let mut applied = self.applied.lock().await;
        loop {
            let changes = crate::catalog::changes::changes_after(db, *applied, BATCH).await?;
            let Some(&(last, _)) = changes.last() else {
                return Ok(());
            };
            let touched: BTreeSet<(Kind, i64)> = changes
                .into_iter()
                .flat_map(|(_, entries)| entries)
                .map(|(kind, id)| (kind.code(), id))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter_map(|(code, id)| Kind::from_code(code).map(|k| (k, id)))
                .collect();
            self.replace(db, touched).await?;
            *applied = last;
            self.applied_seen
                .store(last, std::sync::atomic::Ordering::Relaxed);
            if let Some(mut stamp) = read_stamp(&self.dir) {
                stamp.change_seq = last;
                write_stamp(&self.dir, &stamp)?;
            }
            tracing::debug!(seq = last, "applied catalog changes to the index");
        }
    }

    /// Replaces the documents of `touched` with what SQL holds now.
    async fn replace(&self, db: &Db, touched: BTreeSet<(Kind, i64)>) -> anyhow::Result<()> {
        let mut ids: HashMap<Kind, Vec<i64>> = HashMap::new();
        for (kind, id) in &touched {
            ids.entry(*kind).or_default().push(*id);
        }
        let keys: Vec<u64> = touched
            .iter()
            .filter_map(|(kind, id)| u64::try_from(*id).ok().map(|id| schema::key(*kind, id)))
            .collect();

        let (sender, mut receiver) = tokio::sync::mpsc::channel::<catalog::Record>(1024);
        // Whether every entry was read: only then are the changes committed.
        let (verdict, loaded_all) = tokio::sync::oneshot::channel::<bool>();
        let writer = self.writer.clone();
        let fields = self.schema.clone();
        let indexer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut writer = writer
                .lock()
                .map_err(|_| anyhow::anyhow!("the index writer was poisoned by a panic"))?;
            for key in keys {
                writer.delete_term(Term::from_field_u64(fields.key, key));
            }
            while let Some(record) = receiver.blocking_recv() {
                writer.add_document(fields.document(&record))?;
            }
            if loaded_all.blocking_recv().unwrap_or(false) {
                writer.commit().context("committing index changes failed")?;
            } else {
                writer
                    .rollback()
                    .context("rolling back index changes failed")?;
            }
            Ok(())
        });
        let loaded = catalog::load(db, &Scope::Only(ids), &sender).await;
        drop(sender);
        let _ = verdict.send(loaded.is_ok());
        indexer
            .await
            .context("the index writer thread panicked")??;
        loaded.context("reading changed catalog entries failed")?;
        self.reload()
    }
}
