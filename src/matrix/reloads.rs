//! What a reload of the fact base means in Matrix ([`MatrixReloads`]),
//! driven by the service's follower, a task that lives as long as the
//! adapter, apart from the sync loop so that a slow edit never holds up a
//! question:
//!
//! - every report worth telling goes to the moderators' room, if one is
//!   configured: what changed, or why an edit was rejected, each error as
//!   `file:line:col: message`, which is what the editor needs;
//! - an applied reload corrects the bot's earlier answers whose fact it
//!   changed, retracted or removed, by editing them in place (`m.replace`),
//!   so a member scrolling back reads what the sources support now.
//!
//! Which answers need correcting, recording that they were, and catching up
//! when reports were missed is platform-neutral (`crate::service`).

use super::MatrixConfig;
use super::render::{self, Rendered};
use super::retry;
use crate::core::{Correction, Lang};
use crate::service::Shutdown;
use crate::service::follower::ReloadTarget;
use crate::service::moderation::PendingCorrection;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::room::message::{ReplacementMetadata, RoomMessageEventContent};
use matrix_sdk::ruma::{
    EventId, OwnedEventId, OwnedRoomId, OwnedRoomOrAliasId, RoomAliasId, RoomId, TransactionId,
};
use matrix_sdk::{Client, Room, RoomState};
use std::time::Duration;

/// Edits and reports wait out a homeserver hiccup a little longer than
/// replies (nobody is waiting on them in a room), still for at most
/// [`retry::MAX_ATTEMPTS`] attempts; an edit given up is logged and left
/// for the next reload that touches its fact.
const SEND_PATIENCE: Duration = Duration::from_secs(60);

/// Where reload news goes in Matrix.
pub(super) struct MatrixReloads {
    client: Client,
    moderators_room: Option<OwnedRoomOrAliasId>,
    /// The language of the reports (`moderators_lang`).
    lang: Lang,
    shutdown: Shutdown,
}

impl MatrixReloads {
    pub(super) fn new(client: Client, config: &MatrixConfig, shutdown: Shutdown) -> MatrixReloads {
        MatrixReloads {
            client,
            moderators_room: config.moderators_room.clone(),
            lang: config.moderators_lang,
            shutdown,
        }
    }
}

impl ReloadTarget for MatrixReloads {
    fn moderators_lang(&self) -> Lang {
        self.lang
    }

    /// Posts `text` in the moderators' room, if there is one the bot is in.
    async fn tell_moderators(&self, text: &str) {
        let Some(target) = &self.moderators_room else {
            return;
        };
        let Some(room) = self.joined_room(target).await else {
            return;
        };
        let content = notice(render::preformatted(text));
        retry::send(
            &room,
            content,
            TransactionId::new(),
            SEND_PATIENCE,
            self.shutdown.clone(),
            "a reload report",
        )
        .await;
    }

    /// Replaces one sent answer with what it should say now; true once sent.
    async fn edit_answer(&self, pending: &PendingCorrection) -> bool {
        let sent = &pending.sent;
        let (Ok(room_id), Ok(event_id)) =
            (RoomId::parse(&sent.room), EventId::parse(&sent.message))
        else {
            tracing::warn!(room = %sent.room, event = %sent.message, "a recorded answer has a malformed id; not corrected");
            return false;
        };
        let Some(room) = self.client.get_room(&room_id) else {
            tracing::warn!(room = %room_id, "an answer to correct is in a room the bot no longer knows");
            return false;
        };
        let content = edit(event_id, sent.lang, &pending.correction);
        // A new transaction per edit, the same across its retries: one
        // derived from the content would make the homeserver swallow a
        // later edit back to an earlier text as a repeat.
        let sent = retry::send(
            &room,
            content,
            TransactionId::new(),
            SEND_PATIENCE,
            self.shutdown.clone(),
            "a correction",
        )
        .await;
        sent.is_some()
    }
}

impl MatrixReloads {
    /// The room behind an id or alias, if the bot has joined it. Resolved
    /// each time: reports are rare, and an alias may move.
    async fn joined_room(&self, target: &OwnedRoomOrAliasId) -> Option<Room> {
        let room_id: OwnedRoomId = match <&RoomId>::try_from(&**target) {
            Ok(id) => id.to_owned(),
            Err(alias) => self.resolve(alias).await?,
        };
        match self.client.get_room(&room_id) {
            Some(room) if room.state() == RoomState::Joined => Some(room),
            _ => {
                tracing::warn!(room = %target, "the bot is not in the moderators' room; invite it there to get reload reports");
                None
            }
        }
    }

    async fn resolve(&self, alias: &RoomAliasId) -> Option<OwnedRoomId> {
        match self.client.resolve_room_alias(alias).await {
            Ok(response) => Some(response.room_id),
            Err(e) => {
                tracing::warn!(%alias, error = %e, "cannot resolve the moderators' room");
                None
            }
        }
    }
}

/// A notice that pings no one: `m.mentions` present and empty also keeps
/// names in the text from highlighting anybody.
fn notice(rendered: Rendered) -> RoomMessageEventContent {
    RoomMessageEventContent::notice_html(rendered.plain, rendered.html)
        .add_mentions(Mentions::new())
}

/// An `m.replace` edit of `original`: the new content in `m.new_content`,
/// a `* ` fallback at the top level for clients without edits, and no
/// reply or thread relation (an edit keeps the original's), and no one
/// mentioned again.
fn edit(original: OwnedEventId, lang: Lang, correction: &Correction) -> RoomMessageEventContent {
    notice(render::correction(lang, correction))
        .make_replacement(ReplacementMetadata::new(original, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::messages;
    use matrix_sdk::ruma::event_id;

    #[test]
    fn an_edit_is_a_proper_replacement_that_pings_no_one() {
        let content = edit(
            event_id!("$answer").to_owned(),
            Lang::En,
            &Correction::Withdrawn,
        );
        let json = serde_json::to_value(&content).unwrap();
        let withdrawn = messages::get(Lang::En).withdrawn;
        assert_eq!(json["msgtype"], "m.notice");
        assert_eq!(json["body"], format!("* {withdrawn}"));
        assert_eq!(json["m.relates_to"]["rel_type"], "m.replace");
        assert_eq!(json["m.relates_to"]["event_id"], "$answer");
        let new = &json["m.new_content"];
        assert_eq!(new["body"], withdrawn);
        assert_eq!(new["msgtype"], "m.notice");
        assert!(new.get("m.relates_to").is_none(), "{json}");
        assert_eq!(json["m.mentions"], serde_json::json!({}));
        assert_eq!(new["m.mentions"], serde_json::json!({}));
    }
}
