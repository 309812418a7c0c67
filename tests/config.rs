//! Configuration: the file, `KOTAE_*` overrides, secrets only from the
//! environment or `*_FILE`, and secrets never printed.

use kotae::config::Config;
use std::path::Path;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "kotae.toml",
        "state_dir = \"/from/file\"\n[http]\nlisten = \"127.0.0.1:1\"\n",
    );
    let config = Config::from_sources(
        Some(&file),
        env(&[
            ("KOTAE_STATE_DIR", "/from/env"),
            ("OTHER", "x"),
            // Other tools' variables with the same prefix are not settings.
            ("KOTAE_SYNAPSE_VENV", "/venv"),
        ]),
    )
    .unwrap();
    assert_eq!(config.state_dir, Path::new("/from/env"));
    assert_eq!(config.http.listen.port(), 1);
    let config = Config::from_sources(
        None,
        env(&[
            ("KOTAE_HTTP_LISTEN", "0.0.0.0:9184"),
            ("KOTAE_LOG_JSON", "true"),
        ]),
    )
    .unwrap();
    assert_eq!(config.http.listen.to_string(), "0.0.0.0:9184");
    assert!(config.log.json);
}

#[test]
fn an_invalid_config_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "kotae.toml",
        "[http]\nlisten = \"not an address\"\n",
    );
    let err = Config::from_sources(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid configuration") && err.contains("listen"),
        "{err}"
    );
    let err = Config::from_sources(None, env(&[("KOTAE_DISCORD_GUILD_ID", "1")]))
        .unwrap_err()
        .to_string();
    #[cfg(feature = "discord")]
    assert_eq!(
        err,
        "invalid configuration: `discord.token` is required: set KOTAE_DISCORD_TOKEN or KOTAE_DISCORD_TOKEN_FILE"
    );
    #[cfg(not(feature = "discord"))]
    assert_eq!(
        err,
        "invalid configuration: `discord` is set, but this kotae was built without the `discord` adapter (cargo feature `discord`)"
    );
    let file = write(dir.path(), "typo.toml", "stat_dir = \"x\"\n");
    let err = Config::from_sources(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("stat_dir"), "{err}");
    let file = write(dir.path(), "broken.toml", "[http\n");
    assert!(Config::from_sources(Some(&file), env(&[])).is_err());
}

#[cfg(feature = "matrix")]
#[test]
fn matrix_settings_come_from_the_environment_alone() {
    let config = Config::from_sources(
        None,
        env(&[
            ("KOTAE_MATRIX_HOMESERVER", "http://127.0.0.1:8008"),
            ("KOTAE_MATRIX_USER", "kotae"),
            ("KOTAE_MATRIX_PASSWORD", "12345"),
        ]),
    )
    .unwrap();
    let matrix = config.matrix.expect("matrix enabled");
    assert_eq!(matrix.homeserver, "http://127.0.0.1:8008");
    assert_eq!(
        matrix.password.unwrap().expose(),
        "12345",
        "a numeric password stays text"
    );
}

#[cfg(feature = "matrix")]
#[test]
fn a_secret_in_the_file_is_refused_and_file_secrets_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "kotae.toml",
        "[matrix]\nhomeserver = \"http://h\"\npassword = \"hunter2\"\n",
    );
    let err = Config::from_sources(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`matrix.password` is a secret") && !err.contains("hunter2"),
        "{err}"
    );

    let secret = write(dir.path(), "token", "syt_secret_token\n");
    let file = write(
        dir.path(),
        "ok.toml",
        "[matrix]\nhomeserver = \"http://h\"\n",
    );
    let config = Config::from_sources(
        Some(&file),
        env(&[("KOTAE_MATRIX_ACCESS_TOKEN_FILE", secret.to_str().unwrap())]),
    )
    .unwrap();
    let matrix = config.matrix.unwrap();
    assert_eq!(
        matrix.access_token.as_ref().unwrap().expose(),
        "syt_secret_token"
    );
    assert!(
        !format!("{matrix:?}").contains("syt_secret_token"),
        "Debug masks secrets"
    );
}

