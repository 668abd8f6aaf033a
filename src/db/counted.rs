//! Pools, connections and transactions that count the statements run through them, per
//! pool role and by whether an HTTP request or a background task ran them
//! (`db_queries_total{role, during}`).
//!
//! sqlx has no hook per statement, so the count sits in the executors the domain code
//! already passes to every query: `&Pool`, `&mut Conn` and `&mut Tx` run each statement
//! through sqlx's own executor and count it first. None of them dereferences to the
//! connection underneath, so a query cannot go around the count by accident.

use std::fmt::Debug;
use std::ops::DerefMut;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use std::future::Future;

use prometheus::{IntCounter, IntCounterVec};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Describe, Either, Execute, Executor};

tokio::task_local! {
    /// Set for the whole of an HTTP request, authentication included.
    static IN_REQUEST: ();
}

/// Runs `request` so that its statements count as `during="request"`: what a request costs
/// in SQL, apart from background work (the change feed's polls, replica checks).
pub async fn during_request<F: Future>(request: F) -> F::Output {
    IN_REQUEST.scope((), request).await
}

/// A pool role's statement counters.
#[derive(Clone, Debug)]
pub struct Queries {
    request: IntCounter,
    background: IntCounter,
}

impl Queries {
    /// The counters of `role` in `db_queries_total{role, during}`.
    pub fn of(all: &IntCounterVec, role: &str) -> Self {
        Self {
            request: all.with_label_values(&[role, "request"]),
            background: all.with_label_values(&[role, "background"]),
        }
    }

    fn inc(&self) {
        if IN_REQUEST.try_with(|_| ()).is_ok() {
            self.request.inc();
        } else {
            self.background.inc();
        }
    }
}

/// A pool whose statements count towards its role.
#[derive(Clone, Debug)]
pub struct Pool {
    pool: AnyPool,
    queries: Queries,
}

/// One connection (a transaction, or a connection held for several reads) whose statements
/// count towards the role of the pool it came from.
#[derive(Debug)]
pub struct Counted<C> {
    conn: C,
    queries: Queries,
}

/// What a `Counted` runs its statements on: a pool connection, a transaction, or a borrow
/// of either. Domain functions that run several statements on one connection take
/// `&mut Counted<impl Connected>`, so a transaction and a held connection both fit.
pub trait Connected: DerefMut<Target = AnyConnection> + Send + Debug {}

impl<C: DerefMut<Target = AnyConnection> + Send + Debug> Connected for C {}

/// A connection held from a pool for several statements.
pub type Conn = Counted<PoolConnection<Any>>;

/// A transaction on the primary (or, for reports, a read-only snapshot on a replica).
pub type Tx<'c> = Counted<sqlx::Transaction<'c, Any>>;

impl Pool {
    pub(super) fn new(pool: AnyPool, queries: Queries) -> Self {
        Self { pool, queries }
    }

    /// The pool itself, for its size and for closing it; statements go through `self`.
    pub(super) fn raw(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        let tx = self.pool.begin().await?;
        Ok(self.counting(tx))
    }

    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        let conn = self.pool.acquire().await?;
        Ok(self.counting(conn))
    }

    fn counting<C>(&self, conn: C) -> Counted<C> {
        Counted {
            conn,
            queries: self.queries.clone(),
        }
    }
}

impl<C: Connected> Counted<C> {
    /// A transaction on this connection, counted as it is.
    pub async fn begin(&mut self) -> Result<Tx<'_>, sqlx::Error> {
        let tx = self.conn.begin().await?;
        Ok(Counted {
            conn: tx,
            queries: self.queries.clone(),
        })
    }
}

impl<'c> Tx<'c> {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.conn.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.conn.rollback().await
    }
}

impl<'p> Executor<'p> for &'_ Pool {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Any>,
    {
        self.queries.inc();
        (&self.pool).fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Any>,
    {
        self.queries.inc();
        (&self.pool).fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>> {
        (&self.pool).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>> {
        (&self.pool).describe(sql)
    }
}

impl<'c, C: Connected> Executor<'c> for &'c mut Counted<C> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        self.queries.inc();
        (&mut *self.conn).fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        self.queries.inc();
        (&mut *self.conn).fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        (&mut *self.conn).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        (&mut *self.conn).describe(sql)
    }
}
