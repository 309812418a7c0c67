//! An in-process double of the Discord API, for the adapter's end-to-end
//! tests: an HTTP server for the REST routes the bot uses and a `ws://`
//! gateway, both on 127.0.0.1, speaking Discord's JSON payloads.
//!
//! The real adapter, with its real serenity/poise client, is pointed at it
//! through `api_url`; `GET /gateway` hands it the WebSocket URL. The double
//! records every REST request and every gateway frame the bot sends, with
//! the time it arrived, so tests assert on real payloads (the PUT of the
//! commands, interaction callbacks, `allowed_mentions`) and measure
//! latency. Tests drive the gateway: dispatch INTERACTION_CREATE,
//! MESSAGE_CREATE and MESSAGE_REACTION_ADD, drop the connection, or ask the
//! bot to RECONNECT; and the REST side: refuse the token, or privileged
//! intents, for a while.
//!
//! Messages the bot creates get ids and are kept, so `GET
//! /webhooks/{app}/{token}/messages/@original` returns an interaction's
//! response and `PATCH /channels/{channel}/messages/{id}` edits are logged
//! against the message they change.
//!
//! Like Discord, it says no: a PATCH of a message it does not know (never
//! sent, or deleted with [`Double::delete_message`]) answers 404 `10008
//! Unknown Message`, and of a message someone else wrote 403 `50005`. A
//! route can be rate-limited ([`Double::rate_limit`]): matching requests
//! answer 429 with Discord's headers and body, a number of times or a share
//! of them; or kept in a bucket ([`Double::bucket`]) whose headers say how
//! many requests remain. An interaction acknowledged a second time answers
//! 400 `40060`, and one acknowledged more than 3 s after it was created
//! (or never created) 404 `10062 Unknown interaction`. A body over one of
//! Discord's limits (a message's, an embed's, a command registration's)
//! answers 400 `50035 Invalid Form Body` with each problem at its path,
//! and an empty message `50006`.
//!
//! The parts: [`validate`] (Discord's limits and its 50035 shape),
//! [`gateway`] (shards, sessions, RESUME replaying what the client missed,
//! READY with unavailable guilds) and [`interactions`] (where interactions
//! come from — guilds, DMs, group DMs, a member's own install — and the
//! messages their responses, deferrals and follow-ups make). This file
//! holds the servers, the log, and the REST routes.

#![allow(dead_code)] // each test binary uses a different part

pub mod gateway;
pub mod interactions;
pub mod validate;

use gateway::{Control, Session};
#[allow(unused_imports)] // each test binary uses a different part
pub use interactions::{DM_CHANNEL, GROUP_DM, LOADING, OTHER_GUILD, Place};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const APP_ID: u64 = 1_300_000_000_000_000_001;
pub const BOT_ID: u64 = 1_300_000_000_000_000_002;
pub const GUILD_ID: u64 = 1_300_000_000_000_000_003;
pub const CHANNEL_ID: u64 = 1_300_000_000_000_000_004;
/// The member permissions interactions carry unless a test says otherwise:
/// everyday ones (View Channel, Send Messages, …), without Manage Guild.
pub const MEMBER_PERMISSIONS: u64 = 2_248_473_465_835_073;
/// Discord's Manage Guild permission bit.
pub const MANAGE_GUILD: u64 = 1 << 5;
pub const TOKEN: &str = "test-token";
/// How long Discord waits for an interaction's first response.
pub const INTERACTION_DEADLINE: Duration = Duration::from_secs(3);
/// How long a test waits for the bot before failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Without the `/api/v10` prefix, e.g. `/interactions/1/t/callback`.
    pub route: String,
    pub body: Value,
    pub authorized: bool,
    pub at: Instant,
    /// The status the double answered with (0 until it has answered).
    pub status: u16,
}

/// Which requests a rate limit applies to, and how often it refuses them.
#[derive(Debug, Clone)]
pub struct RateLimit {
    /// `METHOD /route`, where a `*` segment matches any one segment, e.g.
    /// `PATCH /channels/*/messages/*`.
    pub pattern: String,
    /// How many matching requests to refuse (None: no limit).
    pub times: Option<u32>,
    /// The share of matching requests refused, spread evenly (1.0: all).
    pub share: f64,
    /// The `retry_after` Discord asks for, in seconds.
    pub retry_after: f64,
}

