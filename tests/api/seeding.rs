//! Importing the Chinook dataset and generating synthetic catalogs.

use chinook::config::Secret;
use chinook::db::{self, Db};
use chinook::seed::{self, Outcome, Source};
use sqlx::Row;

use crate::helpers::{dataset_path, TestDatabase, DEMO_PASSWORD};

async fn migrated(database: &TestDatabase) -> Db {
    let db = database.connect().await;
    db.migrate().await.unwrap();
    db
}

async fn seed(db: &Db, source: &Source) -> anyhow::Result<seed::Report> {
    seed::seed(db, source, &Secret::new(DEMO_PASSWORD), false).await
}

async fn counts(db: &Db) -> Vec<(&'static str, i64)> {
    db::table_counts(db.reader()).await.unwrap()
}

fn count(counts: &[(&str, i64)], table: &str) -> i64 {
    counts.iter().find(|(t, _)| *t == table).unwrap().1
}

/// A copy of the dataset with `edit` applied, written into the test's directory.
fn edited_dataset(
    database: &TestDatabase,
    edit: impl FnOnce(&mut serde_json::Value),
) -> std::path::PathBuf {
    let mut data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dataset_path()).unwrap()).unwrap();
    edit(&mut data);
    let path = database.dir.path().join("edited.json");
    std::fs::write(&path, serde_json::to_vec(&data).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn the_dataset_imports_with_exact_counts() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let report = seed(&db, &Source::Dataset(dataset_path())).await.unwrap();
    assert!(matches!(report.outcome, Outcome::Seeded { .. }));
    let expected = [
        ("track", 3503),
        ("album", 347),
        ("artist", 275),
        ("genre", 25),
        ("media_type", 5),
        ("playlist", 18),
        ("playlist_track", 8715),
        ("customer", 59),
        ("employee", 8),
        ("invoice", 412),
        ("invoice_line", 2240),
        ("account", 67),
    ];
    let actual = counts(&db).await;
    for (table, n) in expected {
        assert_eq!(count(&actual, table), n, "{table}");
    }
    assert_eq!(report.counts, actual);
}

#[tokio::test]
async fn every_invoice_total_is_the_sum_of_its_lines_to_the_cent() {
    let database = TestDatabase::chinook().await;
    let db = database.connect().await;
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoice i WHERE i.total_cents <> \
         (SELECT CAST(SUM(l.unit_price_cents * l.quantity) AS BIGINT) FROM invoice_line l WHERE l.invoice_id = i.invoice_id)",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(mismatched, 0);
    // Chinook's sales come to 2328.60 in all.
    let total: i64 = sqlx::query_scalar("SELECT CAST(SUM(total_cents) AS BIGINT) FROM invoice")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(total, 232_860);
}

#[tokio::test]
async fn imported_rows_match_the_reference_database() {
    let database = TestDatabase::chinook().await;
    let db = database.connect().await;
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/chinook/Chinook_Sqlite.sqlite");
    let url = format!("sqlite://{}?mode=ro&immutable=1", reference.display());
    let reference = sqlx::AnyPool::connect(&url).await.unwrap();
    let ours = sqlx::query(
        "SELECT track_id, name, album_id, genre_id, milliseconds, unit_price_cents FROM track ORDER BY track_id",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    let theirs = sqlx::query(
        "SELECT TrackId, Name, AlbumId, GenreId, Milliseconds, CAST(ROUND(UnitPrice * 100) AS INTEGER) FROM Track ORDER BY TrackId",
    )
    .fetch_all(&reference)
    .await
    .unwrap();
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.get::<i64, _>(0), b.get::<i64, _>(0));
        assert_eq!(a.get::<String, _>(1), b.get::<String, _>(1));
        assert_eq!(a.get::<Option<i64>, _>(2), b.get::<Option<i64>, _>(2));
        assert_eq!(a.get::<Option<i64>, _>(3), b.get::<Option<i64>, _>(3));
        assert_eq!(a.get::<i64, _>(4), b.get::<i64, _>(4));
        assert_eq!(a.get::<i64, _>(5), b.get::<i64, _>(5));
    }
    let bosses: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT employee_id, reports_to FROM employee ORDER BY employee_id")
            .fetch_all(db.reader())
            .await
            .unwrap();
    let reference_bosses: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT EmployeeId, ReportsTo FROM Employee ORDER BY EmployeeId")
            .fetch_all(&reference)
            .await
            .unwrap();
    assert_eq!(bosses, reference_bosses);
}

