//! An account's marks on one page of entries, read in one statement: which of its tracks the
//! customer owns, their stored audio, and the account's stars, ratings and plays of the
//! page's tracks, albums and artists. A page costs one query however many kinds it shows.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use super::annotations::Item;
use crate::db::Db;
use crate::error::ApiResult;

/// The marks found, keyed as the entries are.
#[derive(Debug, Default)]
pub struct PageMarks {
    pub owned: HashSet<i64>,
    /// Content type and size of each track's stored master.
    pub audio: HashMap<i64, (String, i64)>,
    pub stars: HashMap<(Item, i64), String>,
    pub ratings: HashMap<(Item, i64), i64>,
    /// Play count and last play of each track.
    pub plays: HashMap<i64, (i64, String)>,
}

/// The ids a page shows.
pub struct PageIds<'a> {
    pub tracks: &'a [i64],
    pub albums: &'a [i64],
    pub artists: &'a [i64],
}

/// Integers inlined into SQL: nothing can be injected through them, and a page's id lists
/// are what bounds every branch of the statement.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `kind = 'track' AND item_id IN (..) OR ...` for the kinds the page has, or `None`.
fn items_clause(ids: &PageIds<'_>) -> Option<String> {
    let parts: Vec<String> = [
        (Item::Track, ids.tracks),
        (Item::Album, ids.albums),
        (Item::Artist, ids.artists),
    ]
    .into_iter()
    .filter(|(_, list)| !list.is_empty())
    .map(|(item, list)| {
        format!(
            "(kind = '{}' AND item_id IN ({}))",
            item.as_str(),
            id_list(list)
        )
    })
    .collect();
    (!parts.is_empty()).then(|| parts.join(" OR "))
}

/// The statement for a page, or `None` when the page is empty. Each branch yields
/// `(what, kind, id, text, number)`, every column cast so both backends type the union the
/// same way whichever branches a page has.
fn statement(account: i64, customer: Option<i64>, ids: &PageIds<'_>) -> Option<String> {
    let branch = |what: &str, kind: &str, id: &str, text: &str, number: &str, rest: String| {
        format!(
            "SELECT '{what}', {kind}, {id}, CAST({text} AS TEXT), CAST({number} AS BIGINT) {rest}"
        )
    };
    let mut branches = Vec::new();
    if !ids.tracks.is_empty() {
        let tracks = id_list(ids.tracks);
        if let Some(customer) = customer {
            branches.push(branch(
                "own",
                "''",
                "track_id",
                "NULL",
                "NULL",
                format!(
                    "FROM customer_track WHERE customer_id = {customer} AND track_id IN ({tracks})"
                ),
            ));
        }
        branches.push(branch(
            "audio",
            "''",
            "track_id",
            "content_type",
            "bytes",
            format!("FROM track_audio WHERE track_id IN ({tracks})"),
        ));
        branches.push(branch(
            "play",
            "''",
            "track_id",
            "last_played",
            "plays",
            format!("FROM play_count WHERE account_id = {account} AND track_id IN ({tracks})"),
        ));
    }
    if let Some(items) = items_clause(ids) {
        branches.push(branch(
            "star",
            "kind",
            "item_id",
            "starred_at",
            "NULL",
            format!("FROM star WHERE account_id = {account} AND ({items})"),
        ));
        branches.push(branch(
            "rating",
            "kind",
            "item_id",
            "NULL",
            "rating",
            format!("FROM rating WHERE account_id = {account} AND ({items})"),
        ));
    }
    (!branches.is_empty()).then(|| branches.join(" UNION ALL "))
}

/// The account's marks on a page, in one query (none for an empty page). `customer` is the
/// account's customer, whose purchases say what it owns; staff pass `None`.
pub async fn page_marks(
    db: &Db,
    account: i64,
    customer: Option<i64>,
    ids: PageIds<'_>,
) -> ApiResult<PageMarks> {
    let mut marks = PageMarks::default();
    let Some(sql) = statement(account, customer, &ids) else {
        return Ok(marks);
    };
    let sql = sql.as_str();
    let rows = db
        .read(|pool| async move { sqlx::query(sql).fetch_all(&pool).await })
        .await?;
    for row in rows {
        let what: String = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let id: i64 = row.try_get(2)?;
        let text: Option<String> = row.try_get(3)?;
        let number: Option<i64> = row.try_get(4)?;
        let item = || {
            Item::parse(&kind)
                .ok_or_else(|| anyhow::anyhow!("a mark has the unknown kind {kind:?}"))
        };
        match (what.as_str(), text, number) {
            ("own", _, _) => {
                marks.owned.insert(id);
            }
            ("audio", Some(content_type), Some(bytes)) => {
                marks.audio.insert(id, (content_type, bytes));
            }
            ("play", Some(last), Some(plays)) => {
                marks.plays.insert(id, (plays, last));
            }
            ("star", Some(at), _) => {
                marks.stars.insert((item()?, id), at);
            }
            ("rating", _, Some(rating)) => {
                marks.ratings.insert((item()?, id), rating);
            }
            (other, _, _) => {
                return Err(anyhow::anyhow!("a mark row {other:?} lacks its values").into())
            }
        }
    }
    Ok(marks)
}
