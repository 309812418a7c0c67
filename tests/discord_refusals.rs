//! Discord saying no, and kotae taking it: the double refuses edits of
//! deleted messages (10008) and of messages someone else wrote (50005),
//! answers 429 with Discord's rate-limit headers and body, and refuses
//! bodies over Discord's limits with 50035 Invalid Form Body. Corrections
//! after a reload drop what can never be edited, go on with the rest, and
//! wait as long as Discord asks before trying a rate-limited edit again;
//! kotae's commands register, and its longest replies go out, without a
//! single 50035.

#![cfg(feature = "discord")]

#[path = "support/discord_bot.rs"]
mod discord_bot;
mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_bot::*;
use discord_double::*;
use kotae::core::{Lang, MAX_QUESTION_CHARS, messages};
use kotae::reload::{Changes, ReloadReport};
use kotae::service::Platform;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CITIES: &str = "Which cities had a Japan Center?";
const FACT: &str = "locations";
const SKYTREE: &str = "How tall is the Tokyo Skytree in centimetres?";
const EDITS: &str = "PATCH /channels/*/messages/*";

/// Rewrites the fact's English answer and reloads, as `/reload` does.
fn correct_the_fact(bot: &Bot, text: &str) {
    edit_fact(
        editable_dir(bot),
        "facts/centers.toml",
        FACT,
        &[("answer.en = ", &format!("answer.en = \"{text} {CITE}\""))],
    );
    let report = bot.service.reload().expect("a knowledge directory");
    assert!(matches!(*report, ReloadReport::Applied(_)), "{report}");
}

/// Records `message` as an answer the bot sent from the fact.
fn record_answer(bot: &Bot, message: &str) {
    bot.service
        .records()
        .unwrap()
        .answers
        .record(
            "discord",
            &CHANNEL_ID.to_string(),
            message,
            FACT,
            "what it said once",
            Lang::En,
        )
        .unwrap();
}

/// The edits of `message` so far: (status, when).
fn edit_attempts(double: &Double, message: &str) -> Vec<(u16, Instant)> {
    let route = format!("/channels/{CHANNEL_ID}/messages/{message}");
    double.log(|l| {
        l.requests
            .iter()
            .filter(|r| r.method == "PATCH" && r.route == route && r.status != 0)
            .map(|r| (r.status, r.at))
            .collect()
    })
}

/// Whether a reload touching the fact would still correct anything.
fn corrections_left(bot: &Bot) -> usize {
    let changes = Changes {
        answers_changed: vec![FACT.to_string()],
        ..Changes::default()
    };
    bot.service.corrections(Platform::Discord, &changes).len()
}

/// Waits until every message in `messages` has an edit answered 200.
async fn all_edited(double: &Double, messages: &[String], patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let missing = messages
            .iter()
            .filter(|m| !edit_attempts(double, m).iter().any(|(s, _)| *s == 200))
            .count();
        if missing == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} answers never edited",
            messages.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two answers from /ask and a member's message recorded as an answer
/// (as a restored state directory might hold); one answer is deleted
/// before the reload. Discord refuses the deleted one with 10008 and the
/// member's with 50005: each is tried once, dropped and recorded as done,
/// and the remaining answer is corrected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_of_deleted_and_foreign_messages_are_dropped_and_the_rest_corrected() {
    let double = Double::start(1).await;
    let bot = start_editable(&double, config(&double), false).await;
    let kept = ask_and_record(&double, &bot, CITIES, "en-US").await;
    let deleted = ask_and_record(&double, &bot, CITIES, "en-GB").await;
    let foreign = double.message(MEMBER, "a member's own words", vec![], None);
    record_answer(&bot, &foreign);
    double.delete_message(&deleted);

    let corrected = "Corrected after a deletion.";
    correct_the_fact(&bot, corrected);
    let edit = edited_with(&double, &kept, messages::get(Lang::En).corrected).await;
    assert!(description(&edit).starts_with(&format!("{corrected}\\[")));
    let deadline = Instant::now() + PATIENCE;
    while edit_attempts(&double, &deleted).is_empty() || edit_attempts(&double, &foreign).is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the refused edits were never tried"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let statuses =
        |m: &str| -> Vec<u16> { edit_attempts(&double, m).iter().map(|a| a.0).collect() };
    assert_eq!(statuses(&kept), [200]);
    assert_eq!(statuses(&deleted), [404], "tried once, not retried");
    assert_eq!(statuses(&foreign), [403], "tried once, not retried");
    assert_eq!(
        corrections_left(&bot),
        0,
        "the refused edits are recorded as done"
    );
    let now = double.message_now(&foreign).unwrap();
    assert_eq!(now["content"], "a member's own words");
    assert!(double.message_now(&deleted).is_none());
}

