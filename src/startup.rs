//! Building and running the application: connect, migrate, make sure there is a catalog,
//! bind, open and warm the search index (readiness stays 503 until it is), serve, and stop
//! gracefully when the shutdown token is cancelled.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::cache::PublicAnswers;
use crate::cache::{Answers, RateLimiter, Redis};
use crate::config::Config;
use crate::db::Db;
use crate::http::{self, extractors};
use crate::metrics::{Metrics, Snapshot, Sources};
use crate::routes::{self, ApiDoc, KnownRoutes, OpenApiJson};
use crate::search::{feed, CatalogIndex, IndexSlot};
use crate::seed;
use crate::state::{AppState, Lifecycle};
use crate::streaming::access::{StreamLimiter, UrlSigner};
use crate::streaming::stall::Socket;
use crate::streaming::warm::Warm;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    shutdown: CancellationToken,
    /// Why the process must stop, when opening the index failed.
    failure: Arc<Mutex<Option<anyhow::Error>>>,
    /// Opens the index, then follows the change feed until shutdown.
    background: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects (retrying for `db_connect_timeout`), migrates (or waits for the migrations,
    /// with `migrate_on_start` off), seeds an empty database, and binds the listener. The
    /// server does not run until `run_until_stopped`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let shutdown = CancellationToken::new();
        let db = Db::connect(&config).await?;
        if config.migrate_on_start {
            db.migrate().await?;
        } else {
            db.wait_until_migrated().await;
        }
        // Replicas join the rotation only once a check has seen them healthy; the first check
        // runs now, so reads use them from the first request.
        db.watch_replicas(shutdown.clone()).await;
        ensure_catalog(&db, &config).await?;
        crate::store::accounts::backfill_email_skeletons(&db).await?;
        let cursor_secret = crate::catalog::cursor_secret(&db).await?;
        let signing_key = match &config.signing_key {
            Some(key) => key.expose().as_bytes().to_vec(),
            None => crate::db::shared_secret(&db, "signing_key").await?,
        };

        // The store front's files are compressed once, before the first visitor asks, and
        // kept for the next boot.
        crate::storefront::keep_compressed_in(config.data_dir.join("compressed"));
        tokio::task::spawn_blocking(|| {
            crate::storefront::StoreFront::get();
            crate::storefront::rapidoc();
        })
        .await?;

        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let media = crate::media::MediaStore::with_cache(
            &config.media_dir,
            config.media_cache_dir.clone(),
            config.media_cache_bytes,
            config.audio_max_secs,
        )
        .remembering_masters_for(config.auth_cache_ttl);
        let index = Arc::new(IndexSlot::default());
        let redis = Redis::open(&config)?.map(Arc::new);
        let streams = Arc::new(
            StreamLimiter::new(redis.clone(), config.stream_lease_ttl)
                .lingering(config.stream_linger),
        );
        let metrics = Metrics::new(scraped(&db, &index, &streams, &redis))?;
        metrics.register(Box::new(db.queries()))?;
        let limiter = config
            .rate_limits
            .map(|limits| Arc::new(RateLimiter::new(limits, redis.clone())));
        let answers = Answers::new(redis.clone(), config.cache_ttl, metrics.cache_requests());
        let warm = Warm::new(redis.clone(), config.auth_cache_ttl, media.clone());
        let public = PublicAnswers::new(
            config.answer_cache_bytes,
            config.public_max_age,
            metrics.cache_requests(),
        );
        let state = AppState {
            db,
            config: Arc::new(config),
            lifecycle: Arc::new(Lifecycle::new()),
            index,
            cursor_secret: Arc::new(cursor_secret),
            media,
            signer: UrlSigner::new(signing_key),
            streams,
            metrics,
            redis,
            limiter,
            answers,
            warm,
            public,
        };
        let server = serve(listener, state.clone(), shutdown.clone())?;
        let scheme = if state.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(address = %state.config.bind.ip(), port, scheme, "listening");
        let failure = Arc::new(Mutex::new(None));
        tokio::spawn(state.warm.clone().follow(shutdown.clone()));
        tokio::spawn(state.warm.clone().forward_master_changes(shutdown.clone()));
        let background = tokio::spawn(open_index(state.clone(), shutdown.clone(), failure.clone()));
        Ok(Self {
            port,
            server,
            state,
            shutdown,
            failure,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancelling this token stops the server gracefully, as SIGTERM does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the shutdown token is cancelled, then drains: readiness turns 503 at
    /// once, the listener closes after `shutdown_delay`, and in-flight requests get up to
    /// `shutdown_timeout` to finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let lifecycle = self.state.lifecycle.clone();
        let delay = self.state.config.shutdown_delay;
        let token = self.shutdown.clone();
        let stopper = tokio::spawn(async move {
            token.cancelled().await;
            lifecycle.start_draining();
            tracing::info!(delay_ms = delay.as_millis() as u64, "draining");
            tokio::time::sleep(delay).await;
            handle.stop(true).await;
        });
        let served = self.server.await;
        stopper.abort();
        // The index (and its writer's lock) must be let go before another process or test
        // opens the same data directory.
        self.shutdown.cancel();
        if tokio::time::timeout(Duration::from_secs(5), self.background)
            .await
            .is_err()
        {
            tracing::warn!("the index task did not stop in time");
        }
        self.state.db.close().await;
        tracing::info!("stopped");
        if let Some(failure) = self.failure.lock().expect("not poisoned").take() {
            return Err(failure);
        }
        served.context("the HTTP server failed")
    }
}

/// Where each figure `/metrics` samples at a scrape comes from.
fn scraped(
    db: &Db,
    index: &Arc<IndexSlot>,
    streams: &Arc<StreamLimiter>,
    redis: &Option<Arc<Redis>>,
) -> Sources {
    let (db, index, streams, redis) = (db.clone(), index.clone(), streams.clone(), redis.clone());
    Box::new(move || Snapshot {
        pools: db
            .pools()
            .into_iter()
            .map(|(role, pool)| (role, pool.size(), pool.num_idle()))
            .collect(),
        replica_lag_ms: db
            .replicas()
            .into_iter()
            .filter_map(|replica| Some((replica.name, replica.lag_ms?)))
            .collect(),
        redis_degraded: redis.as_ref().map(|redis| redis.degraded()),
        open_streams: streams.total_open(),
        index_documents: index.get().map(|index| index.documents()),
    })
}

/// Opens (or builds) and warms the index while the server already answers probes, then
/// follows the change feed. A failure stops the process: without its index it can never
/// become ready.
async fn open_index(
    state: AppState,
    shutdown: CancellationToken,
    failure: Arc<Mutex<Option<anyhow::Error>>>,
) {
    let opened = tokio::select! {
        opened = CatalogIndex::open_or_build(&state.db, &state.config.data_dir, true) => opened,
        _ = shutdown.cancelled() => return,
    };
    match opened {
        Ok((index, report)) => {
            tracing::info!(
                origin = ?report.origin,
                documents = report.documents,
                open_ms = report.open_ms,
                warm_ms = report.warm_ms,
                "the search index is open and warm"
            );
            state.index.fill(index, report);
            let slot = state.index.clone();
            let merge = tokio::task::spawn_blocking(move || {
                let merged = slot.get().map(|index| index.merge_segments());
                if let Some(Err(e)) = merged {
                    // The segments stay as they are: every read is still right, if slower.
                    tracing::warn!(error = format!("{e:#}"), "the index stays unmerged");
                }
            });
            let follower = feed::Follower {
                config: state.config.clone(),
                slot: state.index.clone(),
                redis: state.redis.clone(),
                wakeups: state.metrics.feed_wakeups(),
            };
            feed::follow(state.db.clone(), follower, shutdown).await;
            // A merge holds the index, and its writer's lock, until it ends.
            if let Err(e) = merge.await {
                tracing::warn!(error = %e, "the index merge panicked");
            }
        }
        Err(e) => {
            let e = e.context("the search index could not be opened");
            tracing::error!(error = format!("{e:#}"), "stopping");
            *failure.lock().expect("not poisoned") = Some(e);
            shutdown.cancel();
        }
    }
}

/// A fresh database gets a catalog: the configured dataset, or the generated default.
async fn ensure_catalog(db: &Db, config: &Config) -> anyhow::Result<()> {
    if seed::has_catalog(db).await? {
        if config.dataset.is_some() {
            tracing::info!(
                "the database has a catalog already; CHINOOK_DATASET is only read on first start"
            );
        }
        return Ok(());
    }
    let source = match &config.dataset {
        Some(path) => seed::Source::Dataset(path.clone()),
        None => seed::Source::default_synthetic(),
    };
    let report = seed::seed(db, &source, &config.demo_password, true).await?;
    if let seed::Outcome::Seeded { elapsed } = report.outcome {
        tracing::info!(
            source = report.source,
            elapsed_ms = elapsed.as_millis() as u64,
            "seeded the catalog"
        );
    }
    let store = crate::media::MediaStore::new(&config.media_dir);
    let written =
        crate::media::seed_audio(db, &store, config.seed_audio, config.audio_max_secs).await?;
    tracing::info!(tracks = written, dir = %config.media_dir.display(), "wrote generated audio");
    let covers = crate::media::cover::seed_covers(db, &store, config.seed_covers).await?;
    tracing::info!(albums = covers, "drew generated covers");
    Ok(())
}

fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<Server> {
    let config = state.config.clone();
    let workers = match config.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let shutdown_timeout = config.shutdown_timeout.as_secs();
    let send_timeout = config.send_timeout;
    let tls = config
        .tls
        .as_ref()
        .map(http::tls::server_config)
        .transpose()?;
    let connections = http::budget::Connections::new(
        config.max_connections_per_client,
        config.max_connections,
        config.trusted_proxies.clone(),
    );
    tokio::spawn(connections.clone().release_memory_after_crowds(shutdown));
    let data = web::Data::new(state);
    let subsonic = web::Data::new(routes::SubsonicState(crate::subsonic::Shared::new()));
    let server = HttpServer::new(move || {
        let (app, doc) = App::new()
            .wrap(actix_web::middleware::from_fn(
                http::read_your_writes::middleware,
            ))
            // Inside the others, so a 429 gets a request id, security headers and a count.
            .wrap(actix_web::middleware::from_fn(http::ratelimit::middleware))
            // Outside the limiter, which counts a request against the account it resolved.
            .wrap(actix_web::middleware::from_fn(http::auth::middleware))
            .wrap(actix_web::middleware::from_fn(
                http::compression::middleware,
            ))
            .wrap(http::security_headers())
            .wrap(http::tls::hsts(config.tls.is_some()))
            .wrap(http::cors::layer(&config.cors))
            .wrap(actix_web::middleware::from_fn(http::cors::problems))
            .wrap(actix_web::middleware::from_fn(http::draining::middleware))
            // Before anything reads the body, and with a request id on its refusals.
            .wrap(actix_web::middleware::from_fn(http::budget::middleware))
            .wrap(actix_web::middleware::from_fn(http::request_id::middleware))
            // Outermost, so that the time and the status are those the client gets.
            .wrap(actix_web::middleware::from_fn(http::metrics::middleware))
            .app_data(data.clone())
            .app_data(subsonic.clone())
            .app_data(extractors::json_config(config.max_body_bytes))
            .app_data(extractors::query_config())
            .app_data(extractors::path_config())
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(routes::configure)
            .split_for_parts();
        let mut doc = doc;
        routes::cookie_alternative(&mut doc);
        routes::tighten(&mut doc);
        let json = doc.to_json().expect("the OpenAPI document serialises");
        app.app_data(web::Data::new(KnownRoutes::from_openapi(&doc)))
            .app_data(web::Data::new(OpenApiJson(json)))
            .default_service(web::to(routes::fallback))
    })
    .workers(workers)
    // actix leaves Nagle's algorithm on. A response's last small write would then wait for
    // the client's delayed ACK (40 ms on Linux): a 64 KiB range took 42 ms instead of 0.3.
    // Each connection takes its place under the connection caps here, and gives it back when
    // it closes.
    .on_connect(move |connection, extensions| {
        use actix_tls::accept::rustls_0_23::TlsStream;
        use actix_web::rt::net::TcpStream;
        let socket = connection.downcast_ref::<TcpStream>().or_else(|| {
            connection
                .downcast_ref::<TlsStream<TcpStream>>()
                .map(|tls| tls.get_ref().0)
        });
        if let Some(Err(e)) = socket.map(|s| s.set_nodelay(true)) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let peer = socket.and_then(|s| s.peer_addr().ok()).map(|a| a.ip());
        connections.on_connect(peer, extensions);
        if let Some(socket) = socket.and_then(|s| Socket::of(s, send_timeout)) {
            extensions.insert(socket);
        }
    })
    // Signals are the binary's business; they cancel the shutdown token.
    .disable_signals()
    .shutdown_timeout(shutdown_timeout);
    let server = match &tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls.clone())?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}