impl RateLimit {
    /// The next `times` matching requests are refused.
    pub fn times(pattern: &str, times: u32) -> RateLimit {
        RateLimit {
            pattern: pattern.to_string(),
            times: Some(times),
            share: 1.0,
            retry_after: 0.25,
        }
    }

    /// A `share` of matching requests is refused, from now on.
    pub fn share(pattern: &str, share: f64) -> RateLimit {
        RateLimit {
            pattern: pattern.to_string(),
            times: None,
            share,
            retry_after: 0.25,
        }
    }

    fn matches(&self, method: &str, route: &str) -> bool {
        let Some((m, pattern)) = self.pattern.split_once(' ') else {
            return false;
        };
        let want: Vec<&str> = pattern.trim_matches('/').split('/').collect();
        let have: Vec<&str> = route.trim_matches('/').split('/').collect();
        m.eq_ignore_ascii_case(method)
            && want.len() == have.len()
            && want.iter().zip(&have).all(|(w, h)| *w == "*" || w == h)
    }
}

/// A rate-limit bucket as Discord keeps one: `limit` requests per
/// `window`; every answer carries `X-RateLimit-Remaining` and
/// `X-RateLimit-Reset-After`, and a request over the limit answers 429.
struct Bucket {
    /// As in [`RateLimit::pattern`].
    matcher: RateLimit,
    limit: u32,
    window: Duration,
    started: Instant,
    used: u32,
}

/// A rate limit in force: how many requests it matched and refused.
struct Limiting {
    limit: RateLimit,
    matched: u64,
    refused: u32,
}

impl Limiting {
    /// Whether this matching request is refused: the `times` first, or
    /// one whenever the running share reaches the next whole request.
    fn refuses(&mut self) -> bool {
        self.matched += 1;
        if self.limit.times.is_some_and(|t| self.refused >= t) {
            return false;
        }
        let share = self.limit.share.clamp(0.0, 1.0);
        let due =
            (self.matched as f64 * share).floor() > ((self.matched - 1) as f64 * share).floor();
        if due {
            self.refused += 1;
        }
        due
    }
}

/// One gateway payload the bot sent (IDENTIFY, RESUME, HEARTBEAT, …).
#[derive(Debug, Clone)]
pub struct Frame {
    pub op: u64,
    pub d: Value,
    pub connection: u64,
}

#[derive(Default)]
pub struct Log {
    pub requests: Vec<Request>,
    pub frames: Vec<Frame>,
    /// The URI of each gateway connection, in order.
    pub connections: Vec<String>,
    /// Dispatches sent to the bot: event name, `d.id`, when it was written.
    pub dispatched: Vec<(String, String, Instant)>,
    /// Messages the bot created in channels: (channel, message id, body).
    pub posted: Vec<(String, String, Value)>,
    /// Requests refused with a Discord error code: (index in `requests`,
    /// code).
    pub refused: Vec<(usize, i64)>,
    /// How many bodies were checked against Discord's limits (messages,
    /// interaction responses, command registrations), refused or not.
    pub validated: usize,
    /// How many dispatches were sent again on a RESUME.
    pub replayed: usize,
}

