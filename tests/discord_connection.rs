//! The Discord adapter's connection: command registration (in a guild or
//! globally, localised), autosharding and each guild served by its own
//! shard, READY with unavailable guilds, retrying when Discord refuses the
//! token or an intent, resuming a dropped connection (with what was missed
//! replayed and answered once), and a clean stop. The real serenity/poise
//! client runs against the in-process double in `tests/discord_double`;
//! every assertion is on a payload the bot sent.

#![cfg(feature = "discord")]

#[path = "support/discord_bot.rs"]
mod discord_bot;
mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_bot::*;
use discord_double::*;
use kotae::core::{Lang, LangChoice, messages};
use kotae::service::Platform;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
        [
            "ask",
            "topics",
            "sources",
            "timeline",
            "about",
            "reload",
            "unanswered"
        ]
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
        1 << 9 | 1 << 10 | 1 << 12 | 1 << 13,
        "guild and direct messages (mentions, DMs) and their reactions (👍/👎), nothing privileged"
    );
    assert!(double.log(|l| l.connections[0].contains("v=10")));
    let connected = || bot.status.snapshot() == vec![(Platform::Discord, true)];
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
    assert_eq!(put.body.as_array().unwrap().len(), 7);
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
    assert_eq!(bot.status.snapshot(), vec![(Platform::Discord, false)]);
    // The operator switches the intent on: the next attempt connects.
    double.allow_privileged_intents();
    double.wait_live().await;
    let retried = refused.elapsed();
    assert!(double.frames(2).len() >= 2, "identified again");
    let deadline = Instant::now() + PATIENCE;
    while bot.status.snapshot() != vec![(Platform::Discord, true)] {
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
    assert_eq!(bot.status.snapshot(), vec![(Platform::Discord, false)]);
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
    bot.stop.stop();
    let result = tokio::time::timeout(PATIENCE, bot.task)
        .await
        .expect("the adapter stops")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(bot.status.snapshot(), vec![(Platform::Discord, false)]);
}

/// A guild on the second of two shards: `(id >> 22) % 2 == 1`.
const GUILD_ON_SHARD_1: u64 = GUILD_ID + (1 << 22);

/// The bot's replies to a channel message (by the message's id).
fn replies_to(double: &Double, message: &str) -> Vec<Value> {
    double
        .channel_messages()
        .into_iter()
        .filter(|m| m["message_reference"]["message_id"] == message)
        .collect()
}

/// Waits for the bot's reply to a channel message, then a little longer
/// for any second one; returns them all.
async fn replies_settled(double: &Double, message: &str) -> Vec<Value> {
    double
        .wait(&format!("the reply to {message}"), |l| {
            l.requests
                .iter()
                .any(|r| r.body["message_reference"]["message_id"] == message && r.status == 200)
                .then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    replies_to(double, message)
}

/// The connection drops with a question on the wire (numbered for the
/// session but never written), and another question and a `/ask` are
/// dispatched while the bot is away. The bot sends RESUME with its session
/// and the last number it saw; the double sends what it missed, in order,
/// then RESUMED; each question is answered exactly once, without a new
/// IDENTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_bot_missed_while_disconnected_is_replayed_on_resume_and_answered_once() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let question = "When did the Japan Centers close?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let (answer, fact) = (
        answer_description(&reply),
        reply.answer().map(|a| a.fact_id.clone()),
    );
    let first = double.wait_live().await;
    let before = double.mention_in(GUILD_ID, MEMBER, question);
    assert_eq!(replies_settled(&double, &before).await.len(), 1);

    // The bot may reconnect before the test dispatches the others: its
    // RESUME waits until all three are numbered, so all three are missed.
    double.hold_resumes();
    double.lose_next_dispatch();
    let in_flight = double.mention_in(GUILD_ID, MEMBER, question);
    let during = double.mention_in(GUILD_ID, OTHER_MEMBER, question);
    let asked = double.command("ask", ask_options(question), "en-US", MEMBER);
    double.release_resumes();
    double.wait_new_session(first).await;

    for message in [&in_flight, &during] {
        let replies = replies_settled(&double, message).await;
        assert_eq!(replies.len(), 1, "{message}: answered once");
        assert_eq!(description(&replies[0]), answer);
    }
    assert_eq!(answered_fact(&double.callback(&asked).await["data"]), fact);
    let resume = &double.frames(6)[0];
    assert_eq!(resume.d["session_id"], "session-1");
    let seen = resume.d["seq"].as_u64().unwrap();
    let replayed = double.log(|l| l.replayed);
    assert_eq!(replayed, 3, "the three dispatches after seq {seen}");
    assert_eq!(double.frames(2).len(), 1, "resumed, not identified again");
    assert_eq!(
        replies_to(&double, &before).len(),
        1,
        "nothing answered twice"
    );
    assert_eq!(double.refusals(), []);
}

