//! Sales reports: invoice lines summed by genre, artist, billing country, month or support
//! rep, over an optional window of invoice dates, for the customers an employee may see.
//! Totals are exact: integer cents of `unit_price_cents × quantity`, summed in SQL.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{Scope, IN_SCOPE};
use crate::db::{Backend, Db};
use crate::error::{ApiError, ApiResult};
use crate::money::Cents;

/// What rows of a report are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The track's genre; key: genre id.
    Genre,
    /// The artist of the track's album; key: artist id.
    Artist,
    /// The invoice's billing country; key: the country.
    Country,
    /// The invoice date's month; key: `YYYY-MM`.
    Month,
    /// The customer's support rep; key: employee id.
    Employee,
}

const CHOICES: &str = "genre, artist, country, month, employee";

impl GroupBy {
    pub fn parse(raw: Option<&str>) -> ApiResult<Self> {
        match raw.map(str::trim) {
            Some("genre") => Ok(Self::Genre),
            Some("artist") => Ok(Self::Artist),
            Some("country") => Ok(Self::Country),
            Some("month") => Ok(Self::Month),
            Some("employee") => Ok(Self::Employee),
            Some(other) => Err(ApiError::BadRequest(format!(
                "group_by must be one of {CHOICES}, not `{other}`"
            ))),
            None => Err(ApiError::BadRequest(format!(
                "group_by is required: one of {CHOICES}"
            ))),
        }
    }

    /// The group's key and name as SQL expressions over the invoice line `l`, its invoice
    /// `i` and customer `c`, and the joins they need.
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Genre => (
                "t.genre_id",
                "g.name",
                "JOIN track t ON t.track_id = l.track_id \
                 LEFT JOIN genre g ON g.genre_id = t.genre_id",
            ),
            Self::Artist => (
                "al.artist_id",
                "ar.name",
                "JOIN track t ON t.track_id = l.track_id \
                 LEFT JOIN album al ON al.album_id = t.album_id \
                 LEFT JOIN artist ar ON ar.artist_id = al.artist_id",
            ),
            Self::Country => ("i.billing_country", "i.billing_country", ""),
            // Invoice dates are RFC 3339 text, so the month is its first seven characters.
            Self::Month => (
                "substr(i.invoice_date, 1, 7)",
                "substr(i.invoice_date, 1, 7)",
                "",
            ),
            Self::Employee => (
                "c.support_rep_id",
                "e.first_name || ' ' || e.last_name",
                "LEFT JOIN employee e ON e.employee_id = c.support_rep_id",
            ),
        }
    }

    fn keyed_by_id(self) -> bool {
        matches!(self, Self::Genre | Self::Artist | Self::Employee)
    }
}

/// Invoice dates to report on, both ends included; either may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Window {
    pub fn parse(from: Option<&str>, to: Option<&str>) -> ApiResult<Self> {
        let window = Self {
            from: from.map(|raw| date("from", raw)).transpose()?,
            to: to.map(|raw| date("to", raw)).transpose()?,
        };
        if let (Some(from), Some(to)) = (window.from, window.to) {
            if from > to {
                return Err(ApiError::BadRequest(format!(
                    "from ({from}) is after to ({to})"
                )));
            }
        }
        Ok(window)
    }
}

/// A calendar date written exactly as `YYYY-MM-DD`.
fn date(name: &str, raw: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| raw.len() == 10 && d.format("%Y-%m-%d").to_string() == raw)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name} must be a date written YYYY-MM-DD, such as 2021-01-31, not `{raw}`"
            ))
        })
}

/// A group's key: an id for genres, artists and employees, text for countries and months.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(untagged)]
pub enum GroupKey {
    Id(i64),
    Text(String),
}

/// What a group sold.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesRow {
    /// The group's id (genre, artist, employee) or text (country, `YYYY-MM`); null for
    /// lines with none, such as a track without a genre.
    pub key: Option<GroupKey>,
    #[schema(example = "Rock")]
    pub name: Option<String>,
    /// The sum of unit price × quantity over the group's invoice lines.
    pub total: Cents,
    /// The sum of their quantities.
    #[schema(example = 835)]
    pub units: i64,
    /// How many distinct invoices they are on.
    #[schema(example = 297)]
    pub invoices: i64,
}

/// The same sums over every line of the report; `invoices` counts each invoice once even
/// when its lines fall in several groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    pub total: Cents,
    #[schema(example = 2240)]
    pub units: i64,
    #[schema(example = 412)]
    pub invoices: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReport {
    pub group_by: GroupBy,
    /// The first invoice date included, when one was given.
    #[schema(example = "2021-01-01")]
    pub from: Option<String>,
    /// The last invoice date included, when one was given.
    #[schema(example = "2021-12-31")]
    pub to: Option<String>,
    pub totals: Totals,
    /// By total, largest first, then by key.
    pub data: Vec<SalesRow>,
    /// `data_version` as the snapshot the report was read from had it; a lagging replica's
    /// is older than the primary's.
    #[serde(skip)]
    pub data_version: String,
}

