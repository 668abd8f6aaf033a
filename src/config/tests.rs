//! The configuration's unit tests: defaults, layering, the parsers' errors and secrets kept
//! out of `Debug` output.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_run_on_sqlite_in_the_data_dir() {
    let config = Config::from_sources(None, &[]).unwrap();
    assert_eq!(config.database_url.backend(), Backend::Sqlite);
    assert!(config.database_url.expose().contains("data/chinook.db"));
    assert_eq!(config.bind.port(), 8080);
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chinook.toml");
    std::fs::write(&file, "bind = \"0.0.0.0:9000\"\nworkers = 3\n").unwrap();
    let config =
        Config::from_sources(Some(&file), &env(&[("CHINOOK_BIND", "127.0.0.1:9100")])).unwrap();
    assert_eq!(config.bind.port(), 9100);
    assert_eq!(config.workers, 3);
}

#[test]
fn an_unparsable_url_names_the_setting() {
    let err =
        Config::from_sources(None, &env(&[("CHINOOK_DATABASE_URL", "not a url")])).unwrap_err();
    assert_eq!(err.setting, "CHINOOK_DATABASE_URL");
    assert!(err.to_string().contains("not a valid URL"), "{err}");
}

#[test]
fn an_unknown_scheme_is_refused() {
    let err = Config::from_sources(
        None,
        &env(&[("CHINOOK_DATABASE_URL", "mysql://localhost/x")]),
    )
    .unwrap_err();
    assert!(err.problem.contains("unsupported scheme `mysql`"), "{err}");
}

#[test]
fn file_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:1\"\nworkers = \"two\n").unwrap();
    let err = Config::from_sources(Some(&file), &[]).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");

    std::fs::write(&file, "colour = \"blue\"\n").unwrap();
    let err = Config::from_sources(Some(&file), &[]).unwrap_err();
    assert!(err.setting.starts_with("colour"), "{err}");
    assert!(err.problem.contains("unknown setting"), "{err}");
}

#[test]
fn numbers_are_range_checked() {
    let err = Config::from_sources(None, &env(&[("CHINOOK_DB_MAX_CONNECTIONS", "0")])).unwrap_err();
    assert!(err.problem.contains("outside"), "{err}");
    let err = Config::from_sources(None, &env(&[("CHINOOK_WORKERS", "many")])).unwrap_err();
    assert!(err.problem.contains("not a whole number"), "{err}");
}

#[test]
fn playlist_caps_are_settings_within_what_a_reorder_body_can_carry() {
    let config = Config::from_sources(None, &[]).unwrap();
    assert_eq!(config.playlist_caps, PlaylistCaps::default());
    let config = Config::from_sources(
        None,
        &env(&[
            ("CHINOOK_MAX_PLAYLISTS_PER_ACCOUNT", "20"),
            ("CHINOOK_MAX_PLAYLIST_ENTRIES", "8000"),
        ]),
    )
    .unwrap();
    assert_eq!(config.playlist_caps.playlists, 20);
    assert_eq!(config.playlist_caps.entries, 8000);
    let err =
        Config::from_sources(None, &env(&[("CHINOOK_MAX_PLAYLIST_ENTRIES", "8001")])).unwrap_err();
    assert_eq!(err.setting, "CHINOOK_MAX_PLAYLIST_ENTRIES");
    assert!(err.problem.contains("outside"), "{err}");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let config = Config::from_sources(
        None,
        &env(&[
            (
                "CHINOOK_DATABASE_URL",
                "postgres://app:hunter2@db:5432/chinook?password=hunter3",
            ),
            ("CHINOOK_DEMO_PASSWORD", "swordfish-99"),
        ]),
    )
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("hunter3"), "{shown}");
    assert!(!shown.contains("swordfish-99"), "{shown}");
    assert!(
        shown.contains("postgres://app:*****@db:5432/chinook"),
        "{shown}"
    );
}

