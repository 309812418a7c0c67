//! The Discord half of the moderators' workflow (the platform-neutral half
//! is `crate::service::moderation`): who counts as a moderator, and what a
//! reload means in Discord ([`DiscordReloads`], driven by the service's
//! follower): a report in the moderators' channel, and edits of answers
//! the reload corrected.
//!
//! The follower uses its own HTTP client, not a connected client's, so it
//! keeps working across the retry loop's reconnections: editing and
//! posting messages needs REST only, no gateway.
//!
//! Corrections go out one at a time, paced by Discord's own rate-limit
//! headers: when a response says the bucket has no request left
//! (`X-RateLimit-Remaining: 0`), the next edit waits `X-RateLimit-Reset-After`;
//! a 429 is retried after its `retry_after` (never sooner than the
//! service's backoff, which grows with each 429 in a row). The edits are
//! sent through serenity's request builder but read by kotae, because
//! serenity keeps the headers and the 429 body to itself (and, with a
//! proxy `api_url` as in the tests, has no rate limiter at all). An edit
//! Discord refuses for good (10008 Unknown Message: deleted; 10003 Unknown
//! Channel; 50005: not the bot's message) is dropped and recorded as done.

use super::DiscordConfig;
use super::render;
use crate::core::Lang;
use crate::service::backoff::Backoff;
use crate::service::follower::{EditOutcome, ReloadTarget};
use crate::service::moderation::PendingCorrection;
use poise::serenity_prelude as serenity;
use serde_json::Value;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Whether a member may run the moderators' commands: Manage Guild (or
/// Administrator, which implies it), or the configured role. Outside a
/// guild there is no member and no moderator.
pub fn is_moderator(member: Option<&serenity::Member>, role: Option<serenity::RoleId>) -> bool {
    let Some(member) = member else {
        return false;
    };
    // In an interaction, `permissions` are the member's computed
    // permissions in the channel, overwrites included.
    let manages = member
        .permissions
        .is_some_and(|p| p.manage_guild() || p.administrator());
    manages || role.is_some_and(|role| member.roles.contains(&role))
}

/// Where reload news goes in Discord, in the moderators' language.
pub struct DiscordReloads {
    http: Arc<serenity::Http>,
    /// The corrections' client, whose responses kotae reads itself.
    client: reqwest::Client,
    /// Not before this instant may the next edit go out (the edit bucket
    /// is empty, or Discord said to retry after).
    next_edit: Mutex<Option<Instant>>,
    /// The moderators' channel, if one is configured.
    channel: Option<serenity::ChannelId>,
    /// The language of the reports there (`moderators_lang`).
    lang: Lang,
}

impl DiscordReloads {
    /// Reports go to the configured moderators' channel, through `http`.
    pub fn new(http: Arc<serenity::Http>, config: &DiscordConfig) -> DiscordReloads {
        let channel = config
            .moderators_channel
            .and_then(NonZeroU64::new)
            .map(serenity::ChannelId::from);
        DiscordReloads {
            http,
            client: reqwest::Client::builder()
                .timeout(EDIT_TIMEOUT)
                .build()
                .unwrap_or_default(),
            next_edit: Mutex::new(None),
            channel,
            lang: config.moderators_lang,
        }
    }

