//! The slash commands (one file each) and what they share: the poise
//! framework around them, command registration on the first READY, the
//! per-member rate limit (a global command check), the moderators' check
//! (`/reload`, `/unanswered`), error handling, sending rendered pages, the
//! help a member gets for a mention with no question, where each command
//! may be used (guild and user installs, DMs) and, in [`deferral`], how a
//! slow answer still meets Discord's 3-s deadline.
//!
//! Command names and descriptions carry Japanese and Chinese localisations
//! in the `#[poise::command]` attributes; Discord shows each member the
//! names in their client's language.

mod about;
mod ask;
pub mod deferral;
mod reload;
mod sources;
mod timeline;
mod topics;
mod unanswered;

use super::DiscordConfig;
use super::autocomplete;
use super::render::{self, Page};
use crate::core::Lang;
use crate::core::messages::{self, Command};
use crate::service::moderation::log_refused;
use crate::service::ratelimit::RateLimiter;
use crate::service::{Platform, Service};
use poise::serenity_prelude as serenity;
use std::collections::HashMap;
use std::sync::Mutex;

/// What every command and event sees.
pub struct Data {
    /// Asking, records and reloads.
    pub service: Service,
    /// Questions per member, by user id.
    pub limiter: RateLimiter<u64>,
    /// Whether plain messages are read (`message_content`).
    pub message_content: bool,
    /// Members with this role are moderators (besides those with Manage Guild).
    pub moderator_role: Option<serenity::RoleId>,
    /// The language of `/reload` and `/unanswered` (`moderators_lang`).
    pub moderators_lang: Lang,
    /// Each member's language as last seen (the locale of their last
    /// command, the language of their last question), for replies to a
    /// message with no question in it, which carries no locale.
    user_langs: Mutex<HashMap<u64, Lang>>,
}

impl Data {
    /// Notes a member's language.
    pub fn remember_lang(&self, user: u64, lang: Lang) {
        let mut langs = self.user_langs.lock().unwrap_or_else(|e| e.into_inner());
        // A bound on memory in huge guilds; forgetting only costs a help
        // text in every language.
        if langs.len() > 10_000 {
            langs.clear();
        }
        langs.insert(user, lang);
    }

    /// A member's language as last seen, if it was.
    pub fn last_lang(&self, user: u64) -> Option<Lang> {
        let langs = self.user_langs.lock().unwrap_or_else(|e| e.into_inner());
        langs.get(&user).copied()
    }
}

/// The commands as the help lists them.
const HELP_COMMANDS: &[(&str, Command)] = &[
    ("/ask", Command::Ask),
    ("/topics", Command::Topics),
    ("/sources", Command::Sources),
    ("/timeline", Command::Timeline),
    ("/about", Command::About),
    ("/reload", Command::Reload),
    ("/unanswered", Command::Unanswered),
];

/// The help, with the commands, in `lang`; in every language when the
/// member's is not known.
pub fn help(lang: Option<Lang>) -> String {
    match lang {
        Some(lang) => messages::help_text(lang, HELP_COMMANDS),
        None => messages::help_every_language(HELP_COMMANDS),
    }
}

/// What a command or event handler may fail with.
pub type Error = anyhow::Error;
/// A command's context.
pub type Ctx<'a> = poise::Context<'a, Data, Error>;

/// The commands, in the order Discord lists them, each with where it may
/// be used.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    let mut commands = vec![
        ask::ask(),
        topics::topics(),
        sources::sources(),
        timeline::timeline(),
        about::about(),
        reload::reload(),
        unanswered::unanswered(),
    ];
    commands.iter_mut().for_each(allow_contexts);
    commands
}

/// The commands only moderators may run.
const MODERATOR_COMMANDS: &[&str] = &["reload", "unanswered"];

