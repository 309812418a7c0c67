//! The cast of the Matrix tests: a real Synapse, the real adapter running
//! in-process as `@kotae`, and members (`@tester`, `@carol`) driven through
//! matrix-sdk clients the way a person's client would.
//!
//! Members record every message their client receives; tests wait for the
//! one they expect (polling with a deadline, never sleeping and hoping).
//! Like Element, every member's client creates its user's cross-signing
//! identity at login, so the bot (which by default reads only cross-signed
//! devices, or legacy sessions) reads them in encrypted rooms.
//!
//! The bot runs on the built-in facts, or on a knowledge directory (a test's
//! copy) that it can reload, on command or watching it as `kotae serve` does.

#![allow(dead_code)]

use super::synapse::{SERVER_NAME, Synapse};
use kotae::core::Kotae;
use kotae::matrix::{MatrixConfig, SenderTrust};
use kotae::service::{AdapterStatus, Platform, Service, Shutdown, StopHandle};
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::EncryptionInfo;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoom, RoomPreset};
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{
    OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
};
use matrix_sdk::ruma::{EventId, Int, OwnedEventId, OwnedRoomId, OwnedUserId, UserId};
use matrix_sdk::{Client, Room};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery staple";
/// Generous: two cores run several homeservers and crypto at once.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `check` until it holds, or fails the test naming `what`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// One message as a member's client received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub room: OwnedRoomId,
    pub event: OriginalSyncRoomMessageEvent,
    /// It arrived encrypted and was decrypted.
    pub encrypted: bool,
    pub at: Instant,
}

impl Seen {
    /// The event this one replies to, directly or inside a thread.
    pub fn in_reply_to(&self) -> Option<&EventId> {
        match self.event.content.relates_to.as_ref()? {
            Relation::Reply(reply) => Some(&reply.in_reply_to.event_id),
            Relation::Thread(thread) => thread.in_reply_to.as_ref().map(|r| &*r.event_id),
            _ => None,
        }
    }

    pub fn body(&self) -> &str {
        self.event.content.body()
    }

    /// The event this one edits (`m.replace`), if it is an edit.
    pub fn replaces(&self) -> Option<&EventId> {
        match self.event.content.relates_to.as_ref()? {
            Relation::Replacement(replacement) => Some(&replacement.event_id),
            _ => None,
        }
    }

    /// An edit's new body (`m.new_content`), which clients show in place of
    /// the original's.
    pub fn new_body(&self) -> Option<&str> {
        match self.event.content.relates_to.as_ref()? {
            Relation::Replacement(replacement) => Some(replacement.new_content.msgtype.body()),
            _ => None,
        }
    }

    pub fn html(&self) -> Option<&str> {
        match &self.event.content.msgtype {
            matrix_sdk::ruma::events::room::message::MessageType::Notice(n) => {
                n.formatted.as_ref().map(|f| f.body.as_str())
            }
            matrix_sdk::ruma::events::room::message::MessageType::Text(t) => {
                t.formatted.as_ref().map(|f| f.body.as_str())
            }
            _ => None,
        }
    }
}

/// A person in the rooms, through their own client.
pub struct Member {
    pub client: Client,
    pub id: OwnedUserId,
    seen: Arc<Mutex<Vec<Seen>>>,
    sync: JoinHandle<()>,
}

impl Member {
    /// Logs in (the user must be registered) and starts syncing; the
    /// client reads encrypted messages from any device.
    pub async fn login(synapse: &Synapse, localpart: &str) -> Member {
        Member::login_requiring(synapse, localpart, SenderTrust::Untrusted).await
    }

