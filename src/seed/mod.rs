//! Filling an empty database: the real Chinook dataset, or a generated Chinook-shaped catalog.
//!
//! A seed is one transaction: it lands whole or not at all. The catalog's source is recorded
//! in `catalog_meta`, so seeding the same source again does nothing, and seeding a different
//! one into a database that already has a catalog is refused instead of mixing the two.

mod dataset;
mod rows;
mod synthetic;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::config::{Backend, Secret};
use crate::db::{self, Connected, Counted, Db};
use crate::store::{password, Role};

pub use synthetic::DEFAULT_SEED;

/// Where a catalog comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `ChinookData.json`.
    Dataset(PathBuf),
    /// A generated catalog of `tracks` tracks; the same seed always gives the same catalog.
    Synthetic { tracks: u64, seed: u64 },
}

impl Source {
    /// The generated catalog of about Chinook's size, used when no dataset is given.
    pub fn default_synthetic() -> Self {
        Source::Synthetic {
            tracks: 3_503,
            seed: DEFAULT_SEED,
        }
    }
}

#[derive(Debug)]
pub enum Outcome {
    Seeded {
        elapsed: Duration,
    },
    /// The database already holds exactly this catalog.
    AlreadySeeded,
}

#[derive(Debug)]
pub struct Report {
    pub source: String,
    pub outcome: Outcome,
    pub counts: Vec<(&'static str, i64)>,
}

/// Seeds `db` from `source`. Seeded accounts get `demo_password`; `interactive` asks for a
/// progress bar when stderr is a terminal.
pub async fn seed(
    db: &Db,
    source: &Source,
    demo_password: &Secret,
    interactive: bool,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let (identity, input) = match source {
        Source::Dataset(path) => {
            let bytes = tokio::fs::read(path)
                .await
                .with_context(|| format!("cannot read dataset {}", path.display()))?;
            let identity = format!("chinook-dataset sha256:{}", crate::hex::sha256(&bytes));
            (identity, Input::Dataset(bytes, path.display().to_string()))
        }
        Source::Synthetic { tracks, seed } => {
            if *tracks == 0 {
                bail!("a synthetic catalog needs at least one track");
            }
            let identity = format!("synthetic tracks={tracks} seed={seed}");
            (identity, Input::Synthetic(*tracks, *seed))
        }
    };
    // A database that already has this catalog is done before any parsing, so a restart
    // with CHINOOK_DATASET set costs one hash of the file.
    if let Some(existing) = recorded_source(db).await? {
        return already_seeded(db, &identity, &existing).await;
    }
    // Everything that can fail on bad input happens before the transaction opens.
    let prepared = match input {
        Input::Dataset(bytes, name) => {
            let parsed = tokio::task::spawn_blocking(move || dataset::parse(&bytes, &name))
                .await
                .context("dataset parser panicked")??;
            Prepared::Dataset(Box::new(parsed))
        }
        Input::Synthetic(tracks, seed) => Prepared::Synthetic(synthetic::Plan::new(tracks, seed)),
    };
    let occupied = db::table_counts(db.reader())
        .await?
        .into_iter()
        .filter(|(table, n)| *n > 0 && *table != "account" && *table != "access_token")
        .map(|(table, _)| table)
        .collect::<Vec<_>>();
    if !occupied.is_empty() {
        bail!(
            "the database holds data of no recorded catalog (in {}); seed into a fresh database",
            occupied.join(", ")
        );
    }

    let demo_hash = password::hash(demo_password.expose().to_string()).await?;
    let mut tx = db.writer().begin().await?;
    // Claiming the source first makes a concurrent seeder wait here and then fail cleanly.
    let claimed = sqlx::query("INSERT INTO catalog_meta (key, value) VALUES ('source', $1)")
        .bind(&identity)
        .execute(&mut tx)
        .await;
    if let Err(e) = claimed {
        drop(tx);
        if let Some(existing) = recorded_source(db).await? {
            return already_seeded(db, &identity, &existing).await;
        }
        return Err(e).context("recording the catalog source failed");
    }
    sqlx::query("INSERT INTO catalog_meta (key, value) VALUES ('catalog_version', '1')")
        .execute(&mut tx)
        .await?;

    let accounts = AccountSeed {
        password_hash: demo_hash,
        created_at: db::timestamp_now(),
        skeletons: Default::default(),
    };
    match prepared {
        Prepared::Dataset(data) => dataset::write(&mut tx, &data, &accounts, interactive).await?,
        Prepared::Synthetic(plan) => plan.write(&mut tx, &accounts, interactive).await?,
    }
    crate::catalog::taxonomy::seed::seed(&mut tx)
        .await
        .context("seeding the default taxonomies failed")?;
    crate::store::purchases::derive_ownership(&mut tx)
        .await
        .context("recording what the seeded invoices bought failed")?;
    if db.backend() == Backend::Postgres {
        advance_identity_sequences(&mut tx).await?;
    }
    tx.commit().await.context("committing the seed failed")?;

    Ok(Report {
        source: identity,
        outcome: Outcome::Seeded {
            elapsed: started.elapsed(),
        },
        counts: db::table_counts(db.writer()).await?,
    })
}

enum Input {
    Dataset(Vec<u8>, String),
    Synthetic(u64, u64),
}

enum Prepared {
    Dataset(Box<dataset::Dataset>),
    Synthetic(synthetic::Plan),
}

/// What seeded accounts share. Every demo account has the same documented password, so one
/// argon2 hash serves them all; hashing thousands of them would take minutes for nothing.
pub(crate) struct AccountSeed {
    pub password_hash: String,
    pub created_at: String,
    /// Skeletons given out so far: a generated address that looks like an earlier one
    /// (`hall10` and `hal110`) keeps no skeleton rather than failing the seed.
    pub skeletons: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl AccountSeed {
    pub fn row(
        &self,
        email: &str,
        role: Role,
        customer: Option<i64>,
        employee: Option<i64>,
    ) -> Vec<rows::Value> {
        let email = email.to_lowercase();
        let looks = crate::store::email::skeleton(&email);
        let fresh = self
            .skeletons
            .lock()
            .expect("the skeleton set is never poisoned")
            .insert(looks.clone());
        vec![
            fresh.then_some(looks).into(),
            email.into(),
            self.password_hash.as_str().into(),
            role.as_str().into(),
            customer.into(),
            employee.into(),
            self.created_at.as_str().into(),
        ]
    }
}

pub(crate) const ACCOUNT_COLUMNS: &[&str] = &[
    "email_skeleton",
    "email",
    "password_hash",
    "role",
    "customer_id",
    "employee_id",
    "created_at",
];

/// Whether a catalog has been seeded into this database.
pub async fn has_catalog(db: &Db) -> anyhow::Result<bool> {
    Ok(recorded_source(db).await?.is_some())
}

async fn recorded_source(db: &Db) -> anyhow::Result<Option<String>> {
    Ok(
        sqlx::query_scalar::<_, String>("SELECT value FROM catalog_meta WHERE key = 'source'")
            .fetch_optional(db.writer())
            .await?,
    )
}

async fn already_seeded(db: &Db, identity: &str, existing: &str) -> anyhow::Result<Report> {
    if existing != identity {
        bail!(
            "the database already holds another catalog ({existing}); seed into a fresh database"
        );
    }
    Ok(Report {
        source: identity.to_string(),
        outcome: Outcome::AlreadySeeded,
        counts: db::table_counts(db.writer()).await?,
    })
}

/// Explicit ids do not move PostgreSQL's identity sequences; without this the next
/// registration would collide with customer 1.
async fn advance_identity_sequences(conn: &mut Counted<impl Connected>) -> anyhow::Result<()> {
    for (table, column) in [
        ("artist", "artist_id"),
        ("album", "album_id"),
        ("genre", "genre_id"),
        ("media_type", "media_type_id"),
        ("track", "track_id"),
        ("playlist", "playlist_id"),
        ("employee", "employee_id"),
        ("customer", "customer_id"),
        ("invoice", "invoice_id"),
        ("invoice_line", "invoice_line_id"),
    ] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        );
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}