/// An editable bot, and `n` earlier messages of its own recorded as answers.
async fn bot_with_answers(double: &Double, n: usize) -> (Bot, Vec<String>) {
    let bot = start_editable(double, config(double), false).await;
    let sent: Vec<String> = (0..n)
        .map(|_| double.earlier_bot_message("what it said once"))
        .collect();
    for message in &sent {
        record_answer(&bot, message);
    }
    (bot, sent)
}

/// A reload changes a fact answered in 500 messages while Discord answers
/// 429 to one edit in twenty. Every message is edited once, each
/// rate-limited edit is tried again no sooner than its `retry_after`, and
/// nothing is left to correct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_corrects_500_answers_through_429s_without_losing_one() {
    const ANSWERS: usize = 500;
    let double = Double::start(1).await;
    let (bot, sent) = bot_with_answers(&double, ANSWERS).await;
    let limit = RateLimit::share(EDITS, 0.05);
    let retry_after = Duration::from_secs_f64(limit.retry_after);
    double.rate_limit(limit);

    let started = Instant::now();
    let corrected = "Corrected in five hundred places.";
    correct_the_fact(&bot, corrected);
    all_edited(&double, &sent, Duration::from_secs(60)).await;
    let took = started.elapsed();

    let note = messages::get(Lang::En).corrected;
    let mut refused = 0;
    for message in &sent {
        let attempts = edit_attempts(&double, message);
        let ok = attempts.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!(ok, 1, "{message}: {attempts:?}");
        assert!(attempts.iter().all(|(s, _)| matches!(s, 200 | 429)));
        for pair in attempts.windows(2) {
            assert_eq!(pair[0].0, 429, "{attempts:?}");
            let waited = pair[1].1 - pair[0].1;
            assert!(waited >= retry_after, "retried after {waited:?}");
        }
        refused += attempts.len() - 1;
        let now = double.message_now(message).unwrap();
        assert_eq!(now["content"], note);
        assert!(description(&now).starts_with(&format!("{corrected}\\[")));
    }
    assert_eq!(
        refused,
        (ANSWERS + refused) / 20,
        "one PATCH in twenty answered 429"
    );
    // The edits go out one after another: none while a 429 is waited out.
    let all: Vec<(u16, Instant)> = double.log(|l| {
        l.requests
            .iter()
            .filter(|r| r.method == "PATCH")
            .map(|r| (r.status, r.at))
            .collect()
    });
    for pair in all.windows(2) {
        if pair[0].0 == 429 {
            assert!(pair[1].1 - pair[0].1 >= retry_after);
        }
    }
    assert_eq!(corrections_left(&bot), 0);
    println!("{ANSWERS} answers corrected in {took:?} ({refused} edits answered 429 and retried)");
}