#[tokio::test]
async fn importing_twice_changes_nothing() {
    let database = TestDatabase::chinook().await;
    let db = migrated(&database).await;
    let before = counts(&db).await;
    let report = seed(&db, &Source::Dataset(dataset_path())).await.unwrap();
    assert!(matches!(report.outcome, Outcome::AlreadySeeded));
    assert_eq!(counts(&db).await, before);
}

#[tokio::test]
async fn a_truncated_file_imports_nothing_and_says_where_it_broke() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let bytes = std::fs::read(dataset_path()).unwrap();
    let path = database.dir.path().join("truncated.json");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let error = seed(&db, &Source::Dataset(path)).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("truncated.json"), "{message}");
    assert!(
        message.contains("line") && message.contains("column"),
        "{message}"
    );
    assert!(counts(&db).await.iter().all(|(_, n)| *n == 0));
    assert!(!seed::has_catalog(&db).await.unwrap());
}

#[tokio::test]
async fn a_broken_reference_imports_nothing_and_names_the_row() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let path = edited_dataset(&database, |data| {
        data["Track"][17]["AlbumId"] = 99_999.into()
    });
    let message = format!("{:#}", seed(&db, &Source::Dataset(path)).await.unwrap_err());
    assert!(
        message.contains("Track[17] (TrackId 18): AlbumId 99999"),
        "{message}"
    );
    assert!(counts(&db).await.iter().all(|(_, n)| *n == 0));
}

#[tokio::test]
async fn a_wrong_invoice_total_is_refused() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let path = edited_dataset(&database, |data| data["Invoice"][0]["Total"] = 1.97.into());
    let message = format!("{:#}", seed(&db, &Source::Dataset(path)).await.unwrap_err());
    assert!(message.contains("InvoiceId 1"), "{message}");
    assert!(
        message.contains("1.97") && message.contains("1.98"),
        "{message}"
    );
}

#[tokio::test]
async fn a_fraction_of_a_cent_is_refused() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let path = edited_dataset(&database, |data| {
        data["Track"][0]["UnitPrice"] = 0.995.into()
    });
    let message = format!("{:#}", seed(&db, &Source::Dataset(path)).await.unwrap_err());
    assert!(message.contains("UnitPrice 0.995"), "{message}");
}

#[tokio::test]
async fn garbage_and_missing_files_are_clear_errors() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let garbage = database.dir.path().join("garbage.json");
    std::fs::write(&garbage, b"\x00\x01PK not json").unwrap();
    let message = format!(
        "{:#}",
        seed(&db, &Source::Dataset(garbage)).await.unwrap_err()
    );
    assert!(message.contains("not a valid Chinook dataset"), "{message}");

    let wrong_shape = database.dir.path().join("shape.json");
    std::fs::write(&wrong_shape, br#"{"Genre": []}"#).unwrap();
    let message = format!(
        "{:#}",
        seed(&db, &Source::Dataset(wrong_shape)).await.unwrap_err()
    );
    assert!(message.contains("missing field"), "{message}");

    let missing = database.dir.path().join("nowhere.json");
    let message = format!(
        "{:#}",
        seed(&db, &Source::Dataset(missing)).await.unwrap_err()
    );
    assert!(
        message.contains("cannot read dataset") && message.contains("nowhere.json"),
        "{message}"
    );
}

#[tokio::test]
async fn seeded_accounts_get_the_configured_demo_password() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    let source = Source::Synthetic {
        tracks: 200,
        seed: 1,
    };
    seed::seed(&db, &source, &Secret::new("another-secret-9"), false)
        .await
        .unwrap();
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM account ORDER BY account_id LIMIT 1")
            .fetch_one(db.reader())
            .await
            .unwrap();
    let verify = |p: &str| chinook::store::password::verify(p.to_string(), Some(hash.clone()));
    assert!(verify("another-secret-9").await.unwrap());
    assert!(!verify(DEMO_PASSWORD).await.unwrap());
}

#[tokio::test]
async fn a_different_catalog_is_not_mixed_in() {
    let database = TestDatabase::chinook().await;
    let db = migrated(&database).await;
    let message = format!(
        "{:#}",
        seed(
            &db,
            &Source::Synthetic {
                tracks: 100,
                seed: 1
            }
        )
        .await
        .unwrap_err()
    );
    assert!(
        message.contains("already holds another catalog"),
        "{message}"
    );
    assert_eq!(count(&counts(&db).await, "track"), 3503);
}

