//! Batched multi-row inserts, the one write path of both the dataset import and the generator.

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments};

use crate::db::{Connected, Counted};
use crate::progress::Progress;

/// One column value. Nulls carry their type so PostgreSQL can bind them.
#[derive(Debug, Clone)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

/// Bound values per statement. Far below the engines' limits on purpose: SQLite looks up
/// each parameter's name by scanning all of them, so binding costs grow with the square of
/// the statement's size; around 500 keeps that negligible while batching well.
const PARAMS_PER_BATCH: usize = 512;

/// Collects rows for one table and writes them a batch at a time.
pub struct BatchInsert {
    table: &'static str,
    columns: &'static [&'static str],
    /// Appended after `VALUES ...`, e.g. `ON CONFLICT (email) DO NOTHING`.
    suffix: &'static str,
    rows_per_batch: usize,
    full_batch_sql: String,
    pending: Vec<Value>,
    written: u64,
}

impl BatchInsert {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Self::with_suffix(table, columns, "")
    }

    pub fn with_suffix(
        table: &'static str,
        columns: &'static [&'static str],
        suffix: &'static str,
    ) -> Self {
        let rows_per_batch = (PARAMS_PER_BATCH / columns.len()).max(1);
        Self {
            table,
            columns,
            suffix,
            rows_per_batch,
            full_batch_sql: insert_sql(table, columns, rows_per_batch, suffix),
            pending: Vec::with_capacity(rows_per_batch * columns.len()),
            written: 0,
        }
    }

    /// Adds one row; writes a batch when one is full.
    pub async fn push(
        &mut self,
        conn: &mut Counted<impl Connected>,
        row: Vec<Value>,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.table);
        self.pending.extend(row);
        if self.pending.len() >= self.rows_per_batch * self.columns.len() {
            self.flush(conn, progress).await?;
        }
        Ok(())
    }

    /// Writes whatever is pending; returns how many rows this inserter wrote in all.
    pub async fn finish(
        mut self,
        conn: &mut Counted<impl Connected>,
        progress: &Progress,
    ) -> anyhow::Result<u64> {
        self.flush(conn, progress).await?;
        Ok(self.written)
    }

    async fn flush(
        &mut self,
        conn: &mut Counted<impl Connected>,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let rows = self.pending.len() / self.columns.len();
        if rows == 0 {
            return Ok(());
        }
        let partial_sql;
        let sql = if rows == self.rows_per_batch {
            &self.full_batch_sql
        } else {
            partial_sql = insert_sql(self.table, self.columns, rows, self.suffix);
            &partial_sql
        };
        let mut args = AnyArguments::default();
        for value in self.pending.drain(..) {
            let bound = match value {
                Value::Int(v) => args.add(v),
                Value::Text(v) => args.add(v),
            };
            bound.map_err(|e| anyhow::anyhow!("binding a value for {} failed: {e}", self.table))?;
        }
        sqlx::query_with::<Any, _>(sql, args)
            .execute(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("writing {} rows failed: {e}", self.table))?;
        self.written += rows as u64;
        progress.inc(rows as u64);
        Ok(())
    }
}

/// Writes the rows of a table that holds only an id and a name.
pub async fn write_named<'a>(
    conn: &mut Counted<impl Connected>,
    table: &'static str,
    columns: &'static [&'static str],
    rows: impl Iterator<Item = (i64, &'a str)>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let mut insert = BatchInsert::new(table, columns);
    for (id, name) in rows {
        insert
            .push(conn, vec![id.into(), name.into()], progress)
            .await?;
    }
    insert.finish(conn, progress).await?;
    Ok(())
}

fn insert_sql(table: &str, columns: &[&str], rows: usize, suffix: &str) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&n.to_string());
            n += 1;
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

#[cfg(test)]
mod tests {
    #[test]
    fn insert_sql_numbers_every_placeholder() {
        let sql = super::insert_sql("genre", &["genre_id", "name"], 2, "");
        assert_eq!(
            sql,
            "INSERT INTO genre (genre_id, name) VALUES ($1,$2),($3,$4)"
        );
    }
}
