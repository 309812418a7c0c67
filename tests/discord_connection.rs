//! The Discord adapter's connection: command registration (in a guild or
//! globally, localised), autosharding, retrying when Discord refuses the
//! token or an intent, resuming a dropped connection, and a clean stop.
//! The real serenity/poise client runs against the in-process double in
//! `tests/discord_double`; every assertion is on a payload the bot sent.

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
