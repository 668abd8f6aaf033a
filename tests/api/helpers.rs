//! The test harness: a real application on a random port, over a fresh database of the
//! backend under test (`CHINOOK_TEST_BACKEND=sqlite|postgres`), in its own data directory.
//!
//! The Chinook dataset is imported once per test run into a template (a SQLite file, or a
//! PostgreSQL template database) and indexed there once; each test starts from a copy of
//! both, so an app boots on a current index instead of building its own (a second of CPU
//! per app in a debug build, hundreds of apps a run). Tests of building the index start
//! from `TestDatabase::chinook_unindexed`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use chinook::config::{Backend, Config, DatabaseUrl};
use chinook::db::Db;
use chinook::startup::Application;
use chinook::state::AppState;
use serde_json::Value;
use sqlx::{Connection, Executor};
use tokio_util::sync::CancellationToken;

pub const DEMO_PASSWORD: &str = chinook::config::DEFAULT_DEMO_PASSWORD;

/// `ChinookData.json` beside the repository, or `CHINOOK_TEST_DATASET`.
pub fn dataset_path() -> PathBuf {
    let path = std::env::var_os("CHINOOK_TEST_DATASET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/data/chinook/ChinookData.json")
        });
    assert!(
        path.is_file(),
        "the Chinook dataset is missing at {}; set CHINOOK_TEST_DATASET",
        path.display()
    );
    path
}

pub fn backend() -> Backend {
    match std::env::var("CHINOOK_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("CHINOOK_TEST_BACKEND={other}: expected sqlite or postgres"),
    }
}

fn postgres_admin_url() -> String {
    std::env::var("CHINOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "CHINOOK_TEST_BACKEND=postgres needs CHINOOK_TEST_POSTGRES_URL; \
             scripts/test starts a server and sets it"
        )
    })
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("the admin URL parses");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn postgres_admin(sql: &str) {
    let mut conn = sqlx::AnyConnection::connect(&postgres_admin_url())
        .await
        .expect("the test PostgreSQL server answers");
    conn.execute(sql).await.expect(sql);
    let _ = conn.close().await;
}

/// A database of its own for one test, in a data directory of its own.
pub struct TestDatabase {
    pub dir: tempfile::TempDir,
    pub url: DatabaseUrl,
    /// The PostgreSQL database this value created, dropped with it.
    owned: Option<String>,
}

impl TestDatabase {
    /// Another data directory on a database someone else owns, as a second instance has.
    pub fn sharing(url: DatabaseUrl) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        Self {
            dir,
            url,
            owned: None,
        }
    }

    /// An empty database: no schema, no rows.
    pub async fn empty() -> Self {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (url, owned) = match backend() {
            Backend::Sqlite => (DatabaseUrl::sqlite_in(dir.path()), None),
            Backend::Postgres => {
                let name = unique_name("test");
                postgres_admin(&format!("CREATE DATABASE {name}")).await;
                let url = with_database(&postgres_admin_url(), &name);
                (DatabaseUrl::parse(&url).unwrap(), Some(name))
            }
        };
        Self { dir, url, owned }
    }

    /// A copy of the template holding the imported Chinook dataset, with a copy of the
    /// template's index in its data directory: current for the copy, so it is reused.
    pub async fn chinook() -> Self {
        let database = Self::chinook_unindexed().await;
        let (_, template_dir) = template();
        let index = template_dir.join("index");
        let copy = database.dir.path().join("index");
        std::fs::create_dir(&copy).expect("an index directory");
        for file in std::fs::read_dir(&index).expect("the template's index") {
            let file = file.expect("a file of the template's index");
            std::fs::copy(file.path(), copy.join(file.file_name()))
                .expect("copying the template's index");
        }
        database
    }

    /// A copy of the template's database alone: the app builds its index at boot.
    pub async fn chinook_unindexed() -> Self {
        sqlx::any::install_default_drivers();
        let (template, _) = template();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (url, owned) = match template {
            Template::Sqlite(file) => {
                std::fs::copy(file, dir.path().join("chinook.db")).expect("copying the template");
                (DatabaseUrl::sqlite_in(dir.path()), None)
            }
            Template::Postgres(name) => {
                let copy = unique_name("test");
                postgres_admin(&format!("CREATE DATABASE {copy} TEMPLATE {name}")).await;
                let url = with_database(&postgres_admin_url(), &copy);
                (DatabaseUrl::parse(&url).unwrap(), Some(copy))
            }
        };
        Self { dir, url, owned }
    }

    pub fn config(&self) -> Config {
        let mut config = Config::for_tests(self.dir.path(), Some(self.url.clone()));
        config.db_max_connections = 4;
        config
    }

    pub async fn connect(&self) -> Db {
        Db::connect(&self.config())
            .await
            .expect("the test database connects")
    }
}