/// Every row of the catalog tables in a fixed order, as text, to compare two databases.
async fn dump(db: &Db) -> Vec<String> {
    let mut out = Vec::new();
    for (table, key) in [
        ("artist", "artist_id"),
        ("album", "album_id"),
        ("track", "track_id"),
        ("customer", "customer_id"),
        ("invoice", "invoice_id"),
        ("invoice_line", "invoice_line_id"),
        ("playlist_track", "playlist_id, position"),
    ] {
        let sql = format!("SELECT * FROM {table} ORDER BY {key}");
        for row in sqlx::query(&sql).fetch_all(db.reader()).await.unwrap() {
            let fields: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<Option<i64>, _>(i)
                        .map(|v| format!("{v:?}"))
                        .or_else(|_| {
                            row.try_get::<Option<String>, _>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .unwrap()
                })
                .collect();
            out.push(format!("{table}: {}", fields.join("|")));
        }
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_catalog() {
    let (a, b, c) = (
        TestDatabase::empty().await,
        TestDatabase::empty().await,
        TestDatabase::empty().await,
    );
    let (a, b, c) = (migrated(&a).await, migrated(&b).await, migrated(&c).await);
    seed(
        &a,
        &Source::Synthetic {
            tracks: 2_000,
            seed: 7,
        },
    )
    .await
    .unwrap();
    seed(
        &b,
        &Source::Synthetic {
            tracks: 2_000,
            seed: 7,
        },
    )
    .await
    .unwrap();
    seed(
        &c,
        &Source::Synthetic {
            tracks: 2_000,
            seed: 8,
        },
    )
    .await
    .unwrap();
    let (dump_a, dump_b, dump_c) = (dump(&a).await, dump(&b).await, dump(&c).await);
    assert!(dump_a.len() > 2_000);
    assert_eq!(dump_a, dump_b);
    assert_ne!(dump_a, dump_c);
}

#[tokio::test]
async fn a_synthetic_catalog_is_chinook_shaped() {
    let database = TestDatabase::empty().await;
    let db = migrated(&database).await;
    seed(
        &db,
        &Source::Synthetic {
            tracks: 5_000,
            seed: 3,
        },
    )
    .await
    .unwrap();
    let counts = counts(&db).await;
    assert_eq!(count(&counts, "track"), 5_000);
    assert_eq!(count(&counts, "genre"), 25);
    assert_eq!(count(&counts, "media_type"), 5);
    assert_eq!(count(&counts, "employee"), 8);
    let albums = count(&counts, "album");
    let artists = count(&counts, "artist");
    assert!(
        (300..=800).contains(&albums),
        "{albums} albums for 5000 tracks"
    );
    assert!(
        artists < albums && artists * 2 > albums,
        "{artists} artists, {albums} albums"
    );
    let customers = count(&counts, "customer");
    assert!((70..=100).contains(&customers), "{customers}");
    let invoices = count(&counts, "invoice");
    assert!(invoices >= customers * 4 && invoices <= customers * 10);
    assert_eq!(count(&counts, "account"), customers + 8);

    let db = &db;
    let q = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db.reader())
            .await
            .unwrap()
    };
    assert_eq!(
        q("SELECT COUNT(*) FROM track WHERE unit_price_cents NOT IN (99, 199)").await,
        0
    );
    assert!(q("SELECT COUNT(*) FROM track WHERE unit_price_cents = 199").await > 0);
    assert_eq!(q("SELECT COUNT(*) FROM album a WHERE NOT EXISTS (SELECT 1 FROM track t WHERE t.album_id = a.album_id)").await, 0);
    assert_eq!(
        q("SELECT COUNT(*) FROM invoice i WHERE i.total_cents <> (SELECT CAST(SUM(unit_price_cents * quantity) AS BIGINT) FROM invoice_line l WHERE l.invoice_id = i.invoice_id)").await,
        0
    );
    let rock = q("SELECT COUNT(*) FROM track WHERE genre_id = 1").await;
    assert!(
        rock > 1_000,
        "Rock leads the genre mix as in Chinook: {rock}"
    );
    let median_ms = q("SELECT milliseconds FROM track WHERE media_type_id <> 3 ORDER BY milliseconds LIMIT 1 OFFSET 2000").await;
    assert!(
        (150_000..=360_000).contains(&median_ms),
        "songs last minutes: {median_ms}"
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM employee WHERE reports_to IS NULL").await,
        1
    );
}