struct Shared {
    gateway_url: String,
    shards: u32,
    log: Mutex<Log>,
    /// The newest connection and its number.
    conn: Mutex<Option<(u64, mpsc::UnboundedSender<Control>)>>,
    /// The connection that has sent READY or RESUMED and is still open.
    live: Mutex<Option<u64>>,
    connections: AtomicU64,
    /// Every gateway session, oldest first.
    sessions: Mutex<Vec<Session>>,
    /// The guilds the bot is in (READY lists them).
    guilds: Mutex<Vec<u64>>,
    ids: AtomicU64,
    /// Whether the next dispatch is lost in flight.
    lose_next: AtomicBool,
    /// While true, RESUMEs wait for an answer (see [`Double::hold_resumes`]).
    holding_resumes: tokio::sync::watch::Sender<bool>,
    /// Whether the application may use privileged intents (Message Content).
    privileged: AtomicBool,
    /// How many more `GET /gateway/bot` to answer 401, as for a bad token.
    token_refusals: AtomicU32,
    /// Each interaction's response message, by interaction token.
    originals: Mutex<HashMap<String, Value>>,
    /// Each interaction's follow-up messages (ids), by interaction token.
    followups: Mutex<HashMap<String, Vec<String>>>,
    /// The commands registered last: the guild (None: global) and the
    /// commands as Discord returned them.
    commands: Mutex<Option<(Option<u64>, Vec<Value>)>>,
    /// While true, messages posted to channels wait for an answer.
    holding_posts: tokio::sync::watch::Sender<bool>,
    /// Every message that exists, by id: the bot's and the members'.
    messages: Mutex<HashMap<String, Value>>,
    /// Rate limits in force.
    limits: Mutex<Vec<Limiting>>,
    /// Rate-limit buckets in force.
    buckets: Mutex<Vec<Bucket>>,
    /// When each interaction was created, and whether it was acknowledged.
    interactions: Mutex<HashMap<String, (Instant, bool)>>,
    /// How long after its creation an interaction may be acknowledged.
    interaction_deadline: Mutex<Duration>,
}

