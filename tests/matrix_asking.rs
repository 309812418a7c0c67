//! Asking the Matrix adapter, against a real Synapse on 127.0.0.1 (see
//! `support/synapse.rs`; each test has its own homeserver): answers in
//! three languages, mentions and direct rooms, threads, encrypted rooms,
//! invites, inert markup, the commands and the rate limit. Assertions are
//! on what members receive.

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

use kotae::core::messages::fill;
use kotae::core::{Lang, LangChoice, messages};
use matrix_replies::*;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{Relation, RoomMessageEventContent};
use matrix_world::World;

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
async fn commands_topics_sources_timeline_lang_and_help_in_the_askers_language() {
    let mut world = World::new().await;
    // The tester is a moderator, and moderators read Chinese.
    world.bot.config.moderators = vec![world.tester.id.clone()];
    world.bot.config.moderators_lang = Lang::Zh;
    world.bot.start();
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

    // `!lang` answers in the language just chosen.
    let zh = messages::get(Lang::Zh);
    assert_eq!(
        ask("!lang zh").await.body(),
        fill(zh.lang_set, &[("lang", "中文")])
    );
    let (question, _) = WHO_ANNOUNCED[0];
    let id = world.tester.say(&room, &format!("!ask {question}")).await;
    let reply = world.tester.reply(&world.bot_id, &id).await;
    assert_answers(
        &reply,
        &core_reply(question, LangChoice::Explicit(Lang::Zh)),
        &world.tester.id,
    );
    let help = ask("!help").await;
    assert!(help.body().starts_with(zh.help), "{}", help.body());
    assert!(
        help.body()
            .contains(&format!("!timeline — {}", zh.cmd_timeline)),
        "{}",
        help.body()
    );
    assert!(
        help.html()
            .is_some_and(|h| h.contains("<code>!timeline</code>")),
        "{help:?}"
    );
    let timeline = ask("!timeline").await;
    let entries = kotae::core::timeline::timeline(&snapshot.base, Lang::Zh);
    if entries.is_empty() {
        assert_eq!(timeline.body(), zh.timeline_empty);
    } else {
        assert!(
            timeline.body().starts_with(zh.timeline),
            "{}",
            timeline.body()
        );
        assert!(timeline.body().contains(&entries[0].to_line(Lang::Zh)));
    }
    // The moderators' commands answer in the moderators' language.
    assert_eq!(ask("!reload").await.body(), zh.reload_nothing);
    let en = messages::get(Lang::En);
    assert_eq!(ask("!lang auto").await.body(), en.lang_auto);
    assert_eq!(
        ask("!lang fr").await.body(),
        fill(en.lang_usage, &[("command", "!lang")])
    );
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
