//! Asking the Discord adapter: `/ask` in each language, the locale and the
//! `lang` option, autocomplete, declines, `/topics`, `/sources`, `/about`,
//! messages that mention the bot, the rate limit, inert rendering,
//! answers too long for one message, answers slow enough to be deferred,
//! and `/ask` in DMs, group DMs and guilds through a member's own install. The real serenity/poise client runs
//! against the in-process double in `tests/discord_double`; every
//! assertion is on a payload the bot sent.

#![cfg(feature = "discord")]

#[path = "support/discord_bot.rs"]
mod discord_bot;
mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_bot::*;
use discord_double::*;
use kotae::core::load::{KnowledgeFiles, load};
use kotae::core::{FactBase, Lang, LangChoice, Outcome, messages};
use kotae::discord::render;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
    let answer = answer_description(&reply);
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
    // The member asked in English: the help and the commands in English.
    let help = description(&sent.body);
    assert!(help.starts_with(messages::get(Lang::En).help), "{help}");
    assert!(help.contains("/timeline"), "{help}");

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
    assert_eq!(description(&sent.body), answer_description(&reply));

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

/// Without the privileged Message Content intent (the default), Discord
/// still sends the content of a message that mentions the bot, and of a DM:
/// those are answered. A plain message, and a reply that does not ping the
/// bot, arrive empty and are left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_and_dms_are_answered_without_the_message_content_intent() {
    let double = Double::start(1).await;
    double.refuse_privileged_intents();
    let bot = start(&double, config(&double)).await;
    let intents = double.frames(2)[0].d["intents"].as_u64().unwrap();
    assert_eq!(
        intents,
        1 << 9 | 1 << 10 | 1 << 12 | 1 << 13,
        "guild and direct messages and reactions, nothing privileged"
    );
    let question = "When did the Japan Centers close?";
    let answer = answer_description(&expected(&bot, question, LangChoice::Detect));
    let replies_to =
        |id: String| move |r: &Request| r.body["message_reference"]["message_id"] == id.as_str();

    let plain = double.message(MEMBER, question, vec![], None);
    let earlier = message_json(&double.new_id(), bot_user(), "");
    let unpinged_reply = double.message(OTHER_MEMBER, question, vec![], Some(earlier));
    let mention = format!("<@{BOT_ID}> {question}");
    let mentioned = double.message(MEMBER, &mention, vec![bot_user()], None);
    let sent = double
        .wait_request("the reply to a mention", replies_to(mentioned))
        .await;
    assert_eq!(description(&sent.body), answer);
    let dm = double.direct_message(MEMBER, question);
    let sent = double
        .wait_request("the answer to a DM", replies_to(dm))
        .await;
    assert_eq!(description(&sent.body), answer);

    // Everything above was dispatched before the DM, and events are
    // handled in order: what was not answered by now never will be.
    let all = double.channel_messages();
    assert_eq!(all.len(), 2, "{all:?}");
    for not_answered in [plain, unpinged_reply] {
        assert!(
            !all.iter()
                .any(|m| m["message_reference"]["message_id"] == not_answered.as_str())
        );
    }
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
answer.en = "{answer} [press]"
answer.ja = "長い話。[press]"
answer.zh = "长故事。[press]"
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
    assert_eq!(
        squash(&text),
        squash(&format!("{answer}\\[[1](https://example.org/article)\\]"))
    );
    let last = embeds(pages.last().unwrap()).last().cloned().unwrap();
    assert!(
        last["footer"]["text"]
            .as_str()
            .unwrap()
            .starts_with("long-story")
    );
    assert!(sources_text(&last, Lang::En).contains("](https://example.org/article)"));
    assert_no_pings(&double);
    assert_eq!(
        double.refusals(),
        [],
        "no 50035: every page within the limits"
    );
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

/// The requests about one interaction, in order: (method, route, status).
fn interaction_requests(double: &Double, id: &str) -> Vec<(String, String, u16)> {
    let token = interaction_token(id);
    double.log(|l| {
        l.requests
            .iter()
            .filter(|r| r.route.contains(&token))
            .map(|r| (r.method.clone(), r.route.clone(), r.status))
            .collect()
    })
}