#[test]
fn rate_limits_parse_and_can_be_switched_off() {
    let config = Config::from_sources(None, &[]).unwrap();
    let limits = config.rate_limits.unwrap();
    assert_eq!(limits.anonymous.requests, 100);
    assert_eq!(limits.anonymous.burst, 20);
    assert_eq!(limits.anonymous.interval(), Duration::from_millis(600));
    let config = Config::from_sources(
        None,
        &env(&[
            ("CHINOOK_RATE_LIMIT_LOGIN", "3/s"),
            ("CHINOOK_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        ]),
    )
    .unwrap();
    let login = config.rate_limits.unwrap().login;
    assert_eq!((login.requests, login.burst), (3, 3));
    assert_eq!(config.trusted_proxies.len(), 2);
    let off = Config::from_sources(None, &env(&[("CHINOOK_RATE_LIMIT", "off")])).unwrap();
    assert!(off.rate_limits.is_none());
    let err =
        Config::from_sources(None, &env(&[("CHINOOK_RATE_LIMIT_ACCOUNT", "lots")])).unwrap_err();
    assert_eq!(err.setting, "CHINOOK_RATE_LIMIT_ACCOUNT");
    let err = Config::from_sources(None, &env(&[("CHINOOK_TRUSTED_PROXIES", "10.0.0.0/40")]))
        .unwrap_err();
    assert_eq!(err.setting, "CHINOOK_TRUSTED_PROXIES");
}

#[test]
fn replicas_are_a_comma_separated_list_of_postgres_urls() {
    let config = Config::from_sources(
        None,
        &env(&[
            ("CHINOOK_DATABASE_URL", "postgres://app@primary/chinook"),
            (
                "CHINOOK_REPLICA_URLS",
                "postgres://app@replica-1/chinook, postgres://app@replica-2/chinook,",
            ),
            ("CHINOOK_MAX_REPLICA_LAG", "3"),
        ]),
    )
    .unwrap();
    assert_eq!(config.replica_urls.len(), 2);
    assert_eq!(config.max_replica_lag, Duration::from_secs(3));

    let err = Config::from_sources(
        None,
        &env(&[
            ("CHINOOK_DATABASE_URL", "postgres://app@primary/chinook"),
            (
                "CHINOOK_REPLICA_URLS",
                "postgres://app@r1/chinook,sqlite:///x.db",
            ),
        ]),
    )
    .unwrap_err();
    assert_eq!(err.setting, "CHINOOK_REPLICA_URLS");
    assert!(err.problem.contains("replica 2"), "{err}");
}

#[test]
fn replicas_of_a_sqlite_database_are_refused() {
    let err = Config::from_sources(
        None,
        &env(&[("CHINOOK_REPLICA_URLS", "postgres://app@replica/chinook")]),
    )
    .unwrap_err();
    assert!(err.problem.contains("need a postgres://"), "{err}");
}

#[test]
fn tls_needs_both_the_certificate_and_the_key() {
    let err =
        Config::from_sources(None, &env(&[("CHINOOK_TLS_CERT", "/tls/cert.pem")])).unwrap_err();
    assert_eq!(err.setting, "CHINOOK_TLS_KEY");
    let config = Config::from_sources(
        None,
        &env(&[
            ("CHINOOK_TLS_CERT", "/tls/cert.pem"),
            ("CHINOOK_TLS_KEY", "/tls/key.pem"),
        ]),
    )
    .unwrap();
    assert_eq!(config.tls.unwrap().key, PathBuf::from("/tls/key.pem"));
}

#[test]
fn any_origin_together_with_credentials_is_refused() {
    let err = Config::from_sources(
        None,
        &env(&[
            ("CHINOOK_CORS_ORIGINS", "*"),
            ("CHINOOK_CORS_CREDENTIALS", "true"),
        ]),
    )
    .unwrap_err();
    assert_eq!(err.setting, "CHINOOK_CORS_CREDENTIALS");
    assert!(err.problem.contains("list the origins"), "{err}");
}

#[test]
fn cors_origins_are_exact_origins() {
    assert_eq!(
        CorsOrigins::parse("https://shop.example.com, http://localhost:3000").unwrap(),
        CorsOrigins::List(vec![
            "https://shop.example.com".into(),
            "http://localhost:3000".into()
        ])
    );
    assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::None);
    assert_eq!(CorsOrigins::parse("*").unwrap(), CorsOrigins::Any);
    for bad in [
        "https://shop.example.com/path",
        "shop.example.com",
        "ftp://x.org",
        "*,https://a.org",
    ] {
        assert!(CorsOrigins::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_configured_sqlite_file_is_created_when_missing() {
    let url = DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap();
    assert_eq!(url.expose(), "sqlite:///tmp/x.db?mode=rwc");
    let url = DatabaseUrl::parse("sqlite:///tmp/x.db?mode=ro").unwrap();
    assert_eq!(url.expose(), "sqlite:///tmp/x.db?mode=ro");
}