/// Where a command may be used. Asking and reading need nothing from a
/// guild: they work in the guilds that installed the bot, in a DM with it,
/// and, for a member who installed kotae on their own account (a user
/// install), in any guild, DM or group DM. The moderators' commands act on
/// a guild's moderators, so only guilds that installed the bot offer them.
fn allow_contexts(command: &mut poise::Command<Data, Error>) {
    use serenity::{InstallationContext as Install, InteractionContext as Used};
    if MODERATOR_COMMANDS.contains(&&*command.name) {
        command.install_context = Some(vec![Install::Guild]);
        command.interaction_context = Some(vec![Used::Guild]);
    } else {
        command.install_context = Some(vec![Install::Guild, Install::User]);
        command.interaction_context = Some(vec![Used::Guild, Used::BotDm, Used::PrivateChannel]);
    }
}

/// The commands as this configuration registers them. Without a moderator
/// role, only members with Manage Guild are moderators, so Discord is asked
/// to show the moderators' commands to them alone; with one, everyone sees
/// them (a role cannot be named in `default_member_permissions`) and the
/// check at run time refuses the rest. Commands registered in one guild
/// exist only there, so they carry no installs or contexts (Discord reads
/// those for global commands only).
fn configured(config: &DiscordConfig) -> Vec<poise::Command<Data, Error>> {
    let mut commands = all();
    for command in &mut commands {
        if config.moderator_role.is_none() && MODERATOR_COMMANDS.contains(&&*command.name) {
            command.default_member_permissions = serenity::Permissions::MANAGE_GUILD;
        }
        if config.guild_id.is_some() {
            command.install_context = None;
            command.interaction_context = None;
        }
    }
    commands
}

/// The poise framework: commands, the rate limit, the message handler, and
/// registration (in one guild or globally) once the bot is logged in.
pub fn framework(config: &DiscordConfig, service: Service) -> poise::Framework<Data, Error> {
    let data = Data {
        service,
        limiter: RateLimiter::new(Platform::Discord, config.rate_per_minute, config.rate_burst),
        message_content: config.message_content,
        moderator_role: config.moderator_role.map(serenity::RoleId::new),
        moderators_lang: config.moderators_lang,
        user_langs: Mutex::default(),
    };
    let guild = config.guild_id.map(serenity::GuildId::new);
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: configured(config),
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
/// "slow down", in their language, and the command does not run.
/// Autocomplete is exempt; it fires on every keystroke and does no
/// matching. The member's locale is noted on the way, for a later mention
/// with no question.
async fn rate_limit(ctx: Ctx<'_>) -> Result<bool, Error> {
    if let poise::Context::Application(app) = ctx
        && app.interaction_type == poise::CommandInteractionType::Autocomplete
    {
        return Ok(true);
    }
    if let Some(lang) = ctx.locale().and_then(Lang::from_locale) {
        ctx.data().remember_lang(ctx.author().id.get(), lang);
    }
    if ctx.data().limiter.allow(&ctx.author().id.get()) {
        return Ok(true);
    }
    say(ctx, messages::get(locale_lang(ctx)).slow_down).await?;
    Ok(false)
}

/// The moderators' commands' check, at run time from the interaction's
/// member: `default_member_permissions` only hides a command, and a member
/// with the moderator role may lack Manage Guild. A refusal is polite,
/// ephemeral and logged; the command does not run.
async fn moderator_only(ctx: Ctx<'_>) -> Result<bool, Error> {
    let member = ctx.author_member().await;
    if super::moderation::is_moderator(member.as_deref(), ctx.data().moderator_role) {
        return Ok(true);
    }
    let user = ctx.author().id.to_string();
    log_refused(Platform::Discord, &user, &ctx.command().name);
    say(ctx, messages::get(locale_lang(ctx)).not_moderator).await?;
    Ok(false)
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        // The rate limit or the moderators' check has already answered.
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
    send_pages_keeping_first(ctx, pages, ephemeral)
        .await
        .map(drop)
}

/// [`send_pages`], returning the handle of the first message (to learn its
/// id, for an answer that may be corrected later).
async fn send_pages_keeping_first(
    ctx: Ctx<'_>,
    pages: Vec<Page>,
    ephemeral: bool,
) -> Result<Option<poise::ReplyHandle<'_>>, Error> {
    let mut first = None;
    for reply in replies(pages, ephemeral) {
        let handle = ctx.send(reply).await?;
        first.get_or_insert(handle);
    }
    Ok(first)
}