/// When the embeddings server takes 2.5 s (and `embeddings.timeout_ms`
/// lets kotae wait for it), `/ask` cannot answer within Discord's 3 s: it
/// defers (callback type 5) about 1.5 s in, then puts the answer in the
/// deferred response with an edit of `@original`. The member sees one
/// message, the answer; Discord refuses nothing (no 10062, no 40060); the
/// answer is recorded for corrections. A slow decline is deferred the
/// same way, and the public "thinking" message is replaced by an
/// ephemeral follow-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_deferred_then_delivered_once() {
    let model = SlowModel::start().await;
    let double = Double::start(1).await;
    let bot = start_with_embeddings(&double, config(&double), &model.url).await;
    model.slow_down(Duration::from_millis(2500));
    let question = "Which cities had a Japan Center?";
    let reply = expected(&bot, question, LangChoice::Detect);

    let asked = Instant::now();
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    let deferral = double.callback(&id).await;
    let deferred_after = asked.elapsed();
    assert_eq!(deferral["type"], 5, "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE");
    assert_eq!(
        deferral["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        0
    );
    assert!(
        deferred_after >= Duration::from_millis(1400),
        "{deferred_after:?}"
    );
    assert!(deferred_after < INTERACTION_DEADLINE, "{deferred_after:?}");
    let original = format!(
        "/webhooks/{APP_ID}/{}/messages/@original",
        interaction_token(&id)
    );
    let edit = double
        .wait_request("the answer in the deferred response", |r| {
            r.method == "PATCH" && r.route == original
        })
        .await;
    let answered_after = asked.elapsed();
    assert!(
        answered_after >= Duration::from_millis(2500),
        "{answered_after:?}"
    );
    assert_eq!(description(&edit.body), answer_description(&reply));
    assert_eq!(
        answered_fact(&edit.body),
        reply.answer().map(|a| a.fact_id.clone())
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shown = double.shown(&id);
    assert_eq!(shown.len(), 1, "one message: {shown:#?}");
    assert_eq!(description(&shown[0]), answer_description(&reply));
    assert_eq!(
        shown[0]["flags"].as_u64().unwrap() & (EPHEMERAL | LOADING),
        0
    );
    let requests = interaction_requests(&double, &id);
    let callbacks = requests
        .iter()
        .filter(|r| r.1.ends_with("/callback"))
        .count();
    assert_eq!(callbacks, 1, "acknowledged once: {requests:?}");
    assert_eq!(double.refusals(), [], "no 10062, no 40060");
    let message = double.original_id(&id).unwrap();
    wait_recorded(&bot, &message).await;
    println!("deferred after {deferred_after:?}, answered after {answered_after:?}");

    // A slow decline: deferred publicly, then only the member sees it.
    let id = double.command(
        "ask",
        ask_options("What is the capital of Peru?"),
        "en-US",
        MEMBER,
    );
    assert_eq!(double.callback(&id).await["type"], 5);
    let followups = double
        .wait("the decline's follow-up", |l| {
            let route = format!("/webhooks/{APP_ID}/{}", interaction_token(&id));
            l.requests
                .iter()
                .find(|r| r.route == route && r.status == 200)
                .cloned()
        })
        .await;
    assert_eq!(
        followups.body["flags"].as_u64().unwrap() & EPHEMERAL,
        EPHEMERAL
    );
    let methods: Vec<String> = interaction_requests(&double, &id)
        .into_iter()
        .map(|(method, route, _)| format!("{method} {}", route.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(
        methods,
        [
            "POST callback",
            "DELETE @original",
            &format!("POST {}", interaction_token(&id))
        ]
    );
    let shown = double.shown(&id);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0]["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(description(&shown[0]).starts_with(messages::get(Lang::En).decline));
    assert_eq!(double.refusals(), []);
    assert_no_pings(&double);
}

/// A quick answer is not deferred, even with the embeddings server on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_answer_is_not_deferred() {
    let model = SlowModel::start().await;
    let double = Double::start(1).await;
    let bot = start_with_embeddings(&double, config(&double), &model.url).await;
    let question = "Which cities had a Japan Center?";
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    let callback = double.callback(&id).await;
    assert_answer(&callback, &expected(&bot, question, LangChoice::Detect));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(double.shown(&id).len(), 1);
}

/// `/ask` and the other members' commands are offered in a DM with the
/// bot (context 1), in group DMs (context 2) and in guilds that did not
/// install the bot, through a member's own install (integration type 1);
/// the interaction carries `user` instead of `member` outside guilds. Each
/// is answered. Answers where the bot can edit later (its guild, its DM)
/// are recorded for corrections; the others are not. The moderators'
/// commands are offered only in guilds that installed the bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_is_answered_in_dms_group_dms_and_through_a_members_own_install() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let put = double.wait_request("the PUT", |r| r.method == "PUT").await;
    for c in put.body.as_array().unwrap() {
        let moderators = c["name"] == "reload" || c["name"] == "unanswered";
        let (installs, contexts) = if moderators {
            (json!([0]), json!([0]))
        } else {
            (json!([0, 1]), json!([0, 1, 2]))
        };
        assert_eq!(
            (&c["integration_types"], &c["contexts"]),
            (&installs, &contexts)
        );
    }
    let question = "When did the Japan Centers close?";
    let reply = expected(&bot, question, LangChoice::Detect);
    let places = [
        (Place::Guild, true),
        (Place::BotDm, true),
        (Place::PrivateChannel, false),
        (Place::UserInstalledGuild, false),
    ];
    for (place, recorded) in places {
        let id = double.command_in(place, "ask", ask_options(question), "en-US", MEMBER);
        assert_answer(&double.callback(&id).await, &reply);
        let message = double.original_id(&id).unwrap();
        let deadline = Instant::now() + Duration::from_millis(500);
        let is_recorded = loop {
            let channel = CHANNEL_ID.to_string();
            let found = bot
                .service
                .records()
                .unwrap()
                .answers
                .find("discord", &channel, &message);
            if found.unwrap().is_some() || Instant::now() > deadline {
                break Instant::now() <= deadline;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(is_recorded, recorded, "{place:?}");
        for command in ["topics", "about"] {
            let id = double.command_in(place, command, json!([]), "ja", MEMBER);
            assert!(
                !embeds(&double.callback(&id).await["data"]).is_empty(),
                "/{command} {place:?}"
            );
        }
        for moderators in ["reload", "unanswered"] {
            assert_eq!(double.offered(place, moderators), place == Place::Guild);
        }
    }
    assert_eq!(double.refusals(), []);
}
