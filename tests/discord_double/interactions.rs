//! Interactions in the double: where they come from, and the messages
//! their responses make.
//!
//! Where: a guild that installed the bot (context 0, `member`), a DM with
//! the bot (context 1, `user`), a DM or group DM between other people where
//! the member installed kotae on their account (context 2, `user`), or a
//! guild that did not install the bot, through the member's own install
//! (context 0, `member`, owned by the user). Each carries
//! `authorizing_integration_owners` as Discord sends it. As Discord, the
//! double offers a command only where its registration allows:
//! `contexts` (all three when absent, for a global command; guild commands
//! only in their guild) and `integration_types` (guild install only when
//! absent).
//!
//! Responses: a callback of type 4 creates the original response; type 5
//! creates it "loading" (flag 128, Discord's "is thinking…"). An edit of
//! `@original` replaces it and ends the loading; so does the first
//! follow-up while it is still loading (Discord turns that follow-up into
//! the response, with the deferral's visibility). `DELETE @original`
//! removes it. Other follow-ups are messages of their own, ephemeral when
//! their flags say so.

use super::{
    APP_ID, CHANNEL_ID, Double, GUILD_ID, Shared, bot_user, interaction_token, member, message_json,
};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Discord's message flag for a deferred response still "thinking".
pub const LOADING: u64 = 1 << 7;
/// Discord's message flag for a message only its recipient sees.
pub const EPHEMERAL: u64 = 1 << 6;
/// The DM channel between the bot and a member.
pub const DM_CHANNEL: u64 = 1_300_000_000_000_000_010;
/// A group DM the bot is not in.
pub const GROUP_DM: u64 = 1_300_000_000_000_000_011;
/// A guild that did not install the bot.
pub const OTHER_GUILD: u64 = 1_300_000_000_000_000_012;

/// Where an interaction happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A channel of [`GUILD_ID`], which installed the bot.
    Guild,
    /// A DM with the bot.
    BotDm,
    /// A group DM, through the member's own install of kotae.
    PrivateChannel,
    /// A channel of a guild that did not install the bot, through the
    /// member's own install.
    UserInstalledGuild,
}

impl Place {
    /// Discord's interaction context type.
    pub fn context(self) -> u64 {
        match self {
            Place::Guild | Place::UserInstalledGuild => 0,
            Place::BotDm => 1,
            Place::PrivateChannel => 2,
        }
    }

    /// The installation the interaction goes through: 0 the guild's, 1
    /// the member's.
    pub fn installation(self) -> u64 {
        match self {
            Place::Guild | Place::BotDm => 0,
            Place::PrivateChannel | Place::UserInstalledGuild => 1,
        }
    }

    /// The interaction's fields that depend on where it is.
    fn fields(self, user: u64, member_json: Value) -> Value {
        let owner = |key: &str, id: String| json!({ key: id });
        match self {
            Place::Guild => json!({
                "guild_id": GUILD_ID.to_string(), "channel_id": CHANNEL_ID.to_string(),
                "channel": {"id": CHANNEL_ID.to_string(), "type": 0, "guild_id": GUILD_ID.to_string()},
                "member": member_json, "guild_locale": "en-US",
                "authorizing_integration_owners": owner("0", GUILD_ID.to_string()),
            }),
            // A guild install invoked in the bot's DM: Discord says "0".
            Place::BotDm => json!({
                "channel_id": DM_CHANNEL.to_string(),
                "channel": {"id": DM_CHANNEL.to_string(), "type": 1,
                    "recipients": [super::user(user, "member", false)]},
                "user": member_json["user"],
                "authorizing_integration_owners": owner("0", "0".into()),
            }),
            Place::PrivateChannel => json!({
                "channel_id": GROUP_DM.to_string(),
                "channel": {"id": GROUP_DM.to_string(), "type": 3, "name": "friends"},
                "user": member_json["user"],
                "authorizing_integration_owners": owner("1", user.to_string()),
            }),
            Place::UserInstalledGuild => json!({
                "guild_id": OTHER_GUILD.to_string(), "channel_id": CHANNEL_ID.to_string(),
                "channel": {"id": CHANNEL_ID.to_string(), "type": 0, "guild_id": OTHER_GUILD.to_string()},
                "member": member_json, "guild_locale": "en-US",
                "authorizing_integration_owners": owner("1", user.to_string()),
            }),
        }
    }
}

impl Double {
    /// Dispatches a slash command (INTERACTION_CREATE, type 2) from an
    /// everyday member; returns its id.
    pub fn command(&self, name: &str, options: Value, locale: &str, user: u64) -> String {
        self.interaction(2, name, options, locale, member(user), Place::Guild)
    }

    /// Dispatches a slash command from a member with these roles and
    /// permissions (see [`super::member_with`]); returns its id.
    pub fn command_as(&self, name: &str, options: Value, locale: &str, member: Value) -> String {
        self.interaction(2, name, options, locale, member, Place::Guild)
    }

    /// Dispatches an autocomplete interaction (type 4); returns its id.
    pub fn autocomplete(&self, name: &str, options: Value, locale: &str, user: u64) -> String {
        self.interaction(4, name, options, locale, member(user), Place::Guild)
    }

    /// Dispatches a slash command used at `place`; returns its id. Fails
    /// the test if Discord would not offer the command there.
    pub fn command_in(
        &self,
        place: Place,
        name: &str,
        options: Value,
        locale: &str,
        user: u64,
    ) -> String {
        assert!(
            self.offered(place, name),
            "Discord would not offer /{name} at {place:?}, as registered"
        );
        self.interaction(2, name, options, locale, member(user), place)
    }