/// Rendered pages as replies, one message each, pinging no one.
fn replies(pages: Vec<Page>, ephemeral: bool) -> Vec<poise::CreateReply> {
    pages
        .iter()
        .map(|page| {
            page.iter().fold(
                poise::CreateReply::default()
                    .ephemeral(ephemeral)
                    .allowed_mentions(render::no_pings()),
                |reply, embed| reply.embed(embed.to_serenity()),
            )
        })
        .collect()
}

/// Sends a report (a reload, the digest) as ephemeral code blocks, as many
/// messages as it needs within Discord's limits.
async fn send_report(ctx: Ctx<'_>, text: &str) -> Result<(), Error> {
    for block in render::code_blocks(text) {
        let reply = poise::CreateReply::default()
            .content(block)
            .ephemeral(true)
            .allowed_mentions(render::no_pings());
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
        assert_eq!(
            names,
            [
                "ask",
                "topics",
                "sources",
                "timeline",
                "about",
                "reload",
                "unanswered"
            ]
        );
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

    fn permissions_of(config: &DiscordConfig, name: &str) -> serde_json::Value {
        let commands = poise::builtins::create_application_commands(&configured(config));
        commands
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .find(|c| c["name"] == name)
            .unwrap()["default_member_permissions"]
            .clone()
    }

    #[test]
    fn moderator_commands_are_hidden_from_non_managers_unless_a_role_is_set() {
        let mut config: DiscordConfig = toml::from_str("token = \"t\"").unwrap();
        let manage_guild = serenity::Permissions::MANAGE_GUILD.bits().to_string();
        assert_eq!(permissions_of(&config, "reload"), manage_guild.as_str());
        assert_eq!(permissions_of(&config, "unanswered"), manage_guild.as_str());
        assert!(permissions_of(&config, "ask").is_null());
        config.moderator_role = Some(42);
        assert!(permissions_of(&config, "reload").is_null());
    }

    #[test]
    fn members_commands_work_everywhere_and_moderators_only_in_guilds() {
        for c in registered() {
            let moderators = MODERATOR_COMMANDS.contains(&c["name"].as_str().unwrap());
            let (installs, contexts) = if moderators {
                (serde_json::json!([0]), serde_json::json!([0]))
            } else {
                (serde_json::json!([0, 1]), serde_json::json!([0, 1, 2]))
            };
            assert_eq!(c["integration_types"], installs, "{}", c["name"]);
            assert_eq!(c["contexts"], contexts, "{}", c["name"]);
        }
        // Guild commands exist in their guild only: no installs, no contexts.
        let mut config: DiscordConfig = toml::from_str("token = \"t\"").unwrap();
        config.guild_id = Some(7);
        for c in poise::builtins::create_application_commands(&configured(&config)) {
            let c = serde_json::to_value(c).unwrap();
            assert!(c.get("contexts").is_none_or(|v| v.is_null()), "{c}");
            assert!(
                c.get("integration_types").is_none_or(|v| v.is_null()),
                "{c}"
            );
        }
    }

    #[test]
    fn the_help_lists_every_command_in_the_members_language() {
        let registered: Vec<String> = all().iter().map(|c| format!("/{}", c.name)).collect();
        let listed: Vec<&str> = HELP_COMMANDS.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            listed, registered,
            "the help lists the commands Discord shows"
        );
        for lang in Lang::ALL {
            let text = help(Some(lang));
            assert!(text.starts_with(messages::get(lang).help), "{text}");
            assert!(text.contains(messages::get(lang).cmd_timeline), "{text}");
        }
        let every = help(None);
        for lang in Lang::ALL {
            assert!(every.contains(messages::get(lang).help), "{every}");
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
