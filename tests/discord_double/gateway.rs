//! The double's gateway: one WebSocket connection per shard, speaking
//! Discord's opcodes (HELLO, IDENTIFY → READY, RESUME → replay and RESUMED,
//! HEARTBEAT → ACK, RECONNECT, INVALID_SESSION), and the sessions behind
//! the connections.
//!
//! As Discord does:
//! - A session is made by IDENTIFY, for the shard it names
//!   (`[shard_id, num_shards]`). A guild's events go only to the shard with
//!   `(guild_id >> 22) % num_shards == shard_id`; DMs go to shard 0.
//! - READY lists the shard's guilds as unavailable (`{"id", "unavailable":
//!   true}`); a GUILD_CREATE for each follows, but only for a client that
//!   asked for the GUILDS intent (Discord sends none without it).
//! - Every dispatch is numbered (`s`) within its session and kept. A
//!   client that lost its connection sends RESUME with its session id and
//!   the last number it saw; the session's dispatches after that number are
//!   sent again, in order, then RESUMED. Dispatches made while no
//!   connection carries the session wait for the RESUME the same way. An
//!   unknown session gets INVALID_SESSION (not resumable).
//! - Message events arrive as the session's intents allow ([`as_delivered`]).

use super::{BOT_ID, Double, Frame, PATIENCE, Shared, bot_user};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

const GUILDS: u64 = 1 << 0;
const GUILD_MESSAGES: u64 = 1 << 9;
const DIRECT_MESSAGES: u64 = 1 << 12;
const MESSAGE_CONTENT: u64 = 1 << 15;

/// What a test asks of a connection.
pub(super) enum Control {
    /// Write this (numbered) dispatch.
    Send(Value),
    Reconnect,
    InvalidateSession,
    Drop,
}

/// A gateway session, as Discord keeps it between connections.
pub(super) struct Session {
    pub id: String,
    /// `[shard_id, num_shards]` from IDENTIFY.
    pub shard: [u64; 2],
    pub intents: u64,
    /// The number of the last dispatch.
    pub seq: u64,
    /// Every dispatch, numbered, for RESUME to replay.
    pub sent: Vec<(u64, Value)>,
    /// The connection carrying the session, if any (it may have died).
    pub conn: Option<(u64, mpsc::UnboundedSender<Control>)>,
}

impl Session {
    /// Numbers a dispatch and keeps it; returns the payload.
    fn number(&mut self, event: &str, d: Value) -> Value {
        self.seq += 1;
        let payload = json!({"op": 0, "t": event, "s": self.seq, "d": d});
        self.sent.push((self.seq, payload.clone()));
        payload
    }

    /// Sends a numbered dispatch to the connection, if there is one; if the
    /// connection is gone it waits for a RESUME.
    fn deliver(&self, payload: Value) {
        if let Some((_, tx)) = &self.conn {
            let _ = tx.send(Control::Send(payload));
        }
    }
}

/// The shard a dispatch belongs to: its guild's, or 0 for a DM.
pub fn shard_of(d: &Value, shards: u64) -> u64 {
    let guild = d["guild_id"].as_str().and_then(|g| g.parse::<u64>().ok());
    guild.map_or(0, |g| (g >> 22) % shards.max(1))
}

impl Double {
    /// Sends a dispatch (op 0) to the session of the shard it belongs to;
    /// if that session has no connection now, it waits for the RESUME.
    pub fn dispatch(&self, event: &str, d: Value) {
        let lose = self.state.lose_next.swap(false, Ordering::Relaxed);
        self.route(event, d, lose);
    }

    /// Makes the next dispatch be lost in flight: it is numbered and kept
    /// for its session, but the connection drops before it is written, as
    /// when the network fails with an event on the wire. The client sees
    /// it only if it resumes.
    pub fn lose_next_dispatch(&self) {
        self.state.lose_next.store(true, Ordering::Relaxed);
    }

    fn route(&self, event: &str, d: Value, lose: bool) {
        if event == "MESSAGE_CREATE"
            && let Some(id) = d["id"].as_str()
        {
            let mut messages = self.state.messages.lock().unwrap();
            messages.insert(id.to_string(), d.clone());
        }
        let mut sessions = self.state.sessions.lock().unwrap();
        let shards = sessions.last().expect("no gateway session").shard[1];
        let shard = shard_of(&d, shards);
        let session = sessions
            .iter_mut()
            .rev()
            .find(|s| s.shard[0] == shard)
            .unwrap_or_else(|| panic!("no session for shard {shard}"));
        let Some(d) = as_delivered(event, d, session.intents) else {
            return;
        };
        let payload = session.number(event, d);
        if lose {
            if let Some((_, tx)) = &session.conn {
                let _ = tx.send(Control::Drop);
            }
        } else {
            session.deliver(payload);
        }
    }

