//! The bot's cryptographic identity, against a real Synapse on 127.0.0.1
//! (see `support/synapse.rs`): on a fresh state directory the bot creates
//! its cross-signing identity, which signs its device, and sets up
//! recovery; a member whose client reads only cross-signed devices reads
//! its encrypted answers; with the state directory lost, the recovery key
//! restores the identity on a new device, which that member reads too, and
//! without it the new device stays unverified rather than replacing the
//! identity. The store is encrypted with a passphrase file, and a store
//! from before (made without one) keeps working.
//!
//! What the homeserver shows (`/keys/query`), what `/healthz` says and what
//! members read are asserted, not the bot's own view of itself.

#![cfg(feature = "matrix")]
#![recursion_limit = "256"]

#[path = "support/matrix_replies.rs"]
mod matrix_replies;
#[path = "support/matrix_world.rs"]
mod matrix_world;
#[path = "support/synapse.rs"]
mod synapse;

use kotae::core::LangChoice;
use kotae::matrix::SenderTrust;
use kotae::service::{Platform, Shutdown};
use matrix_replies::*;
use matrix_sdk::deserialized_responses::{
    TimelineEventKind, UnableToDecryptReason, VerificationLevel,
};
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::{EventId, OwnedEventId, UserId};
use matrix_sdk::{Client, Room};
use matrix_world::{Bot, Member, PASSWORD, PATIENCE, World, eventually};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

/// The bot's cross-signing keys and one device's signatures, as the
/// homeserver serves them to other members.
struct ServedKeys {
    master: String,
    self_signing: String,
    /// The keys that signed the device (`ed25519:<key>`).
    device_signers: Vec<String>,
}

impl ServedKeys {
    fn of(world: &World, device: &str) -> ServedKeys {
        let token = world.tester.client.access_token().expect("tester token");
        let bot = world.bot_id.as_str();
        let keys = world.synapse.keys_query(&token, bot);
        let only_key = |section: &str| -> String {
            let keys = keys[section][bot]["keys"]
                .as_object()
                .unwrap_or_else(|| panic!("no {section} for {bot}: {keys}"));
            assert_eq!(keys.len(), 1, "{section}: {keys:?}");
            keys.values().next().unwrap().as_str().unwrap().to_string()
        };
        let signatures = keys["device_keys"][bot][device]["signatures"][bot]
            .as_object()
            .unwrap_or_else(|| panic!("no device {device} of {bot}: {keys}"));
        ServedKeys {
            master: only_key("master_keys"),
            self_signing: only_key("self_signing_keys"),
            device_signers: signatures.keys().cloned().collect(),
        }
    }

    /// Signed by the self-signing key, as a verified device is.
    fn cross_signed(&self) -> bool {
        self.device_signers
            .contains(&format!("ed25519:{}", self.self_signing))
    }
}

/// `/healthz` over the bot's status, as `kotae serve` serves it.
struct Healthz {
    port: u16,
    _stop: kotae::service::StopHandle,
}

impl Healthz {
    fn serve(bot: &Bot) -> Healthz {
        let metrics = kotae::serve::http::install_metrics().expect("metrics recorder");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let health = kotae::serve::http::Health {
            kotae: bot.kotae.clone(),
            embeddings: None,
            status: bot.status.clone(),
            expected: vec![Platform::Matrix],
            metrics,
        };
        let (stop, shutdown) = Shutdown::new();
        let listen = ([127, 0, 0, 1], port).into();
        tokio::spawn(kotae::serve::http::run(listen, health, shutdown));
        Healthz { port, _stop: stop }
    }

    /// The body of `GET /healthz`.
    fn get(&self) -> serde_json::Value {
        tokio::task::block_in_place(|| self.get_blocking())
    }

