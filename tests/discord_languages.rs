//! Every word a member reads on Discord is in their language, and every
//! word a moderator reads in the moderators' configured one: `/topics`,
//! `/sources`, `/timeline`, refusals and the rate limit's "slow down" in
//! each of the three locales; the help for a mention with no question in
//! the member's language (or all three, before the bot has seen them); and
//! `/reload`, `/unanswered` and the moderators' channel in
//! `moderators_lang`. The real serenity/poise client runs against the
//! in-process double in `tests/discord_double`.

#![cfg(feature = "discord")]

#[path = "support/discord_bot.rs"]
mod discord_bot;
mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_bot::*;
use discord_double::*;
use kotae::core::messages::{self, fill};
use kotae::core::{Lang, timeline};
use serde_json::{Value, json};

const LOCALES: [(&str, Lang); 3] = [("ja", Lang::Ja), ("zh-CN", Lang::Zh), ("en-US", Lang::En)];
const MODERATOR: u64 = 1_200_000_000_000_000_003;
const MOD_CHANNEL: u64 = 1_300_000_000_000_000_010;

fn title(message: &Value) -> String {
    embeds(message)[0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn is_ephemeral(message: &Value) -> bool {
    message["flags"].as_u64().unwrap_or(0) & EPHEMERAL == EPHEMERAL
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_answer_in_each_members_locale() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let snapshot = bot.core.snapshot();
    for (locale, lang) in LOCALES {
        let m = messages::get(lang);

        let id = double.command("topics", json!([]), locale, MEMBER);
        let topics = double.callback(&id).await["data"].clone();
        assert_eq!(title(&topics), m.topics, "{locale}");
        let first = &snapshot.topics(lang)[0];
        assert!(description(&topics).contains(&first.question), "{locale}");

        let options = json!([option("fact", "no-such-fact", false)]);
        let id = double.command("sources", options, locale, MEMBER);
        let unknown = double.callback(&id).await["data"].clone();
        assert_eq!(unknown["content"], m.unknown_fact, "{locale}");

        let id = double.command("timeline", json!([]), locale, MEMBER);
        let shown = double.callback(&id).await["data"].clone();
        assert!(is_ephemeral(&shown));
        let entries = timeline::timeline(&snapshot.base, lang);
        if entries.is_empty() {
            assert_eq!(description(&shown), m.timeline_empty, "{locale}");
        } else {
            assert_eq!(title(&shown), m.timeline, "{locale}");
            let text = description(&shown);
            let first = &entries[0];
            assert!(
                text.contains(&first.fact) && text.contains(&first.text),
                "{text}"
            );
            if let Some(disputed) = entries.iter().find(|e| e.disputed) {
                assert!(text.contains(m.disputed_date), "{text}");
                assert!(text.contains(&disputed.fact), "{text}");
            }
        }

        let id = double.command("reload", json!([]), locale, MEMBER);
        let refused = double.callback(&id).await["data"].clone();
        assert_eq!(refused["content"], m.not_moderator, "{locale}");
        assert!(is_ephemeral(&refused));
    }
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_asking_too_fast_is_told_to_slow_down_in_their_locale() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    (c.rate_per_minute, c.rate_burst) = (1, 1);
    let _bot = start(&double, c).await;
    for (n, (locale, lang)) in LOCALES.into_iter().enumerate() {
        // One member per locale: the limit is per member.
        let member = MEMBER + 100 + n as u64;
        let id = double.command("topics", json!([]), locale, member);
        assert_eq!(
            title(&double.callback(&id).await["data"]),
            messages::get(lang).topics
        );
        let id = double.command("timeline", json!([]), locale, member);
        let slow = double.callback(&id).await["data"].clone();
        assert_eq!(slow["content"], messages::get(lang).slow_down, "{locale}");
        assert!(is_ephemeral(&slow));
    }
}

/// The bot's reply to a mention, once it is sent.
async fn reply_to(double: &Double, mention: &str) -> Value {
    double
        .wait_request("the reply to a mention", |r| {
            r.body["message_reference"]["message_id"] == mention
        })
        .await
        .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_without_a_question_gets_the_help_in_the_members_language() {
    let double = Double::start(1).await;
    let _bot = start(&double, config(&double)).await;
    let mention = |member: u64, text: &str| {
        double.message(
            member,
            &format!("<@{BOT_ID}> {text}"),
            vec![bot_user()],
            None,
        )
    };

    // Never seen: the help in every language, with every command.
    let first = reply_to(&double, &mention(MEMBER, "")).await;
    let help = description(&first);
    for lang in Lang::ALL {
        let m = messages::get(lang);
        assert!(help.contains(m.help), "{lang}: {help}");
        assert!(
            help.contains(&format!("/timeline — {}", m.cmd_timeline)),
            "{help}"
        );
    }

    // After a question in Japanese: the help in Japanese only.
    reply_to(
        &double,
        &mention(MEMBER, "日本センターはいつ閉鎖されましたか?"),
    )
    .await;
    let help = description(&reply_to(&double, &mention(MEMBER, "")).await);
    let ja = messages::get(Lang::Ja);
    assert!(help.starts_with(ja.help), "{help}");
    assert!(help.contains(ja.cmd_unanswered), "{help}");
    assert!(!help.contains(messages::get(Lang::En).help), "{help}");

    // After a command from a Chinese client: the help in Chinese.
    let id = double.command("topics", json!([]), "zh-TW", OTHER_MEMBER);
    double.callback(&id).await;
    let help = description(&reply_to(&double, &mention(OTHER_MEMBER, "")).await);
    assert!(help.starts_with(messages::get(Lang::Zh).help), "{help}");
    assert_no_pings(&double);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_read_reports_and_the_digest_in_their_configured_language() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.moderators_channel = Some(MOD_CHANNEL);
    c.moderators_lang = Lang::Ja;
    let bot = start_editable(&double, c, false).await;
    let dir = bot.knowledge.as_ref().unwrap().path().to_path_buf();
    knowledge::save(&dir.join("facts/new.toml"), knowledge::NEW_FACT);
    let ja = messages::get(Lang::Ja);

    // The manager's client is in English; the moderators read Japanese.
    let manager = member_with(MODERATOR, &[], MEMBER_PERMISSIONS | MANAGE_GUILD);
    let id = double.command_as("reload", json!([]), "en-US", manager.clone());
    let text = interaction_text(&double, &id).await;
    let applied = fill(ja.reload_applied, &[("revision", "")]);
    let opening = applied.split('（').next().unwrap();
    assert!(text.contains(opening), "{text}");
    assert!(text.contains("追加：test-new-fact"), "{text}");
    let report = double
        .wait("the report in the moderators' channel", |l| {
            l.posted
                .iter()
                .filter(|(channel, _, _)| *channel == MOD_CHANNEL.to_string())
                .filter_map(|(_, _, body)| body["content"].as_str())
                .find(|content| content.contains("test-new-fact"))
                .map(str::to_string)
        })
        .await;
    assert!(report.contains("追加：test-new-fact"), "{report}");
    assert!(!report.contains("reloaded"), "{report}");

    let id = double.command_as("unanswered", json!([]), "en-US", manager);
    let digest = interaction_text(&double, &id).await;
    assert!(digest.contains(ja.digest_empty), "{digest}");
    assert_no_pings(&double);
}
