//! The moderators' workflow on Discord, on an editable copy of the shipped
//! knowledge directory watched as `kotae serve` watches it: live edits,
//! rejected edits with their line, `/reload` and `/unanswered` and who may
//! run them, corrections of earlier answers (also when the follower falls
//! behind), and 👍/👎 feedback.

#![cfg(feature = "discord")]

#[path = "support/discord_bot.rs"]
mod discord_bot;
mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_bot::*;
use discord_double::*;
use knowledge::{NEW_FACT, NEW_QUESTION};
use kotae::core::{Lang, LangChoice, messages};
use kotae::reload::ReloadReport;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MODERATOR: u64 = 1_200_000_000_000_000_003;
const MOD_CHANNEL: u64 = 1_300_000_000_000_000_010;
const MOD_ROLE: u64 = 1_300_000_000_000_000_020;
const OTHER_ROLE: u64 = 1_300_000_000_000_000_021;

const CITIES: &str = "Which cities had a Japan Center?";
const CITIES_JA: &str = "日本センターはどの都市にありましたか?";

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
            assert_eq!(
                description(&data),
                "A test answer.\\[[1](https://www.asahi.com/articles/AST1M3TKZT1MUHBI02RM.html)\\]"
            );
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
            (
                "answer.en = ",
                &format!("answer.en = \"{corrected_en} {CITE}\""),
            ),
            (
                "answer.ja = ",
                &format!("answer.ja = \"{corrected_ja}{CITE}\""),
            ),
        ],
    );
    let edit = edited_with(&double, &from_ask, messages::get(Lang::En).corrected).await;
    assert!(description(&edit).starts_with(&format!("{corrected_en}\\[1")));
    assert_eq!(answered_fact(&edit).as_deref(), Some("locations"));
    assert!(sources_text(&embeds(&edit)[0], Lang::En).contains("1. "));
    let edit = edited_with(&double, &from_mention, messages::get(Lang::Ja).corrected).await;
    assert!(description(&edit).starts_with(&format!("{corrected_ja}\\[1")));

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

/// The follower that tells the moderators and corrects answers falls
/// behind: the moderators' channel hangs on the first report while the
/// reload that changes a fact is pushed out of its queue by a flood of
/// later reports. The earlier answer is still corrected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_falls_behind_still_corrects_earlier_answers() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.moderators_channel = Some(MOD_CHANNEL);
    let bot = start_editable(&double, c, false).await;
    let dir = editable_dir(&bot).to_path_buf();
    let answer = ask_and_record(&double, &bot, CITIES, "en-US").await;

    double.hold_posts();
    let broken = Arc::new(ReloadReport::Rejected(Vec::new()));
    bot.service.publish(broken.clone());
    let corrected = "Corrected while the follower was behind.";
    edit_fact(
        &dir,
        "facts/centers.toml",
        "locations",
        &[(
            "answer.en = ",
            &format!("answer.en = \"{corrected} {CITE}\""),
        )],
    );
    let reloaded = bot.service.reload().expect("a knowledge directory");
    assert!(matches!(*reloaded, ReloadReport::Applied(_)), "{reloaded}");
    for _ in 0..100 {
        bot.service.publish(broken.clone());
    }
    double.release_posts();

    let edit = edited_with(&double, &answer, messages::get(Lang::En).corrected).await;
    assert!(description(&edit).starts_with(&format!("{corrected}\\[")));
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
        bot.service
            .records()
            .unwrap()
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
