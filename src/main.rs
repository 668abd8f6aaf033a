//! The `chinook` command line: serve (the default), migrate, seed, reindex, settings.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use chinook::config::Config;
use chinook::config::SeedAudio;
use chinook::db::Db;
use chinook::media::{self, MediaStore};
use chinook::search::CatalogIndex;
use chinook::seed::{self, Outcome, Source};
use chinook::startup::Application;

#[derive(Parser)]
#[command(
    name = "chinook",
    version,
    about = "A music store and streaming service over the Chinook catalog",
    long_about = "A music store and streaming service over the Chinook catalog.\n\n\
        Without a command it serves the API. Settings come from defaults, then the optional \
        TOML file, then CHINOOK_* environment variables (see the README)."
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "CHINOOK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): migrate, seed an empty database, listen on CHINOOK_BIND.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill an empty database with the Chinook dataset or a generated catalog.
    Seed(SeedArgs),
    /// Rebuild the search index from the database, whether or not it is current.
    Reindex,
    /// Print every setting's environment variable and file key, one a line.
    Settings,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("source").args(["dataset", "synthetic"]))]
struct SeedArgs {
    /// Import the real Chinook dataset from this ChinookData.json.
    #[arg(long, value_name = "PATH")]
    dataset: Option<PathBuf>,
    /// Generate a Chinook-shaped catalog (the default when no dataset is given).
    #[arg(long)]
    synthetic: bool,
    /// Number of tracks to generate.
    #[arg(long, default_value_t = 3_503, requires = "synthetic", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    tracks: u64,
    /// Generator seed: the same seed gives the same catalog.
    #[arg(long, default_value_t = seed::DEFAULT_SEED, requires = "synthetic")]
    seed: u64,
    /// Tracks to store generated masters for in the media store: `all`, `none`, or the first
    /// N by id (default CHINOOK_SEED_AUDIO, else none: every track has a generated song
    /// rendered on first request without this). Tracks that have a master keep it.
    #[arg(long, value_name = "all|none|N", value_parser = SeedAudio::parse)]
    audio: Option<SeedAudio>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Needs no valid configuration: deployment checks ask it what the binary reads.
    if let Some(Command::Settings) = cli.command {
        for (key, env) in chinook::config::settings() {
            println!("{env}\t{key}");
        }
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    chinook::telemetry::init(config.log_format, &config.log_filter);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Seed(args) => seed_command(config, args).await,
            Command::Reindex => reindex(config).await,
            Command::Settings => unreachable!("answered before the configuration is loaded"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("stop signal received");
        shutdown.cancel();
    });
    app.run_until_stopped().await
}

/// SIGTERM (orchestrators) or SIGINT (Ctrl-C).
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM can be handled");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config).await?;
    db.migrate().await?;
    chinook::store::accounts::backfill_email_skeletons(&db).await?;
    let status = db.migration_status().await?;
    println!(
        "migrations: {} of {} applied on {}",
        status.applied, status.expected, config.database_url
    );
    db.close().await;
    Ok(())
}

async fn reindex(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let documents = CatalogIndex::rebuild(&db, &config.data_dir, true).await?;
    println!(
        "indexed {documents} catalog entries into {} in {:.2}s",
        config.data_dir.join("index").display(),
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(())
}

async fn seed_command(config: Config, args: SeedArgs) -> anyhow::Result<()> {
    let source = match (args.dataset, args.synthetic) {
        (Some(path), _) => Source::Dataset(path),
        (None, true) => Source::Synthetic {
            tracks: args.tracks,
            seed: args.seed,
        },
        (None, false) => match &config.dataset {
            Some(path) => Source::Dataset(path.clone()),
            None => Source::default_synthetic(),
        },
    };
    let db = Db::connect(&config).await?;
    db.migrate().await?;
    let report = seed::seed(&db, &source, &config.demo_password, true).await?;
    match report.outcome {
        Outcome::Seeded { elapsed } => {
            println!("seeded {} in {:.2}s", report.source, elapsed.as_secs_f64())
        }
        Outcome::AlreadySeeded => println!("already seeded from {}; nothing to do", report.source),
    }
    for (table, rows) in &report.counts {
        println!("  {table:<15} {rows:>10}");
    }
    let store = MediaStore::new(&config.media_dir);
    let which = args.audio.unwrap_or(config.seed_audio);
    let written = media::seed_audio(&db, &store, which, config.audio_max_secs).await?;
    println!(
        "wrote audio for {written} tracks into {}",
        config.media_dir.display()
    );
    let covers = media::cover::seed_covers(&db, &store, config.seed_covers).await?;
    println!("drew covers for {covers} albums");
    db.close().await;
    Ok(())
}
