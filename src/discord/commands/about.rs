//! `/about`: what the bot does and which fact base it answers from, shown
//! only to the member who asked.

use super::{Ctx, Error, locale_lang, send_pages};
use crate::discord::render;

/// What kotae is and where its answers come from
#[poise::command(
    slash_command,
    name_localized("ja", "概要"),
    name_localized("zh-CN", "关于"),
    name_localized("zh-TW", "關於"),
    description_localized("ja", "このボットと回答の情報源について"),
    description_localized("zh-CN", "关于本机器人及其回答的来源"),
    description_localized("zh-TW", "關於本機器人及其回答的來源")
)]
pub async fn about(ctx: Ctx<'_>) -> Result<(), Error> {
    let lang = locale_lang(ctx);
    let snapshot = ctx.data().service.kotae.snapshot();
    let about = render::About {
        facts: snapshot.base.facts().len(),
        sources: snapshot.base.sources().len(),
        revision: snapshot.base.revision().to_string(),
    };
    send_pages(ctx, render::about(lang, &about), true).await
}
