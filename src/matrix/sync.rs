//! The sync loop, and which timeline events count as new.
//!
//! matrix-sdk keeps the sync token in its store, so a restarted bot resumes
//! where it stopped and answers what arrived meanwhile. Only the very first
//! sync of a fresh state directory is history: it is read without answering
//! anything. A room the bot has just joined brings some history along too;
//! only what came after the bot's invite (or join) is answered.
//!
//! Failed syncs are retried with backoff, and `/healthz` sees the adapter as
//! disconnected until one succeeds. Until then (at start, and after a
//! failure) a sync does not long-poll: the homeserver answers at once, so
//! the adapter reports connected as soon as the homeserver is back rather
//! than up to a long poll later. Which events a sync brings does not depend
//! on its timeout, only on the stored token, so this changes nothing about
//! what is answered.
//!
//! Timeline events the bot acts on are members' messages (questions and
//! commands) and reactions (votes on its answers). Messages are answered
//! off the loop, in their room's queue (`super::rooms`), so the loop keeps
//! syncing while a room waits on a slow send or a `!reload`.

use super::MatrixConfig;
use super::bot::Bot;
use super::invite::Invites;
use super::retry::is_unknown_token;
use super::rooms::Rooms;
use crate::service::backoff::Backoff;
use crate::service::{AdapterStatus, Platform, Shutdown};
use anyhow::bail;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind, UnableToDecryptReason};
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncStateEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
    SyncStateEvent,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, UserId};
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Client, Room};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a sync request waits on the server for something to happen.
const LONG_POLL: Duration = Duration::from_secs(30);
/// Timeline events per room per sync: enough to catch up after a restart.
const TIMELINE_LIMIT: u32 = 50;
/// A room key can arrive after the message it opens; this long it may.
const KEY_PATIENCE: Duration = Duration::from_secs(600);
const MAX_UNDECRYPTED: usize = 200;

pub(super) struct Syncer {
    client: Client,
    bot: Arc<Bot>,
    /// Where messages wait for their answer, one queue per room.
    rooms: Rooms,
    invites: Arc<Invites>,
    status: Arc<AdapterStatus>,
    /// Whether the last sync succeeded: the next one may long-poll.
    connected: bool,
    undecrypted: Vec<Undecrypted>,
    /// Rooms where a message was refused for `sender_trust`, said once.
    untrusted_rooms: HashSet<OwnedRoomId>,
}

/// A timeline event the bot acts on. Messages are boxed: they are the
/// large variant, and an input only lives while it is handled.
enum Input {
    Message(Box<OriginalSyncRoomMessageEvent>),
    Reaction(OriginalSyncReactionEvent),
}

/// A message whose room key has not arrived yet.
struct Undecrypted {
    room: Room,
    raw: Raw<AnySyncTimelineEvent>,
    since: Instant,
}

impl Syncer {
    pub(super) fn new(
        client: Client,
        bot: Bot,
        config: &MatrixConfig,
        status: Arc<AdapterStatus>,
        shutdown: Shutdown,
    ) -> Syncer {
        let bot = Arc::new(bot);
        let rooms = Rooms::new(bot.clone(), shutdown.clone());
        let invites = Invites::new(&client, &config.allow_invites_from, shutdown);
        Syncer {
            client,
            bot,
            rooms,
            invites,
            status,
            connected: false,
            undecrypted: Vec::new(),
            untrusted_rooms: HashSet::new(),
        }
    }

    /// The very first sync of a fresh state directory, read as history
    /// (nothing in it is answered); nothing on later starts. It also
    /// uploads a new device's keys, which the identity then signs
    /// (`super::identity`). `false` if told to stop first.
    pub(super) async fn first_sync(&mut self, shutdown: &Shutdown) -> anyhow::Result<bool> {
        if self.bot.memory.first_sync_done().await {
            return Ok(true);
        }
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        if self.sync_once(&mut backoff, shutdown).await?.is_none() {
            return Ok(false);
        }
        self.bot.memory.set_first_sync_done().await;
        tracing::info!("first Matrix sync done; earlier messages are not answered");
        Ok(true)
    }

    /// Syncs until shutdown (or a revoked token), then lets the answers in
    /// flight finish, within a bound. [`Syncer::first_sync`] comes first.
    pub(super) async fn run(mut self, shutdown: Shutdown) -> anyhow::Result<()> {
        let result = self.sync(&shutdown).await;
        self.rooms.finish().await;
        result
    }