pub struct Double {
    pub rest_url: String,
    pub gateway_url: String,
    state: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Double {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

impl Double {
    /// Starts both servers; `GET /gateway/bot` will recommend `shards`.
    pub async fn start(shards: u32) -> Double {
        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rest_url = format!("http://{}", rest.local_addr().unwrap());
        let gateway_url = format!("ws://{}", gateway.local_addr().unwrap());
        let state = Arc::new(Shared {
            gateway_url: gateway_url.clone(),
            shards,
            log: Mutex::default(),
            conn: Mutex::default(),
            live: Mutex::default(),
            connections: AtomicU64::new(0),
            sessions: Mutex::default(),
            guilds: Mutex::new(vec![GUILD_ID]),
            ids: AtomicU64::new(1_400_000_000_000_000_000),
            lose_next: AtomicBool::new(false),
            holding_resumes: tokio::sync::watch::channel(false).0,
            privileged: AtomicBool::new(true),
            token_refusals: AtomicU32::new(0),
            originals: Mutex::default(),
            followups: Mutex::default(),
            commands: Mutex::default(),
            holding_posts: tokio::sync::watch::channel(false).0,
            messages: Mutex::default(),
            limits: Mutex::default(),
            buckets: Mutex::default(),
            interactions: Mutex::default(),
            interaction_deadline: Mutex::new(INTERACTION_DEADLINE),
        });
        let app = axum::Router::new()
            .fallback(rest_route)
            .with_state(state.clone());
        let tasks = vec![
            tokio::spawn(async move {
                let rest = rest.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(rest, app).await.unwrap()
            }),
            tokio::spawn(gateway::accept(gateway, state.clone())),
        ];
        Double {
            rest_url,
            gateway_url,
            state,
            tasks,
        }
    }

    /// Reads the log.
    pub fn log<T>(&self, read: impl FnOnce(&Log) -> T) -> T {
        read(&self.state.log.lock().unwrap())
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log(|l| l.requests.clone())
    }

    /// Polls until `found` returns something, or fails the test.
    pub async fn wait<T>(&self, what: &str, found: impl Fn(&Log) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(t) = self.log(&found) {
                return t;
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = self.log(|l| {
                    l.requests
                        .iter()
                        .map(|r| format!("{} {}", r.method, r.route))
                        .collect()
                });
                panic!("timed out waiting for {what}; requests so far: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The first request matching `pred`.
    pub async fn wait_request(&self, what: &str, pred: impl Fn(&Request) -> bool) -> Request {
        self.wait(what, |l| l.requests.iter().find(|r| pred(r)).cloned())
            .await
    }

    /// Refuses privileged intents from now on, as Discord does for an
    /// application whose Message Content switch is off (close code 4014).
    pub fn refuse_privileged_intents(&self) {
        self.state.privileged.store(false, Ordering::Relaxed);
    }

    /// Allows privileged intents again, as when the switch is turned on.
    pub fn allow_privileged_intents(&self) {
        self.state.privileged.store(true, Ordering::Relaxed);
    }

    /// Answers the next `times` `GET /gateway/bot` with 401 Unauthorized, as
    /// Discord does for a reset or mistyped token.
    pub fn refuse_token(&self, times: u32) {
        self.state.token_refusals.store(times, Ordering::Relaxed);
    }

    /// Makes every message the bot posts to a channel wait for its answer
    /// until [`Double::release_posts`], as a slow Discord would.
    pub fn hold_posts(&self) {
        self.state.holding_posts.send_replace(true);
    }

    /// Answers the held posts, and the next ones at once.
    pub fn release_posts(&self) {
        self.state.holding_posts.send_replace(false);
    }

    /// Rate-limits the requests `limit` matches from now on.
    pub fn rate_limit(&self, limit: RateLimit) {
        self.state.limits.lock().unwrap().push(Limiting {
            limit,
            matched: 0,
            refused: 0,
        });
    }

    /// Puts the requests `pattern` matches in a bucket of `limit` per
    /// `window`, as Discord does (see [`RateLimit::pattern`]).
    pub fn bucket(&self, pattern: &str, limit: u32, window: Duration) {
        self.state.buckets.lock().unwrap().push(Bucket {
            matcher: RateLimit::times(pattern, 0),
            limit,
            window,
            started: Instant::now(),
            used: 0,
        });
    }

    /// Changes how long after its creation an interaction may be
    /// acknowledged (Discord: [`INTERACTION_DEADLINE`]).
    pub fn set_interaction_deadline(&self, deadline: Duration) {
        *self.state.interaction_deadline.lock().unwrap() = deadline;
    }

    /// Requests the double refused for a Discord error code: (method,
    /// route, status, code).
    pub fn refusals(&self) -> Vec<(String, String, u16, i64)> {
        self.log(|l| {
            l.refused
                .iter()
                .map(|(i, code)| {
                    let r = &l.requests[*i];
                    (r.method.clone(), r.route.clone(), r.status, *code)
                })
                .collect()
        })
    }

    /// Deletes a message, as a member or moderator would in the client:
    /// Discord forgets it (and tells the bot with MESSAGE_DELETE).
    pub fn delete_message(&self, id: &str) {
        let removed = self.state.messages.lock().unwrap().remove(id);
        assert!(removed.is_some(), "no message {id} to delete");
        let d = json!({"id": id, "channel_id": CHANNEL_ID.to_string(),
            "guild_id": GUILD_ID.to_string()});
        self.dispatch("MESSAGE_DELETE", d);
    }

    /// A message the bot sent earlier (before this test's double existed),
    /// in the guild channel; returns its id.
    pub fn earlier_bot_message(&self, content: &str) -> String {
        let id = self.new_id();
        let message = message_json(&id, bot_user(), content);
        self.state
            .messages
            .lock()
            .unwrap()
            .insert(id.clone(), message);
        id
    }

    /// A message as Discord holds it now, if it exists.
    pub fn message_now(&self, id: &str) -> Option<Value> {
        self.state.messages.lock().unwrap().get(id).cloned()
    }

    pub fn new_id(&self) -> String {
        self.state.ids.fetch_add(1, Ordering::Relaxed).to_string()
    }

    /// The interaction callback (initial response) for an interaction.
    pub async fn callback(&self, id: &str) -> Value {
        let route = format!("/interactions/{id}/{}/callback", interaction_token(id));
        let r = self
            .wait_request(&format!("the callback of {id}"), |r| r.route == route)
            .await;
        r.body
    }

    /// Every message of an interaction so far, in order: the callback's
    /// (unless deferred), edits of the original response, follow-ups.
    pub fn interaction_messages(&self, id: &str) -> Vec<Value> {
        let token = interaction_token(id);
        let callback = format!("/interactions/{id}/{token}/callback");
        let original = format!("/webhooks/{APP_ID}/{token}/messages/@original");
        let followup = format!("/webhooks/{APP_ID}/{token}");
        self.log(|l| {
            l.requests
                .iter()
                .filter_map(|r| match (r.method.as_str(), r.route.as_str()) {
                    ("POST", route) if route == callback && r.body["type"] == 4 => {
                        Some(r.body["data"].clone())
                    }
                    ("PATCH", route) if route == original => Some(r.body.clone()),
                    ("POST", route) if route == followup => Some(r.body.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// The id of an interaction's response message, once the bot has
    /// responded.
    pub fn original_id(&self, id: &str) -> Option<String> {
        let originals = self.state.originals.lock().unwrap();
        let message = originals.get(&interaction_token(id))?;
        message["id"].as_str().map(str::to_string)
    }

    /// Dispatches MESSAGE_REACTION_ADD: `user` reacted with a Unicode
    /// `emoji` to `message` (by `author`) in the guild channel.
    pub fn reaction(&self, user: u64, message: &str, author: u64, emoji: &str) {
        let mut reactor = member(user);
        if user == BOT_ID {
            reactor["user"] = bot_user();
        }
        let d = json!({
            "user_id": user.to_string(),
            "channel_id": CHANNEL_ID.to_string(),
            "message_id": message,
            "guild_id": GUILD_ID.to_string(),
            "member": reactor,
            "emoji": {"id": null, "name": emoji},
            "message_author_id": author.to_string(),
            "burst": false,
            "burst_colors": [],
            "type": 0
        });
        self.dispatch("MESSAGE_REACTION_ADD", d);
    }

    /// Messages the bot created in channels: (channel, message id, body).
    pub fn posted(&self) -> Vec<(String, String, Value)> {
        self.log(|l| l.posted.clone())
    }

    /// Edits of channel messages (`PATCH /channels/{channel}/messages/{id}`):
    /// (channel, message id, body).
    pub fn edits(&self) -> Vec<(String, String, Value)> {
        self.log(|l| {
            l.requests
                .iter()
                .filter(|r| r.method == "PATCH" && r.route.starts_with("/channels/"))
                .filter_map(|r| {
                    let parts: Vec<&str> = r.route.trim_matches('/').split('/').collect();
                    match parts.as_slice() {
                        ["channels", channel, "messages", message] => {
                            Some((channel.to_string(), message.to_string(), r.body.clone()))
                        }
                        _ => None,
                    }
                })
                .collect()
        })
    }

    /// Follow-up messages sent for an interaction so far.
    pub fn followups(&self, id: &str) -> Vec<Value> {
        let route = format!("/webhooks/{APP_ID}/{}", interaction_token(id));
        self.log(|l| {
            l.requests
                .iter()
                .filter(|r| r.route == route)
                .map(|r| r.body.clone())
                .collect()
        })
    }

    /// Dispatches MESSAGE_CREATE in the guild channel; returns its id.
    pub fn message(
        &self,
        author: u64,
        content: &str,
        mentions: Vec<Value>,
        reply_to: Option<Value>,
    ) -> String {
        let id = self.new_id();
        let mut d = message_json(&id, user(author, "member", author == BOT_ID), content);
        d["guild_id"] = json!(GUILD_ID.to_string());
        d["member"] = json!({"roles": [], "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0});
        d["mentions"] = json!(mentions);
        if let Some(original) = reply_to {
            d["type"] = json!(19);
            d["message_reference"] = json!({"type": 0, "message_id": original["id"],
                "channel_id": CHANNEL_ID.to_string(), "guild_id": GUILD_ID.to_string()});
            d["referenced_message"] = original;
        }
        self.dispatch("MESSAGE_CREATE", d);
        id
    }

    /// Dispatches MESSAGE_CREATE in a DM channel (no guild); returns its id.
    pub fn direct_message(&self, author: u64, content: &str) -> String {
        let id = self.new_id();
        let d = message_json(&id, user(author, "member", false), content);
        self.dispatch("MESSAGE_CREATE", d);
        id
    }

    /// Messages the bot posted in channels (`POST /channels/*/messages`).
    pub fn channel_messages(&self) -> Vec<Value> {
        self.log(|l| {
            l.requests
                .iter()
                .filter(|r| r.method == "POST" && r.route.starts_with("/channels/"))
                .map(|r| r.body.clone())
                .collect()
        })
    }
}

pub fn interaction_token(id: &str) -> String {
    format!("itoken-{id}")
}

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0",
        "global_name": null, "avatar": null, "bot": bot})
}

pub fn bot_user() -> Value {
    user(BOT_ID, "kotae", true)
}

pub(crate) fn member(user_id: u64) -> Value {
    member_with(user_id, &[], MEMBER_PERMISSIONS)
}

/// An interaction's `member`: its roles, and its permissions in the channel
/// as the decimal string Discord sends.
pub fn member_with(user_id: u64, roles: &[u64], permissions: u64) -> Value {
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    json!({"user": user(user_id, "member", false), "roles": roles,
        "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
        "flags": 0, "permissions": permissions.to_string()})
}

/// A string option, or the option being typed when `focused`.
pub fn option(name: &str, value: impl Into<Value>, focused: bool) -> Value {
    let value = value.into();
    let kind = if value.is_string() { 3 } else { 4 };
    let mut o = json!({"name": name, "type": kind, "value": value});
    if focused {
        o["focused"] = json!(true);
    }
    o
}

/// A message object as Discord sends it.
pub fn message_json(id: &str, author: Value, content: &str) -> Value {
    json!({
        "id": id, "channel_id": CHANNEL_ID.to_string(), "author": author,
        "content": content, "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
        "pinned": false, "type": 0
    })
}

async fn rest_route(
    State(state): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = uri
        .path()
        .strip_prefix("/api/v10")
        .unwrap_or(uri.path())
        .to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorized = headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == format!("Bot {TOKEN}").as_bytes());
    let index = {
        let mut log = state.log.lock().unwrap();
        log.requests.push(Request {
            method: method.to_string(),
            route: route.clone(),
            body: body.clone(),
            authorized,
            at: Instant::now(),
            status: 0,
        });
        log.requests.len() - 1
    };
    let response = match rate_limited(&state, method.as_str(), &route) {
        Some(refusal) => refusal,
        None => match in_bucket(&state, method.as_str(), &route) {
            Err((retry_after, limit)) => too_many(retry_after, limit),
            Ok(headers) => {
                let mut response = answer_rest(&state, &method, &route, &body).await;
                for (name, value) in headers {
                    let value = value.parse().expect("a header value");
                    response.headers_mut().insert(name, value);
                }
                response
            }
        },
    };
    let status = response.status().as_u16();
    let (parts, bytes) = response.into_parts();
    let bytes = axum::body::to_bytes(bytes, usize::MAX)
        .await
        .unwrap_or_default();
    let mut log = state.log.lock().unwrap();
    log.requests[index].status = status;
    if status >= 400
        && let Some(code) = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["code"].as_i64())
    {
        log.refused.push((index, code));
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A 429 as Discord sends it, if a rate limit refuses this request.
fn rate_limited(state: &Shared, method: &str, route: &str) -> Option<Response> {
    let mut limits = state.limits.lock().unwrap();
    let limiting = limits.iter_mut().find(|l| l.limit.matches(method, route))?;
    if !limiting.refuses() {
        return None;
    }
    Some(too_many(limiting.limit.retry_after, 5))
}

/// The headers of a request a bucket lets through, or the `retry_after`
/// and limit of its 429.
fn in_bucket(
    state: &Shared,
    method: &str,
    route: &str,
) -> Result<Vec<(&'static str, String)>, (f64, u32)> {
    let mut buckets = state.buckets.lock().unwrap();
    let Some(bucket) = buckets
        .iter_mut()
        .find(|b| b.matcher.matches(method, route))
    else {
        return Ok(Vec::new());
    };
    let now = Instant::now();
    if now >= bucket.started + bucket.window {
        bucket.started = now;
        bucket.used = 0;
    }
    // Rounded up to the millisecond the header shows, so a client that
    // waits exactly as long as it says finds the bucket reset.
    let reset_after =
        ((bucket.started + bucket.window - now).as_secs_f64() * 1000.0).ceil() / 1000.0;
    if bucket.used >= bucket.limit {
        return Err((reset_after, bucket.limit));
    }
    bucket.used += 1;
    Ok(vec![
        ("x-ratelimit-limit", bucket.limit.to_string()),
        (
            "x-ratelimit-remaining",
            (bucket.limit - bucket.used).to_string(),
        ),
        ("x-ratelimit-reset-after", format!("{reset_after:.3}")),
        ("x-ratelimit-bucket", BUCKET.to_string()),
    ])
}

/// A bucket hash, as Discord sends in `X-RateLimit-Bucket`.
const BUCKET: &str = "80c17d2f203122d936070c88c8d10f33";

/// A 429 as Discord answers it, with its headers and body.
fn too_many(retry_after: f64, limit: u32) -> Response {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        + retry_after;
    let headers = [
        ("retry-after", format!("{}", retry_after.ceil() as u64)),
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", "0".to_string()),
        ("x-ratelimit-reset", format!("{reset:.3}")),
        ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
        ("x-ratelimit-bucket", BUCKET.to_string()),
        ("x-ratelimit-scope", "user".to_string()),
    ];
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({"message": "You are being rate limited.",
            "retry_after": retry_after, "global": false})),
    )
        .into_response();
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("a header value"));
    }
    response
}

/// The double's answer to a request it does not refuse for its rate.
async fn answer_rest(state: &Arc<Shared>, method: &Method, route: &str, body: &Value) -> Response {
    let body = body.clone();
    let state = state.clone();
    let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
    if let Some(refusal) = invalid_body(&state, method.as_str(), &segments, &body) {
        return refusal;
    }
    let ok = |v: Value| axum::Json(v).into_response();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => ok(json!({"url": state.gateway_url})),
        ("GET", ["gateway", "bot"]) if refuse(&state.token_refusals) => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
        )
            .into_response(),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": state.gateway_url, "shards": state.shards,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        })),
        ("PUT", ["applications", _, "commands"]) => ok(registered(&state, None, &body)),
        ("PUT", ["applications", _, "guilds", guild, "commands"]) => {
            ok(registered(&state, guild.parse().ok(), &body))
        }
        ("POST", ["interactions", id, token, "callback"]) => {
            if let Err((status, error)) = acknowledge(&state, id) {
                return (status, axum::Json(error)).into_response();
            }
            interactions::respond(&state, token, &body);
            StatusCode::NO_CONTENT.into_response()
        }
        ("GET", ["webhooks", _, token, "messages", "@original"]) => {
            match state.originals.lock().unwrap().get(*token) {
                Some(message) => ok(message.clone()),
                None => unknown_message(),
            }
        }
        ("PATCH", ["webhooks", _, token, "messages", "@original"]) => {
            match interactions::edit_original(&state, token, &body) {
                Some(message) => ok(message),
                None => unknown_message(),
            }
        }
        ("DELETE", ["webhooks", _, token, "messages", "@original"]) => {
            if interactions::delete_original(&state, token) {
                StatusCode::NO_CONTENT.into_response()
            } else {
                unknown_message()
            }
        }
        ("POST", ["webhooks", _, token]) => ok(interactions::followup(&state, token, &body)),
        ("POST", ["channels", channel, "messages"]) => {
            let _ = state
                .holding_posts
                .subscribe()
                .wait_for(|holding| !*holding)
                .await;
            let id = state.ids.fetch_add(1, Ordering::Relaxed).to_string();
            let mut message = message_json(&id, bot_user(), "");
            message["channel_id"] = json!(channel);
            update(&mut message, &body);
            let posted = (channel.to_string(), id.clone(), body.clone());
            state.log.lock().unwrap().posted.push(posted);
            state.messages.lock().unwrap().insert(id, message.clone());
            ok(message)
        }
        ("PATCH", ["channels", _, "messages", id]) => {
            let mut messages = state.messages.lock().unwrap();
            match messages.get_mut(*id) {
                None => unknown_message(),
                Some(message) if message["author"]["id"] != BOT_ID.to_string().as_str() => (
                    StatusCode::FORBIDDEN,
                    axum::Json(
                        json!({"message": "Cannot edit a message authored by another user",
                        "code": 50005}),
                    ),
                )
                    .into_response(),
                Some(message) => {
                    message["edited_timestamp"] = json!("2026-01-01T00:00:01.000000+00:00");
                    update(message, &body);
                    ok(message.clone())
                }
            }
        }
        ("PATCH", ["webhooks", _, _, "messages", _]) => {
            let id = state.ids.fetch_add(1, Ordering::Relaxed).to_string();
            let mut message = message_json(&id, bot_user(), "");
            update(&mut message, &body);
            state.messages.lock().unwrap().insert(id, message.clone());
            ok(message)
        }
        ("PUT", ["channels", _, "messages", _, "reactions", _, "@me"]) => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "404: Not Found", "code": 0})),
        )
            .into_response(),
    }
}