    /// Whether Discord offers the registered command `name` at `place`.
    pub fn offered(&self, place: Place, name: &str) -> bool {
        let registered = self.state.commands.lock().unwrap();
        let Some((guild, commands)) = registered.as_ref() else {
            return false;
        };
        let Some(command) = commands.iter().find(|c| c["name"] == name) else {
            return false;
        };
        if let Some(guild) = guild {
            // A guild command exists in that guild only, whoever installed.
            return place == Place::Guild && *guild == GUILD_ID;
        }
        let listed = |key: &str, default: &[u64], want: u64| match command[key].as_array() {
            Some(values) => values.iter().any(|v| v.as_u64() == Some(want)),
            None => default.contains(&want),
        };
        listed("contexts", &[0, 1, 2], place.context())
            && listed("integration_types", &[0], place.installation())
    }

    fn interaction(
        &self,
        kind: u8,
        name: &str,
        options: Value,
        locale: &str,
        member: Value,
        place: Place,
    ) -> String {
        let id = self.new_id();
        let created = (Instant::now(), false);
        let mut interactions = self.state.interactions.lock().unwrap();
        interactions.insert(id.clone(), created);
        drop(interactions);
        let user: u64 = member["user"]["id"]
            .as_str()
            .and_then(|u| u.parse().ok())
            .unwrap_or_default();
        let mut d = json!({
            "id": id,
            "application_id": APP_ID.to_string(),
            "type": kind,
            "data": {"id": "1300000000000000100", "name": name, "type": 1, "options": options},
            "token": interaction_token(&id),
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": locale,
            "entitlements": [],
            "context": place.context(),
            "attachment_size_limit": 26214400
        });
        for (key, value) in place.fields(user, member).as_object().unwrap() {
            d[key] = value.clone();
        }
        self.dispatch("INTERACTION_CREATE", d);
        id
    }

    /// The messages an interaction shows now, in order: its response
    /// (unless deleted or still loading) and its follow-ups.
    pub fn shown(&self, id: &str) -> Vec<Value> {
        let token = interaction_token(id);
        let mut shown = Vec::new();
        if let Some(original) = self.state.originals.lock().unwrap().get(&token)
            && original["flags"].as_u64().unwrap_or(0) & LOADING == 0
        {
            shown.push(original.clone());
        }
        let followups = self.state.followups.lock().unwrap();
        let messages = self.state.messages.lock().unwrap();
        for message in followups.get(&token).into_iter().flatten() {
            if let Some(m) = messages.get(message) {
                shown.push(m.clone());
            }
        }
        shown
    }
}

/// Keeps the message an interaction callback creates: a message (type 4)
/// with its content, or a deferred one (type 5), loading until edited.
pub(super) fn respond(state: &Shared, token: &str, body: &Value) {
    let kind = body["type"].as_u64().unwrap_or(0);
    if kind != 4 && kind != 5 {
        return;
    }
    let mut message = new_message(state);
    let mut flags = body["data"]["flags"].as_u64().unwrap_or(0);
    if kind == 4 {
        super::update(&mut message, &body["data"]);
    } else {
        flags |= LOADING;
    }
    message["flags"] = json!(flags);
    keep(state, &message);
    let mut originals = state.originals.lock().unwrap();
    originals.insert(token.to_string(), message);
}

/// `PATCH @original`: the response as edited, no longer loading.
pub(super) fn edit_original(state: &Shared, token: &str, body: &Value) -> Option<Value> {
    let mut originals = state.originals.lock().unwrap();
    let message = originals.get_mut(token)?;
    super::update(message, body);
    let flags = message["flags"].as_u64().unwrap_or(0) & !LOADING;
    message["flags"] = json!(flags);
    keep(state, message);
    Some(message.clone())
}

/// `DELETE @original`: whether there was a response to delete.
pub(super) fn delete_original(state: &Shared, token: &str) -> bool {
    let removed = state.originals.lock().unwrap().remove(token);
    if let Some(message) = &removed {
        let id = message["id"].as_str().unwrap_or_default();
        state.messages.lock().unwrap().remove(id);
    }
    removed.is_some()
}

/// `POST /webhooks/{app}/{token}`: the first follow-up while the response
/// is loading becomes the response (keeping the deferral's visibility);
/// any other is a message of its own.
pub(super) fn followup(state: &Shared, token: &str, body: &Value) -> Value {
    let loading = state
        .originals
        .lock()
        .unwrap()
        .get(token)
        .is_some_and(|m| m["flags"].as_u64().unwrap_or(0) & LOADING != 0);
    if loading && let Some(message) = edit_original(state, token, body) {
        return message;
    }
    let mut message = new_message(state);
    super::update(&mut message, body);
    message["flags"] = json!(body["flags"].as_u64().unwrap_or(0));
    keep(state, &message);
    let id = message["id"].as_str().unwrap_or_default().to_string();
    let mut followups = state.followups.lock().unwrap();
    followups.entry(token.to_string()).or_default().push(id);
    message
}

fn new_message(state: &Shared) -> Value {
    let id = state.ids.fetch_add(1, Ordering::Relaxed).to_string();
    message_json(&id, bot_user(), "")
}

/// Stores a message the bot made, by id.
fn keep(state: &Shared, message: &Value) {
    let id = message["id"].as_str().unwrap_or_default().to_string();
    state.messages.lock().unwrap().insert(id, message.clone());
}