    async fn sync(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        // Invites that came while the bot was away, or before it ever ran.
        for room in self.client.invited_rooms() {
            self.invites.handle(room);
        }
        while let Some(response) = self.sync_once(&mut backoff, shutdown).await? {
            self.handle(response).await;
        }
        Ok(())
    }

    /// One successful sync, retried while it fails; `None` on shutdown.
    async fn sync_once(
        &mut self,
        backoff: &mut Backoff,
        shutdown: &Shutdown,
    ) -> anyhow::Result<Option<SyncResponse>> {
        loop {
            let wait = if self.connected {
                LONG_POLL
            } else {
                Duration::ZERO
            };
            let result = tokio::select! {
                result = self.client.sync_once(settings(wait)) => result,
                () = shutdown.requested() => return Ok(None),
            };
            match result {
                Ok(response) => {
                    self.connected = true;
                    self.status.set(Platform::Matrix, true);
                    backoff.reset();
                    return Ok(Some(response));
                }
                Err(e) if is_unknown_token(&e) => {
                    bail!("the homeserver no longer accepts the bot's access token: {e}")
                }
                Err(e) => {
                    self.connected = false;
                    self.status.set(Platform::Matrix, false);
                    tracing::warn!(error = %e, "Matrix sync failed; retrying");
                    if !backoff.wait(shutdown).await {
                        return Ok(None);
                    }
                }
            }
        }
    }

    async fn handle(&mut self, response: SyncResponse) {
        for room_id in response.rooms.invited.keys() {
            if let Some(room) = self.client.get_room(room_id) {
                self.invites.handle(room);
            }
        }
        for (room_id, update) in &response.rooms.joined {
            let Some(room) = self.client.get_room(room_id) else {
                continue;
            };
            if update.timeline.limited {
                tracing::debug!(room = %room_id, "sync skipped part of a busy room's timeline");
            }
            let events = &update.timeline.events;
            let start = first_new_event(events, self.bot.user_id());
            tracing::trace!(room = %room_id, events = events.len(), start, "timeline");
            for event in &events[start..] {
                self.handle_event(&room, event);
            }
        }
        self.retry_undecrypted().await;
    }

    fn handle_event(&mut self, room: &Room, event: &TimelineEvent) {
        if let TimelineEventKind::UnableToDecrypt {
            event: raw,
            utd_info,
        } = &event.kind
        {
            if let UnableToDecryptReason::SenderIdentityNotTrusted(level) = &utd_info.reason {
                // Not an error of the bot's: the operator chose the rule,
                // and the sender's identity may yet be learnt. Said once
                // per room, so a busy room does not flood the log.
                if self.untrusted_rooms.insert(room.room_id().to_owned()) {
                    tracing::info!(room = %room.room_id(), ?level, "a message's sending device does not meet matrix.sender_trust; such messages are not answered (said once per room)");
                } else {
                    tracing::debug!(room = %room.room_id(), ?level, "a message's sending device does not meet matrix.sender_trust");
                }
            } else {
                tracing::debug!(room = %room.room_id(), "message not decryptable yet; waiting for its key");
            }
            if self.undecrypted.len() < MAX_UNDECRYPTED {
                self.undecrypted.push(Undecrypted {
                    room: room.clone(),
                    raw: raw.clone(),
                    since: Instant::now(),
                });
            }
            return;
        }
        if let Some(input) = as_input(event.raw()) {
            self.dispatch(room, input);
        }
    }

    /// A message joins its room's queue; a reaction is counted at once.
    fn dispatch(&mut self, room: &Room, input: Input) {
        match input {
            Input::Message(message) => self.rooms.push(room, message),
            Input::Reaction(reaction) => self.bot.handle_reaction(room, &reaction),
        }
    }