/// Discord's refusal of a body it will not take, checked before anything
/// else happens (an invalid interaction response does not acknowledge the
/// interaction): 50035 Invalid Form Body, or 50006 for an empty message.
fn invalid_body(state: &Shared, method: &str, route: &[&str], body: &Value) -> Option<Response> {
    let (problems, creates) = match (method, route) {
        ("PUT", ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]) => {
            (validate::commands(body), false)
        }
        ("POST", ["interactions", _, _, "callback"]) => {
            let creates = body["type"] == 4;
            let empty = creates && validate::is_empty_message(&body["data"]);
            (validate::callback(body), empty)
        }
        ("POST", ["channels", _, "messages"] | ["webhooks", _, _]) => (
            validate::message_body(body),
            validate::is_empty_message(body),
        ),
        ("PATCH", ["channels", _, "messages", _] | ["webhooks", _, _, "messages", _]) => {
            (validate::message_body(body), false)
        }
        _ => return None,
    };
    state.log.lock().unwrap().validated += 1;
    let refusal = match problems.refusal() {
        Some(refusal) => refusal,
        None if creates => json!({"code": 50006, "message": "Cannot send an empty message"}),
        None => return None,
    };
    Some((StatusCode::BAD_REQUEST, axum::Json(refusal)).into_response())
}