    /// Sends one correction, waiting as Discord asks and retrying 429s.
    async fn correct(&self, pending: &PendingCorrection) -> EditOutcome {
        let sent = &pending.sent;
        let (channel, message, body) = match edit_request(pending) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(channel = %sent.room, message = %sent.message,
                    "dropping a correction that can never be sent: {e:#}");
                return EditOutcome::Dropped;
            }
        };
        let mut backoff = Backoff::new(RETRY_FIRST, RETRY_MAX);
        for _ in 0..EDIT_ATTEMPTS {
            self.pace().await;
            let response = match self.send(channel, message, body.clone()).await {
                Ok(response) => response,
                Err(e) => {
                    tracing::warn!(%channel, %message, fact = %sent.fact,
                        "cannot correct a sent answer: {e:#}");
                    return EditOutcome::Failed;
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            self.note_bucket(&headers);
            if status.is_success() {
                return EditOutcome::Edited;
            }
            let bytes = response.bytes().await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status.as_u16() == 429 {
                let delay = backoff.next_delay();
                let wait = retry_after(&headers, &body).map_or(delay, |r| r.max(delay));
                tracing::info!(%channel, %message, ?wait,
                    global = body["global"].as_bool().unwrap_or(false),
                    "Discord rate-limited a correction; retrying");
                self.hold_until(Instant::now() + wait);
                continue;
            }
            return refused(pending, status.as_u16(), &body);
        }
        tracing::warn!(%channel, %message, fact = %sent.fact,
            "Discord kept rate-limiting a correction; left for the next reload");
        EditOutcome::Failed
    }

    /// One PATCH of a message, with serenity's URL, token and user agent.
    async fn send(
        &self,
        channel_id: serenity::ChannelId,
        message_id: serenity::MessageId,
        body: Vec<u8>,
    ) -> anyhow::Result<reqwest::Response> {
        let route = serenity::Route::ChannelMessage {
            channel_id,
            message_id,
        };
        let request = serenity::Request::new(route, serenity::LightMethod::Patch)
            .body(Some(body))
            .build(&self.client, self.http.token(), self.http.proxy.as_deref())?;
        Ok(request.send().await?)
    }

    /// Waits until the next edit may go out.
    async fn pace(&self) {
        let until = *self.next_edit.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    fn hold_until(&self, until: Instant) {
        let mut next = self.next_edit.lock().unwrap_or_else(|e| e.into_inner());
        *next = Some(next.map_or(until, |n| n.max(until)));
    }

    /// Remembers to wait for the bucket's reset when no request is left.
    fn note_bucket(&self, headers: &reqwest::header::HeaderMap) {
        let remaining = header_f64(headers, "x-ratelimit-remaining");
        let reset_after = header_f64(headers, "x-ratelimit-reset-after");
        if let (Some(remaining), Some(reset_after)) = (remaining, reset_after)
            && remaining < 1.0
        {
            self.hold_until(Instant::now() + seconds(reset_after));
        }
    }
}

/// Attempts per correction while Discord answers 429.
const EDIT_ATTEMPTS: usize = 10;
/// The backoff between 429s in a row, when `retry_after` is shorter.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// How long one edit request may take.
const EDIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long Discord asks to wait: the body's `retry_after` (seconds, with
/// a fraction), else the `Retry-After` header.
fn retry_after(headers: &reqwest::header::HeaderMap, body: &Value) -> Option<Duration> {
    body["retry_after"]
        .as_f64()
        .or_else(|| header_f64(headers, "retry-after"))
        .map(seconds)
}

fn header_f64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Seconds from Discord, capped to an hour (a bad header must not stall
/// the follower for ever).
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.clamp(0.0, 3600.0)).unwrap_or_default()
}

/// A refusal other than 429: dropped when it is final for this message.
fn refused(pending: &PendingCorrection, status: u16, body: &Value) -> EditOutcome {
    let sent = &pending.sent;
    let code = body["code"].as_i64().unwrap_or(0);
    let message = body["message"].as_str().unwrap_or_default();
    match code {
        UNKNOWN_MESSAGE | UNKNOWN_CHANNEL => {
            tracing::info!(channel = %sent.room, message = %sent.message, fact = %sent.fact,
                code, "an answer to correct is gone ({message}); dropped");
            EditOutcome::Dropped
        }
        NOT_THE_AUTHOR => {
            tracing::warn!(channel = %sent.room, message = %sent.message, fact = %sent.fact,
                code, "an answer to correct is not the bot's ({message}); dropped");
            EditOutcome::Dropped
        }
        _ => {
            tracing::warn!(channel = %sent.room, message = %sent.message, fact = %sent.fact,
                status, code, "cannot correct a sent answer: {message}");
            EditOutcome::Failed
        }
    }
}

