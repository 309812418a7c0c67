//! End to end tests of the Discord adapter: the real serenity/poise client,
//! started by `kotae::discord::run`, against the in-process Discord API
//! double in `tests/discord_double` (REST and a `ws://` gateway on
//! 127.0.0.1). Every assertion is on a payload the bot really sent.
//!
//! The moderators' workflow runs on an editable copy of the shipped
//! knowledge directory, watched as `kotae serve` watches it.
//!
//! `cargo test --test discord`; the latency and memory figures (100
//! `/ask`s in process; `kotae serve` under a burst of 1,000):
//! `cargo test --release --test discord -- --ignored --nocapture`.

#![cfg(feature = "discord")]

mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_double::*;
use knowledge::{NEW_FACT, NEW_QUESTION};
use kotae::config::Secret;
use kotae::core::load::{KnowledgeFiles, load, load_embedded};
use kotae::core::{FactBase, Kotae, Lang, LangChoice, Outcome, Reply, messages};
use kotae::discord::{DiscordConfig, render};
use kotae::serve::{AdapterStatus, Context};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const MEMBER: u64 = 1_200_000_000_000_000_001;
const OTHER_MEMBER: u64 = 1_200_000_000_000_000_002;
const EPHEMERAL: u64 = 64;

/// The adapter under test, running as `kotae serve` runs it.
struct Bot {
    core: Arc<Kotae>,
    status: Arc<AdapterStatus>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// The bot's state directory (records of declined questions).
    state: tempfile::TempDir,
    ctx: Context,
    /// The editable knowledge directory, when the bot serves one.
    knowledge: Option<tempfile::TempDir>,
    /// The knowledge directory's watch, as `kotae serve` keeps it.
    _watch: Option<kotae::reload::Watch>,
}

fn config(double: &Double) -> DiscordConfig {
    DiscordConfig {
        token: Secret::from(TOKEN),
        guild_id: None,
        message_content: false,
        rate_per_minute: 0,
        rate_burst: 0,
        moderator_role: None,
        moderators_channel: None,
        api_url: Some(double.rest_url.clone()),
    }
}

fn embedded() -> FactBase {
    load_embedded().expect("the embedded base loads").base
}

async fn start(double: &Double, config: DiscordConfig) -> Bot {
    start_with(double, config, embedded()).await
}

/// Where the bot under test gets its facts.
enum Facts {
    /// A fixed base.
    Base(FactBase),
    /// A copy of the shipped knowledge directory, which the test edits;
    /// watched (reloaded on save, as `kotae serve` does) or not.
    Editable { watched: bool },
}

/// Starts the adapter and waits until it is logged in and has registered
/// its commands.
async fn start_with(double: &Double, config: DiscordConfig, base: FactBase) -> Bot {
    start_serving(double, config, Facts::Base(base)).await
}

/// Starts the adapter on an editable copy of the knowledge directory.
async fn start_editable(double: &Double, config: DiscordConfig, watched: bool) -> Bot {
    start_serving(double, config, Facts::Editable { watched }).await
}

async fn start_serving(double: &Double, config: DiscordConfig, facts: Facts) -> Bot {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (base, knowledge, watched) = match facts {
        Facts::Base(base) => (base, None, false),
        Facts::Editable { watched } => {
            let dir = knowledge::knowledge_copy();
            let base = kotae::core::load::load_dir(dir.path())
                .expect("the shipped knowledge loads")
                .base;
            (base, Some(dir), watched)
        }
    };
    let core = Arc::new(Kotae::new(base));
    let (stop, shutdown) = watch::channel(false);
    let status = Arc::new(AdapterStatus::default());
    let state = tempfile::tempdir().expect("a state directory");
    let ctx = Context::new(core.clone(), state.path().to_path_buf(), shutdown)
        .expect("records open")
        .with_status(status.clone())
        .with_knowledge_dir(knowledge.as_ref().map(|d| d.path().to_path_buf()));
    let watch = if watched {
        ctx.watch_knowledge()
            .expect("the knowledge directory is watched")
    } else {
        None
    };
    let task = tokio::spawn(kotae::discord::run(config, ctx.clone()));
    double.wait_live().await;
    double
        .wait_request("the commands' registration", |r| {
            r.method == "PUT" && r.route.ends_with("/commands")
        })
        .await;
    Bot {
        core,
        status,
        stop,
        task,
        state,
        ctx,
        knowledge,
        _watch: watch,
    }
}

fn ask_options(question: &str) -> Value {
    json!([option("question", question, false)])
}

fn embeds(message: &Value) -> Vec<Value> {
    message["embeds"].as_array().cloned().unwrap_or_default()
}