    /// Dispatches MESSAGE_CREATE in a channel of `guild`: a member's
    /// message mentioning the bot; returns its id.
    pub fn mention_in(&self, guild: u64, author: u64, question: &str) -> String {
        let id = self.new_id();
        let content = format!("<@{BOT_ID}> {question}");
        let mut d = super::message_json(&id, super::user(author, "member", false), &content);
        d["guild_id"] = json!(guild.to_string());
        d["member"] = json!({"roles": [], "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0});
        d["mentions"] = json!([bot_user()]);
        self.dispatch("MESSAGE_CREATE", d);
        id
    }

    /// The guilds the bot is in, listed in READY (as unavailable) from the
    /// next IDENTIFY on.
    pub fn set_guilds(&self, guilds: &[u64]) {
        *self.state.guilds.lock().unwrap() = guilds.to_vec();
    }

    /// Dispatches each session has sent: (shard id, event, `d`).
    pub fn session_dispatches(&self) -> Vec<(u64, String, Value)> {
        let sessions = self.state.sessions.lock().unwrap();
        sessions
            .iter()
            .flat_map(|s| {
                s.sent.iter().map(|(_, p)| {
                    let event = p["t"].as_str().unwrap_or_default().to_string();
                    (s.shard[0], event, p["d"].clone())
                })
            })
            .collect()
    }

    /// Makes RESUMEs wait until [`Double::release_resumes`]: what a test
    /// dispatches meanwhile is certainly missed by the client, however
    /// fast it reconnects.
    pub fn hold_resumes(&self) {
        self.state.holding_resumes.send_replace(true);
    }

    pub fn release_resumes(&self) {
        self.state.holding_resumes.send_replace(false);
    }

    /// Closes the TCP connection with no close frame, as a network drop.
    pub fn drop_connection(&self) {
        self.control(Control::Drop);
    }

    /// Sends op 7 RECONNECT, as Discord does before moving a session.
    pub fn request_reconnect(&self) {
        self.control(Control::Reconnect);
    }

    /// Sends op 9 INVALID_SESSION (not resumable): the bot must IDENTIFY anew.
    pub fn invalidate_session(&self) {
        self.control(Control::InvalidateSession);
    }

    /// A control for the newest connection.
    fn control(&self, c: Control) {
        if let Some((_, tx)) = self.state.conn.lock().unwrap().as_ref() {
            let _ = tx.send(c);
        }
    }

    /// Waits until a connection has been READY or RESUMED and is still open.
    pub async fn wait_live(&self) -> u64 {
        self.wait_new_session(0).await
    }

    /// Waits until a connection newer than `after` is live (resumed or
    /// identified); returns its number.
    pub async fn wait_new_session(&self, after: u64) -> u64 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match *self.state.live.lock().unwrap() {
                Some(n) if n > after => return n,
                _ => {}
            }
            assert!(Instant::now() < deadline, "the bot never (re)connected");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Gateway frames with this op the bot has sent (2 IDENTIFY, 6 RESUME).
    pub fn frames(&self, op: u64) -> Vec<Frame> {
        self.log(|l| l.frames.iter().filter(|f| f.op == op).cloned().collect())
    }
}

pub(super) async fn accept(listener: TcpListener, state: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, state.clone()));
    }
}

