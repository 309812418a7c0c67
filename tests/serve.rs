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

/// Runs `kotae serve` with `env` while its adapters fail to connect: waits
/// for `/healthz` to answer 503, lets it retry for 2 s, then sends SIGTERM as
/// a container runtime does. Returns how long it took to stop, and its log.
fn serve_failing_then_terminate(env: &[(&str, &str)]) -> (Duration, String) {
    let state = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kotae"));
    command
        .arg("serve")
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_MATRIX_HOMESERVER")
        .env_remove("KOTAE_DISCORD_TOKEN")
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_LOG_LEVEL", "trace")
        .env("KOTAE_HTTP_LISTEN", format!("127.0.0.1:{http_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
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
    std::thread::sleep(Duration::from_secs(2));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let stopped = Instant::now();
    let status = child.wait().unwrap();
    let took = stopped.elapsed();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(health.starts_with("HTTP/1.0 503"), "{health}\n{log}");
    assert!(health.contains("not connected"), "{health}");
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(log.lines().count() > 5, "trace logging was on: {log}");
    (took, log)
}

#[test]
fn secrets_never_reach_the_log_and_sigterm_exits_0() {
    let password = "hunter2-matrix-password";
    // Nothing listens on port 9: the adapter keeps failing to connect.
    let (took, log) = serve_failing_then_terminate(&[
        ("KOTAE_MATRIX_HOMESERVER", "http://127.0.0.1:9"),
        ("KOTAE_MATRIX_USER", "kotae"),
        ("KOTAE_MATRIX_PASSWORD", password),
    ]);
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    assert!(
        !log.contains(password),
        "the Matrix password leaked into the log"
    );
}

#[test]
fn the_discord_token_never_reaches_the_log_even_when_connecting_fails() {
    let (took, log) = serve_failing_then_terminate(&[
        ("KOTAE_DISCORD_TOKEN", "MTIz.discord-token-secret"),
        ("KOTAE_DISCORD_API_URL", "http://127.0.0.1:9"),
    ]);
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    assert!(log.contains("Discord"), "{log}");
    assert!(
        !log.contains("discord-token-secret"),
        "the Discord token leaked into the log"
    );
}
