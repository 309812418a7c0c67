//! The Matrix adapter's life: a restart answers what came while it was
//! down and nothing twice, it survives a homeserver restart, and `kotae
//! serve` runs from environment variables alone. `latency_report`
//! (ignored; `cargo test --test matrix_lifecycle latency_report --
//! --ignored --nocapture`) measures question-to-reply time and the serve
//! process's memory.

#![cfg(feature = "matrix")]
#![recursion_limit = "256"]

#[path = "support/knowledge.rs"]
mod knowledge;
#[path = "support/matrix_replies.rs"]
mod matrix_replies;
#[path = "support/matrix_world.rs"]
mod matrix_world;
#[path = "support/synapse.rs"]
mod synapse;

use kotae::core::{Lang, LangChoice};
use matrix_replies::*;
use matrix_sdk::ruma::OwnedUserId;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_world::{Bot, Member, PASSWORD, PATIENCE, World, eventually, init_logging};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use synapse::Synapse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_answers_what_came_while_down_and_nothing_twice() {
    let mut world = World::new().await;
    // Before the bot ever runs, its account is already in a room with a
    // question in it: history, never answered.
    let room = world
        .tester
        .create_room(&[&world.bot_id, &world.carol.id], false)
        .await;
    {
        let earlier = Member::login(&world.synapse, "kotae").await;
        earlier.join(&room.room_id().to_owned()).await;
    }
    world.carol.join(&room.room_id().to_owned()).await;
    let history = world
        .tester
        .say(&room, &format!("!ask {WHEN_FOUNDED}"))
        .await;

    world.bot.start();
    world.bot.wait_connected().await;
    let before = world
        .tester
        .say(&room, &format!("!ask {}", WHO_ANNOUNCED[0].0))
        .await;
    world.tester.reply(&world.bot_id, &before).await;
    let lang = world.tester.say(&room, "!lang ja").await;
    let ja = kotae::core::messages::get(Lang::Ja);
    assert_eq!(
        world.tester.reply(&world.bot_id, &lang).await.body(),
        kotae::core::messages::fill(ja.lang_set, &[("lang", "日本語")])
    );
    let device = world.bot.device_id();

    world.bot.stop().await;
    let (question, _) = WHO_ANNOUNCED[0];
    let meanwhile = world.tester.say(&room, &format!("!ask {question}")).await;
    world.bot.start();
    let reply = world.tester.reply(&world.bot_id, &meanwhile).await;
    // The room's language survived the restart.
    assert_answers(
        &reply,
        &core_reply(question, LangChoice::Explicit(Lang::Ja)),
        &world.tester.id,
    );
    let after = world
        .tester
        .say(&room, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    world.tester.reply(&world.bot_id, &after).await;

    assert_eq!(
        world.bot.device_id(),
        device,
        "the same device, no new login"
    );
    assert!(
        world.tester.replies(&world.bot_id, &history).is_empty(),
        "history is not answered"
    );
    for question in [&before, &lang, &meanwhile, &after] {
        assert_eq!(
            world.tester.replies(&world.bot_id, question).len(),
            1,
            "{question} answered once"
        );
    }

    // A restart with nothing waiting: /healthz should not have to wait for
    // a long poll to end before it sees the adapter connected. The pause
    // lets the bot's last sync take in the echo of its own reply, so the
    // restart really finds nothing new (it only shapes the printed figure).
    tokio::time::sleep(Duration::from_secs(2)).await;
    world.bot.stop().await;
    let restarted = Instant::now();
    world.bot.start();
    world.bot.wait_connected().await;
    println!(
        "restart to connected (stored session, nothing waiting): {:?}",
        restarted.elapsed()
    );
    let last = world
        .tester
        .say(&room, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    world.tester.reply(&world.bot_id, &last).await;
    for question in [&before, &lang, &meanwhile, &after, &last] {
        assert_eq!(
            world.tester.replies(&world.bot_id, question).len(),
            1,
            "{question} answered once, after two restarts"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_homeserver_restart() {
    let mut world = World::started().await;
    let room = world.group_room().await;
    let first = world
        .tester
        .say(&room, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    world.tester.reply(&world.bot_id, &first).await;
    assert_eq!(world.bot.connected(), Some(true));

    tokio::task::block_in_place(|| world.synapse.stop());
    let bot = &world.bot;
    eventually("the bot to notice the homeserver is gone", || {
        std::future::ready(bot.connected() == Some(false))
    })
    .await;
    tokio::task::block_in_place(|| world.synapse.restart());

    let (question, _) = WHO_ANNOUNCED[2];
    let second = world.tester.say(&room, &format!("!ask {question}")).await;
    let reply = world.tester.reply(&world.bot_id, &second).await;
    assert_answers(
        &reply,
        &core_reply(question, LangChoice::Detect),
        &world.tester.id,
    );
    assert_eq!(world.bot.connected(), Some(true));
}

/// `kotae serve` run as a process, configured only by environment.
struct Serve {
    child: Child,
    log: std::path::PathBuf,
}

impl Serve {
    fn start(env: &[(&str, String)], log: std::path::PathBuf) -> Serve {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kotae"));
        command.arg("serve");
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("KOTAE_")) {
            command.env_remove(name);
        }
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        command.env("KOTAE_HTTP_LISTEN", listen.to_string());
        for (name, value) in env {
            command.env(name, value);
        }
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start kotae serve");
        Serve { child, log }
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kotae serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fails the test at once, with the log, if the process has exited.
    fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("kotae serve exited ({status}):\n{}", self.log());
        }
    }

    /// Waits for the bot to accept an invite to the room.
    async fn wait_joined(&mut self, room: &matrix_sdk::Room) {
        let bot = Bot::id();
        eventually("kotae serve to join the room", || {
            self.assert_alive();
            let (room, bot) = (room, &bot);
            async move {
                matches!(
                    room.get_member_no_sync(bot).await,
                    Ok(Some(m)) if *m.membership() == MembershipState::Join
                )
            }
        })
        .await;
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kilobytes from /proc/PID/status, such as `VmRSS`.
    fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- kotae serve's log\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_from_environment_variables_with_an_access_token() {
    init_logging();
    let synapse = tokio::task::block_in_place(Synapse::start);
    synapse.register("kotae", PASSWORD);
    synapse.register("tester", PASSWORD);
    let token = synapse.login("kotae", PASSWORD, "KOTAETOKEN");
    let tester = Member::login(&synapse, "tester").await;
    let state = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(
        &[
            ("KOTAE_MATRIX_HOMESERVER", synapse.url()),
            ("KOTAE_MATRIX_ACCESS_TOKEN", token.clone()),
            ("KOTAE_STATE_DIR", state.path().display().to_string()),
            ("KOTAE_LOG_LEVEL", "debug".into()),
        ],
        state.path().join("serve.log"),
    );
    let bot: OwnedUserId = Bot::id();
    let room = tester.create_room(&[&bot], true).await;
    serve.wait_joined(&room).await;
    let asked = tester.say(&room, WHEN_FOUNDED).await;
    let reply = tester.reply(&bot, &asked).await;
    assert_answers(
        &reply,
        &core_reply(WHEN_FOUNDED, LangChoice::Detect),
        &tester.id,
    );

    let log = serve.log();
    let status = tokio::task::block_in_place(|| serve.terminate());
    assert!(
        status.success(),
        "kotae serve exits cleanly on SIGTERM: {status:?}\n{log}"
    );
    assert!(!log.contains(&token), "the access token is never logged");
    let session = std::fs::read_to_string(state.path().join("matrix/session.json")).unwrap();
    assert!(
        session.contains("\"KOTAETOKEN\""),
        "the token's own device is used"
    );
}

/// The log without terminal colour codes.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

/// Milliseconds from a Debug-printed duration such as `1.2ms` or `850µs`.
fn millis(debug: &str) -> Option<f64> {
    let split = debug.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (value, unit) = debug.split_at(split);
    let value: f64 = value.parse().ok()?;
    Some(match unit {
        "ns" => value / 1e6,
        "µs" => value / 1e3,
        "ms" => value,
        "s" => value * 1e3,
        _ => return None,
    })
}

/// Question-to-reply latency over 50 questions in a direct room, then 50
/// in an encrypted one; the bot's own share of it (from its debug log:
/// message in hand to reply handed to matrix-sdk); `kotae serve`'s memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: cargo test --test matrix_lifecycle latency_report -- --ignored --nocapture"]
async fn latency_report() {
    init_logging();
    let synapse = tokio::task::block_in_place(Synapse::start);
    synapse.register("kotae", PASSWORD);
    synapse.register("tester", PASSWORD);
    let tester = Member::login(&synapse, "tester").await;
    let state = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(
        &[
            ("KOTAE_MATRIX_HOMESERVER", synapse.url()),
            ("KOTAE_MATRIX_USER", "kotae".into()),
            ("KOTAE_MATRIX_PASSWORD", PASSWORD.into()),
            ("KOTAE_MATRIX_RATE_PER_MINUTE", "0".into()),
            ("KOTAE_STATE_DIR", state.path().display().to_string()),
            ("KOTAE_LOG_LEVEL", "warn,kotae::matrix=debug".into()),
        ],
        state.path().join("serve.log"),
    );
    for encrypted in [false, true] {
        let room = tester.create_room(&[&Bot::id()], true).await;
        serve.wait_joined(&room).await;
        if encrypted {
            room.enable_encryption().await.expect("enable encryption");
        }
        // One unmeasured round trip warms up connections, caches and keys.
        let warm = tester.say(&room, WHEN_FOUNDED).await;
        tester.reply(&Bot::id(), &warm).await;
        let logged_before = handled_times(&serve.log()).len();
        let round_trips = fifty_round_trips(&tester, &room).await;
        let own = handled_times(&serve.log())[logged_before..].to_vec();
        let kind = if encrypted {
            "encrypted"
        } else {
            "unencrypted"
        };
        println!("{kind} room, question → reply: {}", summary(round_trips));
        println!("{kind} room, the bot's own share: {}", summary(own));
    }
    let rss = serve.memory_kb("VmRSS");
    let peak = serve.memory_kb("VmHWM");
    println!(
        "kotae serve memory: VmRSS {} MiB, peak VmHWM {} MiB",
        rss / 1024,
        peak / 1024
    );
}

async fn fifty_round_trips(tester: &Member, room: &matrix_sdk::Room) -> Vec<f64> {
    let questions = [
        WHEN_FOUNDED,
        WHO_ANNOUNCED[0].0,
        WHO_ANNOUNCED[1].0,
        WHO_ANNOUNCED[2].0,
    ];
    let mut round_trips = Vec::new();
    for i in 0..50 {
        let sent = Instant::now();
        let asked = tester.say(room, questions[i % questions.len()]).await;
        let reply = tester.reply(&Bot::id(), &asked).await;
        round_trips.push(reply.at.duration_since(sent).as_secs_f64() * 1e3);
    }
    round_trips
}

/// The `handled=` durations the bot logs per reply, in milliseconds.
fn handled_times(log: &str) -> Vec<f64> {
    strip_ansi(log)
        .lines()
        .filter_map(|l| l.split("handled=").nth(1)?.split_whitespace().next())
        .filter_map(millis)
        .collect()
}

fn summary(mut millis: Vec<f64>) -> String {
    millis.sort_by(f64::total_cmp);
    match (millis.get(millis.len() / 2), millis.last()) {
        (Some(median), Some(worst)) => {
            format!(
                "{} samples, median {median:.2} ms, worst {worst:.2} ms",
                millis.len()
            )
        }
        _ => "no samples".to_string(),
    }
}
