//! The moderators' workflow on Matrix, on a copy of the knowledge
//! directory that the test edits as a moderator would: `!reload` and
//! `!unanswered` (and who may use them), live edits and broken ones
//! reported in the moderators' room, earlier answers corrected in place
//! (also when the follower falls behind), and 👍/👎 on answers recorded
//! per fact.

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

use knowledge::{NEW_FACT, NEW_QUESTION, knowledge_copy, save};
use kotae::core::{Lang, messages};
use matrix_sdk::ruma::OwnedRoomOrAliasId;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_world::{Seen, World, eventually};
use std::time::Instant;

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
    assert!(answer.body().starts_with(&locations.plain_text(Lang::En)));
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
    assert!(still.body().starts_with(&locations.plain_text(Lang::En)));
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
    assert!(
        new_body.contains(&locations.plain_text(Lang::En)),
        "the rest of the answer"
    );
    assert!(corrected.body().starts_with("* Corrected for the test."));
    assert_pings_no_one(&corrected);

    // Then retract it: the reply now says it was withdrawn.
    edit_fact(
        &centers,
        "locations",
        &format!("status = \"{}\"", locations.status.as_str()),
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

/// The follower that tells the moderators and corrects answers falls
/// behind: the homeserver hangs (SIGSTOP) while the follower posts the
/// first report, and the reload that changes a fact is pushed out of its
/// queue by a flood of later reports. Once the homeserver is back, the
/// earlier answer is still corrected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_falls_behind_still_corrects_earlier_answers() {
    use kotae::reload::ReloadReport;
    use std::sync::Arc;
    let knowledge = knowledge_copy();
    let mut world = World::new().await;
    world.bot.use_knowledge(knowledge.path());
    let mods = world.tester.create_room(&[&world.bot_id], false).await;
    world.bot.config.moderators_room = Some(mods.room_id().to_owned().into());
    world.bot.start();
    world
        .tester
        .wait_membership(&mods, &world.bot_id, MembershipState::Join)
        .await;
    let room = world.group_room().await;
    let question = world.tester.say(&room, &format!("!ask {LOCATIONS}")).await;
    let answer = world.tester.reply(&world.bot_id, &question).await;
    let service = world.bot.service().clone();
    let answers = &service.records().expect("records").answers;
    eventually("the answer to be recorded", || {
        let found = answers.find(
            "matrix",
            room.room_id().as_str(),
            answer.event.event_id.as_str(),
        );
        std::future::ready(found.unwrap().is_some())
    })
    .await;

    world.synapse.pause();
    let broken = Arc::new(ReloadReport::Rejected(Vec::new()));
    service.publish(broken.clone());
    edit_fact(
        &knowledge.path().join("facts/centers.toml"),
        "locations",
        "answer.en = \"",
        "answer.en = \"Corrected while the follower was behind. ",
    );
    let reloaded = tokio::task::block_in_place(|| service.reload()).expect("a directory");
    assert!(matches!(*reloaded, ReloadReport::Applied(_)), "{reloaded}");
    for _ in 0..100 {
        service.publish(broken.clone());
    }
    world.synapse.resume();

    let corrected = world
        .tester
        .edit_of(&world.bot_id, &answer.event.event_id, |m| {
            m.new_body()
                .is_some_and(|b| b.starts_with("Corrected while the follower was behind."))
        })
        .await;
    assert!(
        corrected
            .new_body()
            .unwrap()
            .ends_with(messages::get(Lang::En).corrected)
    );
}