/// Three 429s in a row on one edit: it waits each time (at least
/// `retry_after`, longer as the backoff grows) and then goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_rate_limited_three_times_in_a_row_goes_through_on_the_fourth() {
    let double = Double::start(1).await;
    let bot = start_editable(&double, config(&double), false).await;
    let answer = ask_and_record(&double, &bot, CITIES, "en-US").await;
    let limit = RateLimit::times(EDITS, 3);
    let retry_after = Duration::from_secs_f64(limit.retry_after);
    double.rate_limit(limit);
    correct_the_fact(&bot, "Corrected after three refusals.");
    all_edited(&double, std::slice::from_ref(&answer), PATIENCE).await;
    let attempts = edit_attempts(&double, &answer);
    let statuses: Vec<u16> = attempts.iter().map(|a| a.0).collect();
    assert_eq!(statuses, [429, 429, 429, 200]);
    for pair in attempts.windows(2) {
        assert!(pair[1].1 - pair[0].1 >= retry_after);
    }
    let body: Value = double.log(|l| {
        l.requests
            .iter()
            .rfind(|r| r.method == "PATCH")
            .map(|r| r.body.clone())
            .unwrap()
    });
    assert_eq!(answered_fact(&body).as_deref(), Some(FACT));
    assert_eq!(corrections_left(&bot), 0);
}

/// Discord's bucket for edits allows 5 per 250 ms and says so in every
/// answer's `X-RateLimit-Remaining` and `X-RateLimit-Reset-After`: kotae
/// waits for the reset whenever the bucket is empty, so 60 corrections go
/// out without a single 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_are_paced_by_the_bucket_headers_and_never_rate_limited() {
    const ANSWERS: usize = 60;
    let double = Double::start(1).await;
    let (bot, sent) = bot_with_answers(&double, ANSWERS).await;
    let window = Duration::from_millis(250);
    double.bucket(EDITS, 5, window);
    let started = Instant::now();
    correct_the_fact(&bot, "Corrected at Discord's pace.");
    all_edited(&double, &sent, PATIENCE).await;
    let took = started.elapsed();
    let statuses: Vec<u16> = double.log(|l| {
        l.requests
            .iter()
            .filter(|r| r.method == "PATCH")
            .map(|r| r.status)
            .collect()
    });
    assert_eq!(statuses.len(), ANSWERS, "each edited once: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(took >= window * (ANSWERS as u32 / 5 - 1), "{took:?}");
    assert_eq!(corrections_left(&bot), 0);
}

/// Every kind of interaction kotae answers (answers, declines, the plain
/// commands, autocomplete, the moderators' deferred ones, a "slow down"),
/// with a double that refuses a second acknowledgement (40060) and a late
/// one (10062): each is acknowledged exactly once, in time, and Discord
/// refuses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_interaction_is_acknowledged_once_and_in_time() {
    let double = Double::start(1).await;
    let mut c = config(&double);
    c.rate_per_minute = 1;
    c.rate_burst = 2;
    let bot = start(&double, c).await;
    let manager = |user: u64| member_with(user, &[], MEMBER_PERMISSIONS | MANAGE_GUILD);
    let user = |n: u64| 1_200_000_000_000_000_100 + n;
    let fact = json!([option("fact", FACT, false)]);
    let mut ids = vec![
        double.command("ask", ask_options(CITIES), "en-US", user(1)),
        double.command("ask", ask_options(SKYTREE), "en-US", user(2)),
        double.command("topics", json!([]), "ja", user(3)),
        double.command("about", json!([]), "zh-CN", user(4)),
        double.command("timeline", json!([]), "en-US", user(5)),
        double.command("sources", fact, "en-US", user(6)),
        double.autocomplete(
            "ask",
            json!([option("question", "Which", true)]),
            "en-US",
            user(7),
        ),
        double.command_as("reload", json!([]), "en-US", manager(user(8))),
        double.command_as("unanswered", json!([]), "en-US", manager(user(9))),
    ];
    // A member over the rate limit gets "slow down".
    for _ in 0..4 {
        ids.push(double.command("ask", ask_options(CITIES), "en-US", user(10)));
    }
    for id in &ids {
        double.callback(id).await;
    }
    interaction_text(&double, &ids[7]).await;
    interaction_text(&double, &ids[8]).await;
    let slow_down = messages::get(Lang::En).slow_down;
    let mut slowed = 0;
    for id in &ids[9..] {
        slowed += usize::from(double.callback(id).await["data"]["content"] == slow_down);
    }
    assert!(slowed >= 1, "the member over the limit was slowed down");
    tokio::time::sleep(Duration::from_millis(500)).await;

    for id in &ids {
        let route = format!("/interactions/{id}/{}/callback", interaction_token(id));
        let callbacks: Vec<u16> = double.log(|l| {
            l.requests
                .iter()
                .filter(|r| r.route == route)
                .map(|r| r.status)
                .collect()
        });
        assert_eq!(callbacks, [204], "interaction {id}");
    }
    assert_eq!(double.refusals(), [], "Discord refused nothing");
    drop(bot);
}

