//! A real Synapse homeserver for tests, one per test, on 127.0.0.1.
//!
//! Synapse comes from a Python virtualenv: `$KOTAE_SYNAPSE_VENV`, or else
//! `target/synapse-venv`, created on first use (`python3 -m venv` and
//! `pip install matrix-synapse`) under a file lock, so test binaries running
//! side by side install it once. Each server gets a temporary directory
//! (config, SQLite database, signing key, logs) and a free port, has its
//! rate limits lifted (the tests log in and post far faster than a person)
//! and open registration, and is killed when the [`Synapse`] is dropped.
//! The Python process also watches its parent and exits when the test
//! binary dies, so a crashed test leaves no server behind.

#![allow(dead_code)]

#[path = "venv.rs"]
mod venv;

use venv::free_port;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SERVER_NAME: &str = "localhost";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs Synapse as `python -m synapse.app.homeserver`, exiting when the
/// process that started it goes away.
const LAUNCHER: &str = r#"
sys.argv = ["synapse", "-c", sys.argv[1]]
runpy.run_module("synapse.app.homeserver", run_name="__main__")
"#;

pub struct Synapse {
    dir: tempfile::TempDir,
    port: u16,
    python: PathBuf,
    child: Option<Child>,
}

impl Synapse {
    /// Starts a fresh homeserver and waits until it answers.
    pub fn start() -> Synapse {
        let python = python();
        let dir = tempfile::Builder::new()
            .prefix("kotae-synapse-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        write_config(dir.path(), port);
        let keys = Command::new(&python)
            .args([
                "-m",
                "synapse.app.homeserver",
                "-c",
                "homeserver.yaml",
                "--generate-keys",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .status()
            .expect("run synapse --generate-keys");
        assert!(keys.success(), "synapse --generate-keys failed");
        let mut synapse = Synapse {
            dir,
            port,
            python,
            child: None,
        };
        synapse.spawn();
        synapse
    }

    /// The client-server API base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would) and waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and requests
    /// wait, as behind a homeserver that hangs.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server is running");
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill {signal} failed");
    }

    /// Stops and starts the server on the same port and database.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Registers a user with a password; returns the user id.
    pub fn register(&self, localpart: &str, password: &str) -> String {
        let body = format!(
            r#"{{"username":"{localpart}","password":"{password}","auth":{{"type":"m.login.dummy"}},"inhibit_login":true}}"#
        );
        let (status, response) = http(self.port, "POST", "/_matrix/client/v3/register", &body)
            .expect("register request");
        assert_eq!(status, 200, "registering {localpart}: {response}");
        format!("@{localpart}:{SERVER_NAME}")
    }

    /// `user`'s public keys as the homeserver serves them to anyone
    /// (`POST /keys/query`, asked with a member's access token): devices,
    /// cross-signing keys and the signatures on them.
    pub fn keys_query(&self, token: &str, user: &str) -> serde_json::Value {
        let body = serde_json::json!({ "device_keys": { user: [] } }).to_string();
        let (status, response) = http_as(
            self.port,
            Some(token),
            "POST",
            "/_matrix/client/v3/keys/query",
            &body,
        )
        .expect("keys query request");
        assert_eq!(status, 200, "querying {user}'s keys: {response}");
        serde_json::from_str(&response).expect("a keys query response")
    }

    /// Logs in over plain HTTP as the given device; returns the access
    /// token (for configuring the bot with a token instead of a password).
    pub fn login(&self, localpart: &str, password: &str, device_id: &str) -> String {
        let body = format!(
            r#"{{"type":"m.login.password","identifier":{{"type":"m.id.user","user":"{localpart}"}},"password":"{password}","device_id":"{device_id}"}}"#
        );
        let (status, response) =
            http(self.port, "POST", "/_matrix/client/v3/login", &body).expect("login request");
        assert_eq!(status, 200, "logging in {localpart}: {response}");
        let json: serde_json::Value = serde_json::from_str(&response).expect("login response");
        json["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("stdout.log")).expect("log file");
        let child = Command::new(&self.python)
            .args([
                "-c",
                &venv::exiting_with_parent(LAUNCHER),
                "homeserver.yaml",
            ])
            .current_dir(self.dir.path())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start synapse");
        // CI stops every homeserver by its PID, even if this process dies.
        if let Some(pids) = std::env::var_os("KOTAE_SYNAPSE_PIDS") {
            let _ = std::fs::create_dir_all(&pids);
            let _ = std::fs::write(std::path::Path::new(&pids).join(child.id().to_string()), "");
        }
        self.child = Some(child);
        self.wait_until_up();
    }

    fn wait_until_up(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = http(self.port, "GET", "/_matrix/client/versions", "") {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || started.elapsed() > STARTUP_TIMEOUT {
                panic!("synapse did not start:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let mut out = String::new();
        for name in ["stdout.log", "homeserver.log"] {
            let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            out.push_str(&format!("--- {name}\n{tail}\n"));
        }
        out
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The virtualenv's Python, with matrix-synapse installed.
fn python() -> PathBuf {
    venv::python_with(
        "KOTAE_SYNAPSE_VENV",
        "synapse-venv",
        "matrix-synapse",
        "synapse.app.homeserver",
    )
}

/// A bare HTTP/1.0 request (so the answer is never chunked), enough to
/// poll, register and log in.
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    http_as(port, None, method, path, body)
}

/// [`http`], as the user whose access token is given, if any.
fn http_as(
    port: u16,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}

/// Rate limits Synapse knows, each lifted: `per_second: 0` does not turn a
/// limit off, and the login limit would lock out a bot restarted often.
const RATE_LIMITS: &[&str] = &[
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_admin_redaction",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
];

fn write_config(dir: &Path, port: u16) {
    let d = dir.display();
    let mut yaml = format!(
        r#"server_name: "{SERVER_NAME}"
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
log_config: {d}/log.yaml
media_store_path: {d}/media
signing_key_path: {d}/signing.key
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_registration: true
enable_registration_without_verification: true
macaroon_secret_key: "kotae-test-macaroon"
form_secret: "kotae-test-form"
presence:
  enabled: false
url_preview_enabled: false
"#
    );
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    for limit in RATE_LIMITS {
        let (section, key) = limit.split_once('.').unwrap_or((limit, ""));
        match sections.iter_mut().find(|(s, _)| *s == section) {
            Some((_, keys)) => keys.push(key),
            None => sections.push((section, vec![key])),
        }
    }
    const UNLIMITED: &str = "{per_second: 10000, burst_count: 100000}";
    for (section, keys) in sections {
        if keys == [""] {
            yaml.push_str(&format!("{section}: {UNLIMITED}\n"));
        } else {
            yaml.push_str(&format!("{section}:\n"));
            for key in keys {
                yaml.push_str(&format!("  {key}: {UNLIMITED}\n"));
            }
        }
    }
    std::fs::write(dir.join("homeserver.yaml"), yaml).expect("write homeserver.yaml");
    let log = format!(
        r#"version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {d}/homeserver.log
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"#
    );
    std::fs::write(dir.join("log.yaml"), log).expect("write log.yaml");
}