/// One gateway connection: HELLO, then the client's opcodes answered
/// ([`answer`]) and the test's dispatches and controls written.
// tungstenite's handshake callback fixes the (large) error type.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, state: Arc<Shared>) {
    // Without this, Nagle's algorithm holds back a frame written right after
    // another for up to 40 ms, and the double, not the bot, sets the latency.
    let _ = stream.set_nodelay(true);
    let log_state = state.clone();
    let accepted = tokio_tungstenite::accept_hdr_async(
        stream,
        move |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
            let uri = req.uri().to_string();
            log_state.log.lock().unwrap().connections.push(uri);
            Ok(resp)
        },
    )
    .await;
    let Ok(mut ws) = accepted else { return };
    let number = state.connections.fetch_add(1, Ordering::Relaxed) + 1;
    let (tx, mut rx) = mpsc::unbounded_channel();
    *state.conn.lock().unwrap() = Some((number, tx.clone()));
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41250}, "s": null, "t": null});
    if ws.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = ws.next() => {
                let Some(Ok(frame)) = frame else { break };
                let text = match frame {
                    Message::Text(text) => text,
                    Message::Close(_) => break,
                    _ => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                if v["op"] == 6 {
                    let _ = state.holding_resumes.subscribe().wait_for(|holding| !*holding).await;
                }
                match answer(&state, (number, &tx), v) {
                    Answer::Send(replies) => {
                        if !write_all(&mut ws, &state, replies).await {
                            break;
                        }
                    }
                    Answer::Close(code) => {
                        let frame = CloseFrame { code: code.into(), reason: "refused".into() };
                        let _ = ws.close(Some(frame)).await;
                        break;
                    }
                }
            }
            control = rx.recv() => match control {
                Some(Control::Send(payload)) => {
                    note_dispatch(&state, &payload);
                    if ws.send(Message::Text(payload.to_string())).await.is_err() {
                        break;
                    }
                }
                Some(Control::Reconnect) => {
                    let reconnect = json!({"op": 7, "d": null, "s": null, "t": null});
                    let _ = ws.send(Message::Text(reconnect.to_string())).await;
                }
                Some(Control::InvalidateSession) => {
                    let invalid = json!({"op": 9, "d": false, "s": null, "t": null});
                    let _ = ws.send(Message::Text(invalid.to_string())).await;
                }
                Some(Control::Drop) | None => break,
            },
        }
    }
    let mut live = state.live.lock().unwrap();
    if *live == Some(number) {
        *live = None;
    }
}

/// Writes replies in order; false once the connection is gone.
async fn write_all(
    ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>,
    state: &Shared,
    replies: Vec<Value>,
) -> bool {
    for reply in replies {
        note_dispatch(state, &reply);
        if ws.send(Message::Text(reply.to_string())).await.is_err() {
            return false;
        }
    }
    true
}

/// Logs a dispatch as it is written: event name, `d.id`, when.
fn note_dispatch(state: &Shared, payload: &Value) {
    let Some(event) = payload["t"].as_str() else {
        return;
    };
    let id = payload["d"]["id"].as_str().unwrap_or_default().to_string();
    let mut log = state.log.lock().unwrap();
    log.dispatched.push((event.to_string(), id, Instant::now()));
}

/// A message event as Discord delivers it under `intents`: not at all
/// without the guild or direct message intent, and without its content
/// (text, embeds, attachments, components) when the client lacks Message
/// Content, unless it mentions the bot, is a DM, or is the bot's own.
pub fn as_delivered(event: &str, mut d: Value, intents: u64) -> Option<Value> {
    if event != "MESSAGE_CREATE" {
        return Some(d);
    }
    let in_guild = d.get("guild_id").is_some_and(|g| !g.is_null());
    let needed = if in_guild {
        GUILD_MESSAGES
    } else {
        DIRECT_MESSAGES
    };
    if intents & needed == 0 {
        return None;
    }
    let bot = BOT_ID.to_string();
    let mentions_bot = d["mentions"]
        .as_array()
        .is_some_and(|m| m.iter().any(|u| u["id"] == bot.as_str()));
    let by_bot = d["author"]["id"] == bot.as_str();
    if in_guild && intents & MESSAGE_CONTENT == 0 && !mentions_bot && !by_bot {
        d["content"] = json!("");
        for key in ["embeds", "attachments", "components"] {
            d[key] = json!([]);
        }
    }
    Some(d)
}

enum Answer {
    Send(Vec<Value>),
    Close(u16),
}

/// The double's side of the handshake and heartbeats, for the connection
/// `conn` (its number and its channel).
fn answer(state: &Shared, conn: (u64, &mpsc::UnboundedSender<Control>), v: Value) -> Answer {
    let op = v["op"].as_u64().unwrap_or(u64::MAX);
    let d = v["d"].clone();
    state.log.lock().unwrap().frames.push(Frame {
        op,
        d: d.clone(),
        connection: conn.0,
    });
    match op {
        1 => Answer::Send(vec![json!({"op": 11, "d": null, "s": null, "t": null})]),
        2 if d["intents"].as_u64().unwrap_or(0) & MESSAGE_CONTENT != 0
            && !state.privileged.load(Ordering::Relaxed) =>
        {
            Answer::Close(4014)
        }
        2 => Answer::Send(identify(state, conn, &d)),
        6 => Answer::Send(resume(state, conn, &d)),
        _ => Answer::Send(Vec::new()),
    }
}