/// Discord's JSON error codes that make an edit pointless for good.
const UNKNOWN_CHANNEL: i64 = 10003;
const UNKNOWN_MESSAGE: i64 = 10008;
const NOT_THE_AUTHOR: i64 = 50005;

impl ReloadTarget for DiscordReloads {
    fn moderators_lang(&self) -> Lang {
        self.lang
    }

    async fn tell_moderators(&self, report: &str) {
        if let Some(channel) = self.channel {
            tell(&self.http, channel, report).await;
        }
    }

    async fn edit_answer(&self, pending: &PendingCorrection) -> bool {
        self.correct(pending).await != EditOutcome::Failed
    }

    /// Paced and retried as Discord asks; a refusal that is final for the
    /// message (deleted, not the bot's) is [`EditOutcome::Dropped`].
    async fn correct_answer(&self, pending: &PendingCorrection) -> EditOutcome {
        self.correct(pending).await
    }
}

/// Posts a report in the moderators' channel, as code blocks.
async fn tell(http: &serenity::Http, channel: serenity::ChannelId, text: &str) {
    for block in render::code_blocks(text) {
        let message = serenity::CreateMessage::new()
            .content(block)
            .allowed_mentions(render::no_pings());
        if let Err(e) = channel.send_message(http, message).await {
            tracing::warn!(%channel, "cannot post a reload report to the moderators' channel: {e}");
            return;
        }
    }
}

/// Where a correction goes and the JSON body of its edit.
fn edit_request(
    correction: &PendingCorrection,
) -> anyhow::Result<(serenity::ChannelId, serenity::MessageId, Vec<u8>)> {
    let sent = &correction.sent;
    let channel = serenity::ChannelId::from(snowflake(&sent.room)?);
    let message = serenity::MessageId::from(snowflake(&sent.message)?);
    let (content, page) = render::correction(sent.lang, &correction.correction);
    let edit = serenity::EditMessage::new()
        .content(content)
        .embeds(page.iter().map(render::Embed::to_serenity).collect())
        .allowed_mentions(render::no_pings());
    Ok((channel, message, serde_json::to_vec(&edit)?))
}

/// A recorded id back as a snowflake (never zero, which serenity rejects).
fn snowflake(id: &str) -> anyhow::Result<NonZeroU64> {
    id.parse()
        .map_err(|_| anyhow::anyhow!("`{id}` is not a Discord id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(roles: &[&str], permissions: &str) -> serenity::Member {
        serde_json::from_value(json!({
            "user": {"id": "7", "username": "m", "discriminator": "0", "global_name": null,
                "avatar": null},
            "roles": roles, "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0, "permissions": permissions,
            "guild_id": "1"
        }))
        .unwrap()
    }

    #[test]
    fn managers_administrators_and_the_role_are_moderators() {
        let role = Some(serenity::RoleId::new(99));
        let plain = member(&["5"], "2048");
        assert!(!is_moderator(Some(&plain), role));
        assert!(!is_moderator(Some(&plain), None));
        assert!(is_moderator(Some(&member(&[], "32")), None));
        assert!(is_moderator(Some(&member(&[], "8")), None));
        assert!(is_moderator(Some(&member(&["5", "99"], "0")), role));
        assert!(!is_moderator(None, role));
    }

    #[test]
    fn retry_after_comes_from_the_body_else_the_header_and_is_bounded() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "1".parse().unwrap());
        let body = json!({"message": "You are being rate limited.", "retry_after": 0.25,
            "global": false});
        assert_eq!(
            retry_after(&headers, &body),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&headers, &Value::Null),
            Some(Duration::from_secs(1))
        );
        assert_eq!(retry_after(&Default::default(), &Value::Null), None);
        assert_eq!(seconds(-3.0), Duration::ZERO);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(1e12), Duration::from_secs(3600));
    }

    #[test]
    fn recorded_ids_parse_back_or_fail_politely() {
        assert_eq!(snowflake("42").unwrap().get(), 42);
        assert!(snowflake("0").is_err());
        assert!(snowflake("!room").is_err());
    }
}
