//! The replica harness: the shared streaming replica, taken in turns, and the means to
//! stop, start, pause and resume it; an app pointed at a primary database and its replica.

use std::process::Command;
use std::time::{Duration, Instant};

use chinook::config::{Backend, DatabaseUrl};
use chinook::db::Db;
use sqlx::{Connection, Executor};
use tokio::sync::{Mutex, MutexGuard};

use crate::helpers::{backend, TestApp, TestDatabase};

pub(super) const LUIS: &str = "luisg@embraer.com.br";
pub(super) const LEONIE: &str = "leonekohler@surfeu.de";

static TURN: Mutex<()> = Mutex::const_new(());

/// The shared replica, and the means to stop, start, pause and resume it.
pub(super) struct Replica {
    url: url::Url,
    data: String,
    bin: String,
    run: Vec<String>,
    _turn: MutexGuard<'static, ()>,
}

impl Replica {
    /// Waits for this test's turn, then makes sure the replica runs and replays.
    pub(super) async fn take() -> Option<Self> {
        let url = std::env::var("CHINOOK_TEST_REPLICA_URL").ok();
        if backend() != Backend::Postgres || url.is_none() {
            assert!(
                backend() != Backend::Postgres || std::env::var("CI").as_deref() != Ok("true"),
                "CI=true needs CHINOOK_TEST_REPLICA_URL (scripts/test starts a replica)"
            );
            eprintln!("skipped: no PostgreSQL streaming replica (see scripts/services.sh)");
            return None;
        }
        sqlx::any::install_default_drivers();
        let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
        let replica = Self {
            url: url::Url::parse(&url.unwrap()).unwrap(),
            data: env("CHINOOK_TEST_REPLICA_DATA"),
            bin: env("CHINOOK_TEST_PG_BIN"),
            run: env("CHINOOK_TEST_PG_RUN")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            _turn: TURN.lock().await,
        };
        replica.heal().await;
        Some(replica)
    }

    /// The replica's copy of `database`.
    fn url_of(&self, database: &TestDatabase) -> DatabaseUrl {
        let primary = url::Url::parse(database.url.expose()).unwrap();
        let mut url = self.url.clone();
        url.set_path(primary.path());
        DatabaseUrl::parse(url.as_str()).unwrap()
    }

    /// Off the test's runtime, which drives the app's database connections: blocked while
    /// `pg_ctl start -w` waits, it would stall the very requests the test is watching.
    async fn pg_ctl(&self, args: &[&str]) -> bool {
        let (program, prefix) = match self.run.split_first() {
            Some((program, rest)) => (program.clone(), rest.to_vec()),
            None => (format!("{}/pg_ctl", self.bin), Vec::new()),
        };
        let mut command = Command::new(program);
        command.args(prefix);
        if !self.run.is_empty() {
            command.arg(format!("{}/pg_ctl", self.bin));
        }
        command
            .args(["-D", &self.data])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        tokio::task::spawn_blocking(move || command.status())
            .await
            .expect("pg_ctl's thread")
            .expect("pg_ctl runs")
            .success()
    }

    pub(super) async fn kill(&self) {
        assert!(
            self.pg_ctl(&["-m", "immediate", "stop"]).await,
            "the replica stops"
        );
    }

    pub(super) async fn start(&self) {
        let options = std::fs::read_to_string(format!("{}/chinook-options", self.data))
            .expect("start_replica kept the replica's options");
        let log = format!("{}/../replica.log", self.data);
        assert!(
            self.pg_ctl(&["-w", "-t", "60", "-l", &log, "-o", options.trim(), "start"])
                .await,
            "the replica starts"
        );
    }

    pub(super) async fn sql(&self, sql: &str) {
        let mut conn = sqlx::AnyConnection::connect(self.url.as_str())
            .await
            .expect("the replica answers");
        conn.execute(sql).await.expect(sql);
        let _ = conn.close().await;
    }

    /// Undoes what an earlier test (maybe a failed one) left: a stopped replica, a paused replay.
    async fn heal(&self) {
        if !self.pg_ctl(&["status"]).await {
            self.start().await;
        }
        self.sql("SELECT pg_wal_replay_resume()").await;
    }

    pub(super) async fn pause_replay(&self) {
        self.sql("SELECT pg_wal_replay_pause()").await;
        eventually("replay pauses", || async {
            let mut conn = sqlx::AnyConnection::connect(self.url.as_str()).await.ok()?;
            let state: String = sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()")
                .fetch_one(&mut conn)
                .await
                .ok()?;
            (state == "paused").then_some(())
        })
        .await;
    }
}

/// Polls `check` every 20 ms for up to 30 s until it returns a value.
pub(super) async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The app on a fresh Chinook database, with its replica, checked every 100 ms, and in the
/// rotation before it returns.
pub(super) async fn app_with(replica: &Replica, max_lag: Duration) -> TestApp {
    app_configured(replica, max_lag, |_| {}).await
}

/// `app_with`, then `adjust`ed.
pub(super) async fn app_configured(
    replica: &Replica,
    max_lag: Duration,
    adjust: impl FnOnce(&mut chinook::config::Config),
) -> TestApp {
    let database = TestDatabase::chinook().await;
    let replica_url = replica.url_of(&database);
    let app = TestApp::spawn_on(database, |config| {
        config.replica_urls = vec![replica_url];
        config.max_replica_lag = max_lag;
        config.replica_check_interval = Duration::from_millis(100);
        adjust(config);
    })
    .await;
    wait_for_status(&app.state.db, "ok").await;
    app
}

/// A second instance beside `app`, as another pod: configured alike (the same primary,
/// replica, Redis and key prefix), with a data directory and index of its own, on the same
/// media volume.
pub(super) async fn peer_with(app: &TestApp) -> TestApp {
    let media_dir = app.state.config.media_dir.clone();
    let peer = app
        .spawn_peer_with(|config| config.media_dir = media_dir)
        .await;
    wait_for_status(&peer.state.db, "ok").await;
    peer
}

pub(super) async fn wait_for_status(db: &Db, status: &str) {
    eventually(&format!("the replica is {status}"), || async {
        (db.replicas()[0].status == status).then_some(())
    })
    .await;
}

/// Whether a read through the router is answered by a standby.
pub(super) async fn read_hits_replica(db: &Db) -> bool {
    db.read(|pool| async move {
        sqlx::query_scalar::<_, bool>("SELECT pg_is_in_recovery()")
            .fetch_one(&pool)
            .await
    })
    .await
    .expect("the read is answered")
}

/// A connection pool straight to the replica's copy of the app's database.
pub(super) async fn replica_pool(replica: &Replica, app: &TestApp) -> sqlx::AnyPool {
    let database = TestDatabase::sharing(app.state.config.database_url.clone());
    sqlx::AnyPool::connect(replica.url_of(&database).expose())
        .await
        .expect("the replica answers")
}