impl Drop for TestDatabase {
    /// Hundreds of tests each copy the dataset, and the replica copies every copy: left
    /// behind, they fill a CI machine's disk. The app may still hold connections, so they are
    /// cut (`FORCE`); on a thread of its own, because this may run inside a test's runtime.
    fn drop(&mut self) {
        let Some(name) = self.owned.take() else {
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database")
                .block_on(postgres_admin(&sql))
        })
        .join();
        if dropped.is_err() {
            eprintln!("the test database {name} was left behind (see the panic above)");
        }
    }
}

enum Template {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Imports the dataset once per test binary, through the real `chinook seed` command, and
/// indexes it with `chinook reindex`; returns the template and its data directory.
fn template() -> (&'static Template, &'static std::path::Path) {
    static TEMPLATE: OnceLock<(Template, tempfile::TempDir)> = OnceLock::new();
    let (template, dir) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (template, url) = match backend() {
            Backend::Sqlite => (
                Template::Sqlite(dir.path().join("chinook.db")),
                DatabaseUrl::sqlite_in(dir.path()).expose().to_string(),
            ),
            Backend::Postgres => {
                let name = unique_name("template");
                let admin = postgres_admin_url();
                let sql = format!("CREATE DATABASE {name}");
                // A runtime of its own: this runs inside whichever test gets here first.
                std::thread::spawn(move || {
                    tokio::runtime::Runtime::new()
                        .unwrap()
                        .block_on(postgres_admin(&sql))
                })
                .join()
                .unwrap();
                let url = with_database(&admin, &name);
                (Template::Postgres(name), url)
            }
        };
        let run = |args: &[&std::ffi::OsStr]| {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_chinook"))
                .args(args)
                .env("CHINOOK_DATA_DIR", dir.path())
                .env("CHINOOK_DATABASE_URL", &url)
                .env("CHINOOK_LOG", "warn")
                // The template's copies do not carry its media directory.
                .env("CHINOOK_SEED_AUDIO", "none")
                .output()
                .expect("chinook runs");
            assert!(
                output.status.success(),
                "{args:?} on the template failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        run(&[
            "seed".as_ref(),
            "--dataset".as_ref(),
            dataset_path().as_os_str(),
        ]);
        run(&["reindex".as_ref()]);
        (template, dir)
    });
    (template, dir.path())
}

