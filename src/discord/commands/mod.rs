//! The slash commands (one file each) and what they share: the poise
//! framework around them, command registration on the first READY, the
//! per-member rate limit (a global command check), error handling, and
//! sending rendered pages.
//!
//! Command names and descriptions carry Japanese and Chinese localisations
//! in the `#[poise::command]` attributes; Discord shows each member the
//! names in their client's language.

mod about;
mod ask;
mod sources;
mod topics;

use super::DiscordConfig;
use super::autocomplete;
use super::ratelimit::Limiter;
use super::render::{self, Page};
use crate::core::{Kotae, Lang, messages};
use crate::serve::Context as ServeContext;
use poise::serenity_prelude as serenity;
use std::sync::Arc;

/// What every command and event sees.
pub struct Data {
    pub kotae: Arc<Kotae>,
    pub limiter: Limiter,
    pub message_content: bool,
    pub records: Arc<crate::records::Records>,
}

pub type Error = anyhow::Error;
pub type Ctx<'a> = poise::Context<'a, Data, Error>;

/// The commands, in the order Discord lists them.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        ask::ask(),
        topics::topics(),
        sources::sources(),
        about::about(),
    ]
}

/// The poise framework: commands, the rate limit, the message handler, and
/// registration (in one guild or globally) once the bot is logged in.
pub fn framework(config: &DiscordConfig, ctx: ServeContext) -> poise::Framework<Data, Error> {
    let data = Data {
        kotae: ctx.kotae,
        limiter: Limiter::new(config.rate_per_minute, config.rate_burst),
        message_content: config.message_content,
        records: ctx.records,
    };
    let guild = config.guild_id.map(serenity::GuildId::new);
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: all(),
            command_check: Some(|ctx| Box::pin(rate_limit(ctx))),
            on_error: |error| Box::pin(on_error(error)),
            event_handler: |framework, event| Box::pin(super::events::handle(framework, event)),
            allowed_mentions: Some(render::no_pings()),
            ..Default::default()
        })
        // Owners only matter for owner-only commands, which kotae has none of.
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "logged in to Discord");
                register(ctx, &framework.options().commands, guild).await;
                Ok(data)
            })
        })
        .build()
}

/// Replaces the application's commands with ours. A failure is logged, not
/// fatal: the commands registered last time still work.
async fn register(
    ctx: &serenity::Context,
    commands: &[poise::Command<Data, Error>],
    guild: Option<serenity::GuildId>,
) {
    let create = poise::builtins::create_application_commands(commands);
    let count = create.len();
    let result = match guild {
        Some(guild) => guild.set_commands(ctx, create).await.map(drop),
        None => serenity::Command::set_global_commands(ctx, create)
            .await
            .map(drop),
    };
    match result {
        Ok(()) => tracing::info!(count, ?guild, "registered Discord commands"),
        Err(e) => tracing::warn!(?guild, "cannot register Discord commands: {e}"),
    }
}

/// The global command check: a member over the limit gets an ephemeral
/// "slow down" and the command does not run. Autocomplete is exempt; it
/// fires on every keystroke and does no matching.
async fn rate_limit(ctx: Ctx<'_>) -> Result<bool, Error> {
    if let poise::Context::Application(app) = ctx
        && app.interaction_type == poise::CommandInteractionType::Autocomplete
    {
        return Ok(true);
    }
    if ctx.data().limiter.allow(ctx.author().id.get()) {
        return Ok(true);
    }
    crate::serve::record_rate_limited("discord");
    say(ctx, messages::get(locale_lang(ctx)).slow_down).await?;
    Ok(false)
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        // The rate limit has already answered.
        poise::FrameworkError::CommandCheckFailed { error: None, .. } => {}
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::warn!(command = %ctx.command().name, "Discord command failed: {error:#}");
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!("cannot report a Discord error: {e}");
            }
        }
    }
}

/// The member's Discord language, for replies with no question to detect
/// a language from.
pub fn locale_lang(ctx: Ctx<'_>) -> Lang {
    ctx.locale().and_then(Lang::from_locale).unwrap_or(Lang::En)
}

/// An ephemeral line of text.
async fn say(ctx: Ctx<'_>, text: &str) -> Result<(), Error> {
    let reply = poise::CreateReply::default()
        .content(render::content(text))
        .ephemeral(true)
        .allowed_mentions(render::no_pings());
    ctx.send(reply).await?;
    Ok(())
}

/// Sends pages: the first as the interaction response, the rest as
/// follow-ups.
async fn send_pages(ctx: Ctx<'_>, pages: Vec<Page>, ephemeral: bool) -> Result<(), Error> {
    for page in pages {
        let reply = page.iter().fold(
            poise::CreateReply::default()
                .ephemeral(ephemeral)
                .allowed_mentions(render::no_pings()),
            |reply, embed| reply.embed(embed.to_serenity()),
        );
        ctx.send(reply).await?;
    }
    Ok(())
}

/// Discord's autocomplete response for ranked choices.
fn choices(choices: Vec<autocomplete::Choice>) -> serenity::CreateAutocompleteResponse {
    serenity::CreateAutocompleteResponse::new().set_choices(
        choices
            .into_iter()
            .map(|c| serenity::AutocompleteChoice::new(c.name, c.value))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commands as Discord receives them in the registration PUT.
    fn registered() -> Vec<serde_json::Value> {
        poise::builtins::create_application_commands(&all())
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect()
    }

    #[test]
    fn every_command_and_option_is_localised() {
        let commands = registered();
        let names: Vec<&str> = commands
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ask", "topics", "sources", "about"]);
        let localised = |v: &serde_json::Value| {
            for key in ["name_localizations", "description_localizations"] {
                for locale in ["ja", "zh-CN", "zh-TW"] {
                    assert!(
                        v[key][locale].is_string(),
                        "{} lacks {key}.{locale}",
                        v["name"]
                    );
                }
            }
        };
        for c in &commands {
            localised(c);
            for option in c["options"].as_array().into_iter().flatten() {
                localised(option);
            }
        }
    }

    #[test]
    fn ask_takes_a_question_up_to_the_core_limit_with_autocomplete() {
        let ask = &registered()[0];
        let question = &ask["options"][0];
        assert_eq!(question["name"], "question");
        assert_eq!(question["autocomplete"], true);
        assert_eq!(question["required"], true);
        assert_eq!(question["max_length"], crate::core::MAX_QUESTION_CHARS);
        let lang = &ask["options"][1];
        assert_eq!(lang["name"], "lang");
        assert_eq!(lang["choices"].as_array().unwrap().len(), 3);
    }
}
