//! Members' 👍/👎 on the bot's answers, recorded per fact so moderators see
//! which answers people find wrong (`kotae feedback`, `!unanswered`).
//!
//! Only a reaction on a message the bot recorded as an answer counts: a
//! reaction on a decline, a `!topics` list or a member's message says
//! nothing about a fact. The bot's own reactions never count. Taking a
//! reaction back is not handled: the record is of what members said.

use crate::records::Records;
use crate::records::feedback::Vote;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::{RoomId, UserId};

const PLATFORM: &str = "matrix";

/// Records the reaction if it is a vote on one of the bot's answers.
pub(super) fn record(
    records: &Records,
    room: &RoomId,
    reaction: &OriginalSyncReactionEvent,
    me: &UserId,
) {
    let Some(vote) = vote(reaction, me) else {
        return;
    };
    let target = &reaction.content.relates_to.event_id;
    let sent = match records
        .answers
        .find(PLATFORM, room.as_str(), target.as_str())
    {
        Ok(Some(sent)) => sent,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the sent answers; a vote is lost");
            return;
        }
    };
    if let Err(e) = records.feedback.record(
        PLATFORM,
        reaction.sender.as_str(),
        &sent.fact,
        &sent.revision,
        vote,
    ) {
        tracing::warn!(error = %e, "cannot record a vote");
        return;
    }
    tracing::debug!(fact = %sent.fact, ?vote, "vote recorded");
}

/// The vote a reaction casts, if it is a member's 👍 or 👎.
fn vote(reaction: &OriginalSyncReactionEvent, me: &UserId) -> Option<Vote> {
    if reaction.sender == me {
        return None;
    }
    Vote::from_reaction(&reaction.content.relates_to.key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::user_id;
    use serde_json::json;

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
    fn thumbs_from_members_are_votes_and_the_bots_own_are_not() {
        let me = user_id!("@kotae:x");
        assert_eq!(vote(&reaction("@a:x", "👎"), me), Some(Vote::Down));
        assert_eq!(vote(&reaction("@a:x", "👍️"), me), Some(Vote::Up));
        assert_eq!(vote(&reaction("@a:x", "👍🏿"), me), Some(Vote::Up));
        assert_eq!(vote(&reaction("@a:x", "🎉"), me), None);
        assert_eq!(vote(&reaction("@kotae:x", "👍"), me), None);
    }

    #[test]
    fn only_reactions_on_recorded_answers_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(dir.path()).unwrap();
        let room = matrix_sdk::ruma::room_id!("!r:x");
        let me = user_id!("@kotae:x");
        record(&records, room, &reaction("@a:x", "👎"), me);
        assert!(
            crate::records::feedback::summary(dir.path())
                .unwrap()
                .is_empty()
        );
        records
            .answers
            .record(
                PLATFORM,
                "!r:x",
                "$answer",
                "founding",
                "text",
                crate::core::Lang::En,
            )
            .unwrap();
        record(&records, room, &reaction("@a:x", "👎"), me);
        // The same message id in another room is another message.
        record(
            &records,
            matrix_sdk::ruma::room_id!("!other:x"),
            &reaction("@b:x", "👎"),
            me,
        );
        let summary = crate::records::feedback::summary(dir.path()).unwrap();
        assert_eq!(summary.get("founding"), Some(&(0, 1)));
    }
}