/// An interaction kotae acknowledges too late (the double's deadline set
/// to nothing) is refused with 10062 Unknown interaction: kotae logs it and
/// does not try again, and the next interaction is answered as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_acknowledgement_is_refused_once_and_not_retried() {
    let double = Double::start(1).await;
    let _bot = start(&double, config(&double)).await;
    double.set_interaction_deadline(Duration::ZERO);
    let late = double.command("ask", ask_options(CITIES), "en-US", MEMBER);
    double.callback(&late).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refusals = double.refusals();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!((refusals[0].2, refusals[0].3), (404, 10062));
    let token = interaction_token(&late);
    let about_it = double.log(|l| {
        l.requests
            .iter()
            .filter(|r| r.route.contains(&token))
            .count()
    });
    assert_eq!(about_it, 1, "no second callback, no follow-up");

    double.set_interaction_deadline(INTERACTION_DEADLINE);
    let id = double.command("ask", ask_options(CITIES), "en-US", OTHER_MEMBER);
    let callback = double.callback(&id).await;
    assert_eq!(answered_fact(&callback["data"]).as_deref(), Some(FACT));
    assert_eq!(double.refusals().len(), 1);
}

/// A serenity REST client on the double, as kotae builds one: the real
/// client sending whatever body a test gives it.
fn raw_client(double: &Double) -> poise::serenity_prelude::Http {
    poise::serenity_prelude::HttpBuilder::new(TOKEN)
        .proxy(&double.rest_url)
        .ratelimiter_disabled(true)
        .build()
}

/// Discord's refusal of a request as serenity reads it: the code, and each
/// problem as (path, code).
fn refusal_of(error: poise::serenity_prelude::Error) -> (isize, Vec<(String, String)>) {
    use poise::serenity_prelude::{Error, HttpError};
    let Error::Http(HttpError::UnsuccessfulRequest(response)) = error else {
        panic!("not a refusal: {error:?}")
    };
    assert_eq!(response.status_code.as_u16(), 400);
    let problems = response
        .error
        .errors
        .iter()
        .map(|e| (e.path.clone(), e.code.clone()))
        .collect();
    (response.error.code, problems)
}

fn text(n: usize) -> String {
    "x".repeat(n)
}

fn embed_with(description: usize) -> Value {
    json!({"description": text(description)})
}