fn description(message: &Value) -> String {
    embeds(message)[0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The sources field(s) of an embed, joined.
fn sources_text(embed: &Value, lang: Lang) -> String {
    let name = messages::get(lang).sources;
    embed["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn expected(bot: &Bot, question: &str, choice: LangChoice) -> Reply {
    bot.core.ask(question, choice).expect("a question")
}

/// Checks an answer callback against the core's reply to the same question.
fn assert_answer(callback: &Value, reply: &Reply) {
    let Outcome::Answer(answer) = &reply.outcome else {
        panic!("the core should answer {:?}", reply.question)
    };
    assert_eq!(callback["type"], 4, "a message response");
    let data = &callback["data"];
    assert_ne!(data["flags"].as_u64().unwrap_or(0) & EPHEMERAL, EPHEMERAL);
    let embed = &embeds(data)[0];
    assert_eq!(embed["title"], reply.question);
    assert_eq!(embed["description"], answer.text.as_str());
    let footer = embed["footer"]["text"].as_str().unwrap();
    assert!(footer.starts_with(&answer.fact_id), "{footer}");
    let sources = sources_text(embed, reply.lang);
    for (i, s) in answer.sources.iter().enumerate() {
        let line = format!("{}. ", i + 1);
        assert!(sources.contains(&line), "{sources}");
        if let Some(url) = &s.url {
            assert!(sources.contains(&format!("]({url})")), "{sources}");
        }
    }
}

/// Every message the bot sent, whatever the route.
fn sent_messages(double: &Double) -> Vec<(String, Value)> {
    double
        .requests()
        .into_iter()
        .filter_map(|r| {
            let message = if r.route.ends_with("/callback") && r.body["type"] == 4 {
                r.body["data"].clone()
            } else if (r.method == "POST" || r.method == "PATCH")
                && (r.route.starts_with("/webhooks/") || r.route.starts_with("/channels/"))
            {
                r.body.clone()
            } else {
                return None;
            };
            Some((format!("{} {}", r.method, r.route), message))
        })
        .collect()
}

fn assert_no_pings(double: &Double) {
    let sent = sent_messages(double);
    assert!(!sent.is_empty());
    let none = json!({"parse": [], "users": [], "roles": [], "replied_user": false});
    for (route, message) in sent {
        assert_eq!(message["allowed_mentions"], none, "{route}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_localised_commands_in_the_configured_guild() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.guild_id = Some(GUILD_ID);
    let bot = start(&double, c).await;
    let put = double
        .wait_request("the guild PUT", |r| r.method == "PUT")
        .await;
    assert_eq!(
        put.route,
        format!("/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    );
    let commands = put.body.as_array().unwrap();
    let names: Vec<&str> = commands
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ask", "topics", "sources", "about", "reload", "unanswered"]
    );
    for c in commands {
        for key in ["name_localizations", "description_localizations"] {
            for locale in ["ja", "zh-CN", "zh-TW"] {
                assert!(c[key][locale].is_string(), "{} {key} {locale}", c["name"]);
            }
        }
    }
    assert_eq!(commands[0]["name_localizations"]["ja"], "質問");
    assert_eq!(commands[0]["options"][0]["autocomplete"], true);
    assert_eq!(
        commands[0]["options"][0]["name_localizations"]["zh-CN"],
        "问题"
    );
    assert_eq!(commands[2]["options"][0]["autocomplete"], true);

    // Every REST call carried the token; owners were not looked up.
    let requests = double.requests();
    assert!(requests.iter().all(|r| r.authorized));
    assert!(!requests.iter().any(|r| r.route.contains("oauth2")));
    // Autosharded: the shard count came from /gateway/bot.
    assert!(requests.iter().any(|r| r.route == "/gateway/bot"));
    let identify = &double.frames(2)[0];
    assert_eq!(identify.d["shard"], json!([0, 1]));
    assert_eq!(
        identify.d["intents"],
        1 << 10 | 1 << 13,
        "only guild and direct message reactions (for 👍/👎): slash commands need no intents"
    );
    assert!(double.log(|l| l.connections[0].contains("v=10")));
    let connected = || bot.status.snapshot() == vec![("discord", true)];
    let deadline = Instant::now() + PATIENCE;
    while !connected() {
        assert!(Instant::now() < deadline, "never reported connected");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosharding_opens_as_many_shards_as_discord_recommends() {
    let double = Double::start(2).await;
    let _bot = start(&double, config(&double)).await;
    let shards = double
        .wait("two IDENTIFYs", |l| {
            let identifies: Vec<Value> = l
                .frames
                .iter()
                .filter(|f| f.op == 2)
                .map(|f| f.d["shard"].clone())
                .collect();
            (identifies.len() == 2).then_some(identifies)
        })
        .await;
    assert_eq!(shards, [json!([0, 2]), json!([1, 2])]);
    let puts = double
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1, "commands are registered once, not per shard");
    // Whichever shard an interaction arrives on, it is answered.
    double.wait_new_session(1).await;
    let id = double.command("about", json!([]), "en-US", MEMBER);
    assert_eq!(
        description(&double.callback(&id).await["data"]),
        messages::get(Lang::En).help
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_globally_without_a_guild() {
    let double = Double::start(1).await;
    let _bot = start(&double, config(&double)).await;
    let put = double.wait_request("the PUT", |r| r.method == "PUT").await;
    assert_eq!(put.route, format!("/applications/{APP_ID}/commands"));
    assert_eq!(put.body.as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_in_each_language_with_the_fact_and_its_sources() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let cases = [
        ("日本センターはいつ閉鎖されましたか?", "ja", Lang::Ja),
        ("日本中心是什么时候关闭的?", "zh-CN", Lang::Zh),
        ("When did the Japan Centers close?", "en-US", Lang::En),
        // The question's language wins over the member's locale.
        ("When did the Japan Centers close?", "ja", Lang::En),
    ];
    for (question, locale, lang) in cases {
        let id = double.command("ask", ask_options(question), locale, MEMBER);
        let callback = double.callback(&id).await;
        let reply = expected(&bot, question, LangChoice::Detect);
        assert_eq!(reply.lang, lang, "{question}");
        assert_answer(&callback, &reply);
    }
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_questions_follow_the_locale_and_lang_overrides_both() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let question = "閉鎖理由"; // short and Han-only: Japanese or Chinese
    let cases = [
        (ask_options(question), "ja", Lang::Ja),
        (ask_options(question), "zh-CN", Lang::Zh),
        (
            json!([
                option("question", question, false),
                option("lang", 2, false)
            ]),
            "ja",
            Lang::En,
        ),
    ];
    for (options, locale, lang) in cases {
        let id = double.command("ask", options, locale, MEMBER);
        let callback = double.callback(&id).await;
        let reply = expected(&bot, question, LangChoice::Explicit(lang));
        let rendered = render::reply(&reply);
        assert_eq!(
            description(&callback["data"]),
            rendered[0][0].description.clone().unwrap(),
            "{locale} → {lang}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_suggests_known_questions_and_facts_without_rate_limit() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    (c.rate_per_minute, c.rate_burst) = (1, 1);
    let bot = start(&double, c).await;
    let base = bot.core.snapshot();
    let known: Vec<&String> = base
        .base
        .facts()
        .iter()
        .flat_map(|f| Lang::ALL.map(|l| f.questions.get(l)))
        .flatten()
        .collect();
    for typed in ["whn clos", "閉鎖", "关闭", "when", "w", "wh", "whe"] {
        let options = json!([option("question", typed, true)]);
        let id = double.autocomplete("ask", options, "en-US", MEMBER);
        let callback = double.callback(&id).await;
        assert_eq!(callback["type"], 8, "an autocomplete result");
        let choices = callback["data"]["choices"].as_array().unwrap();
        assert!(!choices.is_empty() && choices.len() <= 25, "{typed}");
        for choice in choices {
            let value = choice["value"].as_str().unwrap();
            assert!(known.iter().any(|q| q.as_str() == value), "{value}");
            assert!(choice["name"].as_str().unwrap().chars().count() <= 100);
        }
    }
    let fact = &base.base.facts()[2];
    let options = json!([option("fact", &fact.id[..fact.id.len() - 1], true)]);
    let id = double.autocomplete("sources", options, "ja", MEMBER);
    let callback = double.callback(&id).await;
    assert_eq!(callback["data"]["choices"][0]["value"], fact.id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_is_ephemeral_and_offers_up_to_three_questions() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let question = "What is the airspeed velocity of an unladen swallow?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let Outcome::Decline { suggestions } = &reply.outcome else {
        panic!("the core should decline")
    };
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    let data = double.callback(&id).await["data"].clone();
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let text = description(&data);
    assert!(text.starts_with(messages::get(Lang::En).decline));
    let offered = text.matches("\n• ").count();
    assert!((1..=3).contains(&offered));
    assert_eq!(offered, suggestions.len().min(3));
    for s in suggestions.iter().take(3) {
        assert!(text.contains(&s.question));
    }
    // The decline is in the moderators' queue, the asker only as a hash.
    let records = kotae::records::unanswered::read(bot.state.path()).expect("readable");
    let record = records.last().expect("the decline was recorded");
    assert_eq!(
        (record.question.as_str(), record.platform.as_str()),
        (question, "discord")
    );
    assert!(
        record
            .asker
            .as_deref()
            .is_some_and(|a| !a.contains(&MEMBER.to_string()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_sources_and_about() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let snapshot = bot.core.snapshot();

    let id = double.command("topics", json!([]), "zh-CN", MEMBER);
    let data = double.callback(&id).await["data"].clone();
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert_eq!(embeds(&data)[0]["title"], messages::get(Lang::Zh).topics);
    let first = &snapshot.base.facts()[0];
    assert!(description(&data).contains(&first.questions.zh[0]));

    let fact = &snapshot.base.facts()[1];
    let id = double.command(
        "sources",
        json!([option("fact", fact.id.as_str(), false)]),
        "ja",
        MEMBER,
    );
    let data = double.callback(&id).await["data"].clone();
    let embed = &embeds(&data)[0];
    assert_eq!(embed["title"], fact.questions.ja[0].as_str());
    let listed = sources_text(embed, Lang::Ja);
    for s in snapshot.base.sources_of(fact) {
        assert!(
            listed.contains(&s.publisher.replace('[', "\\[")),
            "{listed}"
        );
    }

    let id = double.command(
        "sources",
        json!([option("fact", "no-such-fact", false)]),
        "en-US",
        MEMBER,
    );
    let data = double.callback(&id).await["data"].clone();
    assert_eq!(data["content"], messages::get(Lang::En).unknown_fact);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);

    let id = double.command("about", json!([]), "en-US", MEMBER);
    let data = double.callback(&id).await["data"].clone();
    assert_eq!(description(&data), messages::get(Lang::En).help);
    let facts = snapshot.base.facts().len().to_string();
    assert!(
        embeds(&data)[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == facts.as_str())
    );
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_that_mention_or_reply_to_the_bot_are_answered() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.message_content = true;
    let bot = start(&double, c).await;
    let intents = double.frames(2)[0].d["intents"].as_u64().unwrap();
    assert_eq!(
        intents,
        1 << 9 | 1 << 10 | 1 << 12 | 1 << 13 | 1 << 15,
        "guild and direct messages, their content, and reactions"
    );

    let question = "When did the Japan Centers close?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let answer = reply.answer().unwrap().text.clone();
    let replies_to = |id: String| {
        move |r: &Request| {
            r.route == format!("/channels/{CHANNEL_ID}/messages")
                && r.body["message_reference"]["message_id"] == id.as_str()
        }
    };

    let ignored = double.message(MEMBER, question, vec![], None);
    let mention = format!("<@{BOT_ID}> {question}");
    let mentioned = double.message(MEMBER, &mention, vec![bot_user()], None);
    let sent = double
        .wait_request("the reply to a mention", replies_to(mentioned))
        .await;
    assert_eq!(description(&sent.body), answer);
    assert_eq!(embeds(&sent.body)[0]["title"], question);

    let earlier = message_json(&double.new_id(), bot_user(), "");
    let reply_id = double.message(OTHER_MEMBER, question, vec![], Some(earlier));
    let sent = double
        .wait_request("the answer to a reply", replies_to(reply_id))
        .await;
    assert_eq!(description(&sent.body), answer);

    let bare = format!("<@!{BOT_ID}>");
    let bare_id = double.message(MEMBER, &bare, vec![bot_user()], None);
    let sent = double
        .wait_request("help for a bare mention", replies_to(bare_id))
        .await;
    assert_eq!(description(&sent.body), messages::get(Lang::En).help);

    let from_bot = double.message(BOT_ID, &mention, vec![bot_user()], None);
    // The bot answers no message that was not for it, nor its own.
    let id = double.command("topics", json!([]), "en-US", MEMBER);
    double.callback(&id).await;
    let all = double.channel_messages();
    assert_eq!(all.len(), 3);
    for not_answered in [ignored, from_bot] {
        assert!(
            !all.iter()
                .any(|m| m["message_reference"]["message_id"] == not_answered.as_str())
        );
    }
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_are_answered_and_a_flood_of_mentions_gets_an_hourglass() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.message_content = true;
    (c.rate_per_minute, c.rate_burst) = (6, 1);
    let bot = start(&double, c).await;
    let question = "日本中心是什么时候关闭的?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let dm = double.direct_message(MEMBER, question);
    let sent = double
        .wait_request("the answer to a DM", |r| {
            r.body["message_reference"]["message_id"] == dm.as_str()
        })
        .await;
    assert_eq!(description(&sent.body), reply.answer().unwrap().text);

    let mention = format!("<@{BOT_ID}> {question}");
    let flooded = double.message(MEMBER, &mention, vec![bot_user()], None);
    let reaction = double
        .wait_request("the ⏳ reaction", |r| {
            r.method == "PUT" && r.route.contains("/reactions/")
        })
        .await;
    assert_eq!(
        reaction.route,
        format!("/channels/{CHANNEL_ID}/messages/{flooded}/reactions/%E2%8F%B3/@me")
    );
    assert_eq!(
        double.channel_messages().len(),
        1,
        "no answer over the limit"
    );
}

/// Starts the adapter without waiting for it to connect, for tests of
/// what it does while Discord refuses it.
fn start_unconnected(config: DiscordConfig) -> Bot {
    let core = Arc::new(Kotae::new(embedded()));
    let (stop, shutdown) = watch::channel(false);
    let status = Arc::new(AdapterStatus::default());
    let state = tempfile::tempdir().expect("a state directory");
    let ctx = Context::new(core.clone(), state.path().to_path_buf(), shutdown)
        .expect("records open")
        .with_status(status.clone());
    let task = tokio::spawn(kotae::discord::run(config, ctx.clone()));
    Bot {
        core,
        status,
        stop,
        task,
        state,
        ctx,
        knowledge: None,
        _watch: None,
    }
}

/// Stops the bot and checks it stops at once and cleanly.
async fn stop_promptly(bot: Bot) -> Duration {
    let asked = Instant::now();
    bot.stop.send(true).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), bot.task)
        .await
        .expect("the adapter stops promptly")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(bot.status.snapshot(), vec![("discord", false)]);
    asked.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_content_intent_is_retried_until_switched_on() {
    let double = Double::start(1).await;
    double.refuse_privileged_intents();
    let mut c = config(&double);
    c.message_content = true;
    let bot = start_unconnected(c);
    // Discord closes the gateway with 4014; the adapter neither ends nor
    // reports itself connected, and tries again later.
    double
        .wait("a refused IDENTIFY", |l| {
            l.frames.iter().any(|f| f.op == 2).then_some(())
        })
        .await;
    let refused = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !bot.task.is_finished(),
        "a refused intent ended the adapter"
    );
    assert_eq!(bot.status.snapshot(), vec![("discord", false)]);
    // The operator switches the intent on: the next attempt connects.
    double.allow_privileged_intents();
    double.wait_live().await;
    let retried = refused.elapsed();
    assert!(double.frames(2).len() >= 2, "identified again");
    let deadline = Instant::now() + PATIENCE;
    while bot.status.snapshot() != vec![("discord", true)] {
        assert!(Instant::now() < deadline, "never reported connected");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("connected {retried:?} after the gateway refused the intent");
    stop_promptly(bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_retried_and_shutdown_cuts_the_wait_short() {
    let double = Double::start(1).await;
    double.refuse_token(1);
    let bot = start_unconnected(config(&double));
    double
        .wait_request("the refused GET /gateway/bot", |r| {
            r.route == "/gateway/bot"
        })
        .await;
    let refused = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!bot.task.is_finished(), "a 401 ended the adapter");
    assert_eq!(bot.status.snapshot(), vec![("discord", false)]);
    double.wait_live().await;
    println!(
        "connected {:?} after Discord refused the token once",
        refused.elapsed()
    );
    let id = double.command("about", json!([]), "en-US", MEMBER);
    assert_eq!(
        description(&double.callback(&id).await["data"]),
        messages::get(Lang::En).help
    );
    stop_promptly(bot).await;

    // Refused for good: shutdown does not wait for the next attempt.
    let double = Double::start(1).await;
    double.refuse_token(u32::MAX);
    let bot = start_unconnected(config(&double));
    double
        .wait_request("the refused GET /gateway/bot", |r| {
            r.route == "/gateway/bot"
        })
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = stop_promptly(bot).await;
    assert!(took < Duration::from_secs(2), "shutdown waited {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_not_read_without_the_message_content_switch() {
    let double = Double::start(1).await;
    let _bot = start(&double, config(&double)).await;
    double.message(
        MEMBER,
        &format!("<@{BOT_ID}> When?"),
        vec![bot_user()],
        None,
    );
    let id = double.command("about", json!([]), "en-US", MEMBER);
    double.callback(&id).await;
    assert!(double.channel_messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_with_mentions_and_links_are_rendered_inert_and_nothing_pings() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.message_content = true;
    let _bot = start(&double, c).await;
    let question = "@everyone <@&1234> @here [free nitro](https://evil.example) When did the Japan Centers close?";
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    let data = double.callback(&id).await["data"].clone();
    let title = embeds(&data)[0]["title"].as_str().unwrap().to_string();
    for live in ["@everyone", "@here", "<@&", "]("] {
        assert!(!title.contains(live), "{live} in {title}");
    }
    assert_eq!(title.replace('\u{200b}', ""), question);

    // One of each kind of message the bot sends.
    let too_long = "why ".repeat(300);
    for question in ["Who is the prime minister of Mars?", too_long.as_str()] {
        let id = double.command("ask", ask_options(question), "en-US", MEMBER);
        double.callback(&id).await;
    }
    let id = double.message(
        MEMBER,
        &format!("<@{BOT_ID}> {question}"),
        vec![bot_user()],
        None,
    );
    double
        .wait_request("the reply", |r| {
            r.body["message_reference"]["message_id"] == id.as_str()
        })
        .await;
    assert_no_pings(&double);
    let sent = sent_messages(&double);
    assert!(
        sent.iter()
            .any(|(_, m)| m["content"] == messages::get(Lang::En).too_long)
    );
}

/// A fact base whose one fact has a 10,000-character answer.
fn long_answer_base(answer: &str) -> FactBase {
    let sources = r#"
[[source]]
id = "press"
publisher = "A Newspaper"
url = "https://example.org/article"
published = "2025-01-19"
language = "en"
reliability = "press"
"#;
    let fact = format!(
        r#"
[[fact]]
id = "long-story"
sources = ["press"]
status = "confirmed"
updated = "2026-01-01"
questions.en = ["Tell me the long story of the centres"]
questions.ja = ["センターの長い話を教えて"]
questions.zh = ["讲讲中心的长故事"]
answer.en = "{answer}"
answer.ja = "長い話。"
answer.zh = "长故事。"
"#
    );
    let files = KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), sources.into()),
        ("facts/long.toml".into(), fact),
    ]);
    load(&files).expect("the test base loads").base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_answer_is_split_within_discord_limits() {
    let answer = "The centres had a long history that this sentence keeps repeating. ".repeat(150);
    let answer = answer.trim();
    assert!(answer.chars().count() > 10_000);
    let double = Double::start(1).await;
    let _bot = start_with(&double, config(&double), long_answer_base(answer)).await;
    let id = double.command(
        "ask",
        ask_options("Tell me the long story of the centres"),
        "en-US",
        MEMBER,
    );
    let first = double.callback(&id).await["data"].clone();
    // 10,000 characters need at least two messages of 6000.
    let route = format!("/webhooks/{APP_ID}/{}", interaction_token(&id));
    let followups = double
        .wait("the last follow-up", |log| {
            let followups: Vec<Value> = log
                .requests
                .iter()
                .filter(|r| r.route == route)
                .map(|r| r.body.clone())
                .collect();
            let last = followups.last()?;
            embeds(last)
                .iter()
                .any(|e| e["footer"].is_object())
                .then_some(followups)
        })
        .await;
    let mut pages = vec![first];
    pages.extend(followups);
    let mut text = String::new();
    for page in &pages {
        let embeds = embeds(page);
        assert!(!embeds.is_empty() && embeds.len() <= 10);
        let mut total = 0;
        for e in &embeds {
            let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
            assert!(len(&e["title"]) <= 256);
            assert!(len(&e["description"]) <= 4096);
            assert!(len(&e["footer"]["text"]) <= 2048);
            total += len(&e["title"]) + len(&e["description"]) + len(&e["footer"]["text"]);
            for f in e["fields"].as_array().into_iter().flatten() {
                assert!(len(&f["value"]) <= 1024 && len(&f["name"]) <= 256);
                total += len(&f["value"]) + len(&f["name"]);
            }
            text.push_str(e["description"].as_str().unwrap_or_default());
        }
        assert!(total <= 6000, "{total}");
    }
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    assert_eq!(squash(&text), squash(answer));
    let last = embeds(pages.last().unwrap()).last().cloned().unwrap();
    assert!(
        last["footer"]["text"]
            .as_str()
            .unwrap()
            .starts_with("long-story")
    );
    assert!(sources_text(&last, Lang::En).contains("](https://example.org/article)"));
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_commands_gets_slow_down_and_no_answers() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    (c.rate_per_minute, c.rate_burst) = (6, 2);
    let _bot = start(&double, c).await;
    let question = "When did the Japan Centers close?";
    let ids: Vec<String> = (0..5)
        .map(|_| double.command("ask", ask_options(question), "en-US", MEMBER))
        .collect();
    let mut answered = 0;
    let mut slowed = 0;
    for id in &ids {
        let data = double.callback(id).await["data"].clone();
        if data["content"] == messages::get(Lang::En).slow_down {
            assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
            assert!(embeds(&data).is_empty(), "no work for a limited request");
            slowed += 1;
        } else {
            assert!(!embeds(&data).is_empty());
            answered += 1;
        }
    }
    assert_eq!((answered, slowed), (2, 3));
    // Another member is not held back.
    let id = double.command("ask", ask_options(question), "en-US", OTHER_MEMBER);
    assert!(!embeds(&double.callback(&id).await["data"]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_or_moved_connection_resumes_and_keeps_answering() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let question = "When did the Japan Centers close?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let first = double.wait_live().await;

    double.drop_connection();
    let second = double.wait_new_session(first).await;
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    assert_answer(&double.callback(&id).await, &reply);

    double.request_reconnect();
    let third = double.wait_new_session(second).await;
    let id = double.command("ask", ask_options(question), "ja", MEMBER);
    assert_answer(&double.callback(&id).await, &reply);
    // RESUME, not a new IDENTIFY: the session survived both.
    assert_eq!(double.frames(2).len(), 1);
    assert_eq!(double.frames(6).len(), 2);
    assert_eq!(double.frames(6)[0].d["session_id"], "session-1");

    // A session Discord will not resume: the bot identifies again.
    double.invalidate_session();
    double.wait_new_session(third).await;
    assert_eq!(double.frames(2).len(), 2);
    let id = double.command("ask", ask_options(question), "zh-CN", MEMBER);
    assert_answer(&double.callback(&id).await, &reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_disconnects_cleanly() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    bot.stop.send(true).unwrap();
    let result = tokio::time::timeout(PATIENCE, bot.task)
        .await
        .expect("the adapter stops")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(bot.status.snapshot(), vec![("discord", false)]);
}

/// Time from INTERACTION_CREATE leaving the gateway to the callback
/// arriving at the REST server, over 100 `/ask`s, and the process's
/// memory (bot and double together) while connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn latency_of_100_interactions_and_memory() {
    let double = Double::start(1).await;
    let _bot = start(&double, config(&double)).await;
    let questions = [
        ("When did the Japan Centers close?", "en-US"),
        ("日本センターはいつ閉鎖されましたか?", "ja"),
        ("日本中心是什么时候关闭的?", "zh-CN"),
    ];
    let mut latencies = Vec::new();
    for i in 0..100 {
        let (question, locale) = questions[i % questions.len()];
        let id = double.command("ask", ask_options(question), locale, MEMBER);
        double.callback(&id).await;
        let sent = double.log(|l| l.dispatched.iter().find(|d| d.1 == id).unwrap().2);
        let route = format!("/interactions/{id}/{}/callback", interaction_token(&id));
        let arrived = double.log(|l| l.requests.iter().find(|r| r.route == route).unwrap().at);
        latencies.push(arrived - sent);
    }
    let worst_at = (0..latencies.len()).max_by_key(|&i| latencies[i]).unwrap();
    latencies.sort();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "VmRSS: unknown".into());
    println!(
        "INTERACTION_CREATE → callback over 100: median {:?}, 95th {:?}, worst {:?} (#{}); \
         {rss} (bot and double in one process)",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100],
        latencies[latencies.len() - 1],
        worst_at + 1,
    );
}

/// `kotae serve` itself, configured only by environment variables: it
/// connects, answers, never writes the token to its logs (even at trace
/// level), and disconnects cleanly on SIGTERM. Prints the serving
/// process's memory while connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kotae_serve_connects_answers_and_stops_on_sigterm() {
    use tokio::io::AsyncReadExt;
    let double = Double::start(1).await;
    let state = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_DISCORD_TOKEN", TOKEN)
        .env("KOTAE_DISCORD_API_URL", &double.rest_url)
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_HTTP_LISTEN", "127.0.0.1:0")
        .env("KOTAE_LOG_LEVEL", "trace")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kotae serve starts");
    let mut stderr = child.stderr.take().unwrap();
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    double.wait_live().await;
    double
        .wait_request("the commands' registration", |r| r.method == "PUT")
        .await;
    let question = "When did the Japan Centers close?";
    let reply = Kotae::new(embedded())
        .ask(question, LangChoice::Detect)
        .unwrap();
    // The default limit lets a member ask three at once, then slows them.
    for _ in 0..3 {
        let id = double.command("ask", ask_options(question), "en-US", MEMBER);
        assert_answer(&double.callback(&id).await, &reply);
    }
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    let slowed = double.callback(&id).await;
    assert_eq!(slowed["data"]["content"], messages::get(Lang::En).slow_down);
    let pid = child.id().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: unknown");
    println!("kotae serve, connected to the double, after 3 answers: {rss}");

    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("kotae serve stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let logs = logs.await.unwrap();
    assert!(logs.contains("logged in to Discord"), "{logs}");
    assert!(!logs.contains(TOKEN), "the token was logged");
}

// The moderators' workflow: live edits, /reload and /unanswered, feedback,
// and corrections of answers already sent.

const MODERATOR: u64 = 1_200_000_000_000_000_003;
const MOD_CHANNEL: u64 = 1_300_000_000_000_000_010;
const MOD_ROLE: u64 = 1_300_000_000_000_000_020;
const OTHER_ROLE: u64 = 1_300_000_000_000_000_021;

const CITIES: &str = "Which cities had a Japan Center?";
const CITIES_JA: &str = "日本センターはどの都市にありましたか?";

/// Saves `name` in `dir` as editors do.
fn save(dir: &std::path::Path, name: &str, text: &str) {
    knowledge::save(&dir.join(name), text);
}

/// Rewrites the lines starting with each prefix inside one fact's block.
fn edit_fact(dir: &std::path::Path, file: &str, id: &str, lines: &[(&str, &str)]) {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let start = text.find(&format!("id = \"{id}\"")).unwrap();
    let end = text[start..]
        .find("[[fact]]")
        .map_or(text.len(), |i| start + i);
    let block: Vec<String> = text[start..end]
        .lines()
        .map(|line| {
            lines
                .iter()
                .find(|(prefix, _)| line.starts_with(prefix))
                .map_or(line.to_string(), |(_, new)| new.to_string())
        })
        .collect();
    let edited = format!("{}{}\n{}", &text[..start], block.join("\n"), &text[end..]);
    save(dir, file, &edited);
}

fn editable_dir(bot: &Bot) -> &std::path::Path {
    bot.knowledge.as_ref().expect("an editable bot").path()
}

/// The fact id in an answer's footer, or None for anything else.
fn answered_fact(message: &Value) -> Option<String> {
    let footer = embeds(message).last()?["footer"]["text"]
        .as_str()?
        .to_string();
    Some(footer.split(" · ").next()?.to_string())
}

/// Waits for a message in the moderators' channel containing `text`.
async fn moderators_hear(double: &Double, text: &str) -> String {
    double
        .wait(&format!("a report containing {text:?}"), |l| {
            l.posted
                .iter()
                .filter(|(channel, _, _)| *channel == MOD_CHANNEL.to_string())
                .filter_map(|(_, _, body)| body["content"].as_str())
                .find(|content| content.contains(text))
                .map(str::to_string)
        })
        .await
}

/// The text of an interaction's messages, once there is some.
async fn interaction_text(double: &Double, id: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text: String = double
            .interaction_messages(id)
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if !text.is_empty() {
            return text;
        }
        assert!(Instant::now() < deadline, "no reply to {id}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Asks with /ask and waits until the answer's message is recorded (its
/// id learnt from GET @original); returns the message id.
async fn ask_and_record(double: &Double, bot: &Bot, question: &str, locale: &str) -> String {
    let id = double.command("ask", ask_options(question), locale, MEMBER);
    let callback = double.callback(&id).await;
    assert!(answered_fact(&callback["data"]).is_some(), "{callback}");
    let message = double.original_id(&id).expect("the response has an id");
    wait_recorded(bot, &message).await;
    message
}

async fn wait_recorded(bot: &Bot, message: &str) {
    let channel = CHANNEL_ID.to_string();
    let deadline = Instant::now() + PATIENCE;
    while bot
        .ctx
        .records
        .answers
        .find("discord", &channel, message)
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "{message} never recorded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits for an edit of `message` whose content is `note`.
async fn edited_with(double: &Double, message: &str, note: &str) -> Value {
    double
        .wait(&format!("an edit of {message} saying {note:?}"), |l| {
            l.requests
                .iter()
                .filter(|r| r.method == "PATCH")
                .find(|r| {
                    r.route == format!("/channels/{CHANNEL_ID}/messages/{message}")
                        && r.body["content"] == note
                })
                .map(|r| r.body.clone())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_fact_is_answered_without_restart_and_the_moderators_hear_of_it() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.moderators_channel = Some(MOD_CHANNEL);
    let bot = start_editable(&double, c, true).await;
    let id = double.command("ask", ask_options(NEW_QUESTION), "en-US", MEMBER);
    let before = double.callback(&id).await["data"].clone();
    assert_eq!(before["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(answered_fact(&before).is_none(), "not known yet");

    let saved = Instant::now();
    save(editable_dir(&bot), "facts/new.toml", NEW_FACT);
    let delay = loop {
        let id = double.command("ask", ask_options(NEW_QUESTION), "en-US", MEMBER);
        let data = double.callback(&id).await["data"].clone();
        if answered_fact(&data).as_deref() == Some("test-new-fact") {
            assert_eq!(description(&data), "A test answer.");
            break saved.elapsed();
        }
        assert!(
            saved.elapsed() < PATIENCE,
            "the new fact was never answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("/ask answered the new fact {delay:?} after the save");
    let report = moderators_hear(&double, "added test-new-fact").await;
    assert!(report.starts_with("```\nreloaded revision"), "{report}");
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_keeps_old_answers_and_the_moderators_get_its_line() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.moderators_channel = Some(MOD_CHANNEL);
    let bot = start_editable(&double, c, true).await;
    let dir = editable_dir(&bot).to_path_buf();
    let cities = expected(&bot, CITIES, LangChoice::Detect);

    let syntax = NEW_FACT.replace("status = \"confirmed\"", "status = \"confirmed");
    save(&dir, "facts/new.toml", &syntax);
    let report = moderators_hear(&double, "facts/new.toml:5:20: error: invalid basic string").await;
    assert!(report.contains("reload rejected"), "{report}");
    let id = double.command("ask", ask_options(CITIES), "en-US", MEMBER);
    assert_answer(&double.callback(&id).await, &cities);

    let unknown = NEW_FACT.replace("asahi-2025-01-19", "no-such-source");
    save(&dir, "facts/new.toml", &unknown);
    moderators_hear(
        &double,
        "facts/new.toml:4:12: error: unknown source id \"no-such-source\"",
    )
    .await;
    let id = double.command("ask", ask_options(CITIES), "ja", MEMBER);
    assert_answer(&double.callback(&id).await, &cities);
    let id = double.command("ask", ask_options(NEW_QUESTION), "en-US", MEMBER);
    assert!(answered_fact(&double.callback(&id).await["data"]).is_none());
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_is_refused_to_members_and_run_for_managers_and_the_moderator_role() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.moderator_role = Some(MOD_ROLE);
    c.moderators_channel = Some(MOD_CHANNEL);
    // Not watched: here only /reload reloads, so "nothing reloaded" means
    // the refusal did nothing.
    let bot = start_editable(&double, c, false).await;
    let dir = editable_dir(&bot).to_path_buf();
    let knows = |question: &str| {
        bot.core
            .ask(question, LangChoice::Detect)
            .unwrap()
            .answer()
            .is_some()
    };
    save(&dir, "facts/new.toml", NEW_FACT);

    let member = member_with(MEMBER, &[OTHER_ROLE], MEMBER_PERMISSIONS);
    let id = double.command_as("reload", json!([]), "ja", member);
    let refused = double.callback(&id).await;
    assert_eq!(refused["type"], 4);
    assert_eq!(
        refused["data"]["flags"].as_u64().unwrap() & EPHEMERAL,
        EPHEMERAL
    );
    assert_eq!(
        refused["data"]["content"],
        messages::get(Lang::Ja).not_moderator
    );
    assert!(!knows(NEW_QUESTION), "a refused /reload reloaded");

    let manager = member_with(MODERATOR, &[], MEMBER_PERMISSIONS | MANAGE_GUILD);
    let id = double.command_as("reload", json!([]), "en-US", manager);
    let deferred = double.callback(&id).await;
    assert_eq!(deferred["type"], 5, "deferred while the base loads");
    assert_eq!(
        deferred["data"]["flags"].as_u64().unwrap() & EPHEMERAL,
        EPHEMERAL
    );
    let text = interaction_text(&double, &id).await;
    assert!(text.contains("added test-new-fact"), "{text}");
    assert!(knows(NEW_QUESTION));
    moderators_hear(&double, "added test-new-fact").await;

    let second = NEW_FACT
        .replace("test-new-fact", "test-second-fact")
        .replace("Moscow", "Kazan")
        .replace("モスクワ", "カザン")
        .replace("莫斯科", "喀山");
    save(&dir, "facts/second.toml", &second);
    let role_holder = member_with(OTHER_MEMBER, &[OTHER_ROLE, MOD_ROLE], MEMBER_PERMISSIONS);
    let id = double.command_as("reload", json!([]), "zh-CN", role_holder);
    let text = interaction_text(&double, &id).await;
    assert!(text.contains("added test-second-fact"), "{text}");
    assert!(text.starts_with("```") && text.ends_with("```"), "{text}");
    assert!(knows("What is the weather test question for Kazan?"));
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_fact_edits_earlier_answers_and_a_retracted_one_withdraws_them() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.message_content = true;
    let bot = start_editable(&double, c, true).await;
    let dir = editable_dir(&bot).to_path_buf();
    // One answer from /ask (English), one from a mention (Japanese).
    let from_ask = ask_and_record(&double, &bot, CITIES, "en-US").await;
    let mention = double.message(
        MEMBER,
        &format!("<@{BOT_ID}> {CITIES_JA}"),
        vec![bot_user()],
        None,
    );
    let reply = double
        .wait_request("the answer to the mention", |r| {
            r.body["message_reference"]["message_id"] == mention.as_str()
        })
        .await;
    assert_eq!(answered_fact(&reply.body).as_deref(), Some("locations"));
    let from_mention = double
        .posted()
        .into_iter()
        .find(|(_, _, body)| body["message_reference"]["message_id"] == mention.as_str())
        .map(|(_, id, _)| id)
        .unwrap();
    wait_recorded(&bot, &from_mention).await;

    let corrected_en = "Corrected test answer: the centres were in six cities.";
    let corrected_ja = "訂正されたテストの回答です。";
    edit_fact(
        &dir,
        "facts/centers.toml",
        "locations",
        &[
            ("answer.en = ", &format!("answer.en = \"{corrected_en}\"")),
            ("answer.ja = ", &format!("answer.ja = \"{corrected_ja}\"")),
        ],
    );
    let edit = edited_with(&double, &from_ask, messages::get(Lang::En).corrected).await;
    assert_eq!(description(&edit), corrected_en);
    assert_eq!(answered_fact(&edit).as_deref(), Some("locations"));
    assert!(sources_text(&embeds(&edit)[0], Lang::En).contains("]("));
    let edit = edited_with(&double, &from_mention, messages::get(Lang::Ja).corrected).await;
    assert_eq!(description(&edit), corrected_ja);

    edit_fact(
        &dir,
        "facts/centers.toml",
        "locations",
        &[("status = ", "status = \"retracted\"")],
    );
    let edit = edited_with(&double, &from_ask, messages::get(Lang::En).withdrawn).await;
    assert_eq!(edit["embeds"], json!([]), "the withdrawn answer is gone");
    let edit = edited_with(&double, &from_mention, messages::get(Lang::Ja).withdrawn).await;
    assert_eq!(edit["embeds"], json!([]));
    // Each change edits each message once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(double.edits().len(), 4, "{:#?}", double.edits());
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbs_down_on_an_answer_is_recorded_for_its_fact() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let question = "When did the Japan Centers close?";
    let fact = expected(&bot, question, LangChoice::Detect)
        .answer()
        .unwrap()
        .fact_id
        .clone();
    let answer = ask_and_record(&double, &bot, question, "en-US").await;
    // Not votes: the bot's own reaction, a message that is not an answer,
    // an emoji that is not 👍/👎.
    double.reaction(BOT_ID, &answer, BOT_ID, "👎");
    double.reaction(MEMBER, &double.new_id(), OTHER_MEMBER, "👎");
    double.reaction(MEMBER, &answer, BOT_ID, "🎉");
    double.reaction(MEMBER, &answer, BOT_ID, "👎🏽");
    let summary = || kotae::records::feedback::summary(bot.state.path()).unwrap();
    let deadline = Instant::now() + PATIENCE;
    while summary().get(&fact) != Some(&(0, 1)) {
        assert!(Instant::now() < deadline, "the vote was never recorded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let expected: std::collections::BTreeMap<String, (usize, usize)> = [(fact, (0, 1))].into();
    assert_eq!(summary(), expected, "only the member's 👎 counts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_mention_is_recorded_and_unanswered_lists_it_for_moderators() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.message_content = true;
    let bot = start(&double, c).await;
    let question = "How tall is the Tokyo Skytree in centimetres?";
    let mention = double.message(
        MEMBER,
        &format!("<@{BOT_ID}> {question}"),
        vec![bot_user()],
        None,
    );
    let reply = double
        .wait_request("the decline", |r| {
            r.body["message_reference"]["message_id"] == mention.as_str()
        })
        .await;
    assert!(description(&reply.body).starts_with(messages::get(Lang::En).decline));
    let records = kotae::records::unanswered::read(bot.state.path()).unwrap();
    let record = records.last().expect("the decline was recorded");
    assert_eq!(
        (record.question.as_str(), record.platform.as_str()),
        (question, "discord")
    );
    assert!(
        bot.ctx
            .records
            .answers
            .recent("discord", &[], u64::MAX)
            .unwrap()
            .is_empty()
    );

    let id = double.command("unanswered", json!([]), "zh-CN", MEMBER);
    let refused = double.callback(&id).await["data"].clone();
    assert_eq!(refused["content"], messages::get(Lang::Zh).not_moderator);
    assert_eq!(refused["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);

    let manager = member_with(MODERATOR, &[], MEMBER_PERMISSIONS | MANAGE_GUILD);
    let id = double.command_as("unanswered", json!([]), "en-US", manager);
    let text = interaction_text(&double, &id).await;
    assert!(text.contains("Unanswered questions"), "{text}");
    assert!(text.contains(question), "{text}");
    assert_no_pings(&double);
}

/// `GET /healthz` on `kotae serve`: the status code and the body.
async fn healthz(port: u16) -> Option<(u16, Value)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.ok()?;
    let code = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split("\r\n\r\n").nth(1)?;
    Some((code, serde_json::from_str(body).ok()?))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `kotae serve` whose token Discord refuses at first: the process keeps
/// running, `/healthz` says 503 with the reason, and it connects on a
/// later attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kotae_serve_outlives_a_refused_token_and_healthz_says_why() {
    let double = Double::start(1).await;
    double.refuse_token(1);
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_DISCORD_TOKEN", TOKEN)
        .env("KOTAE_DISCORD_API_URL", &double.rest_url)
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("kotae serve starts");
    double
        .wait_request("the refused GET /gateway/bot", |r| {
            r.route == "/gateway/bot"
        })
        .await;
    let deadline = Instant::now() + PATIENCE;
    let down = loop {
        if let Some(health) = healthz(port).await {
            break health;
        }
        assert!(Instant::now() < deadline, "/healthz never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(down.0, 503, "{down:?}");
    assert_eq!(down.1["reason"], "not connected: discord");
    assert!(child.try_wait().unwrap().is_none(), "kotae serve exited");

    double.wait_live().await;
    let deadline = Instant::now() + PATIENCE;
    while healthz(port).await.map(|h| h.0) != Some(200) {
        assert!(Instant::now() < deadline, "/healthz never recovered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("kotae serve stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// VmRSS and VmHWM of a process, in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `kotae serve` (the real binary, rate limit off) under a burst of 1,000
/// `/ask`s dispatched as fast as the double writes them: resident memory
/// idle, after, and at its peak, and INTERACTION_CREATE → callback times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn memory_idle_and_under_a_burst_of_1000_questions() {
    const BURST: usize = 1000;
    let double = Double::start(1).await;
    let state = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_DISCORD_TOKEN", TOKEN)
        .env("KOTAE_DISCORD_API_URL", &double.rest_url)
        .env("KOTAE_DISCORD_RATE_PER_MINUTE", "0")
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_HTTP_LISTEN", "127.0.0.1:0")
        .env("KOTAE_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("kotae serve starts");
    let pid = child.id().unwrap();
    double.wait_live().await;
    double
        .wait_request("the commands' registration", |r| r.method == "PUT")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle, _) = memory_kb(pid);

    let questions = [
        ("When did the Japan Centers close?", "en-US"),
        ("日本センターはいつ閉鎖されましたか?", "ja"),
        ("日本中心是什么时候关闭的?", "zh-CN"),
        (
            "What is the airspeed velocity of an unladen swallow?",
            "en-US",
        ),
    ];
    let started = Instant::now();
    let ids: Vec<String> = (0..BURST)
        .map(|i| {
            let (question, locale) = questions[i % questions.len()];
            double.command("ask", ask_options(question), locale, MEMBER + i as u64 % 50)
        })
        .collect();
    let mut peak_during = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = double.log(|l| {
            l.requests
                .iter()
                .filter(|r| r.route.ends_with("/callback"))
                .count()
        });
        peak_during = peak_during.max(memory_kb(pid).0);
        if done >= BURST {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of {BURST} callbacks"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_answered = started.elapsed();
    // Answers also fetch @original to record their message id.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (after, peak) = memory_kb(pid);
    let mut latencies: Vec<Duration> = double.log(|l| {
        let sent: HashMap<&str, Instant> = l
            .dispatched
            .iter()
            .map(|(_, id, at)| (id.as_str(), *at))
            .collect();
        ids.iter()
            .map(|id| {
                let route = format!("/interactions/{id}/{}/callback", interaction_token(id));
                let arrived = l.requests.iter().find(|r| r.route == route).unwrap().at;
                arrived - sent[id.as_str()]
            })
            .collect()
    });
    latencies.sort();
    let recorded = std::fs::read_to_string(state.path().join("answers.jsonl"))
        .unwrap_or_default()
        .lines()
        .count();
    println!(
        "kotae serve, {BURST} /asks in {all_answered:?}: RSS idle {idle} kB, after {after} kB, \
         peak {peak} kB (highest sampled during the burst {peak_during} kB); \
         INTERACTION_CREATE → callback median {:?}, 95th {:?}, worst {:?}; {recorded} answers recorded",
        latencies[BURST / 2],
        latencies[BURST * 95 / 100],
        latencies[BURST - 1],
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = tokio::time::timeout(PATIENCE, child.wait()).await;
}
