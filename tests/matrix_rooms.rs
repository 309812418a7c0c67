//! Rooms never wait on each other, against a real Synapse: the bot talks
//! to it through a proxy (`support/matrix_proxy.rs`) that can hold, or
//! fail, the bot's sends into one room. Another room is still answered
//! within a second; the troubled room's questions are answered in order
//! once it recovers, and a reply that cannot be sent is given up after a
//! bounded number of attempts, so the room's next question is answered.

#![cfg(feature = "matrix")]
#![recursion_limit = "256"]

#[path = "support/matrix_proxy.rs"]
mod matrix_proxy;
#[path = "support/matrix_replies.rs"]
mod matrix_replies;
#[path = "support/matrix_world.rs"]
mod matrix_world;
#[path = "support/synapse.rs"]
mod synapse;

use kotae::core::LangChoice;
use matrix_proxy::{Proxy, Trouble};
use matrix_replies::*;
use matrix_world::{World, eventually};
use std::time::{Duration, Instant};

/// A world whose bot reaches Synapse through a proxy, and two group rooms
/// where the bot has answered once (so it has joined and synced both).
async fn world_with_proxy() -> (World, Proxy, matrix_sdk::Room, matrix_sdk::Room) {
    let mut world = World::new().await;
    let proxy = Proxy::start(&world.synapse.url()).await;
    world.bot.config.homeserver = proxy.url.clone();
    world.bot.start();
    world.bot.wait_connected().await;
    let stuck = world.group_room().await;
    let free = world.group_room().await;
    for room in [&stuck, &free] {
        let asked = world.tester.say(room, "!ask hello").await;
        world.tester.reply(&world.bot_id, &asked).await;
    }
    (world, proxy, stuck, free)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_whose_sends_hang_does_not_delay_another_room() {
    let (world, proxy, stuck, free) = world_with_proxy().await;
    proxy.hold(stuck.room_id().as_str());

    let first = world
        .tester
        .say(&stuck, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    eventually("the bot's reply in the stuck room to be held", || {
        std::future::ready(proxy.holding() > 0)
    })
    .await;
    let (second_question, _) = WHO_ANNOUNCED[0];
    let second = world
        .tester
        .say(&stuck, &format!("!ask {second_question}"))
        .await;

    let (question, _) = WHO_ANNOUNCED[1];
    let asked_at = Instant::now();
    let asked = world.carol.say(&free, &format!("!ask {question}")).await;
    let reply = world.carol.reply(&world.bot_id, &asked).await;
    let latency = reply.at - asked_at;
    println!("other room answered {latency:?} after its question, one room held");
    assert_answers(
        &reply,
        &core_reply(question, LangChoice::Detect),
        &world.carol.id,
    );
    assert!(
        latency < Duration::from_secs(1),
        "the free room waited {latency:?}"
    );
    assert!(proxy.holding() > 0, "the stuck room's reply is still held");
    assert!(world.tester.replies(&world.bot_id, &first).is_empty());

    // Released, the stuck room gets both answers, in the order asked.
    proxy.release();
    let first_reply = world.tester.reply(&world.bot_id, &first).await;
    let second_reply = world.tester.reply(&world.bot_id, &second).await;
    assert_answers(
        &first_reply,
        &core_reply(WHEN_FOUNDED, LangChoice::Detect),
        &world.tester.id,
    );
    let from_bot: Vec<_> = world
        .tester
        .messages(|m| m.room == stuck.room_id() && m.event.sender == world.bot_id)
        .into_iter()
        .map(|m| m.event.event_id)
        .collect();
    let position = |id| from_bot.iter().position(|e| *e == id).unwrap();
    assert!(
        position(first_reply.event.event_id.clone()) < position(second_reply.event.event_id),
        "the stuck room's answers in the order asked"
    );
    assert_eq!(
        world.tester.replies(&world.bot_id, &first).len(),
        1,
        "a retried send is one message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_cannot_be_sent_is_given_up_and_the_room_goes_on() {
    let (world, proxy, stuck, free) = world_with_proxy().await;
    proxy.trouble(Trouble::Fail(stuck.room_id().to_string()));

    let failed = world
        .tester
        .say(&stuck, &format!("!ask {WHEN_FOUNDED}"))
        .await;
    eventually("the bot to try the failing room", || {
        std::future::ready(proxy.troubled() > 0)
    })
    .await;
    // Meanwhile the other room is answered as usual.
    let (question, _) = WHO_ANNOUNCED[2];
    let asked = world.carol.say(&free, &format!("!ask {question}")).await;
    world.carol.reply(&world.bot_id, &asked).await;

    // Five attempts (about 8 s of backoff between them), then the reply
    // is given up: no sixth attempt comes, even well after.
    eventually("five attempts at the failing room", || {
        std::future::ready(proxy.troubled() >= 5)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(proxy.troubled(), 5, "at most five attempts per send");

    proxy.trouble(Trouble::None);
    let next = world.tester.say(&stuck, "!ask hello again").await;
    world.tester.reply(&world.bot_id, &next).await;
    assert!(
        world.tester.replies(&world.bot_id, &failed).is_empty(),
        "the given-up reply is not sent later"
    );
}
