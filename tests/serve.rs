//! `kotae serve` as an operator runs it: secrets never reach the log, even
//! at trace level while the adapters fail to connect; SIGTERM stops it
//! cleanly with exit 0, and no client of `/healthz` can delay that.

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

/// `kotae serve` with `env`, its adapters failing to connect, answering
/// `/healthz` on a port of its own.
struct Serve {
    child: std::process::Child,
    http_port: u16,
    /// Its log, read as it is written, so a full pipe never stalls it.
    log: std::thread::JoinHandle<String>,
    _state: tempfile::TempDir,
}

impl Serve {
    fn start(env: &[(&str, &str)]) -> Serve {
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
        let mut stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut log = String::new();
            let _ = stderr.read_to_string(&mut log);
            log
        });
        Serve {
            child,
            http_port,
            log,
            _state: state,
        }
    }

    /// `/healthz`'s whole answer, once the endpoint is up.
    fn healthz(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut health = String::new();
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.http_port)) {
                use std::io::Write;
                s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
                s.read_to_string(&mut health).unwrap();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        health
    }

    /// Sends SIGTERM as a container runtime does; how long it took to
    /// exit, whether it exited 0, and its log.
    fn terminate(mut self) -> (Duration, bool, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let stopped = Instant::now();
        let status = self.child.wait().unwrap();
        let took = stopped.elapsed();
        let log = self.log.join().unwrap();
        (took, status.success(), log)
    }
}

/// Runs `kotae serve` with `env` while its adapters fail to connect: waits
/// for `/healthz` to answer 503, lets it retry for 2 s, then sends SIGTERM as
/// a container runtime does. Returns how long it took to stop, and its log.
fn serve_failing_then_terminate(env: &[(&str, &str)]) -> (Duration, String) {
    let serve = Serve::start(env);
    let health = serve.healthz();
    std::thread::sleep(Duration::from_secs(2));
    let (took, success, log) = serve.terminate();
    assert!(health.starts_with("HTTP/1.0 503"), "{health}\n{log}");
    assert!(health.contains("not connected"), "{health}");
    assert!(success, "exit status\n{log}");
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

// Issue #12, item 12.
#[test]
fn idle_connections_are_closed_and_a_half_sent_request_never_delays_sigterm() {
    use std::io::Write;
    // Nothing listens on port 9: the adapter keeps retrying meanwhile.
    let serve = Serve::start(&[
        ("KOTAE_MATRIX_HOMESERVER", "http://127.0.0.1:9"),
        ("KOTAE_MATRIX_USER", "kotae"),
        ("KOTAE_MATRIX_PASSWORD", "password"),
    ]);
    assert!(serve.healthz().starts_with("HTTP/1.0 503"));
    let connect = || std::net::TcpStream::connect(("127.0.0.1", serve.http_port)).unwrap();

    // A connection that never sends its request is closed by the server.
    let mut idle = connect();
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut rest = Vec::new();
    let closed = idle.read_to_end(&mut rest);
    assert!(
        closed.is_ok()
            || closed
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the server closed the idle connection: {closed:?}"
    );

    // Many at once: more than the endpoint serves, and one half-sent.
    let mut held: Vec<std::net::TcpStream> = (0..100).map(|_| connect()).collect();
    let mut half = connect();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: kotae\r\n")
        .unwrap();
    held.push(half);
    let (took, success, log) = serve.terminate();
    assert!(success, "{log}");
    assert!(took < Duration::from_secs(1), "SIGTERM took {took:?}");
}
