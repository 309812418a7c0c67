//! The Matrix adapter end to end: a real Synapse on 127.0.0.1 (see
//! `support/synapse.rs`), the real adapter logged in as `@kotae`, and
//! members asking through matrix-sdk clients. Each test has its own
//! homeserver. Assertions are on what members receive: the reply's text
//! and language, its fact and sources, and its relation to the question.
//!
//! The moderators' workflow runs on a copy of the knowledge directory that
//! the test edits as a moderator would: `!reload` and `!unanswered` (and
//! who may use them), live edits and broken ones reported in the
//! moderators' room, earlier answers corrected in place, and 👍/👎 on
//! answers recorded per fact.
//!
//! `latency_report` (ignored; run it with `--ignored --nocapture`) measures
//! question-to-reply time and the serve process's memory.

#![cfg(feature = "matrix")]
#![recursion_limit = "256"]

#[path = "support/knowledge.rs"]
mod knowledge;
#[path = "support/matrix_world.rs"]
mod matrix_world;
#[path = "support/synapse.rs"]
mod synapse;

use knowledge::{NEW_FACT, NEW_QUESTION, knowledge_copy, save};
use kotae::core::{Kotae, Lang, LangChoice, Reply, messages};
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{MessageType, Relation, RoomMessageEventContent};
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedUserId, UserId};
use matrix_world::{Bot, Member, PASSWORD, PATIENCE, Seen, World, eventually, init_logging};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use synapse::Synapse;

const WHO_ANNOUNCED: [(&str, Lang); 3] = [
    ("Who announced the closure of the Japan Centers?", Lang::En),
    ("日本センターの閉鎖を発表したのは誰?", Lang::Ja),
    ("谁宣布关闭日本中心的?", Lang::Zh),
];
const WHEN_FOUNDED: &str = "When were the Japan Centers established?";

fn core_reply(question: &str, choice: LangChoice) -> Reply {
    let base = kotae::cli::load_base(None).expect("built-in fact base");
    Kotae::new(base).ask(question, choice).expect("a question")
}

/// The reply is the bot's notice answering `question` from `asker` exactly
/// as the core answers it, with linked sources, pinging only the asker.
fn assert_answers(reply: &Seen, expected: &Reply, asker: &UserId) {
    assert_eq!(reply.event.sender, Bot::id());
    assert!(
        matches!(reply.event.content.msgtype, MessageType::Notice(_)),
        "a notice"
    );
    assert_eq!(reply.body(), expected.to_text());
    let html = reply.html().expect("an HTML body");
    let answer = expected.answer().expect("an answer");
    assert!(html.contains(&*html_escape::encode_text(&answer.text)));
    for source in &answer.sources {
        if let Some(url) = &source.url {
            let href = format!(
                "href=\"{}\"",
                html_escape::encode_double_quoted_attribute(url)
            );
            assert!(html.contains(&href), "{html} links {url}");
        }
    }
    assert_mentions_only(reply, asker);
}

/// `m.mentions` names the asker and no one else, and not the room.
fn assert_mentions_only(reply: &Seen, asker: &UserId) {
    let mentions = reply
        .event
        .content
        .mentions
        .as_ref()
        .expect("intentional mentions");
    assert_eq!(
        mentions.user_ids.iter().collect::<Vec<_>>(),
        [asker],
        "{reply:#?}"
    );
    assert!(!mentions.room, "never @room");
}