/// A new session for the shard IDENTIFY names: READY, listing the shard's
/// guilds as unavailable, then GUILD_CREATE for each if the client asked
/// for the GUILDS intent.
fn identify(state: &Shared, conn: (u64, &mpsc::UnboundedSender<Control>), d: &Value) -> Vec<Value> {
    let shard = match d["shard"].as_array().map(Vec::as_slice) {
        Some([id, count]) => [id.as_u64().unwrap_or(0), count.as_u64().unwrap_or(1)],
        _ => [0, 1],
    };
    let mut session = Session {
        id: format!("session-{}", conn.0),
        shard,
        intents: d["intents"].as_u64().unwrap_or(0),
        seq: 0,
        sent: Vec::new(),
        conn: Some((conn.0, conn.1.clone())),
    };
    let guilds: Vec<u64> = state
        .guilds
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|g| shard_of(&json!({"guild_id": g.to_string()}), shard[1]) == shard[0])
        .collect();
    let unavailable: Vec<Value> = guilds
        .iter()
        .map(|g| json!({"id": g.to_string(), "unavailable": true}))
        .collect();
    let ready = json!({
        "v": 10,
        "user": bot_user(),
        "guilds": unavailable,
        "session_id": session.id,
        "resume_gateway_url": state.gateway_url,
        "shard": shard,
        "application": {"id": super::APP_ID.to_string(), "flags": 0}
    });
    let mut replies = vec![session.number("READY", ready)];
    if session.intents & GUILDS != 0 {
        for g in guilds {
            replies.push(session.number("GUILD_CREATE", guild_json(g)));
        }
    }
    state.sessions.lock().unwrap().push(session);
    *state.live.lock().unwrap() = Some(conn.0);
    replies
}

/// The session RESUME names, now on this connection: what it missed since
/// the client's `seq`, then RESUMED; INVALID_SESSION if there is no such
/// session.
fn resume(state: &Shared, conn: (u64, &mpsc::UnboundedSender<Control>), d: &Value) -> Vec<Value> {
    let mut sessions = state.sessions.lock().unwrap();
    let wanted = d["session_id"].as_str().unwrap_or_default();
    let Some(session) = sessions.iter_mut().find(|s| s.id == wanted) else {
        return vec![json!({"op": 9, "d": false, "s": null, "t": null})];
    };
    let seen = d["seq"].as_u64().unwrap_or(0);
    let mut replies: Vec<Value> = session
        .sent
        .iter()
        .filter(|(seq, _)| *seq > seen)
        .map(|(_, payload)| payload.clone())
        .collect();
    state.log.lock().unwrap().replayed += replies.len();
    session.conn = Some((conn.0, conn.1.clone()));
    replies.push(session.number("RESUMED", json!({})));
    *state.live.lock().unwrap() = Some(conn.0);
    replies
}

/// A guild as GUILD_CREATE carries it: the fields serenity needs, no
/// members or channels beyond the bot's view.
pub fn guild_json(id: u64) -> Value {
    json!({
        "id": id.to_string(), "name": format!("guild {id}"), "icon": null, "splash": null,
        "discovery_splash": null, "owner_id": "1200000000000000009", "afk_channel_id": null,
        "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "roles": [], "emojis": [], "features": [],
        "mfa_level": 0, "application_id": null, "system_channel_id": null,
        "system_channel_flags": 0, "rules_channel_id": null, "vanity_url_code": null,
        "description": null, "banner": null, "premium_tier": 0,
        "preferred_locale": "en-US", "public_updates_channel_id": null, "nsfw_level": 0,
        "premium_progress_bar_enabled": false, "stickers": [],
        "joined_at": "2024-01-01T00:00:00.000000+00:00", "large": false,
        "unavailable": false, "member_count": 2, "voice_states": [], "members": [],
        "channels": [], "threads": [], "presences": [], "stage_instances": [],
        "guild_scheduled_events": []
    })
}