    /// Room keys arrive as to-device messages, sometimes a sync or two
    /// after the message; each sync tries the waiting messages again.
    async fn retry_undecrypted(&mut self) {
        for waiting in std::mem::take(&mut self.undecrypted) {
            let encrypted = waiting
                .raw
                .cast_ref_unchecked::<OriginalSyncRoomEncryptedEvent>();
            let decrypted = match waiting.room.decrypt_event(encrypted, None).await {
                Ok(event) if !matches!(event.kind, TimelineEventKind::UnableToDecrypt { .. }) => {
                    as_input(event.raw())
                }
                _ if waiting.since.elapsed() < KEY_PATIENCE => {
                    self.undecrypted.push(waiting);
                    continue;
                }
                _ => {
                    tracing::warn!(room = %waiting.room.room_id(), "gave up on a message whose key never arrived");
                    continue;
                }
            };
            if let Some(input) = decrypted {
                self.dispatch(&waiting.room, input);
            }
        }
    }
}

/// A sync request that waits on the server at most `wait` for news.
fn settings(wait: Duration) -> SyncSettings {
    let mut filter = FilterDefinition::with_lazy_loading();
    filter.room.timeline.limit = Some(TIMELINE_LIMIT.into());
    SyncSettings::default().filter(filter.into()).timeout(wait)
}

fn as_input(raw: &Raw<AnySyncTimelineEvent>) -> Option<Input> {
    match raw.deserialize() {
        Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(message),
        ))) => Some(Input::Message(Box::new(message))),
        Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::Reaction(
            SyncMessageLikeEvent::Original(reaction),
        ))) => Some(Input::Reaction(reaction)),
        _ => None,
    }
}

/// Where the new events of a room's timeline batch start: after the bot's
/// own invite, or its join without one, if the batch holds it. Anything
/// before is the history a newly joined room shows, not questions for the
/// bot.
fn first_new_event(events: &[TimelineEvent], me: &UserId) -> usize {
    let mut invited_at = None;
    let mut start = 0;
    for (i, event) in events.iter().enumerate() {
        match own_membership_change(event.raw(), me) {
            Some(MembershipState::Invite) => invited_at = Some(i),
            Some(MembershipState::Join) => start = invited_at.take().unwrap_or(i) + 1,
            _ => {}
        }
    }
    start
}

/// The bot's new membership, if the event changes it (a display name
/// change is a `join` after a `join`, and no change).
fn own_membership_change(raw: &Raw<AnySyncTimelineEvent>, me: &UserId) -> Option<MembershipState> {
    let Ok(AnySyncTimelineEvent::State(AnySyncStateEvent::RoomMember(SyncStateEvent::Original(
        member,
    )))) = raw.deserialize()
    else {
        return None;
    };
    if member.state_key != me {
        return None;
    }
    let before = member.unsigned.prev_content.map(|c| c.membership);
    let after = member.content.membership;
    (before.as_ref() != Some(&after)).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::user_id;
    use serde_json::json;

    fn event(value: serde_json::Value) -> TimelineEvent {
        TimelineEvent::from_plaintext(Raw::new(&value).unwrap().cast_unchecked())
    }

    fn member(n: u32, membership: &str, prev: Option<&str>) -> TimelineEvent {
        let mut unsigned = json!({});
        if let Some(prev) = prev {
            unsigned = json!({ "prev_content": { "membership": prev } });
        }
        event(json!({
            "type": "m.room.member", "event_id": format!("$m{n}"), "sender": "@bot:x",
            "state_key": "@bot:x", "origin_server_ts": n, "content": { "membership": membership },
            "unsigned": unsigned,
        }))
    }

    fn text(n: u32) -> TimelineEvent {
        event(json!({
            "type": "m.room.message", "event_id": format!("$t{n}"), "sender": "@a:x",
            "origin_server_ts": n, "content": { "msgtype": "m.text", "body": "hi" },
        }))
    }

    #[test]
    fn a_batch_without_the_bots_join_is_all_new() {
        let me = user_id!("@bot:x");
        assert_eq!(first_new_event(&[text(1), text(2)], me), 0);
        assert_eq!(
            first_new_event(&[text(1), member(2, "join", Some("join")), text(3)], me),
            0
        );
    }

    #[test]
    fn history_before_the_bots_invite_or_join_is_not_new() {
        let me = user_id!("@bot:x");
        let batch = [
            text(1),
            member(2, "invite", None),
            text(3),
            member(4, "join", Some("invite")),
            text(5),
        ];
        assert_eq!(first_new_event(&batch, me), 2);
        let batch = [text(1), member(2, "join", None), text(3)];
        assert_eq!(first_new_event(&batch, me), 2);
    }
}
