//! Invites: the bot joins rooms it is invited to by an allowed user and
//! declines the rest.
//!
//! Joining right after an invite can fail while the homeserver is still
//! settling the room (or, over federation, reaching it), so a failed join
//! is retried with growing delays, in the background, never holding up the
//! sync loop.

use crate::service::Shutdown;
use crate::service::backoff::Backoff;
use matrix_sdk::ruma::{OwnedRoomId, ServerName, UserId};
use matrix_sdk::{Client, Room};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const JOIN_ATTEMPTS: u32 = 8;

pub(super) struct Invites {
    allow: Vec<String>,
    own_server: String,
    /// Rooms with a join or refusal under way, so an invite seen twice (in
    /// the start-up scan and in a sync) is handled once.
    in_flight: Mutex<HashSet<OwnedRoomId>>,
    shutdown: Shutdown,
}

impl Invites {
    pub(super) fn new(client: &Client, allow: &[String], shutdown: Shutdown) -> Arc<Invites> {
        let own_server = client
            .user_id()
            .map(|u| u.server_name().to_string())
            .unwrap_or_default();
        Arc::new(Invites {
            allow: allow.to_vec(),
            own_server,
            in_flight: Mutex::default(),
            shutdown,
        })
    }

    /// Joins or declines, in a background task.
    pub(super) fn handle(self: &Arc<Self>, room: Room) {
        {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if !in_flight.insert(room.room_id().to_owned()) {
                return;
            }
        }
        let invites = Arc::clone(self);
        tokio::spawn(async move {
            invites.answer(&room).await;
            let mut in_flight = invites.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            in_flight.remove(room.room_id());
        });
    }

    async fn answer(&self, room: &Room) {
        let inviter = match room.invite_details().await {
            Ok(invite) => invite.inviter_id,
            Err(e) => {
                tracing::warn!(room = %room.room_id(), error = %e, "cannot read an invite");
                return;
            }
        };
        if allowed(&self.allow, &self.own_server, &inviter) {
            self.join(room, &inviter).await;
        } else {
            tracing::info!(room = %room.room_id(), %inviter, "declining an invite from a user not in allow_invites_from");
            if let Err(e) = room.leave().await {
                tracing::warn!(room = %room.room_id(), error = %e, "cannot decline an invite");
            }
        }
    }

    async fn join(&self, room: &Room, inviter: &UserId) {
        let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(600));
        for attempt in 1..=JOIN_ATTEMPTS {
            match room.join().await {
                Ok(()) => {
                    tracing::info!(room = %room.room_id(), %inviter, "joined a room on invitation");
                    return;
                }
                Err(e) => {
                    tracing::warn!(room = %room.room_id(), attempt, error = %e, "cannot join a room yet");
                    if attempt == JOIN_ATTEMPTS || !backoff.wait(&self.shutdown).await {
                        return;
                    }
                }
            }
        }
    }
}

/// Whether `inviter` may bring the bot into a room. Entries are user ids,
/// server names or `*`; an empty list means the bot's own server.
fn allowed(allow: &[String], own_server: &str, inviter: &UserId) -> bool {
    let server = inviter.server_name();
    if allow.is_empty() {
        return same_server(server, own_server);
    }
    allow.iter().map(|entry| entry.trim()).any(|entry| {
        entry == "*"
            || if entry.starts_with('@') {
                entry == inviter.as_str()
            } else {
                same_server(server, entry.trim_start_matches(':'))
            }
    })
}

fn same_server(server: &ServerName, name: &str) -> bool {
    server.as_str().eq_ignore_ascii_case(name)
}

#[cfg(test)]
mod tests {
    use super::allowed;
    use matrix_sdk::ruma::user_id;

    #[test]
    fn by_default_only_the_bots_own_server_may_invite() {
        assert!(allowed(&[], "example.org", user_id!("@alice:example.org")));
        assert!(!allowed(
            &[],
            "example.org",
            user_id!("@mallory:evil.example")
        ));
    }

    #[test]
    fn users_servers_and_anyone_can_be_allowed() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let alice = user_id!("@alice:example.org");
        let bob = user_id!("@bob:other.example");
        assert!(allowed(&list(&["@alice:example.org"]), "x", alice));
        assert!(!allowed(
            &list(&["@alice:example.org"]),
            "example.org",
            user_id!("@eve:example.org")
        ));
        assert!(allowed(&list(&["other.example"]), "x", bob));
        assert!(allowed(&list(&[":Other.Example"]), "x", bob));
        assert!(!allowed(&list(&["other.example"]), "x", alice));
        assert!(allowed(&list(&["*"]), "x", bob));
    }
}