#[cfg(feature = "discord")]
#[test]
fn config_check_prints_settings_with_secrets_masked() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["config", "check"])
        .env("KOTAE_DISCORD_TOKEN", "MTIz.secret-token-value")
        .env("KOTAE_DISCORD_GUILD_ID", "1234567890123456789")
        .env_remove("KOTAE_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("token = \"***\""), "{stdout}");
    assert!(stdout.contains("1234567890123456789"), "{stdout}");
    assert!(!stdout.contains("secret-token-value"));
}

#[test]
fn serve_without_an_adapter_exits_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_STATE_DIR", dir.path())
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_DISCORD_TOKEN")
        .env_remove("KOTAE_MATRIX_HOMESERVER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no chat adapter is enabled"));
}

#[cfg(all(feature = "matrix", feature = "discord"))]
#[test]
fn the_example_config_documents_valid_settings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("kotae.example.toml");
    let config = Config::from_sources(Some(&path), env(&[("KOTAE_DISCORD_TOKEN", "t")])).unwrap();
    assert_eq!(config.http.listen.to_string(), "127.0.0.1:9184");
    assert_eq!(config.matrix.unwrap().rate_per_minute, 6);
    assert!(!config.discord.unwrap().message_content);
}

#[cfg(all(feature = "matrix", feature = "discord"))]
#[test]
fn the_example_environment_file_names_valid_settings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kotae.env.example");
    let text = std::fs::read_to_string(path).unwrap();
    // Every commented-out assignment, switched on (secret files aside: they
    // name files that exist only in a deployment).
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix('#')?.split_once('='))
        .filter(|(k, v)| k.starts_with("KOTAE_") && !k.ends_with("_FILE") && !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(pairs.len() >= 8, "{pairs:?}");
    let vars: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("KOTAE_DISCORD_TOKEN", "t")])
        .collect();
    let config = Config::from_sources(None, env(&vars)).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.matrix.is_some() && config.discord.is_some());
}