    fn get_blocking(&self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
                let mut response = String::new();
                s.read_to_string(&mut response).unwrap();
                let body = response.split_once("\r\n\r\n").expect("a body").1;
                return serde_json::from_str(body).expect("JSON");
            }
            assert!(Instant::now() < deadline, "/healthz never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `asker` asks in the room and `reader` waits for the bot's answer,
/// checking it is the core's answer and arrived encrypted; its event id.
async fn ask_and_read(asker: &Member, reader: &Member, room: &Room, bot: &UserId) -> OwnedEventId {
    let (question, _) = WHO_ANNOUNCED[2];
    let asked = asker.say(room, &format!("!ask {question}")).await;
    let reply = reader.reply(bot, &asked).await;
    assert!(reply.encrypted, "the answer was sent encrypted");
    assert_answers(&reply, &core_reply(question, LangChoice::Detect), &asker.id);
    reply.event.event_id
}

/// An encrypted room of `member`, the bot and `others`, everyone joined.
async fn encrypted_room(member: &Member, bot: &UserId, others: &[&Member]) -> Room {
    let mut invited: Vec<&UserId> = others.iter().map(|m| &*m.id).collect();
    invited.push(bot);
    let room = member.create_room(&invited, false).await;
    for other in others {
        other.join(&room.room_id().to_owned()).await;
    }
    for user in invited {
        member
            .wait_membership(&room, user, MembershipState::Join)
            .await;
    }
    room.enable_encryption().await.expect("enable encryption");
    room
}

/// Why `member`'s client cannot decrypt the event (fetched afresh), once
/// it has the event's room key; `None` if it decrypts it.
async fn why_unreadable(
    member: &Member,
    room: &Room,
    event: &EventId,
) -> Option<UnableToDecryptReason> {
    let room = member
        .client
        .get_room(room.room_id())
        .expect("a room of theirs");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let fetched = room.event(event, None).await.expect("fetch the event");
        match fetched.kind {
            TimelineEventKind::UnableToDecrypt { utd_info, .. } => {
                if !utd_info.reason.is_missing_room_key() {
                    return Some(utd_info.reason);
                }
            }
            _ => return None,
        }
        assert!(
            Instant::now() < deadline,
            "the room key of {event} never came"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_is_cross_signed_read_by_strict_clients_and_restored_with_its_recovery_key() {
    let mut world = World::new().await;
    world.synapse.register("dana", PASSWORD);
    // Dana's client decrypts only messages from cross-signed devices.
    let dana = Member::login_requiring(&world.synapse, "dana", SenderTrust::CrossSigned).await;
    let rule = serde_json::to_value(dana.client.decryption_settings()).unwrap();
    assert_eq!(rule["sender_device_trust_requirement"], "CrossSigned");
    let healthz = Healthz::serve(&world.bot);

    // First start: the identity is created and signs the device.
    world.bot.start();
    assert!(
        world.bot.wait_verified().await,
        "the new device is verified"
    );
    let first_device = world.bot.device_id();
    let first = ServedKeys::of(&world, &first_device);
    assert!(
        first.cross_signed(),
        "the homeserver shows {first_device} signed by the self-signing key {}: {:?}",
        first.self_signing,
        first.device_signers
    );
    let health = healthz.get();
    assert_eq!(health["verified"]["matrix"], true, "{health}");

    // The secrets in the state directory, for the operator only.
    let matrix_dir = world.bot.state_dir.join("matrix");
    let key_file = matrix_dir.join("recovery-key");
    let passphrase_file = matrix_dir.join("store-passphrase");
    assert_eq!(mode(&key_file), 0o600);
    assert_eq!(mode(&passphrase_file), 0o600);
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        key.trim().len() >= 48,
        "a recovery key: {} chars",
        key.len()
    );

    // The tester, whose client reads any device, is there too.
    let room = encrypted_room(&dana, &world.bot_id, &[&world.tester]).await;
    ask_and_read(&dana, &dana, &room, &world.bot_id).await;
    world.bot.stop().await;

    // The crypto store is encrypted with that passphrase: another one
    // cannot open it.
    let store = matrix_dir.join("store");
    let passphrase = std::fs::read_to_string(&passphrase_file).unwrap();
    assert!(
        matrix_sdk::SqliteCryptoStore::open(&store, Some("not the passphrase"))
            .await
            .is_err(),
        "a wrong passphrase opens the store"
    );
    matrix_sdk::SqliteCryptoStore::open(&store, Some(passphrase.trim()))
        .await
        .expect("the passphrase opens the store");

    // The volume is lost; the operator kept the recovery key elsewhere.
    let kept = tempfile::tempdir().unwrap();
    let kept_key = kept.path().join("kotae-recovery-key");
    std::fs::copy(&key_file, &kept_key).unwrap();
    std::fs::remove_dir_all(&world.bot.state_dir).unwrap();
    std::fs::create_dir(&world.bot.state_dir).unwrap();
    world.bot.config.recovery_key_file = Some(kept_key.clone());
    world.bot.start();
    assert!(
        world.bot.wait_verified().await,
        "the recovery key verifies the new device"
    );
    let second_device = world.bot.device_id();
    assert_ne!(second_device, first_device, "a new device");
    let second = ServedKeys::of(&world, &second_device);
    assert_eq!(second.master, first.master, "the same identity, restored");
    assert!(
        second.cross_signed(),
        "{second_device} is signed by the restored self-signing key: {:?}",
        second.device_signers
    );
    assert!(
        !matrix_dir.join("recovery-key").exists(),
        "no second key is made: the kept one still works"
    );
    assert_eq!(healthz.get()["verified"]["matrix"], true);
    // Dana's client learns of the new device, cross-signed, then reads
    // its answer in the same room.
    eventually("Dana's client to see the new device cross-signed", || {
        dana.sees_cross_signed(&world.bot_id, &second_device)
    })
    .await;
    ask_and_read(&dana, &dana, &room, &world.bot_id).await;
    world.bot.stop().await;

    // Lost again, and no key given: the new device stays unverified, and
    // the identity is not replaced behind the operator's back.
    std::fs::remove_dir_all(&world.bot.state_dir).unwrap();
    std::fs::create_dir(&world.bot.state_dir).unwrap();
    world.bot.config.recovery_key_file = None;
    world.bot.start();
    assert!(
        !world.bot.wait_verified().await,
        "without the recovery key the device is not verified"
    );
    let third_device = world.bot.device_id();
    let third = ServedKeys::of(&world, &third_device);
    assert_eq!(third.master, first.master, "the identity is kept");
    assert!(!third.cross_signed(), "{:?}", third.device_signers);
    let health = healthz.get();
    assert_eq!(health["verified"]["matrix"], false, "{health}");
    assert_eq!(health["status"], "ok", "unverified is a warning, not down");
    // It still answers: the tester reads it, and Dana's client refuses it
    // for its unsigned device, which is what the rule is for.
    let answer = ask_and_read(&dana, &world.tester, &room, &world.bot_id).await;
    let reason = why_unreadable(&dana, &room, &answer).await;
    assert!(
        matches!(
            reason,
            Some(UnableToDecryptReason::SenderIdentityNotTrusted(
                VerificationLevel::UnsignedDevice
            ))
        ),
        "Dana's client: {reason:?}"
    );
    world.bot.stop().await;
}

/// A state directory from an earlier kotae: a session and a store made
/// without a passphrase. The bot keeps it (same device, no passphrase file
/// that could not open it) and answers in an encrypted room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_made_without_a_passphrase_keeps_working() {
    let mut world = World::new().await;
    let matrix_dir = world.bot.state_dir.join("matrix");
    std::fs::create_dir_all(&matrix_dir).unwrap();
    let old = Client::builder()
        .homeserver_url(world.synapse.url())
        .sqlite_store(matrix_dir.join("store"), None)
        .build()
        .await
        .expect("an unencrypted store");
    old.matrix_auth()
        .login_username("kotae", PASSWORD)
        .send()
        .await
        .expect("the earlier kotae's login");
    old.encryption().wait_for_e2ee_initialization_tasks().await;
    let session = old.matrix_auth().session().expect("a session");
    std::fs::write(
        matrix_dir.join("session.json"),
        serde_json::to_string(&session).unwrap(),
    )
    .unwrap();
    drop(old);

    world.bot.start();
    world.bot.wait_connected().await;
    assert!(world.bot.wait_verified().await, "verified on the old store");
    assert_eq!(world.bot.device_id(), session.meta.device_id.as_str());
    assert!(
        !matrix_dir.join("store-passphrase").exists(),
        "no passphrase is made for a store that was made without one"
    );
    let room = encrypted_room(&world.tester, &world.bot_id, &[]).await;
    ask_and_read(&world.tester, &world.tester, &room, &world.bot_id).await;
    world.bot.stop().await;
    // And again after a restart.
    world.bot.start();
    world.bot.wait_connected().await;
    ask_and_read(&world.tester, &world.tester, &room, &world.bot_id).await;
    world.bot.stop().await;
}