/// The double's checks are real: bodies one character (or one item) over a
/// Discord limit are refused with 50035 and the problem at its path, in
/// the shape serenity parses; bodies exactly at every limit go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_discords_limits_are_refused_with_invalid_form_body() {
    let double = Double::start(1).await;
    let http = raw_client(&double);
    let channel = poise::serenity_prelude::ChannelId::new(CHANNEL_ID);
    let field = |name: usize, value: usize| json!({"name": text(name), "value": text(value)});
    let over: Vec<(Value, &str, &str)> = vec![
        (
            json!({"content": text(2001)}),
            "content",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"embeds": [embed_with(4097)]}),
            "embeds.0.description",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"embeds": [{"title": text(257)}]}),
            "embeds.0.title",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"embeds": vec![embed_with(1); 11]}),
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"embeds": [embed_with(4000), embed_with(2001)]}),
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
        ),
        (
            json!({"embeds": [{"fields": [field(257, 1)]}]}),
            "embeds.0.fields.0.name",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"embeds": [{"fields": [field(1, 1025)]}]}),
            "embeds.0.fields.0.value",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"embeds": [{"fields": [field(1, 0)]}]}),
            "embeds.0.fields.0.value",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"embeds": [{"fields": vec![field(1, 1); 26]}]}),
            "embeds.0.fields",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"embeds": [{"footer": {"text": text(2049)}}]}),
            "embeds.0.footer.text",
            "BASE_TYPE_MAX_LENGTH",
        ),
    ];
    for (body, path, code) in over {
        let error = http.send_message(channel, vec![], &body).await.unwrap_err();
        let (discord_code, problems) = refusal_of(error);
        assert_eq!(discord_code, 50035, "{path}");
        assert_eq!(problems, [(path.to_string(), code.to_string())]);
    }
    // At every limit at once: accepted.
    let fields: Vec<Value> = (0..5).map(|_| field(56, 200)).collect();
    let at_limits = json!({"content": text(2000), "embeds": [
        {"title": text(256), "description": text(4096), "footer": {"text": text(128)}},
        {"fields": fields},
        embed_with(1), embed_with(1), embed_with(1), embed_with(1), embed_with(1),
        embed_with(1), embed_with(1), embed_with(1)
    ]});
    let sent = http.send_message(channel, vec![], &at_limits).await;
    assert!(sent.is_ok(), "{sent:?}");
    // Nothing to show at all: 50006.
    let error = http
        .send_message(channel, vec![], &json!({"content": ""}))
        .await
        .unwrap_err();
    assert_eq!(refusal_of(error).0, 50006);
    // The same limits hold for an interaction's response, under `data`.
    let id = "1400000000000000999";
    let error = http
        .create_interaction_response(
            id.parse::<u64>().unwrap().into(),
            "token",
            &json!({"type": 4, "data": {"content": text(2001)}}),
            vec![],
        )
        .await
        .unwrap_err();
    let (code, problems) = refusal_of(error);
    assert_eq!(code, 50035);
    assert_eq!(problems[0].0, "data.content");
}

/// Command registrations Discord would refuse are refused: an upper-case
/// name, a name with a space, a 33-character name, a 101-character
/// description, a required option after an optional one, 26 options, a
/// locale Discord does not know, an unknown context.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_registrations_over_discords_limits_are_refused() {
    let double = Double::start(1).await;
    let http = raw_client(&double);
    http.set_application_id(APP_ID.into());
    let option = |name: &str, required: bool| json!({"type": 3, "name": name, "description": "d", "required": required});
    let many: Vec<Value> = (0..26).map(|i| option(&format!("o{i}"), false)).collect();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"name": "Ask", "description": "d"}),
            "0.name",
            "APPLICATION_COMMAND_INVALID_NAME",
        ),
        (
            json!({"name": "ask me", "description": "d"}),
            "0.name",
            "APPLICATION_COMMAND_INVALID_NAME",
        ),
        (
            json!({"name": text(33), "description": "d"}),
            "0.name",
            "APPLICATION_COMMAND_INVALID_NAME",
        ),
        (
            json!({"name": "ask", "description": text(101)}),
            "0.description",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"name": "ask", "description": ""}),
            "0.description",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"name": "ask", "description": "d",
                "options": [option("lang", false), option("question", true)]}),
            "0.options.1.required",
            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
        ),
        (
            json!({"name": "ask", "description": "d", "options": many}),
            "0.options",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"name": "ask", "description": "d", "name_localizations": {"jp": "質問"}}),
            "0.name_localizations.jp",
            "ENUM_TYPE_COERCE",
        ),
        (
            json!({"name": "ask", "description": "d", "name_localizations": {"ja": "質 問"}}),
            "0.name_localizations.ja",
            "APPLICATION_COMMAND_INVALID_NAME",
        ),
        (
            json!({"name": "ask", "description": "d", "contexts": [0, 3]}),
            "0.contexts.1",
            "ENUM_TYPE_COERCE",
        ),
    ];
    for (command, path, code) in cases {
        let error = http
            .create_global_commands(&json!([command]))
            .await
            .unwrap_err();
        let (discord_code, problems) = refusal_of(error);
        assert_eq!(discord_code, 50035, "{path}");
        assert_eq!(problems, [(path.to_string(), code.to_string())]);
    }
    let fine = json!([{"name": "質問", "description": "d", "options": [option("q", true)]}]);
    assert!(http.create_global_commands(&fine).await.is_ok());
}