/// Counts down a refusal; true while refusing.
fn refuse(refusals: &AtomicU32) -> bool {
    refusals
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// Marks an interaction acknowledged, or says why Discord would not.
fn acknowledge(state: &Shared, id: &str) -> Result<(), (StatusCode, Value)> {
    let deadline = *state.interaction_deadline.lock().unwrap();
    let mut interactions = state.interactions.lock().unwrap();
    match interactions.get_mut(id) {
        Some((_, true)) => Err((
            StatusCode::BAD_REQUEST,
            json!({"code": 40060, "message": "Interaction has already been acknowledged."}),
        )),
        Some((created, acknowledged)) if created.elapsed() <= deadline => {
            *acknowledged = true;
            Ok(())
        }
        _ => Err((
            StatusCode::NOT_FOUND,
            json!({"code": 10062, "message": "Unknown interaction"}),
        )),
    }
}

fn unknown_message() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Unknown Message", "code": 10008})),
    )
        .into_response()
}

/// Applies what a create or edit request sets to a stored message.
fn update(message: &mut Value, body: &Value) {
    for key in ["content", "embeds"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            message[key] = v.clone();
        }
    }
}

/// Registered commands as Discord returns them: the request, with ids.
/// They replace those registered before (a bulk overwrite).
fn registered(state: &Shared, guild: Option<u64>, body: &Value) -> Value {
    let commands = body.as_array().cloned().unwrap_or_default();
    let with_ids: Vec<Value> = commands
        .into_iter()
        .map(|mut c| {
            let id = state.ids.fetch_add(1, Ordering::Relaxed).to_string();
            c["id"] = json!(id);
            c["application_id"] = json!(APP_ID.to_string());
            c["version"] = json!(id);
            if c.get("type").is_none() {
                c["type"] = json!(1);
            }
            c
        })
        .collect();
    *state.commands.lock().unwrap() = Some((guild, with_ids.clone()));
    Value::Array(with_ids)
}
