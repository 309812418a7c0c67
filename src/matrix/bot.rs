//! Answering one message: is it for the bot, is its sender within the rate
//! limit, what does the core say, and the reply sent as an `m.notice` in
//! reply to it (in its thread, if it was in one). Every answer sent is
//! recorded with its fact, so reactions to it count as feedback on that
//! fact and a reload that changes the fact can correct it.
//!
//! A reply is sent with a transaction id derived from the question's event
//! id, so a retry after a dropped connection is the same send to the
//! homeserver rather than a second answer.

use super::MatrixConfig;
use super::command::{self, Incoming, Names, Request};
use super::memory::Memory;
use super::moderation::Moderators;
use super::reactions;
use super::render::{self, Rendered};
use super::retry;
use crate::core::messages::{self, fill};
use crate::core::{Lang, LangChoice, Outcome, timeline};
use crate::service::moderation::log_refused;
use crate::service::ratelimit::RateLimiter;
use crate::service::{Platform, Question, SentMessage, Service, Shutdown};
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::message::{
    AddMentions, ForwardThread, MessageType, OriginalSyncRoomMessageEvent, Relation,
    ReplyWithinThread, RoomMessageEventContent,
};
use matrix_sdk::ruma::{
    EventId, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedTransactionId, OwnedUserId, UserId,
};
use matrix_sdk::{Client, Room};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A reply that cannot be sent for this long (or in
/// [`retry::MAX_ATTEMPTS`] attempts) is given up: the room's next question
/// waits behind it.
const SEND_PATIENCE: Duration = Duration::from_secs(30);

pub(super) struct Bot {
    pub(super) memory: Memory,
    names: Names,
    user_id: OwnedUserId,
    limiter: RateLimiter<OwnedUserId>,
    /// The language each member last asked in, for commands that carry no
    /// text to detect it from.
    user_langs: Mutex<HashMap<OwnedUserId, Lang>>,
    catch_up: Option<Duration>,
    shutdown: Shutdown,
    moderators: Moderators,
    /// The language of `!reload` and `!unanswered` (`moderators_lang`).
    moderators_lang: Lang,
    /// Asking, records, reloads and the digest.
    service: Service,
}

/// What the bot says to a message, and the answer in it, if any.
struct Response {
    rendered: Rendered,
    answered: Option<Answered>,
}

/// The answer sent, and its language, for the records.
struct Answered {
    answer: crate::core::Answer,
    lang: Lang,
}

impl From<Rendered> for Response {
    fn from(rendered: Rendered) -> Response {
        Response {
            rendered,
            answered: None,
        }
    }
}

impl Bot {
    pub(super) async fn new(
        config: &MatrixConfig,
        service: &Service,
        client: Client,
        memory: Memory,
    ) -> Bot {
        let user_id = client.user_id().expect("a logged-in client").to_owned();
        let names = Names {
            user_id: user_id.to_string(),
            display_name: display_name(&client, config).await,
        };
        Bot {
            memory,
            names,
            user_id,
            limiter: RateLimiter::new(Platform::Matrix, config.rate_per_minute, config.rate_burst),
            user_langs: Mutex::default(),
            catch_up: (config.catch_up_minutes > 0)
                .then(|| Duration::from_secs(config.catch_up_minutes * 60)),
            shutdown: service.shutdown.clone(),
            moderators: Moderators::new(config),
            moderators_lang: config.moderators_lang,
            service: service.clone(),
        }
    }

    pub(super) fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// Answers the message if it is for the bot.
    pub(super) async fn handle(&self, room: &Room, event: &OriginalSyncRoomMessageEvent) {
        let received = Instant::now();
        if event.sender == self.user_id || !self.is_recent(event) {
            return;
        }
        let Some(request) = self.request(room, event) else {
            return;
        };
        if self.memory.was_answered(&event.event_id).await {
            return;
        }
        if !self.limiter.allow(&event.sender) {
            tracing::debug!(sender = %event.sender, "rate limited; staying quiet");
            return;
        }
        let response = self.respond(room, &event.sender, request).await;
        let content = as_reply(response.rendered, event);
        let handled = received.elapsed();
        metrics::histogram!("kotae_matrix_handle_seconds").record(handled.as_secs_f64());
        tracing::debug!(room = %room.room_id(), event = %event.event_id, ?handled, "replying");
        if let Some(reply) = self.send(room, content, transaction_id(event)).await {
            self.memory.mark_answered(&event.event_id).await;
            if let Some(answered) = &response.answered {
                self.record_answer(room, &reply, answered);
            }
        }
    }

    /// Counts a member's 👍/👎 on one of the bot's answers.
    pub(super) fn handle_reaction(&self, room: &Room, reaction: &OriginalSyncReactionEvent) {
        reactions::record(&self.service, room.room_id(), reaction, &self.user_id);
    }

    fn record_answer(&self, room: &Room, reply: &EventId, answered: &Answered) {
        let sent = SentMessage {
            platform: Platform::Matrix,
            room: room.room_id().as_str(),
            message: reply.as_str(),
        };
        self.service
            .remember_answer(sent, &answered.answer, answered.lang);
    }

    /// What the message asks of the bot, if anything.
    fn request(&self, room: &Room, event: &OriginalSyncRoomMessageEvent) -> Option<Request> {
        // An edit would answer the same question twice.
        if matches!(event.content.relates_to, Some(Relation::Replacement(_))) {
            return None;
        }
        // Notices are what bots send; answering them starts bot loops.
        let MessageType::Text(text) = &event.content.msgtype else {
            return None;
        };
        let incoming = Incoming {
            body: &text.body,
            html: text.formatted.as_ref().map(|f| f.body.as_str()),
            mentions_bot: event
                .content
                .mentions
                .as_ref()
                .is_some_and(|m| m.user_ids.contains(&self.user_id)),
            direct: room.joined_members_count() == 2,
        };
        command::parse(&incoming, &self.names)
    }

    /// Questions that waited out a long outage are stale.
    fn is_recent(&self, event: &OriginalSyncRoomMessageEvent) -> bool {
        let Some(catch_up) = self.catch_up else {
            return true;
        };
        let now = u64::from(MilliSecondsSinceUnixEpoch::now().get());
        let sent = u64::from(event.origin_server_ts.get());
        now.saturating_sub(sent) <= catch_up.as_millis() as u64
    }

    async fn respond(&self, room: &Room, sender: &UserId, request: Request) -> Response {
        let room_lang = self.memory.room_lang(room.room_id()).await;
        let rendered = match request {
            Request::Ask(question) => return self.ask(&question, room_lang, sender).await,
            Request::Topics(arg) => {
                let lang = self.command_lang(room_lang, sender, &arg);
                render::topics(lang, &self.service.kotae.snapshot().topics(lang))
            }
            Request::Sources(id) => {
                self.sources(id.trim(), self.command_lang(room_lang, sender, ""))
            }
            Request::Timeline(arg) => {
                let lang = self.command_lang(room_lang, sender, &arg);
                let snapshot = self.service.kotae.snapshot();
                command::timeline(lang, &timeline::timeline(&snapshot.base, lang))
            }
            Request::Lang(arg) => self.set_lang(room, sender, arg.trim()).await,
            Request::Help => command::help(self.command_lang(room_lang, sender, "")),
            Request::Reload | Request::Unanswered => {
                self.moderator_command(room, sender, room_lang, &request)
                    .await
            }
        };
        rendered.into()
    }

    /// Runs a moderator command for a moderator, answering in the
    /// moderators' language; tells anyone else, in their language, that it
    /// is not for them.
    async fn moderator_command(
        &self,
        room: &Room,
        sender: &UserId,
        room_lang: Option<Lang>,
        request: &Request,
    ) -> Rendered {
        let command = match request {
            Request::Reload => "reload",
            _ => "unanswered",
        };
        if !self.moderators.include(room, sender).await {
            log_refused(Platform::Matrix, sender.as_str(), command);
            let lang = self.command_lang(room_lang, sender, "");
            return render::message(messages::get(lang).not_moderator);
        }
        let text = match request {
            Request::Reload => self.service.reload_text(self.moderators_lang).await,
            _ => self.service.unanswered_text(self.moderators_lang).await,
        };
        render::preformatted(&text)
    }

    async fn ask(&self, question: &str, room_lang: Option<Lang>, sender: &UserId) -> Response {
        let choice = match (room_lang, self.last_lang(sender)) {
            (Some(lang), _) => LangChoice::Explicit(lang),
            (None, Some(last)) => LangChoice::DetectOr(last),
            (None, None) => LangChoice::Detect,
        };
        let asked = Question {
            platform: Platform::Matrix,
            asker: Some(sender.as_str()),
            text: question,
            lang: choice,
        };
        let reply = match self.service.ask(asked).await {
            Ok(reply) => reply,
            Err(e) => return render::message(e.message(choice.resolve(question))).into(),
        };
        if room_lang.is_none() {
            self.remember_lang(sender, reply.lang);
        }
        let answered = match &reply.outcome {
            Outcome::Answer(answer) => Some(Answered {
                answer: answer.clone(),
                lang: reply.lang,
            }),
            Outcome::Decline { .. } => None,
        };
        Response {
            rendered: render::reply(&reply),
            answered,
        }
    }

    fn sources(&self, id: &str, lang: Lang) -> Rendered {
        let snapshot = self.service.kotae.snapshot();
        let Some(fact) = snapshot.base.fact(id) else {
            let unknown = messages::get(lang).unknown_fact;
            // Only an id-like argument is echoed back: it is the member's
            // text, and a reply should not repeat arbitrary input.
            let shown = !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let line = if shown {
                format!("{unknown}{} — !topics", messages::aside(lang, id))
            } else {
                format!("{unknown} — !topics")
            };
            return render::message(&line);
        };
        let sources: Vec<_> = snapshot.base.sources_of(fact).cloned().collect();
        render::sources(lang, &fact.id, &sources)
    }

    /// `!lang`: sets the room's language and says so in it; `auto` (each
    /// question's own language) is confirmed in the member's.
    async fn set_lang(&self, room: &Room, sender: &UserId, arg: &str) -> Rendered {
        let lang = match arg {
            "auto" => None,
            code => match code.parse::<Lang>() {
                Ok(lang) => Some(lang),
                Err(_) => {
                    let room_lang = self.memory.room_lang(room.room_id()).await;
                    let m = messages::get(self.command_lang(room_lang, sender, ""));
                    return render::message(&fill(m.lang_usage, &[("command", "!lang")]));
                }
            },
        };
        self.memory.set_room_lang(room.room_id(), lang).await;
        let line = match lang {
            Some(lang) => {
                let m = messages::get(lang);
                fill(m.lang_set, &[("lang", m.lang_name(lang))])
            }
            None => {
                let m = messages::get(self.command_lang(None, sender, ""));
                m.lang_auto.to_string()
            }
        };
        render::message(&line)
    }

    /// The reply language for a command: the room's choice, a language
    /// named or written in the argument, the member's last question's, or
    /// English.
    fn command_lang(&self, room_lang: Option<Lang>, sender: &UserId, arg: &str) -> Lang {
        if let Some(lang) = room_lang.or_else(|| arg.trim().parse().ok()) {
            return lang;
        }
        let detected = crate::core::lang::detect(arg);
        if detected.confident {
            return detected.lang;
        }
        self.last_lang(sender).unwrap_or(Lang::En)
    }

    fn last_lang(&self, user: &UserId) -> Option<Lang> {
        let langs = self.user_langs.lock().unwrap_or_else(|e| e.into_inner());
        langs.get(user).copied()
    }

    fn remember_lang(&self, user: &UserId, lang: Lang) {
        let mut langs = self.user_langs.lock().unwrap_or_else(|e| e.into_inner());
        // A bound on memory for a bot in huge rooms; forgetting only costs
        // a guess.
        if langs.len() > 10_000 {
            langs.clear();
        }
        langs.insert(user.to_owned(), lang);
    }

    /// Sends, retrying while the homeserver is unreachable, within
    /// [`SEND_PATIENCE`]; the reply's event id once sent.
    async fn send(
        &self,
        room: &Room,
        content: RoomMessageEventContent,
        txn_id: OwnedTransactionId,
    ) -> Option<OwnedEventId> {
        retry::send(
            room,
            content,
            txn_id,
            SEND_PATIENCE,
            self.shutdown.clone(),
            "a reply",
        )
        .await
    }
}

/// A notice in reply to the question, in its thread if it has one,
/// mentioning the asker and no one else (`m.mentions` also keeps an
/// `@room` in the text from pinging the room).
fn as_reply(
    rendered: Rendered,
    question: &OriginalSyncRoomMessageEvent,
) -> RoomMessageEventContent {
    let content = RoomMessageEventContent::notice_html(rendered.plain, rendered.html);
    if matches!(question.content.relates_to, Some(Relation::Thread(_))) {
        content.make_for_thread(question, ReplyWithinThread::Yes, AddMentions::Yes)
    } else {
        content.make_reply_to(question, ForwardThread::No, AddMentions::Yes)
    }
}

/// The same question always gives the same transaction id.
fn transaction_id(question: &OriginalSyncRoomMessageEvent) -> OwnedTransactionId {
    let digest = Sha256::digest(question.event_id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("kotae-{hex}").into()
}

/// The name members address the bot by; set from the config when given.
async fn display_name(client: &Client, config: &MatrixConfig) -> Option<String> {
    let account = client.account();
    if let Some(wanted) = &config.display_name {
        let current = account.get_display_name().await.ok().flatten();
        if current.as_deref() != Some(wanted.as_str())
            && let Err(e) = account.set_display_name(Some(wanted)).await
        {
            tracing::warn!(error = %e, "cannot set the bot's display name");
        }
        return Some(wanted.clone());
    }
    match account.get_display_name().await {
        Ok(name) => name,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the bot's display name");
            None
        }
    }
}