/// kotae's own command set, as each configuration registers it (globally
/// or in a guild, with or without a moderator role), passes every check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kotaes_commands_register_without_a_refusal() {
    for (guild, role) in [(None, None), (Some(GUILD_ID), Some(42))] {
        let double = Double::start(1).await;
        let mut c = config(&double);
        (c.guild_id, c.moderator_role) = (guild, role);
        let _bot = start(&double, c).await;
        let put = double
            .wait("the registration's answer", |l| {
                l.requests
                    .iter()
                    .find(|r| r.method == "PUT" && r.status != 0)
                    .cloned()
            })
            .await;
        assert_eq!(put.status, 200, "{:?}", double.refusals());
        assert_eq!(put.body.as_array().unwrap().len(), 7);
        assert_eq!(double.log(|l| l.validated), 1);
    }
}

/// kotae's longest real replies against the double's checks: every fact's
/// answer in every language, asked with a question of the longest length
/// `/ask` takes (1,000 characters, quoting the fact's question), `/topics`
/// and `/about` in every locale, `/sources` for every fact, `/timeline`,
/// autocomplete on a long partial question, and 100 KB messages mentioning
/// the bot and sent to it directly. Discord refuses none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kotaes_longest_replies_are_never_refused_as_invalid_form_body() {
    let double = Double::start(1).await;
    let bot = start(&double, config(&double)).await;
    let base = bot.core.snapshot().base.clone();
    let mut ids = Vec::new();
    for fact in base.facts() {
        for (n, lang) in [Lang::Ja, Lang::Zh, Lang::En].into_iter().enumerate() {
            let question = fact.questions.get(lang)[0].clone();
            let pad = MAX_QUESTION_CHARS - question.chars().count() - 2;
            let quoted = format!("「{question}」{}", "…".repeat(pad));
            assert_eq!(quoted.chars().count(), MAX_QUESTION_CHARS);
            for asked in [question, quoted] {
                let options = json!([option("question", asked, false), option("lang", n, false)]);
                ids.push(double.command("ask", options, "en-US", MEMBER));
            }
        }
        let options = json!([option("fact", fact.id.clone(), false)]);
        ids.push(double.command("sources", options, "ja", MEMBER));
    }
    for locale in ["ja", "zh-CN", "zh-TW", "en-US"] {
        ids.push(double.command("topics", json!([]), locale, MEMBER));
        ids.push(double.command("about", json!([]), locale, MEMBER));
        ids.push(double.command("timeline", json!([]), locale, MEMBER));
    }
    let partial = json!([option("question", "Japan ".repeat(150), true)]);
    ids.push(double.autocomplete("ask", partial, "en-US", MEMBER));
    for id in &ids {
        double.callback(id).await;
    }
    let huge = "質問ですか？ why? ".repeat(100_000 / 24);
    double.message(
        MEMBER,
        &format!("<@{BOT_ID}> {huge}"),
        vec![bot_user()],
        None,
    );
    double.direct_message(OTHER_MEMBER, &huge);
    double
        .wait("the replies to both 100 KB messages", |l| {
            let posted = l.requests.iter().filter(|r| r.route.ends_with("/messages"));
            (posted.filter(|r| r.status != 0).count() >= 2).then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(double.refusals(), [], "Discord refused nothing");
    let checked = double.log(|l| l.validated);
    assert!(checked > ids.len(), "{checked} bodies checked");
    let answered = ids
        .iter()
        .filter(|id| {
            double
                .interaction_messages(id)
                .iter()
                .any(|m| answered_fact(m).is_some())
        })
        .count();
    assert!(answered >= base.facts().len() * 3, "{answered} answers");
    println!("{checked} bodies checked against Discord's limits, none refused");
    drop(bot);
}