    /// [`Member::login`] with a client that decrypts only messages from
    /// devices that meet `trust` (as a strict client such as Element's
    /// "only cross-signed devices" does).
    pub async fn login_requiring(synapse: &Synapse, localpart: &str, trust: SenderTrust) -> Member {
        let client = Client::builder()
            .homeserver_url(synapse.url())
            .with_decryption_settings(trust.decryption_settings())
            .build()
            .await
            .expect("member client");
        client
            .matrix_auth()
            .login_username(localpart, PASSWORD)
            .send()
            .await
            .expect("member login");
        cross_sign(&client, localpart).await;
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let sink = seen.clone();
        client.add_event_handler(
            move |event: OriginalSyncRoomMessageEvent, room: Room, info: Option<EncryptionInfo>| {
                let sink = sink.clone();
                async move {
                    let seen = Seen {
                        room: room.room_id().to_owned(),
                        event,
                        encrypted: info.is_some(),
                        at: Instant::now(),
                    };
                    sink.lock().unwrap().push(seen);
                }
            },
        );
        let syncing = client.clone();
        // Keeps syncing across a homeserver restart, as real clients do.
        // `sync_once` in a loop because `Client::sync` waits a second
        // between quick syncs, which would swamp the latency figures.
        let sync = tokio::spawn(async move {
            let settings = SyncSettings::default().timeout(Duration::from_secs(10));
            loop {
                if syncing.sync_once(settings.clone()).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        Member {
            id: format!("@{localpart}:{SERVER_NAME}").try_into().unwrap(),
            client,
            seen,
            sync,
        }
    }

    /// Whether this member's client knows `user`'s device `device` and
    /// sees it signed by its owner's identity.
    pub async fn sees_cross_signed(&self, user: &UserId, device: &str) -> bool {
        let device = self
            .client
            .encryption()
            .get_device(user, device.into())
            .await
            .expect("the crypto store answers");
        device.is_some_and(|d| d.is_cross_signed_by_owner())
    }

    /// A private room with the given members invited.
    pub async fn create_room(&self, invite: &[&UserId], direct: bool) -> Room {
        self.create_room_named(invite, direct, None).await
    }

    /// [`Member::create_room`], with an alias (`#alias:localhost`) if given.
    pub async fn create_room_named(
        &self,
        invite: &[&UserId],
        direct: bool,
        alias: Option<&str>,
    ) -> Room {
        let mut request = CreateRoom::new();
        request.invite = invite.iter().map(|u| (*u).to_owned()).collect();
        request.is_direct = direct;
        request.preset = Some(RoomPreset::PrivateChat);
        request.room_alias_name = alias.map(str::to_string);
        self.client.create_room(request).await.expect("create room")
    }

    /// Joins a room this member was invited to; its own view of it.
    pub async fn join(&self, room_id: &OwnedRoomId) -> Room {
        self.client
            .join_room_by_id(room_id)
            .await
            .expect("join room")
    }

    pub async fn say(&self, room: &Room, body: &str) -> OwnedEventId {
        self.send(room, RoomMessageEventContent::text_plain(body))
            .await
    }

    /// Sends through this member's own client, whichever client's view of
    /// the room is passed.
    pub async fn send(&self, room: &Room, content: RoomMessageEventContent) -> OwnedEventId {
        let own = self.own(room).await;
        own.send(content).await.expect("send").response.event_id
    }

    /// Reacts to an event with `key` (an emoji), as clients do.
    pub async fn react(&self, room: &Room, event: &EventId, key: &str) -> OwnedEventId {
        let own = self.own(room).await;
        let reaction = ReactionEventContent::new(Annotation::new(event.to_owned(), key.into()));
        own.send(reaction).await.expect("react").response.event_id
    }

    /// Sets `user`'s power level in the room (this member must outrank them).
    pub async fn set_power_level(&self, room: &Room, user: &UserId, level: i64) {
        let own = self.own(room).await;
        own.update_power_levels(vec![(user, Int::new_saturating(level))])
            .await
            .expect("set a power level");
    }

    /// This member's own client's view of a room.
    async fn own(&self, room: &Room) -> Room {
        let mut own = None;
        eventually(&format!("{} to see {}", self.id, room.room_id()), || {
            own = self.client.get_room(room.room_id());
            std::future::ready(own.is_some())
        })
        .await;
        own.unwrap()
    }

    /// Waits for a message from `from` in the room that satisfies `check`.
    pub async fn message_in(
        &self,
        room: &Room,
        from: &UserId,
        what: &str,
        check: impl Fn(&Seen) -> bool,
    ) -> Seen {
        let mut found = None;
        eventually(what, || {
            found = self
                .messages(|m| m.room == room.room_id() && m.event.sender == from && check(m))
                .into_iter()
                .next();
            std::future::ready(found.is_some())
        })
        .await;
        found.unwrap()
    }

    /// Waits for `from`'s edit of `original` that satisfies `check`.
    pub async fn edit_of(
        &self,
        from: &UserId,
        original: &EventId,
        check: impl Fn(&Seen) -> bool,
    ) -> Seen {
        let mut found = None;
        eventually(&format!("{from}'s edit of {original}"), || {
            found = self
                .messages(|m| m.event.sender == from && m.replaces() == Some(original) && check(m))
                .into_iter()
                .next();
            std::future::ready(found.is_some())
        })
        .await;
        found.unwrap()
    }

    /// Waits for `from`'s reply to the given event.
    pub async fn reply(&self, from: &UserId, question: &EventId) -> Seen {
        let mut found = None;
        eventually(&format!("{from}'s reply to {question}"), || {
            found = self.replies(from, question).into_iter().next();
            std::future::ready(found.is_some())
        })
        .await;
        found.unwrap()
    }

    /// Every reply from `from` to the event received so far.
    pub fn replies(&self, from: &UserId, question: &EventId) -> Vec<Seen> {
        self.messages(|m| m.event.sender == from && m.in_reply_to() == Some(question))
    }

    pub fn messages(&self, filter: impl Fn(&Seen) -> bool) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|m| filter(m)).cloned().collect()
    }

    /// Waits until `user`'s membership in the room, as this member sees it,
    /// is `state`.
    pub async fn wait_membership(&self, room: &Room, user: &UserId, state: MembershipState) {
        eventually(
            &format!("{user} to be {state} in {}", room.room_id()),
            || async {
                matches!(
                    room.get_member_no_sync(user).await,
                    Ok(Some(member)) if *member.membership() == state
                )
            },
        )
        .await;
    }
}

/// Creates the user's cross-signing identity, which signs this device, as
/// clients do at a first login; with the password if the homeserver asks.
async fn cross_sign(client: &Client, localpart: &str) {
    use matrix_sdk::ruma::api::client::uiaa::{
        AuthData, MatrixUserIdentifier, Password, UserIdentifier,
    };
    let encryption = client.encryption();
    let Err(e) = encryption.bootstrap_cross_signing(None).await else {
        return;
    };
    let prompt = e
        .as_uiaa_response()
        .unwrap_or_else(|| panic!("cross-signing {localpart}: {e}"));
    let mut password = Password::new(
        UserIdentifier::Matrix(MatrixUserIdentifier::new(localpart.to_string())),
        PASSWORD.to_string(),
    );
    password.session = prompt.session.clone();
    encryption
        .bootstrap_cross_signing(Some(AuthData::Password(password)))
        .await
        .expect("cross-signing with the password");
}

impl Drop for Member {
    fn drop(&mut self) {
        self.sync.abort();
    }
}

/// The adapter under test, started and stopped like `kotae serve` would.
pub struct Bot {
    pub config: MatrixConfig,
    pub state_dir: PathBuf,
    pub status: Arc<AdapterStatus>,
    pub kotae: Arc<Kotae>,
    /// The knowledge directory the bot reloads, if not the built-in facts.
    pub knowledge_dir: Option<PathBuf>,
    /// The running adapter's service, for starting a watch on it.
    service: Option<Service>,
    watch: Option<kotae::reload::Watch>,
    running: Option<(StopHandle, JoinHandle<anyhow::Result<()>>)>,
}

impl Bot {
    pub fn new(synapse: &Synapse, state_dir: PathBuf) -> Bot {
        let mut config = MatrixConfig::new(synapse.url());
        config.user = Some("kotae".into());
        config.password = Some(PASSWORD.into());
        // The tests ask quickly; the rate limit has its own test.
        config.rate_per_minute = 0;
        let base = kotae::service::load_base(None).expect("built-in fact base");
        Bot {
            config,
            state_dir,
            status: Arc::default(),
            kotae: Arc::new(Kotae::new(base)),
            knowledge_dir: None,
            service: None,
            watch: None,
            running: None,
        }
    }

