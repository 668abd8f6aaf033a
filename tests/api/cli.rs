//! The `chinook` binary: exit codes, error lines, commands, and signals.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::{chinook, serve, TestDatabase};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_bad_setting_exits_2_with_one_line_naming_it() {
    let database = TestDatabase::empty().await;
    for (name, value, expected) in [
        (
            "CHINOOK_DATABASE_URL",
            "::not a url::",
            "CHINOOK_DATABASE_URL: not a valid URL",
        ),
        ("CHINOOK_BIND", "localhost", "CHINOOK_BIND"),
        ("CHINOOK_LOG_FORMAT", "xml", "CHINOOK_LOG_FORMAT"),
        ("CHINOOK_DEMO_PASSWORD", "short", "CHINOOK_DEMO_PASSWORD"),
    ] {
        let output = chinook(&database)
            .env(name, value)
            .arg("migrate")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        let text = stderr(&output);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(expected), "{text}");
    }
}

#[tokio::test]
async fn a_malformed_config_file_exits_2_naming_the_file_and_line() {
    let database = TestDatabase::empty().await;
    let file = database.dir.path().join("chinook.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:0\"\nworkers = \"two\n").unwrap();
    let output = chinook(&database)
        .arg("--config")
        .arg(&file)
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("chinook.toml") && text.contains("line 2"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_retried_then_reported() {
    let database = TestDatabase::empty().await;
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for command in ["migrate", "serve"] {
        let output = chinook(&database)
            .env(
                "CHINOOK_DATABASE_URL",
                format!("postgres://chinook:secret-pw@127.0.0.1:{port}/chinook"),
            )
            .env("CHINOOK_DB_CONNECT_TIMEOUT_SECS", "1")
            .env("CHINOOK_LOG", "error")
            .arg(command)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{command}");
        let text = stderr(&output);
        assert!(text.contains("unreachable"), "{text}");
        let attempts: u32 = text
            .split("gave up after ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        assert!(attempts >= 3, "retried with backoff: {text}");
        assert!(!text.contains("secret-pw"), "the password leaked: {text}");
    }
}

#[tokio::test]
async fn help_lists_the_commands() {
    let database = TestDatabase::empty().await;
    let output = chinook(&database).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "seed"] {
        assert!(text.contains(command), "{text}");
    }
    let output = chinook(&database)
        .args(["seed", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("--dataset") && text.contains("--tracks") && text.contains("--seed"),
        "{text}"
    );
}

#[tokio::test]
async fn migrate_then_seed_a_synthetic_catalog_from_the_command_line() {
    let database = TestDatabase::empty().await;
    let output = chinook(&database).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    // Every migration of the backend under test, however many branches have added.
    let folder = match crate::helpers::backend() {
        chinook::config::Backend::Postgres => "postgres",
        chinook::config::Backend::Sqlite => "sqlite",
    };
    let migrations = std::fs::read_dir(format!(
        "{}/migrations/{folder}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .filter(|entry| {
        entry
            .as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|e| e == "sql")
    })
    .count();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("{migrations} of {migrations} applied")),
        "{stdout}"
    );

    let output = chinook(&database)
        .env("CHINOOK_LOG", "info")
        .args(["seed", "--synthetic", "--tracks", "1500", "--seed", "9"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    // Off a terminal, progress is plain log lines.
    let log = stderr(&output);
    let progress_lines = log
        .lines()
        .filter(|l| l.contains("generating 1500 tracks: "))
        .count();
    assert!((5..=10).contains(&progress_lines), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no terminal colours off a terminal: {log}"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("seeded synthetic tracks=1500 seed=9"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["track", "1500"]),
        "{text}"
    );

    let again = chinook(&database)
        .args(["seed", "--synthetic", "--tracks", "1500", "--seed", "9"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already seeded"));
}

#[tokio::test]
async fn reindex_rebuilds_the_search_index() {
    let database = TestDatabase::chinook_unindexed().await;
    let output = chinook(&database).arg("reindex").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    // 275 artists, 347 albums, 3503 tracks, 25 genres, 5 media types, 18 playlists, and
    // 38 taxonomy terms (26 genre, 8 format, 4 length).
    assert!(text.contains("indexed 4211 catalog entries"), "{text}");
    assert!(database
        .dir
        .path()
        .join("index/chinook-index.json")
        .is_file());
    assert!(!database.dir.path().join("index.building").exists());
}

#[tokio::test]
async fn seeding_a_missing_dataset_fails_clearly() {
    let database = TestDatabase::empty().await;
    let output = chinook(&database)
        .args(["seed", "--dataset", "/nonexistent/ChinookData.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("cannot read dataset /nonexistent/ChinookData.json"));
}

/// Sends SIGTERM and waits for the exit; a process that hangs on the way out fails the test.
async fn terminate(mut child: std::process::Child) -> Output {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for _ in 0..3000 {
        if child.try_wait().unwrap().is_some() {
            return tokio::task::spawn_blocking(move || child.wait_with_output())
                .await
                .unwrap()
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not exit within 30 s of SIGTERM");
}

#[tokio::test]
async fn serve_stops_on_sigterm_and_exits_0() {
    let database = TestDatabase::chinook().await;
    let mut command = chinook(&database);
    command.stderr(Stdio::null());
    let (child, _) = serve(command).await;
    let output = terminate(child).await;
    assert_eq!(output.status.code(), Some(0));
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_request_line() {
    let database = TestDatabase::chinook().await;
    let mut command = chinook(&database);
    command
        .env("CHINOOK_LOG_FORMAT", "json")
        .env("CHINOOK_LOG", "info")
        .stderr(Stdio::piped());
    let (child, port) = serve(command).await;
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/me"))
        .header("x-request-id", "json-log-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let output = terminate(child).await;
    let text = stderr(&output);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let ours: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "json-log-test-1")
        .collect();
    assert!(!ours.is_empty(), "{text}");
    let finished = ours
        .iter()
        .find(|l| l["fields"]["message"] == "request finished")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(finished["fields"]["status"], 401);
    assert_eq!(finished["span"]["path"], "/api/v1/me");
}

#[test]
fn settings_lists_every_variable_the_binary_reads_and_the_readme_documents_each() {
    let output = Command::new(env!("CARGO_BIN_EXE_chinook"))
        .arg("settings")
        // A bad value elsewhere must not keep deployment checks from asking.
        .env("CHINOOK_WORKERS", "many")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let listed = String::from_utf8(output.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut names = Vec::new();
    for line in listed.lines() {
        let (env, key) = line.split_once('\t').expect("NAME<TAB>key");
        assert!(env.starts_with("CHINOOK_"), "{line}");
        assert!(
            readme.contains(&format!("| `{env}` | `{key}` |")),
            "{env} is not in the README's Configuration table"
        );
        names.push(env.to_string());
    }
    for expected in [
        "CHINOOK_DATABASE_URL",
        "CHINOOK_TLS_CERT",
        "CHINOOK_CORS_ORIGINS",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
}
