//! Members' 👍/👎 on the bot's answers, as votes on their facts (`kotae
//! feedback`, `!unanswered`). The service decides what counts: only a 👍 or
//! 👎 on a message the bot recorded as an answer (a reaction on a decline,
//! a `!topics` list or a member's message says nothing about a fact). The
//! bot's own reactions never count. Taking a reaction back is not
//! handled: the record is of what members said.

use crate::service::{Platform, SentMessage, Service};
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::{RoomId, UserId};

/// Records the reaction if it is a member's vote on one of the bot's
/// answers; returns the fact voted on.
pub(super) fn record(
    service: &Service,
    room: &RoomId,
    reaction: &OriginalSyncReactionEvent,
    me: &UserId,
) -> Option<String> {
    if reaction.sender == me {
        return None;
    }
    let relation = &reaction.content.relates_to;
    let on = SentMessage {
        platform: Platform::Matrix,
        room: room.as_str(),
        message: relation.event_id.as_str(),
    };
    service.vote(on, reaction.sender.as_str(), &relation.key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Answer, Kotae, Lang, Status};
    use crate::service::Shutdown;
    use matrix_sdk::ruma::{room_id, user_id};
    use serde_json::json;
    use std::sync::Arc;

    fn reaction(sender: &str, key: &str) -> OriginalSyncReactionEvent {
        serde_json::from_value(json!({
            "type": "m.reaction", "event_id": "$r", "sender": sender,
            "origin_server_ts": 1,
            "content": { "m.relates_to": {
                "rel_type": "m.annotation", "event_id": "$answer", "key": key,
            } },
        }))
        .unwrap()
    }

    #[test]
    fn members_thumbs_on_answers_are_votes_and_the_bots_own_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let base = crate::service::load_base(None).unwrap();
        let service =
            Service::open(Arc::new(Kotae::new(base)), dir.path(), Shutdown::new().1).unwrap();
        let room = room_id!("!r:x");
        let me = user_id!("@kotae:x");
        let answer = Answer {
            fact_id: "founding".into(),
            text: "text".into(),
            claims: Vec::new(),
            status: Status::Confirmed,
            updated: None,
            sources: Vec::new(),
            see_also: None,
        };
        let sent = SentMessage {
            platform: Platform::Matrix,
            room: room.as_str(),
            message: "$answer",
        };
        service.remember_answer(sent, &answer, Lang::En);
        assert_eq!(
            record(&service, room, &reaction("@a:x", "👎"), me).as_deref(),
            Some("founding")
        );
        assert_eq!(record(&service, room, &reaction("@a:x", "🎉"), me), None);
        assert_eq!(
            record(&service, room, &reaction("@kotae:x", "👍"), me),
            None
        );
    }
}