    /// Serves the facts of `dir` (a test's copy), and reloads from it.
    pub fn use_knowledge(&mut self, dir: &Path) {
        let loaded = kotae::core::load::load_dir(dir).expect("a valid knowledge directory");
        self.kotae = Arc::new(Kotae::new(loaded.base));
        self.knowledge_dir = Some(dir.to_path_buf());
    }

    /// Watches the knowledge directory the way `kotae serve` does, until
    /// the bot is dropped or [`Bot::stop_watching`].
    pub fn watch_knowledge(&mut self) {
        let service = self.service.as_ref().expect("the bot is running");
        self.watch = service
            .watch_knowledge()
            .expect("watch the knowledge directory");
        assert!(self.watch.is_some(), "the bot has a knowledge directory");
    }

    /// The running adapter's service (to reload, or to publish reports).
    pub fn service(&self) -> &Service {
        self.service.as_ref().expect("the bot is running")
    }

    pub fn stop_watching(&mut self) {
        self.watch = None;
    }

    pub fn id() -> OwnedUserId {
        format!("@kotae:{SERVER_NAME}").try_into().unwrap()
    }

    pub fn start(&mut self) {
        // A restarted bot may be a new device: what the last run said of
        // its device no longer holds.
        self.status.forget_verified(Platform::Matrix);
        let (stop, shutdown) = Shutdown::new();
        let service = Service::open(self.kotae.clone(), &self.state_dir, shutdown)
            .expect("records open")
            .with_status(self.status.clone())
            .with_knowledge_dir(self.knowledge_dir.clone());
        self.service = Some(service.clone());
        let task = tokio::spawn(kotae::matrix::run(self.config.clone(), service));
        self.running = Some((stop, task));
    }

