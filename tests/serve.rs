//! `kotae serve` as an operator runs it: secrets never reach the log, even
//! at trace level while the adapters fail to connect, and SIGTERM stops it
//! cleanly with exit 0.

#![cfg(all(feature = "matrix", feature = "discord"))]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn secrets_never_reach_the_log_and_sigterm_exits_0() {
    let state = tempfile::tempdir().unwrap();
    let password = "hunter2-matrix-password";
    let http_port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env_remove("KOTAE_CONFIG")
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_LOG_LEVEL", "trace")
        .env("KOTAE_HTTP_LISTEN", format!("127.0.0.1:{http_port}"))
        // Nothing listens on port 9: both adapters keep failing to connect.
        .env("KOTAE_MATRIX_HOMESERVER", "http://127.0.0.1:9")
        .env("KOTAE_MATRIX_USER", "kotae")
        .env("KOTAE_MATRIX_PASSWORD", password)
        .env_remove("KOTAE_DISCORD_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the health endpoint answers (503: nothing is connected).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut health = String::new();
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", http_port)) {
            use std::io::Write;
            s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
            s.read_to_string(&mut health).unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(health.starts_with("HTTP/1.0 503"), "{health}");
    assert!(health.contains("not connected"), "{health}");
    std::thread::sleep(Duration::from_secs(2));
    // SIGTERM, as a container runtime sends it.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let stopped = Instant::now();
    let status = child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(stopped.elapsed() < Duration::from_secs(10));
    assert!(log.lines().count() > 5, "trace logging was on: {log}");
    assert!(
        !log.contains(password),
        "the Matrix password leaked into the log"
    );
}

#[test]
fn the_discord_token_never_reaches_the_log_even_when_connecting_fails() {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_MATRIX_HOMESERVER")
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_LOG_LEVEL", "trace")
        .env("KOTAE_HTTP_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("KOTAE_DISCORD_TOKEN", "MTIz.discord-token-secret")
        // Nothing listens on port 9, so connecting fails and is logged.
        .env("KOTAE_DISCORD_API_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("Discord"), "{log}");
    assert!(
        !log.contains("discord-token-secret"),
        "the Discord token leaked into the log"
    );
}