/// Two shards: each guild's events go only to the shard Discord assigns
/// (`(guild_id >> 22) % 2`), DMs to shard 0; questions from a guild on
/// either shard, and a DM, are each answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_guild_is_served_by_its_own_shard_and_answered_once() {
    let double = Double::start(2).await;
    double.set_guilds(&[GUILD_ID, GUILD_ON_SHARD_1]);
    let bot = start(&double, config(&double)).await;
    double
        .wait("both shards identified", |l| {
            (l.frames.iter().filter(|f| f.op == 2).count() == 2).then_some(())
        })
        .await;
    double.wait_new_session(1).await;
    let question = "When did the Japan Centers close?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let (answer, fact) = (
        answer_description(&reply),
        reply.answer().map(|a| a.fact_id.clone()),
    );
    let on_0 = double.mention_in(GUILD_ID, MEMBER, question);
    let on_1 = double.mention_in(GUILD_ON_SHARD_1, MEMBER, question);
    let dm = double.direct_message(OTHER_MEMBER, question);
    for message in [&on_0, &on_1, &dm] {
        let replies = replies_settled(&double, message).await;
        assert_eq!(replies.len(), 1, "{message}: answered once");
        assert_eq!(description(&replies[0]), answer);
    }
    let shard_of = |id: &str| -> Vec<u64> {
        double
            .session_dispatches()
            .into_iter()
            .filter(|(_, event, d)| event == "MESSAGE_CREATE" && d["id"] == id)
            .map(|(shard, _, _)| shard)
            .collect()
    };
    assert_eq!(shard_of(&on_0), [0]);
    assert_eq!(shard_of(&on_1), [1]);
    assert_eq!(shard_of(&dm), [0]);
    let id = double.command("ask", ask_options(question), "ja", MEMBER);
    assert_eq!(answered_fact(&double.callback(&id).await["data"]), fact);
}

/// READY lists the bot's guilds as unavailable, as Discord does. Discord
/// sends the GUILD_CREATE that would fill each in only to clients with the
/// GUILDS intent, which kotae does not ask for (it keeps no guild cache):
/// none arrives, and kotae answers commands and mentions in those guilds
/// all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guilds_listed_unavailable_in_ready_are_answered_in() {
    let double = Double::start(1).await;
    let guilds = [GUILD_ID, GUILD_ON_SHARD_1];
    double.set_guilds(&guilds);
    let bot = start(&double, config(&double)).await;
    let dispatched = double.session_dispatches();
    let ready = &dispatched[0];
    assert_eq!(ready.1, "READY");
    let listed: Vec<Value> = guilds
        .iter()
        .map(|g| json!({"id": g.to_string(), "unavailable": true}))
        .collect();
    assert_eq!(ready.2["guilds"], json!(listed));
    let intents = double.frames(2)[0].d["intents"].as_u64().unwrap();
    assert_eq!(intents & 1, 0, "no GUILDS intent");
    assert!(!dispatched.iter().any(|d| d.1 == "GUILD_CREATE"));

    let question = "When did the Japan Centers close?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let (answer, fact) = (
        answer_description(&reply),
        reply.answer().map(|a| a.fact_id.clone()),
    );
    for guild in guilds {
        let message = double.mention_in(guild, MEMBER, question);
        let replies = replies_settled(&double, &message).await;
        assert_eq!(replies.len(), 1);
        assert_eq!(description(&replies[0]), answer);
    }
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    assert_eq!(answered_fact(&double.callback(&id).await["data"]), fact);
    // What a client with GUILDS would get is a guild serenity reads.
    let guild = discord_double::gateway::guild_json(GUILD_ON_SHARD_1);
    let parsed: poise::serenity_prelude::Guild = serde_json::from_value(guild).unwrap();
    assert_eq!(parsed.id.get(), GUILD_ON_SHARD_1);
}
