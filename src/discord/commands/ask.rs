//! `/ask question:<text> [lang]`: answers from the fact base, publicly, or
//! declines ephemerally with suggestions.
//!
//! The reply language is the question's own; when the question is
//! ambiguous (short Han-only text), the member's Discord locale decides;
//! an explicit `lang` overrides both.
//!
//! An answer's message is recorded with its fact, so a 👍/👎 on it counts
//! for that fact and a reload that changes the fact can correct it.
//!
//! A question the service takes long over (a slow embeddings server) is
//! deferred first and answered by editing the deferred response
//! ([`super::deferral`]), so Discord's 3-s deadline is always met.

use super::{Ctx, Error, deferral, locale_lang, replies, say, send_pages_keeping_first};
use crate::core::{Lang, LangChoice, Outcome, Reply};
use crate::discord::{autocomplete, render};
use crate::service::{Platform, Question, SentMessage};
use poise::serenity_prelude as serenity;

/// A language to answer in, whatever the question is written in.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum LangOption {
    #[name = "日本語"]
    Ja,
    #[name = "中文"]
    Zh,
    #[name = "English"]
    En,
}

impl From<LangOption> for Lang {
    fn from(option: LangOption) -> Lang {
        match option {
            LangOption::Ja => Lang::Ja,
            LangOption::Zh => Lang::Zh,
            LangOption::En => Lang::En,
        }
    }
}

/// Ask about the end of the Japan Centers in Russia; answers cite sources
#[poise::command(
    slash_command,
    name_localized("ja", "質問"),
    name_localized("zh-CN", "提问"),
    name_localized("zh-TW", "提問"),
    description_localized("ja", "ロシアの日本センター閉鎖について質問します（出典付きで回答）"),
    description_localized("zh-CN", "询问俄罗斯日本中心关闭一事（回答注明出处）"),
    description_localized("zh-TW", "詢問俄羅斯日本中心關閉一事（回答註明出處）")
)]
pub async fn ask(
    ctx: Ctx<'_>,
    #[description = "Your question, in Japanese, Chinese or English"]
    #[name_localized("ja", "質問文")]
    #[description_localized("ja", "質問（日本語・中国語・英語）")]
    #[name_localized("zh-CN", "问题")]
    #[description_localized("zh-CN", "你的问题（中文、日语或英语）")]
    #[name_localized("zh-TW", "問題")]
    #[description_localized("zh-TW", "你的問題（中文、日語或英語）")]
    #[autocomplete = "complete_question"]
    // Matches crate::core::MAX_QUESTION_CHARS (a test checks), so Discord
    // stops a longer question before it is sent.
    #[max_length = 1000]
    question: String,
    #[description = "Answer in this language"]
    #[name_localized("ja", "言語")]
    #[description_localized("ja", "回答の言語")]
    #[name_localized("zh-CN", "语言")]
    #[description_localized("zh-CN", "回答所用的语言")]
    #[name_localized("zh-TW", "語言")]
    #[description_localized("zh-TW", "回答所用的語言")]
    lang: Option<LangOption>,
) -> Result<(), Error> {
    let choice = lang_choice(lang.map(Lang::from), ctx.locale());
    let asker = ctx.author().id.to_string();
    let asked = Question {
        platform: Platform::Discord,
        asker: Some(&asker),
        text: &question,
        lang: choice,
    };
    let service = &ctx.data().service;
    let (asked, deferred) = deferral::in_time(ctx, service.ask(asked)).await?;
    let reply = match asked {
        Ok(reply) => reply,
        Err(e) => return refuse(ctx, e.message(choice.resolve(&question)), deferred).await,
    };
    let first = send_reply(ctx, &reply, deferred).await?;
    if let (Outcome::Answer(answer), Some(message)) = (&reply.outcome, first)
        && can_edit_later(ctx)
    {
        let (channel, id) = (message.channel_id.to_string(), message.id.to_string());
        let sent = SentMessage {
            platform: Platform::Discord,
            room: &channel,
            message: &id,
        };
        service.remember_answer(sent, answer, reply.lang);
    }
    Ok(())
}

/// Says why a question cannot be asked (too long, empty), ephemerally.
async fn refuse(ctx: Ctx<'_>, text: &str, deferred: bool) -> Result<(), Error> {
    if !deferred {
        return say(ctx, text).await;
    }
    let refusal = poise::CreateReply::default()
        .content(render::content(text))
        .allowed_mentions(render::no_pings());
    deferral::send(ctx, vec![refusal], true).await.map(drop)
}

/// Sends a reply: an answer publicly, a decline ephemerally, in the
/// deferred response if there is one. Returns an answer's first message.
async fn send_reply(
    ctx: Ctx<'_>,
    reply: &Reply,
    deferred: bool,
) -> Result<Option<serenity::Message>, Error> {
    let ephemeral = matches!(reply.outcome, Outcome::Decline { .. });
    let pages = render::reply(reply);
    if deferred {
        return deferral::send(ctx, replies(pages, ephemeral), ephemeral).await;
    }
    let first = send_pages_keeping_first(ctx, pages, ephemeral).await?;
    let Some(first) = first.filter(|_| !ephemeral) else {
        return Ok(None);
    };
    // The interaction response's id is not in the callback's reply: it
    // takes a GET of @original, after the member has the answer.
    match first.message().await {
        Ok(message) => Ok(Some(message.into_owned())),
        Err(e) => {
            tracing::warn!("cannot learn the id of an answer; it cannot be corrected: {e}");
            Ok(None)
        }
    }
}

/// Whether the bot can edit the answer later with its own token (to correct
/// it after a reload): in a guild that installed it and in a DM with it,
/// yes; where only the member installed kotae (a group DM, another guild)
/// the bot cannot reach the channel, so the answer is not recorded and no
/// correction is tried.
fn can_edit_later(ctx: Ctx<'_>) -> bool {
    use serenity::{AuthorizingIntegrationOwner as Owner, InteractionContext};
    let poise::Context::Application(app) = ctx else {
        return true;
    };
    let interaction = app.interaction;
    let owners = &interaction.authorizing_integration_owners.0;
    owners.is_empty()
        || interaction.context == Some(InteractionContext::BotDm)
        || owners.iter().any(|o| matches!(o, Owner::GuildInstall(_)))
}

/// An explicit language wins; otherwise the question's, with the locale
/// breaking ties.
pub fn lang_choice(explicit: Option<Lang>, locale: Option<&str>) -> LangChoice {
    match (explicit, locale.and_then(Lang::from_locale)) {
        (Some(lang), _) => LangChoice::Explicit(lang),
        (None, Some(locale)) => LangChoice::DetectOr(locale),
        (None, None) => LangChoice::Detect,
    }
}

async fn complete_question(ctx: Ctx<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let snapshot = ctx.data().service.kotae.snapshot();
    let choices = autocomplete::questions(&snapshot.base, locale_lang(ctx), partial);
    super::choices(choices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_locale_beats_nothing() {
        assert_eq!(
            lang_choice(Some(Lang::En), Some("ja")),
            LangChoice::Explicit(Lang::En)
        );
        assert_eq!(
            lang_choice(None, Some("zh-TW")),
            LangChoice::DetectOr(Lang::Zh)
        );
        assert_eq!(lang_choice(None, Some("ko")), LangChoice::Detect);
        assert_eq!(lang_choice(None, None), LangChoice::Detect);
    }
}