/// `kotae config check` with `vars`: its exit code and standard error.
fn config_check(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"));
    command.args(["config", "check"]).env_remove("KOTAE_CONFIG");
    for name in [
        "KOTAE_MATRIX_HOMESERVER",
        "KOTAE_DISCORD_TOKEN",
        "KOTAE_LOG_LEVEL",
    ] {
        command.env_remove(name);
    }
    for (k, v) in vars {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// Issue #12, item 7.
#[cfg(all(feature = "matrix", feature = "discord"))]
#[test]
fn config_check_refuses_a_homeserver_that_is_no_web_url_and_an_empty_token() {
    for bad in ["not a url", "ftp://matrix.example.org"] {
        let (code, stderr) = config_check(&[("KOTAE_MATRIX_HOMESERVER", bad)]);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("`matrix.homeserver` (KOTAE_MATRIX_HOMESERVER)")
                && stderr.contains(&format!("{bad:?}")),
            "{stderr}"
        );
    }
    let (code, stderr) = config_check(&[("KOTAE_DISCORD_TOKEN", "")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`discord.token` is empty"), "{stderr}");
}

// Issue #12, item 8.
#[test]
fn a_token_put_where_its_file_belongs_is_never_printed() {
    let token = "MTIz.Gx-the-token-itself";
    let (code, stderr) = config_check(&[("KOTAE_DISCORD_TOKEN_FILE", token)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the file named by KOTAE_DISCORD_TOKEN_FILE: No such file"),
        "{stderr}"
    );
    assert!(!stderr.contains("the-token-itself"), "{stderr}");
}

// Issue #12, item 9.
#[cfg(feature = "discord")]
#[test]
fn syntax_errors_a_bom_log_levels_and_a_secret_set_twice() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "kotae.toml",
        "state_dir = \"x\"\nknowledge = \"k\n",
    );
    let err = Config::from_sources(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("kotae.toml:2:"), "line and column: {err}");

    let token = write(dir.path(), "token", "\u{feff}MTIz.token\n");
    let config = Config::from_sources(
        None,
        env(&[("KOTAE_DISCORD_TOKEN_FILE", token.to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(config.discord.unwrap().token.expose(), "MTIz.token");

    let err = Config::from_sources(None, env(&[("KOTAE_LOG_LEVEL", "loud")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`log.level`") && err.contains("\"loud\""),
        "{err}"
    );

    let err = Config::from_sources(
        None,
        env(&[
            ("KOTAE_DISCORD_TOKEN", "MTIz.a"),
            ("KOTAE_DISCORD_TOKEN_FILE", token.to_str().unwrap()),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("KOTAE_DISCORD_TOKEN and KOTAE_DISCORD_TOKEN_FILE"),
        "{err}"
    );
    assert!(!err.contains("MTIz"), "{err}");
}

// Issue #12: a value of the wrong type, or a key that is no setting, in
// kotae.toml is named with the file's line and column, like a syntax error;
// one set by a variable is named with the variable.
#[test]
fn type_errors_in_the_file_name_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let error = |text: &str, vars: &[(&str, &str)]| {
        let file = write(dir.path(), "kotae.toml", text);
        Config::from_sources(Some(&file), env(vars))
            .unwrap_err()
            .to_string()
    };
    let at = |place: &str| format!("{}:{place}", dir.path().join("kotae.toml").display());

    let err = error(
        "state_dir = \"s\"\ncorrection_window_days = \"seven\"\n",
        &[],
    );
    assert_eq!(
        err,
        format!(
            "invalid configuration: {}: `correction_window_days`: invalid type: found string \"seven\", expected u64",
            at("2:26")
        )
    );

    let err = error("state_dir = \"s\"\n\n[http]\nlisten = 5\n", &[]);
    assert!(
        err.starts_with(&format!(
            "invalid configuration: {}: `http.listen`: ",
            at("4:10")
        )),
        "{err}"
    );

    // Dotted keys and inline tables are found too.
    let err = error("http.listen = [1]\n", &[]);
    assert!(
        err.contains(&format!("{}: `http.listen`", at("1:15"))),
        "{err}"
    );
    let err = error("log = { json = \"yes\" }\n", &[]);
    assert!(
        err.contains(&format!("{}: `log.json`", at("1:16"))),
        "{err}"
    );

    // An unknown key: where the key is.
    let err = error("[http]\nlisten = \"127.0.0.1:1\"\nport = 4\n", &[]);
    assert!(
        err.starts_with(&format!(
            "invalid configuration: {}: unknown field: found `port`",
            at("3:1")
        )),
        "{err}"
    );

    // The variable wins over the file, and is what the error names.
    let err = error(
        "[http]\nlisten = \"127.0.0.1:1\"\n",
        &[("KOTAE_HTTP_LISTEN", "5")],
    );
    assert!(
        err.starts_with("invalid configuration: `http.listen` (KOTAE_HTTP_LISTEN): "),
        "{err}"
    );
    assert!(!err.contains("kotae.toml"), "{err}");
    let err = Config::from_sources(None, env(&[("KOTAE_CORRECTION_WINDOW_DAYS", "seven")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "invalid configuration: `correction_window_days` (KOTAE_CORRECTION_WINDOW_DAYS): invalid type: found string \"seven\", expected u64"
    );

    // A required setting missing from a section: where the section is.
    #[cfg(feature = "matrix")]
    {
        let err = error("state_dir = \"s\"\n\n[matrix]\nuser = \"@kotae:x\"\n", &[]);
        assert_eq!(
            err,
            format!(
                "invalid configuration: {}: `matrix.homeserver` is required",
                at("3:1")
            )
        );
    }

    // The terminal commands' `[embeddings]` and `[log]` sections too.
    let file = write(
        dir.path(),
        "kotae.toml",
        "[embeddings]\n\ntimeout_ms = \"x\"\n",
    );
    let err = kotae::config::EmbeddingsConfig::load(Some(&file))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("{}: `embeddings.timeout_ms`", at("3:14"))),
        "{err}"
    );
    let file = write(dir.path(), "kotae.toml", "[log]\nlevel = 3\n");
    let err = kotae::config::LogConfig::from_sources(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("{}: `log.level`", at("2:9"))),
        "{err}"
    );
}