/// The application, running on a random port.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// Held so the data directory lives as long as the app.
    _database: TestDatabase,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    /// The app over a copy of the Chinook dataset.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(TestDatabase::chinook().await, adjust).await
    }

    pub async fn spawn_on(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = database.config();
        // The PostgreSQL suite runs on Redis, the SQLite suite in-process, so the whole suite
        // exercises both forms of every shared feature.
        if backend() == Backend::Postgres {
            if let Some(url) = redis_url() {
                use_redis(&mut config, &url);
            }
        }
        adjust(&mut config);
        // Over TLS the client trusts the configured certificate, issued for `localhost`.
        let tls_root = config.tls.as_ref().map(|tls| {
            let pem = std::fs::read(&tls.cert).expect("the certificate is readable");
            reqwest::Certificate::from_pem(&pem).expect("the certificate parses")
        });
        let app = Application::build(config).await.expect("the app builds");
        let port = app.port();
        let shutdown = app.shutdown_token();
        let state = app.state().clone();
        let server = tokio::spawn(app.run_until_stopped());
        // Idle connections are dropped before the server's 5 s keep-alive would close them:
        // reusing one the server is closing at that moment fails the request
        // (IncompleteMessage), which tests that pause between requests (running ffmpeg on
        // a loaded machine) would otherwise hit now and then.
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(3));
        let address = match tls_root {
            Some(root) => {
                client = client.add_root_certificate(root).resolve(
                    "localhost",
                    std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                );
                format!("https://localhost:{port}")
            }
            None => format!("http://127.0.0.1:{port}"),
        };
        let test_app = Self {
            address,
            client: client.build().unwrap(),
            state,
            _database: database,
            shutdown,
            server,
        };
        test_app.wait_until_ready().await;
        test_app
    }

    /// A second instance on the same database, with a data directory and index of its own,
    /// as another pod would run.
    pub async fn spawn_peer(&self) -> TestApp {
        self.spawn_peer_with(|_| {}).await
    }

    /// A second instance configured as this one (the same Redis and prefix, the same
    /// limits), with a data directory of its own, then adjusted.
    pub async fn spawn_peer_with(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let database = TestDatabase::sharing(self._database.url.clone());
        let mut config = (*self.state.config).clone();
        config.data_dir = database.dir.path().to_path_buf();
        config.media_dir = database.dir.path().join("media");
        config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        Self::spawn_on(database, move |c| {
            *c = config;
            adjust(c);
        })
        .await
    }

    /// Polls `/health/ready` until it answers 200.
    pub async fn wait_until_ready(&self) {
        for _ in 0..500 {
            if let Ok(r) = self.get("/health/ready").await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the app did not become ready");
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._database.dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.client.get(self.url(path)).send().await
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.get(path).await.expect("the request is answered");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the request is answered")
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self
            .post_json(
                "/api/v1/auth/login",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "login of {email} failed");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().expect("a token").to_string()
    }

    /// Stops the app as SIGTERM would and returns how the server ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.server.await.expect("the server task completes")
    }

    /// Stops the app and hands back its database, to start another app on it.
    pub async fn stop_keeping_database(self) -> TestDatabase {
        self.shutdown.cancel();
        self.server
            .await
            .expect("the server task completes")
            .expect("the server stops");
        self._database
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// The shared test Redis that scripts/test starts, when there is one.
pub fn redis_url() -> Option<String> {
    std::env::var("CHINOOK_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The shared test Redis; tests of Redis itself cannot run without it.
pub fn require_redis() -> String {
    redis_url().unwrap_or_else(|| {
        panic!("this test needs CHINOOK_TEST_REDIS_URL; scripts/test starts a redis-server and sets it")
    })
}

/// Points `config` at the Redis at `url`, under a key prefix no other test uses.
pub fn use_redis(config: &mut Config, url: &str) {
    config.redis_url = Some(chinook::config::Secret::new(url));
    config.redis_prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
}

/// Asserts that a response is an RFC 9457 problem with `status`, and returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "problem lacks {field}: {body}"
        );
    }
    body
}

/// The `chinook` binary with a clean environment, on `database`.
pub fn chinook(database: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chinook"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CHINOOK_DATA_DIR", database.dir.path())
        .env("CHINOOK_DATABASE_URL", database.url.expose())
        .env("CHINOOK_LOG", "warn")
        .env("CHINOOK_SEED_AUDIO", "none")
        // As in `Config::for_tests`: bursts from 127.0.0.1 are what these tests are made of.
        .env("CHINOOK_RATE_LIMIT", "off");
    command
}

/// Starts `chinook serve` on a free port and polls until it is ready.
pub async fn serve(mut command: Command) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command
        .env("CHINOOK_BIND", format!("127.0.0.1:{port}"))
        .env("CHINOOK_WORKERS", "1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let ready = format!("http://127.0.0.1:{port}/health/ready");
    // A deadline, not a count of polls: a debug build on a loaded machine can take well over
    // ten seconds to build its index, and one that exits early fails at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "serve exited with {status} before it was ready ({:?})",
                backend()
            );
        }
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("serve did not become ready within 90 s ({:?})", backend());
}

/// Statements run during requests so far, on every pool.
pub fn request_statements(app: &TestApp) -> u64 {
    let text = app.state.metrics.render().unwrap();
    text.lines()
        .filter(|l| l.starts_with("db_queries_total{") && l.contains("during=\"request\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}