/// The tag names in an HTML body.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|t| {
            t.trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_questions_in_japanese_chinese_and_english() {
    let world = World::started().await;
    let room = world.group_room().await;
    for (question, lang) in WHO_ANNOUNCED {
        let asked = world.tester.say(&room, &format!("!ask {question}")).await;
        let reply = world.tester.reply(&world.bot_id, &asked).await;
        let expected = core_reply(question, LangChoice::Detect);
        assert_eq!(expected.lang, lang);
        assert_eq!(expected.answer().unwrap().fact_id, "closure-announcement");
        assert_answers(&reply, &expected, &world.tester.id);
        assert!(matches!(
            reply.event.content.relates_to,
            Some(Relation::Reply(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_mentions_and_direct_messages_but_not_chatter_or_itself() {
    let world = World::started().await;
    let room = world.group_room().await;
    let chatter = world
        .tester
        .say(&room, "When were the Japan Centers established? I forget.")
        .await;
    let by_name = world
        .carol
        .say(&room, &format!("kotae: {WHEN_FOUNDED}"))
        .await;
    let reply = world.carol.reply(&world.bot_id, &by_name).await;
    assert_answers(
        &reply,
        &core_reply(WHEN_FOUNDED, LangChoice::Detect),
        &world.carol.id,
    );

    let pill = RoomMessageEventContent::text_html(
        format!("kotae {WHEN_FOUNDED}"),
        format!(
            r#"<a href="https://matrix.to/#/{}">kotae</a> {WHEN_FOUNDED}"#,
            world.bot_id
        ),
    )
    .add_mentions(Mentions::with_user_ids([world.bot_id.clone()]));
    let by_pill = world.tester.send(&room, pill).await;
    let reply = world.tester.reply(&world.bot_id, &by_pill).await;
    assert_answers(
        &reply,
        &core_reply(WHEN_FOUNDED, LangChoice::Detect),
        &world.tester.id,
    );
    // The bot answers in timeline order, so had it answered the chatter,
    // that reply would have come first.
    assert!(world.tester.replies(&world.bot_id, &chatter).is_empty());

    let direct = world.direct_room().await;
    let mut asked = Vec::new();
    for question in ["日本センターとは何ですか?", WHEN_FOUNDED] {
        let id = world.tester.say(&direct, question).await;
        let reply = world.tester.reply(&world.bot_id, &id).await;
        assert_answers(
            &reply,
            &core_reply(question, LangChoice::Detect),
            &world.tester.id,
        );
        asked.push(id);
    }
    // Its own first answer came before the second question; an answer to
    // it would have come before the second answer.
    let from_bot = world
        .tester
        .messages(|m| m.room == direct.room_id() && m.event.sender == world.bot_id);
    assert_eq!(from_bot.len(), 2, "one reply per question, none to itself");
    assert!(
        from_bot
            .iter()
            .all(|m| asked.iter().any(|q| m.in_reply_to() == Some(q)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_a_question_in_its_thread() {
    let world = World::started().await;
    let room = world.group_room().await;
    let root = world
        .tester
        .say(&room, "Questions about the closure, in here")
        .await;
    let question = RoomMessageEventContent::text_plain(format!("!ask {}", WHO_ANNOUNCED[0].0))
        .make_for_thread_root(&root);
    let asked = world.tester.send(&room, question).await;
    let reply = world.tester.reply(&world.bot_id, &asked).await;
    let Some(Relation::Thread(thread)) = &reply.event.content.relates_to else {
        panic!(
            "a reply in the thread, got {:?}",
            reply.event.content.relates_to
        );
    };
    assert_eq!(thread.event_id, root);
    assert_eq!(
        thread.in_reply_to.as_ref().map(|r| &r.event_id),
        Some(&asked)
    );
    assert!(
        !thread.is_falling_back,
        "a real reply to the question, not a thread fallback"
    );
    assert_answers(
        &reply,
        &core_reply(WHO_ANNOUNCED[0].0, LangChoice::Detect),
        &world.tester.id,
    );
}

/// A plain in-thread message, as clients send it.
trait InThread {
    fn make_for_thread_root(self, root: &matrix_sdk::ruma::EventId) -> RoomMessageEventContent;
}

impl InThread for RoomMessageEventContent {
    fn make_for_thread_root(mut self, root: &matrix_sdk::ruma::EventId) -> RoomMessageEventContent {
        self.relates_to = Some(Relation::Thread(Thread::plain(
            root.to_owned(),
            root.to_owned(),
        )));
        self
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_in_an_encrypted_room() {
    let world = World::started().await;
    let room = world.direct_room().await;
    room.enable_encryption().await.expect("enable encryption");
    let (question, _) = WHO_ANNOUNCED[1];
    let asked = world.tester.say(&room, question).await;
    let reply = world.tester.reply(&world.bot_id, &asked).await;
    assert!(reply.encrypted, "the reply was sent encrypted");
    assert_answers(
        &reply,
        &core_reply(question, LangChoice::Detect),
        &world.tester.id,
    );
    let mine = world.tester.messages(|m| m.event.event_id == asked);
    assert!(mine[0].encrypted, "the question was sent encrypted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_invites_from_allowed_users_and_declines_others() {
    let mut world = World::new().await;
    // One homeserver has one server name, so a user list stands in for
    // "another server": Carol is as foreign as @mallory:evil.example.
    world.bot.config.allow_invites_from = vec![world.tester.id.to_string()];
    world.bot.start();
    let allowed = world.tester.create_room(&[&world.bot_id], false).await;
    world
        .tester
        .wait_membership(&allowed, &world.bot_id, MembershipState::Join)
        .await;
    let refused = world.carol.create_room(&[&world.bot_id], false).await;
    world
        .carol
        .wait_membership(&refused, &world.bot_id, MembershipState::Leave)
        .await;
    // And the joined room works.
    let asked = world
        .tester
        .say(&allowed, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    world.tester.reply(&world.bot_id, &asked).await;
}

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
    assert_eq!(
        world.tester.reply(&world.bot_id, &lang).await.body(),
        "lang: ja"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_and_room_pings_in_questions_stay_inert() {
    let world = World::started().await;
    let room = world.group_room().await;
    let attack = r#"<a href="https://evil.example/x">click</a> <img src=x onerror=alert(1)> @room"#;
    let asked = world
        .tester
        .send(
            &room,
            RoomMessageEventContent::text_html(
                format!("!ask {attack} {WHEN_FOUNDED}"),
                format!("!ask {attack} {WHEN_FOUNDED}"),
            ),
        )
        .await;
    let probe = world.tester.say(&room, &format!("!sources {attack}")).await;
    for id in [&asked, &probe] {
        let reply = world.tester.reply(&world.bot_id, id).await;
        let html = reply.html().expect("an HTML body");
        for tag in tags(html) {
            assert!(
                ["p", "em", "ol", "ul", "li", "a", "code", "br"].contains(&tag.as_str()),
                "<{tag}> in {html}"
            );
        }
        for text in [html, reply.body()] {
            assert!(
                !text.contains("evil.example") && !text.contains("onerror"),
                "{text}"
            );
        }
        assert!(
            !reply.body().contains("@room") && !html.contains("@room"),
            "no @room ping"
        );
        assert_mentions_only(&reply, &world.tester.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_topics_sources_lang_and_help() {
    let world = World::started().await;
    let room = world.group_room().await;
    let snapshot = world.bot.kotae.snapshot();
    let ask = |text: &'static str| {
        let (tester, bot, room) = (&world.tester, &world.bot_id, &room);
        async move {
            let id = tester.say(room, text).await;
            tester.reply(bot, &id).await
        }
    };

    let topics = ask("!topics ja").await;
    assert!(topics.body().starts_with(messages::get(Lang::Ja).topics));
    for fact in snapshot.base.facts() {
        assert!(
            topics.body().contains(&fact.id),
            "!topics lists {}",
            fact.id
        );
    }

    let sources = ask("!sources founding").await;
    let fact = snapshot.base.fact("founding").expect("the founding fact");
    for source in snapshot.base.sources_of(fact) {
        assert!(
            sources
                .body()
                .contains(&kotae::core::reply::source_label(source))
        );
    }
    assert!(
        ask("!sources no-such-fact")
            .await
            .body()
            .starts_with(messages::get(Lang::En).unknown_fact)
    );

    assert_eq!(ask("!lang zh").await.body(), "lang: zh");
    let (question, _) = WHO_ANNOUNCED[0];
    let id = world.tester.say(&room, &format!("!ask {question}")).await;
    let reply = world.tester.reply(&world.bot_id, &id).await;
    assert_answers(
        &reply,
        &core_reply(question, LangChoice::Explicit(Lang::Zh)),
        &world.tester.id,
    );
    assert!(
        ask("!help")
            .await
            .body()
            .starts_with(messages::get(Lang::Zh).help)
    );
    assert_eq!(ask("!lang auto").await.body(), "lang: auto");
    assert!(
        ask("!help")
            .await
            .body()
            .starts_with(messages::get(Lang::En).help)
    );

    // A decline offers suggestions and lands in the moderators' queue,
    // with the asker only as a salted hash.
    let declined = ask("!ask How tall is Tokyo Tower?").await;
    assert!(declined.body().starts_with(messages::get(Lang::En).decline));
    let records = kotae::records::unanswered::read(&world.bot.state_dir).expect("readable");
    let record = records.last().expect("the decline was recorded");
    assert_eq!(record.question, "How tall is Tokyo Tower?");
    assert_eq!(record.platform, "matrix");
    let asker = record.asker.as_deref().expect("a hashed asker");
    assert!(!asker.contains(world.tester.id.localpart()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_cannot_flood_the_bot() {
    let mut world = World::new().await;
    world.bot.config.rate_per_minute = 1;
    world.bot.config.rate_burst = 2;
    world.bot.start();
    let room = world.group_room().await;
    let mut asked = Vec::new();
    for _ in 0..3 {
        asked.push(
            world
                .tester
                .say(&room, &format!("!ask {WHEN_FOUNDED}"))
                .await,
        );
    }
    world.tester.reply(&world.bot_id, &asked[0]).await;
    world.tester.reply(&world.bot_id, &asked[1]).await;
    // Carol is not limited; her answer comes after the bot has seen (and
    // dropped) the tester's third question.
    let carol = world
        .carol
        .say(&room, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    world.carol.reply(&world.bot_id, &carol).await;
    assert!(
        world.tester.replies(&world.bot_id, &asked[2]).is_empty(),
        "over the limit: quiet"
    );
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
#[ignore = "a measurement, not a check: cargo test --test matrix latency_report -- --ignored --nocapture"]
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

const LOCATIONS: &str = "Which cities had a Japan Center?";

/// Rewrites the first `from` after `id = "FACT"` in a fact file.
fn edit_fact(path: &std::path::Path, fact: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let at = text.find(&format!("id = \"{fact}\"")).expect("the fact");
    let start = at + text[at..].find(from).expect("the text to change");
    let edited = format!("{}{to}{}", &text[..start], &text[start + from.len()..]);
    save(path, &edited);
}

/// `!reload` and `!unanswered`: refused to a member without rank, in the
/// language they ask in, and with nothing reloaded; run for a member at
/// power level 50 in the room, and for a user listed in `moderators` in a
/// room where they hold no rank. A reload's report also reaches the
/// moderators' room, named by alias.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderator_commands_are_for_moderators_only() {
    let knowledge = knowledge_copy();
    let mut world = World::new().await;
    world.bot.use_knowledge(knowledge.path());
    world.bot.config.moderators = vec![world.tester.id.clone()];
    // The bot is invited before it first runs; it joins on start.
    let mods = world
        .tester
        .create_room_named(&[&world.bot_id], false, Some("kotae-mods"))
        .await;
    let alias: OwnedRoomOrAliasId = "#kotae-mods:localhost".try_into().unwrap();
    world.bot.config.moderators_room = Some(alias);
    world.bot.start();
    world
        .tester
        .wait_membership(&mods, &world.bot_id, MembershipState::Join)
        .await;
    let room = world.group_room().await;
    let (bot, carol, room) = (&world.bot_id, &world.carol, &room);
    let ask = |text: String| async move {
        let id = carol.say(room, &text).await;
        carol.reply(bot, &id).await
    };

    // Carol, at power level 0, asks something no fact covers, in Japanese.
    let declined = ask("!ask 東京タワーの高さは?".into()).await;
    assert!(declined.body().starts_with(messages::get(Lang::Ja).decline));
    // A moderator adds a fact on disk; nothing watches the directory, so
    // only a `!reload` can bring it in.
    save(&knowledge.path().join("facts/new.toml"), NEW_FACT);
    let revision = world.bot.kotae.snapshot().base.revision().to_string();
    for command in ["!reload", "!unanswered"] {
        let refused = ask(command.into()).await;
        assert_eq!(
            refused.body(),
            messages::get(Lang::Ja).not_moderator,
            "{command} is refused in the language Carol asks in"
        );
    }
    assert_eq!(
        world.bot.kotae.snapshot().base.revision(),
        revision,
        "a refused !reload reloads nothing"
    );
    let not_yet = ask(format!("!ask {NEW_QUESTION}")).await;
    assert!(not_yet.body().starts_with(messages::get(Lang::En).decline));

    // Power level 50 in this room makes Carol a moderator here.
    world.tester.set_power_level(room, &carol.id, 50).await;
    let reloaded = ask("!reload".into()).await;
    assert!(
        reloaded.body().contains("added test-new-fact"),
        "{}",
        reloaded.body()
    );
    assert!(reloaded.html().is_some_and(|h| h.starts_with("<pre>")));
    assert_ne!(world.bot.kotae.snapshot().base.revision(), revision);
    let answered = ask(format!("!ask {NEW_QUESTION}")).await;
    assert!(
        answered.body().starts_with("A test answer."),
        "{}",
        answered.body()
    );
    let report = world
        .tester
        .message_in(
            &mods,
            bot,
            "the reload report in the moderators' room",
            |m| m.body().contains("added test-new-fact"),
        )
        .await;
    assert_pings_no_one(&report);

    // The tester is listed in `moderators`: a moderator even in Carol's
    // room, where Carol created it and the tester has power level 0.
    let carols = carol.create_room(&[bot, &world.tester.id], false).await;
    world.tester.join(&carols.room_id().to_owned()).await;
    carol
        .wait_membership(&carols, bot, MembershipState::Join)
        .await;
    carol
        .wait_membership(&carols, &world.tester.id, MembershipState::Join)
        .await;
    let asked = world.tester.say(&carols, "!unanswered").await;
    let digest = world.tester.reply(bot, &asked).await;
    assert!(
        digest.body().contains("東京タワーの高さは?"),
        "{}",
        digest.body()
    );
}

/// `m.mentions` is present and empty: nobody is pinged, whatever the text.
fn assert_pings_no_one(message: &Seen) {
    let mentions = message
        .event
        .content
        .mentions
        .as_ref()
        .expect("intentional mentions");
    assert!(
        mentions.user_ids.is_empty() && !mentions.room,
        "{message:#?}"
    );
}

/// The live side of the moderators' workflow: 👎 on an answer is recorded
/// with its fact; a fact added on disk is answered without a restart; a
/// broken edit keeps the old answers flowing and its error, with its line,
/// reaches the moderators' room; a changed answer is edited into the
/// earlier reply with the "corrected" note, and a retracted one is
/// withdrawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_edits_reach_members_and_moderators() {
    let knowledge = knowledge_copy();
    let mut world = World::new().await;
    world.bot.use_knowledge(knowledge.path());
    let mods = world.tester.create_room(&[&world.bot_id], false).await;
    world.bot.config.moderators_room = Some(mods.room_id().to_owned().into());
    world.bot.start();
    world.bot.watch_knowledge();
    world
        .tester
        .wait_membership(&mods, &world.bot_id, MembershipState::Join)
        .await;
    let room = world.group_room().await;
    let (bot, tester, room) = (&world.bot_id, &world.tester, &room);
    let ask = |text: String| async move {
        let id = tester.say(room, &text).await;
        (id.clone(), tester.reply(bot, &id).await)
    };
    let mods = &mods;
    let report = |what: &'static str, check: fn(&str) -> bool| {
        tester.message_in(mods, bot, what, move |m| check(m.body()))
    };

    // An answer, and votes on it and around it.
    let (question, answer) = ask(format!("!ask {LOCATIONS}")).await;
    let locations = world
        .bot
        .kotae
        .snapshot()
        .answer("locations", Lang::En)
        .unwrap();
    assert!(answer.body().starts_with(&locations.text));
    world.carol.react(room, &answer.event.event_id, "🎉").await;
    tester.react(room, &question, "👎").await;
    world.carol.react(room, &answer.event.event_id, "👎").await;
    let state_dir = world.bot.state_dir.clone();
    eventually("the 👎 to be recorded", || {
        let summary = kotae::records::feedback::summary(&state_dir).unwrap();
        std::future::ready(!summary.is_empty())
    })
    .await;
    // The other two came first, so they were seen and ignored.
    let summary = kotae::records::feedback::summary(&state_dir).unwrap();
    assert_eq!(
        summary.into_iter().collect::<Vec<_>>(),
        [("locations".to_string(), (0, 1))]
    );

    // A new fact, live.
    let new_file = knowledge.path().join("facts/new.toml");
    let saved = Instant::now();
    save(&new_file, NEW_FACT);
    let kotae = world.bot.kotae.clone();
    eventually("the new fact to be loaded", || {
        std::future::ready(kotae.snapshot().base.fact("test-new-fact").is_some())
    })
    .await;
    let live = saved.elapsed();
    let (_, new) = ask(format!("!ask {NEW_QUESTION}")).await;
    assert!(new.body().starts_with("A test answer."), "{}", new.body());
    println!(
        "a fact added on disk was live {live:?} after the save; asked then, it was answered {:?} after the save",
        new.at.duration_since(saved)
    );
    report("the report of the new fact", |b| {
        b.contains("added test-new-fact")
    })
    .await;

    // A syntax error, then an unknown source: each rejected, reported with
    // its line and column, and the answers before it still given.
    save(
        &new_file,
        &NEW_FACT.replace("status = \"confirmed\"", "status = \"confirmed"),
    );
    let rejected = report("the syntax error's report", |b| {
        b.contains("reload rejected")
            && b.contains("facts/new.toml:5:20: error: invalid basic string")
    })
    .await;
    assert_pings_no_one(&rejected);
    let (_, still) = ask(format!("!ask {NEW_QUESTION}")).await;
    assert!(still.body().starts_with("A test answer."));
    save(
        &new_file,
        &NEW_FACT.replace("asahi-2025-01-19", "no-such-source"),
    );
    report("the unknown source's report", |b| {
        b.contains("facts/new.toml:4:12: error: unknown source id \"no-such-source\"")
    })
    .await;
    let (_, still) = ask(format!("!ask {LOCATIONS}")).await;
    assert!(still.body().starts_with(&locations.text));
    save(&new_file, NEW_FACT);

    // The moderators correct the answer: the earlier reply is edited.
    let centers = knowledge.path().join("facts/centers.toml");
    edit_fact(
        &centers,
        "locations",
        "answer.en = \"",
        "answer.en = \"Corrected for the test. ",
    );
    let corrected = tester
        .edit_of(bot, &answer.event.event_id, |m| {
            m.new_body()
                .is_some_and(|b| b.starts_with("Corrected for the test."))
        })
        .await;
    let new_body = corrected.new_body().unwrap();
    assert!(
        new_body.ends_with(messages::get(Lang::En).corrected),
        "{new_body}"
    );
    assert!(new_body.contains(&locations.text), "the rest of the answer");
    assert!(corrected.body().starts_with("* Corrected for the test."));
    assert_pings_no_one(&corrected);

    // Then retract it: the reply now says it was withdrawn.
    edit_fact(
        &centers,
        "locations",
        "status = \"confirmed\"",
        "status = \"retracted\"",
    );
    let withdrawn = tester
        .edit_of(bot, &answer.event.event_id, |m| {
            m.new_body() == Some(messages::get(Lang::En).withdrawn)
        })
        .await;
    assert_pings_no_one(&withdrawn);
    let edits = tester.messages(|m| m.replaces() == Some(&*answer.event.event_id));
    assert_eq!(edits.len(), 2, "one edit per change: {edits:#?}");
}