const SUMS: &str =
    "CAST(COALESCE(SUM(l.unit_price_cents * l.quantity), 0) AS BIGINT) AS total_cents, \
     CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) AS units, \
     COUNT(DISTINCT i.invoice_id) AS invoices";

/// The lines in scope and window, with `$1` the scope's employee and `$2`, `$3` the window.
fn lines_in(joins: &str) -> String {
    format!(
        "FROM invoice_line l \
         JOIN invoice i ON i.invoice_id = l.invoice_id \
         JOIN customer c ON c.customer_id = i.customer_id \
         {joins} \
         WHERE {IN_SCOPE} \
           AND ($2 IS NULL OR substr(i.invoice_date, 1, 10) >= $2) \
           AND ($3 IS NULL OR substr(i.invoice_date, 1, 10) <= $3)"
    )
}

const VERSION: &str = "SELECT CAST((SELECT COUNT(*) FROM invoice_line) AS BIGINT), \
            CAST((SELECT COALESCE(MAX(invoice_line_id), 0) FROM invoice_line) AS BIGINT), \
            CAST((SELECT COALESCE(MAX(seq), 0) FROM catalog_change) AS BIGINT)";

fn version_of(row: &sqlx::any::AnyRow) -> Result<String, sqlx::Error> {
    let (lines, last, change): (i64, i64, i64) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok(format!("{lines}-{last}-{change}"))
}

/// What the reports are computed from, as the primary has it now, in one string that
/// changes whenever a report could: invoice lines are only ever added (their count and
/// highest id move, whichever order concurrent purchases commit in), and names and genres
/// change only through the catalog change log.
pub async fn data_version(db: &Db) -> ApiResult<String> {
    let row = sqlx::query(VERSION).fetch_one(db.primary()).await?;
    Ok(version_of(&row)?)
}

/// The report: one row per group, and the totals, both read from one snapshot so they agree
/// while invoices are being written.
pub async fn sales(
    db: &Db,
    scope: Scope,
    group_by: GroupBy,
    window: Window,
) -> ApiResult<SalesReport> {
    let from = window.from.map(|d| d.format("%Y-%m-%d").to_string());
    let to = window.to.map(|d| d.format("%Y-%m-%d").to_string());
    let (key, name, joins) = group_by.sql();
    let sql = format!(
        "SELECT {key} AS group_key, {name} AS group_name, {SUMS} {} \
         GROUP BY {key}, {name}",
        lines_in(joins)
    );
    // Reports prefer a replica, even a lagging one: long scans stay off the primary.
    let mut conn = db.analytics_connection().await?;
    let mut tx = conn.begin().await?;
    // PostgreSQL's default isolation gives each statement its own snapshot; SQLite's read
    // transaction already keeps one.
    if db.backend() == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut tx)
            .await?;
    }
    let rows = sqlx::query(&sql)
        .bind(scope.employee())
        .bind(from.as_deref())
        .bind(to.as_deref())
        .fetch_all(&mut tx)
        .await?;
    let mut data = rows
        .iter()
        .map(|row| {
            let key = if group_by.keyed_by_id() {
                row.try_get::<Option<i64>, _>("group_key")?
                    .map(GroupKey::Id)
            } else {
                row.try_get::<Option<String>, _>("group_key")?
                    .map(GroupKey::Text)
            };
            Ok(SalesRow {
                key,
                name: row.try_get("group_name")?,
                total: Cents(row.try_get("total_cents")?),
                units: row.try_get("units")?,
                invoices: row.try_get("invoices")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // Sorted here rather than in SQL: PostgreSQL would order text keys by its collation,
    // which depends on the server's locale, and NULLs the other way round from SQLite.
    data.sort_by(|a, b| {
        (std::cmp::Reverse(a.total), a.key.is_none(), &a.key).cmp(&(
            std::cmp::Reverse(b.total),
            b.key.is_none(),
            &b.key,
        ))
    });
    let totals = sqlx::query(&format!("SELECT {SUMS} {}", lines_in("")))
        .bind(scope.employee())
        .bind(from.as_deref())
        .bind(to.as_deref())
        .fetch_one(&mut tx)
        .await?;
    let data_version = version_of(&sqlx::query(VERSION).fetch_one(&mut tx).await?)?;
    tx.commit().await?;
    Ok(SalesReport {
        group_by,
        from,
        to,
        totals: Totals {
            total: Cents(totals.try_get("total_cents")?),
            units: totals.try_get("units")?,
            invoices: totals.try_get("invoices")?,
        },
        data,
        data_version,
    })
}