    /// Asks the adapter to stop, as SIGTERM does, and checks it stopped
    /// cleanly.
    pub async fn stop(&mut self) {
        let (stop, task) = self.running.take().expect("the bot is running");
        stop.stop();
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("the bot stops when told")
            .expect("the bot task did not panic")
            .expect("the bot stopped without error");
    }

    /// Waits for the first successful sync: from then on, a message is
    /// news to the bot, not history.
    pub async fn wait_connected(&self) {
        eventually("the bot to connect", || {
            std::future::ready(self.connected() == Some(true))
        })
        .await;
    }

    pub fn connected(&self) -> Option<bool> {
        self.status.get(Platform::Matrix)
    }

    /// Whether the bot's device is verified, once the bot has said
    /// (what `/healthz` shows).
    pub async fn wait_verified(&self) -> bool {
        eventually("the bot to say whether its device is verified", || {
            std::future::ready(self.status.verified(Platform::Matrix).is_some())
        })
        .await;
        self.status.verified(Platform::Matrix).unwrap()
    }

    /// The device id in the saved session.
    pub fn device_id(&self) -> String {
        let text = std::fs::read_to_string(self.state_dir.join("matrix/session.json"))
            .expect("a saved session");
        let session: serde_json::Value = serde_json::from_str(&text).unwrap();
        session["device_id"].as_str().unwrap().to_string()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Some((_, task)) = self.running.take() {
            task.abort();
        }
    }
}

/// A homeserver with the bot, a tester and a second member, Carol.
pub struct World {
    pub tester: Member,
    pub carol: Member,
    pub bot: Bot,
    pub bot_id: OwnedUserId,
    _state: tempfile::TempDir,
    // Last, so the clients above stop before their server does.
    pub synapse: Synapse,
}

impl World {
    /// Everyone registered; the bot configured but not started.
    pub async fn new() -> World {
        init_logging();
        let synapse = tokio::task::block_in_place(Synapse::start);
        for user in ["kotae", "tester", "carol"] {
            synapse.register(user, PASSWORD);
        }
        let state = tempfile::tempdir().expect("state dir");
        let bot = Bot::new(&synapse, state.path().to_path_buf());
        World {
            tester: Member::login(&synapse, "tester").await,
            carol: Member::login(&synapse, "carol").await,
            bot,
            bot_id: Bot::id(),
            _state: state,
            synapse,
        }
    }

    /// [`World::new`] with the bot running.
    pub async fn started() -> World {
        let mut world = World::new().await;
        world.bot.start();
        world
    }

    /// A room of three (so not a direct room): the tester, Carol and the
    /// bot, which joins on the tester's invite.
    pub async fn group_room(&self) -> Room {
        let room = self
            .tester
            .create_room(&[&self.bot_id, &self.carol.id], false)
            .await;
        self.carol.join(&room.room_id().to_owned()).await;
        self.tester
            .wait_membership(&room, &self.carol.id, MembershipState::Join)
            .await;
        self.tester
            .wait_membership(&room, &self.bot_id, MembershipState::Join)
            .await;
        room
    }

    /// A direct room of the tester and the bot.
    pub async fn direct_room(&self) -> Room {
        let room = self.tester.create_room(&[&self.bot_id], true).await;
        self.tester
            .wait_membership(&room, &self.bot_id, MembershipState::Join)
            .await;
        room
    }
}
