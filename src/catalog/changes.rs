//! The catalog's change log in SQL: every catalog, taxonomy and playlist write runs in a
//! `CatalogWrite`, which takes the catalog write lock, names the index entries it touches and
//! appends them to `catalog_change` in the same transaction. The index follows this log
//! (`search::feed`), so an instance that missed an announcement catches up instead of drifting.

use std::collections::BTreeSet;

use anyhow::Context;
use sqlx::Row;

use crate::catalog::Kind;
use crate::config::Backend;
use crate::db::{Db, Tx};

/// The PostgreSQL channel that announces new changes.
pub const CHANNEL: &str = "chinook_catalog";

/// A transaction that changes the catalog or a taxonomy.
pub struct CatalogWrite {
    pub tx: Tx<'static>,
    backend: Backend,
    touched: BTreeSet<(u64, i64)>,
}

impl CatalogWrite {
    /// Opens the transaction and takes the catalog write lock, so concurrent writes commit
    /// one at a time and the log's sequence numbers become visible in order.
    pub async fn begin(db: &Db) -> Result<Self, sqlx::Error> {
        let mut tx = db.writer().begin().await?;
        sqlx::query("UPDATE catalog_meta SET value = value WHERE key = 'catalog_write_lock'")
            .execute(&mut tx)
            .await?;
        Ok(Self {
            tx,
            backend: db.backend(),
            touched: BTreeSet::new(),
        })
    }

    /// Marks an index entry for refreshing from SQL (or removal, when it is gone).
    pub fn touch(&mut self, kind: Kind, id: i64) {
        self.touched.insert((kind.code(), id));
    }

    pub fn touch_all(&mut self, kind: Kind, ids: impl IntoIterator<Item = i64>) {
        for id in ids {
            self.touch(kind, id);
        }
    }

    /// Logs the touched entries and commits.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if !self.touched.is_empty() {
            let entries: Vec<(u64, i64)> = self.touched.into_iter().collect();
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO catalog_change (changed_at, entries) VALUES ($1, $2) RETURNING seq",
            )
            .bind(crate::db::timestamp_now())
            .bind(serde_json::to_string(&entries).expect("pairs of numbers serialise"))
            .fetch_one(&mut self.tx)
            .await?;
            if self.backend == Backend::Postgres {
                // Delivered when the transaction commits, never before.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(seq.to_string())
                    .execute(&mut self.tx)
                    .await?;
            }
        }
        self.tx.commit().await?;
        Ok(())
    }
}

// The feed reads the primary: a change the index applies must be the committed state.

/// The sequence number of the last logged change, 0 when there is none.
pub async fn last_change(db: &Db) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM catalog_change")
            .fetch_one(db.primary())
            .await?
            .unwrap_or(0),
    )
}

/// Logged changes after `seq`, oldest first: (seq, entries as (kind, id)).
pub async fn changes_after(
    db: &Db,
    seq: i64,
    limit: i64,
) -> anyhow::Result<Vec<(i64, Vec<(Kind, i64)>)>> {
    let rows =
        sqlx::query("SELECT seq, entries FROM catalog_change WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(seq)
            .bind(limit)
            .fetch_all(db.primary())
            .await?;
    rows.into_iter()
        .map(|row| {
            let seq: i64 = row.try_get(0)?;
            let raw: String = row.try_get(1)?;
            let entries: Vec<(u64, i64)> = serde_json::from_str(&raw)
                .with_context(|| format!("change {seq} has unreadable entries"))?;
            let entries = entries
                .into_iter()
                .filter_map(|(code, id)| Kind::from_code(code).map(|kind| (kind, id)))
                .collect();
            Ok((seq, entries))
        })
        .collect()
}
